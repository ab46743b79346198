/**
 * Session records at scale, the same data into SQLite and into the ClickHouse cluster:
 * the store's write rate and the latency of a batch of session lookups (the question
 * the matcher asks for every observation with a port). Records are generated already
 * parsed (the NDJSON parse in front of either store is the same work; bench/ingest.ts
 * measures it), in time order as exports arrive.
 *
 *   node dist/bench/clickhouse.js --backend sqlite --records 10000000 [--dir DIR]
 *   node dist/bench/clickhouse.js --backend clickhouse --url clickhouse://…/ipar_bench?cluster=ipar --records 10000000
 *   … --lookups-only [--rewrite 1000000]   # on a store built before: lookups, and a re-ingest of its first records
 *
 * One JSON line of results on stdout; progress on stderr.
 */
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addressFromKey, parseAddress, type Address } from '../src/address.js';
import type { NatSessionRecord } from '../src/records.js';
import { ClickHouseStore } from '../src/store/clickhouse/store.js';
import { openSqliteStore } from '../src/store/sqlite/store.js';
import type { NatQuery, StoreReader, StoreWriter } from '../src/store/types.js';

/** Trials as data: what one run measures. */
export const SESSION_BENCH = {
  /** The records span two days (two day partitions), whatever their number. */
  spanMs: 2 * 86_400_000,
  base: Date.parse('2026-03-01T00:00:00Z'),
  /** Records per store write (ClickHouse wants big inserts: each is a part). */
  writeBatch: 100_000,
  /** Observations per lookup batch (the CLI resolves 512 requests at a time). */
  lookupBatch: 512,
  lookupBatches: 20,
  warmupBatches: 2,
} as const;

function mix(i: number, salt: number): number {
  let x = (i ^ salt) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

function v4(a: number, b: number, c: number, d: number): Address {
  const r = parseAddress(`${a}.${b}.${c}.${d}`);
  if (!r.ok) throw new Error(r.message);
  return r.value;
}

/** 256 outside addresses, 65 536 inside, 64 destinations: built once. */
const OUTSIDE = Array.from({ length: 256 }, (_, i) => v4(203, 0, 113, i));
const INSIDE = Array.from({ length: 65_536 }, (_, i) =>
  addressFromKey(Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 100, 64 + (i >> 16), (i >> 8) & 255, i & 255])),
);
const DESTINATIONS = Array.from({ length: 64 }, (_, i) => v4(192, 0, 2, i));
const PROTOCOLS = ['tcp', 'udp'] as const;

/** The i-th of n session records: time ordered, ports spread by a hash, 1 in 1000 still open. */
export function session(i: number, n: number): NatSessionRecord {
  const start = SESSION_BENCH.base + Math.floor((i * SESSION_BENCH.spanMs) / n);
  const h = mix(i, 0x9e3779b9);
  const duration = 10_000 + (mix(i, 0x85ebca6b) % 290_000);
  return {
    kind: 'nat-session',
    realm: 'cgn-a',
    insideIp: INSIDE[mix(i, 0xc2b2ae35) % INSIDE.length]!,
    insidePort: 1024 + (mix(i, 0x27d4eb2f) % 64_000),
    outsideIp: OUTSIDE[h % OUTSIDE.length]!,
    outsidePort: 1024 + (mix(i, 0x165667b1) % 64_512),
    destinationIp: DESTINATIONS[h % DESTINATIONS.length]!,
    destinationPort: [443, 80, 53][h % 3]!,
    protocol: PROTOCOLS[h % 2]!,
    start,
    end: i % 1000 === 999 ? null : start + duration,
  };
}

