/**
 * Following a growing file (`ipar ingest --follow`, issue 16): lines per second into the
 * store for a Juniper SRX syslog of port-block allocations and NAT sessions, a Kea lease
 * CSV and a FreeRADIUS detail file, each appended to by a writer in this process while the
 * follower reads it; and the delay from a line's write to its record being queryable when
 * lines are written at a fixed rate. Targets: SRX ≥ 150,000 lines/s, Kea and FreeRADIUS
 * ≥ 60,000 lines/s, delay < 5 s at 10,000 lines/s.
 *
 *   node dist/bench/follow.js [--quick]
 *
 * The line generators are shared with the tests (test/follow/), which need streams of
 * lines with closed and open intervals and rotation.
 */
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { follow } from '../src/ingest/follow.js';
import { VENDOR_PARSERS } from '../src/ingest/vendors/index.js';
import type { VendorOptions } from '../src/ingest/vendors/types.js';
import { openSqliteStore } from '../src/store/sqlite/store.js';

const BASE_MS = Date.parse('2026-03-01T00:00:00Z');
const quad = (a: number, b: number, i: number): string => `${a}.${b}.${(i >>> 8) & 255}.${i & 255}`;

/** The SRX stream's pace: log time per step, sessions open at once (each closes this many steps after it opened), port blocks allocated at once. */
export interface SrxShape {
  readonly stepMs: number;
  readonly openSessions: number;
  readonly openBlocks: number;
}

export const SRX_SHAPE: SrxShape = { stepMs: 100, openSessions: 2000, openBlocks: 500 };

/**
 * Line `i` of a Juniper SRX structured-syslog stream: per step a session create and the
 * close of the one created `openSessions` steps before, and every second step a
 * port-block allocation and the release of the one `openBlocks` allocations before.
 * Deterministic in `i`, log time in order.
 */
export function srxLine(i: number, shape: SrxShape = SRX_SHAPE): string {
  const { stepMs, openSessions: SRX_OPEN_SESSIONS, openBlocks: SRX_OPEN_BLOCKS } = shape;
  const step = Math.floor(i / 3);
  const at = BASE_MS + step * stepMs;
  const time = new Date(at).toISOString();
  const kind = i % 3;
  if (kind === 2) {
    // Blocks: allocation step/2 on even steps, the release of an older one on odd steps.
    const b = step % 2 === 0 ? step / 2 : (step - 1) / 2 - SRX_OPEN_BLOCKS;
    if (b < 0)
      return `<14>1 ${time} srx1 RT_FLOW - RT_FLOW_SESSION_DENY [junos@2636.1.1.1.2.26 source-address="100.64.9.9" source-port="1" destination-address="198.51.100.1" destination-port="80" protocol-id="6"]`;
    const what = step % 2 === 0 ? 'ALLOC' : 'RELEASE';
    const first = 1024 + ((b >>> 6) % 126) * 512;
    return `<14>1 ${time} srx1 RT_NAT - RT_SRC_NAT_PBA_${what} [junos@2636.1.1.1.2.26 internal-ip="${quad(100, 65, b % 65_536)}" block-used="${what === 'ALLOC' ? 1 : 0}" block-max-per-host="4" block-port-low="${first}" block-port-high="${first + 511}" reflexive-ip="${quad(203, 0, 113 * 256 + (b % 64))}" nat-pool-name="pool-a" logical-system-id="0" epoch-time-64="${Math.floor(at / 1000).toString(16)}"]`;
  }
  const s = kind === 0 ? step : step - SRX_OPEN_SESSIONS;
  if (s < 0)
    return `<14>1 ${time} srx1 RT_FLOW - RT_FLOW_SESSION_DENY [junos@2636.1.1.1.2.26 source-address="100.64.9.9" source-port="1" destination-address="198.51.100.1" destination-port="80" protocol-id="6"]`;
  const fields = `source-address="${quad(100, 64, s % 65_536)}" source-port="${10_000 + (s % 50_000)}" destination-address="${quad(198, 51, 100 * 256 + (s % 200))}" destination-port="443" service-name="junos-https" nat-source-address="${quad(203, 0, 113 * 256 + (s % 64))}" nat-source-port="${1024 + ((s >>> 6) % 60_000)}" nat-destination-address="${quad(198, 51, 100 * 256 + (s % 200))}" nat-destination-port="443" protocol-id="6" policy-name="out" source-zone-name="trust" destination-zone-name="untrust" session-id-32="${s}"`;
  if (kind === 0) return `<14>1 ${time} srx1 RT_FLOW - RT_FLOW_SESSION_CREATE [junos@2636.1.1.1.2.26 ${fields}]`;
  return `<14>1 ${time} srx1 RT_FLOW - RT_FLOW_SESSION_CLOSE [junos@2636.1.1.1.2.26 ${fields} reason="TCP FIN" elapsed-time="${Math.floor((SRX_OPEN_SESSIONS * stepMs) / 1000)}"]`;
}

