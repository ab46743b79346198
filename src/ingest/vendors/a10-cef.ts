/**
 * A10 Thunder CGN logs in CEF: port allocated/freed (CGN 100/101), session created/deleted
 * (CGN 102/103) and port batch allocated/freed (CGN 106/107). The CEF body carries no
 * device time unless `rt=` is set, so the clock is the one in front of it: the
 * collector's receive time (RFC 3339) or a syslog header.
 */
import { epochDigitsMs, exact, timeFailure, type TimeResult } from './clock.js';
import { kvParam, natBlockEvent, natMappingEvent, natParse, natSessionEvent } from './common.js';
import { headerTime } from './syslog.js';
import type { VendorOptions, VendorParser, VendorSession } from './types.js';

const NAME = 'a10-cef';
const CEF = /(?:^|CEF:)\d+\|A10\|[^|]*\|[^|]*\|CGN (\d{3})\|[^|]*\|[^|]*\|/;
const LEADING_ISO = /^(\d{4}-\d{2}-\d{2}T\S+)\s/;

function session(options: VendorOptions): VendorSession {
  const { p, realm, clocks } = natParse(options, NAME);

  function timeOf(text: string, ext: string): TimeResult {
    const rt = kvParam(ext, 'rt');
    if (rt !== undefined) {
      const ms = epochDigitsMs(rt);
      return ms === null ? timeFailure('INVALID_TIME', `rt=${rt} is not epoch milliseconds`) : exact(ms);
    }
    const iso = LEADING_ISO.exec(text);
    if (iso !== null) return clocks.iso(iso[1]!);
    return headerTime(text, clocks) ?? timeFailure('TIME_MISSING', 'the CEF message has no rt= and no receive time or syslog header in front of it');
  }

  return p.session((text, line) => {
    const m = CEF.exec(text);
    if (m === null) return;
    const code = m[1]!;
    if (!['100', '101', '102', '103', '106', '107'].includes(code)) return;
    // From the `|` before the extension, so its first key starts a parameter too.
    const ext = text.slice(m.index + m[0].length - 1);
    const time = p.time(line, 'timestamp', timeOf(text, ext), text.slice(0, 40));
    if (time === undefined) return;
    const protocol = p.protocol(line, 'proto', kvParam(ext, 'proto'));
    const insideIp = p.address(line, 'src', kvParam(ext, 'src'));
    const outsideIp = p.address(line, 'sourceTranslatedAddress', kvParam(ext, 'sourceTranslatedAddress'));
    const outsidePort = p.port(line, 'sourceTranslatedPort', kvParam(ext, 'sourceTranslatedPort'));
    if (protocol === undefined || insideIp === undefined || outsideIp === undefined || outsidePort === undefined) return;

    if (code === '106' || code === '107') {
      // A port batch: sourceTranslatedPort is its first port, cn3 ("Last Nat Port") its last.
      const portLast = p.port(line, 'cn3', kvParam(ext, 'cn3'));
      if (portLast === undefined) return;
      const ev = natBlockEvent(p, line, 'cn3', { insideIp, outsideIp, portFirst: outsidePort, portLast }, realm, { protocol, noun: 'port batch' });
      if (ev === undefined) return;
      p.startOrStop(code === '106', ev, time);
      return;
    }

    const insidePort = p.port(line, 'spt', kvParam(ext, 'spt'));
    if (insidePort === undefined) return;
    if (code === '100' || code === '101') {
      // A port mapping serves every destination: the dst of the first flow is not part of it.
      const ev = natMappingEvent({ insideIp, insidePort, outsideIp, outsidePort, protocol }, realm, line);
      if (ev !== undefined) p.startOrStop(code === '100', ev, time);
      return;
    }
    const dstField = kvParam(ext, 'destinationTranslatedAddress') !== undefined ? 'destinationTranslatedAddress' : 'dst';
    const destinationIp = p.address(line, dstField, kvParam(ext, dstField));
    const destinationPort = p.port(
      line,
      dstField === 'dst' ? 'dpt' : 'destinationTranslatedPort',
      kvParam(ext, dstField === 'dst' ? 'dpt' : 'destinationTranslatedPort'),
    );
    const ev = natSessionEvent({ insideIp, insidePort, outsideIp, outsidePort, destinationIp, destinationPort, protocol }, realm, undefined, line);
    if (ev !== undefined) p.startOrStop(code === '102', ev, time);
  });
}

export const a10Cef: VendorParser = {
  name: NAME,
  description:
    'A10 Thunder CGN CEF: CGN 100/101 port allocated/freed → nat-session without destination, CGN 102/103 session created/deleted → nat-session, CGN 106/107 port batch allocated/freed → nat-block (cn3 is the last port). Clock: CEF rt= (epoch ms) if present, else the collector receive time (RFC 3339) or syslog header in front of the CEF body; lines arrive out of order and are re-paired. Needs realm.',
  sniff: (lines) => lines.some((l) => CEF.test(l)),
  session,
};