/** A lookup aimed at record i: its outside address and port, one second after it started. */
function lookupFor(i: number, n: number): NatQuery {
  const r = session(i, n);
  return { outside: r.outsideIp, port: r.outsidePort, window: { start: r.start + 1000, end: r.start + 2000 } };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/**
 * Re-ingest: write the first `m` records again (an export sent twice). Every record is
 * below what the store holds, so each batch is looked up before writing; all unchanged.
 */
async function rewrite(writer: StoreWriter, m: number, n: number): Promise<number> {
  let ms = 0;
  for (let from = 0; from < m; from += SESSION_BENCH.writeBatch) {
    const batch: NatSessionRecord[] = [];
    for (let i = from; i < Math.min(m, from + SESSION_BENCH.writeBatch); i++) batch.push(session(i, n));
    const t = performance.now();
    const summary = await writer.write(batch);
    ms += performance.now() - t;
    if ((summary.unchanged['nat-session'] ?? 0) !== batch.length) throw new Error(`re-ingest changed ${JSON.stringify(summary.stored)}`);
  }
  return Math.round(m / (ms / 1000));
}

async function run(
  backend: 'sqlite' | 'clickhouse',
  n: number,
  url: string | undefined,
  dir: string,
  lookupsOnly: boolean,
  rewriteCount: number,
): Promise<Record<string, unknown>> {
  let writer: StoreWriter & StoreReader;
  let sqliteFile = '';
  if (backend === 'sqlite') {
    mkdirSync(dir, { recursive: true });
    sqliteFile = join(dir, `sessions-${n}.db`);
    if (!lookupsOnly) for (const f of [sqliteFile, `${sqliteFile}-wal`, `${sqliteFile}-shm`]) rmSync(f, { force: true });
    writer = openSqliteStore(sqliteFile, { cacheMiB: 1024 });
  } else {
    if (url === undefined) throw new Error('--url is required for clickhouse');
    writer = new ClickHouseStore(url, { requestTimeoutMs: 1_800_000 });
  }

  // Ingest: generation of a batch is outside the timed part.
  let writeMs = 0;
  let stored = 0;
  const t0 = performance.now();
  for (let from = 0; from < (lookupsOnly ? 0 : n); from += SESSION_BENCH.writeBatch) {
    const batch: NatSessionRecord[] = [];
    for (let i = from; i < Math.min(n, from + SESSION_BENCH.writeBatch); i++) batch.push(session(i, n));
    const w0 = performance.now();
    const summary = await writer.write(batch);
    writeMs += performance.now() - w0;
    stored += summary.stored['nat-session'] ?? 0;
    if ((from / SESSION_BENCH.writeBatch) % 20 === 0)
      process.stderr.write(`${backend} ${n}: ${from + batch.length} written, ${Math.round((from + batch.length) / (writeMs / 1000))} rec/s in write()\n`);
  }
  const wallMs = performance.now() - t0;
  if (stored !== n && !lookupsOnly) throw new Error(`stored ${stored} of ${n}`);
  const rewriteRecordsPerSecond = rewriteCount > 0 ? await rewrite(writer, Math.min(rewriteCount, n), n) : null;
  await writer.close();

  let bytes = 0;
  let parts: number | null = null;
  let reader: StoreReader & { close(): void | Promise<void> };
  if (backend === 'sqlite') {
    bytes = statSync(sqliteFile).size + (statSync(sqliteFile + '-wal', { throwIfNoEntry: false })?.size ?? 0);
    reader = openSqliteStore(sqliteFile, { readonly: true, cacheMiB: 1024 });
  } else {
    const ch = new ClickHouseStore(url!, { readonly: true });
    reader = ch;
    const db = ch.spec.database;
    for (const h of ch.spec.hosts) {
      const r = await fetch(`http://${h.host}:${h.port}/`, {
        method: 'POST',
        body: `SELECT sum(bytes_on_disk), count() FROM system.parts WHERE database = '${db}' AND active FORMAT TSV`,
      });
      const [b, p] = (await r.text()).trim().split('\t').map(Number);
      bytes += b!;
      parts = (parts ?? 0) + p!;
    }
  }

  // Lookups: batches of observations aimed at stored sessions; every answer must hold its target.
  const latencies: number[] = [];
  let found = 0;
  let asked = 0;
  for (let b = 0; b < SESSION_BENCH.warmupBatches + SESSION_BENCH.lookupBatches; b++) {
    const targets = Array.from({ length: SESSION_BENCH.lookupBatch }, (_, k) => mix(b * 100_003 + k, 0x2545f491) % n);
    const queries = targets.map((i) => lookupFor(i, n));
    const l0 = performance.now();
    const answers = await reader.natSessions(queries);
    const ms = performance.now() - l0;
    if (b < SESSION_BENCH.warmupBatches) continue;
    latencies.push(ms);
    answers.forEach((a, k) => {
      asked++;
      const t = session(targets[k]!, n);
      if (a.some((s) => s.start === t.start && s.insideIp.text === t.insideIp.text && s.insidePort === t.insidePort)) found++;
    });
  }
  await reader.close();
  if (found !== asked) throw new Error(`lookups found ${found} of ${asked} targets`);
  return {
    backend,
    records: n,
    writeBatch: SESSION_BENCH.writeBatch,
    ingestSeconds: Math.round(wallMs / 100) / 10,
    writeRecordsPerSecond: Math.round(n / (writeMs / 1000)),
    bytesPerRecord: Math.round((bytes / n) * 10) / 10,
    ...(parts === null ? {} : { activeParts: parts }),
    ...(rewriteRecordsPerSecond === null ? {} : { rewriteRecords: Math.min(rewriteCount, n), rewriteRecordsPerSecond }),
    lookupBatch: SESSION_BENCH.lookupBatch,
    batchMsMedian: Math.round(median(latencies) * 10) / 10,
    batchMsP90: Math.round([...latencies].sort((a, b) => a - b)[Math.floor(latencies.length * 0.9)]! * 10) / 10,
    lookupsPerSecond: Math.round(SESSION_BENCH.lookupBatch / (median(latencies) / 1000)),
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? '?', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
    date: new Date().toISOString(),
    /** 1, 5 and 15-minute load averages at the end (the machine is shared: read the figures beside it). */
    load: loadavg().map((l) => Math.round(l * 10) / 10),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (name: string): string | undefined => {
    const i = process.argv.indexOf(name);
    return i < 0 ? undefined : process.argv[i + 1];
  };
  const backend = arg('--backend') === 'clickhouse' ? 'clickhouse' : 'sqlite';
  const n = Number(arg('--records') ?? 1_000_000);
  const result = await run(
    backend,
    n,
    arg('--url'),
    arg('--dir') ?? join(tmpdir(), 'ipar-bench-sessions'),
    process.argv.includes('--lookups-only'),
    Number(arg('--rewrite') ?? 0),
  );
  process.stdout.write(JSON.stringify(result) + '\n');
}
