/**
 * Ingest benchmark: canonical NDJSON into a fresh store. Each trial runs in its own
 * child process so its peak RSS is its own; "memory flat in input size" is checked by
 * comparing peak RSS across sizes in the same run.
 *
 *   node dist/bench/ingest.js            # the trials below
 *   node dist/bench/ingest.js --child N  # one trial (used by the parent)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { ingest, type IngestOptions } from '../src/ingest/ingest.js';
import { openInputs } from '../src/ingest/lines.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import { writeSynthetic } from './data.js';

export interface IngestTrialResult {
  readonly rows: number;
  readonly seconds: number;
  readonly rowsPerSecond: number;
  readonly peakRssMiB: number;
  readonly dbBytesPerRecord: number;
}

/** Page cache for the writer: bounded, so memory stays flat as the input grows. */
export const INGEST_CACHE_MIB = 64;

/** Trials as data: input sizes, in records. */
export const INGEST_TRIALS = { full: [100_000, 1_000_000, 2_000_000], quick: [20_000, 100_000] } as const;

type ParseIn = NonNullable<IngestOptions['parseIn']>;

async function child(rows: number, batchSize: number | undefined, parseIn: ParseIn | undefined): Promise<IngestTrialResult> {
  const dir = mkdtempSync(join(tmpdir(), 'ipar-bench-'));
  const input = join(dir, 'records.ndjson');
  await writeSynthetic(input, rows); // setup, outside the timed function
  let stored = 0;
  let dbFile = '';
  let run = 0;
  const bench = new Bench({ iterations: 1, warmup: false, time: 0 });
  bench.add('ingest', async () => {
    dbFile = join(dir, `store-${run++}.db`);
    const store = openSqliteStore(dbFile, { cacheMiB: INGEST_CACHE_MIB });
    const summary = await ingest(store, await openInputs([input]), { ...(batchSize === undefined ? {} : { batchSize }), ...(parseIn === undefined ? {} : { parseIn }) });
    store.close();
    stored = Object.values(summary.stored).reduce((a, b) => a + b, 0);
  });
  await bench.run();
  const task = bench.tasks[0]!;
  const result = task.result as { latency?: { mean: number } } | undefined;
  const ms = result?.latency?.mean ?? NaN;
  if (stored !== rows) throw new Error(`stored ${stored} of ${rows}`);
  const dbBytes = statSync(dbFile).size + (statSync(dbFile + '-wal', { throwIfNoEntry: false })?.size ?? 0);
  const out = {
    rows,
    seconds: ms / 1000,
    rowsPerSecond: Math.round(rows / (ms / 1000)),
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    dbBytesPerRecord: Math.round(dbBytes / rows),
  };
  rmSync(dir, { recursive: true, force: true });
  return out;
}

/** Run each trial in a child process and return the results. */
export function runIngestBench(quick: boolean): IngestTrialResult[] {
  const self = fileURLToPath(import.meta.url);
  return (quick ? INGEST_TRIALS.quick : INGEST_TRIALS.full).map((rows) => {
    const text = execFileSync(process.execPath, [self, '--child', String(rows)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
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
    process.stdout.write(JSON.stringify(await child(Number(process.argv[i + 1]), batch === undefined ? undefined : Number(batch), flag('--parse-in') as ParseIn | undefined)) + '\n');
  } else {
    console.table(runIngestBench(process.argv.includes('--quick')));
  }
}
