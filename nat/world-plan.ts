/**
 * The simulated operator's address plan and resources (see world.ts): documentation ranges
 * for public space, 100.64.0.0/10 inside, the pools that hand addresses out, and the NAT
 * devices of each realm.
 */
import type { CanonicalRecordInput, SubscriberType } from '../src/records.js';
import { NatDeterministicRecord } from '../src/records.js';
import { addToKey, addressFromKey, keyToText, parseAddress, type Address } from '../src/address.js';
import { formatInstant } from '../src/time.js';
import { IparError } from '../src/problems.js';
import { deterministicLayout, type DeterministicLayout } from './deterministic.js';
import { PortBlockAllocator } from './portblock.js';
import { SessionNat } from './session.js';
import { ReuseHeap } from './quarantine.js';
import type { Segment, WorldConfig } from './world-types.js';

export const MIN = 60_000;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;

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

export interface Rhythm {
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
export const RHYTHM: Readonly<Record<Segment, Rhythm>> = { dhcp: FIXED, pd: FIXED, det: FIXED, pba: MOBILE, ses: MOBILE, wifi: VENUE };

/** A block is kept this long after the last activity of a spell (the CGN's idle timer). */
export const BLOCK_IDLE_MS = 5 * MIN;
/** Chance that a spell needs more ports than one block (mobile) / many (venue). */
export const BURST = { pba: 0.25, wifi: 0.6, det: 0.1 } as const;
/** Chance that a reconnecting subscriber is given a different address than last time. */
export const RENUMBER: Readonly<Record<Segment, number>> = { dhcp: 0, pd: 0.05, det: 0.15, pba: 1, ses: 1, wifi: 0.05 };
export const TYPES: Readonly<Record<Segment, readonly (readonly [SubscriberType, number])[]>> = {
  dhcp: [
    ['residential', 0.9],
    ['business', 1],
  ],
  pd: [
    ['residential', 0.85],
    ['business', 0.95],
    ['enterprise', 1],
  ],
  det: [
    ['residential', 0.95],
    ['business', 1],
  ],
  pba: [['mobile', 1]],
  ses: [['mobile', 1]],
  wifi: [['public-wifi', 1]],
};
export const MOBILE_SEGMENTS: ReadonlySet<Segment> = new Set(['pba', 'ses']);
/** Public-DHCP subscribers in a mixed operator (the documentation /24 has 254 hosts). */
export const DHCP_IN_MIX = 200;

export function address(text: string, prefix = false): Address {
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
export class AddressPool {
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

/** The pools and NAT devices of the segments present, and the far ends connections go to. */
export function buildResources(config: WorldConfig, counts: ReadonlyMap<Segment, number>, S: number) {
  const iso = formatInstant;
  const present = (seg: Segment): boolean => counts.get(seg)! > 0;
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
    ? new PortBlockAllocator({
        outside: outsideOf(PLAN.pba.outside),
        portFirst: 1024,
        portLast: 65535,
        blockSize: config.nat.blockSize,
        quarantineMs,
        maxBlocksPerSubscriber: config.nat.maxBlocksPerSubscriber,
      })
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
    const common = {
      kind: 'nat-deterministic',
      realm: PLAN.det.realm,
      insidePrefix,
      outsidePrefix: PLAN.det.outside,
      portFirst: 1024,
      portLast: 65535,
    } as const;
    detInput =
      algorithm === 'rfc7422'
        ? {
            ...common,
            algorithm,
            ratio: Math.ceil(size / outsideCount) + config.nat.dynamicShares,
            dynamicShares: config.nat.dynamicShares,
            start: iso(S),
            end: null,
          }
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

  return {
    quarantineMs,
    dhcpBase,
    dhcpPool,
    pdBase,
    pdPool,
    pbaPool,
    sesPool,
    wifiPool,
    pbaNat,
    wifiNat,
    sesNat,
    detRecord,
    detInput,
    detLayout,
    detPool,
    detDynamic,
    destinations4,
    destinations6,
  };
}

export type Resources = ReturnType<typeof buildResources>;
