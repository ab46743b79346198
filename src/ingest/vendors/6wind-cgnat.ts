/**
 * 6WIND Turbo Router / vSR `fp-cgnat` syslog: sessions (`NEW CONN` / `DESTROY CONN`, the
 * forward tuple private source → destination, the back tuple destination → public
 * address:port) and port blocks (`USER … NEW BLOCK` / `DESTROY BLOCK`, per protocol).
 * The BSD header is the router's local time without a year.
 */
import { natBlockEvent, natParse, natSessionEvent } from './common.js';
import { LINE_REASONS } from './output.js';
import { headerTime } from './syslog.js';
import type { VendorOptions, VendorParser, VendorSession } from './types.js';

const NAME = '6wind-cgnat';
const DAEMON = /\bfp-cgnat(?:\[\d+\])?: /;
const EVENT = /^(?:(NEW|DESTROY) CONN|USER \S+ .*?: (NEW|DESTROY) BLOCK)\b/;
const CONN = /^(?:NEW|DESTROY) CONN: fwd proto (\d+) ([^\s:]+):(\d+) -+> ([^\s:]+):(\d+), back proto \d+ ([^\s:]+):(\d+) -+> ([^\s:]+):(\d+)/;
const BLOCK = /^USER (\S+) .*?: (?:NEW|DESTROY) BLOCK \(.*?ip public ([^\s,]+), proto (\d+), port (\d+) - (\d+)\)/;

function session(options: VendorOptions): VendorSession {
  const { p, realm, clocks } = natParse(options, NAME);

  return p.session((text, line) => {
    const daemon = DAEMON.exec(text);
    if (daemon === null) return;
    const body = text.slice(daemon.index + daemon[0].length);
    const event = EVENT.exec(body);
    if (event === null) return; // "CGNAT Log listen on …" and other notices
    const opens = (event[1] ?? event[2]) === 'NEW';
    const time = p.time(
      line,
      'timestamp',
      headerTime(text, clocks) ?? { ok: false, reason: 'TIME_MISSING', message: 'an fp-cgnat line without its syslog header' },
      text.slice(0, 30),
    );
    if (time === undefined) return;
    if (event[1] !== undefined) {
      const m = CONN.exec(body);
      if (m === null) {
        p.out.problem(
          line,
          '',
          LINE_REASONS.MALFORMED_LINE,
          `${event[1]} CONN without "fwd proto P SRC:PORT -> DST:PORT, back proto P DST:PORT -> PUBLIC:PORT"`,
          body,
        );
        return;
      }
      const protocol = p.protocol(line, 'proto', m[1]);
      const insideIp = p.address(line, 'fwd source', m[2]);
      const insidePort = p.port(line, 'fwd source port', m[3]);
      // The back tuple is the reply: from the destination to the public address and port.
      const destinationIp = p.address(line, 'back source', m[6]);
      const destinationPort = p.port(line, 'back source port', m[7]);
      const outsideIp = p.address(line, 'back destination', m[8]);
      const outsidePort = p.port(line, 'back destination port', m[9]);
      const ev = natSessionEvent({ insideIp, insidePort, outsideIp, outsidePort, destinationIp, destinationPort, protocol }, realm, undefined, line);
      if (ev !== undefined) p.startOrStop(opens, ev, time);
      return;
    }
    const m = BLOCK.exec(body);
    if (m === null) {
      p.out.problem(line, '', LINE_REASONS.MALFORMED_LINE, `${event[2]} BLOCK without "(pool …, ip public IP, proto P, port LOW - HIGH)"`, body);
      return;
    }
    const protocol = p.protocol(line, 'proto', m[3]);
    const insideIp = p.address(line, 'USER', m[1]);
    const outsideIp = p.address(line, 'ip public', m[2]);
    const portFirst = p.port(line, 'port low', m[4]);
    const portLast = p.port(line, 'port high', m[5]);
    if (protocol === undefined) return;
    const ev = natBlockEvent(p, line, 'port', { insideIp, outsideIp, portFirst, portLast }, realm, { protocol, noun: 'block' });
    if (ev !== undefined) p.startOrStop(opens, ev, time);
  });
}

export const sixwindCgnat: VendorParser = {
  name: NAME,
  description:
    "6WIND fp-cgnat syslog: NEW/DESTROY CONN → nat-session (inside: the forward source; outside: the back tuple's destination), USER … NEW/DESTROY BLOCK → nat-block of one protocol. Clock: the BSD header, local: needs timeZone and year. Needs realm.",
  sniff: (lines) => lines.some((l) => DAEMON.test(l) && /: (?:NEW|DESTROY) (?:CONN|BLOCK)\b/.test(l)),
  session,
};
