/**
 * Resolve benchmark: a batch of requests against a synthetic store, through the library
 * (risk analysis on and off) — observations per second. The store is built once per
 * size (setup, outside the timed functions).
 *
 *   node dist/bench/resolve.js [--quick]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { resolveRequests } from '../matcher/pipeline.js';
import { ingest } from '../src/ingest/ingest.js';
import { openInputs } from '../src/ingest/lines.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import { SYNTHETIC_SPACE, syntheticRequest, writeSynthetic } from './data.js';

export interface ResolveTrialResult {
  readonly records: number;
  readonly requests: number;
  readonly task: string;
  readonly msPerBatch: number;
  readonly observationsPerSecond: number;
}

/** Trials as data: store sizes and batch sizes. */
export const RESOLVE_TRIALS = {
  full: { records: [1_000_000], requests: 10_000 },
  quick: { records: [50_000], requests: 2_000 },
} as const;

export async function runResolveBench(quick: boolean): Promise<ResolveTrialResult[]> {
  const trial = quick ? RESOLVE_TRIALS.quick : RESOLVE_TRIALS.full;
  const out: ResolveTrialResult[] = [];
  for (const records of trial.records) {
    const dir = mkdtempSync(join(tmpdir(), 'ipar-bench-'));
    const file = join(dir, 'records.ndjson');
    await writeSynthetic(file, records);
    writeFileSync(join(dir, 'space.ndjson'), SYNTHETIC_SPACE.join('\n') + '\n');
    const db = join(dir, 'store.db');
    const writer = openSqliteStore(db, { cacheMiB: 256 });
    await ingest(writer, await openInputs([join(dir, 'space.ndjson'), file]));
    writer.close();
    const store = openSqliteStore(db, { readonly: true, cacheMiB: 256 });
    const slots = Math.floor(records / 3);
    const requests = Array.from({ length: trial.requests }, (_, i) => JSON.parse(syntheticRequest(i, slots)) as unknown);
    const batches: unknown[][] = [];
    for (let i = 0; i < requests.length; i += 512) batches.push(requests.slice(i, i + 512));
    let unique = 0;
    const bench = new Bench({ iterations: 3, warmupIterations: 1, time: 0 });
    for (const [task, risks] of [['library, risk analysis on', true], ['library, risk analysis off', false]] as const) {
      bench.add(task, async () => {
        unique = 0;
        for (const batch of batches) for (const r of await resolveRequests(store, batch, { risks })) if (r.status === 'unique') unique++;
      });
    }
    await bench.run();
    if (unique < trial.requests * 0.9) throw new Error(`only ${unique} of ${trial.requests} requests were unique: the benchmark data is off`);
    for (const t of bench.tasks) {
      const mean = (t.result as { latency?: { mean: number } } | undefined)?.latency?.mean ?? NaN;
      out.push({ records, requests: trial.requests, task: t.name, msPerBatch: Math.round(mean), observationsPerSecond: Math.round(trial.requests / (mean / 1000)) });
    }
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.table(await runResolveBench(process.argv.includes('--quick')));
}
