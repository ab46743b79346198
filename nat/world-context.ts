/**
 * The simulated operator's shared state (see world.ts): its three random streams, its
 * subscribers, resources and logs, each subscriber's current state (bounded per
 * subscriber), and the output and event queue every concern writes to.
 */
import type { CanonicalRecordInput } from '../src/records.js';
import { formatInstant } from '../src/time.js';
import type { SessionProtocol } from './session.js';
import { Rng } from './random.js';
import { logPlan } from './world-gaps.js';
import { DAY, buildResources } from './world-plan.js';
import { EventQueue } from './world-queue.js';
import { accountNames, assignSegments } from './world-subscribers.js';
import { SEGMENTS, type Holding, type RecordFate, type RequestNoise, type SimItem, type WorldConfig } from './world-types.js';

export interface HeldBlock {
  readonly outside: string;
  readonly first: number;
  readonly last: number;
  readonly start: number;
  readonly end: number;
  readonly fate: RecordFate;
  readonly dynamic: boolean;
}

/** What one activity of a subscriber looked like from outside. */
export interface Event {
  readonly time: number;
  readonly ip: string;
  readonly port: number;
  readonly protocol: SessionProtocol;
  readonly destinationIp: string;
  readonly destinationPort: number;
  readonly realm?: string;
  readonly allocation: RecordFate;
  readonly nat?: RecordFate;
  readonly sources: readonly string[];
}

export interface Pending {
  readonly sub: number;
  readonly noise: RequestNoise;
  readonly want: number;
  readonly deadline: number;
  readonly events: Event[];
  nextAfter: number;
}

const DEST_PORTS: readonly (readonly [number, SessionProtocol])[] = [
  [443, 'tcp'],
  [443, 'tcp'],
  [443, 'tcp'],
  [443, 'udp'],
  [80, 'tcp'],
  [53, 'udp'],
  [123, 'udp'],
  [993, 'tcp'],
  [5222, 'tcp'],
  [3478, 'udp'],
];

/** Set up the world: the streams, who is who, the resources, the gaps and the state. */
export function createContext(config: WorldConfig, seed: number) {
  const world = new Rng(seed, 1);
  const logs = new Rng(seed, 2);
  const ask = new Rng(seed, 3);
  const S = config.startMs;
  const END = S + Math.round(config.days * DAY);
  const N = config.subscribers;
  const iso = formatInstant;
  const account = accountNames(N);
  const subscribers = assignSegments(config, N, world);
  const resources = buildResources(config, subscribers.counts, S);
  const log = logPlan(config, subscribers.present, logs, S, END);
  const { present } = subscribers;

  const previous = new Int32Array(N).fill(-1);
  const onlineEnd = new Float64Array(N);
  const spellEnd = new Float64Array(N);
  const holdEnd = new Float64Array(N);
  const addrText = new Array<string | undefined>(N);
  const allocFate = new Array<RecordFate>(N);
  const detOutside = new Array<string | undefined>(N);
  const detFirst = new Int32Array(N);
  const detLast = new Int32Array(N);
  const blocks = new Map<number, HeldBlock[]>();
  const pending = new Map<number, Pending>();
  /** Requests wanted, per segment: spread evenly over the segments present so each scenario gets a sample. */
  const requestSeeds = new Int32Array(SEGMENTS.length);
  const presentCodes = SEGMENTS.flatMap((seg, code) => (present(seg) ? [code] : []));

  const out: SimItem[] = [];
  const queue = new EventQueue();
  const schedule = (t: number, sub: number, kind: number, limit = END): void => {
    const when = Math.floor(t);
    if (when < limit) queue.push(when, sub, kind);
  };
  const record = (at: number, value: CanonicalRecordInput): void => {
    out.push({ stream: 'record', at, value });
  };
  const holding = (at: number, value: Holding): void => {
    out.push({ stream: 'holding', at, value });
  };

  const { destinations4, destinations6 } = resources;
  const destination = (rng: Rng, v6: boolean): { ip: string; port: number; protocol: SessionProtocol } => {
    const [port, protocol] = rng.pick(DEST_PORTS);
    return { ip: v6 ? rng.pick(destinations6) : rng.pick(destinations4), port, protocol };
  };

  const heldAt = (i: number, t: number): HeldBlock[] => (blocks.get(i) ?? []).filter((h) => h.start <= t && t < h.end);

  /** Per-session NAT: what the subscriber's last connection looked like from outside. */
  const sessionEvent = new Map<number, Event>();

  return {
    config,
    world,
    logs,
    ask,
    S,
    END,
    N,
    iso,
    account,
    ...subscribers,
    ...resources,
    ...log,
    previous,
    onlineEnd,
    spellEnd,
    holdEnd,
    addrText,
    allocFate,
    detOutside,
    detFirst,
    detLast,
    blocks,
    pending,
    requestSeeds,
    presentCodes,
    out,
    queue,
    schedule,
    record,
    holding,
    destination,
    heldAt,
    sessionEvent,
  };
}

export type WorldContext = ReturnType<typeof createContext>;
