/**
 * How the parse worker hands records to the writer thread (issue #8). A structured clone
 * of a parsed record costs the receiving thread more than parsing its JSON did (2 µs
 * against 1), so the worker sends each record the fast path accepted as a run of plain
 * values in one flat array: strings, numbers, an IPv4 host as its 32-bit number. The
 * writer rebuilds the record from them; `decodeRecords(encodeRecord(r))` is `r`, key
 * order included (a property test holds it to that). Lines the fast path did not take go
 * back as their text, for the writer to read as it reads any line.
 */
import { addressFromV4, parseAddress, type Address } from '../address.js';
import type { AllocationRecord, NatBlockRecord, NatSessionRecord, Protocol } from '../records.js';
import type { FastRecord } from './fast-record.js';

/** The first two values of each entry: the line number, then what follows. */
export const TEXT = 0;
const ALLOCATION = 1;
const NAT_BLOCK = 2;
const NAT_SESSION = 3;

/** Values each entry takes, by its tag (line and tag included). */
const WIDTH = [4, 14, 11, 13] as const;

function wireAddress(a: Address): number | string {
  return a.family === 4 && a.length === 128 ? a.key.readUInt32BE(12) : a.text;
}

/** Append a line's record to `out`. */
export function encodeRecord(out: unknown[], line: number, r: FastRecord): void {
  switch (r.kind) {
    case 'allocation':
      out.push(line, ALLOCATION, r.account, wireAddress(r.ip), r.start, r.end, r.source, r.realm, r.imsi, r.msisdn, r.imei, r.mac, r.sessionId, r.endInferred);
      break;
    case 'nat-block':
      out.push(line, NAT_BLOCK, r.realm, wireAddress(r.insideIp), wireAddress(r.outsideIp), r.portFirst, r.portLast, r.protocol, r.start, r.end, r.endInferred);
      break;
    case 'nat-session':
      out.push(
        line,
        NAT_SESSION,
        r.realm,
        wireAddress(r.insideIp),
        r.insidePort,
        wireAddress(r.outsideIp),
        r.outsidePort,
        r.destinationIp === undefined ? undefined : wireAddress(r.destinationIp),
        r.destinationPort,
        r.protocol,
        r.start,
        r.end,
        r.endInferred,
      );
      break;
  }
}

/** Append a line the writer should read itself (`length` when it was over-long). */
export function encodeText(out: unknown[], line: number, text: string, length: number | undefined): void {
  out.push(line, TEXT, text, length);
}

// Canonical address texts, as the worker sent them, to their parsed form.
const MEMO_LIMIT = 100_000;
const memo = { address: new Map<string, Address>(), prefix: new Map<string, Address>() };

function address(v: unknown, allowPrefix: boolean): Address {
  if (typeof v === 'number') return addressFromV4(v);
  const text = v as string;
  const known = allowPrefix ? memo.prefix : memo.address;
  let a = known.get(text);
  if (a === undefined) {
    const r = parseAddress(text, allowPrefix);
    if (!r.ok) throw new Error(`the parse worker sent an address that does not parse: ${text}`);
    if (known.size >= MEMO_LIMIT) known.clear();
    known.set(text, (a = r.value));
  }
  return a;
}

/**
 * Reads a worker's message entry by entry, in line order; no object per entry but the
 * record itself.
 *
 * @example
 * for (const r = new WireReader(values); r.next(); ) if (r.record !== null) batch.push(r.record);
 */
export class WireReader {
  /** The entry's line number. */
  line = 0;
  /** The entry's record, or `null` when the entry is a line's text. */
  record: FastRecord | null = null;
  text = '';
  /** The full length of an over-long line's text. */
  length: number | undefined = undefined;
  readonly #values: readonly unknown[];
  #at = 0;

  constructor(values: readonly unknown[]) {
    this.#values = values;
  }

  /** Move to the next entry; false after the last. */
  next(): boolean {
    const v = this.#values;
    const at = this.#at;
    if (at >= v.length) return false;
    const tag = v[at + 1] as 0 | 1 | 2 | 3;
    this.line = v[at] as number;
    this.#at = at + WIDTH[tag];
    if (tag === TEXT) {
      this.record = null;
      this.text = v[at + 2] as string;
      this.length = v[at + 3] as number | undefined;
    } else this.record = tag === ALLOCATION ? allocation(v, at) : tag === NAT_BLOCK ? natBlock(v, at) : natSession(v, at);
    return true;
  }
}

function allocation(v: readonly unknown[], at: number): AllocationRecord {
  const r: AllocationRecord = {
    kind: 'allocation',
    account: v[at + 2] as string,
    ip: address(v[at + 3], true),
    start: v[at + 4] as number,
    end: v[at + 5] as number | null,
    source: v[at + 6] as string,
  };
  const realm = v[at + 7],
    imsi = v[at + 8],
    msisdn = v[at + 9],
    imei = v[at + 10],
    mac = v[at + 11],
    sessionId = v[at + 12],
    endInferred = v[at + 13];
  if (realm !== undefined) r.realm = realm as string;
  if (imsi !== undefined) r.imsi = imsi as string;
  if (msisdn !== undefined) r.msisdn = msisdn as string;
  if (imei !== undefined) r.imei = imei as string;
  if (mac !== undefined) r.mac = mac as string;
  if (sessionId !== undefined) r.sessionId = sessionId as string;
  if (endInferred !== undefined) r.endInferred = endInferred as boolean;
  return r;
}

function natBlock(v: readonly unknown[], at: number): NatBlockRecord {
  const realm = v[at + 2] as string,
    insideIp = address(v[at + 3], false),
    outsideIp = address(v[at + 4], false);
  const portFirst = v[at + 5] as number,
    portLast = v[at + 6] as number,
    protocol = v[at + 7] as Protocol | undefined;
  const start = v[at + 8] as number,
    end = v[at + 9] as number | null,
    endInferred = v[at + 10] as boolean | undefined;
  // Keys in the schema's order, as zod and the fast path build them.
  const r: NatBlockRecord =
    protocol === undefined
      ? { kind: 'nat-block', realm, insideIp, outsideIp, portFirst, portLast, start, end }
      : { kind: 'nat-block', realm, insideIp, outsideIp, portFirst, portLast, protocol, start, end };
  if (endInferred !== undefined) r.endInferred = endInferred;
  return r;
}

function natSession(v: readonly unknown[], at: number): NatSessionRecord {
  const realm = v[at + 2] as string,
    insideIp = address(v[at + 3], false),
    insidePort = v[at + 4] as number;
  const outsideIp = address(v[at + 5], false),
    outsidePort = v[at + 6] as number;
  const dst = v[at + 7],
    destinationPort = v[at + 8] as number | undefined,
    protocol = v[at + 9] as Protocol;
  const start = v[at + 10] as number,
    end = v[at + 11] as number | null,
    endInferred = v[at + 12] as boolean | undefined;
  let r: NatSessionRecord;
  if (dst === undefined && destinationPort === undefined)
    r = { kind: 'nat-session', realm, insideIp, insidePort, outsideIp, outsidePort, protocol, start, end };
  else {
    const destination: { destinationIp?: Address; destinationPort?: number } = {};
    if (dst !== undefined) destination.destinationIp = address(dst, false);
    if (destinationPort !== undefined) destination.destinationPort = destinationPort;
    r = { kind: 'nat-session', realm, insideIp, insidePort, outsideIp, outsidePort, ...destination, protocol, start, end };
  }
  if (endInferred !== undefined) r.endInferred = endInferred;
  return r;
}
