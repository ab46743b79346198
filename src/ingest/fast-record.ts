/**
 * Validation compiled once (issue #8): hand-written checks for the shapes that make up
 * nearly every line of a bulk export (allocation, nat-block and nat-session records),
 * building exactly the value `CanonicalRecord.safeParse` would build, without zod's
 * per-call machinery. It only ever says "this is the record" or "ask zod": any other
 * kind, any field it is not sure of (a value of the wrong type, a name that is long in
 * UTF-16 units, an unusual instant form it leaves to the full parser) goes to zod, so
 * zod stays the one source of the type and of every error message.
 *
 * The law, "accepted here ⇒ zod accepts it with a deep-equal value", is a property test
 * (test/ingest/fast-record.test.ts); change a schema in records.ts and that test says
 * what to change here.
 */
import { addressFromV4, parseAddress, type Address } from '../address.js';
import {
  IMEI_PATTERN,
  IMSI_PATTERN,
  MAC_PATTERN,
  MSISDN_PATTERN,
  NAME_MAX,
  NOT_UTF8,
  NAME_MIN,
  PROTOCOLS,
  REALM_PATTERN,
  normaliseMac,
  normaliseMsisdn,
  type AllocationRecord,
  type NatBlockRecord,
  type NatSessionRecord,
  type Protocol,
} from '../records.js';
import { parseInstant } from '../time.js';

type Fields = Readonly<Record<string, unknown>>;

/** The kinds the fast path builds: the ones bulk exports are made of. */
export type FastRecord = AllocationRecord | NatBlockRecord | NatSessionRecord;

/**
 * The record zod would make of `raw`, or `undefined` when this fast path does not
 * vouch for it (then ask `CanonicalRecord.safeParse`, which also explains what is wrong).
 *
 * @example
 * const record = fastCanonicalRecord(JSON.parse(line)) ?? CanonicalRecord.safeParse(JSON.parse(line));
 */
export function fastCanonicalRecord(raw: unknown): FastRecord | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const o = raw as Fields;
  switch (o['kind']) {
    case 'allocation':
      return allocation(o);
    case 'nat-block':
      return natBlock(o);
    case 'nat-session':
      return natSession(o);
    default:
      return undefined;
  }
}

/** Enumerable keys, own and inherited, as zod's strict objects count them. */
function keyCount(o: Fields): number {
  let n = 0;
  for (const _ in o) n++;
  return n;
}

/** A name within bounds counted in UTF-16 units: at most 128 units is at most 128 code points. */
function isName(v: unknown): v is string {
  return typeof v === 'string' && v.length >= NAME_MIN && v.length <= NAME_MAX;
}

function isPort(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 65535;
}

function isProtocol(v: unknown): v is Protocol {
  return typeof v === 'string' && (PROTOCOLS as readonly string[]).includes(v);
}

// parseAddress memoises under a key built per call ('a' + text), which costs more than the
// lookup; addresses repeat heavily in an export, so the parsed ones are kept here by text.
const MEMO_LIMIT = 100_000;
const memo = { address: new Map<string, Address>(), prefix: new Map<string, Address>() };

/**
 * The 32-bit number of a dotted quad written canonically (four decimal numbers to 255, no
 * leading zeros: the text `parseAddress` would give back), or -1 for any other text.
 */
function canonicalV4(v: string): number {
  const n = v.length;
  if (n < 7 || n > 15) return -1;
  let value = 0;
  let part = 0;
  let digits = 0;
  let parts = 0;
  for (let i = 0; i <= n; i++) {
    const c = i === n ? 46 : v.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || part > 255) return -1;
      value = value * 256 + part;
      parts++;
      part = 0;
      digits = 0;
    } else {
      const d = c - 48;
      if (d < 0 || d > 9 || (digits === 1 && part === 0)) return -1;
      part = part * 10 + d;
      digits++;
    }
  }
  return parts === 4 ? value : -1;
}

function address(v: unknown, allowPrefix: boolean): Address | undefined {
  if (typeof v !== 'string') return undefined;
  // Most addresses of a NAT or lease export are IPv4 hosts: the shared Address of the
  // number, without ip-num (microseconds for an address not met yet, and a per-session
  // NAT log meets hundreds of thousands of inside hosts: more than the memo below holds).
  const v4 = canonicalV4(v);
  if (v4 >= 0) return addressFromV4(v4);
  const known = allowPrefix ? memo.prefix : memo.address;
  const hit = known.get(v);
  if (hit !== undefined) return hit;
  const r = parseAddress(v, allowPrefix);
  if (!r.ok) return undefined;
  if (known.size >= MEMO_LIMIT) known.clear();
  known.set(v, r.value);
  return r.value;
}

