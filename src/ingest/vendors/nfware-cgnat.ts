/**
 * NFWare vCGNAT syslog (docs.nfware.com, NAT logging, "message format"): an event letter
 * (`A` added, `D` deleted), the VRF, then one of four mappings —
 * address (`INT ip EXT ip`, 1:1 NAT), port (`P INT ip:port EXT ip:port`), session (the port
 * mapping with `DST ip:port DIR OUT`) and port block (`INT ip EXT ip:low-high`). NFWare
 * sends RFC 5424 (a relay may put its BSD header in front); a message without a header
 * carries no time.
 */
import { natBlockEvent, natMappingEvent, natParse, natSessionEvent } from './common.js';
import { LINE_REASONS } from './output.js';
import { headerTime } from './syslog.js';
import type { VendorOptions, VendorParser, VendorSession } from './types.js';

const NAME = 'nfware-cgnat';
const EVENT = /(?:^|\s)([AD]) VRF (\d+) (.*)$/;
const ADDRESS = /^INT ([^\s:]+) EXT ([^\s:]+)\s*$/;
const BLOCK = /^INT ([^\s:]+) EXT ([^\s:]+):(\d+)-(\d+)\s*$/;
const PORT = /^(\d+) INT ([^\s:]+):(\d+) EXT ([^\s:]+):(\d+)(?: DST ([^\s:]+):(\d+)(?: DIR (\w+))?)?\s*$/;

function session(options: VendorOptions): VendorSession {
  const { p, realm, clocks } = natParse(options, NAME);
  /** Inside address spaces of other VRFs overlap VRF 0's: each is its own realm. */
  const realmOf = (vrf: string): string => (vrf === '0' ? realm : `${realm}:vrf${vrf}`);

  return p.session((text, line) => {
    const e = EVENT.exec(text);
    if (e === null) return;
    const opens = e[1] === 'A';
    const rest = e[3]!;
    const address = ADDRESS.exec(rest);
    const block = address === null ? BLOCK.exec(rest) : null;
    const port = address === null && block === null ? PORT.exec(rest) : null;
    if (address === null && block === null && port === null) {
      p.out.problem(line, '', LINE_REASONS.MALFORMED_LINE, `an NFWare ${e[1]} VRF event that is no address, port, session or port-block mapping`, text);
      return;
    }
    const time = p.time(
      line,
      'timestamp',
      headerTime(text, clocks) ?? { ok: false, reason: 'TIME_MISSING', message: 'an NFWare message without its syslog header, so no time' },
      text.slice(0, 40),
    );
    if (time === undefined) return;
    const r = realmOf(e[2]!);
    if (address !== null || block !== null) {
      const m = (address ?? block)!;
      const insideIp = p.address(line, 'INT', m[1]);
      const outsideIp = p.address(line, 'EXT', m[2]);
      // A 1:1 address mapping gives the inside host every port of the outside address.
      const portFirst = address !== null ? 0 : p.port(line, 'EXT port low', m[3]);
      const portLast = address !== null ? 65535 : p.port(line, 'EXT port high', m[4]);
      const ev = natBlockEvent(p, line, 'EXT', { insideIp, outsideIp, portFirst, portLast }, r);
      if (ev !== undefined) p.startOrStop(opens, ev, time);
      return;
    }
    const m = port!;
    const protocol = p.protocol(line, 'protocol', m[1]);
    const insideIp = p.address(line, 'INT', m[2]);
    const insidePort = p.port(line, 'INT port', m[3]);
    const outsideIp = p.address(line, 'EXT', m[4]);
    const outsidePort = p.port(line, 'EXT port', m[5]);
    if (m[6] === undefined) {
      const ev = natMappingEvent({ insideIp, insidePort, outsideIp, outsidePort, protocol }, r, line);
      if (ev !== undefined) p.startOrStop(opens, ev, time);
      return;
    }
    const destinationIp = p.address(line, 'DST', m[6]);
    const destinationPort = p.port(line, 'DST port', m[7]);
    const ev = natSessionEvent({ insideIp, insidePort, outsideIp, outsidePort, destinationIp, destinationPort, protocol }, r, undefined, line);
    if (ev !== undefined) p.startOrStop(opens, ev, time);
  });
}

export const nfwareCgnat: VendorParser = {
  name: NAME,
  description:
    "NFWare vCGNAT syslog: A/D address mappings → nat-block of every port, port mappings → nat-session without destination, sessions (DST) → nat-session, port blocks → nat-block; VRF n > 0 is realm REALM:vrfn. Clock: the syslog header (RFC 5424, or a relay's BSD header: timeZone and year). Needs realm.",
  sniff: (lines) => lines.some((l) => /(?:^|\s)[AD] VRF \d+ (?:\d+ )?INT \S+ EXT \S+/.test(l)),
  session,
};
