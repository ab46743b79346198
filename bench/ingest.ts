/**
 * Ingest benchmark: canonical NDJSON into a fresh store. Each trial runs in its own
 * child process so its peak RSS is its own; "memory flat in input size" is checked by
 * comparing peak RSS across sizes in the same run, and the main thread's heap after a
 * full collection at the end (what the ingest retained, as opposed to garbage V8 had not
 * yet collected when RSS peaked).
 *
 *   node dist/bench/ingest.js                     # the full trials below
 *   node dist/bench/ingest.js --quick             # the quick ones
 *   node dist/bench/ingest.js --child N [--batch B] [--parse-in auto|worker|this-thread]
 *                                                 # one trial (used by the parent)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { DEFAULT_BATCH_SIZE, ingest, type IngestOptions } from '../src/ingest/ingest.js';
import { openInputs } from '../src/ingest/lines.js';
import { openSqliteStore } from '../src/store/sqlite/store.js';
import { writeSynthetic } from './data.js';

type ParseIn = NonNullable<IngestOptions['parseIn']>;

/** One trial: records in the input, and how ingest is asked to run (its defaults when absent). */
export interface IngestTrial {
  readonly rows: number;
  readonly parseIn?: ParseIn;
  readonly batchSize?: number;
}

export interface IngestTrialResult {
  readonly rows: number;
  readonly parseIn: ParseIn;
  readonly batchSize: number;
  readonly seconds: number;
  readonly rowsPerSecond: number;
  readonly peakRssMiB: number;
  /** The main thread's heap after a full collection once the ingest is done. */
  readonly heapAfterGcMiB: number;
  readonly dbBytesPerRecord: number;
}

/** Page cache for the writer: bounded, so memory stays flat as the input grows. */
export const INGEST_CACHE_MIB = 64;

/**
 * Trials as data. `auto` is what `ipar ingest` does: a worker thread parses files of 8
 * batches or more (128 MB; a synthetic record is 188 bytes, so 1M and 2M records use it
 * and 100k do not). The other trials are the alternatives: parsing in the writer's
 * thread at 1M and 2M, and there too with the old 10,000-record transactions.
 */
export const INGEST_TRIALS: { readonly full: readonly IngestTrial[]; readonly quick: readonly IngestTrial[] } = {
  full: [
    { rows: 100_000 },
    { rows: 1_000_000 },
    { rows: 2_000_000 },
    { rows: 1_000_000, parseIn: 'this-thread' },
    { rows: 2_000_000, parseIn: 'this-thread' },
    { rows: 1_000_000, parseIn: 'this-thread', batchSize: 10_000 },
  ],
  quick: [{ rows: 20_000 }, { rows: 100_000 }, { rows: 100_000, parseIn: 'worker' }],
};

async function child(trial: IngestTrial): Promise<IngestTrialResult> {
  const { rows } = trial;
  const dir = mkdtempSync(join(tmpdir(), 'ipar-bench-'));
  const input = join(dir, 'records.ndjson');
  await writeSynthetic(input, rows); // setup, outside the timed function
  const options: IngestOptions = {
    ...(trial.batchSize === undefined ? {} : { batchSize: trial.batchSize }),
    ...(trial.parseIn === undefined ? {} : { parseIn: trial.parseIn }),
  };
  let stored = 0;
  let dbFile = '';
  let run = 0;
  const bench = new Bench({ iterations: 1, warmup: false, time: 0 });
  bench.add('ingest', async () => {
    dbFile = join(dir, `store-${run++}.db`);
    const store = openSqliteStore(dbFile, { cacheMiB: INGEST_CACHE_MIB });
    const summary = await ingest(store, await openInputs([input]), options);
    store.close();
    stored = Object.values(summary.stored).reduce((a, b) => a + b, 0);
  });
  await bench.run();
  const task = bench.tasks[0]!;
  const result = task.result as { latency?: { mean: number } } | undefined;
  const ms = result?.latency?.mean ?? NaN;
  if (stored !== rows) throw new Error(`stored ${stored} of ${rows}`);
  const dbBytes = statSync(dbFile).size + (statSync(dbFile + '-wal', { throwIfNoEntry: false })?.size ?? 0);
  const peakRssMiB = Math.round(process.resourceUsage().maxRSS / 1024);
  // What the ingest retained: collect once the task and its promises are done with.
  await new Promise((resolve) => setImmediate(resolve));
  (globalThis as { gc?: () => void }).gc?.();
  const out: IngestTrialResult = {
    rows,
    parseIn: trial.parseIn ?? 'auto',
    batchSize: trial.batchSize ?? DEFAULT_BATCH_SIZE,
    seconds: ms / 1000,
    rowsPerSecond: Math.round(rows / (ms / 1000)),
    peakRssMiB,
    heapAfterGcMiB: Math.round(process.memoryUsage().heapUsed / 2 ** 20),
    dbBytesPerRecord: Math.round(dbBytes / rows),
  };
  rmSync(dir, { recursive: true, force: true });
  return out;
}

/** Run each trial in a child process and return the results. */
export function runIngestBench(quick: boolean): IngestTrialResult[] {
  const self = fileURLToPath(import.meta.url);
  return (quick ? INGEST_TRIALS.quick : INGEST_TRIALS.full).map((trial) => {
    const args = [
      '--expose-gc',
      self,
      '--child',
      String(trial.rows),
      ...(trial.batchSize === undefined ? [] : ['--batch', String(trial.batchSize)]),
      ...(trial.parseIn === undefined ? [] : ['--parse-in', trial.parseIn]),
    ];
    const text = execFileSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    return JSON.parse(text) as IngestTrialResult;
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--child');
  if (i >= 0) {
    const flag = (name: string): string | undefined => {
      const at = process.argv.indexOf(name);
      return at >= 0 ? process.argv[at + 1] : undefined;
    };
    const batch = flag('--batch');
    const parseIn = flag('--parse-in') as ParseIn | undefined;
    const trial: IngestTrial = {
      rows: Number(process.argv[i + 1]),
      ...(batch === undefined ? {} : { batchSize: Number(batch) }),
      ...(parseIn === undefined ? {} : { parseIn }),
    };
    process.stdout.write(JSON.stringify(await child(trial)) + '\n');
  } else {
    console.table(runIngestBench(process.argv.includes('--quick')));
  }
}
