/**
 * Pieces every vendor importer shares: option checks, the session shell around an
 * {@link IntervalBook}, and field readers that report a problem instead of throwing.
 */
import { parse as parseCsv } from 'csv-parse/sync';
import { parseAddress } from '../../address.js';
import { IparError } from '../../problems.js';
import { mac as macSchema, realmName, type Protocol } from '../../records.js';
import { Collector, LINE_REASONS } from './output.js';
import { IntervalBook, type BookState, type GrantEvent } from './pairing.js';
import { Clocks, instantInRange, type TimeResult } from './clock.js';
import type { PairingState, SuspendedSession, VendorOptions, VendorSession } from './types.js';
import type { RecordTemplate } from './output.js';

/**
 * Default log time a closed interval waits for late events (`reorderWindowSeconds`): UDP
 * syslog and relays reorder by seconds; every second of window holds that second's closed
 * intervals in memory (a CGNAT logging 100k events/s holds a million for 10 s).
 */
export const DEFAULT_REORDER_WINDOW_SECONDS = 10;

const HOUR = 3600;
const DAY = 86_400;

/**
 * Missing-stop timeouts per format and record kind, in seconds: how long after its last
 * evidence an interval with no logged stop is taken to have ended, when the operator gives
 * no `missingStopTimeoutSeconds`. Each is what the vendor's own default timers imply
 * (docs/importers.md "Open records and missing stops" gives the source of each); a source
 * that reports live sessions with a cadence (RADIUS interims) ends them after
 * three cadences instead. A format or kind not listed infers no end from time: the
 * interval stays open (`end: null`, `lastSeen`) until a stop or the next holder.
 */
export const DEFAULT_MISSING_STOP_TIMEOUTS: Readonly<Record<string, Readonly<Partial<Record<RecordTemplate['kind'], number>>>>> = {
  // Port batches: freed with their last session; sessions: the default idle timeouts (TCP 300 s … UDP 120 s), rounded up.
  'a10-cef': { 'nat-block': DAY, 'nat-session': HOUR },
  // `timeout xlate 3:00:00` (the default PAT/NAT translation slot lifetime).
  'cisco-asa': { 'nat-session': 3 * HOUR },
  // session-ttl default 3600 s.
  'fortigate-traffic': { 'nat-session': HOUR },
  // Without Acct-Interim-Interval: a day (the common Session-Timeout of broadband re-authentication).
  'freeradius-detail': { allocation: DAY },
  // ISC dhcpd default-lease-time 43200 s when the line gives no lease time.
  'infoblox-dhcpd': { allocation: 12 * HOUR },
  'isc-dhcpd-leases': { allocation: 12 * HOUR },
  // A lease record without ends: the dhcpd default-lease-time the Infoblox DHCP service uses, 12 h.
  'infoblox-lease': { allocation: 12 * HOUR },
  // Jool: TCP established 2 h (the BIB entry outlives its sessions by as much).
  jool: { 'nat-session': 2 * HOUR },
  // PBA blocks: active-block-timeout unset keeps a block while the subscriber is active (a day);
  // flows: the SFW TCP inactivity default 1800 s.
  'juniper-ms-dpc': { 'nat-block': DAY, 'nat-session': 1800 },
  'juniper-srx': { 'nat-block': DAY, 'nat-session': 1800 },
  // Kea valid-lifetime default 7200 s, for a lease line without one.
  'kea-csv': { allocation: 2 * HOUR },
  'kea-legal': { allocation: 2 * HOUR },
  // Windows DHCP scopes default to an 8-day lease.
  'ms-dhcp-audit': { allocation: 8 * DAY },
  // PAN-OS TCP session timeout 3600 s.
  'panos-traffic': { 'nat-session': HOUR },
  'panos-traffic-cef': { 'nat-session': HOUR },
  'panos-traffic-json': { 'nat-session': HOUR },
  // VPP NAT44 TCP established 7440 s.
  'vpp-syslog': { 'nat-session': 7440 },
};

function positive(name: string, value: number | undefined, allowZero: boolean): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new IparError('INVALID_OPTION', `${name} must be a ${allowZero ? 'non-negative' : 'positive'} number of seconds, got ${String(value)}`);
  }
  return value;
}

