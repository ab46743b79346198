/**
 * Palo Alto PAN-OS TRAFFIC logs with a source translation (natsrc/natsport): `start` and
 * `end` logs of sessions, in the three forms a firewall or its log service sends them.
 *
 * - **CSV** (`panos-traffic`, the default syslog format): generated_time and the session's
 *   start_time, `YYYY/MM/DD HH:MM:SS` in the firewall's local zone without an offset; the
 *   syslog header and receive_time are not the session's clock.
 * - **CEF** (`panos-traffic-cef`, the custom log format of PAN-OS's CEF integration guide):
 *   `start=` is `$cef-formatted-time_generated` (`May 08 2024 08:10:31 GMT`, or epoch ms),
 *   `cn3` the elapsed seconds; the form carries no session start time, so an end log's start
 *   is generated − (elapsed + 1 s). `rt=` is the receive time, not the session's clock.
 * - **JSON** (`panos-traffic-json`, one object a line as Strata Logging Service / Cortex
 *   Data Lake exports `firewall.traffic`): `time_generated`, `session_start_time` (ISO with
 *   an offset, without one in the operator's zone, or epoch), `total_time_elapsed`; the
 *   CamelCase names of the same fields (`TimeGenerated`, `NatSource`, …) are read too.
 *
 * Every form keeps the translated destination (natdst/natdport) as the session's
 * destination when the firewall also translated it, else the original one. A session runs
 * from its start to the later of generated_time and start + elapsed.
 */
import { epochDigitsMs, exact, MONTHS, timeFailure, wallMs, type Clocks, type TimeResult } from './clock.js';
import { csvFields, natParse, natSessionEvent, requireOption, type Parse } from './common.js';
import { LINE_REASONS } from './output.js';
import type { VendorOptions, VendorParser, VendorSession } from './types.js';

/** One TRAFFIC log as every form reads it: the values as written, and its clocks. */
interface TrafficLog {
  readonly subtype: string | undefined;
  readonly src: string | undefined;
  readonly dst: string | undefined;
  readonly natsrc: string | undefined;
  readonly natdst: string | undefined;
  readonly sport: string | undefined;
  readonly dport: string | undefined;
  readonly natsport: string | undefined;
  readonly natdport: string | undefined;
  readonly proto: string | undefined;
  readonly session: string | undefined;
  readonly generated: string | undefined;
  /** The session's start time; absent in forms that do not carry it (CEF). */
  readonly start?: string | undefined;
  readonly elapsed: string | undefined;
}

/** What each form calls the fields, for problems that name them. */
type FieldNames = Readonly<Record<Exclude<keyof TrafficLog, 'subtype' | 'session'>, string>>;

const CSV_NAMES: FieldNames = {
  src: 'src',
  dst: 'dst',
  natsrc: 'natsrc',
  natdst: 'natdst',
  sport: 'sport',
  dport: 'dport',
  natsport: 'natsport',
  natdport: 'natdport',
  proto: 'proto',
  generated: 'generated_time',
  start: 'start_time',
  elapsed: 'elapsed',
};

/**
 * The pairing events of one TRAFFIC log: a `start` log opens the session (and shows it
 * alive at its generated_time), an `end` log closes it; drop, deny and logs without a
 * source translation say nothing about a public address.
 */
function traffic(p: Parse, realm: string, line: number, log: TrafficLog, names: FieldNames, time: (text: string | undefined) => TimeResult): void {
  const { subtype, natsrc } = log;
  if (subtype !== 'start' && subtype !== 'end') return;
  if (natsrc === undefined || natsrc === '' || natsrc === '0.0.0.0' || (natsrc === log.src && log.natsport === log.sport)) return;
  const carriesStart = log.start !== undefined;
  const began = carriesStart ? p.time(line, names.start, time(log.start), log.start) : undefined;
  if (carriesStart && began === undefined) return;
  const insideIp = p.address(line, names.src, log.src);
  const insidePort = p.port(line, names.sport, log.sport);
  const outsideIp = p.address(line, names.natsrc, natsrc);
  const outsidePort = p.port(line, names.natsport, log.natsport);
  const translated = log.natdst !== undefined && log.natdst !== '' && log.natdst !== '0.0.0.0' && log.natdst !== '::';
  const destinationIp = p.address(line, translated ? names.natdst : names.dst, translated ? log.natdst : log.dst);
  const destinationPort = p.port(line, translated ? names.natdport : names.dport, translated ? log.natdport : log.dport);
  const protocol = p.protocol(line, names.proto, log.proto);
  const ev = natSessionEvent({ insideIp, insidePort, outsideIp, outsidePort, destinationIp, destinationPort, protocol }, realm, log.session ?? '', line);
  if (ev === undefined) return;
  const generated = p.time(line, names.generated, time(log.generated), log.generated);
  if (subtype === 'start') {
    const at = began?.early ?? generated?.early;
    if (at === undefined) return;
    p.book.grant({ ...ev, at });
    // A start log is written once the session is established (its generated_time): alive then.
    if (generated !== undefined && generated.late > at) p.book.confirm({ ...ev, at: generated.late });
    return;
  }
  const elapsed = p.seconds(line, names.elapsed, log.elapsed);
  if (generated === undefined || elapsed === undefined) return;
  if (began !== undefined) {
    // elapsed is whole seconds: the session lasted up to one more.
    p.book.stop({ ...ev, at: Math.max(generated.late, began.early + (elapsed + 1) * 1000), derivedStart: began.early });
    return;
  }
  // No start time in the form: the session began up to elapsed + 1 s before its end log.
  p.book.stop({ ...ev, at: generated.late, derivedStart: generated.early - (elapsed + 1) * 1000, elapsedMs: elapsed * 1000 });
}

