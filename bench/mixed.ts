/**
 * The mixed trial (issue 22): the simulator's own operator and request mix, resolved the
 * way an operator serves it. `ipar simulate --profile mixed` (default noise: ports absent
 * on 15 % of observations, deterministic NAT, 1–3 observations a request, the time
 * misreadings) gives the store and the requests; the trial prints their composition beside
 * the figures. Trials, all on the same store and requests, in one run:
 *
 * - the library in-process (`resolveRequests`, batches of 512 as the CLI reads them), risk
 *   analysis on and off;
 * - the replayed floor: the exact SQLite statements the library made for the risk-on pass
 *   (recorded by wrapping better-sqlite3's statement methods), replayed alone with raw rows
 *   in one read transaction per 64 requests' worth — what the store's own statements cost
 *   without the engine around them;
 * - port-less deterministic observations alone (each a one-observation request, the
 *   mix's own), microseconds each;
 * - `ipar resolve` end to end, risk analysis and audit on, with one and two workers (the
 *   printed results must be the same bytes).
 *
 * With `--baseline <dir>` (a built tree of an earlier commit: `dist/` and `package.json`
 * beside `node_modules`), the library and CLI trials run with both builds, alternating, so
 * before and after are measured in the same minutes on the same machine load.
 *
 * The store, requests and composition are cached (bench/stores.ts's cache directory,
 * `mixed-<subscribers>x<days>-seed<seed>/`). The default world of 8,300 subscribers over
 * the simulator's default week holds about 1M records.
 *
 *   node dist/bench/mixed.js [--quick] [--subscribers N] [--baseline DIR]
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { packagePath } from '../src/paths.js';
import { benchCacheVersionDir } from './stores.js';

/** Trials as data: the simulated world, and the `--workers` counts compared. */
export const MIXED_TRIALS = {
  full: { subscribers: 8_300, days: 7, seed: 1, requests: 10_000, workers: [1, 2], batch: 512, libraryPasses: 2 },
  quick: { subscribers: 400, days: 7, seed: 1, requests: 1_000, workers: [1, 2], batch: 512, libraryPasses: 1 },
} as const;

export type MixedTrial = {
  readonly subscribers: number;
  readonly days: number;
  readonly seed: number;
  readonly requests: number;
  readonly workers: readonly number[];
  readonly batch: number;
  readonly libraryPasses: number;
};

/** What the trial's requests are made of (from the simulator's truth file). */
export interface MixedComposition {
  readonly records: number;
  readonly recordsByKind: Readonly<Record<string, number>>;
  readonly storeBytes: number;
  readonly requests: number;
  readonly observations: number;
  readonly observationsPerRequest: number;
  /** Share of observations written without a source port. */
  readonly portAbsent: number;
  /** Requests by the segment the simulator drew them from (dhcp, pd, det, pba, ses, wifi). */
  readonly requestsBySegment: Readonly<Record<string, number>>;
  /** Observations without a port, by segment. */
  readonly portlessBySegment: Readonly<Record<string, number>>;
  /** Requests whose times carry a misreading (zone as UTC, offset off by one, 12-hour clock). */
  readonly misreadTimes: number;
}

export interface MixedWorld {
  readonly dir: string;
  readonly db: string;
  readonly requests: string;
  readonly composition: MixedComposition;
}