/** The realm NAT records belong to; NAT importers cannot work without it. */
export function requireRealm(options: VendorOptions, format: string): string {
  if (options.realm === undefined) throw new IparError('MISSING_OPTION', `${format} writes NAT records and needs realm (--realm)`);
  optionalRealm(options);
  return options.realm;
}

/**
 * An option every line of a format needs — its clock names no zone, or its headers no
 * year: without it every line would be rejected, so it is a usage error up front.
 */
export function requireOption(options: VendorOptions, option: 'timeZone' | 'year', format: string): void {
  if (options[option] !== undefined) return;
  const flag = option === 'timeZone' ? '--tz ZONE (the IANA zone of its clock)' : '--year YYYY (its headers have no year)';
  throw new IparError('MISSING_OPTION', `${format} needs ${option} on every line: give ${flag}`);
}

/** The realm allocation records carry when the addresses sit behind a CGNAT realm (optional). */
export function optionalRealm(options: VendorOptions): { realm: string } | Record<string, never> {
  if (options.realm === undefined) return {};
  if (!realmName.safeParse(options.realm).success)
    throw new IparError('INVALID_OPTION', `realm ${JSON.stringify(options.realm)} is not 1–64 letters, digits, . _ : -`);
  return { realm: options.realm };
}

/**
 * A NAT importer's file state and its realm (required, and checked before the other
 * options). @example const { p, realm, clocks } = natParse(options, 'jool');
 */
export function natParse(options: VendorOptions, format: string): { p: Parse; realm: string; clocks: Clocks } {
  const realm = requireRealm(options, format);
  const p = new Parse(options, format);
  return { p, realm, clocks: p.clocks };
}

/**
 * An allocation importer's file state and the realm its records carry, if any (see
 * {@link optionalRealm}). @example const { p, realm } = allocationParse(options, 'kea-csv', true);
 */
export function allocationParse(
  options: VendorOptions,
  format: string,
  holdUntilEnd = false,
): { p: Parse; realm: ReturnType<typeof optionalRealm>; clocks: Clocks } {
  const p = new Parse(options, format, holdUntilEnd);
  return { p, realm: optionalRealm(options), clocks: p.clocks };
}

/** One file's state: the collector, the pairing book, the clocks, and the session shell. */
export class Parse {
  readonly out = new Collector();
  readonly book: IntervalBook;
  /** Checked here for every importer, so a bad zone or year fails up front, not per line. */
  readonly clocks: Clocks;

  /** `holdUntilEnd` for files whose rows are not in time order (lease databases). */
  constructor(options: VendorOptions, format: string, holdUntilEnd = false) {
    this.clocks = new Clocks(options, format);
    const timeout = positive('missingStopTimeoutSeconds', options.missingStopTimeoutSeconds, false);
    const window = positive('reorderWindowSeconds', options.reorderWindowSeconds, true) ?? DEFAULT_REORDER_WINDOW_SECONDS;
    this.book = new IntervalBook({
      collector: this.out,
      reorderWindowMs: window * 1000,
      timeoutMs: timeout === undefined ? undefined : timeout * 1000,
      defaultTimeoutMs: Object.fromEntries(Object.entries(DEFAULT_MISSING_STOP_TIMEOUTS[format] ?? {}).map(([k, v]) => [k, v * 1000])),
      holdUntilEnd,
    });
    positive('interimIntervalSeconds', options.interimIntervalSeconds, false);
  }

  /**
   * Whether no record spanning lines is half read (see {@link VendorSession.idle}); unset,
   * a format with an end step is never idle mid-file, one without always.
   */
  idle: (() => boolean) | undefined;
  /** The importer's own state handed on with the book, when `session` is given none. */
  carry: Carry | undefined;

