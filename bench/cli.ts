/**
 * The full CLI on a batch: `ipar resolve` reading NDJSON requests from a file and writing
 * NDJSON results (risk analysis included), in a child process, timed end to end.
 *
 *   node dist/bench/cli.js [--quick]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { ingest } from '../src/ingest/ingest.js';
import { openInputs } from '../src/ingest/lines.js';
import { packagePath } from '../src/paths.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import { SYNTHETIC_SPACE, syntheticRequest, writeSynthetic } from './data.js';

export const CLI_TRIALS = { full: { records: 1_000_000, requests: 100_000 }, quick: { records: 50_000, requests: 5_000 } } as const;

export interface CliResult {
  readonly records: number;
  readonly requests: number;
  readonly seconds: number;
  readonly requestsPerSecond: number;
}

export async function runCliBench(quick: boolean): Promise<CliResult[]> {
  const t = quick ? CLI_TRIALS.quick : CLI_TRIALS.full;
  const dir = mkdtempSync(join(tmpdir(), 'ipar-bench-cli-'));
  await writeSynthetic(join(dir, 'records.ndjson'), t.records);
  writeFileSync(join(dir, 'space.ndjson'), SYNTHETIC_SPACE.join('\n') + '\n');
  const db = join(dir, 'store.db');
  const store = openSqliteStore(db, { cacheMiB: 256 });
  await ingest(store, await openInputs([join(dir, 'space.ndjson'), join(dir, 'records.ndjson')]));
  store.close();
  const requests = join(dir, 'requests.ndjson');
  const slots = Math.floor(t.records / 3);
  writeFileSync(requests, Array.from({ length: t.requests }, (_, i) => syntheticRequest(i, slots)).join('\n') + '\n');
  const out = join(dir, 'results.ndjson');
  const bench = new Bench({ iterations: 1, warmup: false, time: 0 });
  bench.add('ipar resolve (NDJSON in and out, risk analysis)', () => {
    execFileSync(process.execPath, [packagePath('dist', 'src', 'cli.js'), 'resolve', '--db', db, requests], { stdio: ['ignore', 'ignore', 'ignore'] });
  });
  await bench.run();
  const ms = ((bench.tasks[0]!.result as { latency?: { mean: number } } | undefined)?.latency?.mean ?? NaN);
  rmSync(out, { force: true });
  rmSync(dir, { recursive: true, force: true });
  return [{ records: t.records, requests: t.requests, seconds: Math.round(ms) / 1000, requestsPerSecond: Math.round(t.requests / (ms / 1000)) }];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.table(await runCliBench(process.argv.includes('--quick')));
}
