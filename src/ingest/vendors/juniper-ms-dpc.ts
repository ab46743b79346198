/**
 * Juniper MX services cards (MS-DPC, MS-PIC, MS-MPC) NAT logs: port-block allocation
 * (`ASP_NAT_PORT_BLOCK_ALLOC/RELEASE`, `NAT_PORT_BLOCK_ACTIVE`, and the `JSERVICES_`
 * names of MS-MPC) and NAT444 flows (`ASP_SFW_CREATE_ACCEPT_FLOW`, `ASP_SFW_DELETE_FLOW`
 * with "source address and port translate to").
 *
 * Each line carries two clocks: the Routing Engine's syslog header (local, no year) and
 * the PIC's own `YYYY-MM-DD HH:MM:SS` after `(FPC Slot n, PIC Slot m)`, which is UTC
 * (7 hours ahead of a Pacific RE header in the samples). The PIC clock is trusted.
 */
import { exact, timeFailure, wallMs, type TimeResult } from './clock.js';
import { natBlockEvent, natParse, natSessionEvent } from './common.js';
import { LINE_REASONS } from './output.js';
import { headerTime } from './syslog.js';
import type { VendorOptions, VendorParser, VendorSession } from './types.js';

const NAME = 'juniper-ms-dpc';
const PIC_TIME = /\(FPC Slot \d+, PIC Slot \d+\)\s+(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})/;
const BLOCK = /\b(?:ASP_|JSERVICES_)?NAT_PORT_BLOCK_(ALLOC|RELEASE|ACTIVE):\s+(\S+)\s+->\s+(\S+):(\d+)-(\d+)/;
const FLOW =
  /\bASP_SFW_(CREATE_ACCEPT|DELETE)_FLOW: proto (\d+) \([^)]*\) application: [^,]*, (\S+) -> (\S+), .*?source address and port translate to (\S+?):(\d+)\s*$/;
const FLOW_EVENT = /\bASP_SFW_(?:CREATE_ACCEPT|DELETE)_FLOW:/;
/** `ge-1/0/0.120:192.168.0.130:17700` or `192.168.0.130:17700`: the address and port at the end. */
const ENDPOINT = /(?:^|:)(\d{1,3}(?:\.\d{1,3}){3}):(\d+)$/;

function session(options: VendorOptions): VendorSession {
  const { p, realm, clocks } = natParse(options, NAME);

  function timeOf(text: string): TimeResult {
    const m = PIC_TIME.exec(text);
    if (m !== null) {
      const wall = wallMs(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
      return wall === null ? timeFailure('INVALID_TIME', `no such PIC time: ${m[0]}`) : exact(wall);
    }
    // No PIC stamp: the RE header, local, as the operator's zone and year say.
    return headerTime(text, clocks) ?? timeFailure('TIME_MISSING', 'neither a PIC time nor a syslog header');
  }

  return p.session((text, line) => {
    const block = BLOCK.exec(text);
    if (block !== null) {
      const time = p.time(line, 'timestamp', timeOf(text), text.slice(0, 60));
      if (time === undefined) return;
      const insideIp = p.address(line, 'subscriber', block[2]);
      const outsideIp = p.address(line, 'public address', block[3]);
      const portFirst = p.port(line, 'block low', block[4]);
      const portLast = p.port(line, 'block high', block[5]);
      const ev = natBlockEvent(p, line, 'block low', { insideIp, outsideIp, portFirst, portLast }, realm);
      if (ev === undefined) return;
      if (block[1] === 'ALLOC') p.book.grant({ ...ev, at: time.early });
      else if (block[1] === 'RELEASE') p.book.stop({ ...ev, at: time.late });
      else p.book.confirm({ ...ev, at: time.early });
      return;
    }
    if (!FLOW_EVENT.test(text)) return;
    const flow = FLOW.exec(text);
    // A flow without "translate to" was not translated: nothing about a public address.
    if (flow === null) {
      if (!text.includes('translate to')) return;
      p.out.problem(line, '', LINE_REASONS.MALFORMED_LINE, `not an ASP_SFW flow line: ${text.slice(0, 80)}`, text);
      return;
    }
    const time = p.time(line, 'timestamp', timeOf(text), text.slice(0, 60));
    if (time === undefined) return;
    const src = ENDPOINT.exec(flow[3]!);
    const dst = ENDPOINT.exec(flow[4]!);
    if (src === null || dst === null) {
      p.out.problem(line, 'flow', LINE_REASONS.MALFORMED_LINE, `flow endpoints are not IPv4 address:port: ${flow[3]} -> ${flow[4]}`, text);
      return;
    }
    const protocol = p.protocol(line, 'proto', flow[2]);
    const insideIp = p.address(line, 'source address', src[1]);
    const insidePort = p.port(line, 'source port', src[2]);
    const destinationIp = p.address(line, 'destination address', dst[1]);
    const destinationPort = p.port(line, 'destination port', dst[2]);
    const outsideIp = p.address(line, 'translated address', flow[5]);
    const outsidePort = p.port(line, 'translated port', flow[6]);
    const ev = natSessionEvent({ insideIp, insidePort, outsideIp, outsidePort, destinationIp, destinationPort, protocol }, realm, undefined, line);
    if (ev === undefined) return;
    p.startOrStop(flow[1] === 'CREATE_ACCEPT', ev, time);
  });
}

export const juniperMsDpc: VendorParser = {
  name: NAME,
  description:
    'Juniper MX MS-DPC/MS-PIC/MS-MPC NAT: ASP_NAT_PORT_BLOCK_ALLOC/RELEASE (and JSERVICES_) → nat-block, NAT_PORT_BLOCK_ACTIVE confirms; ASP_SFW_CREATE_ACCEPT_FLOW/DELETE_FLOW with a translation → nat-session. Clock: the PIC timestamp after (FPC Slot, PIC Slot), UTC (the RE header is local and not trusted); lines without one fall back to the header in timeZone with year. Needs realm.',
  sniff: (lines) => lines.some((l) => BLOCK.test(l) || FLOW_EVENT.test(l)),
  session,
};
