/**
 * Baselines measured side by side with ipar's store on the same data (issue #8): the
 * layouts operators use today. This file opens better-sqlite3 itself on purpose: these
 * are other people's layouts, not ipar's store, and must not share its code.
 *
 * Data: the cached operator store of N records (bench/stores.ts) and, built once beside
 * it from the same records, a radacct-style table of every allocation, an integer R*Tree
 * of every IPv4 allocation, and the raw NDJSON log of all N records. Lookups: "who held
 * public address A at instant t", for the (address, instant) pairs of the dynamic-path
 * requests of bench/data.ts (each aimed at a stored lease); every layout must find the
 * same account for each.
 *
 *   node dist/bench/baselines.js [--quick] [--records N]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { Bench } from 'tinybench';
import { parseAddress, type Address } from '../src/address.js';
import { LOOKUPS, openSqliteStore } from '../src/store/sqlite/store.js';
import { operatorRecord, operatorRequest } from './data.js';
import { cachedLog, cachedStore } from './stores.js';

/** Trials as data: store sizes, and how many lookups each layout makes (slow layouts fewer). */
export const BASELINE_TRIALS = {
  full: { records: [1_000_000, 10_000_000], lookups: { ipar: 20_480, floor: 20_480, radacct: 512, rtree: 5_120, scan: 3 }, iterations: 3 },
  quick: { records: [50_000], lookups: { ipar: 2_048, floor: 2_048, radacct: 512, rtree: 2_048, scan: 2 }, iterations: 2 },
} as const;

type Layout = keyof (typeof BASELINE_TRIALS)['full']['lookups'];

/** What each layout is, in the words of the results table. */
export const LAYOUTS: Readonly<Record<Layout, string>> = {
  ipar: 'ipar store: allocations(), batches of 512',
  floor: "raw indexed lookup: the store's own statement on its table (the floor)",
  radacct: 'radacct-style: index on the address only',
  rtree: 'R*Tree on (address, time), integer',
  scan: 'linear scan of the raw log (grep -F)',
};

const BATCH = 512;
const BASE = Date.parse('2026-03-01T00:00:00Z');

export interface BaselineResult {
  readonly records: number;
  readonly layout: string;
  readonly lookups: number;
  readonly microsecondsPerLookup: number;
  /** This layout's cost over the ipar store's (above 1: ipar is faster). */
  readonly ratioToIpar: number;
  /** Rows the layout holds for the average queried address (history depth), where it applies. */
  readonly rowsOnAddress: number | null;
}

interface Lookup {
  readonly address: Address;
  /** The address as a signed 32-bit integer (the R*Tree's coordinate). */
  readonly int: number;
  readonly at: number;
  readonly account: string;
}

function v4Int(a: Address): number {
  return a.key.readInt32BE(12);
}

function lookupsFor(records: number, n: number): Lookup[] {
  return Array.from({ length: n }, (_, k) => {
    const aimed = operatorRequest('dynamic', k, records);
    const o = aimed.request.observations[0]!;
    const parsed = parseAddress(o.sourceIp);
    if (!parsed.ok || typeof o.time !== 'string') throw new Error('bench: dynamic requests carry an address and an instant');
    return { address: parsed.value, int: v4Int(parsed.value), at: Date.parse(o.time), account: aimed.account };
  });
}

/**
 * The radacct-style table and the R*Tree, built once from the same records as the store
 * (a hand-made bulk load: these are the baselines' own layouts).
 */
