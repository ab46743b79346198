/**
 * Cisco ASA / FTD / PIX syslog: PAT translations built/torn down (305011/305012),
 * outbound connections whose inside address is translated (302013/302015, closed by
 * 302014/302016 through the connection id), outbound ICMP translations (302020/302021),
 * and AnyConnect address assignment (722051).
 *
 * The header may hold two clocks (a relay's, then the device's): the device's is the last
 * timestamp before `%ASA-`. It is local time, with a zone abbreviation when the ASA is
 * configured to print one (`Sep 25 15:47:07 EDT: %ASA-…`), else in the operator's zone.
 */
import { natMappingEvent, natParse, natSessionEvent } from './common.js';
import { LINE_REASONS } from './output.js';
import type { RecordTemplate } from './output.js';
import { deviceStamp } from './syslog.js';
import type { VendorOptions, VendorParser, VendorSession } from './types.js';

const NAME = 'cisco-asa';
const MARKER = /%(?:ASA|FTD|PIX)-(?:[a-z]+-)?\d-(\d{6}): /;
const READ = new Set(['305011', '305012', '302013', '302014', '302015', '302016', '302020', '302021', '722051']);
const XLATE =
  /^(Built|Teardown) (?:dynamic |static )?(TCP|UDP|ICMP|SCTP) translation from [^:\s]+:([^/\s]+)\/(\d+)(?:\([^)]*\))? to [^:\s]+:([^/\s]+)\/(\d+)(?:\([^)]*\))?(?: duration (\d+):(\d{2}):(\d{2}))?/;
const CONN_BUILT =
  /^Built outbound (TCP|UDP) connection (\d+) for [^:\s]+:([^/\s]+)\/(\d+) \(([^/\s]+)\/(\d+)\)(?:\([^)]*\))? to [^:\s]+:([^/\s]+)\/(\d+) \(([^/\s]+)\/(\d+)\)/;
const CONN_TEARDOWN = /^Teardown (TCP|UDP) connection (\d+) /;
/** 302020/302021: `for faddr F/id gaddr G/id laddr L/id` (an interface name and `(user)` may be added). */
const ICMP_CONN =
  /^(Built (?:inbound|outbound)|Teardown) ICMP connection for faddr (?:[^:\s]+:)?([^/\s]+)\/(\d+)(?:\([^)]*\))? gaddr (?:[^:\s]+:)?([^/\s]+)\/(\d+) laddr (?:[^:\s]+:)?([^/\s]+)\/(\d+)/;
const VPN_ASSIGNED = /^Group <([^>]*)> User <([^>]*)> IP <([^>]*)> IPv4 Address <([^>]*)> IPv6 address <([^>]*)> assigned to session/;