  /** Wrap a per-line handler (and an optional end-of-file step) as a {@link VendorSession}. */
  session(handle: (text: string, lineNumber: number) => void, atEnd?: () => void, carry: Carry | undefined = this.carry): VendorSession {
    const suspend = (last: boolean): SuspendedSession => {
      atEnd?.();
      this.book.drain(); // what the end step read (a last buffered record) moves the clock like any line
      const { state: book, provisional } = this.book.suspend(last);
      const extra = carry?.save();
      const years = this.clocks.years.save();
      const state: SessionState | null =
        book === null && years === undefined && (extra === undefined || (Array.isArray(extra) && extra.length === 0))
          ? null
          : { book, ...(extra === undefined ? {} : { extra }), ...(years === undefined ? {} : { years }) };
      return { output: this.out.take(), state, provisional, inferred: { ...this.book.inferred } };
    };
    return {
      line: (text, lineNumber) => {
        handle(text, lineNumber);
        this.book.drain();
        return this.out.take();
      },
      end: () => {
        const { output, provisional } = suspend(true);
        return { records: [...output.records, ...provisional], problems: output.problems };
      },
      suspend: (last: boolean) => suspend(last),
      resume: (state: PairingState) => {
        const s = sessionState(state);
        if (s.book !== null) this.book.resume(s.book);
        if (s.extra !== undefined) carry?.load(s.extra);
        if (s.years !== undefined) this.clocks.years.load(s.years);
      },
      idle: () => (this.idle === undefined ? atEnd === undefined : this.idle()),
    };
  }

  /** An event that opens (`opens`) at the time's early edge, else closes at its late edge. */
  startOrStop(opens: boolean, ev: Omit<GrantEvent, 'at'>, time: { early: number; late: number }): void {
    if (opens) this.book.grant({ ...ev, at: time.early });
    else this.book.stop({ ...ev, at: time.late });
  }

  /** The time (it moves the file's clock), or undefined after reporting why it cannot be read. */
  time(line: number, field: string, result: TimeResult, value: unknown): { early: number; late: number } | undefined {
    if (result.ok && !(instantInRange(result.value.early) && instantInRange(result.value.late))) {
      // Every importer's times pass here: one out of range is that line's problem, never a fault later.
      this.out.problem(line, field, 'TIME_OUT_OF_RANGE', `${field} is not a time between 1970 and 9999`, value);
      return undefined;
    }
    if (result.ok) {
      this.book.see(result.value.late);
      return result.value;
    }
    this.out.problem(line, field, result.reason, result.message, value);
    return undefined;
  }

  /** Canonical address text, or undefined after reporting the address reason. */
  address(line: number, field: string, text: string | undefined, allowPrefix = false): string | undefined {
    if (text === undefined || text === '') {
      this.out.problem(line, field, LINE_REASONS.MISSING_FIELD, `${field} is missing`);
      return undefined;
    }
    // Dotted quad without leading zeros is already the canonical text; ip-num costs ~15 µs
    // for an address it has not seen, and lease files see each address once.
    if (CANONICAL_V4.test(text)) return text;
    const r = parseAddress(text, allowPrefix);
    if (r.ok) return r.value.text;
    this.out.problem(line, field, r.reason, `${field}: ${r.message}`, text);
    return undefined;
  }

  port(line: number, field: string, text: string | undefined): number | undefined {
    const n = text === undefined || !/^\d{1,5}$/.test(text) ? NaN : Number(text);
    if (n >= 0 && n <= 65535) return n;
    this.out.problem(
      line,
      field,
      text === undefined ? LINE_REASONS.MISSING_FIELD : LINE_REASONS.INVALID_PORT,
      `${field} is not a port: ${JSON.stringify(text)}`,
      text,
    );
    return undefined;
  }

  protocol(line: number, field: string, text: string | undefined): Protocol | undefined {
    const p = text === undefined ? undefined : protocolOf(text);
    if (p !== undefined) return p;
    this.out.problem(
      line,
      field,
      LINE_REASONS.UNKNOWN_PROTOCOL,
      `${field} is not a protocol the records hold (tcp, udp, icmp, icmpv6, sctp, gre, esp): ${JSON.stringify(text)}`,
      text,
    );
    return undefined;
  }

