/**
 * Vendor importers: lines per second for the two largest formats, CGNAT syslog
 * (Juniper SRX port-block allocate/release) and the Kea lease CSV — parsing alone and the
 * whole `ingest` into a store — and the Kea CSV parse at growing sizes over the same
 * addresses, so the leases each address holds grow with the file: a rate that holds is
 * linear pairing (issue #8: it was quadratic in them).
 *
 *   node dist/bench/vendors.js [--quick]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { ingest } from '../src/ingest/ingest.js';
import { openInputs } from '../src/ingest/lines.js';
import { VENDOR_PARSERS } from '../src/ingest/vendors/index.js';
import type { VendorOptions, VendorParser } from '../src/ingest/vendors/types.js';
import { openSqliteStore } from '../src/store/sqlite/store.js';

export const VENDOR_TRIALS = { full: { lines: 500_000 }, quick: { lines: 50_000 } } as const;
/** Sizes of the Kea CSV growth trial (lines, header included). */
export const KEA_GROWTH = { full: [25_000, 50_000, 100_000, 500_000], quick: [25_000, 50_000] } as const;
/** Addresses the Kea lines cycle through: at 500,000 lines each holds 2,000 leases (1,000 clients, each twice). */
const KEA_ADDRESSES = 250;

const BASE_S = Date.parse('2025-03-01T00:00:00Z') / 1000;
const v4 = (base: number, i: number) => `${base >>> 24}.${(base >>> 16) & 255}.${((base >>> 8) & 255) + ((i >>> 8) & 255)}.${i & 255}`;

/** Juniper SRX PBA: an ALLOC, and 30 minutes later its RELEASE, for subscriber i. */
function srxLine(i: number): string {
  const k = i >> 1;
  const epoch = BASE_S + k;
  const t = epoch + (i & 1 ? 1800 : 0);
  const first = 1024 + (k % 126) * 512;
  const what = i & 1 ? 'RELEASE' : 'ALLOC';
  return `<14>1 ${new Date(t * 1000).toISOString()} srx1 RT_NAT - RT_SRC_NAT_PBA_${what} [junos@2636.1.1.1.2.26 internal-ip="${v4((100 << 24) | (64 << 16), k % 65_536)}" block-used="1" block-max-per-host="4" block-port-low="${first}" block-port-high="${first + 511}" reflexive-ip="${v4((203 << 24) | (113 << 8), k % 64)}" nat-pool-name="pool-a" logical-system-id="0" epoch-time-64="${epoch.toString(16)}"]`;
}

/** Kea v4 memfile: one lease row per line (the header first). */
function keaLine(i: number): string {
  if (i === 0) return 'address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context,pool_id';
  const mac = (i % 250_000).toString(16).padStart(6, '0');
  return `${v4((198 << 24) | (51 << 16) | (100 << 8), i % KEA_ADDRESSES)},02:00:5e:${mac.slice(0, 2)}:${mac.slice(2, 4)}:${mac.slice(4, 6)},,3600,${BASE_S + 3600 + i},1,0,0,,0,,0`;
}

const FORMATS: readonly { name: string; line: (i: number) => string; options: VendorOptions }[] = [
  { name: 'juniper-srx', line: srxLine, options: { realm: 'cgn-a' } },
  { name: 'kea-csv', line: keaLine, options: {} },
];

export interface VendorResult {
  readonly format: string;
  readonly lines: number;
  readonly task: string;
  readonly linesPerSecond: number;
}

/** Records from one session over `lines`, as the ingest pipeline feeds them (numbered from 1). */
function parseOnly(parser: VendorParser, options: VendorOptions, lines: readonly string[]): number {
  let records = 0;
  const s = parser.session(options);
  lines.forEach((text, i) => (records += s.line(text, i + 1).records.length));
  return records + s.end().records.length;
}

function linesPerSecond(task: { result?: unknown }, n: number): number {
  const ms = (task.result as { latency?: { mean: number } } | undefined)?.latency?.mean ?? NaN;
  return Math.round(n / (ms / 1000));
}

export async function runVendorBench(quick: boolean): Promise<VendorResult[]> {
  const n = (quick ? VENDOR_TRIALS.quick : VENDOR_TRIALS.full).lines;
  const dir = mkdtempSync(join(tmpdir(), 'ipar-bench-vendors-'));
  const out: VendorResult[] = [];
  for (const f of FORMATS) {
    const parser = VENDOR_PARSERS.find((p) => p.name === f.name)!;
    const lines = Array.from({ length: n }, (_, i) => f.line(i));
    const file = join(dir, `${f.name}.log`);
    writeFileSync(file, lines.join('\n') + '\n');
    let records = 0;
    let run = 0;
    const bench = new Bench({ iterations: 2, warmupIterations: 1, time: 0 });
    bench.add('parse only', () => {
      records = parseOnly(parser, f.options, lines);
    });
    bench.add('ingest into a store', async () => {
      const store = openSqliteStore(join(dir, `${f.name}-${run++}.db`), { cacheMiB: 64 });
      await ingest(store, await openInputs([file]), { format: parser, vendorOptions: f.options });
      store.close();
    });
    await bench.run();
    if (records === 0) throw new Error(`${f.name}: no records from the benchmark lines`);
    for (const t of bench.tasks) out.push({ format: f.name, lines: n, task: t.name, linesPerSecond: linesPerSecond(t, n) });
  }
  rmSync(dir, { recursive: true, force: true });
  const kea = VENDOR_PARSERS.find((p) => p.name === 'kea-csv')!;
  for (const size of quick ? KEA_GROWTH.quick : KEA_GROWTH.full) {
    const lines = Array.from({ length: size }, (_, i) => keaLine(i));
    let records = 0;
    const bench = new Bench({ iterations: 2, warmupIterations: 1, time: 0 });
    bench.add(`parse only, ${Math.round((size - 1) / KEA_ADDRESSES)} leases per address`, () => {
      records = parseOnly(kea, {}, lines);
    });
    await bench.run();
    if (records !== size - 1) throw new Error(`kea-csv growth: ${records} records from ${size - 1} lease rows`);
    for (const t of bench.tasks) out.push({ format: 'kea-csv', lines: size, task: t.name, linesPerSecond: linesPerSecond(t, size) });
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.table(await runVendorBench(process.argv.includes('--quick')));
}
