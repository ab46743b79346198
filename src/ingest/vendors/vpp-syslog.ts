/**
 * FD.io VPP NAT plugin syslog (RFC 5424, `nat_syslog.c`): session add/delete (SADD/SDEL,
 * SD-ID `nsess`, nat44-ed and NAT64) and address-port mapping add/delete (APMADD/APMDEL,
 * SD-ID `napmap`, nat44-ei and DS-Lite). VPP writes UTC with microseconds and `Z`.
 *
 * A message may arrive wrapped over several lines (copied from documentation or split
 * by a relay), with typographic quotes: lines are joined until the structured data
 * closes, and problems name the message's first line.
 */
import { natParse, sdParam } from './common.js';
import { LINE_REASONS } from './output.js';
import type { VendorOptions, VendorParser, VendorSession } from './types.js';
import { WrappedLines } from './wrapped.js';

const NAME = 'vpp-syslog';
/** A line that begins a VPP NAT message: the header, or a `<PRI>1` the line ends on. */
const START = /<\d{1,3}>1(?:\s*$|\s+\d{4}-\d{2}-\d{2}T\S+\s+\S+\s+NAT\s)|\d{4}-\d{2}-\d{2}T\S+\s+\S+\s+NAT\s+\S+\s+(?:SADD|SDEL|APMADD|APMDEL)\s/;
const MESSAGE = /(\d{4}-\d{2}-\d{2}T\S+)\s+\S+\s+NAT\s+\S+\s+(SADD|SDEL|APMADD|APMDEL)\s+(\[(?:nsess|napmap)\s[^\]]*\])/;
const HEAD = /\d{4}-\d{2}-\d{2}T\S+\s+\S+\s+NAT\s/;
const COMPLETE = /\[(?:nsess|napmap)\s[^\]]*\]/;
const TYPOGRAPHIC_QUOTES = /[\u201C\u201D\u201E\u201F\u2033]/g;
/** A wrapped message longer than this is not one. */
const MAX_WRAPPED_LINES = 8;

function session(options: VendorOptions): VendorSession {
  const { p, realm, clocks } = natParse(options, NAME);

  function message(text: string, line: number): void {
    const m = MESSAGE.exec(text);
    if (m === null) {
      p.out.problem(line, '', LINE_REASONS.MALFORMED_LINE, `not a VPP NAT message: ${text.slice(0, 80)}`, text);
      return;
    }
    const time = p.time(line, 'timestamp', clocks.iso(m[1]!), m[1]);
    if (time === undefined) return;
    const kind = m[2]!;
    const sd = m[3]!;
    // DS-Lite names the subscriber by its softwire (B4) IPv6 address; its inside IPv4 is shared.
    const softwire = sdParam(sd, 'SV6ENC');
    const insideIp = p.address(line, softwire === undefined ? 'ISADDR' : 'SV6ENC', softwire ?? sdParam(sd, 'ISADDR'));
    const insidePort = p.port(line, 'ISPORT', sdParam(sd, 'ISPORT'));
    const outsideIp = p.address(line, 'XSADDR', sdParam(sd, 'XSADDR'));
    const outsidePort = p.port(line, 'XSPORT', sdParam(sd, 'XSPORT'));
    const protocol = p.protocol(line, 'PROTO', sdParam(sd, 'PROTO'));
    if (insideIp === undefined || insidePort === undefined || outsideIp === undefined || outsidePort === undefined || protocol === undefined) return;
    const xd = sdParam(sd, 'XDADDR');
    let destination: { destinationIp: string; destinationPort: number } | undefined;
    if (xd !== undefined) {
      const destinationIp = p.address(line, 'XDADDR', xd);
      const destinationPort = p.port(line, 'XDPORT', sdParam(sd, 'XDPORT'));
      if (destinationIp === undefined || destinationPort === undefined) return;
      destination = { destinationIp, destinationPort };
    }
    const fields = { kind: 'nat-session' as const, realm, insideIp, insidePort, outsideIp, outsidePort, ...destination, protocol };
    const ev = {
      resource: `${protocol}|${outsideIp}|${outsidePort}|${destination?.destinationIp ?? ''}|${destination?.destinationPort ?? ''}`,
      holder: `${insideIp}|${insidePort}`,
      fields,
      line,
    };
    if (kind === 'SADD' || kind === 'APMADD') p.book.grant({ ...ev, at: time.early });
    else p.book.stop({ ...ev, at: time.late });
  }

  const wrapped = new WrappedLines({
    starts: (t) => START.test(t),
    complete: (t) => COMPLETE.test(t),
    // A new header ends a pending message, unless all it holds so far is a bare `<PRI>1`.
    startEnds: (pending) => HEAD.test(pending),
    maxLines: MAX_WRAPPED_LINES,
    message,
    unterminated: (text, line, count) =>
      p.out.problem(line, '', LINE_REASONS.UNTERMINATED_MESSAGE, `a VPP NAT message starting here did not close within ${count} lines`, text),
  });

  p.idle = () => wrapped.idle();
  return p.session(
    (raw, line) => wrapped.push(raw.includes('\u201C') || raw.includes('\u201D') ? raw.replace(TYPOGRAPHIC_QUOTES, '"') : raw, line),
    () => wrapped.flush(),
  );
}

export const vppSyslog: VendorParser = {
  name: NAME,
  description:
    'FD.io VPP NAT syslog (RFC 5424): SADD/SDEL sessions → nat-session (with destination when XDADDR is logged), APMADD/APMDEL port mappings → nat-session without destination; DS-Lite mappings use the softwire address SV6ENC as the inside address. Clock: the RFC 5424 timestamp (UTC, Z). Messages wrapped over several lines are joined. Needs realm.',
  sniff: (lines) => {
    const joined = lines.join(' ').replace(TYPOGRAPHIC_QUOTES, '"');
    return MESSAGE.test(joined);
  },
  session,
};
