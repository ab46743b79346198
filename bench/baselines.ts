/**
 * Baselines measured side by side with ipar's store on the same data (issue #8): the
 * layouts operators use today. This file opens better-sqlite3 itself on purpose: these
 * are other people's layouts, not ipar's store, and must not share its code.
 *
 * Data: `addresses` public addresses with `leases` consecutive one-hour DHCP leases each
 * (PERFORMANCE.md's shape); queries: random (address, instant) pairs, each answered as
 * "the lease on A covering t".
 *
 *   node dist/bench/baselines.js [--quick]
 */
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { Bench } from 'tinybench';
import { parseAddress, type Address } from '../src/address.js';
import { CanonicalRecord } from '../src/records.js';
import { openSqliteStore } from '../src/store/sqlite.js';

export const BASELINE_TRIALS = {
  full: { addresses: 100_000, leases: 10, queries: 20_000, scanQueries: 20 },
  quick: { addresses: 10_000, leases: 10, queries: 5_000, scanQueries: 5 },
} as const;

const BASE = Date.parse('2026-03-01T00:00:00Z');
const HOUR = 3_600_000;
/** The a-th address, in 100.64.0.0/10 (room for four million). */
const ipOf = (a: number) => `100.${64 + (a >> 16)}.${(a >> 8) & 255}.${a & 255}`;
function address(text: string): Address {
  const r = parseAddress(text);
  if (!r.ok) throw new Error(r.message);
  return r.value;
}

export interface BaselineResult {
  readonly layout: string;
  readonly records: number;
  readonly microsecondsPerLookup: number;
  readonly ratioToIpar: number;
}