/** Two or four decimal digits at `at`, or -1. */
function digits(text: string, at: number, count: 2 | 4): number {
  let n = 0;
  for (let i = at; i < at + count; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/**
 * Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's `days_from_civil`),
 * what `Date.UTC` computes for years from 100 on, in a third of its time.
 */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  return era * 146_097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719_468;
}

/**
 * Epoch ms of `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, the form exporters write, read
 * as `parseInstant` reads it (fraction truncated to ms, offset subtracted). Days past the
 * 28th, years before 100 (which `Date.UTC` reads as 19xx) and every other form go to
 * `parseInstant` itself, which knows the calendar.
 */
function instant(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  const n = v.length;
  if (n >= 20 && n <= 35 && v.charCodeAt(4) === 45 && v.charCodeAt(7) === 45 && v.charCodeAt(10) === 84 && v.charCodeAt(13) === 58 && v.charCodeAt(16) === 58) {
    const year = digits(v, 0, 4),
      month = digits(v, 5, 2),
      day = digits(v, 8, 2);
    const hour = digits(v, 11, 2),
      minute = digits(v, 14, 2),
      second = digits(v, 17, 2);
    let at = 19;
    let millis = 0;
    if (v.charCodeAt(at) === 46) {
      const from = ++at;
      while (at < n && at - from < 9 && v.charCodeAt(at) >= 48 && v.charCodeAt(at) <= 57) at++;
      const count = at - from;
      if (count > 0)
        millis = (v.charCodeAt(from) - 48) * 100 + (count > 1 ? (v.charCodeAt(from + 1) - 48) * 10 : 0) + (count > 2 ? v.charCodeAt(from + 2) - 48 : 0);
      else at = -1;
    }
    let offsetMinutes = -1;
    const zone = v.charCodeAt(at);
    if (at > 0 && zone === 90 && at + 1 === n) offsetMinutes = 0;
    else if (at > 0 && (zone === 43 || zone === 45) && at + 6 === n && v.charCodeAt(at + 3) === 58) {
      const oh = digits(v, at + 1, 2),
        om = digits(v, at + 4, 2);
      if (oh >= 0 && oh <= 18 && om >= 0 && om <= 59) offsetMinutes = (zone === 45 ? -1 : 1) * (oh * 60 + om);
    }
    if (
      offsetMinutes !== -1 &&
      year >= 100 &&
      month >= 1 &&
      month <= 12 &&
      day >= 1 &&
      day <= 28 &&
      hour >= 0 &&
      hour <= 23 &&
      minute >= 0 &&
      minute <= 59 &&
      second >= 0 &&
      second <= 59
    ) {
      return daysFromCivil(year, month, day) * 86_400_000 + hour * 3_600_000 + minute * 60_000 + second * 1000 + millis - offsetMinutes * 60_000;
    }
  }
  const r = parseInstant(v);
  return r.ok ? r.value.ms : undefined;
}

/** `start` and a nullable `end` not before it, as the interval schemas check them. */
function interval(o: Fields): { start: number; end: number | null } | undefined {
  const start = instant(o['start']);
  if (start === undefined) return undefined;
  const endText = o['end'];
  if (endText === null) return { start, end: null };
  const end = instant(endText);
  return end === undefined || end < start ? undefined : { start, end };
}

/** `aa:bb:cc:dd:ee:ff` already, which normalising leaves as it is. */
function isCanonicalMac(v: string): boolean {
  if (v.length !== 17) return false;
  for (let i = 0; i < 17; i++) {
    const c = v.charCodeAt(i);
    if (i % 3 === 2 ? c !== 58 : !((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

function allocation(o: Fields): AllocationRecord | undefined {
  const account = o['account'],
    source = o['source'];
  // An account with bytes that were not UTF-8 goes to the schema, which refuses it (ACCOUNT_NOT_UTF8).
  if (!isName(account) || !isName(source) || account.includes(NOT_UTF8)) return undefined;
  const ip = address(o['ip'], true);
  const times = ip === undefined ? undefined : interval(o);
  if (ip === undefined || times === undefined) return undefined;
  const r: AllocationRecord = { kind: 'allocation', account, ip, start: times.start, end: times.end, source };
  let fields = 6;
  const { realm, imsi, msisdn, imei, mac, sessionId, endInferred } = o;
  if (realm !== undefined) {
    if (typeof realm !== 'string' || !REALM_PATTERN.test(realm)) return undefined;
    r.realm = realm;
    fields++;
  }
  if (imsi !== undefined) {
    if (typeof imsi !== 'string' || !IMSI_PATTERN.test(imsi)) return undefined;
    r.imsi = imsi;
    fields++;
  }
  if (msisdn !== undefined) {
    if (typeof msisdn !== 'string' || !MSISDN_PATTERN.test(msisdn)) return undefined;
    r.msisdn = normaliseMsisdn(msisdn);
    fields++;
  }
  if (imei !== undefined) {
    if (typeof imei !== 'string' || !IMEI_PATTERN.test(imei)) return undefined;
    r.imei = imei;
    fields++;
  }
  if (mac !== undefined) {
    if (typeof mac !== 'string') return undefined;
    if (isCanonicalMac(mac)) r.mac = mac;
    else if (MAC_PATTERN.test(mac)) r.mac = normaliseMac(mac);
    else return undefined;
    fields++;
  }
  if (sessionId !== undefined) {
    if (!isName(sessionId)) return undefined;
    r.sessionId = sessionId;
    fields++;
  }
  if (endInferred !== undefined) {
    if (typeof endInferred !== 'boolean') return undefined;
    r.endInferred = endInferred;
    fields++;
  }
  return keyCount(o) === fields ? r : undefined;
}

function natBlock(o: Fields): NatBlockRecord | undefined {
  const { realm, portFirst, portLast, protocol, endInferred } = o;
  if (typeof realm !== 'string' || !REALM_PATTERN.test(realm) || !isPort(portFirst) || !isPort(portLast) || portFirst > portLast) return undefined;
  const insideIp = address(o['insideIp'], false);
  const outsideIp = address(o['outsideIp'], false);
  const times = insideIp === undefined || outsideIp === undefined ? undefined : interval(o);
  if (insideIp === undefined || outsideIp === undefined || times === undefined) return undefined;
  let fields = 8;
  // Keys in the schema's order, as zod builds them.
  let r: NatBlockRecord;
  if (protocol === undefined) r = { kind: 'nat-block', realm, insideIp, outsideIp, portFirst, portLast, start: times.start, end: times.end };
  else if (isProtocol(protocol)) {
    r = { kind: 'nat-block', realm, insideIp, outsideIp, portFirst, portLast, protocol, start: times.start, end: times.end };
    fields++;
  } else return undefined;
  if (endInferred !== undefined) {
    if (typeof endInferred !== 'boolean') return undefined;
    r.endInferred = endInferred;
    fields++;
  }
  return keyCount(o) === fields ? r : undefined;
}

function natSession(o: Fields): NatSessionRecord | undefined {
  const { realm, insidePort, outsidePort, destinationIp: dstText, destinationPort, protocol, endInferred } = o;
  if (typeof realm !== 'string' || !REALM_PATTERN.test(realm) || !isPort(insidePort) || !isPort(outsidePort) || !isProtocol(protocol)) return undefined;
  const insideIp = address(o['insideIp'], false);
  const outsideIp = address(o['outsideIp'], false);
  const times = insideIp === undefined || outsideIp === undefined ? undefined : interval(o);
  if (insideIp === undefined || outsideIp === undefined || times === undefined) return undefined;
  let fields = 9;
  let r: NatSessionRecord;
  if (dstText === undefined && destinationPort === undefined) {
    r = { kind: 'nat-session', realm, insideIp, insidePort, outsideIp, outsidePort, protocol, start: times.start, end: times.end };
  } else {
    // The optional keys sit where the schema puts them, before `protocol`.
    const destination: { destinationIp?: Address; destinationPort?: number } = {};
    if (dstText !== undefined) {
      const destinationIp = address(dstText, false);
      if (destinationIp === undefined) return undefined;
      destination.destinationIp = destinationIp;
      fields++;
    }
    if (destinationPort !== undefined) {
      if (!isPort(destinationPort)) return undefined;
      destination.destinationPort = destinationPort;
      fields++;
    }
    r = { kind: 'nat-session', realm, insideIp, insidePort, outsideIp, outsidePort, ...destination, protocol, start: times.start, end: times.end };
  }
  if (endInferred !== undefined) {
    if (typeof endInferred !== 'boolean') return undefined;
    r.endInferred = endInferred;
    fields++;
  }
  return keyCount(o) === fields ? r : undefined;
}
