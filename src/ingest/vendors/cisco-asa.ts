/**
 * Cisco ASA / FTD / PIX syslog: PAT translations built/torn down (305011/305012),
 * outbound connections whose inside address is translated (302013/302015, closed by
 * 302014/302016 through the connection id), and AnyConnect address assignment (722051).
 *
 * The header may hold two clocks (a relay's, then the device's): the device's is the last
 * timestamp before `%ASA-`. It is local time, with a zone abbreviation when the ASA is
 * configured to print one (`Sep 25 15:47:07 EDT: %ASA-…`), else in the operator's zone.
 */
import { natMappingEvent, natParse, natSessionEvent } from './common.js';
import type { RecordTemplate } from './output.js';
import type { VendorOptions, VendorParser, VendorSession } from './types.js';

const NAME = 'cisco-asa';
const MARKER = /%(?:ASA|FTD|PIX)-(?:[a-z]+-)?\d-(\d{6}): /;
const READ = new Set(['305011', '305012', '302013', '302014', '302015', '302016', '722051']);
/** Timestamps in a header; the last one is the device's. */
const STAMP = /(?:^|[\s>])([A-Z][a-z]{2}) {1,2}(\d{1,2})(?: (\d{4}))? (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?/g;
const ISO_STAMP = /(?:^|[\s>])(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)/g;
/** What may follow the device time: its zone, then `:` ending the header. */
const ZONE_AFTER = /^ ([A-Za-z]{1,5}|[+-]\d{2}:?\d{2}):\s*$/;

const XLATE = /^(Built|Teardown) (?:dynamic |static )?(TCP|UDP|ICMP|SCTP) translation from [^:\s]+:([^/\s]+)\/(\d+)(?:\([^)]*\))? to [^:\s]+:([^/\s]+)\/(\d+)(?:\([^)]*\))?(?: duration (\d+):(\d{2}):(\d{2}))?/;
const CONN_BUILT = /^Built outbound (TCP|UDP) connection (\d+) for [^:\s]+:([^/\s]+)\/(\d+) \(([^/\s]+)\/(\d+)\)(?:\([^)]*\))? to [^:\s]+:([^/\s]+)\/(\d+) \(([^/\s]+)\/(\d+)\)/;
const CONN_TEARDOWN = /^Teardown (TCP|UDP) connection (\d+) /;
const VPN_ASSIGNED = /^Group <([^>]*)> User <([^>]*)> IP <([^>]*)> IPv4 Address <([^>]*)> IPv6 address <([^>]*)> assigned to session/;

function session(options: VendorOptions): VendorSession {
  const { p, realm, clocks } = natParse(options, NAME);
  /** Open translated connections by id: their teardown does not repeat the addresses. */
  const connections = new Map<string, { resource: string; holder: string; fields: RecordTemplate }>();

  function deviceTime(header: string, line: number): { early: number; late: number } | undefined {
    let last: RegExpExecArray | null = null;
    let lastEnd = 0;
    STAMP.lastIndex = 0;
    for (let m = STAMP.exec(header); m !== null; m = STAMP.exec(header)) {
      last = m;
      lastEnd = m.index + m[0].length;
    }
    let lastIso: RegExpExecArray | null = null;
    ISO_STAMP.lastIndex = 0;
    for (let m = ISO_STAMP.exec(header); m !== null; m = ISO_STAMP.exec(header)) lastIso = m;
    if (lastIso !== null && (last === null || lastIso.index > last.index)) return p.time(line, 'timestamp', clocks.iso(lastIso[1]!), lastIso[1]);
    if (last === null) {
      p.time(line, 'timestamp', { ok: false, reason: 'TIME_MISSING', message: 'the ASA message has no header, so no time' }, header);
      return undefined;
    }
    const zone = ZONE_AFTER.exec(header.slice(lastEnd))?.[1];
    return p.time(line, 'timestamp', clocks.bsd(last, 1, zone), last[0].trim());
  }

  return p.session((text, line) => {
    const marker = MARKER.exec(text);
    if (marker === null || !READ.has(marker[1]!)) return;
    const id = marker[1]!;
    const body = text.slice(marker.index + marker[0].length);

    if (id === '302014' || id === '302016') {
      const m = CONN_TEARDOWN.exec(body);
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
      // Only outbound connections whose inside address is shown translated: (mapped) differs.
      if (m === null || (m[7] === m[9] && m[8] === m[10])) return;
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
      if (m === null) return;
      const time = deviceTime(text.slice(0, marker.index), line);
      if (time === undefined) return;
      for (const [field, address] of [['IPv4 Address', m[4]], ['IPv6 address', m[5]]] as const) {
        if (address === undefined || address === '' || address === '::' || address === '0.0.0.0') continue;
        const ip = p.address(line, field, address);
        if (ip === undefined) continue;
        const fields = { kind: 'allocation' as const, account: m[2]!, ip, source: 'asa-vpn' };
        p.book.grant({ resource: ip, holder: m[2]!, fields, at: time.early, line });
      }
      return;
    }

    const m = XLATE.exec(body);
    if (m === null) return;
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
    p.book.stop(duration === undefined ? { ...ev, at: time.late } : { ...ev, at: time.late, derivedStart: time.late - (duration + 1) * 1000 });
  }, undefined, {
    // A connection built in one file is torn down in the next: its addresses go on with the state.
    save: () => [...connections],
    load: (saved) => {
      for (const [k, v] of saved as [string, { resource: string; holder: string; fields: RecordTemplate }][]) connections.set(k, v);
    },
  });
}

export const ciscoAsa: VendorParser = {
  name: NAME,
  description:
    'Cisco ASA/FTD syslog: 305011/305012 PAT translations → nat-session without destination (teardown duration gives the start when the build is missing), 302013/302015 outbound connections with a translated inside address → nat-session closed by 302014/302016, 722051 VPN address → allocation. Clock: the device timestamp (the last one before %ASA-, not a relay\'s): local time in timeZone, or the zone abbreviation the ASA prints; a header without year needs year. Needs realm.',
  sniff: (lines) => lines.some((l) => MARKER.test(l)),
  session,
};
