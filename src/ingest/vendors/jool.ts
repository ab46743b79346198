/**
 * Jool NAT64 kernel log (`--logging-bib`, `--logging-session`): BIB entries mapped and
 * forgotten (`Mapped 2001:db8::5#19945 to 192.0.2.2#8208 (UDP)`) and sessions added and
 * forgotten (`v6 src|v6 dst|v4 src|v4 dst|PROTO`). Jool stamps each line with its own
 * UTC date, not zero-padded (`2015/4/8 17:1:47 (GMT)`); the `[uptime]` is ignored.
 */
import { wallMs, timeFailure, zoneWordOffset, fromOffset, type TimeResult } from './clock.js';
import { natMappingEvent, natParse, natSessionEvent } from './common.js';
import type { VendorOptions, VendorParser, VendorSession } from './types.js';

const NAME = 'jool';
const HEAD = /\[\s*\d+\.\d+\]\s+(?:\S+\s+)?(\d{4,})\/(\d{1,2})\/(\d{1,2}) (\d{1,2}):(\d{1,2}):(\d{1,2}) \(([^)]+)\) - /;
const BIB = /^(Mapped|Forgot) (\S+)#(\d+) to (\S+)#(\d+) \((\w+)\)/;
const SESSION = /^(Added|Forgot) session (\S+)#(\d+)\|(\S+)#(\d+)\|(\S+)#(\d+)\|(\S+)#(\d+)\|(\w+)/;

function session(options: VendorOptions): VendorSession {
  const { p, realm, clocks } = natParse(options, NAME);

  function timeOf(m: RegExpExecArray): TimeResult {
    const wall = wallMs(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
    if (wall === null) return timeFailure('INVALID_TIME', `no such date or time: ${m[0]}`);
    const zone = zoneWordOffset(m[7]!, clocks.abbreviations);
    return zone.ok ? fromOffset(wall, zone.offset) : timeFailure(zone.reason, zone.message);
  }

  return p.session((text, line) => {
    const head = HEAD.exec(text);
    if (head === null) return;
    const body = text.slice(head.index + head[0].length);
    const bib = BIB.exec(body);
    const sess = bib === null ? SESSION.exec(body) : null;
    if (bib === null && sess === null) return;
    const time = p.time(line, 'timestamp', timeOf(head), head[0]);
    if (time === undefined) return;
    if (bib !== null) {
      const insideIp = p.address(line, 'IPv6 address', bib[2]);
      const insidePort = p.port(line, 'IPv6 port', bib[3]);
      const outsideIp = p.address(line, 'IPv4 address', bib[4]);
      const outsidePort = p.port(line, 'IPv4 port', bib[5]);
      const protocol = p.protocol(line, 'protocol', bib[6]);
      const ev = natMappingEvent({ insideIp, insidePort, outsideIp, outsidePort, protocol }, realm, line);
      if (ev !== undefined) p.startOrStop(bib[1] === 'Mapped', ev, time);
      return;
    }
    const s = sess!;
    const insideIp = p.address(line, 'IPv6 source', s[2]);
    const insidePort = p.port(line, 'IPv6 source port', s[3]);
    const outsideIp = p.address(line, 'IPv4 source', s[6]);
    const outsidePort = p.port(line, 'IPv4 source port', s[7]);
    const destinationIp = p.address(line, 'IPv4 destination', s[8]);
    const destinationPort = p.port(line, 'IPv4 destination port', s[9]);
    const protocol = p.protocol(line, 'protocol', s[10]);
    const ev = natSessionEvent({ insideIp, insidePort, outsideIp, outsidePort, destinationIp, destinationPort, protocol }, realm, undefined, line);
    if (ev !== undefined) p.startOrStop(s[1] === 'Added', ev, time);
  });
}

export const jool: VendorParser = {
  name: NAME,
  description:
    "Jool NAT64 kernel log: BIB Mapped/Forgot → nat-session without destination (IPv6 inside, IPv4 outside), session Added/Forgot → nat-session with the IPv4 destination. Clock: Jool's own date (not zero-padded) with its zone in parentheses, (GMT). Needs realm.",
  sniff: (lines) => lines.some((l) => HEAD.test(l) && / - (?:Mapped|Forgot|Added session) /.test(l)),
  session,
};