function session(options: VendorOptions): VendorSession {
  const { p, realm, clocks } = natParse(options, NAME);
  /** Open translated connections by id: their teardown does not repeat the addresses. */
  const connections = new Map<string, { resource: string; holder: string; fields: RecordTemplate }>();
  /** Open outbound ICMP translations by their tuple (302021 repeats it). */
  const icmp = new Map<string, { resource: string; holder: string; fields: RecordTemplate }>();

  function deviceTime(header: string, line: number): { early: number; late: number } | undefined {
    const stamp = deviceStamp(header, clocks);
    if (stamp === undefined) {
      p.time(line, 'timestamp', { ok: false, reason: 'TIME_MISSING', message: 'the ASA message has no header, so no time' }, header);
      return undefined;
    }
    return p.time(line, 'timestamp', stamp.result, stamp.text);
  }

  return p.session(
    (text, line) => {
      const marker = MARKER.exec(text);
      if (marker === null || !READ.has(marker[1]!)) return;
      const id = marker[1]!;
      const body = text.slice(marker.index + marker[0].length);

      const malformed = (shape: string): void => p.out.problem(line, '', LINE_REASONS.MALFORMED_LINE, `%ASA-${id} without its shape (${shape})`, body);

      if (id === '302020' || id === '302021') {
        const m = ICMP_CONN.exec(body);
        if (m === null) {
          malformed('ICMP connection for faddr F/id gaddr G/id laddr L/id');
          return;
        }
        // The ICMP translation: laddr (inside) shown as gaddr; faddr is the other end.
        if (m[4] === m[6] && m[5] === m[7]) return;
        const key = `${m[2]}/${m[3]}|${m[4]}/${m[5]}|${m[6]}/${m[7]}`;
        if (m[1] === 'Teardown') {
          const open = icmp.get(key);
          // A teardown of an ICMP connection not built outbound in this file carries no subscriber's translation.
          if (open === undefined) return;
          const time = deviceTime(text.slice(0, marker.index), line);
          if (time === undefined) return;
          icmp.delete(key);
          p.book.stop({ ...open, at: time.late, line });
          return;
        }
        if (m[1] !== 'Built outbound') return;
        const time = deviceTime(text.slice(0, marker.index), line);
        if (time === undefined) return;
        const destinationIp = p.address(line, 'faddr', m[2]);
        const destinationPort = p.port(line, 'faddr id', m[3]);
        const outsideIp = p.address(line, 'gaddr', m[4]);
        const outsidePort = p.port(line, 'gaddr id', m[5]);
        const insideIp = p.address(line, 'laddr', m[6]);
        const insidePort = p.port(line, 'laddr id', m[7]);
        const ev = natSessionEvent({ insideIp, insidePort, outsideIp, outsidePort, destinationIp, destinationPort, protocol: 'icmp' }, realm, undefined, line);
        if (ev === undefined) return;
        icmp.set(key, ev);
        p.book.grant({ ...ev, at: time.early });
        return;
      }

      if (id === '302014' || id === '302016') {
        const m = CONN_TEARDOWN.exec(body);
        if (m === null) {
          malformed('Teardown TCP|UDP connection ID …');
          return;
        }
        const open = m === null ? undefined : connections.get(m[2]!);
        // A teardown of a connection not built as translated in this file carries no translation.
        if (open === undefined) return;
        const time = deviceTime(text.slice(0, marker.index), line);
        if (time === undefined) return;
        connections.delete(m![2]!);
        p.book.stop({ resource: open.resource, holder: open.holder, fields: open.fields, at: time.late, line });
        return;
      }

      if (id === '302013' || id === '302015') {
        const m = CONN_BUILT.exec(body);
        if (m === null) {
          // Inbound connections are not a subscriber's translation; an outbound one must have its shape.
          if (/^Built outbound /.test(body)) malformed('Built outbound TCP|UDP connection ID for IF:IP/PORT (MAPPED/PORT) to IF:IP/PORT (MAPPED/PORT)');
          return;
        }
        // Only outbound connections whose inside address is shown translated: (mapped) differs.
        if (m[7] === m[9] && m[8] === m[10]) return;
        const time = deviceTime(text.slice(0, marker.index), line);
        if (time === undefined) return;
        const protocol = p.protocol(line, 'protocol', m[1]);
        const destinationIp = p.address(line, 'foreign address', m[3]);
        const destinationPort = p.port(line, 'foreign port', m[4]);
        const insideIp = p.address(line, 'local address', m[7]);
        const insidePort = p.port(line, 'local port', m[8]);
        const outsideIp = p.address(line, 'mapped address', m[9]);
        const outsidePort = p.port(line, 'mapped port', m[10]);
        const ev = natSessionEvent({ insideIp, insidePort, outsideIp, outsidePort, destinationIp, destinationPort, protocol }, realm, m[2]!, line);
        if (ev === undefined) return;
        connections.set(m[2]!, ev);
        p.book.grant({ ...ev, at: time.early });
        return;
      }

      if (id === '722051') {
        const m = VPN_ASSIGNED.exec(body);
        if (m === null) {
          malformed('Group <G> User <U> IP <IP> IPv4 Address <A> IPv6 address <A> assigned to session');
          return;
        }
        const time = deviceTime(text.slice(0, marker.index), line);
        if (time === undefined) return;
        for (const [field, address] of [
          ['IPv4 Address', m[4]],
          ['IPv6 address', m[5]],
        ] as const) {
          if (address === undefined || address === '' || address === '::' || address === '0.0.0.0') continue;
          const ip = p.address(line, field, address);
          if (ip === undefined) continue;
          const fields = { kind: 'allocation' as const, account: m[2]!, ip, source: 'asa-vpn' };
          p.book.grant({ resource: ip, holder: m[2]!, fields, at: time.early, line });
        }
        return;
      }

      const m = XLATE.exec(body);
      if (m === null) {
        malformed('Built|Teardown … translation from IF:IP/PORT to IF:IP/PORT');
        return;
      }
      const time = deviceTime(text.slice(0, marker.index), line);
      if (time === undefined) return;
      const protocol = p.protocol(line, 'protocol', m[2]);
      const insideIp = p.address(line, 'real address', m[3]);
      const insidePort = p.port(line, 'real port', m[4]);
      const outsideIp = p.address(line, 'mapped address', m[5]);
      const outsidePort = p.port(line, 'mapped port', m[6]);
      const ev = natMappingEvent({ insideIp, insidePort, outsideIp, outsidePort, protocol }, realm, line);
      if (ev === undefined) return;
      if (m[1] === 'Built') {
        p.book.grant({ ...ev, at: time.early });
        return;
      }
      // duration h:mm:ss is truncated: the start lies within one more second.
      const duration = m[7] === undefined ? undefined : Number(m[7]) * 3600 + Number(m[8]) * 60 + Number(m[9]);
      p.book.stop(
        duration === undefined
          ? { ...ev, at: time.late }
          : { ...ev, at: time.late, derivedStart: time.late - (duration + 1) * 1000, elapsedMs: duration * 1000 },
      );
    },
    undefined,
    {
      // A connection (or ICMP translation) built in one file is torn down in the next: its addresses go on with the state.
      save: () => ({ connections: [...connections], icmp: [...icmp] }),
      load: (saved) => {
        type Open = [string, { resource: string; holder: string; fields: RecordTemplate }][];
        const { connections: c, icmp: i } = saved as { connections: Open; icmp: Open };
        for (const [k, v] of c) connections.set(k, v);
        for (const [k, v] of i) icmp.set(k, v);
      },
    },
  );
}

export const ciscoAsa: VendorParser = {
  name: NAME,
  description:
    "Cisco ASA/FTD syslog: 305011/305012 PAT translations → nat-session without destination (teardown duration gives the start when the build is missing), 302013/302015 outbound connections with a translated inside address → nat-session closed by 302014/302016, 302020/302021 outbound ICMP translations → nat-session, 722051 VPN address → allocation. Clock: the device timestamp (the last one before %ASA-, not a relay's): local time in timeZone, or the zone abbreviation the ASA prints; a header without year needs year. Needs realm.",
  sniff: (lines) => lines.some((l) => MARKER.test(l)),
  session,
};
