/**
 * Deterministic NAT (the RFC 7422 family), forward and reverse. A deterministic CGN
 * logs nothing per subscriber: the inside address alone decides the outside address
 * and port range, so the reverse mapping answers "who held this outside address and
 * port" from configuration. Each named algorithm is reduced to one {@link DeterministicLayout}
 * (where the mapped inside addresses start, how many shares an outside address holds,
 * how big a share is); forward and reverse are then the same arithmetic for all of
 * them, and every way a port can belong to nobody is reported as data.
 *
 * Mapping order. All three algorithms here fill the outside addresses consecutively:
 * inside offset `i` lands on outside address `floor(i / S)`, share `i mod S`, where `S`
 * is the number of subscriber shares per outside address.
 * - `vpp-det44`: this is VPP's code (FDio/vpp `src/plugins/nat/det44/det44.h`,
 *   `snat_det_forward`: `out_offset = in_offset / sharing_ratio`,
 *   `lo_port = 1024 + ports_per_host * (in_offset % sharing_ratio)`; `det44.c`:
 *   `sharing_ratio = 2^(32-in_plen) / 2^(32-out_plen)`,
 *   `ports_per_host = (65535 - 1023) / sharing_ratio`). VPP's `snat_det_reverse` does no
 *   bounds check, so a port in the leftover range above the last share names a host of
 *   the next group; {@link reverse} reports `unassigned` instead.
 * - `juniper-deterministic`: Juniper's published algorithm (Junos "Understanding
 *   Deterministic NAPT Algorithm"): `Block_Size = int(64512 / ceil(Nr_Addr_PR / Nr_Addr_PU))`
 *   when not configured, `PR_Port_Offset = Pr_Offset * Block_Size`,
 *   `Pu_Prefix = Base_PU + int(PR_Port_Offset / 64512)`, ports from 1024; network and
 *   broadcast of the inside range are not translated unless `include-boundary-addresses`.
 *   Where the block size does not divide the port span, Juniper's formula would let a
 *   block straddle two outside addresses; here a block never straddles (blocks per
 *   address = floor(span / block)) and the leftover top ports are `unassigned`. When the
 *   block size divides the span (the usual case) the two agree.
 * - `rfc7422`: RFC 7422 §2 describes an inside range, an outside range, a compression
 *   ratio, reserved ports and a dynamic pool factor, and leaves the assignment order to
 *   the implementation. The stored copies of the RFC available while writing this gave
 *   only its front matter, so the text of §2's example could not be checked. The
 *   implementations found that cite it (VPP det44; TheRouter's "Deterministic SNAT44
 *   according with rfc7422", whose documented example maps 10.11.1.10 to the first
 *   outside address, ports 21184–23199 = 1024 + 10·2016; Jool, "sequential algorithm
 *   only") are consecutive, so this is consecutive too. An operator whose CGN assigns
 *   inside addresses round-robin across outside addresses needs another algorithm name:
 *   the record has no field to say so, and guessing would silently name the wrong
 *   subscriber.
 *
 * Port ranges. The algorithms are written for 1024–65535 (64512 ports); here the span is
 * the record's `portFirst`–`portLast`, which gives the vendors' figures for the usual
 * record and generalises to operators that reserve more.
 */
import type { NatDeterministicRecord } from '../src/records.js';
import { addToKey, addressFromKey, addressFromV4, isV4Key, keyOffset, prefixContains, type Address } from '../src/address.js';

export type DeterministicAlgorithm = NatDeterministicRecord['algorithm'];

/** The algorithms this module implements, in the order the schema lists them. */
export const DETERMINISTIC_ALGORITHMS: readonly DeterministicAlgorithm[] = Object.freeze(['rfc7422', 'vpp-det44', 'juniper-deterministic']);

/**
 * A deterministic configuration reduced to arithmetic. Mapped inside address number
 * `i` (counted from {@link insideFirst}) holds share `i mod sharesPerAddress` of outside
 * address `floor(i / sharesPerAddress)`.
 */
