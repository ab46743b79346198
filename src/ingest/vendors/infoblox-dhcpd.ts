/**
 * ISC dhcpd syslog as Infoblox NIOS (and plain dhcpd) writes it: `DHCPACK on IP to MAC …
 * lease-duration N` starts or renews a lease (Infoblox adds the duration; plain dhcpd does
 * not, and such a lease ends at its release, expiry, the next client or the timeout —
 * `default-lease-time`, 12 h, unless given), `DHCPRELEASE of IP from MAC` and `DHCPEXPIRE on IP to MAC` end it;
 * dhcpdv6 `Reply NA`/`Reply PD … valid for N seconds` leases an address or a prefix.
 * Offers, requests and advertisements are not leases. The BSD header is the server's local
 * time without a year.
 */
import { instantInRange } from './clock.js';
import { allocationParse, macOf, nullHardware } from './common.js';
import { LINE_REASONS } from './output.js';
import { BSD_HEAD, headerTime } from './syslog.js';
import type { VendorOptions, VendorParser, VendorSession } from './types.js';

const NAME = 'infoblox-dhcpd';
/** `dhcpd[pid]: ` (BSD), or RFC 5424's `dhcpd PROCID MSGID - ` (no structured data). */
const DAEMON = /\bdhcpd(?:v6)?(?:(?:\[\d+\])?: | \S+ \S+ - )/;
const ACK = /^DHCPACK on (\S+) to ([0-9A-Fa-f:]+)\b(.*)$/;
const RELEASE = /^DHCPRELEASE of (\S+) from ([0-9A-Fa-f:]+)\b(.*)$/;
const EXPIRE = /^DHCPEXPIRE on (\S+) to ([0-9A-Fa-f:]+)/;
const REPLY = /^Reply (NA|PD): (?:address|prefix) (\S+) to client with duid ([0-9A-Fa-f:]+).*? valid for (\d+) seconds/;
const DURATION = /\blease-duration (\d+)/;

function session(options: VendorOptions): VendorSession {
  const { p, realm, clocks } = allocationParse(options, NAME);

  return p.session((text, line) => {
    const daemon = DAEMON.exec(text);
    if (daemon === null) return;
    const body = text.slice(daemon.index + daemon[0].length);
    const ack = ACK.exec(body);
    const release = ack === null ? RELEASE.exec(body) : null;
    const expire = ack === null && release === null ? EXPIRE.exec(body) : null;
    const reply = ack === null && release === null && expire === null ? REPLY.exec(body) : null;
    if (ack === null && release === null && expire === null && reply === null) return;
    // The server had no such lease: nothing ended.
    if (release !== null && /\(not found\)/.test(release[3]!)) return;
    const head = BSD_HEAD.exec(text);
    const time = p.time(
      line,
      'timestamp',
      headerTime(text, clocks) ?? { ok: false, reason: 'TIME_MISSING', message: 'a dhcpd line without its syslog header' },
      head?.[0] ?? text.slice(0, 30),
    );
    if (time === undefined) return;

    if (reply !== null) {
      const pd = reply[1] === 'PD';
      const ip = p.address(line, pd ? 'prefix' : 'address', reply[2], pd);
      if (ip === undefined) return;
      const account = `duid:${reply[3]!.toLowerCase()}`;
      const fields = { kind: 'allocation' as const, account, ip, source: pd ? 'dhcpv6-pd' : 'dhcpv6', ...realm };
      p.book.grant({ resource: ip, holder: account, fields, line, at: time.early, knownEnd: time.late + Number(reply[4]) * 1000 });
      return;
    }
    const m = (ack ?? release ?? expire)!;
    const ip = p.address(line, 'address', m[1]);
    const mac = macOf(m[2]);
    if (ip === undefined) return;
    if (mac === undefined) {
      if (nullHardware(m[2])) p.out.problem(line, 'mac', LINE_REASONS.MISSING_FIELD, `${m[2]} is zeros: the line names no client`, m[2]);
      else p.out.problem(line, 'mac', LINE_REASONS.MALFORMED_LINE, `not a MAC address: ${JSON.stringify(m[2])}`, m[2]);
      return;
    }
    const account = `mac:${mac}`;
    const fields = { kind: 'allocation' as const, account, ip, source: 'dhcp', ...realm, mac };
    const ev = { resource: ip, holder: account, fields, line };
    if (ack !== null) {
      const duration = DURATION.exec(ack[3]!);
      const knownEnd = duration === null ? undefined : time.late + Number(duration[1]) * 1000;
      if (knownEnd !== undefined && !instantInRange(knownEnd)) {
        p.out.problem(line, 'lease-duration', 'TIME_OUT_OF_RANGE', `lease-duration ${duration![1]!.slice(0, 30)} s ends the lease after 9999`, duration![1]);
        return;
      }
      p.book.grant(knownEnd === undefined ? { ...ev, at: time.early } : { ...ev, at: time.early, knownEnd });
    } else {
      p.book.stop({ ...ev, at: time.late });
    }
  });
}

export const infobloxDhcpd: VendorParser = {
  name: NAME,
  description:
    'Infoblox NIOS / ISC dhcpd syslog: DHCPACK (lease-duration when logged) → allocation, renewals merge, DHCPRELEASE/DHCPEXPIRE end it; dhcpdv6 Reply NA/PD → allocation for its valid lifetime. Clock: the BSD syslog header, server local time: needs timeZone and year (rollover handled). Account: mac: or duid:. Optional realm.',
  sniff: (lines) => lines.some((l) => /\bdhcpd(?:v6)?(?:\[\d+\])?: (?:DHCP[A-Z]+ |Reply |Advertise |Encapsulated |Relay-forward )/.test(l)),
  session,
};
