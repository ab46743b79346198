/**
 * ISC Kea forensic (legal) log: "Address: … has been assigned for N seconds to a device
 * with hardware address: …", renewed, released; DHCPv6 addresses and delegated prefixes
 * ("Prefix: …/64") by DUID. Two forms: the rotating file, each entry prefixed with
 * strftime `%Y-%m-%d %H:%M:%S %Z` (local time and its zone abbreviation), and a dump of
 * the database backend's `logs` table (`| timestamp | address | log | id |`, no zone).
 */
import { fractionMs } from './clock.js';
import { allocationParse, macOf, nullHardware } from './common.js';
import { LINE_REASONS } from './output.js';
import type { VendorOptions, VendorParser, VendorSession } from './types.js';

const NAME = 'kea-legal';
const ENTRY =
  /(Address|Prefix): (\S+) has been (assigned|renewed|released)(?: for (.+?))? (?:to|from) a device with (?:hardware address: hwtype=\d+ ([0-9A-Fa-f:]+)|DUID: ([0-9A-Fa-f:]+))/;
const FILE_PREFIX = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?: ([A-Za-z]{1,6}|[+-]\d{2}:?\d{2}))? (?=Address:|Prefix:)/;
const DB_ROW = /^\|\s*(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?\s*\|/;
const SECONDS = /^(\d+) seconds?$/;
const HMS = /^(\d+) hrs (\d+) mins (\d+) secs$/;

/** Lease duration in seconds; null for "infinite duration"; undefined when unreadable. */
function duration(text: string): number | null | undefined {
  if (text === 'infinite duration') return null;
  const s = SECONDS.exec(text);
  if (s !== null) return Number(s[1]);
  const h = HMS.exec(text);
  if (h !== null) return Number(h[1]) * 3600 + Number(h[2]) * 60 + Number(h[3]);
  return undefined;
}

function session(options: VendorOptions): VendorSession {
  const { p, realm, clocks } = allocationParse(options, NAME);

  return p.session((text, line) => {
    const entry = ENTRY.exec(text);
    if (entry === null) return;
    const stamp = FILE_PREFIX.exec(text) ?? DB_ROW.exec(text);
    const result =
      stamp === null
        ? ({ ok: false, reason: 'TIME_MISSING', message: 'a legal-log entry without its timestamp prefix' } as const)
        : clocks.wall(
            Number(stamp[1]),
            Number(stamp[2]),
            Number(stamp[3]),
            Number(stamp[4]),
            Number(stamp[5]),
            Number(stamp[6]),
            fractionMs(stamp[7]),
            stamp[8],
            stamp[0].replace(/^\|\s*/, '').trim(),
          );
    const time = p.time(line, 'timestamp', result, stamp?.[0] ?? text.slice(0, 40));
    if (time === undefined) return;
    const prefix = entry[1] === 'Prefix';
    const ip = p.address(line, entry[1]!, entry[2], prefix);
    if (ip === undefined) return;
    const mac = macOf(entry[5]);
    const account =
      entry[6] !== undefined && !nullHardware(entry[6])
        ? `duid:${entry[6].toLowerCase()}`
        : mac !== undefined
          ? `mac:${mac}`
          : nullHardware(entry[5])
            ? undefined
            : `hwaddr:${entry[5]!.toLowerCase()}`;
    if (account === undefined) {
      p.out.problem(
        line,
        'hwaddr',
        LINE_REASONS.MISSING_FIELD,
        `${entry[1]} ${ip} names no client: its hardware address is zeros and no DUID is given`,
        entry[5],
      );
      return;
    }
    const source = ip.includes(':') ? (prefix ? 'dhcpv6-pd' : 'dhcpv6') : 'dhcp';
    const fields = { kind: 'allocation' as const, account, ip, source, ...realm, ...(mac === undefined ? {} : { mac }) };
    const ev = { resource: ip, holder: account, fields, line };
    if (entry[3] === 'released') {
      p.book.stop({ ...ev, at: time.late });
      return;
    }
    const seconds = entry[4] === undefined ? undefined : duration(entry[4]);
    if (seconds === undefined) {
      p.out.problem(line, 'duration', LINE_REASONS.INVALID_NUMBER, `not a lease duration: ${JSON.stringify(entry[4])}`, entry[4]);
      return;
    }
    p.book.grant({ ...ev, at: time.early, knownEnd: seconds === null ? null : time.late + seconds * 1000 });
  });
}

export const keaLegal: VendorParser = {
  name: NAME,
  description:
    'ISC Kea forensic/legal log (file form and database dump): address or prefix assigned/renewed for a duration → allocation (renewals merge), released → end. Clock: the entry prefix, local time with its %Z abbreviation (table in docs/importers.md), or timeZone when it has none (database dump). Account: mac: (hardware address) or duid:. Optional realm.',
  sniff: (lines) => lines.some((l) => ENTRY.test(l)),
  session,
};
