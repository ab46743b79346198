/**
 * The simulated operator (internal to nat/simulate.ts): a discrete-event loop over
 * subscribers that come online, get an address, have spells of activity, use NAT port
 * blocks, sessions or deterministic shares, and go offline. Every record is emitted when
 * its interval starts (its end is decided then), so the stream is in start order and
 * needs memory for the subscribers' current state only, never for the records.
 *
 * Three independent random streams: the world (who does what when), the logs (which
 * records a gap loses or whose stop is missing) and the requests (which events an
 * authority asks about and how it writes them). Changing request noise therefore never
 * changes the records.
 */
import type { CanonicalRecordInput, SubscriberType } from '../src/records.js';
import { NatDeterministicRecord } from '../src/records.js';
import { addToKey, addressFromKey, keyToText, parseAddress, type Address } from '../src/address.js';
import { formatInstant } from '../src/time.js';
import { IparError } from '../src/problems.js';
import { deterministicLayout, forward, type DeterministicLayout } from './deterministic.js';
import { PortBlockAllocator } from './portblock.js';
import { SessionNat, mappingEnd, type SessionProtocol } from './session.js';
import { ReuseHeap } from './quarantine.js';
import { Rng } from './random.js';
import { writeTime, type ZoneWriting } from './observe.js';
import type { Precision } from '../src/time.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

export type Segment = 'dhcp' | 'pd' | 'det' | 'pba' | 'ses' | 'wifi';
export const SEGMENTS: readonly Segment[] = ['dhcp', 'pd', 'det', 'pba', 'ses', 'wifi'];

/** What happened to a logged record on its way to the operator's store. */
export type RecordFate = 'logged' | 'lost-declared' | 'lost-silent' | 'stop-inferred' | 'stop-open' | 'open-at-export';

/** The settings the world reads (nat/simulate.ts validates them). */
export interface WorldConfig {
  readonly profile: string;
  readonly mix: Readonly<Partial<Record<Segment, number>>>;
  readonly subscribers: number;
  readonly startMs: number;
  readonly days: number;
  readonly requests: number;
  readonly observationsPerRequest: { readonly min: number; readonly max: number };
  readonly toleranceSeconds: number;
  readonly noise: {
    readonly clockSkew: number;
    readonly clockSkewMaxSeconds: number;
    readonly sourcePortAbsent: number;
    readonly precisionSecond: number;
    readonly precisionMinute: number;
    readonly zoneAsUtc: number;
    readonly zoneOffsetOffByOne: number;
    readonly localTime: number;
    readonly clock12h: number;
    readonly destinationKnown: number;
    readonly identifiersKnown: number;
    readonly timeZone: string;
  };
  readonly logs: {
    readonly gaps: number;
    readonly gapMeanMinutes: number;
    readonly gapDeclared: number;
    readonly missingStop: number;
    readonly missingStopMode: 'inferred' | 'open' | 'mixed';
    readonly inferredTimeoutSeconds: number;
  };
  readonly nat: {
    readonly blockSize: number;
    readonly maxBlocksPerSubscriber: number;
    readonly quarantineSeconds: number;
    readonly deterministic: 'rfc7422' | 'vpp-det44' | 'juniper-deterministic';
    readonly dynamicShares: number;
  };
}

/** An observation as an authority's request carries it (DESIGN.md, "Requests"). */
export interface SimObservation {
  readonly sourceIp: string;
  readonly sourcePort?: number;
  readonly time: string | { readonly local: string; readonly timeZone: string };
  readonly destinationIp?: string;
  readonly destinationPort?: number;
  readonly protocol?: SessionProtocol;
  readonly clock?: '12h-ambiguous';
}

export interface SimRequest {
  readonly ref: string;
  readonly observations: readonly SimObservation[];
  readonly toleranceSeconds: number;
  readonly identifiers?: { readonly imsi?: string; readonly msisdn?: string; readonly imei?: string; readonly mac?: string };
}

/** How one request's times and fields were distorted (one recipe for all its observations). */
export interface RequestNoise {
  readonly skewMs: number;
  readonly sourcePort: boolean;
  readonly precision: Precision;
  readonly zone: ZoneWriting;
  readonly offsetShiftMinutes?: 60 | -60;
  readonly clock12h: boolean;
  readonly destination: boolean;
  readonly identifiers: boolean;
}

export interface TruthObservation {
  /** The true instant, UTC. */
  readonly time: string;
  readonly sourceIp: string;
  readonly sourcePort: number;
  readonly protocol: SessionProtocol;
  readonly realm?: string;
  /** What became of the allocation record behind it. */
  readonly allocation: RecordFate;
  /** What became of the NAT record behind it (absent for public addresses and deterministic shares). */
  readonly nat?: RecordFate;
  /** The true instant falls in a log gap of a source it depends on. */
  readonly inGapWindow: boolean;
}

export interface SimTruth {
  readonly ref: string;
  readonly account: string;
  readonly profile: string;
  readonly segment: Segment;
  readonly noise: RequestNoise;
  readonly observations: readonly TruthObservation[];
  /** The worst log gap effect among its observations. */
  readonly logGap: 'none' | 'window' | 'record-lost-declared' | 'record-lost-silent';
  readonly missingStop: 'none' | 'inferred' | 'open';
}

/** Who held a public address (and ports) when: the simulator's own bookkeeping. */
export interface Holding {
  readonly account: string;
  /** Public address, or delegated prefix. */
  readonly ip: string;
  readonly portFirst?: number;
  readonly portLast?: number;
  /** Set when only this protocol's port space is held (per-session NAT). */
  readonly protocol?: SessionProtocol;
  readonly start: string;
  /** The true end, even past the end of the simulation. */
  readonly end: string;
  readonly via: 'dhcp' | 'dhcpv6-pd' | 'nat-block' | 'nat-session' | 'nat-deterministic' | 'dynamic-share';
  readonly realm?: string;
}

