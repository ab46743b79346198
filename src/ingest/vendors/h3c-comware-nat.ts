/**
 * H3C / HP / 3Com Comware V5 NAT session logs sent to the information center
 * (`USERLOG/7/NAT:`): `PROTO; SRC:PORT--->TRANSLATED:PORT; DST:PORT; [START-END]; Operator
 * N: REASON`. `Data flow created` has the end `0000/00/00 00:00:00` (still open); a flow
 * that ended (`Normal over`, aged, …) carries both times. START and END are the device's
 * system time, local without a zone; the header's time only moves the file's clock.
 *
 * The manual prints each record over four lines (header, tuple, times, operator): lines
 * are joined until the operator's reason, and problems name the record's first line.
 */
import { wallMs, MONTHS, type TimeResult } from './clock.js';
import { natParse, natSessionEvent } from './common.js';
import { LINE_REASONS } from './output.js';
import type { VendorOptions, VendorParser, VendorSession } from './types.js';
import { WrappedLines } from './wrapped.js';

const NAME = 'h3c-comware-nat';
const START = /USERLOG\/\d\/NAT(?:_[A-Z0-9]+)?:/;
/** `%Jul  7 04:20:04:72 2005 Sysname USERLOG/7/NAT:` (a sequence `@n%` may follow the `%`). */
const HEADER = /%(?:@\d+%)?([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?::\d{1,3})? (\d{4,}) /;
const STAMP = '(\\d{4,})/(\\d{2})/(\\d{2}) (\\d{2}):(\\d{2}):(\\d{2})';
const RECORD = new RegExp(
  `USERLOG\\/\\d\\/NAT(?:_[A-Z0-9]+)?:\\s*(\\w+);\\s*([^\\s:;]+):(\\d+)-+>([^\\s:;]+):(\\d+);\\s*([^\\s:;]+):(\\d+);\\s*\\[${STAMP}-${STAMP}\\];\\s*Operator (\\d+):\\s*(.*?)\\s*$`,
);
/** The operator line that ends a record. */
const COMPLETE = /Operator \d+:\s*\S/;
const MAX_WRAPPED_LINES = 6;

function session(options: VendorOptions): VendorSession {
  const { p, realm, clocks } = natParse(options, NAME);

  function local(g: readonly (string | undefined)[], at: number, text: string): TimeResult {
    const wall = wallMs(Number(g[at]), Number(g[at + 1]), Number(g[at + 2]), Number(g[at + 3]), Number(g[at + 4]), Number(g[at + 5]));
    return wall === null
      ? { ok: false, reason: 'INVALID_TIME', message: `${NAME}: no such date or time: ${JSON.stringify(text)}` }
      : clocks.zone.fromWall(wall, text);
  }

  function record(text: string, line: number): void {
    const m = RECORD.exec(text);
    if (m === null) {
      p.out.problem(
        line,
        '',
        LINE_REASONS.MALFORMED_LINE,
        'a USERLOG NAT record without "PROTO; SRC:PORT--->NAT:PORT; DST:PORT; [START-END]; Operator N: REASON"',
        text,
      );
      return;
    }
    const h = HEADER.exec(text);
    const month = h === null ? undefined : MONTHS[h[1]!];
    if (h !== null && month !== undefined) {
      // The log time (whole seconds) says how far the file has got, never the flow's times.
      const wall = wallMs(Number(h[6]), month, Number(h[2]), Number(h[3]), Number(h[4]), Number(h[5]));
      const logged = wall === null ? undefined : clocks.zone.fromWall(wall, h[0]);
      if (logged?.ok === true) p.book.see(logged.value.late);
    }
    const startText = `${m[8]}/${m[9]}/${m[10]} ${m[11]}:${m[12]}:${m[13]}`;
    const started = p.time(line, 'start', local(m, 8, startText), startText);
    if (started === undefined) return;
    const protocol = p.protocol(line, 'protocol', m[1]);
    const insideIp = p.address(line, 'source', m[2]);
    const insidePort = p.port(line, 'source port', m[3]);
    const outsideIp = p.address(line, 'translated source', m[4]);
    const outsidePort = p.port(line, 'translated source port', m[5]);
    const destinationIp = p.address(line, 'destination', m[6]);
    const destinationPort = p.port(line, 'destination port', m[7]);
    const ev = natSessionEvent({ insideIp, insidePort, outsideIp, outsidePort, destinationIp, destinationPort, protocol }, realm, undefined, line);
    if (ev === undefined) return;
    if (m[14] === '0000') {
      p.book.grant({ ...ev, at: started.early });
      return;
    }
    const endText = `${m[14]}/${m[15]}/${m[16]} ${m[17]}:${m[18]}:${m[19]}`;
    const ended = p.time(line, 'end', local(m, 14, endText), endText);
    if (ended === undefined) return;
    if (ended.late < started.early) {
      p.out.problem(line, 'end', LINE_REASONS.END_BEFORE_START, `the flow ends (${endText}) before it starts (${startText})`, endText);
      return;
    }
    p.book.stop({ ...ev, at: ended.late, derivedStart: started.early });
  }

  const wrapped = new WrappedLines({
    starts: (t) => START.test(t),
    complete: (t) => COMPLETE.test(t),
    maxLines: MAX_WRAPPED_LINES,
    message: record,
    unterminated: (text, line, count) =>
      p.out.problem(
        line,
        '',
        LINE_REASONS.UNTERMINATED_MESSAGE,
        `a USERLOG NAT record starting here did not end with its "Operator N:" reason within ${count} lines`,
        text,
      ),
  });

  p.idle = () => wrapped.idle();
  return p.session(
    (text, line) => wrapped.push(text.trim(), line),
    () => wrapped.flush(),
  );
}

export const h3cComwareNat: VendorParser = {
  name: NAME,
  description:
    'H3C/HP Comware V5 USERLOG NAT flow logs: "Data flow created" → nat-session opened at its start, a flow with an end time (Normal over, aged, …) → nat-session from start to end; records wrapped over several lines are joined. Clock: the [start-end] device times, local without zone: needs timeZone. Needs realm.',
  sniff: (lines) => lines.some((l) => START.test(l)),
  session,
};
