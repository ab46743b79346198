/**
 * Palo Alto PAN-OS TRAFFIC logs (syslog CSV): `start` and `end` logs of sessions with a
 * source translation (natsrc/natsport). The firewall writes its own times in the CSV —
 * generated_time and the session's start_time, `YYYY/MM/DD HH:MM:SS` in its local zone
 * without an offset; the syslog header and receive_time are not the session's clock.
 * A session runs from start_time to the later of generated_time and start_time + elapsed.
 */
import { wallMs, timeFailure, type TimeResult } from './clock.js';
import { csvFields, natParse, natSessionEvent, requireOption } from './common.js';
import { LINE_REASONS } from './output.js';
import type { VendorOptions, VendorParser, VendorSession } from './types.js';

const NAME = 'panos-traffic';
/** The CSV begins at the field before receive_time: `1,2018/11/30 16:09:07,<serial>,TRAFFIC,`. */
// Years of any length, so that one out of range (99999) is reported, not taken for another kind of line.
const CSV_START = /(?:^|\s)([^,\s]*,\d{4,}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2},[^,]*,TRAFFIC,)/;
const STAMP = /^(\d{4,})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;
const F = {
  subtype: 4,
  generated: 6,
  src: 7,
  dst: 8,
  natsrc: 9,
  natdst: 10,
  session: 22,
  sport: 24,
  dport: 25,
  natsport: 26,
  natdport: 27,
  proto: 29,
  start: 35,
  elapsed: 36,
} as const;

function session(options: VendorOptions): VendorSession {
  const { p, realm, clocks } = natParse(options, NAME);
  requireOption(options, 'timeZone', NAME);

  function local(text: string | undefined): TimeResult {
    const m = text === undefined ? null : STAMP.exec(text);
    if (m === null) return timeFailure('INVALID_TIME', `not a PAN-OS time: ${JSON.stringify(text)}`);
    const wall = wallMs(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
    return wall === null ? timeFailure('INVALID_TIME', `no such date or time: ${text}`) : clocks.zone.fromWall(wall, text!);
  }

  return p.session((text, line) => {
    const start = CSV_START.exec(text);
    if (start === null) return;
    const cells = csvFields(text.slice(start.index + start[0].length - start[1]!.length));
    if (cells === null) {
      p.out.problem(line, '', LINE_REASONS.MALFORMED_LINE, 'a quoted CSV field is not closed', text);
      return;
    }
    const subtype = cells[F.subtype];
    if (subtype !== 'start' && subtype !== 'end') return; // drop, deny: no session
    if (cells.length <= F.elapsed) {
      p.out.problem(line, '', LINE_REASONS.MALFORMED_LINE, `a TRAFFIC log with ${cells.length} fields; start_time and elapsed are fields 36 and 37`, text);
      return;
    }
    const natsrc = cells[F.natsrc];
    // No source translation: nothing about a public address.
    if (natsrc === undefined || natsrc === '' || natsrc === '0.0.0.0' || (natsrc === cells[F.src] && cells[F.natsport] === cells[F.sport])) return;
    const began = p.time(line, 'start_time', local(cells[F.start]), cells[F.start]);
    if (began === undefined) return;
    const insideIp = p.address(line, 'src', cells[F.src]);
    const insidePort = p.port(line, 'sport', cells[F.sport]);
    const outsideIp = p.address(line, 'natsrc', natsrc);
    const outsidePort = p.port(line, 'natsport', cells[F.natsport]);
    const natdst = cells[F.natdst];
    const translated = natdst !== undefined && natdst !== '' && natdst !== '0.0.0.0';
    const destinationIp = p.address(line, translated ? 'natdst' : 'dst', translated ? natdst : cells[F.dst]);
    const destinationPort = p.port(line, translated ? 'natdport' : 'dport', translated ? cells[F.natdport] : cells[F.dport]);
    const protocol = p.protocol(line, 'proto', cells[F.proto]);
    const ev = natSessionEvent({ insideIp, insidePort, outsideIp, outsidePort, destinationIp, destinationPort, protocol }, realm, cells[F.session] ?? '', line);
    if (ev === undefined) return;
    if (subtype === 'start') {
      p.book.grant({ ...ev, at: began.early });
      // A start log is written once the session is established (its generated_time): alive then.
      const generated = p.time(line, 'generated_time', local(cells[F.generated]), cells[F.generated]);
      if (generated !== undefined && generated.late > began.early) p.book.confirm({ ...ev, at: generated.late });
      return;
    }
    const generated = p.time(line, 'generated_time', local(cells[F.generated]), cells[F.generated]);
    const elapsed = p.seconds(line, 'elapsed', cells[F.elapsed]);
    if (generated === undefined || elapsed === undefined) return;
    // elapsed is whole seconds: the session lasted up to one more.
    const end = Math.max(generated.late, began.early + (elapsed + 1) * 1000);
    p.book.stop({ ...ev, at: end, derivedStart: began.early });
  });
}

export const panosTraffic: VendorParser = {
  name: NAME,
  description:
    "Palo Alto PAN-OS TRAFFIC CSV: start/end logs with source NAT (natsrc, natsport) → nat-session to the translated destination, from start_time to the later of generated_time and start_time + elapsed. Clock: the firewall's CSV times (local, no offset): needs timeZone; the syslog header and receive_time are ignored. Needs realm.",
  sniff: (lines) => lines.some((l) => CSV_START.test(l)),
  session,
};