/** Line `i` of a Kea v4 memfile as the server appends it: the header, then one lease row per line in time order. */
export function keaLine(i: number): string {
  if (i === 0) return 'address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context,pool_id';
  const mac = (i % 200_000).toString(16).padStart(6, '0');
  const expire = Math.floor(BASE_MS / 1000) + 3600 + Math.floor(i / 10);
  return `${quad(198, 51, 100 * 256 + (i % 250))},02:00:5e:${mac.slice(0, 2)}:${mac.slice(2, 4)}:${mac.slice(4, 6)},,3600,${expire},1,0,0,,0,,0`;
}

/** Lines of one FreeRADIUS detail record. */
const RADIUS_RECORD_LINES = 10;

/**
 * Line `i` of a FreeRADIUS detail file: records of {@link RADIUS_RECORD_LINES} lines
 * (header, attributes, blank), a Start for session n and the Stop of session n − 50.
 */
export function radiusLine(i: number): string {
  const r = Math.floor(i / RADIUS_RECORD_LINES);
  const at = Math.floor(BASE_MS / 1000) + r;
  const stop = r % 2 === 1;
  const n = stop ? (r - 1) / 2 - 50 : r / 2;
  const id = n < 0 ? r : n;
  const lines = [
    new Date(at * 1000).toUTCString().replace(/^(\w+), (\d+) (\w+) (\d+) ([\d:]+) GMT$/, '$1 $3 $2 $5 $4'),
    `\tUser-Name = "user${id}"`,
    `\tNAS-IP-Address = 192.0.2.1`,
    `\tFramed-IP-Address = ${quad(198, 51, 100 * 256 + (id % 250))}`,
    `\tCalling-Station-Id = "02-00-5e-${((id >> 16) & 255).toString(16).padStart(2, '0')}-${((id >> 8) & 255).toString(16).padStart(2, '0')}-${(id & 255).toString(16).padStart(2, '0')}"`,
    `\tAcct-Status-Type = ${stop && n >= 0 ? 'Stop' : 'Start'}`,
    `\tAcct-Session-Id = "s${id}"`,
    `\tAcct-Session-Time = ${stop && n >= 0 ? 1000 : 0}`,
    `\tTimestamp = ${at}`,
    '',
  ];
  return lines[i % RADIUS_RECORD_LINES]!;
}

export interface FollowFormat {
  readonly name: string;
  readonly line: (i: number) => string;
  readonly options: VendorOptions;
  /** Lines a second the issue asks for. */
  readonly target: number;
}

export const FOLLOW_FORMATS: readonly FollowFormat[] = [
  { name: 'juniper-srx', line: srxLine, options: { realm: 'cgn-a' }, target: 150_000 },
  { name: 'kea-csv', line: keaLine, options: {}, target: 60_000 },
  { name: 'freeradius-detail', line: radiusLine, options: {}, target: 60_000 },
];
