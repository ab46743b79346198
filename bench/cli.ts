/**
 * The full CLI on a batch: `ipar resolve` reading NDJSON requests from a file and writing
 * NDJSON results (risk analysis and audit included), in a child process, timed end to
 * end — once per worker count (`--workers`), in the same run, so the figures compare.
 *
 *   node dist/bench/cli.js [--quick]
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { ingest } from '../src/ingest/ingest.js';
import { openInputs } from '../src/ingest/lines.js';
import { packagePath } from '../src/paths.js';
import { openSqliteStore } from '../src/store/sqlite/store.js';
import { SYNTHETIC_SPACE, syntheticRequest, writeSynthetic } from './data.js';

/** Trials as data: the store's size, the requests resolved, and the `--workers` counts compared. */
export const CLI_TRIALS = {
  full: { records: 1_000_000, requests: 100_000, workers: [1, 2] },
  quick: { records: 50_000, requests: 5_000, workers: [1, 2] },
} as const;

export interface CliResult {
  readonly workers: number;
  readonly records: number;
  readonly requests: number;
  readonly seconds: number;
  readonly requestsPerSecond: number;
  /** 1-minute load average when the trial ended (the machine may be shared). */
  readonly load: number;
}

/** Where the trials' store comes from: a SQLite file holding `records` synthetic records ({@link syntheticStore}'s shape). */
export type CliStore = (dir: string, records: number) => Promise<string>;

/**
 * The store the trials read: synthetic records ingested into a SQLite file in `dir`.
 * Only ever read by the trials (each audits to its own file), so a cached store shared
 * between benchmarks can take its place (pass another {@link CliStore}).
 */
export async function syntheticStore(dir: string, records: number): Promise<string> {
  await writeSynthetic(join(dir, 'records.ndjson'), records);
  writeFileSync(join(dir, 'space.ndjson'), SYNTHETIC_SPACE.join('\n') + '\n');
  const db = join(dir, 'store.db');
  const store = openSqliteStore(db, { cacheMiB: 256 });
  await ingest(store, await openInputs([join(dir, 'space.ndjson'), join(dir, 'records.ndjson')]));
  store.close();
  rmSync(join(dir, 'records.ndjson'));
  return db;
}

/** sha256 of a file: the trials must print the same bytes whatever the worker count. */
function digest(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

export async function runCliBench(quick: boolean, store: CliStore = syntheticStore): Promise<CliResult[]> {
  const t = quick ? CLI_TRIALS.quick : CLI_TRIALS.full;
  const dir = mkdtempSync(join(tmpdir(), 'ipar-bench-cli-'));
  const db = await store(dir, t.records);
  const requests = join(dir, 'requests.ndjson');
  const slots = Math.floor(t.records / 3);
  writeFileSync(requests, Array.from({ length: t.requests }, (_, i) => syntheticRequest(i, slots)).join('\n') + '\n');
  const cli = packagePath('dist', 'src', 'cli.js');
  const bench = new Bench({ iterations: 1, warmup: false, time: 0 });
  const load = new Map<number, number>();
  for (const workers of t.workers) {
    bench.add(`ipar resolve --workers ${workers}`, () => {
      const out = openSync(join(dir, `results-${workers}.ndjson`), 'w');
      try {
        // The flag the `ipar` command's #! line gives (src/cli.ts).
        execFileSync(
          process.execPath,
          ['--max-semi-space-size=32', cli, 'resolve', '--db', db, '--audit', join(dir, `audit-${workers}.db`), '--workers', String(workers), requests],
          { stdio: ['ignore', out, 'ignore'] },
        );
      } finally {
        closeSync(out);
      }
      load.set(workers, loadavg()[0]!);
    });
  }
  await bench.run();
  const printed = new Set(t.workers.map((w) => digest(join(dir, `results-${w}.ndjson`))));
  rmSync(dir, { recursive: true, force: true });
  if (printed.size !== 1) throw new Error(`bench/cli.ts: the trials printed different results (${printed.size} different outputs)`);
  return bench.tasks.map((task, i): CliResult => {
    const workers = t.workers[i]!;
    const ms = (task.result as { latency?: { mean: number } } | undefined)?.latency?.mean ?? NaN;
    return {
      workers,
      records: t.records,
      requests: t.requests,
      seconds: Math.round(ms) / 1000,
      requestsPerSecond: Math.round(t.requests / (ms / 1000)),
      load: Math.round((load.get(workers) ?? NaN) * 100) / 100,
    };
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.table(await runCliBench(process.argv.includes('--quick')));
}
