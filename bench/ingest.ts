/**
 * Ingest benchmark: canonical NDJSON into a fresh store. Each trial runs in its own
 * child process so its peak RSS is its own; "memory flat in input size" is checked by
 * comparing peak RSS across sizes in the same run, and the main thread's heap after a
 * full collection at the end (what the ingest retained, as opposed to garbage V8 had not
 * yet collected when RSS peaked).
 *
 *   node dist/bench/ingest.js                     # the full trials below
 *   node dist/bench/ingest.js --quick             # the quick ones
 *   node dist/bench/ingest.js --child N [--batch B] [--parse-in auto|worker|this-thread] [--bare]
 *                                                 # one trial (used by the parent)
 *
 * The floor (issue 22 item 5): `--bare` inserts the same rows into the same tables of a
 * fresh store with the writer's own statements (`INSERT_SQL`), every value precomputed
 * outside the timed part — names and devices given their ids, addresses their on-disk
 * keys — in transactions of the same size. What ingest costs above that is ingest's.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { Bench } from 'tinybench';
import { isV4Key, type Address } from '../src/address.js';
import { fastCanonicalRecord } from '../src/ingest/fast-record.js';
import { DEFAULT_BATCH_SIZE, ingest, type IngestOptions } from '../src/ingest/ingest.js';
import { openInputs } from '../src/ingest/lines.js';
import { INSERT_SQL, openSqliteStore } from '../src/store/sqlite/store.js';
import { writeSynthetic } from './data.js';

type ParseIn = NonNullable<IngestOptions['parseIn']>;

/** One trial: records in the input, and how ingest is asked to run (its defaults when absent). */
export interface IngestTrial {
  readonly rows: number;
  readonly parseIn?: ParseIn;
  readonly batchSize?: number;
  /** The floor: bare inserts of the same rows (see the file's comment). */
  readonly bare?: boolean;
}

export interface IngestTrialResult {
  readonly rows: number;
  /** `bare` for the floor, else where ingest parsed. */
  readonly parseIn: ParseIn | 'bare';
  readonly batchSize: number;
  readonly seconds: number;
  readonly rowsPerSecond: number;
  /**
   * CPU seconds of the writer's thread (this process's main thread: the parse worker's
   * are not in it) over the timed part, from /proc/thread-self/stat; what a loaded
   * machine moves least. `null` where /proc is not there.
   */
  readonly writerCpuSeconds: number | null;
  /** CPU seconds of the whole process (every thread) over the timed part. */
  readonly cpuSeconds: number;
  readonly peakRssMiB: number;
  /** The main thread's heap after a full collection once the ingest is done. */
  readonly heapAfterGcMiB: number;
  readonly dbBytesPerRecord: number;
}