export type SimItem =
  | { readonly stream: 'record'; readonly at: number; readonly value: CanonicalRecordInput }
  | { readonly stream: 'request'; readonly at: number; readonly value: SimRequest }
  | { readonly stream: 'truth'; readonly at: number; readonly value: SimTruth }
  | { readonly stream: 'holding'; readonly at: number; readonly value: Holding };

// ---- the address plan: documentation ranges for public space, 100.64.0.0/10 inside ----

/** Address plan shared by every profile, so that the mixed operator is their union. */
export const PLAN = Object.freeze({
  dhcp: { prefix: '198.51.100.0/24', source: 'dhcp' },
  pd: { prefix: '2001:db8:1000::/36', delegated: 56, source: 'dhcpv6-pd' },
  pba: { realm: 'mob-pba', outside: '203.0.113.0/25', inside: '100.64.0.0', source: 'pgw' },
  ses: { realm: 'mob-ses', outside: '203.0.113.128/26', inside: '100.80.0.0', source: 'pgw' },
  det: { realm: 'fix-det', outside: '203.0.113.192/26', inside: '100.96.0.0', source: 'radius' },
  wifi: { realm: 'wifi', outside: '192.0.2.0/25', inside: '100.112.0.0', source: 'radius' },
  server: '192.0.2.192/27',
  infrastructure: '192.0.2.224/27',
  /** Far ends of connections: not the operator's, so no address-space record. */
  destinations: '192.0.2.128/26',
  destinations6: '2001:db8:ffff::/48',
});

interface Rhythm {
  readonly online: number;
  readonly offline: number;
  readonly spell: number;
  readonly idle: number;
  readonly activity: number;
  readonly initialOnline: number;
}

const FIXED: Rhythm = { online: 2 * DAY, offline: 30 * MIN, spell: 90 * MIN, idle: 60 * MIN, activity: 10 * MIN, initialOnline: 0.9 };
const MOBILE: Rhythm = { online: 5 * HOUR, offline: HOUR, spell: 30 * MIN, idle: 90 * MIN, activity: 8 * MIN, initialOnline: 0.8 };
const VENUE: Rhythm = { online: 3 * DAY, offline: 10 * MIN, spell: 4 * HOUR, idle: 30 * MIN, activity: 3 * MIN, initialOnline: 0.95 };
const RHYTHM: Readonly<Record<Segment, Rhythm>> = { dhcp: FIXED, pd: FIXED, det: FIXED, pba: MOBILE, ses: MOBILE, wifi: VENUE };

/** A block is kept this long after the last activity of a spell (the CGN's idle timer). */
const BLOCK_IDLE_MS = 5 * MIN;
/** Chance that a spell needs more ports than one block (mobile) / many (venue). */
const BURST = { pba: 0.25, wifi: 0.6, det: 0.1 } as const;
/** Chance that a reconnecting subscriber is given a different address than last time. */
const RENUMBER: Readonly<Record<Segment, number>> = { dhcp: 0, pd: 0.05, det: 0.15, pba: 1, ses: 1, wifi: 0.05 };
const TYPES: Readonly<Record<Segment, readonly (readonly [SubscriberType, number])[]>> = {
  dhcp: [['residential', 0.9], ['business', 1]],
  pd: [['residential', 0.85], ['business', 0.95], ['enterprise', 1]],
  det: [['residential', 0.95], ['business', 1]],
  pba: [['mobile', 1]],
  ses: [['mobile', 1]],
  wifi: [['public-wifi', 1]],
};
const MOBILE_SEGMENTS: ReadonlySet<Segment> = new Set(['pba', 'ses']);
/** Public-DHCP subscribers in a mixed operator (the documentation /24 has 254 hosts). */
const DHCP_IN_MIX = 200;

function address(text: string, prefix = false): Address {
  const r = parseAddress(text, prefix);
  if (!r.ok) throw new IparError('BAD_PLAN', r.message);
  return r.value;
}

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/**
 * Addresses (or prefixes) handed out by index: a returning subscriber gets its previous
 * one if free; otherwise a never-used one; otherwise the one released longest ago.
 */
class AddressPool {
  readonly #availableAt: Float64Array;
  readonly #heap = new ReuseHeap();
  #fresh: number;

  constructor(
    readonly first: number,
    readonly last: number,
    readonly quarantineMs: number,
  ) {
    this.#availableAt = new Float64Array(last + 1).fill(-Infinity);
    this.#fresh = first;
  }

  acquire(preferred: number, now: number): number {
    const at = this.#availableAt;
    if (preferred >= this.first && preferred <= this.last && at[preferred]! <= now) return this.#take(preferred);
    while (this.#fresh <= this.last && at[this.#fresh] !== -Infinity) this.#fresh++;
    if (this.#fresh <= this.last) return this.#take(this.#fresh++);
    for (;;) {
      const t = this.#heap.peekTime();
      if (t === undefined || t > now) return -1;
      const item = this.#heap.pop()!;
      if (at[item] === t) return this.#take(item); // otherwise a stale entry: taken since
    }
  }

  release(index: number, at: number): void {
    const t = at + this.quarantineMs;
    this.#availableAt[index] = t;
    this.#heap.push(index, t);
  }

  #take(index: number): number {
    this.#availableAt[index] = Infinity;
    return index;
  }
}

/** The event queue: a binary heap on (time, sequence) over parallel typed arrays. */
class EventQueue {
  #time = new Float64Array(1024);
  #seq = new Float64Array(1024);
  #sub = new Int32Array(1024);
  #kind = new Uint8Array(1024);
  #n = 0;
  #counter = 0;
  t = 0;
  sub = 0;
  kind = 0;

