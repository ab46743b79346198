/**
 * RADIUS accounting as FreeRADIUS writes it: `detail` files (a ctime header line, then
 * TAB-indented `Attribute = value` lines, a blank line between records), and the same
 * attribute lists without headers (debug output, test vectors) where a repeated
 * `User-Name` or `Acct-Status-Type` starts the next record.
 *
 * Clock, best first: `Timestamp` (the server's receive time, epoch seconds) minus
 * `Acct-Delay-Time`; else `Event-Timestamp` (the NAS's event time, with a zone
 * abbreviation or as epoch seconds); else the header (server local time, needs
 * timeZone) minus `Acct-Delay-Time`.
 */
import { MONTHS, epochDigitsMs, exact, fractionMs, timeFailure, type TimeResult } from './clock.js';
import { allocationParse, macOf } from './common.js';
import { LINE_REASONS } from './output.js';
import type { Cadence } from './pairing.js';
import type { VendorOptions, VendorParser, VendorSession } from './types.js';

const NAME = 'freeradius-detail';
const HEADER = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\d{4})\s*$/;
const DEBUG_HEADER = /^(?:rad_recv:|Received) Accounting-Request\b/;
const ATTRIBUTE = /^\s*([A-Za-z][\w.-]*)\s+=\s+(.*?)\s*$/;
const EVENT_TEXT = /^([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d{4}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?: (\S+))?$/;
/** Attributes that occur once per record: seeing one again starts the next record. */
const ONCE = new Set(['User-Name', 'Acct-Status-Type', 'Acct-Session-Id', 'Acct-Unique-Session-Id', 'Timestamp']);
const STATUS: Readonly<Record<string, string>> = {
  Start: 'Start',
  '1': 'Start',
  Stop: 'Stop',
  '2': 'Stop',
  'Interim-Update': 'Interim',
  Alive: 'Interim',
  '3': 'Interim',
  'Accounting-On': 'On',
  '7': 'On',
  'Accounting-Off': 'Off',
  '8': 'Off',
};
const LINK_LOCAL = /^fe[89ab][0-9a-f]:/i;

interface Record_ {
  readonly line: number;
  header?: RegExpExecArray;
  readonly attrs: Map<string, string[]>;
}

function unquote(value: string): string {
  const first = value[0];
  if ((first === '"' || first === "'") && value.endsWith(first) && value.length >= 2) return value.slice(1, -1);
  return value;
}

function session(options: VendorOptions): VendorSession {
  const { p, realm, clocks } = allocationParse(options, NAME);
  const interimOption = options.interimIntervalSeconds;
  let current: Record_ | null = null;

  const one = (r: Record_, name: string): string | undefined => r.attrs.get(name)?.[0];

  function eventTime(r: Record_): TimeResult {
    const delayText = one(r, 'Acct-Delay-Time');
    const delay = delayText !== undefined && /^\d+$/.test(delayText) ? Number(delayText) * 1000 : 0;
    const stamp = one(r, 'Timestamp');
    if (stamp !== undefined) {
      const ms = epochDigitsMs(stamp);
      return ms === null ? timeFailure('INVALID_TIME', `Timestamp is not epoch seconds: ${JSON.stringify(stamp)}`) : exact(ms - delay);
    }
    const event = one(r, 'Event-Timestamp');
    if (event !== undefined) {
      if (/^\d+$/.test(event)) {
        const ms = epochDigitsMs(event);
        return ms === null ? timeFailure('INVALID_TIME', `Event-Timestamp ${event}`) : exact(ms);
      }
      const m = EVENT_TEXT.exec(event);
      if (m === null) return timeFailure('INVALID_TIME', `Event-Timestamp is not a date: ${JSON.stringify(event)}`);
      const month = MONTHS[m[1]!];
      if (month === undefined) return timeFailure('INVALID_TIME', `Event-Timestamp month ${m[1]}`);
      return clocks.wall(Number(m[3]), month, Number(m[2]), Number(m[4]), Number(m[5]), Number(m[6]), fractionMs(m[7]), m[8], event);
    }
    const h = r.header;
    if (h !== undefined) {
      const month = MONTHS[h[1]!] ?? 0;
      const t = clocks.wall(Number(h[6]), month, Number(h[2]), Number(h[3]), Number(h[4]), Number(h[5]), 0, undefined, h[0]);
      return t.ok ? { ok: true, value: { early: t.value.early - delay, late: t.value.late - delay } } : t;
    }
    return timeFailure('TIME_MISSING', 'the record has no Timestamp, Event-Timestamp or header time');
  }

  function finish(r: Record_): void {
    const statusText = one(r, 'Acct-Status-Type');
    if (statusText === undefined) {
      p.out.problem(r.line, 'Acct-Status-Type', LINE_REASONS.MISSING_FIELD, 'an accounting record without Acct-Status-Type');
      return;
    }
    const status = STATUS[statusText];
    if (status === undefined) return; // Tunnel-Start and the like: no address
    const time = p.time(r.line, 'Timestamp', eventTime(r), one(r, 'Timestamp') ?? one(r, 'Event-Timestamp'));
    if (time === undefined) return;
    const nas = one(r, 'NAS-Identifier') ?? one(r, 'NAS-IP-Address') ?? one(r, 'NAS-IPv6-Address') ?? 'unknown-nas';
    if (status === 'On' || status === 'Off') {
      // The NAS restarted: every session it had open ended by now.
      p.book.stopAll(time.late, nas); // holders are nas|session|user
      return;
    }
    const user = one(r, 'User-Name');
    if (user === undefined || user === '') {
      p.out.problem(r.line, 'User-Name', LINE_REASONS.MISSING_FIELD, 'an accounting record without User-Name');
      return;
    }
    const addresses: string[] = [];
    for (const name of ['Framed-IP-Address', 'Framed-IPv6-Address']) {
      for (const v of r.attrs.get(name) ?? []) {
        const ip = p.address(r.line, name, v);
        if (ip !== undefined) addresses.push(ip);
      }
    }
    for (const name of ['Framed-IPv6-Prefix', 'Delegated-IPv6-Prefix']) {
      for (const v of r.attrs.get(name) ?? []) {
        if (LINK_LOCAL.test(v)) continue;
        const ip = p.address(r.line, name, v, true);
        if (ip !== undefined) addresses.push(ip);
      }
    }
    if (addresses.length === 0) {
      p.out.problem(r.line, 'Framed-IP-Address', LINE_REASONS.MISSING_FIELD, `${status} for ${user} carries no Framed-IP-Address or prefix`);
      return;
    }
    const sessionId = one(r, 'Acct-Session-Id');
    const holder = `${nas}|${one(r, 'Acct-Unique-Session-Id') ?? sessionId ?? ''}|${user}`;
    const avMac = (r.attrs.get('Cisco-AVPair') ?? []).map((v) => /^client-mac-address=(.+)$/.exec(v)?.[1]).find((v) => v !== undefined);
    const mac = macOf(one(r, 'Calling-Station-Id')) ?? macOf(avMac);
    const imsi = one(r, '3GPP-IMSI');
    const imei = one(r, '3GPP-IMEISV');
    const identifiers = {
      ...(sessionId === undefined || sessionId === '' ? {} : { sessionId }),
      ...(mac === undefined ? {} : { mac }),
      ...(imsi !== undefined && /^\d{6,15}$/.test(imsi) ? { imsi } : {}),
      ...(imei !== undefined && /^\d{14,16}$/.test(imei) ? { imei } : {}),
    };
    const intervalText = one(r, 'Acct-Interim-Interval');
    const interval = intervalText !== undefined && /^\d+$/.test(intervalText) && Number(intervalText) > 0 ? Number(intervalText) : interimOption;
    const cadence: Cadence | undefined = interval === undefined ? undefined : { source: `radius:${nas}`, intervalMs: interval * 1000 };
    const sessionTime = one(r, 'Acct-Session-Time');
    // Acct-Session-Time is whole seconds: the session began within one more second.
    const begun = sessionTime !== undefined && /^\d+$/.test(sessionTime) ? time.early - (Number(sessionTime) + 1) * 1000 : undefined;
    for (const ip of addresses) {
      const fields = { kind: 'allocation' as const, account: user, ip, source: 'radius', ...realm, ...identifiers };
      const ev = { resource: ip, holder, fields, line: r.line };
      if (status === 'Start') p.book.grant(cadence === undefined ? { ...ev, at: time.early } : { ...ev, at: time.early, cadence });
      else if (status === 'Interim') {
        const base = begun === undefined ? { ...ev, at: time.early } : { ...ev, at: time.early, startIfNew: begun };
        p.book.confirm(cadence === undefined ? base : { ...base, cadence });
      } else p.book.stop(begun === undefined ? { ...ev, at: time.late } : { ...ev, at: time.late, derivedStart: begun });
    }
  }

  function close(): void {
    if (current !== null && current.attrs.size > 0) finish(current);
    current = null;
  }

  p.idle = () => current === null;
  return p.session((text, line) => {
    if (text.trim() === '') {
      close();
      return;
    }
    const header = HEADER.exec(text);
    if (header !== null) {
      close();
      current = { line, header, attrs: new Map() };
      return;
    }
    if (DEBUG_HEADER.test(text)) {
      close();
      current = { line, attrs: new Map() };
      return;
    }
    const attr = ATTRIBUTE.exec(text);
    if (attr === null) {
      p.out.problem(line, '', LINE_REASONS.UNRECOGNISED_LINE, `not a header or an attribute line: ${text.slice(0, 60)}`, text);
      return;
    }
    const name = attr[1]!;
    if (current === null || (ONCE.has(name) && current.attrs.has(name))) {
      close();
      current = { line, attrs: new Map() };
    }
    const values = current.attrs.get(name);
    const value = unquote(attr[2]!);
    if (values === undefined) current.attrs.set(name, [value]);
    else values.push(value);
  }, close);
}

export const freeradiusDetail: VendorParser = {
  name: NAME,
  description:
    "FreeRADIUS detail files and RADIUS accounting attribute lists: Start, Interim-Update, Stop → allocation per Framed-IP-Address / Framed-IPv6-Prefix / Delegated-IPv6-Prefix (account User-Name), paired by session; Accounting-On/Off ends the NAS's open sessions; interim updates missing for more than twice Acct-Interim-Interval (or interimIntervalSeconds) → coverage gap. Clock: Timestamp (server receive, epoch) − Acct-Delay-Time, else Event-Timestamp (zone abbreviation), else the header in timeZone. Optional realm.",
  sniff: (lines) => lines.some((l) => /^\s*Acct-Status-Type\s+=\s/.test(l)) && lines.some((l) => /^\s*(?:User-Name|Acct-Session-Id)\s+=\s/.test(l)),
  session,
};