/** CPU seconds (user + system) of the calling thread so far, or `null` without /proc. */
export function threadCpuSeconds(): number | null {
  try {
    // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // USER_HZ, 100 on Linux
  } catch {
    return null;
  }
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
  const batchSize = trial.batchSize ?? DEFAULT_BATCH_SIZE;
  const bare = trial.bare === true ? bareRows(input) : null;
  const trialRun = async (): Promise<void> => {
    if (bare !== null) {
      stored = bareInsert(dbFile, bare, batchSize);
      return;
    }
    const store = openSqliteStore(dbFile, { cacheMiB: INGEST_CACHE_MIB });
    const summary = await ingest(store, await openInputs([input]), options);
    store.close();
    stored = Object.values(summary.stored).reduce((a, b) => a + b, 0);
  };
  let writerCpu: number | null = null;
  let cpu = 0;
  bench.add('ingest', async () => {
    dbFile = join(dir, `store-${run++}.db`);
    const threadBefore = threadCpuSeconds();
    const before = process.cpuUsage();
    try {
      await trialRun();
    } finally {
      const used = process.cpuUsage(before);
      cpu = (used.user + used.system) / 1e6;
      const threadAfter = threadCpuSeconds();
      writerCpu = threadBefore === null || threadAfter === null ? null : Math.round((threadAfter - threadBefore) * 100) / 100;
    }
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
    parseIn: trial.bare === true ? 'bare' : (trial.parseIn ?? 'auto'),
    batchSize,
    seconds: ms / 1000,
    rowsPerSecond: Math.round(rows / (ms / 1000)),
    writerCpuSeconds: writerCpu,
    cpuSeconds: Math.round(cpu * 100) / 100,
    peakRssMiB,
    heapAfterGcMiB: Math.round(process.memoryUsage().heapUsed / 2 ** 20),
    dbBytesPerRecord: Math.round((dbBytes / rows) * 10) / 10,
  };
  rmSync(dir, { recursive: true, force: true });
  return out;
}

/** One statement's run: which of `INSERT_SQL` (or a dictionary insert) and its values. */
type BareOp = readonly [statement: BareStatement, values: readonly unknown[]];
type BareStatement = keyof typeof INSERT_SQL | 'realm' | 'source' | 'account' | 'device';

/** The dictionary inserts with the ids the writer would give (it numbers names and devices in the order it meets them). */
const DICTIONARY_SQL: Record<'realm' | 'source' | 'account' | 'device', string> = {
  realm: 'INSERT INTO realm (id, name) VALUES (?, ?)',
  source: 'INSERT INTO source (id, name) VALUES (?, ?)',
  account: 'INSERT INTO account (id, name) VALUES (?, ?)',
  device: 'INSERT INTO device (id, imsi, msisdn, imei, mac) VALUES (?, ?, ?, ?, ?)',
};

const disk = (a: Address): Buffer => (isV4Key(a.key) ? Buffer.from(a.key.subarray(12)) : Buffer.from(a.key));

/**
 * The statements the writer runs for `input`'s records, every value computed here (setup):
 * per record its row, preceded by the dictionary rows it is the first to name. Records
 * per op list: `ops[i]` are the ops of record i.
 */
function bareRows(input: string): BareOp[][] {
  const ids = {
    realm: new Map<string, number>([['', 0]]),
    source: new Map<string, number>(),
    account: new Map<string, number>(),
    device: new Map<string, number>(),
  };
  const out: BareOp[][] = [];
  for (const line of readFileSync(input, 'utf8').split('\n')) {
    if (line === '') continue;
    const r = fastCanonicalRecord(JSON.parse(line));
    if (r === undefined) throw new Error(`bench: the fast path does not take ${line}`);
    const ops: BareOp[] = [];
    const id = (table: 'realm' | 'source' | 'account', name: string): number => {
      let n = ids[table].get(name);
      if (n === undefined) {
        ids[table].set(name, (n = ids[table].size + (table === 'realm' ? 0 : 1)));
        ops.push([table, [n, name]]);
      }
      return n;
    };
    switch (r.kind) {
      case 'allocation': {
        const realm = id('realm', r.realm ?? '');
        const account = id('account', r.account);
        const source = id('source', r.source);
        const values = [r.imsi ?? '', r.msisdn ?? '', r.imei ?? '', r.mac ?? ''];
        const key = values.join('|');
        let device = key === '|||' ? 0 : ids.device.get(key);
        if (device === undefined) {
          ids.device.set(key, (device = ids.device.size + 1));
          ops.push(['device', [device, ...values]]);
        }
        ops.push([
          'allocation',
          [realm, disk(r.ip), r.ip.length, r.start, account, r.end, source, r.endInferred === true ? 1 : 0, device, r.sessionId ?? null, null, 0],
        ]);
        break;
      }
      case 'nat-block':
        ops.push([
          'natBlock',
          [
            disk(r.outsideIp),
            r.portFirst,
            r.start,
            id('realm', r.realm),
            disk(r.insideIp),
            r.protocol ?? '',
            r.portLast,
            r.end,
            r.endInferred === true ? 1 : 0,
            null,
            0,
          ],
        ]);
        break;
      case 'nat-session':
        ops.push([
          'natSession',
          [
            disk(r.outsideIp),
            r.outsidePort,
            r.start,
            r.protocol,
            id('realm', r.realm),
            disk(r.insideIp),
            r.insidePort,
            r.destinationIp === undefined ? Buffer.alloc(0) : disk(r.destinationIp),
            r.destinationPort ?? -1,
            r.end,
            r.endInferred === true ? 1 : 0,
            null,
            0,
          ],
        ]);
        break;
    }
    out.push(ops);
  }
  return out;
}

/** The timed part of the floor: a fresh store (schema made by the product), its pragmas, the ops in transactions of `batchSize` records. */
function bareInsert(file: string, rows: readonly BareOp[][], batchSize: number): number {
  openSqliteStore(file, { cacheMiB: INGEST_CACHE_MIB }).close();
  const db = new Database(file);
  db.pragma(`cache_size = -${INGEST_CACHE_MIB * 1024}`);
  db.pragma('mmap_size = 2000000000');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const statements = new Map<BareStatement, Database.Statement>();
  for (const [name, sql] of [...Object.entries(INSERT_SQL), ...Object.entries(DICTIONARY_SQL)]) statements.set(name as BareStatement, db.prepare(sql));
  let stored = 0;
  const write = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++)
      for (const [name, values] of rows[i]!) {
        const changes = statements.get(name)!.run(values).changes;
        if (!(name in DICTIONARY_SQL)) stored += changes;
      }
  });
  for (let i = 0; i < rows.length; i += batchSize) write.immediate(i, Math.min(rows.length, i + batchSize));
  db.close();
  return stored;
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
      ...(trial.bare === true ? ['--bare'] : []),
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
      ...(process.argv.includes('--bare') ? { bare: true } : {}),
    };
    process.stdout.write(JSON.stringify(await child(trial)) + '\n');
  } else {
    console.table(runIngestBench(process.argv.includes('--quick')));
  }
}