  push(t: number, sub: number, kind: number): void {
    if (this.#n === this.#time.length) this.#grow();
    let i = this.#n++;
    const seq = this.#counter++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pt = this.#time[p]!;
      if (pt < t || (pt === t && this.#seq[p]! < seq)) break;
      this.#move(p, i);
      i = p;
    }
    this.#time[i] = t;
    this.#seq[i] = seq;
    this.#sub[i] = sub;
    this.#kind[i] = kind;
  }

  /** Pop the earliest event into `t`, `sub`, `kind`; false when empty. */
  pop(): boolean {
    if (this.#n === 0) return false;
    this.t = this.#time[0]!;
    this.sub = this.#sub[0]!;
    this.kind = this.#kind[0]!;
    const last = --this.#n;
    if (last === 0) return true;
    const t = this.#time[last]!;
    const seq = this.#seq[last]!;
    const sub = this.#sub[last]!;
    const kind = this.#kind[last]!;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= last) break;
      const r = l + 1;
      let c = l;
      if (r < last && (this.#time[r]! < this.#time[l]! || (this.#time[r] === this.#time[l] && this.#seq[r]! < this.#seq[l]!))) c = r;
      const ct = this.#time[c]!;
      if (t < ct || (t === ct && seq < this.#seq[c]!)) break;
      this.#move(c, i);
      i = c;
    }
    this.#time[i] = t;
    this.#seq[i] = seq;
    this.#sub[i] = sub;
    this.#kind[i] = kind;
    return true;
  }

  #move(from: number, to: number): void {
    this.#time[to] = this.#time[from]!;
    this.#seq[to] = this.#seq[from]!;
    this.#sub[to] = this.#sub[from]!;
    this.#kind[to] = this.#kind[from]!;
  }

  #grow(): void {
    const n = this.#time.length * 2;
    const time = new Float64Array(n);
    time.set(this.#time);
    const seq = new Float64Array(n);
    seq.set(this.#seq);
    const sub = new Int32Array(n);
    sub.set(this.#sub);
    const kind = new Uint8Array(n);
    kind.set(this.#kind);
    this.#time = time;
    this.#seq = seq;
    this.#sub = sub;
    this.#kind = kind;
  }
}

const ONLINE = 0;
const SPELL = 1;
const ACTIVITY = 2;
const EXTRA_BLOCK = 3;
const DYNAMIC_SHARE = 4;
const GAP = 5;
const REQUEST_MARK = 6;

interface HeldBlock {
  readonly outside: string;
  readonly first: number;
  readonly last: number;
  readonly start: number;
  readonly end: number;
  readonly fate: RecordFate;
  readonly dynamic: boolean;
}

/** What one activity of a subscriber looked like from outside. */
interface Event {
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

interface Pending {
  readonly sub: number;
  readonly noise: RequestNoise;
  readonly want: number;
  readonly deadline: number;
  readonly events: Event[];
  nextAfter: number;
}

interface Gap {
  readonly source: string;
  readonly start: number;
  readonly end: number;
  readonly declared: boolean;
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

function luhn(digits: string): string {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return digits + String((10 - (sum % 10)) % 10);
}

function macOf(prefix: number, index: number): string {
  const hex = (index >>> 0).toString(16).padStart(8, '0');
  return `02:${pad(prefix, 2)}:${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}:${hex.slice(6, 8)}`;
}

const DEST_PORTS: readonly (readonly [number, SessionProtocol])[] = [
  [443, 'tcp'], [443, 'tcp'], [443, 'tcp'], [443, 'udp'], [80, 'tcp'], [53, 'udp'], [123, 'udp'], [993, 'tcp'], [5222, 'tcp'], [3478, 'udp'],
];

/**
 * Run the world: yields header records, then records, holdings, requests and truths in
 * simulated time order.
 */
export function* runWorld(config: WorldConfig, seed: number): Generator<SimItem> {
  const world = new Rng(seed, 1);
  const logs = new Rng(seed, 2);
  const ask = new Rng(seed, 3);
  const S = config.startMs;
  const END = S + Math.round(config.days * DAY);
  const N = config.subscribers;
  const iso = formatInstant;
  const accountWidth = Math.max(6, String(N).length);
  const account = (i: number): string => `ACC-${pad(i + 1, accountWidth)}`;

  // ---- who is in which segment --------------------------------------------------------
  // Shares are rounded down and the remainder goes to the largest segment. Public DHCP
  // has 254 addresses, so in a mix it serves at most DHCP_IN_MIX subscribers.
  const counts = new Map<Segment, number>();
  let assigned = 0;
  for (const seg of SEGMENTS) {
    const share = config.mix[seg] ?? 0;
    const c = Math.floor(N * share);
    counts.set(seg, seg === 'dhcp' && share < 1 ? Math.min(c, DHCP_IN_MIX) : c);
    assigned += counts.get(seg)!;
  }
  const largest = SEGMENTS.reduce((a, b) => ((config.mix[b] ?? 0) > (config.mix[a] ?? 0) ? b : a));
  counts.set(largest, counts.get(largest)! + N - assigned);
  const segOf = new Uint8Array(N);
  {
    let k = 0;
    SEGMENTS.forEach((seg, code) => {
      for (let c = counts.get(seg)!; c > 0; c--) segOf[k++] = code;
    });
    for (let i = N - 1; i > 0; i--) {
      const j = world.int(i + 1);
      const tmp = segOf[i]!;
      segOf[i] = segOf[j]!;
      segOf[j] = tmp;
    }
  }
  const segment = (i: number): Segment => SEGMENTS[segOf[i]!]!;
  const present = (seg: Segment): boolean => counts.get(seg)! > 0;
  const typeOf = new Array<SubscriberType>(N);
  for (let i = 0; i < N; i++) {
    const u = world.float();
    typeOf[i] = TYPES[segment(i)].find(([, cum]) => u < cum)![0];
  }

  // ---- resources --------------------------------------------------------------------
  const quarantineMs = config.nat.quarantineSeconds * 1000;
  const dhcpBase = address(PLAN.dhcp.prefix, true);
  const dhcpPool = new AddressPool(1, 254, 0);
  const pdBase = address(PLAN.pd.prefix, true);
  const pdPool = new AddressPool(0, Math.min(2 ** 20, Math.max(256, nextPow2(counts.get('pd')! * 2))) - 1, 0);
  const insidePool = (count: number, sticky: boolean): AddressPool => {
    const size = Math.min(2 ** 20, Math.max(256, nextPow2(count * (sticky ? 2 : 4))));
    return new AddressPool(1, size - 2, 0);
  };
  const outsideOf = (prefixText: string): Address[] => {
    const p = address(prefixText, true);
    const n = 2 ** (128 - p.length);
    return Array.from({ length: n }, (_, k) => addressFromKey(addToKey(p.key, BigInt(k))));
  };
  const pbaPool = insidePool(counts.get('pba')!, false);
  const sesPool = insidePool(counts.get('ses')!, false);
  const wifiPool = insidePool(counts.get('wifi')!, true);
  const pbaNat = present('pba')
    ? new PortBlockAllocator({ outside: outsideOf(PLAN.pba.outside), portFirst: 1024, portLast: 65535, blockSize: config.nat.blockSize, quarantineMs, maxBlocksPerSubscriber: config.nat.maxBlocksPerSubscriber })
    : null;
  const wifiNat = present('wifi')
    ? new PortBlockAllocator({
        outside: outsideOf(PLAN.wifi.outside),
        portFirst: 1024,
        portLast: 65535,
        blockSize: Math.min(64512, config.nat.blockSize * 2),
        quarantineMs,
        maxBlocksPerSubscriber: config.nat.maxBlocksPerSubscriber * 2,
      })
    : null;
  const sesNat = present('ses') ? new SessionNat({ outside: outsideOf(PLAN.ses.outside), portFirst: 1024, portLast: 65535, quarantineMs }) : null;

  // Deterministic NAT: the inside prefix is sized to the subscribers it serves.
  let detRecord: NatDeterministicRecord | null = null;
  let detInput: CanonicalRecordInput | null = null;
  let detLayout: DeterministicLayout | null = null;
  let detPool: AddressPool | null = null;
  const detDynamic = new Map<string, PortBlockAllocator>();
  if (present('det')) {
    const outsideCount = 64;
    const algorithm = config.nat.deterministic;
    const size = Math.min(2 ** 20, Math.max(algorithm === 'vpp-det44' ? outsideCount : 4, nextPow2(Math.ceil(counts.get('det')! * 1.25) + 2)));
    const insidePrefix = `${PLAN.det.inside}/${32 - Math.log2(size)}`;
    const common = { kind: 'nat-deterministic', realm: PLAN.det.realm, insidePrefix, outsidePrefix: PLAN.det.outside, portFirst: 1024, portLast: 65535 } as const;
    detInput =
      algorithm === 'rfc7422'
        ? { ...common, algorithm, ratio: Math.ceil(size / outsideCount) + config.nat.dynamicShares, dynamicShares: config.nat.dynamicShares, start: iso(S), end: null }
        : algorithm === 'vpp-det44'
          ? { ...common, algorithm, start: iso(S), end: null }
          : { ...common, algorithm, includeBoundaryAddresses: false, start: iso(S), end: null };
    detRecord = NatDeterministicRecord.parse(detInput);
    const l = deterministicLayout(detRecord);
    if (!l.ok) throw new IparError('BAD_PLAN', l.message);
    detLayout = l.value;
    detPool = new AddressPool(1, size - 2, 0);
  }

  const destinations4 = outsideOf(PLAN.destinations).map((a) => a.text);
  const dest6Base = address(PLAN.destinations6, true);
  const destinations6 = Array.from({ length: 64 }, (_, k) => keyToText(addToKey(dest6Base.key, BigInt(k + 1))));

  // ---- log gaps ---------------------------------------------------------------------
  const sources: string[] = [];
  if (present('dhcp')) sources.push(PLAN.dhcp.source);
  if (present('pd')) sources.push(PLAN.pd.source);
  if (present('det') || present('wifi')) sources.push('radius');
  if (present('pba') || present('ses')) sources.push(PLAN.pba.source);
  if (present('pba')) sources.push(PLAN.pba.realm);
  if (present('ses')) sources.push(PLAN.ses.realm);
  if (present('wifi')) sources.push(PLAN.wifi.realm);
  if (present('det') && config.nat.deterministic === 'rfc7422' && config.nat.dynamicShares > 0) sources.push(PLAN.det.realm);
  const gaps: Gap[] = [];
  for (let g = 0; g < config.logs.gaps; g++) {
    const length = Math.max(MIN, Math.round(logs.exponential(config.logs.gapMeanMinutes * MIN)));
    const start = S + Math.floor(logs.float() * Math.max(1, END - S - length));
    gaps.push({ source: logs.pick(sources), start, end: Math.min(END, start + length), declared: logs.chance(config.logs.gapDeclared) });
  }
  gaps.sort((a, b) => a.start - b.start || a.source.localeCompare(b.source));
  const gapAt = (source: string, t: number): Gap | undefined => gaps.find((g) => g.source === source && t >= g.start && t < g.end);

  /** Decide what the logs make of a record with true interval [start, end). */
  const fateOf = (source: string, start: number, end: number): { fate: RecordFate; end: number | null; inferred: boolean } => {
    const lost = gapAt(source, start);
    if (lost !== undefined) return { fate: lost.declared ? 'lost-declared' : 'lost-silent', end: null, inferred: false };
    const randomMiss = logs.chance(config.logs.missingStop);
    if (end >= END) return { fate: 'open-at-export', end: null, inferred: false };
    if (!randomMiss && gapAt(source, end) === undefined) return { fate: 'logged', end, inferred: false };
    const mode = config.logs.missingStopMode === 'mixed' ? (logs.chance(0.5) ? 'inferred' : 'open') : config.logs.missingStopMode;
    if (mode === 'open') return { fate: 'stop-open', end: null, inferred: false };
    const step = config.logs.inferredTimeoutSeconds * 1000;
    const inferred = start + Math.max(1, Math.ceil((end - start) / step)) * step;
    return inferred >= END ? { fate: 'stop-open', end: null, inferred: false } : { fate: 'stop-inferred', end: inferred, inferred: true };
  };

  // ---- subscriber state (bounded per subscriber) --------------------------------------
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
  let pgwSession = 0;
  /** Requests wanted, per segment: spread evenly over the segments present so each scenario gets a sample. */
  const requestSeeds = new Int32Array(SEGMENTS.length);
  const presentCodes = SEGMENTS.flatMap((seg, code) => (present(seg) ? [code] : []));
  let requestsMade = 0;

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

  const imsiOf = (i: number): string => '23415' + pad(i, 10);
  const msisdnOf = (i: number): string => '447700' + pad(i, 7);
  const imeiOf = (i: number): string => luhn('35999999' + pad(i % 1_000_000, 6));

  // ---- header -------------------------------------------------------------------------
  const space = (prefix: string, role: 'dynamic' | 'static' | 'cgnat-outside' | 'server' | 'infrastructure', realm?: string): void =>
    record(S, { kind: 'address-space', prefix, role, ...(realm === undefined ? {} : { realm }) });
  if (present('dhcp')) space(PLAN.dhcp.prefix, 'dynamic');
  if (present('pd')) space(PLAN.pd.prefix, 'dynamic');
  if (present('pba')) space(PLAN.pba.outside, 'cgnat-outside', PLAN.pba.realm);
  if (present('ses')) space(PLAN.ses.outside, 'cgnat-outside', PLAN.ses.realm);
  if (present('det')) space(PLAN.det.outside, 'cgnat-outside', PLAN.det.realm);
  if (present('wifi')) space(PLAN.wifi.outside, 'cgnat-outside', PLAN.wifi.realm);
  space(PLAN.server, 'server');
  space(PLAN.infrastructure, 'infrastructure');
  yield* out.splice(0);
  for (let i = 0; i < N; i++) yield { stream: 'record', at: S, value: { kind: 'subscriber', account: account(i), type: typeOf[i]! } };
  if (detInput !== null) yield { stream: 'record', at: S, value: detInput };

  // ---- initial events -----------------------------------------------------------------
  for (let i = 0; i < N; i++) {
    const r = RHYTHM[segment(i)];
    schedule(world.chance(r.initialOnline) ? S + world.float() * 5 * MIN : S + world.exponential(r.offline), i, ONLINE);
  }
  gaps.forEach((g, k) => {
    if (g.declared) schedule(g.start, k, GAP);
  });
  for (let k = 0; k < config.requests; k++) schedule(S + ask.float() * (END - S), 0, REQUEST_MARK);

  // ---- segment behaviour ----------------------------------------------------------------
  const insideText = (base: string, index: number): string => keyToText(addToKey(address(base).key, BigInt(index)));

  const online = (t: number, i: number): void => {
    const seg = segment(i);
    const r = RHYTHM[seg];
    const preferred = world.chance(RENUMBER[seg]) ? -1 : previous[i]!;
    const pool = seg === 'dhcp' ? dhcpPool : seg === 'pd' ? pdPool : seg === 'det' ? detPool! : seg === 'pba' ? pbaPool : seg === 'ses' ? sesPool : wifiPool;
    const index = pool.acquire(preferred, t);
    if (index < 0) {
      schedule(t + 10 * MIN + world.exponential(10 * MIN), i, ONLINE); // pool empty: try again later
      return;
    }
    const end = Math.floor(t + Math.max(MIN, world.exponential(r.online)));
    pool.release(index, end);
    previous[i] = index;
    onlineEnd[i] = end;
    let ip: string;
    let source: string;
    let realm: string | undefined;
    let ids: { imsi?: string; msisdn?: string; imei?: string; mac?: string; sessionId?: string };
    switch (seg) {
      case 'dhcp':
        ip = keyToText(addToKey(dhcpBase.key, BigInt(index)));
        source = PLAN.dhcp.source;
        ids = { mac: macOf(0, i) };
        break;
      case 'pd':
        ip = keyToText(addToKey(pdBase.key, BigInt(index) << BigInt(128 - PLAN.pd.delegated)), PLAN.pd.delegated);
        source = PLAN.pd.source;
        ids = { mac: macOf(0, i) };
        break;
      case 'det':
        ip = insideText(PLAN.det.inside, index);
        source = PLAN.det.source;
        realm = PLAN.det.realm;
        ids = { mac: macOf(0, i) };
        break;
      case 'wifi':
        ip = insideText(PLAN.wifi.inside, index);
        source = PLAN.wifi.source;
        realm = PLAN.wifi.realm;
        ids = { mac: macOf(1, i) };
        break;
      default:
        ip = insideText(seg === 'pba' ? PLAN.pba.inside : PLAN.ses.inside, index);
        source = PLAN.pba.source;
        realm = seg === 'pba' ? PLAN.pba.realm : PLAN.ses.realm;
        ids = { imsi: imsiOf(i), msisdn: msisdnOf(i), imei: imeiOf(i), sessionId: `pgw-${(pgwSession++).toString(16).padStart(8, '0')}` };
    }
    addrText[i] = ip;
    const f = fateOf(source, t, end);
    allocFate[i] = f.fate;
    if (!f.fate.startsWith('lost')) {
      record(t, {
        kind: 'allocation',
        account: account(i),
        ip,
        start: iso(t),
        end: f.end === null ? null : iso(f.end),
        source,
        ...(realm === undefined ? {} : { realm }),
        ...ids,
        ...(f.inferred ? { endInferred: true } : {}),
      });
    }
    if (seg === 'dhcp' || seg === 'pd') holding(t, { account: account(i), ip, start: iso(t), end: iso(end), via: seg === 'dhcp' ? 'dhcp' : 'dhcpv6-pd' });
    if (seg === 'det') {
      const fw = forward(detRecord!, address(ip));
      if (!fw.ok) throw new IparError('BAD_PLAN', fw.message);
      detOutside[i] = fw.value.outsideAddress.text;
      detFirst[i] = fw.value.portFirst;
      detLast[i] = fw.value.portLast;
      holding(t, { account: account(i), ip: fw.value.outsideAddress.text, portFirst: fw.value.portFirst, portLast: fw.value.portLast, start: iso(t), end: iso(end), via: 'nat-deterministic', realm: PLAN.det.realm });
    }
    schedule(t + world.exponential(r.activity), i, SPELL, end);
    schedule(end + Math.max(MIN, world.exponential(r.offline)), i, ONLINE);
  };

  const natBlock = (t: number, i: number, allocator: PortBlockAllocator, realm: string, dynamic: boolean): void => {
    const got = allocator.allocate(addrText[i]!, t);
    if (!got.ok) return; // the CGN refuses the connection; nothing is logged
    const end = holdEnd[i]!;
    allocator.release(got.value.id, end);
    const b = got.value;
    const f = fateOf(realm, t, end);
    if (!f.fate.startsWith('lost')) {
      record(t, {
        kind: 'nat-block',
        realm,
        insideIp: addrText[i]!,
        outsideIp: b.outsideAddress.text,
        portFirst: b.portFirst,
        portLast: b.portLast,
        start: iso(t),
        end: f.end === null ? null : iso(f.end),
        ...(f.inferred ? { endInferred: true } : {}),
      });
    }
    holding(t, { account: account(i), ip: b.outsideAddress.text, portFirst: b.portFirst, portLast: b.portLast, start: iso(t), end: iso(end), via: dynamic ? 'dynamic-share' : 'nat-block', realm });
    const list = (blocks.get(i) ?? []).filter((h) => h.end > t);
    list.push({ outside: b.outsideAddress.text, first: b.portFirst, last: b.portLast, start: t, end, fate: f.fate, dynamic });
    blocks.set(i, list);
  };

  const dynamicAllocator = (outside: string): PortBlockAllocator => {
    let a = detDynamic.get(outside);
    if (a === undefined) {
      const lay = detLayout!;
      const first = lay.portFirst + lay.sharesPerAddress * lay.shareSize;
      a = new PortBlockAllocator({ outside: [address(outside)], portFirst: first, portLast: lay.portFirst + lay.totalShares * lay.shareSize - 1, blockSize: lay.shareSize, quarantineMs });
      detDynamic.set(outside, a);
    }
    return a;
  };

  const spell = (t: number, i: number): void => {
    const seg = segment(i);
    const r = RHYTHM[seg];
    const end = Math.min(Math.floor(t + Math.max(MIN, world.exponential(r.spell))), onlineEnd[i]!);
    spellEnd[i] = end;
    holdEnd[i] = Math.min(end + BLOCK_IDLE_MS, onlineEnd[i]!);
    if (seg === 'pba' || seg === 'wifi') {
      const nat = seg === 'pba' ? pbaNat! : wifiNat!;
      natBlock(t, i, nat, seg === 'pba' ? PLAN.pba.realm : PLAN.wifi.realm, false);
      if (nat.maxBlocksPerSubscriber > 1 && world.chance(BURST[seg])) {
        const extra = world.between(1, nat.maxBlocksPerSubscriber - 1);
        for (let k = 0; k < extra; k++) schedule(t + world.float() * (end - t), i, EXTRA_BLOCK, end);
      }
    } else if (seg === 'det' && detLayout !== null && detLayout.totalShares > detLayout.sharesPerAddress && world.chance(BURST.det)) {
      schedule(t + world.float() * (end - t), i, DYNAMIC_SHARE, end);
    }
    activity(t, i);
  };

  const destination = (rng: Rng, v6: boolean): { ip: string; port: number; protocol: SessionProtocol } => {
    const [port, protocol] = rng.pick(DEST_PORTS);
    return { ip: v6 ? rng.pick(destinations6) : rng.pick(destinations4), port, protocol };
  };

  const heldAt = (i: number, t: number): HeldBlock[] => (blocks.get(i) ?? []).filter((h) => h.start <= t && t < h.end);

  /** A per-session NAT subscriber opens a connection: a mapping, a record, a holding. */
  const sessionEvent = new Map<number, Event>();
  const connect = (t: number, i: number): void => {
    const alloc = allocFate[i]!;
    const d = destination(world, false);
    const opened = sesNat!.open(addrText[i]!, d.protocol, t);
    if (!opened.ok) {
      sessionEvent.delete(i);
      return;
    }
    const duration = Math.floor(world.exponential(d.protocol === 'tcp' ? 45_000 : 15_000));
    const last = Math.min(t + duration, onlineEnd[i]! - 1);
    const end = Math.max(t + 1, Math.min(mappingEnd(d.protocol, last, d.protocol === 'tcp' && world.chance(0.9)), onlineEnd[i]!));
    sesNat!.close(opened.value.id, end);
    const m = opened.value;
    const f = fateOf(PLAN.ses.realm, t, end);
    if (!f.fate.startsWith('lost')) {
      record(t, {
        kind: 'nat-session',
        realm: PLAN.ses.realm,
        insideIp: addrText[i]!,
        insidePort: world.between(32768, 60999),
        outsideIp: m.outsideAddress.text,
        outsidePort: m.outsidePort,
        destinationIp: d.ip,
        destinationPort: d.port,
        protocol: d.protocol,
        start: iso(t),
        end: f.end === null ? null : iso(f.end),
        ...(f.inferred ? { endInferred: true } : {}),
      });
    }
    holding(t, { account: account(i), ip: m.outsideAddress.text, portFirst: m.outsidePort, portLast: m.outsidePort, protocol: d.protocol, start: iso(t), end: iso(end), via: 'nat-session', realm: PLAN.ses.realm });
    sessionEvent.set(i, {
      time: t + Math.floor(world.float() * (last - t + 1)),
      ip: m.outsideAddress.text,
      port: m.outsidePort,
      protocol: d.protocol,
      destinationIp: d.ip,
      destinationPort: d.port,
      realm: PLAN.ses.realm,
      allocation: alloc,
      nat: f.fate,
      sources: [PLAN.ses.source, PLAN.ses.realm],
    });
  };

  /**
   * What an activity looked like from outside, for a request about it. Only per-session
   * NAT logs every activity (see {@link connect}); for the other segments this is worked
   * out when a request needs it, from the request stream, so that the records never
   * depend on how many requests are drawn.
   */
  const observe = (t: number, i: number): Event | null => {
    const seg = segment(i);
    const alloc = allocFate[i]!;
    switch (seg) {
      case 'dhcp':
      case 'pd': {
        const d = destination(ask, seg === 'pd');
        let ip = addrText[i]!;
        if (seg === 'pd') {
          const prefix = address(ip, true);
          const iid = (BigInt(ask.uint32()) << 32n) | BigInt(ask.uint32());
          ip = keyToText(addToKey(prefix.key, (BigInt(ask.int(256)) << 64n) | iid));
        }
        return { time: t, ip, port: ask.between(49152, 65535), protocol: d.protocol, destinationIp: d.ip, destinationPort: d.port, allocation: alloc, sources: [seg === 'dhcp' ? PLAN.dhcp.source : PLAN.pd.source] };
      }
      case 'det': {
        const d = destination(ask, false);
        const dyn = heldAt(i, t).filter((h) => h.dynamic);
        const use = dyn.length > 0 && ask.chance(0.5) ? dyn[0]! : null;
        const port = use === null ? ask.between(detFirst[i]!, detLast[i]!) : ask.between(use.first, use.last);
        return {
          time: t,
          ip: use === null ? detOutside[i]! : use.outside,
          port,
          protocol: d.protocol,
          destinationIp: d.ip,
          destinationPort: d.port,
          realm: PLAN.det.realm,
          allocation: alloc,
          ...(use === null ? {} : { nat: use.fate }),
          sources: use === null ? [PLAN.det.source] : [PLAN.det.source, PLAN.det.realm],
        };
      }
      case 'pba':
      case 'wifi': {
        const held = heldAt(i, t);
        if (held.length === 0) return null;
        const b = ask.pick(held);
        const d = destination(ask, false);
        const realm = seg === 'pba' ? PLAN.pba.realm : PLAN.wifi.realm;
        return {
          time: t,
          ip: b.outside,
          port: ask.between(b.first, b.last),
          protocol: d.protocol,
          destinationIp: d.ip,
          destinationPort: d.port,
          realm,
          allocation: alloc,
          nat: b.fate,
          sources: [seg === 'pba' ? PLAN.pba.source : PLAN.wifi.source, realm],
        };
      }
      case 'ses':
        return sessionEvent.get(i) ?? null;
    }
  };

  // ---- requests -------------------------------------------------------------------------
  const drawNoise = (): RequestNoise => {
    const n = config.noise;
    const skewMs = ask.chance(n.clockSkew) ? (ask.chance(0.5) ? 1 : -1) * ask.between(1000, Math.max(1000, Math.round(n.clockSkewMaxSeconds * 1000))) : 0;
    const sourcePort = !ask.chance(n.sourcePortAbsent);
    const u = ask.float();
    const precision: Precision = u < n.precisionMinute ? 'min' : u < n.precisionMinute + n.precisionSecond ? 's' : 'ms';
    const z = ask.float();
    const zone: ZoneWriting = z < n.zoneAsUtc ? 'as-utc' : z < n.zoneAsUtc + n.zoneOffsetOffByOne ? 'offset-off-by-one' : z < n.zoneAsUtc + n.zoneOffsetOffByOne + n.localTime ? 'local' : 'utc';
    const shift: 60 | -60 = ask.chance(0.5) ? 60 : -60;
    return {
      skewMs,
      sourcePort,
      precision,
      zone,
      ...(zone === 'offset-off-by-one' ? { offsetShiftMinutes: shift } : {}),
      clock12h: ask.chance(n.clock12h),
      destination: ask.chance(n.destinationKnown),
      identifiers: ask.chance(n.identifiersKnown),
    };
  };

  const finish = (p: Pending, at: number): void => {
    pending.delete(p.sub);
    const ref = `REQ-${pad(++requestsMade, 6)}`;
    const n = p.noise;
    const observations: SimObservation[] = p.events.map((e) => ({
      sourceIp: e.ip,
      ...(n.sourcePort ? { sourcePort: e.port } : {}),
      time: writeTime(e.time + n.skewMs, {
        precision: n.precision,
        zone: n.zone,
        clock12h: n.clock12h,
        timeZone: config.noise.timeZone,
        ...(n.offsetShiftMinutes === undefined ? {} : { offsetShiftMinutes: n.offsetShiftMinutes }),
      }),
      ...(n.destination ? { destinationIp: e.destinationIp, destinationPort: e.destinationPort, protocol: e.protocol } : {}),
      ...(n.clock12h ? { clock: '12h-ambiguous' as const } : {}),
    }));
    const seg = segment(p.sub);
    let identifiers: SimRequest['identifiers'];
    if (n.identifiers) {
      if (MOBILE_SEGMENTS.has(seg)) {
        const kind = ask.int(3);
        identifiers = kind === 0 ? { imsi: imsiOf(p.sub) } : kind === 1 ? { msisdn: msisdnOf(p.sub) } : { imei: imeiOf(p.sub) };
      } else identifiers = { mac: macOf(seg === 'wifi' ? 1 : 0, p.sub) };
    }
    out.push({ stream: 'request', at, value: { ref, observations, toleranceSeconds: config.toleranceSeconds, ...(identifiers === undefined ? {} : { identifiers }) } });
    const truthObs: TruthObservation[] = p.events.map((e) => ({
      time: iso(e.time),
      sourceIp: e.ip,
      sourcePort: e.port,
      protocol: e.protocol,
      ...(e.realm === undefined ? {} : { realm: e.realm }),
      allocation: e.allocation,
      ...(e.nat === undefined ? {} : { nat: e.nat }),
      inGapWindow: e.sources.some((s) => gapAt(s, e.time) !== undefined),
    }));
    const fates = p.events.flatMap((e) => (e.nat === undefined ? [e.allocation] : [e.allocation, e.nat]));
    const logGap = fates.includes('lost-silent')
      ? 'record-lost-silent'
      : fates.includes('lost-declared')
        ? 'record-lost-declared'
        : truthObs.some((o) => o.inGapWindow)
          ? 'window'
          : 'none';
    const missingStop = fates.includes('stop-open') ? 'open' : fates.includes('stop-inferred') ? 'inferred' : 'none';
    out.push({ stream: 'truth', at, value: { ref, account: account(p.sub), profile: config.profile, segment: seg, noise: n, observations: truthObs, logGap, missingStop } });
  };

  const activity = (t: number, i: number): void => {
    if (segment(i) === 'ses') connect(t, i);
    const p = pending.get(i);
    if (p !== undefined) {
      const seen = t >= p.deadline || t < p.nextAfter ? null : observe(t, i);
      if (t >= p.deadline) finish(p, t);
      else if (seen !== null) {
        p.events.push(seen);
        if (p.events.length >= p.want) finish(p, t);
        else p.nextAfter = t + 5 * MIN + ask.exponential(HOUR);
      }
    } else if (requestSeeds[segOf[i]!]! > 0) {
      const seen = observe(t, i);
      if (seen === null) return next(t, i);
      requestSeeds[segOf[i]!]!--;
      const o = config.observationsPerRequest;
      const want = ask.between(o.min, o.max);
      const fresh: Pending = { sub: i, noise: drawNoise(), want, deadline: t + DAY, events: [seen], nextAfter: t + 5 * MIN + ask.exponential(HOUR) };
      if (want <= 1) finish(fresh, t);
      else pending.set(i, fresh);
    }
    next(t, i);
  };

  /** Schedule the subscriber's next activity, or its next spell after this one. */
  const next = (t: number, i: number): void => {
    const r = RHYTHM[segment(i)];
    const next = t + Math.max(1000, world.exponential(r.activity));
    if (next < spellEnd[i]!) schedule(next, i, ACTIVITY);
    else {
      const rest = segment(i) === 'ses' ? spellEnd[i]! : holdEnd[i]!;
      schedule(rest + world.exponential(r.idle), i, SPELL, onlineEnd[i]!);
    }
  };

  // ---- the loop ---------------------------------------------------------------------
  while (queue.pop()) {
    const t = queue.t;
    const i = queue.sub;
    switch (queue.kind) {
      case ONLINE:
        online(t, i);
        break;
      case SPELL:
        spell(t, i);
        break;
      case ACTIVITY:
        activity(t, i);
        break;
      case EXTRA_BLOCK:
        natBlock(t, i, segment(i) === 'pba' ? pbaNat! : wifiNat!, segment(i) === 'pba' ? PLAN.pba.realm : PLAN.wifi.realm, false);
        break;
      case DYNAMIC_SHARE:
        natBlock(t, i, dynamicAllocator(detOutside[i]!), PLAN.det.realm, true);
        break;
      case GAP: {
        const g = gaps[i]!;
        record(t, { kind: 'coverage', source: g.source, start: iso(g.start), end: iso(g.end), status: 'gap' });
        break;
      }
      case REQUEST_MARK:
        requestSeeds[ask.pick(presentCodes)]!++;
        break;
    }
    if (out.length > 0) yield* out.splice(0);
  }
  for (const p of [...pending.values()]) finish(p, END);
  yield* out.splice(0);
}
