/**
 * Resolve through the library, per path (issue #8): for each store size and each path of
 * bench/data.ts, one request resolved alone (latency of a request) and batches of 512
 * (requests a second), risk analysis on and off, one core.
 *
 * Setup outside the timed functions: the cached store (bench/stores.ts), the requests
 * (JSON values, as the CLI hands them to the library: validation is part of what is
 * timed). Every request is aimed at stored records and checked, before timing, to resolve
 * `unique` to the account it was aimed at; every result the timed functions produce is
 * counted, and a run in which any was not `unique` is an error.
 *
 *   node dist/bench/resolve.js [--quick] [--records N]
 */
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { resolveRequests } from '../matcher/pipeline.js';
import { openSqliteStore, type SqliteStore } from '../src/store/sqlite/store.js';
import { PATHS, operatorRequest, type AimedRequest, type ResolvePath } from './data.js';
import { cachedStore } from './stores.js';

/** Trials as data. */
export const RESOLVE_TRIALS = {
  full: {
    records: [1_000_000, 10_000_000],
    /** Distinct requests the one-at-a-time task cycles through. */
    singles: 1_000,
    /** Distinct batches the batch task cycles through. */
    batches: 2,
    batchSize: 512,
    /** Time budget a task (ms); at least `minIterations` iterations. */
    timeMs: 2_000,
    minIterations: 2,
  },
  quick: { records: [50_000], singles: 200, batches: 1, batchSize: 512, timeMs: 200, minIterations: 1 },
} as const;

export type ResolveTrials = (typeof RESOLVE_TRIALS)[keyof typeof RESOLVE_TRIALS];

/** The two ways a request is resolved. */
export const RESOLVE_TASKS = ['one request alone', 'batch of 512'] as const;

export interface ResolveTrialResult {
  readonly records: number;
  readonly path: ResolvePath;
  readonly task: (typeof RESOLVE_TASKS)[number];
  readonly risks: 'on' | 'off';
  /** Requests resolved while timing (all `unique`). */
  readonly requests: number;
  /** Latency of one call of the library (one request, or one batch), in ms. */
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly microsecondsPerRequest: number;
  readonly requestsPerSecond: number;
}