export interface DeterministicLayout {
  readonly algorithm: DeterministicAlgorithm;
  /** Key of the first inside address that is mapped. */
  readonly insideFirst: Buffer;
  /** How many inside addresses, from {@link insideFirst}, are mapped. */
  readonly insideCount: bigint;
  /** Key of the first outside address. */
  readonly outsideFirst: Buffer;
  readonly outsideCount: bigint;
  /** First port of share 0. */
  readonly portFirst: number;
  /** Last port the record declares usable. */
  readonly portLast: number;
  /** Ports in one share (block). */
  readonly shareSize: number;
  /** Shares per outside address that belong to inside addresses. */
  readonly sharesPerAddress: number;
  /** All shares per outside address, including RFC 7422 dynamic ones (at the top). */
  readonly totalShares: number;
}

export type LayoutReason = 'unusable-config';

export type LayoutOutcome =
  { readonly ok: true; readonly value: DeterministicLayout } | { readonly ok: false; readonly reason: LayoutReason; readonly message: string };

/** Why an inside address has no outside address and ports. */
export type ForwardReason = 'outside-prefix' | 'boundary-address' | 'no-share' | LayoutReason;

/** Why an outside address and port resolve to no inside address. */
export type ReverseReason = 'outside-prefix' | 'reserved-port' | 'dynamic-share' | 'unassigned' | LayoutReason;

export interface ForwardMapping {
  readonly outsideAddress: Address;
  readonly portFirst: number;
  readonly portLast: number;
}

export interface ReverseMapping {
  readonly insideAddress: Address;
  /** The whole port range that inside address holds on this outside address. */
  readonly portFirst: number;
  readonly portLast: number;
}

export type ForwardOutcome =
  { readonly ok: true; readonly value: ForwardMapping } | { readonly ok: false; readonly reason: ForwardReason; readonly message: string };

export type ReverseOutcome =
  { readonly ok: true; readonly value: ReverseMapping } | { readonly ok: false; readonly reason: ReverseReason; readonly message: string };

function prefixSize(prefix: Address): bigint {
  return 1n << BigInt(128 - prefix.length);
}

function unusable(record: NatDeterministicRecord, why: string): LayoutOutcome {
  return { ok: false, reason: 'unusable-config', message: `${record.algorithm} ${record.insidePrefix.text} → ${record.outsidePrefix.text}: ${why}` };
}

type LayoutRule = (record: NatDeterministicRecord, span: number, insideSize: bigint, outsideSize: bigint) => LayoutOutcome;

function layout(
  record: NatDeterministicRecord,
  insideFirst: Buffer,
  insideCount: bigint,
  shareSize: number,
  sharesPerAddress: number,
  totalShares: number,
): LayoutOutcome {
  return {
    ok: true,
    value: Object.freeze({
      algorithm: record.algorithm,
      insideFirst,
      insideCount,
      outsideFirst: record.outsidePrefix.key,
      outsideCount: prefixSize(record.outsidePrefix),
      portFirst: record.portFirst,
      portLast: record.portLast,
      shareSize,
      sharesPerAddress,
      totalShares,
    }),
  };
}

/** The named algorithms, each as the rule that lays its record out. */
const RULES: Readonly<Record<DeterministicAlgorithm, LayoutRule>> = {
  rfc7422(record, span) {
    if (record.algorithm !== 'rfc7422') throw new TypeError('rfc7422 rule given ' + record.algorithm);
    const shareSize = Math.floor(span / record.ratio);
    if (shareSize < 1) return unusable(record, `${span} ports cannot be shared ${record.ratio} ways`);
    return layout(record, record.insidePrefix.key, prefixSize(record.insidePrefix), shareSize, record.ratio - record.dynamicShares, record.ratio);
  },
  'vpp-det44'(record, span, insideSize, outsideSize) {
    if (insideSize < outsideSize) return unusable(record, 'the inside prefix is smaller than the outside prefix (sharing ratio 0)');
    const ratio = insideSize / outsideSize;
    const shareSize = Math.floor(span / Number(ratio));
    if (shareSize < 1) return unusable(record, `sharing ratio ${ratio} leaves no port per host in ${span}`);
    const shares = Number(ratio);
    return layout(record, record.insidePrefix.key, insideSize, shareSize, shares, shares);
  },
  'juniper-deterministic'(record, span, insideSize, outsideSize) {
    if (record.algorithm !== 'juniper-deterministic') throw new TypeError('juniper rule given ' + record.algorithm);
    // Network and broadcast exist only for IPv4 ranges of /30 and wider.
    const skip = !record.includeBoundaryAddresses && record.insidePrefix.family === 4 && record.insidePrefix.length <= 126;
    const usable = skip ? insideSize - 2n : insideSize;
    const perAddress = (usable + outsideSize - 1n) / outsideSize;
    const blockSize = record.blockSize ?? Math.floor(span / Number(perAddress));
    if (blockSize < 1 || blockSize > span) return unusable(record, `block size ${blockSize} does not fit ${span} ports`);
    const shares = Math.floor(span / blockSize);
    return layout(record, skip ? addToKey(record.insidePrefix.key, 1n) : record.insidePrefix.key, usable, blockSize, shares, shares);
  },
};

