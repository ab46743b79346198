/**
 * MikroTik RouterOS firewall logs with a NAT annotation (`log=yes` on a forward rule):
 * `… proto TCP (ACK), 10.10.12.32:50849->52.123.135.5:443, NAT (10.10.12.32:50849->
 * 46.102.221.224:50849)->52.123.135.5:443, len 40` for a packet out through source NAT,
 * and `NAT 52.123.135.5:443->(46.102.221.224:50849->10.10.12.32:50849)` for its reply
 * (connection-state `…,snat`). Each line is one packet: it shows the translation alive at
 * its time, so the lines of one translation make one interval from its first packet,
 * ended like any interval without a logged stop (the next holder of the outside port, the
 * timeout after the last packet — pass `--missing-stop-timeout` — or the file's last
 * time). ICMP is logged without ports: its records carry port 0, as PAN-OS writes them.
 * A packet logged in the srcnat chain shows only the tuple before translation, and a
 * destination-NAT reply form without `snat` is a port forward: neither is read.
 * RouterOS remote syslog puts a BSD header (local time, no year) in front.
 */
import { natParse, natSessionEvent } from './common.js';
import { LINE_REASONS } from './output.js';
import { headerTime } from './syslog.js';
import type { VendorOptions, VendorParser, VendorSession } from './types.js';

const NAME = 'mikrotik-firewall';
const TOPIC = /\bfirewall,[a-z,]+ /;
const IP = '(\\d{1,3}(?:\\.\\d{1,3}){3})(?::(\\d+))?';
/** `NAT (inside->public)->destination`: the packet left through source NAT. */
const OUTBOUND = new RegExp(`, NAT \\(${IP}->${IP}\\)->${IP}(?:,|$)`);
/** `NAT destination->(public->inside)`: a reply coming back through it. */
const REPLY = new RegExp(`, NAT ${IP}->\\(${IP}->${IP}\\)(?:,|$)`);
const PROTO = /\bproto ([A-Za-z0-9-]+)/;
const SNAT_STATE = /\bconnection-state:\S*\bsnat\b/;

function session(options: VendorOptions): VendorSession {
  const { p, realm, clocks } = natParse(options, NAME);

  return p.session((text, line) => {
    if (!TOPIC.test(text)) return;
    if (!text.includes(', NAT ')) {
      // Every logged packet shows how far the log has got (the end of an idle translation).
      const seen = headerTime(text, clocks);
      if (seen?.ok === true) p.book.see(seen.value.late);
      return;
    }
    const out = OUTBOUND.exec(text);
    const reply = out === null ? REPLY.exec(text) : null;
    if (out === null && reply === null) {
      p.out.problem(line, 'NAT', LINE_REASONS.MALFORMED_LINE, 'a NAT annotation that is neither "NAT (SRC->PUBLIC)->DST" nor "NAT DST->(PUBLIC->SRC)"', text);
      return;
    }
    // The reply form without snat is destination NAT (a port forward), not a subscriber's source.
    if (reply !== null && !SNAT_STATE.test(text)) return;
    const time = p.time(
      line,
      'timestamp',
      headerTime(text, clocks) ?? { ok: false, reason: 'TIME_MISSING', message: 'a RouterOS log line without its syslog header, so no time' },
      text.slice(0, 30),
    );
    if (time === undefined) return;
    const protocol = p.protocol(line, 'proto', PROTO.exec(text)?.[1]);
    if (protocol === undefined) return;
    // Groups: outbound (inside, public, destination); reply (destination, public, inside).
    const g = out ?? reply!;
    const [inside, outside, destination] = out !== null ? [1, 3, 5] : [5, 3, 1];
    const portOf = (at: number, field: string): number | undefined =>
      g[at + 1] === undefined ? (protocol === 'icmp' || protocol === 'icmpv6' ? 0 : p.port(line, field, undefined)) : p.port(line, field, g[at + 1]);
    const insideIp = p.address(line, 'NAT inside', g[inside]);
    const insidePort = portOf(inside, 'NAT inside port');
    const outsideIp = p.address(line, 'NAT public', g[outside]);
    const outsidePort = portOf(outside, 'NAT public port');
    const destinationIp = p.address(line, 'NAT destination', g[destination]);
    const destinationPort = portOf(destination, 'NAT destination port');
    const ev = natSessionEvent({ insideIp, insidePort, outsideIp, outsidePort, destinationIp, destinationPort, protocol }, realm, undefined, line);
    if (ev === undefined) return;
    // A packet is evidence the translation is alive: it opens one when none is, else extends it.
    p.book.confirm({ ...ev, at: time.late, startIfNew: time.early });
  });
}

export const mikrotikFirewall: VendorParser = {
  name: NAME,
  description:
    'MikroTik RouterOS firewall logs with a source-NAT annotation ("NAT (SRC->PUBLIC)->DST", and replies "NAT DST->(PUBLIC->SRC)" with connection-state snat) → nat-session from its first packet; each packet extends it (use missingStopTimeoutSeconds); ICMP gets port 0. Clock: the BSD syslog header, local: needs timeZone and year. Needs realm.',
  sniff: (lines) => lines.some((l) => TOPIC.test(l) && /\bproto [A-Za-z]+/.test(l) && /\bin:\S/.test(l)),
  session,
};