export interface MixedResult {
  readonly build: string;
  readonly trial: string;
  readonly requests: number;
  readonly seconds: number;
  readonly requestsPerSecond: number;
  readonly microsecondsPerRequest: number;
  /** CPU time (user + system, every thread) the trial took: on a shared machine, steadier than wall time. */
  readonly cpuSeconds: number;
  readonly requestsPerCpuSecond: number;
  /** 1-minute load average when the trial ended (the machine may be shared). */
  readonly load: number;
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
const cli = (root: string) => join(root, 'dist', 'src', 'cli.js');

/** The simulated world of `t`: from the cache, or simulated and ingested now (about a minute for 1M records). */
export function mixedWorld(t: MixedTrial, root = packagePath()): MixedWorld {
  const dir = join(benchCacheVersionDir(), `mixed-${t.subscribers}x${t.days}-seed${t.seed}-r${t.requests}`);
  const db = join(dir, 'store.db');
  const requests = join(dir, 'requests.ndjson');
  const meta = join(dir, 'composition.json');
  if (!existsSync(meta)) {
    mkdirSync(dir, { recursive: true });
    for (const f of [db, db + '-wal', db + '-shm']) rmSync(f, { force: true });
    process.stderr.write(`bench: simulating the mixed operator (${t.subscribers} subscribers, ${t.days} days, seed ${t.seed}) into ${dir}\n`);
    execFileSync(
      process.execPath,
      [
        cli(root),
        'simulate',
        '--profile',
        'mixed',
        '--subscribers',
        String(t.subscribers),
        '--days',
        String(t.days),
        '--seed',
        String(t.seed),
        '--requests',
        String(t.requests),
        '--out',
        dir,
        '--db',
        db,
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    const recordsByKind: Record<string, number> = {};
    let records = 0;
    for (const line of readFileSync(join(dir, 'records.ndjson'), 'utf8').split('\n')) {
      if (line === '') continue;
      const kind = (JSON.parse(line) as { kind: string }).kind;
      recordsByKind[kind] = (recordsByKind[kind] ?? 0) + 1;
      records++;
    }
    rmSync(join(dir, 'records.ndjson'));
    const requestsBySegment: Record<string, number> = {};
    const portlessBySegment: Record<string, number> = {};
    let n = 0;
    let observations = 0;
    let portless = 0;
    let misread = 0;
    for (const line of readFileSync(join(dir, 'truth.ndjson'), 'utf8').split('\n')) {
      if (line === '') continue;
      const truth = JSON.parse(line) as { segment: string; noise: { sourcePort: boolean; zone: string; clock12h: boolean }; observations: unknown[] };
      n++;
      requestsBySegment[truth.segment] = (requestsBySegment[truth.segment] ?? 0) + 1;
      observations += truth.observations.length;
      if (!truth.noise.sourcePort) {
        portless += truth.observations.length;
        portlessBySegment[truth.segment] = (portlessBySegment[truth.segment] ?? 0) + truth.observations.length;
      }
      if (truth.noise.clock12h || truth.noise.zone === 'as-utc' || truth.noise.zone === 'offset-off-by-one') misread++;
    }
    const composition: MixedComposition = {
      records,
      recordsByKind,
      storeBytes: statSync(db).size,
      requests: n,
      observations,
      observationsPerRequest: round(observations / n, 2),
      portAbsent: round(portless / observations, 3),
      requestsBySegment,
      portlessBySegment,
      misreadTimes: misread,
    };
    writeFileSync(meta, JSON.stringify(composition, null, 2) + '\n');
  }
  return { dir, db, requests, composition: JSON.parse(readFileSync(meta, 'utf8')) as MixedComposition };
}

/** One-observation requests of the mix: each observation of the requests `keep` picks (by the simulator's truth), alone. */
function singles(world: MixedWorld, keep: (truth: { segment: string; noise: { sourcePort: boolean } }) => boolean): string[] {
  const truths = readFileSync(join(world.dir, 'truth.ndjson'), 'utf8').split('\n');
  const out: string[] = [];
  readFileSync(world.requests, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (line === '' || !keep(JSON.parse(truths[i]!) as { segment: string; noise: { sourcePort: boolean } })) return;
      const request = JSON.parse(line) as { ref: string; observations: unknown[] };
      request.observations.forEach((o, k) => out.push(JSON.stringify({ ...request, ref: `${request.ref}-${k}`, observations: [o] })));
    });
  return out;
}

/** The port-less observations on deterministic NAT, each alone. */
export const portlessDeterministic = (world: MixedWorld): string[] => singles(world, (t) => t.segment === 'det' && !t.noise.sourcePort);

/** The observations written with a source port (every segment), each alone. */
export const withPortSingles = (world: MixedWorld): string[] => singles(world, (t) => t.noise.sourcePort);

interface Library {
  resolveRequests(store: unknown, inputs: readonly unknown[], options?: { risks?: boolean }): Promise<{ status: string }[]>;
  openSqliteStore(file: string, options: { readonly: boolean }): { close(): void };
}

async function library(root: string): Promise<Library> {
  const pipeline = (await import(pathToFileURL(join(root, 'dist', 'matcher', 'pipeline.js')).href)) as Pick<Library, 'resolveRequests'>;
  const store = (await import(pathToFileURL(join(root, 'dist', 'src', 'store', 'sqlite', 'store.js')).href)) as Pick<Library, 'openSqliteStore'>;
  return { resolveRequests: pipeline.resolveRequests, openSqliteStore: store.openSqliteStore };
}

async function resolveAll(lib: Library, store: unknown, inputs: readonly unknown[], batch: number, risks: boolean): Promise<string> {
  const hash = createHash('sha256');
  for (let i = 0; i < inputs.length; i += batch)
    for (const r of await lib.resolveRequests(store, inputs.slice(i, i + batch), { risks })) hash.update(JSON.stringify(r));
  return hash.digest('hex');
}

/** Best of `passes` timed passes over `inputs` (after one untimed pass), in ms; and the results' digest. */
async function timeLibrary(
  lib: Library,
  db: string,
  inputs: readonly unknown[],
  batch: number,
  risks: boolean,
  passes: number,
): Promise<{ ms: number; cpuMs: number; digest: string }> {
  const store = lib.openSqliteStore(db, { readonly: true });
  try {
    const digest = await resolveAll(lib, store, inputs, batch, risks);
    let best = Infinity;
    let bestCpu = Infinity;
    for (let p = 0; p < passes; p++) {
      const t = performance.now();
      const cpu = process.cpuUsage();
      await resolveAll(lib, store, inputs, batch, risks);
      const used = process.cpuUsage(cpu);
      best = Math.min(best, performance.now() - t);
      bestCpu = Math.min(bestCpu, (used.user + used.system) / 1000);
    }
    return { ms: best, cpuMs: bestCpu, digest };
  } finally {
    store.close();
  }
}

interface RecordedCall {
  readonly sql: string;
  readonly method: 'all' | 'get';
  readonly params: readonly unknown[];
}

/**
 * Run `fn` with every statement call better-sqlite3 makes recorded (read calls only:
 * `all` and `get`), and return the calls.
 */
async function recordingStatements(fn: () => Promise<unknown>): Promise<RecordedCall[]> {
  const probe = new Database(':memory:');
  const proto = Object.getPrototypeOf(probe.prepare('SELECT 1')) as Record<'all' | 'get', (...args: unknown[]) => unknown>;
  probe.close();
  const calls: RecordedCall[] = [];
  const saved = { all: proto.all, get: proto.get };
  for (const method of ['all', 'get'] as const) {
    const original = saved[method];
    proto[method] = function (this: { source: string; reader: boolean }, ...params: unknown[]) {
      if (this.reader) calls.push({ sql: this.source, method, params });
      return original.apply(this, params);
    };
  }
  try {
    await fn();
  } finally {
    proto.all = saved.all;
    proto.get = saved.get;
  }
  return calls;
}

/** Replay `calls` on a fresh read-only connection, raw rows, in read transactions of `perTransaction` calls; best of `passes`, in ms. */
function replay(db: string, calls: readonly RecordedCall[], perTransaction: number, passes: number): { ms: number; cpuMs: number } {
  const conn = new Database(db, { readonly: true });
  try {
    conn.pragma('mmap_size = 2147418112');
    const stmts = new Map<string, Database.Statement>();
    const prepared = calls.map((c) => {
      let s = stmts.get(c.sql);
      if (s === undefined) {
        s = conn.prepare(c.sql);
        s.raw(true);
        stmts.set(c.sql, s);
      }
      return s;
    });
    const chunk = conn.transaction((from: number) => {
      for (let i = from; i < Math.min(calls.length, from + perTransaction); i++) {
        const c = calls[i]!;
        if (c.method === 'all') prepared[i]!.all(...c.params);
        else prepared[i]!.get(...c.params);
      }
    });
    let best = Infinity;
    let bestCpu = Infinity;
    for (let p = 0; p < passes + 1; p++) {
      const t = performance.now();
      const cpu = process.cpuUsage();
      for (let i = 0; i < calls.length; i += perTransaction) chunk.deferred(i);
      const used = process.cpuUsage(cpu);
      if (p === 0) continue;
      best = Math.min(best, performance.now() - t);
      bestCpu = Math.min(bestCpu, (used.user + used.system) / 1000);
    }
    return { ms: best, cpuMs: bestCpu };
  } finally {
    conn.close();
  }
}

function runCli(root: string, world: MixedWorld, input: string, workers: number, out: string, audit: string): { ms: number; cpuMs: number } {
  for (const f of [audit, audit + '-wal', audit + '-shm']) rmSync(f, { force: true });
  const probe = join(world.dir, 'probe.json');
  rmSync(probe, { force: true });
  const fd = openSync(out, 'w');
  const t = performance.now();
  try {
    // The flag the `ipar` command's #! line gives (src/cli.ts); this build's probe reports the child's CPU time.
    const preload = ['--import', pathToFileURL(packagePath('dist', 'bench', 'rss-probe.js')).href];
    execFileSync(
      process.execPath,
      ['--max-semi-space-size=32', ...preload, cli(root), 'resolve', '--db', world.db, '--audit', audit, '--workers', String(workers), input],
      { stdio: ['ignore', fd, 'ignore'], env: { ...process.env, IPAR_RSS_PROBE: probe } },
    );
  } finally {
    closeSync(fd);
  }
  const ms = performance.now() - t;
  return { ms, cpuMs: (JSON.parse(readFileSync(probe, 'utf8')) as { cpuMicroseconds: number }).cpuMicroseconds / 1000 };
}

const digestOf = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Every trial of the mixed bench, for this build and (optionally) a baseline build, alternating. */
export async function runMixedBench(
  quick: boolean,
  options: { subscribers?: number; baseline?: string } = {},
): Promise<{ composition: MixedComposition; results: MixedResult[] }> {
  const base = quick ? MIXED_TRIALS.quick : MIXED_TRIALS.full;
  const t: MixedTrial = { ...base, ...(options.subscribers === undefined ? {} : { subscribers: options.subscribers }) };
  const world = mixedWorld(t);
  const lines = readFileSync(world.requests, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
  const inputs = lines.map((l) => JSON.parse(l) as unknown);
  const portless = portlessDeterministic(world);
  const portlessInputs = portless.map((l) => JSON.parse(l) as unknown);
  const portlessFile = join(world.dir, 'portless-deterministic.ndjson');
  writeFileSync(portlessFile, portless.join('\n') + '\n');
  const withPortFile = join(world.dir, 'with-port-singles.ndjson');
  const withPort = withPortSingles(world);
  writeFileSync(withPortFile, withPort.join('\n') + '\n');
  const builds: [string, string][] = [['this build', packagePath()]];
  if (options.baseline !== undefined) builds.unshift(['baseline', resolvePath(options.baseline)]);
  const results: MixedResult[] = [];
  const push = (build: string, trial: string, requests: number, { ms, cpuMs }: { ms: number; cpuMs: number }) => {
    results.push({
      build,
      trial,
      requests,
      seconds: round(ms / 1000, 3),
      requestsPerSecond: Math.round(requests / (ms / 1000)),
      microsecondsPerRequest: round((ms * 1000) / requests, 1),
      cpuSeconds: round(cpuMs / 1000, 3),
      requestsPerCpuSecond: Math.round(requests / (cpuMs / 1000)),
      load: round(loadavg()[0]!, 2),
    });
    process.stderr.write(`bench: mixed, ${build}, ${trial}: ${Math.round(requests / (ms / 1000))} requests/s\n`);
  };
  const digests = new Map<string, Set<string>>();
  const note = (key: string, d: string) => (digests.get(key) ?? digests.set(key, new Set()).get(key)!).add(d);
  for (const [build, root] of builds) {
    const lib = await library(root);
    for (const risks of [true, false]) {
      const r = await timeLibrary(lib, world.db, inputs, t.batch, risks, t.libraryPasses);
      note(`library risks ${risks}`, r.digest);
      push(build, `library, risk analysis ${risks ? 'on' : 'off'}`, inputs.length, r);
    }
    const p = await timeLibrary(lib, world.db, portlessInputs, t.batch, true, t.libraryPasses);
    push(build, 'library, port-less deterministic observation alone, risk analysis on', portlessInputs.length, p);
    if (build === 'this build') {
      const store = lib.openSqliteStore(world.db, { readonly: true });
      try {
        await resolveAll(lib, store, inputs, t.batch, true);
        const calls = await recordingStatements(() => resolveAll(lib, store, inputs, t.batch, true));
        push(
          build,
          `replayed floor: the library's ${calls.length.toLocaleString('en')} statement calls (risk on) alone`,
          inputs.length,
          replay(world.db, calls, Math.max(1, Math.round((calls.length / inputs.length) * 64)), t.libraryPasses),
        );
      } finally {
        store.close();
      }
    }
    for (const workers of t.workers) {
      const out = join(world.dir, `results-${build.replace(/ /g, '-')}-${workers}.ndjson`);
      const timing = runCli(root, world, world.requests, workers, out, join(world.dir, 'audit.db'));
      note('cli', digestOf(out));
      rmSync(out);
      push(build, `ipar resolve --workers ${workers}, risk analysis and audit on`, inputs.length, timing);
    }
    const out = join(world.dir, `results-${build.replace(/ /g, '-')}-with-port.ndjson`);
    const timing = runCli(root, world, withPortFile, 1, out, join(world.dir, 'audit.db'));
    note('cli with port', digestOf(out));
    rmSync(out);
    push(build, 'ipar resolve --workers 1, with-port observations alone, risk analysis and audit on', withPort.length, timing);
  }
  for (const f of ['audit.db', 'audit.db-wal', 'audit.db-shm', 'probe.json']) rmSync(join(world.dir, f), { force: true });
  for (const [key, set] of digests)
    if (set.size !== 1) throw new Error(`bench/mixed.ts: ${key}: the builds or worker counts printed ${set.size} different results`);
  return { composition: world.composition, results };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const subscribers = arg('--subscribers');
  const baseline = arg('--baseline');
  const { composition, results } = await runMixedBench(process.argv.includes('--quick'), {
    ...(subscribers === undefined ? {} : { subscribers: Number(subscribers) }),
    ...(baseline === undefined ? {} : { baseline }),
  });
  console.log('the mixed trial: composition');
  console.log(JSON.stringify(composition, null, 2));
  console.table(results);
}