/** Run every layout on the same data and queries; ratios are against ipar's store. */
export async function runBaselines(quick: boolean): Promise<BaselineResult[]> {
  const t = quick ? BASELINE_TRIALS.quick : BASELINE_TRIALS.full;
  const dir = mkdtempSync(join(tmpdir(), 'ipar-baselines-'));
  const records = t.addresses * t.leases;
  // Setup, outside every timed function: the data in each layout.
  const lines: string[] = [];
  for (let l = 0; l < t.leases; l++) {
    for (let a = 0; a < t.addresses; a++) {
      const start = BASE + l * HOUR;
      lines.push(`{"kind":"allocation","account":"ACC-${a}-${l}","ip":"${ipOf(a)}","start":"${new Date(start).toISOString()}","end":"${new Date(start + HOUR).toISOString()}","source":"dhcp"}`);
    }
  }
  const logFile = join(dir, 'leases.ndjson');
  writeFileSync(logFile, lines.join('\n') + '\n');
  const ipar = openSqliteStore(join(dir, 'ipar.db'), { cacheMiB: 256 });
  for (let i = 0; i < lines.length; i += 20_000) ipar.write(lines.slice(i, i + 20_000).map((l) => CanonicalRecord.parse(JSON.parse(l))));

  const radacct = new Database(join(dir, 'radacct.db'));
  radacct.pragma('journal_mode = WAL');
  radacct.exec(`CREATE TABLE radacct (radacctid INTEGER PRIMARY KEY, username TEXT, framedipaddress TEXT, acctstarttime INTEGER, acctstoptime INTEGER);
    CREATE INDEX radacct_framedipaddress ON radacct (framedipaddress);`);
  const rtree = new Database(join(dir, 'rtree.db'));
  rtree.pragma('journal_mode = WAL');
  rtree.exec(`CREATE VIRTUAL TABLE lease_rtree USING rtree_i32(id, addr_lo, addr_hi, start_lo, start_hi);
    CREATE TABLE lease (id INTEGER PRIMARY KEY, account TEXT, start INTEGER, "end" INTEGER);`);
  const insR = radacct.prepare('INSERT INTO radacct (username, framedipaddress, acctstarttime, acctstoptime) VALUES (?, ?, ?, ?)');
  const insT = rtree.prepare('INSERT INTO lease_rtree VALUES (?, ?, ?, ?, ?)');
  const insL = rtree.prepare('INSERT INTO lease VALUES (?, ?, ?, ?)');
  radacct.transaction(() => {
    let id = 0;
    for (let l = 0; l < t.leases; l++) for (let a = 0; a < t.addresses; a++) insR.run(`ACC-${a}-${l}`, ipOf(a), (BASE + l * HOUR) / 1000, (BASE + (l + 1) * HOUR) / 1000), id++;
  })();
  rtree.transaction(() => {
    let id = 0;
    for (let l = 0; l < t.leases; l++) {
      for (let a = 0; a < t.addresses; a++) {
        id++;
        // Integer R*Tree: the address as a 32-bit signed integer, times in seconds from BASE.
        const s = l * 3600;
        insT.run(id, a, a, s, s + 3600);
        insL.run(id, `ACC-${a}-${l}`, BASE + l * HOUR, BASE + (l + 1) * HOUR);
      }
    }
  })();

  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const queries = Array.from({ length: t.queries }, () => {
    const a = Math.floor(rand() * t.addresses);
    const at = BASE + Math.floor(rand() * t.leases * HOUR);
    return { a, ip: ipOf(a), address: address(ipOf(a)), at };
  });
  const qR = radacct.prepare('SELECT username FROM radacct WHERE framedipaddress = ? AND acctstarttime <= ? AND (acctstoptime > ? OR acctstoptime IS NULL)').raw();
  const qT = rtree.prepare('SELECT l.account FROM lease_rtree r JOIN lease l ON l.id = r.id WHERE r.addr_lo <= ? AND r.addr_hi >= ? AND r.start_lo <= ? AND r.start_hi > ?').raw();
  let found = 0;
  const bench = new Bench({ iterations: 3, warmupIterations: 1, time: 0 });
  bench.add('ipar store (WITHOUT ROWID, (address, start) key)', async () => {
    found = 0;
    for (const hits of await ipar.allocations(queries.map((q) => ({ address: q.address, realm: null, window: { start: q.at, end: q.at + 1 } })))) found += hits.length;
  });
  // The floor: one raw indexed lookup on ipar's own table, no store code around it.
  const raw = new Database(join(dir, 'ipar.db'), { readonly: true });
  const qRaw = raw.prepare('SELECT account FROM allocation WHERE realm = 0 AND addr = ? AND plen = 128 AND start < ? AND start >= ? AND "end" > ?').raw();
  const rawKeys = queries.map((q) => q.address.key.subarray(12));
  bench.add('raw indexed lookup on the same table (the floor)', () => {
    found = 0;
    raw.transaction(() => {
      queries.forEach((q, i) => (found += qRaw.all(rawKeys[i], q.at + 1, q.at - HOUR, q.at).length));
    })();
  });
  bench.add('radacct-style: index on the address only', () => {
    found = 0;
    radacct.transaction(() => {
      for (const q of queries) found += qR.all(q.ip, q.at / 1000, q.at / 1000).length;
    })();
  });
  bench.add('R*Tree on (address, time), integer', () => {
    found = 0;
    rtree.transaction(() => {
      for (const q of queries) {
        const s = Math.floor((q.at - BASE) / 1000);
        found += qT.all(q.a, q.a, s, s).length;
      }
    })();
  });
  const scanQueries = queries.slice(0, t.scanQueries);
  bench.add('linear scan of the raw log (grep)', async () => {
    found = 0;
    // What grep over the log does: every line read for every question.
    for (const q of scanQueries) {
      const needle = `"ip":"${q.ip}"`;
      for await (const line of createInterface({ input: createReadStream(logFile), crlfDelay: Infinity })) {
        if (!line.includes(needle)) continue;
        const r = JSON.parse(line) as { start: string; end: string };
        if (Date.parse(r.start) <= q.at && q.at < Date.parse(r.end)) found++;
      }
    }
  });
  await bench.run();
  const per = (name: string, n: number) => {
    const task = bench.tasks.find((x) => x.name === name)!;
    return (((task.result as { latency?: { mean: number } } | undefined)?.latency?.mean ?? NaN) * 1000) / n;
  };
  const iparUs = per(bench.tasks[0]!.name, queries.length);
  const out = bench.tasks.map((task) => {
    const n = task.name.startsWith('linear') ? scanQueries.length : queries.length;
    const us = per(task.name, n);
    return { layout: task.name, records, microsecondsPerLookup: Math.round(us * 100) / 100, ratioToIpar: Math.round((us / iparUs) * 10) / 10 };
  });
  ipar.close();
  raw.close();
  radacct.close();
  rtree.close();
  rmSync(dir, { recursive: true, force: true });
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.table(await runBaselines(process.argv.includes('--quick')));
}