/**
 * Reduce a deterministic NAT record to its layout, or say why it maps nothing.
 *
 * @example
 * deterministicLayout(record); // { ok: true, value: { shareSize: 63, sharesPerAddress: 1024, … } }
 */
export function deterministicLayout(record: NatDeterministicRecord): LayoutOutcome {
  const span = record.portLast - record.portFirst + 1;
  return RULES[record.algorithm](record, span, prefixSize(record.insidePrefix), prefixSize(record.outsidePrefix));
}

const layouts = new WeakMap<NatDeterministicRecord, LayoutOutcome>();

function layoutOf(record: NatDeterministicRecord): LayoutOutcome {
  let hit = layouts.get(record);
  if (hit === undefined) {
    hit = deterministicLayout(record);
    layouts.set(record, hit);
  }
  return hit;
}

/**
 * The outside address and port range a deterministic NAT gives an inside address.
 *
 * @example
 * // 198.18.0.0/15 → 203.0.113.128/25, vpp-det44: ratio 1024, 63 ports per host
 * forward(record, parse('198.18.8.63'));
 * // { ok: true, value: { outsideAddress: 203.0.113.130, portFirst: 4993, portLast: 5055 } }
 */
export function forward(record: NatDeterministicRecord, insideAddress: Address): ForwardOutcome {
  const l = layoutOf(record);
  if (!l.ok) return l;
  const lay = l.value;
  const inside = record.insidePrefix;
  if (!prefixContains(inside.key, inside.length, insideAddress.key)) {
    return { ok: false, reason: 'outside-prefix', message: `${insideAddress.text} is not in the inside prefix ${inside.text}` };
  }
  const i = keyOffset(lay.insideFirst, insideAddress.key);
  if (i < 0n || i >= lay.insideCount) {
    return {
      ok: false,
      reason: 'boundary-address',
      message: `${insideAddress.text} is the network or broadcast address of ${inside.text}, which ${record.algorithm} does not translate`,
    };
  }
  const perAddress = BigInt(lay.sharesPerAddress);
  const addressIndex = i / perAddress;
  if (addressIndex >= lay.outsideCount) {
    return {
      ok: false,
      reason: 'no-share',
      message: `${insideAddress.text} is inside address ${i} but ${record.outsidePrefix.text} holds only ${lay.outsideCount * perAddress} shares`,
    };
  }
  const share = Number(i % perAddress);
  const portFirst = lay.portFirst + share * lay.shareSize;
  return { ok: true, value: { outsideAddress: addressFromKey(addToKey(lay.outsideFirst, addressIndex)), portFirst, portLast: portFirst + lay.shareSize - 1 } };
}

/**
 * The inside address that held an outside address and port, or why none did:
 * `reserved-port` (below `portFirst` or above `portLast`), `dynamic-share` (an RFC 7422
 * dynamic share: only the NAT's logs can say who held it), `unassigned` (ports past the
 * last whole share, or shares whose inside address would lie past the inside prefix),
 * `outside-prefix`.
 *
 * @example
 * reverse(record, parse('203.0.113.130'), 5000);
 * // { ok: true, value: { insideAddress: 198.18.8.63, portFirst: 4993, portLast: 5055 } }
 */