  /**
   * A line that is one JSON object, or undefined: after reporting MALFORMED_LINE (naming
   * `what`) when it is not JSON, quietly when it is JSON of another shape.
   */
  jsonObject(line: number, text: string, what: string): Record<string, unknown> | undefined {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      this.out.problem(line, '', LINE_REASONS.MALFORMED_LINE, `${what} that is not one JSON object`, text);
      return undefined;
    }
    return value === null || typeof value !== 'object' || Array.isArray(value) ? undefined : (value as Record<string, unknown>);
  }

  /** A whole number of seconds (durations, lifetimes). */
  seconds(line: number, field: string, text: string | undefined): number | undefined {
    if (text !== undefined && /^\d{1,12}$/.test(text)) return Number(text);
    this.out.problem(
      line,
      field,
      text === undefined ? LINE_REASONS.MISSING_FIELD : LINE_REASONS.INVALID_NUMBER,
      `${field} is not a whole number of seconds: ${JSON.stringify(text)}`,
      text,
    );
    return undefined;
  }
}

/** An importer's own state beyond the book (ids that map later lines to earlier ones), handed on with it. */
export interface Carry {
  save(): unknown;
  load(saved: unknown): void;
}

/** What a session hands on: the book's unfinished intervals and the importer's own state. */
interface SessionState {
  readonly book: BookState | null;
  readonly extra?: unknown;
  /** The running year of year-less headers (clock.ts `YearTracker.save`). */
  readonly years?: { readonly year: number; readonly month: number };
}

/** A saved state as this build reads it; another version's is refused (a store written by another ipar). */
function sessionState(state: PairingState): SessionState {
  const s = state as Partial<SessionState> | null;
  const b = s?.book as Partial<BookState> | null | undefined;
  if (
    s === null ||
    typeof s !== 'object' ||
    (b !== null && (typeof b !== 'object' || b.version !== 1 || !Array.isArray(b.chains) || typeof b.maxSeen !== 'number')) ||
    (s.years !== undefined && (typeof s.years?.year !== 'number' || typeof s.years.month !== 'number'))
  ) {
    throw new IparError('STORE_READ_FAILED', "the store's pairing state is not one this ipar reads (version 1)");
  }
  return s as SessionState;
}

const PROTOCOL_NUMBERS: Readonly<Record<string, Protocol>> = { '1': 'icmp', '6': 'tcp', '17': 'udp', '47': 'gre', '50': 'esp', '58': 'icmpv6', '132': 'sctp' };
const PROTOCOL_NAMES: Readonly<Record<string, Protocol>> = {
  icmp: 'icmp',
  tcp: 'tcp',
  udp: 'udp',
  gre: 'gre',
  esp: 'esp',
  icmpv6: 'icmpv6',
  'ipv6-icmp': 'icmpv6',
  icmp6: 'icmpv6',
  sctp: 'sctp',
};

/** `6`, `TCP`, `tcp` → `tcp`; undefined for protocols the canonical records do not hold. */
export function protocolOf(text: string): Protocol | undefined {
  return PROTOCOL_NUMBERS[text] ?? PROTOCOL_NAMES[text.toLowerCase()];
}

/** An IPv4 address exactly as the address module prints it (no leading zeros). */
const CANONICAL_V4 = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
/** A MAC exactly as the canonical `mac` schema writes it. */
const CANONICAL_MAC = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/;

/**
 * A hardware address of zeros only (`00:00:00:00:00:00`, `000000000000`): what servers
 * write when they do not know the client's (the Windows DHCP audit log's zeroed MACs). It
 * names no client: two such leases are not one client's.
 *
 * @example nullHardware('00-00-00-00-00-00') // true
 */
export function nullHardware(text: string | undefined): boolean {
  return text !== undefined && /^[0:.\-\s]+$/.test(text) && /0/.test(text);
}

/**
 * A MAC in canonical form (`aa:bb:cc:dd:ee:ff`) when `text` is six octets, else undefined
 * (also for an all-zero address, which is no client's: {@link nullHardware}).
 */
export function macOf(text: string | undefined): string | undefined {
  if (text === undefined || text === '' || nullHardware(text)) return undefined;
  if (CANONICAL_MAC.test(text)) return text;
  const r = macSchema.safeParse(text);
  return r.success ? r.data : undefined;
}

