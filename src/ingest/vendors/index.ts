/**
 * The vendor importers `ipar ingest --format NAME` offers, and `--format auto`.
 *
 * @example
 * const parser = sniffFormat(firstLines) ?? VENDOR_PARSERS.find((p) => p.name === 'kea-csv')!;
 * const s = parser.session({ timeZone: 'Europe/London' });
 * for (const [i, text] of lines.entries()) s.line(text, i + 1); // records + problems per line
 * s.end();                                                       // what was still open
 */
import { sixwindCgnat } from './6wind-cgnat.js';
import { a10Cef } from './a10-cef.js';
import { ciscoIosxeNat } from './cisco-iosxe-nat.js';
import { h3cComwareNat } from './h3c-comware-nat.js';
import { mikrotikFirewall } from './mikrotik-firewall.js';
import { nfwareCgnat } from './nfware-cgnat.js';
import { fortigateTraffic } from './fortigate-traffic.js';
import { infobloxDhcpd } from './infoblox-dhcpd.js';
import { infobloxLease } from './infoblox-lease.js';
import { ciscoAsa } from './cisco-asa.js';
import { freeradiusDetail } from './freeradius-detail.js';
import { iscDhcpdLeases } from './isc-dhcpd-leases.js';
import { jool } from './jool.js';
import { juniperMsDpc } from './juniper-ms-dpc.js';
import { juniperSrx } from './juniper-srx.js';
import { keaCsv } from './kea-csv.js';
import { keaLegal } from './kea-legal.js';
import { msDhcpAudit } from './ms-dhcp-audit.js';
import { panosTraffic, panosTrafficCef, panosTrafficJson } from './panos-traffic.js';
import { vppSyslog } from './vpp-syslog.js';
import type { VendorParser } from './types.js';

export type { VendorOptions, VendorParser, VendorSession, LineProblem, ParseOutput } from './types.js';
export { LINE_REASONS } from './output.js';
export { ZONE_ABBREVIATIONS, AMBIGUOUS } from './clock.js';

/** Every importer, in the order `--format auto` tries them (most specific marker first). */
export const VENDOR_PARSERS: readonly VendorParser[] = Object.freeze([
  juniperSrx,
  juniperMsDpc,
  a10Cef,
  ciscoAsa,
  vppSyslog,
  jool,
  keaCsv,
  keaLegal,
  iscDhcpdLeases,
  freeradiusDetail,
  msDhcpAudit,
  infobloxDhcpd,
  panosTraffic,
  fortigateTraffic,
  sixwindCgnat,
  nfwareCgnat,
  ciscoIosxeNat,
  h3cComwareNat,
  mikrotikFirewall,
  panosTrafficCef,
  panosTrafficJson,
  infobloxLease,
]);

/** Lines a sniff looks at: the first ones that are not blank. */
const SNIFF_LINES = 20;

/**
 * The importer whose format these first lines are in, or null when none claims them
 * (`--format auto`). Blank lines are skipped; each importer looks for its own markers.
 */
export function sniffFormat(firstLines: readonly string[]): VendorParser | null {
  const lines = firstLines.filter((l) => l.trim() !== '').slice(0, SNIFF_LINES);
  if (lines.length === 0) return null;
  return VENDOR_PARSERS.find((p) => p.sniff(lines)) ?? null;
}