export function reverse(record: NatDeterministicRecord, outsideAddress: Address, port: number): ReverseOutcome {
  const l = layoutOf(record);
  if (!l.ok) return l;
  const lay = l.value;
  const outside = record.outsidePrefix;
  const v4 = v4LayoutOf(record, lay);
  // IPv4 on both sides: the same arithmetic on 32-bit numbers (no BigInt, no key copies).
  const outsideV4 = v4 !== null && isV4Key(outsideAddress.key) ? outsideAddress.key.readUInt32BE(12) : null;
  if (outsideV4 !== null ? (outsideV4 & v4!.outsideMask) >>> 0 !== v4!.outsideFirst : !prefixContains(outside.key, outside.length, outsideAddress.key)) {
    return { ok: false, reason: 'outside-prefix', message: `${outsideAddress.text} is not in the outside prefix ${outside.text}` };
  }
  if (port < lay.portFirst || port > lay.portLast) {
    return { ok: false, reason: 'reserved-port', message: `port ${port} is outside the translated range ${lay.portFirst}–${lay.portLast}` };
  }
  const share = Math.floor((port - lay.portFirst) / lay.shareSize);
  const shareFirst = lay.portFirst + share * lay.shareSize;
  if (share >= lay.totalShares) {
    return {
      ok: false,
      reason: 'unassigned',
      message: `port ${port} is past the last whole share (${lay.totalShares} × ${lay.shareSize} ports from ${lay.portFirst}): no inside address holds it`,
    };
  }
  if (share >= lay.sharesPerAddress) {
    return {
      ok: false,
      reason: 'dynamic-share',
      message: `port ${port} is in dynamic share ${share - lay.sharesPerAddress + 1} (${shareFirst}–${shareFirst + lay.shareSize - 1}): only the NAT's logs say who held it`,
    };
  }
  if (outsideV4 !== null) {
    const n = (outsideV4 - v4!.outsideFirst) * lay.sharesPerAddress + share;
    if (n >= v4!.insideCount) return unassignedInside(record, outsideAddress, port, n, lay);
    return { ok: true, value: { insideAddress: addressFromV4(v4!.insideFirst + n), portFirst: shareFirst, portLast: shareFirst + lay.shareSize - 1 } };
  }
  const i = keyOffset(outside.key, outsideAddress.key) * BigInt(lay.sharesPerAddress) + BigInt(share);
  if (i >= lay.insideCount) return unassignedInside(record, outsideAddress, port, i, lay);
  return { ok: true, value: { insideAddress: addressFromKey(addToKey(lay.insideFirst, i)), portFirst: shareFirst, portLast: shareFirst + lay.shareSize - 1 } };
}

function unassignedInside(record: NatDeterministicRecord, outsideAddress: Address, port: number, i: number | bigint, lay: DeterministicLayout): ReverseOutcome {
  return {
    ok: false,
    reason: 'unassigned',
    message: `${outsideAddress.text} port ${port} would map to inside address ${i}, past the ${lay.insideCount} in ${record.insidePrefix.text}`,
  };
}

/** An all-IPv4 layout as 32-bit numbers: outside prefix (first address and mask), first mapped inside address, mapped count. */
interface V4Layout {
  readonly outsideFirst: number;
  readonly outsideMask: number;
  readonly insideFirst: number;
  readonly insideCount: number;
}

const v4Layouts = new WeakMap<NatDeterministicRecord, V4Layout | null>();

function v4LayoutOf(record: NatDeterministicRecord, lay: DeterministicLayout): V4Layout | null {
  let hit = v4Layouts.get(record);
  if (hit === undefined) {
    const outside = record.outsidePrefix;
    const bits = outside.length - 96;
    hit =
      isV4Key(outside.key) && isV4Key(lay.insideFirst) && outside.length >= 96 && lay.insideCount <= 2n ** 32n - BigInt(lay.insideFirst.readUInt32BE(12))
        ? {
            outsideFirst: outside.key.readUInt32BE(12),
            outsideMask: bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0,
            insideFirst: lay.insideFirst.readUInt32BE(12),
            insideCount: Number(lay.insideCount),
          }
        : null;
    v4Layouts.set(record, hit);
  }
  return hit;
}
