/**
 * Synthetic operator stores, built once and kept between benchmarks and runs. A store of
 * N records (bench/data.ts's operator) is written by the product's own writer,
 * `openSqliteStore(…).write(records)` in batches of 10,000 (the batch `ipar ingest`
 * commits), so the layout measured is the real one; the records are generated already
 * parsed, which skips only the NDJSON parse in front of the writer.
 *
 * Cache: `$IPAR_BENCH_CACHE` or `<os.tmpdir()>/ipar-bench-cache`, one directory per
 * generator version and store schema version, one below it per N:
 *
 *     ipar-bench-cache/operator-v1-schema2/10000000/store.db      the store
 *                                                  /build.json    how long it took, what it holds
 *                                                  /records.ndjson the same records as a raw log (made on demand)
 *
 * A change of generator (OPERATOR_VERSION) or of the store schema starts a new directory;
 * delete old ones by hand.
 *
 *   node dist/bench/stores.js 1000000 10000000     # build (or report) these stores
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { CanonicalRecord } from '../src/records.js';
import { SCHEMA_VERSION } from '../src/store/sqlite/schema.js';
import { openSqliteStore } from '../src/store/sqlite/store.js';
import { OPERATOR_VERSION, operatorLine, operatorRecord, writeOperator } from './data.js';

/** Records per `write()`: one transaction each, as `ipar ingest` batches. */
export const BUILD_BATCH = 10_000;
/** Page cache while building (the indexes of a 10M store want to stay in cache). */
const BUILD_CACHE_MIB = 256;

/** What a cached store holds and what building it cost. */
export interface CachedStore {
  /** The store file (open it read-only: others reuse it). */
  readonly file: string;
  /** Its directory in the cache (baselines keep their own layouts beside it). */
  readonly dir: string;
  readonly records: number;
  /** Seconds spent building it (when it was built, in this run or an earlier one). */
  readonly buildSeconds: number;
  /** Records a second through `write()` while building. */
  readonly writeRecordsPerSecond: number;
  readonly bytes: number;
  /** True when this call built it; false when it came from the cache. */
  readonly builtNow: boolean;
  readonly builtAt: string;
}

/** The cache root: `$IPAR_BENCH_CACHE`, or `ipar-bench-cache` in the OS temporary directory. */
export function benchCacheRoot(): string {
  return process.env['IPAR_BENCH_CACHE'] ?? join(tmpdir(), 'ipar-bench-cache');
}

/** This generator's and schema's directory in the cache. */
export function benchCacheVersionDir(): string {
  return join(benchCacheRoot(), `operator-v${OPERATOR_VERSION}-schema${SCHEMA_VERSION}`);
}

function progress(text: string): void {
  process.stderr.write(text);
}

/** Every 1,000th record is also parsed from its line by zod: the fast generator must agree. */
function checkSample(i: number, built: CanonicalRecord): void {
  const parsed = CanonicalRecord.parse(JSON.parse(operatorLine(i)));
  if (!isDeepStrictEqual(parsed, built)) throw new Error(`bench data: operator record ${i} differs from the parse of its line ${operatorLine(i)}`);
}

function build(dir: string, records: number): { seconds: number; writeRecordsPerSecond: number } {
  const partial = join(dir, `store.db.partial-${process.pid}`);
  for (const f of [partial, partial + '-wal', partial + '-shm']) rmSync(f, { force: true });
  const store = openSqliteStore(partial, { cacheMiB: BUILD_CACHE_MIB });
  const started = performance.now();
  let writeMs = 0;
  let lastReport = started;
  progress(`bench: building a store of ${records.toLocaleString('en')} records in ${dir}\n`);
  for (let from = 0; from < records; from += BUILD_BATCH) {
    const batch: CanonicalRecord[] = [];
    for (let i = from; i < Math.min(records, from + BUILD_BATCH); i++) {
      const r = operatorRecord(i);
      if (i % 1000 === 0) checkSample(i, r);
      batch.push(r);
    }
    const t = performance.now();
    const summary = store.write(batch);
    writeMs += performance.now() - t;
    const stored = Object.values(summary.stored).reduce((a, b) => a + b, 0);
    if (stored !== batch.length) throw new Error(`bench: wrote ${batch.length} records from ${from}, the store took ${stored} as new`);
    const now = performance.now();
    if (now - lastReport > 2000 || from + BUILD_BATCH >= records) {
      lastReport = now;
      const done = Math.min(records, from + BUILD_BATCH);
      progress(
        `bench:   ${done.toLocaleString('en')} / ${records.toLocaleString('en')} records, ${Math.round((now - started) / 1000)} s, ${Math.round(done / (writeMs / 1000)).toLocaleString('en')} records/s in write()\n`,
      );
    }
  }
  store.close();
  const seconds = (performance.now() - started) / 1000;
  renameSync(partial, join(dir, 'store.db'));
  for (const f of [partial + '-wal', partial + '-shm']) rmSync(f, { force: true });
  return { seconds, writeRecordsPerSecond: Math.round(records / (writeMs / 1000)) };
}

/**
 * The operator store of `records` records: from the cache, or built now (minutes for
 * 10M records; progress on stderr).
 *
 * @example
 * const { file } = cachedStore(1_000_000);
 * const store = openSqliteStore(file, { readonly: true });
 */
export function cachedStore(records: number): CachedStore {
  const dir = join(benchCacheVersionDir(), String(records));
  const file = join(dir, 'store.db');
  const meta = join(dir, 'build.json');
  mkdirSync(dir, { recursive: true });
  let builtNow = false;
  if (!existsSync(file) || !existsSync(meta)) {
    const stale = existsSync(benchCacheRoot()) ? readdirSync(benchCacheRoot()).filter((d) => join(benchCacheRoot(), d) !== benchCacheVersionDir()) : [];
    if (stale.length > 0)
      progress(`bench: the cache ${benchCacheRoot()} also holds ${stale.join(', ')} (other generator or schema versions; delete them if unused)\n`);
    const { seconds, writeRecordsPerSecond } = build(dir, records);
    writeFileSync(
      meta,
      JSON.stringify(
        {
          records,
          buildSeconds: Math.round(seconds * 10) / 10,
          writeRecordsPerSecond,
          builtAt: new Date().toISOString(),
          operatorVersion: OPERATOR_VERSION,
          schemaVersion: SCHEMA_VERSION,
        },
        null,
        2,
      ) + '\n',
    );
    builtNow = true;
  }
  const m = JSON.parse(readFileSync(meta, 'utf8')) as { buildSeconds: number; writeRecordsPerSecond: number; builtAt: string };
  return {
    file,
    dir,
    records,
    buildSeconds: m.buildSeconds,
    writeRecordsPerSecond: m.writeRecordsPerSecond,
    bytes: statSync(file).size,
    builtNow,
    builtAt: m.builtAt,
  };
}

/**
 * The same records as a raw NDJSON log (what a linear scan reads), written once beside
 * the store.
 */
export async function cachedLog(records: number): Promise<string> {
  const dir = join(benchCacheVersionDir(), String(records));
  const file = join(dir, 'records.ndjson');
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    progress(`bench: writing the raw log of ${records.toLocaleString('en')} records\n`);
    const partial = `${file}.partial-${process.pid}`;
    await writeOperator(partial, records);
    renameSync(partial, file);
  }
  return file;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const sizes = process.argv
    .slice(2)
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
  console.table(sizes.map((n) => cachedStore(n)));
}