/**
 * The account a DHCP lease names its client by: the DUID (DHCPv6), else the hardware
 * address (`mac:`, or `hwaddr:` when it is not six octets), else the client-id; undefined
 * when each is empty or zeros (no client: {@link nullHardware}).
 *
 * @example clientAccount({ hwaddr: '02:00:5E:00:53:01' }) // { account: 'mac:02:00:5e:00:53:01', mac: '02:00:5e:00:53:01' }
 */
export function clientAccount(ids: { readonly duid?: string | undefined; readonly hwaddr?: string | undefined; readonly clientId?: string | undefined }):
  | {
      account: string;
      mac: string | undefined;
    }
  | undefined {
  const duid = (ids.duid ?? '').toLowerCase();
  const hwaddr = (ids.hwaddr ?? '').toLowerCase();
  const clientId = (ids.clientId ?? '').toLowerCase();
  const mac = macOf(hwaddr);
  const account =
    duid !== '' && !nullHardware(duid)
      ? `duid:${duid}`
      : mac !== undefined
        ? `mac:${mac}`
        : hwaddr !== '' && !nullHardware(hwaddr)
          ? `hwaddr:${hwaddr}`
          : clientId !== '' && !nullHardware(clientId)
            ? `client-id:${clientId}`
            : undefined;
  return account === undefined ? undefined : { account, mac };
}

/**
 * The value of `key="…"` in structured data (`RT_FLOW … [junos@… source-address="10.0.0.1" …]`).
 * The key must start a parameter: `source-address` does not match inside `nat-source-address`.
 */
export function sdParam(text: string, key: string): string | undefined {
  const needle = key + '="';
  let at = text.indexOf(needle);
  while (at >= 0) {
    const before = text.charCodeAt(at - 1);
    if (at === 0 || before === 32 /* space */ || before === 91 /* [ */) {
      const from = at + needle.length;
      const to = text.indexOf('"', from);
      return to < 0 ? undefined : text.slice(from, to);
    }
    at = text.indexOf(needle, at + 1);
  }
  return undefined;
}

/** The value of `key=value` or `key="value"` (FortiGate, CEF extensions), same start rule. */
export function kvParam(text: string, key: string): string | undefined {
  const needle = key + '=';
  let at = text.indexOf(needle);
  while (at >= 0) {
    const before = text.charCodeAt(at - 1);
    if (at === 0 || before === 32 || before === 9 || before === 124 /* | */ || before === 62 /* > */) {
      const from = at + needle.length;
      if (text.charCodeAt(from) === 34) {
        const to = text.indexOf('"', from + 1);
        return to < 0 ? undefined : text.slice(from + 1, to);
      }
      const to = text.indexOf(' ', from);
      return text.slice(from, to < 0 ? text.length : to);
    }
    at = text.indexOf(needle, at + 1);
  }
  return undefined;
}

/**
 * The fields of one CSV line. A line without a double quote has no quoting to undo, so it
 * is split on commas (csv-parse costs ~28 µs a line, too slow for lease logs); a line with
 * quotes goes through csv-parse.
 */
export function csvFields(text: string): string[] | null {
  if (!text.includes('"')) return text.split(',');
  try {
    const rows = parseCsv(text, { relax_column_count: true, relax_quotes: true }) as string[][];
    return rows[0] ?? [];
  } catch {
    // An unterminated quote is a bad line, not a fault: callers report it.
    return null;
  }
}

/** A translated session's parts as read from a log line; any may be missing. */
export interface SessionParts {
  readonly insideIp: string | undefined;
  readonly insidePort: number | undefined;
  readonly outsideIp: string | undefined;
  readonly outsidePort: number | undefined;
  readonly destinationIp: string | undefined;
  readonly destinationPort: number | undefined;
  readonly protocol: Protocol | undefined;
}

/** A port mapping's parts (NAT64 BIB, PAT translation, port allocated): no destination. */
export type MappingParts = Omit<SessionParts, 'destinationIp' | 'destinationPort'>;

