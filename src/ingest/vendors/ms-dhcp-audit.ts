/**
 * Windows Server DHCP audit log (`DhcpSrvLog-<Day>.log`), DHCPv4: event 10 (new lease)
 * and 20 (BOOTP) start a lease, 11 (renew) confirms it, 12 (release), 16 (deleted) and
 * 17/18 (expired) end it. The log does not say how long a lease lasts: a lease ends at
 * its release or expiry, at the next lease of the address to another client, at
 * `missingStopTimeoutSeconds` (pass the scope's lease time; 8 days, the Windows default, unless given).
 * Dates are `MM/DD/YY` and times `HH:MM:SS` in the server's local zone.
 */
import { wallMs } from './clock.js';
import { allocationParse, csvFields, macOf, nullHardware, requireOption } from './common.js';
import { LINE_REASONS } from './output.js';
import type { VendorOptions, VendorParser, VendorSession } from './types.js';

const NAME = 'ms-dhcp-audit';
const ROW = /^(\d{2,5}),(\d{2})\/(\d{2})\/(\d{2}),(\d{2}):(\d{2}):(\d{2}),/;
const GRANT = new Set(['10', '20']);
const RENEW = '11';
const STOP = new Set(['12', '16', '17', '18']);

function session(options: VendorOptions): VendorSession {
  const { p, realm, clocks } = allocationParse(options, NAME);
  requireOption(options, 'timeZone', NAME);

  return p.session((text, line) => {
    const row = ROW.exec(text);
    if (row === null) return; // the legend and the column header
    // Every row is the server's own activity, so every row's time moves the file's clock.
    const year = 2000 + Number(row[4]); // two-digit years: Windows writes this century
    const wall = wallMs(year, Number(row[2]), Number(row[3]), Number(row[5]), Number(row[6]), Number(row[7]));
    const stamp = `${row[2]}/${row[3]}/${row[4]} ${row[5]}:${row[6]}:${row[7]}`;
    const result =
      wall === null ? ({ ok: false, reason: 'INVALID_TIME', message: `no such date or time: ${stamp}` } as const) : clocks.zone.fromWall(wall, stamp);
    const id = row[1]!;
    const read = GRANT.has(id) || id === RENEW || STOP.has(id);
    if (!read) {
      if (result.ok) p.book.see(result.value.late);
      return;
    }
    const time = p.time(line, 'Date,Time', result, stamp);
    if (time === undefined) return;
    const cells = csvFields(text);
    if (cells === null) {
      p.out.problem(line, '', LINE_REASONS.MALFORMED_LINE, 'a quoted CSV field is not closed', text);
      return;
    }
    const ip = p.address(line, 'IP Address', cells[4]);
    if (ip === undefined) return;
    const macText = cells[6] ?? '';
    const mac = macOf(macText);
    if (macText !== '' && mac === undefined && !nullHardware(macText)) {
      p.out.problem(line, 'MAC Address', LINE_REASONS.MALFORMED_LINE, `not a MAC address: ${JSON.stringify(macText)}`, macText);
      return;
    }
    const account = mac === undefined ? undefined : `mac:${mac}`;
    const fields = { kind: 'allocation' as const, account: account ?? 'unknown', ip, source: 'dhcp', ...realm, ...(mac === undefined ? {} : { mac }) };
    if (STOP.has(id)) {
      // Expiry rows often name no client: they end whoever holds the address.
      p.book.stop(
        account === undefined
          ? { resource: ip, holder: '', fields, line, at: time.late, anyHolder: true }
          : { resource: ip, holder: account, fields, line, at: time.late },
      );
      return;
    }
    if (account === undefined) {
      p.out.problem(
        line,
        'MAC Address',
        LINE_REASONS.MISSING_FIELD,
        `lease of ${ip} names no client MAC${macText === '' ? '' : ` (${macText} is zeros)`}`,
        macText === '' ? undefined : macText,
      );
      return;
    }
    const ev = { resource: ip, holder: account, fields, line, at: time.early };
    if (id === RENEW) p.book.confirm(ev);
    else p.book.grant(ev);
  });
}

export const msDhcpAudit: VendorParser = {
  name: NAME,
  description:
    "Windows Server DHCP audit log (IPv4): 10/20 new lease → allocation (account mac:), 11 renew confirms, 12 release, 16 deleted, 17/18 expired end it; the log has no lease length, so pass missingStopTimeoutSeconds (the scope lease time) or leases end at the next client, or 8 days (the Windows default) after their last evidence (inferred). Clock: MM/DD/YY HH:MM:SS in the server's zone: needs timeZone. Optional realm.",
  sniff: (lines) =>
    lines.some((l) => /Microsoft DHCP Service Activity Log/.test(l) || /^ID,Date,Time,Description,IP Address,/.test(l)) ||
    lines.filter((l) => ROW.test(l)).length >= Math.min(3, lines.length),
  session,
};