/** Check that every request resolves `unique` to the account it was aimed at. */
async function verify(store: SqliteStore, path: ResolvePath, aimed: readonly AimedRequest[]): Promise<void> {
  for (let i = 0; i < aimed.length; i += 512) {
    const slice = aimed.slice(i, i + 512);
    const results = await resolveRequests(
      store,
      slice.map((a) => a.request),
      { risks: false },
    );
    results.forEach((r, k) => {
      const want = slice[k]!;
      if (r.status !== 'unique' || r.candidates[0]?.account !== want.account) {
        throw new Error(
          `bench: ${path} request ${want.request.ref} resolved ${r.status} (${r.candidates.map((c) => c.account).join(', ')}), aimed at ${want.account}: the benchmark data is off`,
        );
      }
    });
  }
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Resolve every path against one store; `trial` says how long and how many. */
export async function resolvePaths(file: string, records: number, trial: ResolveTrials, paths: readonly ResolvePath[] = PATHS): Promise<ResolveTrialResult[]> {
  // The read configuration `ipar resolve` uses (default page cache, memory-mapped file).
  const store = openSqliteStore(file, { readonly: true });
  const out: ResolveTrialResult[] = [];
  try {
    for (const path of paths) {
      const singles = Array.from({ length: trial.singles }, (_, k) => operatorRequest(path, k, records));
      const batched = Array.from({ length: trial.batches * trial.batchSize }, (_, k) => operatorRequest(path, trial.singles + k, records));
      await verify(store, path, [...singles, ...batched]);
      const singleInputs = singles.map((a) => a.request as unknown);
      const batches: unknown[][] = [];
      for (let i = 0; i < batched.length; i += trial.batchSize) batches.push(batched.slice(i, i + trial.batchSize).map((a) => a.request));

      const bench = new Bench({ time: trial.timeMs, iterations: trial.minIterations, warmupIterations: 1, warmupTime: 0 });
      // Results consumed: every one counted, and all must be unique.
      const tally = new Map<string, { requests: number; unique: number }>();
      for (const risks of [true, false]) {
        const name = (task: string) => `${task}|${risks ? 'on' : 'off'}`;
        let next = 0;
        const one = name(RESOLVE_TASKS[0]);
        tally.set(one, { requests: 0, unique: 0 });
        bench.add(one, async () => {
          const [r] = await resolveRequests(store, [singleInputs[next++ % singleInputs.length]], { risks });
          const t = tally.get(one)!;
          t.requests++;
          if (r?.status === 'unique') t.unique++;
        });
        let nextBatch = 0;
        const many = name(RESOLVE_TASKS[1]);
        tally.set(many, { requests: 0, unique: 0 });
        bench.add(many, async () => {
          const results = await resolveRequests(store, batches[nextBatch++ % batches.length]!, { risks });
          const t = tally.get(many)!;
          t.requests += results.length;
          for (const r of results) if (r.status === 'unique') t.unique++;
        });
      }
      await bench.run();
      for (const task of bench.tasks) {
        const t = tally.get(task.name)!;
        if (t.unique !== t.requests) throw new Error(`bench: ${path}, ${task.name}: ${t.requests - t.unique} of ${t.requests} results were not unique`);
        const result = task.result as { latency?: { mean: number; p50: number; p99: number; samplesCount?: number } } | undefined;
        const latency = result?.latency;
        if (latency === undefined) throw new Error(`bench: ${path}, ${task.name} has no result (${task.result?.state ?? 'not run'})`);
        const [taskName, risks] = task.name.split('|') as [(typeof RESOLVE_TASKS)[number], 'on' | 'off'];
        const size = taskName === RESOLVE_TASKS[0] ? 1 : trial.batchSize;
        out.push({
          records,
          path,
          task: taskName,
          risks,
          requests: t.requests,
          meanMs: round(latency.mean, 3),
          p50Ms: round(latency.p50, 3),
          p99Ms: round(latency.p99, 3),
          microsecondsPerRequest: round((latency.mean * 1000) / size, 1),
          requestsPerSecond: Math.round((size * 1000) / latency.mean),
        });
      }
      process.stderr.write(`bench: resolve ${path} on ${records.toLocaleString('en')} records done\n`);
    }
  } finally {
    store.close();
  }
  return out;
}

/** Run the trials: each store size from the cache (built the first time), every path. */
export async function runResolveBench(quick: boolean, sizes?: readonly number[]): Promise<ResolveTrialResult[]> {
  const trial = quick ? RESOLVE_TRIALS.quick : RESOLVE_TRIALS.full;
  const out: ResolveTrialResult[] = [];
  for (const records of sizes ?? trial.records) {
    const { file } = cachedStore(records);
    out.push(...(await resolvePaths(file, records, trial)));
  }
  return out;
}

export interface ResolveGrowth {
  readonly path: ResolvePath;
  readonly task: (typeof RESOLVE_TASKS)[number];
  readonly risks: 'on' | 'off';
  readonly fromRecords: number;
  readonly toRecords: number;
  readonly microsecondsFrom: number;
  readonly microsecondsTo: number;
  /** Cost per request at the larger store over the smaller (log n would give ~1.17 from 1M to 10M). */
  readonly growth: number;
}

/** How the cost of each path grows from the smallest to the largest store measured. */
export function resolveGrowth(results: readonly ResolveTrialResult[]): ResolveGrowth[] {
  const sizes = [...new Set(results.map((r) => r.records))].sort((a, b) => a - b);
  if (sizes.length < 2) return [];
  const [from, to] = [sizes[0]!, sizes[sizes.length - 1]!];
  const find = (r: ResolveTrialResult, records: number) =>
    results.find((x) => x.records === records && x.path === r.path && x.task === r.task && x.risks === r.risks);
  return results
    .filter((r) => r.records === from)
    .flatMap((r) => {
      const big = find(r, to);
      if (big === undefined) return [];
      return [
        {
          path: r.path,
          task: r.task,
          risks: r.risks,
          fromRecords: from,
          toRecords: to,
          microsecondsFrom: r.microsecondsPerRequest,
          microsecondsTo: big.microsecondsPerRequest,
          growth: round(big.microsecondsPerRequest / r.microsecondsPerRequest, 2),
        },
      ];
    });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--records');
  const sizes = i >= 0 ? [Number(process.argv[i + 1])] : undefined;
  const results = await runResolveBench(process.argv.includes('--quick'), sizes);
  console.table(results);
  console.table(resolveGrowth(results));
}