/** A port block's parts as read from a log line; any may be missing. */
export interface BlockParts {
  readonly insideIp: string | undefined;
  readonly outsideIp: string | undefined;
  readonly portFirst: number | undefined;
  readonly portLast: number | undefined;
}

/**
 * The pairing event of a translated session towards one destination, or undefined when a
 * part could not be read (its problem is already reported). The resource is the outside
 * ip:port towards the destination; the holder the inside ip:port, and the device's
 * session id when it logs one (PAN-OS, FortiGate, SRX, ASA connections).
 *
 * @example natSessionEvent(parts, 'cgn-1', undefined, 12)?.holder // '100.64.0.5|40000'
 */
export function natSessionEvent(parts: SessionParts, realm: string, sessionId: string | undefined, line: number) {
  const { insideIp, insidePort, outsideIp, outsidePort, destinationIp, destinationPort, protocol } = parts;
  if (
    insideIp === undefined ||
    insidePort === undefined ||
    outsideIp === undefined ||
    outsidePort === undefined ||
    destinationIp === undefined ||
    destinationPort === undefined ||
    protocol === undefined
  ) {
    return undefined;
  }
  const fields = { kind: 'nat-session' as const, realm, insideIp, insidePort, outsideIp, outsidePort, destinationIp, destinationPort, protocol };
  return {
    resource: `${protocol}|${outsideIp}|${outsidePort}|${destinationIp}|${destinationPort}`,
    holder: sessionId === undefined ? `${insideIp}|${insidePort}` : `${insideIp}|${insidePort}|${sessionId}`,
    fields,
    line,
  };
}

/**
 * The pairing event of a port mapping that serves every destination (a nat-session record
 * without destination), or undefined when a part could not be read. Resource: the outside
 * ip:port of the protocol; holder: the inside ip:port.
 *
 * @example natMappingEvent(parts, 'cgn-1', 12)?.resource // 'udp|192.0.2.2|8208'
 */
export function natMappingEvent(parts: MappingParts, realm: string, line: number) {
  const { insideIp, insidePort, outsideIp, outsidePort, protocol } = parts;
  if (insideIp === undefined || insidePort === undefined || outsideIp === undefined || outsidePort === undefined || protocol === undefined) return undefined;
  const fields = { kind: 'nat-session' as const, realm, insideIp, insidePort, outsideIp, outsidePort, protocol };
  return { resource: `${protocol}|${outsideIp}|${outsidePort}`, holder: `${insideIp}|${insidePort}`, fields, line };
}

/**
 * The pairing event of a port block (resource: outside address and port range; holder: the
 * inside address), or undefined when a part could not be read or, after reporting
 * PORT_RANGE_REVERSED on `field`, when the range runs backwards. A block logged per
 * protocol (A10 port batches) carries it in the record and the resource.
 *
 * @example natBlockEvent(p, 3, 'block low', parts, 'cgn-1')?.resource // '192.0.2.9|1024-1535'
 */
export function natBlockEvent(
  p: Parse,
  line: number,
  field: string,
  parts: BlockParts,
  realm: string,
  perProtocol?: { readonly protocol: Protocol; readonly noun: string },
) {
  const { insideIp, outsideIp, portFirst, portLast } = parts;
  if (insideIp === undefined || outsideIp === undefined || portFirst === undefined || portLast === undefined) return undefined;
  if (portFirst > portLast) {
    p.out.problem(
      line,
      field,
      LINE_REASONS.PORT_RANGE_REVERSED,
      `${perProtocol?.noun ?? 'block'} ${portFirst}-${portLast} is reversed`,
      `${portFirst}-${portLast}`,
    );
    return undefined;
  }
  if (perProtocol === undefined) {
    const fields = { kind: 'nat-block' as const, realm, insideIp, outsideIp, portFirst, portLast };
    return { resource: `${outsideIp}|${portFirst}-${portLast}`, holder: insideIp, fields, line };
  }
  const { protocol } = perProtocol;
  const fields = { kind: 'nat-block' as const, realm, insideIp, outsideIp, portFirst, portLast, protocol };
  return { resource: `${outsideIp}|${portFirst}-${portLast}|${protocol}`, holder: insideIp, fields, line };
}
