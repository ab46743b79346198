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
const EVENT = /\b(RT_SRC_NAT_PBA_(ALLOC|INTERIM|RELEASE)|(?:RT_FLOW|APPTRACK)_SESSION_(CREATE|CLOSE|VOL_UPDATE)(?:_USF|_LS)?)\b/;
const IP = '([0-9A-Fa-f.:]+)';
/**
 * The text (non-structured) form: `session created|closed REASON: SRC/P->DST/P [0xTAG]
 * SERVICE NATSRC/P->NATDST/P [0xTAG] <NAT rule fields> PROTOCOL POLICY FROM TO SESSION-ID
 * …`, a close adding `PKTS(BYTES) PKTS(BYTES) ELAPSED` after the session id. The NAT rule
 * fields are one or two words each (`source rule r1`, `N/A`), so the protocol is the first
 * bare number after the translated tuple.
 */
const TEXT_FLOW = new RegExp(
  `session (?:created|closed [^:]*:) ${IP}/(\\d+)->${IP}/(\\d+) (?:0x[0-9a-fA-F]+ )?\\S+ ${IP}/(\\d+)->${IP}/(\\d+) (?:0x[0-9a-fA-F]+ )?(.*)$`,
);
const TEXT_TAIL = /(?:^|\s)(\d{1,3}) \S+ \S+ \S+ (\d+)(?: \d+\(\d+\) \d+\(\d+\) (\d+))?/;
const HEX_EPOCH = /^[0-9a-fA-F]{1,12}$/;

function session(options: VendorOptions): VendorSession {
  const { p, realm, clocks } = natParse(options, NAME);

  function portBlock(text: string, line: number, kind: string): void {
    const epochText = sdParam(text, 'epoch-time-64');
    if (epochText === undefined || !HEX_EPOCH.test(epochText)) {
      p.out.problem(
        line,
        'epoch-time-64',
        epochText === undefined ? 'TIME_MISSING' : 'INVALID_TIME',
        `${kind}: epoch-time-64 must be hex Unix seconds, got ${JSON.stringify(epochText)}`,
        epochText,
      );
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

  /** The flow's fields, from the structured data or, failing that, the text form. */
  function flowFields(text: string): ((key: string) => string | undefined) | undefined {
    if (sdParam(text, 'source-address') !== undefined) return (key) => sdParam(text, key);
    const m = TEXT_FLOW.exec(text);
    const tail = m === null ? null : TEXT_TAIL.exec(m[9]!);
    if (m === null || tail === null) return undefined;
    const fields = new Map<string, string | undefined>([
      ['source-address', m[1]],
      ['source-port', m[2]],
      ['destination-address', m[3]],
      ['destination-port', m[4]],
      ['nat-source-address', m[5]],
      ['nat-source-port', m[6]],
      ['nat-destination-address', m[7]],
      ['nat-destination-port', m[8]],
      ['protocol-id', tail[1]],
      ['session-id-32', tail[2]],
      ['elapsed-time', tail[3]],
    ]);
    return (key) => fields.get(key);
  }

  function flow(text: string, line: number, kind: string): void {
    const field = flowFields(text);
    if (field === undefined) {
      p.out.problem(
        line,
        'nat-source-address',
        LINE_REASONS.MALFORMED_LINE,
        `${kind}: neither the structured-data form (source-address="…" nat-source-address="…") nor the text form (session created SRC/PORT->DST/PORT SERVICE NATSRC/PORT->NATDST/PORT …)`,
        text,
      );
      return;
    }
    const sourceAddress = field('source-address');
    const natAddress = field('nat-source-address');
    const sourcePort = field('source-port');
    const natPort = field('nat-source-port');
    if (natAddress === undefined) {
      p.out.problem(line, 'nat-source-address', LINE_REASONS.MALFORMED_LINE, `${kind}: the structured data has no nat-source-address`, text);
      return;
    }
    // A flow without source translation says nothing about a public address.
    if (sourceAddress === natAddress && sourcePort === natPort) return;
    const header = headerTime(text, clocks) ?? {
      ok: false as const,
      reason: 'TIME_MISSING' as const,
      message: `${kind}: the line has no syslog header, so no time`,
    };
    const time = p.time(line, 'timestamp', header, text.slice(0, 40));
    if (time === undefined) return;
    const insideIp = p.address(line, 'source-address', sourceAddress);
    const insidePort = p.port(line, 'source-port', sourcePort);
    const outsideIp = p.address(line, 'nat-source-address', natAddress);
    const outsidePort = p.port(line, 'nat-source-port', natPort);
    const natDst = field('nat-destination-address');
    const translated = natDst !== undefined && natDst !== '0.0.0.0' && natDst !== '';
    const destinationIp = p.address(line, 'nat-destination-address', translated ? natDst : field('destination-address'));
    const destinationPort = p.port(line, 'nat-destination-port', translated ? field('nat-destination-port') : field('destination-port'));
    const protocol = p.protocol(line, 'protocol-id', field('protocol-id'));
    const sessionId = field('session-id-32') ?? field('session-id') ?? '';
    const ev = natSessionEvent({ insideIp, insidePort, outsideIp, outsidePort, destinationIp, destinationPort, protocol }, realm, sessionId, line);
    if (ev === undefined) return;
    if (kind === 'CREATE') {
      p.book.grant({ ...ev, at: time.early });
      return;
    }
    const elapsed = field('elapsed-time');
    const seconds = elapsed !== undefined && /^\d{1,10}$/.test(elapsed) ? Number(elapsed) : undefined;
    // elapsed-time is whole seconds, truncated: the start lies within one more second.
    const derivedStart = seconds === undefined ? undefined : time.late - (seconds + 1) * 1000;
    if (kind === 'VOL_UPDATE') {
      // A volume update shows the session alive now: it extends it, or opens it from its elapsed time.
      p.book.confirm(derivedStart === undefined ? { ...ev, at: time.late } : { ...ev, at: time.late, startIfNew: derivedStart });
      return;
    }
    p.book.stop(seconds === undefined ? { ...ev, at: time.late } : { ...ev, at: time.late, derivedStart: derivedStart!, elapsedMs: seconds * 1000 });
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
