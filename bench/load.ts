/**
 * Load benchmark (issue 9): N requests, generated on the fly, piped into the stdin of
 * `node dist/src/cli.js resolve` (audited to a separate file), results read from its
 * stdout as they come. The child's peak RSS (getrusage, through bench/rss-probe.ts) and
 * RSS samples over the run show whether memory stays flat as N grows.
 *
 *   npm run build && node dist/bench/load.js [--quick] [--records N]
 *
 * Not part of `npm run bench` (the 1M trial takes minutes); figures go to
 * bench/RESULTS.md under "Load" with the machine and date it prints.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ingest } from '../src/ingest/ingest.js';
import { openInputs } from '../src/ingest/lines.js';
import { packagePath } from '../src/paths.js';
import { openSqliteStore } from '../src/store/sqlite/store.js';
import { SYNTHETIC_SPACE, syntheticRequest, writeSynthetic } from './data.js';

/** Trials as data: the store's size and the batch sizes piped through it. */
export const LOAD_TRIALS = {
  full: { records: 150_000, requests: [100_000, 1_000_000] },
  quick: { records: 30_000, requests: [10_000, 100_000] },
} as const;

export interface LoadTrialResult {
  readonly requests: number;
  readonly seconds: number;
  readonly requestsPerSecond: number;
  readonly unique: number;
  readonly peakRssMiB: number;
  /** RSS at 10 %, 50 % and 90 % of the run, MiB. */
  readonly rssAt10_50_90MiB: readonly number[];
  readonly auditBytesPerEntry: number;
}

const MiB = 1024 * 1024;

/** Pipe `n` requests through `ipar resolve` in a child and measure it. */
async function trial(dir: string, db: string, n: number, slots: number): Promise<LoadTrialResult> {
  const probe = join(dir, `rss-${n}.json`);
  const audit = join(dir, `audit-${n}.db`);
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [
      '--import',
      packagePath('dist', 'bench', 'rss-probe.js'),
      packagePath('dist', 'src', 'cli.js'),
      'resolve',
      '--workers',
      '1',
      '--db',
      db,
      '--audit',
      audit,
      '-',
    ],
    {
      env: { ...process.env, IPAR_RSS_PROBE: probe },
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  });

  // Results are counted as they stream out, never kept.
  let lines = 0;
  let unique = 0;
  let rest = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    const text = rest + chunk;
    let at = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', at)) {
      lines++;
      if (text.startsWith('"status":"unique"', text.indexOf(',', at) + 1)) unique++;
      at = nl + 1;
    }
    rest = text.slice(at);
  });

  // Requests are generated as the child takes them (backpressure), never all at once.
  for (let i = 0; i < n;) {
    const chunk: string[] = [];
    for (const end = Math.min(n, i + 1000); i < end; i++) chunk.push(syntheticRequest(i, slots));
    if (!child.stdin.write(chunk.join('\n') + '\n')) await new Promise<void>((r) => child.stdin.once('drain', () => r()));
  }
  child.stdin.end();
  const code = await exited;
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`ipar resolve exited ${code}`);
  if (lines !== n) throw new Error(`${lines} results for ${n} requests`);
  if (unique < n * 0.9) throw new Error(`only ${unique} of ${n} requests were unique: the benchmark data is off`);
  const { maxRssKiB, samples } = JSON.parse(readFileSync(probe, 'utf8')) as { maxRssKiB: number; samples: number[] };
  const at = (f: number): number => Math.round((samples[Math.min(samples.length - 1, Math.floor(samples.length * f))] ?? 0) / MiB);
  const auditBytes = statSync(audit).size + (statSync(audit + '-wal', { throwIfNoEntry: false })?.size ?? 0);
  rmSync(audit, { force: true });
  return {
    requests: n,
    seconds: Math.round(seconds * 10) / 10,
    requestsPerSecond: Math.round(n / seconds),
    unique,
    peakRssMiB: Math.round(maxRssKiB / 1024),
    rssAt10_50_90MiB: [at(0.1), at(0.5), at(0.9)],
    auditBytesPerEntry: Math.round(auditBytes / n),
  };
}

export async function runLoadBench(quick: boolean, records?: number): Promise<LoadTrialResult[]> {
  const spec = quick ? LOAD_TRIALS.quick : LOAD_TRIALS.full;
  const size = records ?? spec.records;
  const dir = mkdtempSync(join(tmpdir(), 'ipar-load-'));
  try {
    // Setup, outside what is measured: a synthetic store.
    const file = join(dir, 'records.ndjson');
    await writeSynthetic(file, size);
    writeFileSync(join(dir, 'space.ndjson'), SYNTHETIC_SPACE.join('\n') + '\n');
    const db = join(dir, 'store.db');
    const writer = openSqliteStore(db, { cacheMiB: 256 });
    await ingest(writer, await openInputs([join(dir, 'space.ndjson'), file]));
    writer.close();
    const out: LoadTrialResult[] = [];
    for (const n of spec.requests) out.push(await trial(dir, db, n, Math.floor(size / 3)));
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes('--quick');
  const r = process.argv.indexOf('--records');
  const machine = { cpus: cpus().length, model: cpus()[0]?.model ?? '?', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
  process.stderr.write(
    `load: ${quick ? 'quick' : 'full'} run on ${machine.cpus} × ${machine.model}, ${machine.memoryGiB} GiB, node ${machine.node}, ${new Date().toISOString()}\n`,
  );
  const results = await runLoadBench(quick, r >= 0 ? Number(process.argv[r + 1]) : undefined);
  console.table(results);
  process.stdout.write(JSON.stringify({ date: new Date().toISOString(), machine, results }) + '\n');
}