// ---- CSV ------------------------------------------------------------------------------

const NAME = 'panos-traffic';
/** The CSV begins at the field before receive_time: `1,2018/11/30 16:09:07,<serial>,TRAFFIC,`. */
// Years of any length, so that one out of range (99999) is reported, not taken for another kind of line.
const CSV_START = /(?:^|\s)([^,\s]*,\d{4,}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2},[^,]*,TRAFFIC,)/;
const STAMP = /^(\d{4,})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;
const F = {
  subtype: 4,
  generated: 6,
  src: 7,
  dst: 8,
  natsrc: 9,
  natdst: 10,
  session: 22,
  sport: 24,
  dport: 25,
  natsport: 26,
  natdport: 27,
  proto: 29,
  start: 35,
  elapsed: 36,
} as const;

function csvSession(options: VendorOptions): VendorSession {
  const { p, realm, clocks } = natParse(options, NAME);
  requireOption(options, 'timeZone', NAME);

  function local(text: string | undefined): TimeResult {
    const m = text === undefined ? null : STAMP.exec(text);
    if (m === null) return timeFailure('INVALID_TIME', `not a PAN-OS time: ${JSON.stringify(text)}`);
    const wall = wallMs(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
    return wall === null ? timeFailure('INVALID_TIME', `no such date or time: ${text}`) : clocks.zone.fromWall(wall, text!);
  }

  return p.session((text, line) => {
    const start = CSV_START.exec(text);
    if (start === null) return;
    const cells = csvFields(text.slice(start.index + start[0].length - start[1]!.length));
    if (cells === null) {
      p.out.problem(line, '', LINE_REASONS.MALFORMED_LINE, 'a quoted CSV field is not closed', text);
      return;
    }
    const subtype = cells[F.subtype];
    if (subtype !== 'start' && subtype !== 'end') return; // drop, deny: no session
    if (cells.length <= F.elapsed) {
      p.out.problem(line, '', LINE_REASONS.MALFORMED_LINE, `a TRAFFIC log with ${cells.length} fields; start_time and elapsed are fields 36 and 37`, text);
      return;
    }
    const log: TrafficLog = {
      subtype,
      src: cells[F.src],
      dst: cells[F.dst],
      natsrc: cells[F.natsrc],
      natdst: cells[F.natdst],
      sport: cells[F.sport],
      dport: cells[F.dport],
      natsport: cells[F.natsport],
      natdport: cells[F.natdport],
      proto: cells[F.proto],
      session: cells[F.session],
      generated: cells[F.generated],
      start: cells[F.start] ?? '',
      elapsed: cells[F.elapsed],
    };
    traffic(p, realm, line, log, CSV_NAMES, local);
  });
}

export const panosTraffic: VendorParser = {
  name: NAME,
  description:
    "Palo Alto PAN-OS TRAFFIC CSV: start/end logs with source NAT (natsrc, natsport) → nat-session to the translated destination, from start_time to the later of generated_time and start_time + elapsed. Clock: the firewall's CSV times (local, no offset): needs timeZone; the syslog header and receive_time are ignored. Needs realm.",
  sniff: (lines) => lines.some((l) => CSV_START.test(l)),
  session: csvSession,
};

// ---- CEF ------------------------------------------------------------------------------

const CEF_NAME = 'panos-traffic-cef';
/** `CEF:0|Palo Alto Networks|PAN-OS|version|subtype|TRAFFIC|severity|extension` (the `CEF:` may be cut by a collector). */
const CEF = /(?:^|CEF: ?|\s)\d+\|Palo Alto Networks\|PAN-OS\|[^|]*\|([^|]*)\|TRAFFIC\|[^|]*\|/;
/** `$cef-formatted-…` times: `May 08 2024 08:10:31 GMT`. */
const CEF_TIME = /^([A-Z][a-z]{2}) (\d{1,2}) (\d{4,}) (\d{2}):(\d{2}):(\d{2})(?: (\S+))?$/;
const CEF_NAMES: FieldNames = {
  src: 'src',
  dst: 'dst',
  natsrc: 'sourceTranslatedAddress',
  natdst: 'destinationTranslatedAddress',
  sport: 'spt',
  dport: 'dpt',
  natsport: 'sourceTranslatedPort',
  natdport: 'destinationTranslatedPort',
  proto: 'proto',
  generated: 'start',
  start: '',
  elapsed: 'cn3',
};

/**
 * The `key=value` pairs of a CEF extension. A value runs to the next ` key=` (values hold
 * spaces: `rt=May 08 2024 08:10:31 GMT`, `cs1=My Rule`); `\=`, `\\` and `\n` are unescaped.
 *
 * @example cefExtension('src=10.0.0.1 cs1=My Rule act=allow').get('cs1') // 'My Rule'
 */
export function cefExtension(ext: string): Map<string, string> {
  const out = new Map<string, string>();
  const keys = [...ext.matchAll(/(?:^|\s)([A-Za-z0-9_.]+)=/g)];
  keys.forEach((k, i) => {
    const from = k.index + k[0].length;
    const to = i + 1 < keys.length ? keys[i + 1]!.index : ext.length;
    const value = ext
      .slice(from, to)
      .trim()
      .replace(/\\([=\\n])/g, (_m, c: string) => (c === 'n' ? '\n' : c));
    if (!out.has(k[1]!)) out.set(k[1]!, value);
  });
  return out;
}

/** A CEF time: epoch digits, or `MMM dd yyyy HH:mm:ss [ZONE]` (the zone word, else the operator's zone). */
function cefTime(clocks: Clocks, text: string | undefined): TimeResult {
  if (text === undefined || text === '') return timeFailure('TIME_MISSING', 'the log has no start= (its $cef-formatted-time_generated)');
  if (/^\d+$/.test(text)) {
    const ms = epochDigitsMs(text);
    return ms === null ? timeFailure('INVALID_TIME', `${text} is not epoch seconds or milliseconds`) : exact(ms);
  }
  const m = CEF_TIME.exec(text);
  const month = m === null ? undefined : MONTHS[m[1]!];
  if (m === null || month === undefined) return timeFailure('INVALID_TIME', `not a CEF time (MMM dd yyyy HH:mm:ss ZONE): ${JSON.stringify(text)}`);
  return clocks.wall(Number(m[3]), month, Number(m[2]), Number(m[4]), Number(m[5]), Number(m[6]), 0, m[7], text);
}

function cefSession(options: VendorOptions): VendorSession {
  const { p, realm, clocks } = natParse(options, CEF_NAME);
  return p.session((text, line) => {
    const m = CEF.exec(text);
    if (m === null) return;
    const subtype = m[1];
    if (subtype !== 'start' && subtype !== 'end') return;
    const x = cefExtension(text.slice(m.index + m[0].length));
    const log: TrafficLog = {
      subtype,
      src: x.get('src'),
      dst: x.get('dst'),
      natsrc: x.get('sourceTranslatedAddress'),
      natdst: x.get('destinationTranslatedAddress'),
      sport: x.get('spt'),
      dport: x.get('dpt'),
      natsport: x.get('sourceTranslatedPort'),
      natdport: x.get('destinationTranslatedPort'),
      proto: x.get('proto'),
      session: x.get('cn1'),
      generated: x.get('start'),
      elapsed: x.get('cn3'),
    };
    traffic(p, realm, line, log, CEF_NAMES, (t) => cefTime(clocks, t));
  });
}

export const panosTrafficCef: VendorParser = {
  name: CEF_NAME,
  description:
    'Palo Alto PAN-OS TRAFFIC in CEF (the integration guide\'s custom format): start/end logs with sourceTranslatedAddress/Port → nat-session to the translated destination; an end log runs from start= (time_generated) − (cn3 elapsed + 1 s) to start=. Clock: start= ($cef-formatted-time_generated, "MMM dd yyyy HH:mm:ss GMT", or epoch ms); rt= (receive time) is ignored. Needs realm.',
  sniff: (lines) => lines.some((l) => CEF.test(l)),
  session: cefSession,
};

// ---- JSON -----------------------------------------------------------------------------

const JSON_NAME = 'panos-traffic-json';
/** Each field's names: Strata Logging Service (snake_case), then the CamelCase of its exports. */
const JSON_KEYS: Readonly<Record<keyof TrafficLog | 'type', readonly string[]>> = {
  type: ['log_type', 'LogType', 'type', 'Type'],
  subtype: ['sub_type', 'SubType', 'Subtype', 'subtype'],
  src: ['source_ip', 'SourceIP', 'SourceAddress', 'src'],
  dst: ['dest_ip', 'DestinationIP', 'DestinationAddress', 'dst'],
  natsrc: ['nat_source', 'NatSource', 'NATSource', 'natsrc'],
  natdst: ['nat_dest', 'NatDestination', 'NATDestination', 'natdst'],
  sport: ['source_port', 'SourcePort', 'sport'],
  dport: ['dest_port', 'DestinationPort', 'dport'],
  natsport: ['nat_source_port', 'NatSourcePort', 'NATSourcePort', 'natsport'],
  natdport: ['nat_dest_port', 'NatDestinationPort', 'NATDestinationPort', 'natdport'],
  proto: ['protocol', 'Protocol', 'proto'],
  session: ['session_id', 'SessionID', 'sessionid'],
  generated: ['time_generated', 'TimeGenerated', 'generated_time'],
  start: ['session_start_time', 'SessionStartTime', 'SessionStartIP', 'start_time'],
  elapsed: ['total_time_elapsed', 'TotalTimeElapsed', 'elapsed'],
};
/** A line that is one JSON object with a TRAFFIC log type. */
const JSON_TRAFFIC = /^\s*\{.*"(?:log_type|LogType|type|Type)"\s*:\s*"(?:TRAFFIC|traffic)"/;

function jsonSession(options: VendorOptions): VendorSession {
  const { p, realm, clocks } = natParse(options, JSON_NAME);

  function jsonTime(text: string | undefined): TimeResult {
    if (text === undefined || text === '') return timeFailure('TIME_MISSING', 'the log has no time_generated');
    if (/^\d+$/.test(text)) {
      const ms = epochDigitsMs(text);
      return ms === null ? timeFailure('INVALID_TIME', `${text} is not epoch seconds, ms, µs or ns`) : exact(ms);
    }
    return clocks.iso(text);
  }

  return p.session((text, line) => {
    if (!JSON_TRAFFIC.test(text)) return;
    const o = p.jsonObject(line, text, 'a PAN-OS TRAFFIC log');
    if (o === undefined) return;
    const field = (k: keyof TrafficLog): string | undefined => {
      for (const name of JSON_KEYS[k]) {
        const v = o[name];
        if (typeof v === 'string') return v;
        if (typeof v === 'number' && Number.isFinite(v)) return String(v);
        // Strata Logging Service writes some addresses as { value: "…" }.
        if (v !== null && typeof v === 'object' && typeof (v as { value?: unknown }).value === 'string') return (v as { value: string }).value;
      }
      return undefined;
    };
    const names = Object.fromEntries(
      (Object.keys(CSV_NAMES) as (keyof FieldNames)[]).map((k) => [k, JSON_KEYS[k].find((n) => n in o) ?? JSON_KEYS[k][0]!]),
    ) as unknown as FieldNames;
    const start = field('start');
    traffic(
      p,
      realm,
      line,
      {
        subtype: field('subtype'),
        src: field('src'),
        dst: field('dst'),
        natsrc: field('natsrc'),
        natdst: field('natdst'),
        sport: field('sport'),
        dport: field('dport'),
        natsport: field('natsport'),
        natdport: field('natdport'),
        proto: field('proto'),
        session: field('session'),
        generated: field('generated'),
        ...(start === undefined ? {} : { start }),
        elapsed: field('elapsed'),
      },
      names,
      jsonTime,
    );
  });
}

export const panosTrafficJson: VendorParser = {
  name: JSON_NAME,
  description:
    'Palo Alto PAN-OS TRAFFIC as JSON (Strata Logging Service / Cortex Data Lake firewall.traffic, one object a line; snake_case or CamelCase names): start/end logs with nat_source/nat_source_port → nat-session to the translated destination, from session_start_time (else time_generated − elapsed − 1 s) to the later of time_generated and start + total_time_elapsed. Clock: ISO times with offset or epoch; without an offset, timeZone. Needs realm.',
  sniff: (lines) => lines.some((l) => JSON_TRAFFIC.test(l)),
  session: jsonSession,
};