function cachedBaselineTables(dir: string, records: number): { radacct: string; rtree: string } {
  const radacct = join(dir, 'radacct.db');
  const rtree = join(dir, 'rtree.db');
  if (existsSync(radacct) && existsSync(rtree)) return { radacct, rtree };
  process.stderr.write(`bench: building the radacct-style table and the R*Tree of ${records.toLocaleString('en')} records\n`);
  const partial = (f: string) => `${f}.partial-${process.pid}`;
  for (const f of [partial(radacct), partial(rtree)]) rmSync(f, { force: true });
  const r = new Database(partial(radacct));
  r.pragma('journal_mode = OFF');
  r.pragma('cache_size = -262144');
  r.exec(`CREATE TABLE radacct (radacctid INTEGER PRIMARY KEY, username TEXT, framedipaddress TEXT, acctstarttime INTEGER, acctstoptime INTEGER);
    CREATE INDEX radacct_framedipaddress ON radacct (framedipaddress);`);
  const t = new Database(partial(rtree));
  t.pragma('journal_mode = OFF');
  t.pragma('cache_size = -262144');
  t.exec(`CREATE VIRTUAL TABLE lease_rtree USING rtree_i32(id, addr_lo, addr_hi, time_lo, time_hi);
    CREATE TABLE lease (id INTEGER PRIMARY KEY, account TEXT, start INTEGER, "end" INTEGER);`);
  const insR = r.prepare('INSERT INTO radacct (username, framedipaddress, acctstarttime, acctstoptime) VALUES (?, ?, ?, ?)');
  const insT = t.prepare('INSERT INTO lease_rtree VALUES (?, ?, ?, ?, ?)');
  const insL = t.prepare('INSERT INTO lease VALUES (?, ?, ?, ?)');
  let id = 0;
  const started = performance.now();
  for (let from = 0; from < records; from += 100_000) {
    const to = Math.min(records, from + 100_000);
    r.transaction(() => {
      t.transaction(() => {
        for (let i = from; i < to; i++) {
          const rec = operatorRecord(i);
          if (rec.kind !== 'allocation') continue;
          // Times in ms (RADIUS keeps seconds; ms keeps the half-second starts of some records exact).
          insR.run(rec.account, rec.ip.text, rec.start, rec.end);
          if (rec.ip.family !== 4 || rec.end === null) continue;
          id++;
          // Integer R*Tree: the address as a signed 32-bit integer, times in seconds from the data's start.
          insT.run(id, v4Int(rec.ip), v4Int(rec.ip), Math.floor((rec.start - BASE) / 1000), Math.ceil((rec.end - BASE) / 1000));
          insL.run(id, rec.account, rec.start, rec.end);
        }
      })();
    })();
    if (from % 1_000_000 === 0 && from > 0)
      process.stderr.write(`bench:   ${from.toLocaleString('en')} records, ${Math.round((performance.now() - started) / 1000)} s\n`);
  }
  r.close();
  t.close();
  renameSync(partial(radacct), radacct);
  renameSync(partial(rtree), rtree);
  return { radacct, rtree };
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Run every layout against one store size. */
export async function baselinesAt(records: number, quick: boolean): Promise<BaselineResult[]> {
  const t = quick ? BASELINE_TRIALS.quick : BASELINE_TRIALS.full;
  // Setup, outside every timed function: the data in each layout, the lookups.
  const cached = cachedStore(records);
  const tables = cachedBaselineTables(cached.dir, records);
  const log = await cachedLog(records);
  const all = lookupsFor(records, Math.max(...Object.values(t.lookups)));
  const take = (layout: Layout) => all.slice(0, t.lookups[layout]);

  const ipar = openSqliteStore(cached.file, { readonly: true });
  const raw = new Database(cached.file, { readonly: true });
  raw.pragma('mmap_size = 2000000000');
  const radacct = new Database(tables.radacct, { readonly: true });
  const rtree = new Database(tables.rtree, { readonly: true });
  try {
    // The floor runs the store's own statement with the store's own look-back bound.
    const bound = Number(
      (raw.prepare("SELECT value FROM meta WHERE key IN ('maxDuration.allocation.0', 'maxDuration.allocation') ORDER BY key DESC LIMIT 1").pluck().get() as
        string | undefined) ?? 0,
    );
    const floorStmt = raw.prepare(LOOKUPS.allocationsClosed).raw();
    const accountName = raw.prepare('SELECT name FROM account WHERE id = ?').pluck();
    const qR = radacct
      .prepare('SELECT username FROM radacct WHERE framedipaddress = ? AND acctstarttime <= ? AND (acctstoptime > ? OR acctstoptime IS NULL)')
      .pluck();
    const qT = rtree
      .prepare('SELECT l.account FROM lease_rtree r JOIN lease l ON l.id = r.id WHERE r.addr_lo <= ? AND r.addr_hi >= ? AND r.time_lo <= ? AND r.time_hi > ?')
      .pluck();

    // Each layout answers a batch with the accounts found, one list per lookup.
    const answer: Record<Layout, (q: readonly Lookup[]) => Promise<string[][]> | string[][]> = {
      ipar: async (q) => {
        const out: string[][] = [];
        for (let i = 0; i < q.length; i += BATCH) {
          const hits = await ipar.allocations(q.slice(i, i + BATCH).map((x) => ({ address: x.address, realm: null, window: { start: x.at, end: x.at + 1 } })));
          for (const h of hits) out.push(h.map((a) => a.account));
        }
        return out;
      },
      floor: (q) => {
        const out: string[][] = [];
        for (let i = 0; i < q.length; i += BATCH) {
          raw.transaction(() => {
            for (const x of q.slice(i, i + BATCH)) {
              const rows = floorStmt.all(0, x.address.key.subarray(12), 128, x.at + 1, x.at - bound, x.at) as unknown[][];
              // Account ids, not names: the floor does no work around the statement.
              out.push(rows.map((row) => String(row[5])));
            }
          })();
        }
        return out;
      },
      radacct: (q) => radacct.transaction(() => q.map((x) => qR.all(x.address.text, x.at, x.at) as string[]))(),
      rtree: (q) =>
        rtree.transaction(() =>
          q.map((x) => {
            const s = Math.floor((x.at - BASE) / 1000);
            return qT.all(x.int, x.int, s, s) as string[];
          }),
        )(),
      scan: (q) =>
        q.map((x) => {
          // What an operator's grep over the log does: every line read for every question.
          const needle = `"ip":"${x.address.text}"`;
          const run = spawnSync('grep', ['-F', needle, log], { encoding: 'utf8', maxBuffer: 1 << 30, env: { ...process.env, LC_ALL: 'C' } });
          if (run.status !== 0 && run.status !== 1) throw new Error(`bench: grep failed: ${run.stderr}`);
          const found: string[] = [];
          for (const line of run.stdout.split('\n')) {
            if (line === '') continue;
            const rec = JSON.parse(line) as { account: string; start: string; end: string | null };
            if (Date.parse(rec.start) <= x.at && (rec.end === null || x.at < Date.parse(rec.end))) found.push(rec.account);
          }
          return found;
        }),
    };

    // Before timing: every layout finds exactly the aimed account for every lookup.
    for (const layout of Object.keys(LAYOUTS) as Layout[]) {
      const q = take(layout);
      const got = await answer[layout](q);
      q.forEach((x, i) => {
        const want = layout === 'floor' ? null : x.account;
        const hits = got[i]!;
        if (hits.length !== 1 || (want !== null && hits[0] !== want)) {
          throw new Error(
            `bench: ${LAYOUTS[layout]} found [${hits.join(', ')}] for ${x.address.text} at ${new Date(x.at).toISOString()}, expected ${x.account}`,
          );
        }
        if (layout === 'floor' && accountName.get(Number(hits[0])) !== x.account)
          throw new Error(`bench: the floor found account id ${hits[0]} for ${x.address.text}, not ${x.account}`);
      });
    }

    let found = 0;
    const bench = new Bench({ iterations: t.iterations, warmupIterations: 1, warmupTime: 0, time: 0 });
    for (const layout of Object.keys(LAYOUTS) as Layout[]) {
      if (layout === 'scan') continue;
      const q = take(layout);
      bench.add(layout, async () => {
        for (const hits of await answer[layout](q)) found += hits.length;
      });
    }
    // The scan: one timed pass (after one untimed pass, above, that put the log in the page cache).
    const scanBench = new Bench({ iterations: 1, warmup: false, time: 0 });
    scanBench.add('scan', () => {
      for (const hits of answer.scan(take('scan')) as string[][]) found += hits.length;
    });
    await bench.run();
    await scanBench.run();
    if (found === 0) throw new Error('bench: the baselines found nothing');

    const perLookup = new Map<string, number>();
    for (const task of [...bench.tasks, ...scanBench.tasks]) {
      const mean = (task.result as { latency?: { mean: number } } | undefined)?.latency?.mean;
      if (mean === undefined) throw new Error(`bench: baseline ${task.name} has no result`);
      perLookup.set(task.name, (mean * 1000) / t.lookups[task.name as Layout]);
    }
    const iparUs = perLookup.get('ipar')!;
    const depthRadacct = radacct.prepare('SELECT count(*) FROM radacct WHERE framedipaddress = ?').pluck();
    const sample = all.slice(0, 16);
    const depth = Math.round(sample.reduce((n, x) => n + (depthRadacct.get(x.address.text) as number), 0) / sample.length);
    return (Object.keys(LAYOUTS) as Layout[]).map((layout) => {
      const us = perLookup.get(layout)!;
      return {
        records,
        layout: LAYOUTS[layout],
        lookups: t.lookups[layout],
        microsecondsPerLookup: round(us, 2),
        ratioToIpar: round(us / iparUs, 2),
        rowsOnAddress: layout === 'floor' || layout === 'ipar' ? null : depth,
      };
    });
  } finally {
    ipar.close();
    raw.close();
    radacct.close();
    rtree.close();
  }
}

/** Run every layout at each store size of the trial; ratios are against ipar's store in the same size. */
export async function runBaselines(quick: boolean, sizes?: readonly number[]): Promise<BaselineResult[]> {
  const out: BaselineResult[] = [];
  for (const records of sizes ?? (quick ? BASELINE_TRIALS.quick : BASELINE_TRIALS.full).records) out.push(...(await baselinesAt(records, quick)));
  return out;
}

export interface BaselineGrowth {
  readonly layout: string;
  readonly fromRecords: number;
  readonly toRecords: number;
  readonly microsecondsFrom: number;
  readonly microsecondsTo: number;
  /** Cost per lookup at the larger store over the smaller: log n gives ~1.17 from 1M to 10M, n gives 10. */
  readonly growth: number;
}

/** How each layout's cost per lookup grows from the smallest to the largest store measured. */
export function baselineGrowth(results: readonly BaselineResult[]): BaselineGrowth[] {
  const sizes = [...new Set(results.map((r) => r.records))].sort((a, b) => a - b);
  if (sizes.length < 2) return [];
  const [from, to] = [sizes[0]!, sizes[sizes.length - 1]!];
  return results
    .filter((r) => r.records === from)
    .flatMap((r) => {
      const big = results.find((x) => x.records === to && x.layout === r.layout);
      return big === undefined
        ? []
        : [
            {
              layout: r.layout,
              fromRecords: from,
              toRecords: to,
              microsecondsFrom: r.microsecondsPerLookup,
              microsecondsTo: big.microsecondsPerLookup,
              growth: round(big.microsecondsPerLookup / r.microsecondsPerLookup, 2),
            },
          ];
    });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--records');
  const results = await runBaselines(process.argv.includes('--quick'), i >= 0 ? [Number(process.argv[i + 1])] : undefined);
  console.table(results);
  console.table(baselineGrowth(results));
}
