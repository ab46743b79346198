/**
 * FortiGate traffic logs (key=value): sessions with source NAT (`trandisp` snat, with
 * `transip`/`transport`). A log with `action="start"` opens a session; any other action
 * but deny/drop is written when the session ends and carries its `duration`.
 *
 * Two clocks: `eventtime` (epoch, in s, ms, µs or ns by firmware; UTC) and
 * `date=… time=…` (local, with `tz="-0500"` on newer firmware). eventtime is trusted;
 * when the local time's zone is known too (tz, or timeZone) and the two disagree by more
 * than a second, the line is refused: one of them is wrong and nothing says which.
 */
import { epochDigitsMs, exact, fromOffset, offsetMinutes, timeFailure, wallMs, type TimeResult } from './clock.js';
import { kvParam, natParse, natSessionEvent } from './common.js';
import type { VendorOptions, VendorParser, VendorSession } from './types.js';

const NAME = 'fortigate-traffic';
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME = /^(\d{2}):(\d{2}):(\d{2})$/;
const NOT_SESSIONS = new Set(['deny', 'drop', 'block', 'blocked']);

function session(options: VendorOptions): VendorSession {
  const { p, realm, clocks } = natParse(options, NAME);

  /**
   * The local date/time in the line's tz or the operator's zone. Without either it is
   * undefined when eventtime can stand in (`optional`), else the ZONE_UNKNOWN refusal.
   */
  function localTime(text: string, optional: boolean): TimeResult | undefined {
    const d = DATE.exec(kvParam(text, 'date') ?? '');
    const t = TIME.exec(kvParam(text, 'time') ?? '');
    if (d === null || t === null) return optional ? undefined : timeFailure('TIME_MISSING', 'neither eventtime nor date= time=');
    const wall = wallMs(Number(d[1]), Number(d[2]), Number(d[3]), Number(t[1]), Number(t[2]), Number(t[3]));
    if (wall === null) return timeFailure('INVALID_TIME', `no such date or time: ${d[0]} ${t[0]}`);
    const tz = kvParam(text, 'tz');
    if (tz !== undefined) {
      const offset = offsetMinutes(tz);
      return offset === null ? timeFailure('INVALID_TIME', `tz is not an offset: ${JSON.stringify(tz)}`) : fromOffset(wall, offset);
    }
    return optional && options.timeZone === undefined ? undefined : clocks.zone.fromWall(wall, `${d[0]} ${t[0]}`);
  }

  function timeOf(text: string): TimeResult {
    const eventtime = kvParam(text, 'eventtime');
    const local = localTime(text, eventtime !== undefined);
    if (eventtime === undefined) return local!;
    const ms = epochDigitsMs(eventtime);
    if (ms === null) return timeFailure('INVALID_TIME', `eventtime is not an epoch: ${JSON.stringify(eventtime)}`);
    if (local?.ok === true) {
      // date/time is whole seconds; eventtime the same instant with a fraction.
      const lag = ms - local.value.early;
      const lagLate = ms - local.value.late;
      if (!((lag > -1000 && lag < 2000) || (lagLate > -1000 && lagLate < 2000))) {
        return timeFailure('CLOCKS_DISAGREE', `eventtime ${new Date(ms).toISOString()} and date/time ${new Date(local.value.early).toISOString()} disagree`);
      }
    }
    return exact(ms);
  }

  return p.session((text, line) => {
    if (!/\btype="?traffic"?/.test(text)) return;
    const trandisp = kvParam(text, 'trandisp') ?? '';
    const transip = kvParam(text, 'transip');
    const action = kvParam(text, 'action') ?? '';
    // No source translation, or a sniffer policy's 0.0.0.0: nothing about a public address.
    if (!trandisp.includes('snat') || transip === undefined || transip === '0.0.0.0' || NOT_SESSIONS.has(action)) return;
    const time = p.time(line, 'eventtime', timeOf(text), kvParam(text, 'eventtime') ?? kvParam(text, 'time'));
    if (time === undefined) return;
    const insideIp = p.address(line, 'srcip', kvParam(text, 'srcip'));
    const insidePort = p.port(line, 'srcport', kvParam(text, 'srcport'));
    const outsideIp = p.address(line, 'transip', transip);
    const outsidePort = p.port(line, 'transport', kvParam(text, 'transport'));
    const destinationIp = p.address(line, 'dstip', kvParam(text, 'dstip'));
    const destinationPort = p.port(line, 'dstport', kvParam(text, 'dstport'));
    const protocol = p.protocol(line, 'proto', kvParam(text, 'proto'));
    const ev = natSessionEvent(
      { insideIp, insidePort, outsideIp, outsidePort, destinationIp, destinationPort, protocol },
      realm,
      kvParam(text, 'sessionid') ?? '',
      line,
    );
    if (ev === undefined) return;
    if (action === 'start') {
      p.book.grant({ ...ev, at: time.early });
      return;
    }
    const duration = p.seconds(line, 'duration', kvParam(text, 'duration'));
    if (duration === undefined) return;
    // duration is whole seconds: the session began up to one more second earlier.
    p.book.stop({ ...ev, at: time.late, derivedStart: time.late - (duration + 1) * 1000, elapsedMs: duration * 1000 });
  });
}

export const fortigateTraffic: VendorParser = {
  name: NAME,
  description:
    'FortiGate traffic logs (key=value) with source NAT (trandisp snat, transip, transport) → nat-session; action=start opens, other actions end a session and give its duration. Clock: eventtime (epoch s/ms/µs/ns, UTC); a line whose date/time (with tz= or timeZone) disagrees with eventtime is refused. Needs realm; timeZone only for lines without eventtime and tz.',
  sniff: (lines) => lines.some((l) => /\btype="?traffic"?/.test(l) && /\bsrcip=/.test(l) && /\blogid="?\d+/.test(l)),
  session,
};
