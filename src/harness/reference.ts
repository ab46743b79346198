/**
 * The brute-force reference for the exactness law: DESIGN.md's matching rules as plain
 * loops over an operator's raw records, with none of the matcher's machinery (no store,
 * no batching, no indexes). Deterministic NAT is inverted the simple way, by mapping
 * every inside address of the prefix forward and keeping those that land on the
 * observed address and port.
 *
 * Times must be ISO instants or `{from, to}` ranges of instants; wall-clock times in a
 * zone are not modelled here (the offset-equivalence law covers how times are read).
 */
import { deterministicLayout, forward } from '../../nat/deterministic.js';
import { addressFromKey, addToKey, prefixContains, type Address } from '../address.js';
import { IparError } from '../problems.js';
import {
  CanonicalRecord,
  type AddressSpaceRecord,
  type AllocationRecord,
  type CanonicalRecordInput,
  type NatBlockRecord,
  type NatDeterministicRecord,
  type NatSessionRecord,
} from '../records.js';
import { IDENTIFIER_KINDS, Request, type Identifiers, type RequestInput } from '../request.js';
import { PRECISION_MS, intersect, parseInstant, type Window } from '../time.js';

/** Largest deterministic inside prefix the reference enumerates (it maps every address forward). */
export const REFERENCE_MAX_INSIDE_HOSTS = 1 << 16;

export interface Reference {
  /** Accounts that fit every observation, sorted: what `candidates` should hold. */
  candidates(request: RequestInput): string[];
  /** Accounts that fit each observation on its own, sorted. */
  perObservation(request: RequestInput): string[][];
}

type Parsed = Request['observations'][number];

const contains = (prefix: Address, a: Address): boolean => a.length >= prefix.length && prefixContains(prefix.key, prefix.length, a.key);
const same = (a: Address | undefined, b: Address): boolean => a !== undefined && a.key.equals(b.key);

function windowOf(o: Parsed, toleranceMs: number, field: string): Window {
  const read = (text: string): { ms: number; p: number } => {
    const r = parseInstant(text);
    if (!r.ok) throw new IparError('REFERENCE_UNSUPPORTED', `${field}: ${r.message}`);
    return { ms: r.value.ms, p: PRECISION_MS[r.value.precision] };
  };
  if (typeof o.time === 'string') {
    const t = read(o.time);
    return { start: t.ms - toleranceMs, end: t.ms + t.p + toleranceMs };
  }
  if ('local' in o.time || o.time.timeZone !== undefined)
    throw new IparError('REFERENCE_UNSUPPORTED', `${field}: the reference reads ISO instants and ranges of instants only`);
  return { start: read(o.time.from).ms - toleranceMs, end: read(o.time.to).ms + toleranceMs };
}

/**
 * Build the reference over an operator's records.
 *
 * @example
 * const ref = reference(world.records);
 * ref.candidates({ ref: 'R', observations: [{ sourceIp: '198.51.100.7', time: '2026-03-28T10:00:00Z' }] }); // ['ACC-000007']
 */
export function reference(records: Iterable<CanonicalRecordInput>): Reference {
  const spaces: AddressSpaceRecord[] = [];
  const allocations: AllocationRecord[] = [];
  const blocks: NatBlockRecord[] = [];
  const sessions: NatSessionRecord[] = [];
  const deterministic: NatDeterministicRecord[] = [];
  for (const input of records) {
    const r = CanonicalRecord.parse(input);
    if (r.kind === 'address-space') spaces.push(r);
    else if (r.kind === 'allocation') allocations.push(r);
    else if (r.kind === 'nat-block') blocks.push(r);
    else if (r.kind === 'nat-session') sessions.push(r);
    else if (r.kind === 'nat-deterministic') deterministic.push(r);
  }

  /** The role of the most specific declared prefix holding the address. */
  const roleOf = (a: Address): string => {
    let best: AddressSpaceRecord | null = null;
    for (const s of spaces) if (contains(s.prefix, a) && (best === null || s.prefix.length > best.prefix.length)) best = s;
    return best === null ? 'not-operator' : best.role;
  };

  const accountsOf = (o: Parsed, window: Window, ids: Identifiers, out: Set<string>): void => {
    const holders = (address: Address, realm: string | undefined, w: Window): void => {
      for (const a of allocations) {
        if (a.realm !== realm || !contains(a.ip, address) || intersect(a, w) === null) continue;
        if (IDENTIFIER_KINDS.some((k) => ids[k] !== undefined && a[k] !== undefined && ids[k] !== a[k])) continue;
        out.add(a.account);
      }
    };
    const ip = o.sourceIp;
    const port = o.sourcePort;
    const role = roleOf(ip);
    if (role === 'server' || role === 'infrastructure') return;
    if (role === 'dynamic' || role === 'static' || role === 'not-operator') holders(ip, undefined, window);
    if (role !== 'cgnat-outside' && role !== 'not-operator') return;
    for (const b of blocks) {
      if (!same(b.outsideIp, ip) || (port !== undefined && (port < b.portFirst || port > b.portLast))) continue;
      if (o.protocol !== undefined && b.protocol !== undefined && o.protocol !== b.protocol) continue;
      const sub = intersect(b, window);
      if (sub !== null) holders(b.insideIp, b.realm, sub);
    }
    for (const s of sessions) {
      if (!same(s.outsideIp, ip) || (port !== undefined && port !== s.outsidePort)) continue;
      if (o.destinationIp !== undefined && s.destinationIp !== undefined && !s.destinationIp.key.equals(o.destinationIp.key)) continue;
      if (o.destinationPort !== undefined && s.destinationPort !== undefined && s.destinationPort !== o.destinationPort) continue;
      if (o.protocol !== undefined && o.protocol !== s.protocol) continue;
      const sub = intersect(s, window);
      if (sub !== null) holders(s.insideIp, s.realm, sub);
    }
    for (const d of deterministic) {
      const sub = intersect(d, window);
      if (sub === null || !contains(d.outsidePrefix, ip) || !deterministicLayout(d).ok) continue;
      const size = 2 ** (128 - d.insidePrefix.length);
      if (size > REFERENCE_MAX_INSIDE_HOSTS)
        throw new IparError(
          'REFERENCE_TOO_LARGE',
          `the reference maps ${d.insidePrefix.text} address by address; more than ${REFERENCE_MAX_INSIDE_HOSTS} is too many`,
        );
      for (let i = 0; i < size; i++) {
        const inside = addressFromKey(addToKey(d.insidePrefix.key, BigInt(i)));
        const f = forward(d, inside);
        if (!f.ok || !f.value.outsideAddress.key.equals(ip.key)) continue;
        if (port !== undefined && (port < f.value.portFirst || port > f.value.portLast)) continue;
        holders(inside, d.realm, sub);
      }
    }
  };

  const perObservation = (input: RequestInput): string[][] => {
    const request = Request.parse(input);
    const toleranceMs = Math.round(request.toleranceSeconds * 1000);
    return request.observations.map((o, i) => {
      const out = new Set<string>();
      accountsOf(o, windowOf(o, toleranceMs, `observations.${i}.time`), request.identifiers ?? {}, out);
      return [...out].sort();
    });
  };

  return {
    perObservation,
    candidates(input) {
      const sets = perObservation(input);
      return sets[0]!.filter((a) => sets.every((s) => s.includes(a)));
    },
  };
}
