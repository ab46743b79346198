/**
 * The naive baseline: what operators write by hand, measured beside the engine. It takes
 * the first IP/time pair at face value — the written instant, no tolerance, no precision
 * window, no other reading of the time — and lets the last record that started before
 * that instant win: the last NAT block or session on the address (holding the port, when
 * one is given; otherwise any), or the deterministic formula; then the last allocation
 * of the address (the inside address, behind NAT) before the same instant. It never
 * checks that a record had not already ended, never narrows to the sub-window in which
 * a translation held, ignores destinations and identifiers, and does not cross-correlate
 * the other observations. It raises no flags.
 */
import { DateTime } from 'luxon';
import { reverse } from '../../nat/deterministic.js';
import { parseAddress, prefixContains, type Address } from '../address.js';
import {
  CanonicalRecord,
  type AllocationRecord,
  type CanonicalRecordInput,
  type NatBlockRecord,
  type NatDeterministicRecord,
  type NatSessionRecord,
} from '../records.js';
import type { ObservationTime, RequestInput } from '../request.js';
import { parseInstant } from '../time.js';

/** The naive answer to a request: one account, or `null` when it found nothing. */
export type NaiveResolver = (request: RequestInput) => string | null;

/** The instant a time says at face value: the offset as written, a zone's first reading, a range's start. */
function faceValue(time: ObservationTime): number | null {
  const instant = (text: string) => {
    const r = parseInstant(text);
    return r.ok ? r.value.ms : null;
  };
  const zoned = (local: string, zone: string) => {
    const dt = DateTime.fromISO(local, { zone });
    return dt.isValid ? dt.toMillis() : null;
  };
  if (typeof time === 'string') return instant(time);
  if ('local' in time) return zoned(time.local, time.timeZone);
  return time.timeZone === undefined ? instant(time.from) : zoned(time.from, time.timeZone);
}

/** The record that started last at or before `t` (the later line on a tie). */
function lastBefore<R extends { readonly start: number }>(records: readonly R[], t: number, keep: (r: R) => boolean): R | null {
  let best: R | null = null;
  for (const r of records) if (r.start <= t && keep(r) && (best === null || r.start >= best.start)) best = r;
  return best;
}

/**
 * The naive baseline over an operator's records.
 *
 * @example
 * const naive = naiveBaseline(world.records);
 * naive({ ref: 'R', observations: [{ sourceIp: '203.0.113.7', sourcePort: 1300, time: '2026-03-28T10:00:00Z' }] }); // 'ACC-000006'
 */
export function naiveBaseline(records: Iterable<CanonicalRecordInput>): NaiveResolver {
  const allocations: AllocationRecord[] = [];
  const nat: (NatBlockRecord | NatSessionRecord)[] = [];
  const deterministic: NatDeterministicRecord[] = [];
  for (const input of records) {
    const r = CanonicalRecord.parse(input);
    if (r.kind === 'allocation') allocations.push(r);
    else if (r.kind === 'nat-block' || r.kind === 'nat-session') nat.push(r);
    else if (r.kind === 'nat-deterministic') deterministic.push(r);
  }
  const holds = (prefix: Address, a: Address) => a.length >= prefix.length && prefixContains(prefix.key, prefix.length, a.key);

  return (request) => {
    const o = request.observations[0];
    if (o === undefined) return null;
    const parsed = parseAddress(o.sourceIp);
    const t = faceValue(o.time);
    if (!parsed.ok || t === null) return null;
    const ip = parsed.value;
    const port = o.sourcePort;
    const behindNat = nat.some((r) => r.outsideIp.key.equals(ip.key)) || deterministic.some((d) => holds(d.outsidePrefix, ip));
    if (!behindNat) return lastBefore(allocations, t, (a) => a.realm === undefined && holds(a.ip, ip))?.account ?? null;

    let inside: { realm: string; ip: Address } | null = null;
    const translation = lastBefore(nat, t, (r) => {
      if (!r.outsideIp.key.equals(ip.key)) return false;
      if (port === undefined) return true;
      return r.kind === 'nat-block' ? r.portFirst <= port && port <= r.portLast : r.outsidePort === port;
    });
    if (translation !== null) inside = { realm: translation.realm, ip: translation.insideIp };
    else if (port !== undefined) {
      const d = lastBefore(deterministic, t, (x) => holds(x.outsidePrefix, ip));
      const r = d === null ? null : reverse(d, ip, port);
      if (d !== null && r !== null && r.ok) inside = { realm: d.realm, ip: r.value.insideAddress };
    }
    if (inside === null) return null;
    const { realm, ip: insideIp } = inside;
    return lastBefore(allocations, t, (a) => a.realm === realm && holds(a.ip, insideIp))?.account ?? null;
  };
}
