/**
 * Juniper SRX (Junos security flow) structured-data logs, with or without a syslog header:
 * port-block allocation (`RT_SRC_NAT_PBA_ALLOC/INTERIM/RELEASE`) and source-NAT sessions
 * (`RT_FLOW_SESSION_CREATE/CLOSE`, `APPTRACK_SESSION_CREATE/CLOSE`).
 */
import { natBlockEvent, natParse, natSessionEvent, sdParam } from './common.js';
import { LINE_REASONS } from './output.js';
import { headerTime } from './syslog.js';
import type { VendorOptions, VendorParser, VendorSession } from './types.js';

const NAME = 'juniper-srx';
const EVENT = /\b(RT_SRC_NAT_PBA_(ALLOC|INTERIM|RELEASE)|(?:RT_FLOW|APPTRACK)_SESSION_(CREATE|CLOSE)(?:_USF|_LS)?)\b/;
const HEX_EPOCH = /^[0-9a-fA-F]{1,12}$/;

function session(options: VendorOptions): VendorSession {
  const { p, realm, clocks } = natParse(options, NAME);

  function portBlock(text: string, line: number, kind: string): void {
    const epochText = sdParam(text, 'epoch-time-64');
    if (epochText === undefined || !HEX_EPOCH.test(epochText)) {
      p.out.problem(line, 'epoch-time-64', epochText === undefined ? 'TIME_MISSING' : 'INVALID_TIME', `${kind}: epoch-time-64 must be hex Unix seconds, got ${JSON.stringify(epochText)}`, epochText);
      return;
    }
    // epoch-time-64 is the allocation time on ALLOC and INTERIM, the release time on RELEASE.
    const epoch = parseInt(epochText, 16) * 1000;
    const insideIp = p.address(line, 'internal-ip', sdParam(text, 'internal-ip'));
    const outsideIp = p.address(line, 'reflexive-ip', sdParam(text, 'reflexive-ip'));
    const portFirst = p.port(line, 'block-port-low', sdParam(text, 'block-port-low'));
    const portLast = p.port(line, 'block-port-high', sdParam(text, 'block-port-high'));
    const ev = natBlockEvent(p, line, 'block-port-low', { insideIp, outsideIp, portFirst, portLast }, realm);
    if (ev === undefined) return;
    if (kind === 'ALLOC') p.book.grant({ ...ev, at: epoch });
    else if (kind === 'RELEASE') p.book.stop({ ...ev, at: epoch });
    else {
      // INTERIM repeats the allocation epoch: it confirms, and gives the start if ALLOC was missed.
      const header = headerTime(text, clocks);
      const at = header?.ok === true ? header.value.early : epoch;
      p.book.confirm({ ...ev, at: Math.max(at, epoch), startIfNew: epoch });
    }
  }

  function flow(text: string, line: number, kind: string): void {
    const sourceAddress = sdParam(text, 'source-address');
    const natAddress = sdParam(text, 'nat-source-address');
    const sourcePort = sdParam(text, 'source-port');
    const natPort = sdParam(text, 'nat-source-port');
    if (sourceAddress === undefined || natAddress === undefined) {
      p.out.problem(line, 'nat-source-address', LINE_REASONS.MALFORMED_LINE, `${kind}: only the structured-data form (source-address="…" nat-source-address="…") is read`, text);
      return;
    }
    // A flow without source translation says nothing about a public address.
    if (sourceAddress === natAddress && sourcePort === natPort) return;
    const header = headerTime(text, clocks) ?? { ok: false as const, reason: 'TIME_MISSING' as const, message: `${kind}: the line has no syslog header, so no time` };
    const time = p.time(line, 'timestamp', header, text.slice(0, 40));
    if (time === undefined) return;
    const insideIp = p.address(line, 'source-address', sourceAddress);
    const insidePort = p.port(line, 'source-port', sourcePort);
    const outsideIp = p.address(line, 'nat-source-address', natAddress);
    const outsidePort = p.port(line, 'nat-source-port', natPort);
    const natDst = sdParam(text, 'nat-destination-address');
    const dstText = natDst !== undefined && natDst !== '0.0.0.0' && natDst !== '' ? natDst : sdParam(text, 'destination-address');
    const dstPortText = natDst !== undefined && natDst !== '0.0.0.0' && natDst !== '' ? sdParam(text, 'nat-destination-port') : sdParam(text, 'destination-port');
    const destinationIp = p.address(line, 'nat-destination-address', dstText);
    const destinationPort = p.port(line, 'nat-destination-port', dstPortText);
    const protocol = p.protocol(line, 'protocol-id', sdParam(text, 'protocol-id'));
    const sessionId = sdParam(text, 'session-id-32') ?? sdParam(text, 'session-id') ?? '';
    const ev = natSessionEvent({ insideIp, insidePort, outsideIp, outsidePort, destinationIp, destinationPort, protocol }, realm, sessionId, line);
    if (ev === undefined) return;
    if (kind === 'CREATE') {
      p.book.grant({ ...ev, at: time.early });
      return;
    }
    const elapsed = sdParam(text, 'elapsed-time');
    // elapsed-time is whole seconds, truncated: the start lies within one more second.
    const derivedStart = elapsed !== undefined && /^\d{1,10}$/.test(elapsed) ? time.late - (Number(elapsed) + 1) * 1000 : undefined;
    p.book.stop(derivedStart === undefined ? { ...ev, at: time.late } : { ...ev, at: time.late, derivedStart });
  }

  return p.session((text, line) => {
    const m = EVENT.exec(text);
    if (m === null) return;
    if (m[2] !== undefined) portBlock(text, line, m[2]);
    else flow(text, line, m[3]!);
  });
}

export const juniperSrx: VendorParser = {
  name: NAME,
  description:
    'Juniper SRX structured-data logs: RT_SRC_NAT_PBA_ALLOC/INTERIM/RELEASE → nat-block (clock: epoch-time-64, hex Unix seconds, UTC; INTERIM repeats the allocation time and only confirms) and RT_FLOW/APPTRACK_SESSION_CREATE/CLOSE with source NAT → nat-session (clock: the syslog header; an offset-less header needs timeZone, a BSD header needs year). Needs realm.',
  sniff: (lines) => lines.some((l) => EVENT.test(l)),
  session,
};
