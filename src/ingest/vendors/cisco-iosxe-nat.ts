/**
 * Cisco IOS-XE `ip nat log translations syslog` (ASR 1000 / QFP, relayed through
 * `%IOSXE-6-PLATFORM`): `%NAT-6-LOG_TRANSLATION: Created|Deleted Translation PROTO
 * inside-local inside-global outside-local outside-global [vrf]`. The inside local address
 * is the subscriber's, the inside global the public one; the outside global is the
 * destination as it is on the wire. The clock is the router's timestamp before the first
 * `%FACILITY-` marker, with the zone word IOS prints (`May 21 12:00:01.123 gmt:`).
 */
import { natParse, natSessionEvent } from './common.js';
import { LINE_REASONS } from './output.js';
import { deviceStamp } from './syslog.js';
import type { VendorOptions, VendorParser, VendorSession } from './types.js';

const NAME = 'cisco-iosxe-nat';
const MARKER = /%NAT-\d-LOG_TRANSLATION: /;
const FIRST_MARKER = /%[A-Z][A-Z0-9_]*-\d-[A-Z0-9_]+: /;
const ADDR = '([0-9A-Fa-f.:]+?):(\\d+)';
const TRANSLATION = new RegExp(`^(Created|Deleted) Translation (\\w+) ${ADDR} ${ADDR} ${ADDR} ${ADDR}(?:\\s|$)`);

function session(options: VendorOptions): VendorSession {
  const { p, realm, clocks } = natParse(options, NAME);

  return p.session((text, line) => {
    const marker = MARKER.exec(text);
    if (marker === null) return;
    const body = text.slice(marker.index + marker[0].length);
    const m = TRANSLATION.exec(body);
    if (m === null) {
      p.out.problem(line, '', LINE_REASONS.MALFORMED_LINE, 'LOG_TRANSLATION without "Created|Deleted Translation PROTO il:port ig:port ol:port og:port"', body);
      return;
    }
    const first = FIRST_MARKER.exec(text);
    const stamp = deviceStamp(text.slice(0, first?.index ?? marker.index), clocks);
    const time = p.time(
      line,
      'timestamp',
      stamp?.result ?? { ok: false, reason: 'TIME_MISSING', message: 'the NAT message has no timestamp before it (service timestamps log datetime)' },
      stamp?.text ?? text.slice(0, 40),
    );
    if (time === undefined) return;
    const protocol = p.protocol(line, 'protocol', m[2]);
    const insideIp = p.address(line, 'inside local', m[3]);
    const insidePort = p.port(line, 'inside local port', m[4]);
    const outsideIp = p.address(line, 'inside global', m[5]);
    const outsidePort = p.port(line, 'inside global port', m[6]);
    const destinationIp = p.address(line, 'outside global', m[9]);
    const destinationPort = p.port(line, 'outside global port', m[10]);
    const ev = natSessionEvent({ insideIp, insidePort, outsideIp, outsidePort, destinationIp, destinationPort, protocol }, realm, undefined, line);
    if (ev !== undefined) p.startOrStop(m[1] === 'Created', ev, time);
  });
}

export const ciscoIosxeNat: VendorParser = {
  name: NAME,
  description:
    "Cisco IOS-XE NAT translation logging (%NAT-6-LOG_TRANSLATION Created/Deleted Translation) → nat-session from inside local to inside global, towards the outside global address. Clock: the router's timestamp before the first %FACILITY- marker, with the zone word it prints, else timeZone; a header without year needs year. Needs realm.",
  sniff: (lines) => lines.some((l) => MARKER.test(l)),
  session,
};
