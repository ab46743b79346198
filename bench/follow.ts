/**
 * Following a growing file (`ipar ingest --follow`, issue 16): lines per second into the
 * store for a Juniper SRX syslog of port-block allocations and NAT sessions, a Kea lease
 * CSV and a FreeRADIUS detail file, each appended to by a writer in this process while the
 * follower reads it; and the delay from a line's write to its record being queryable when
 * lines are written at a fixed rate. Targets: SRX ≥ 150,000 lines/s, Kea and FreeRADIUS
 * ≥ 60,000 lines/s, delay < 5 s at 10,000 lines/s.
 *
 *   node dist/bench/follow.js [--quick]
 *
 * The line generators are shared with the tests (test/follow/), which need streams of
 * lines with closed and open intervals and rotation.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, closeSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_FLUSH_INTERVAL_MS, follow } from '../src/ingest/follow.js';
import { VENDOR_PARSERS } from '../src/ingest/vendors/index.js';
import type { VendorOptions } from '../src/ingest/vendors/types.js';
import { openSqliteStore } from '../src/store/sqlite/store.js';

const BASE_MS = Date.parse('2026-03-01T00:00:00Z');
const quad = (a: number, b: number, i: number): string => `${a}.${b}.${(i >>> 8) & 255}.${i & 255}`;

/** The SRX stream's pace: log time per step, sessions open at once (each closes this many steps after it opened), port blocks allocated at once. */
export interface SrxShape {
  readonly stepMs: number;
  readonly openSessions: number;
  readonly openBlocks: number;
}

export const SRX_SHAPE: SrxShape = { stepMs: 100, openSessions: 2000, openBlocks: 500 };

/**
 * Line `i` of a Juniper SRX structured-syslog stream: per step a session create and the
 * close of the one created `openSessions` steps before, and every second step a
 * port-block allocation and the release of the one `openBlocks` allocations before.
 * Deterministic in `i`, log time in order.
 */
export function srxLine(i: number, shape: SrxShape = SRX_SHAPE): string {
  const { stepMs, openSessions: SRX_OPEN_SESSIONS, openBlocks: SRX_OPEN_BLOCKS } = shape;
  const step = Math.floor(i / 3);
  const at = BASE_MS + step * stepMs;
  const time = new Date(at).toISOString();
  const kind = i % 3;
  if (kind === 2) {
    // Blocks: allocation step/2 on even steps, the release of an older one on odd steps.
    const b = step % 2 === 0 ? step / 2 : (step - 1) / 2 - SRX_OPEN_BLOCKS;
    if (b < 0)
      return `<14>1 ${time} srx1 RT_FLOW - RT_FLOW_SESSION_DENY [junos@2636.1.1.1.2.26 source-address="100.64.9.9" source-port="1" destination-address="198.51.100.1" destination-port="80" protocol-id="6"]`;
    const what = step % 2 === 0 ? 'ALLOC' : 'RELEASE';
    const first = 1024 + ((b >>> 6) % 126) * 512;
    return `<14>1 ${time} srx1 RT_NAT - RT_SRC_NAT_PBA_${what} [junos@2636.1.1.1.2.26 internal-ip="${quad(100, 65, b % 65_536)}" block-used="${what === 'ALLOC' ? 1 : 0}" block-max-per-host="4" block-port-low="${first}" block-port-high="${first + 511}" reflexive-ip="${quad(203, 0, 113 * 256 + (b % 64))}" nat-pool-name="pool-a" logical-system-id="0" epoch-time-64="${Math.floor(at / 1000).toString(16)}"]`;
  }
  const s = kind === 0 ? step : step - SRX_OPEN_SESSIONS;
  if (s < 0)
    return `<14>1 ${time} srx1 RT_FLOW - RT_FLOW_SESSION_DENY [junos@2636.1.1.1.2.26 source-address="100.64.9.9" source-port="1" destination-address="198.51.100.1" destination-port="80" protocol-id="6"]`;
  const fields = `source-address="${quad(100, 64, s % 65_536)}" source-port="${10_000 + (s % 50_000)}" destination-address="${quad(198, 51, 100 * 256 + (s % 200))}" destination-port="443" service-name="junos-https" nat-source-address="${quad(203, 0, 113 * 256 + (s % 64))}" nat-source-port="${1024 + ((s >>> 6) % 60_000)}" nat-destination-address="${quad(198, 51, 100 * 256 + (s % 200))}" nat-destination-port="443" protocol-id="6" policy-name="out" source-zone-name="trust" destination-zone-name="untrust" session-id-32="${s}"`;
  if (kind === 0) return `<14>1 ${time} srx1 RT_FLOW - RT_FLOW_SESSION_CREATE [junos@2636.1.1.1.2.26 ${fields}]`;
  return `<14>1 ${time} srx1 RT_FLOW - RT_FLOW_SESSION_CLOSE [junos@2636.1.1.1.2.26 ${fields} reason="TCP FIN" elapsed-time="${Math.floor((SRX_OPEN_SESSIONS * stepMs) / 1000)}"]`;
}

/** Line `i` of a Kea v4 memfile as the server appends it: the header, then one lease row per line in time order. */
export function keaLine(i: number): string {
  if (i === 0) return 'address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context,pool_id';
  const mac = (i % 200_000).toString(16).padStart(6, '0');
  const expire = Math.floor(BASE_MS / 1000) + 3600 + Math.floor(i / 10);
  return `${quad(198, 51, 100 * 256 + (i % 250))},02:00:5e:${mac.slice(0, 2)}:${mac.slice(2, 4)}:${mac.slice(4, 6)},,3600,${expire},1,0,0,,0,,0`;
}

/** Lines of one FreeRADIUS detail record. */
const RADIUS_RECORD_LINES = 10;

/**
 * Line `i` of a FreeRADIUS detail file: records of {@link RADIUS_RECORD_LINES} lines
 * (header, attributes, blank), a Start for session n and the Stop of session n − 50.
 */
export function radiusLine(i: number): string {
  const r = Math.floor(i / RADIUS_RECORD_LINES);
  const at = Math.floor(BASE_MS / 1000) + r;
  const stop = r % 2 === 1;
  const n = stop ? (r - 1) / 2 - 50 : r / 2;
  const id = n < 0 ? r : n;
  const lines = [
    new Date(at * 1000).toUTCString().replace(/^(\w+), (\d+) (\w+) (\d+) ([\d:]+) GMT$/, '$1 $3 $2 $5 $4'),
    `\tUser-Name = "user${id}"`,
    `\tNAS-IP-Address = 192.0.2.1`,
    `\tFramed-IP-Address = ${quad(198, 51, 100 * 256 + (id % 250))}`,
    `\tCalling-Station-Id = "02-00-5e-${((id >> 16) & 255).toString(16).padStart(2, '0')}-${((id >> 8) & 255).toString(16).padStart(2, '0')}-${(id & 255).toString(16).padStart(2, '0')}"`,
    `\tAcct-Status-Type = ${stop && n >= 0 ? 'Stop' : 'Start'}`,
    `\tAcct-Session-Id = "s${id}"`,
    `\tAcct-Session-Time = ${stop && n >= 0 ? 1000 : 0}`,
    `\tTimestamp = ${at}`,
    '',
  ];
  return lines[i % RADIUS_RECORD_LINES]!;
}

export interface FollowFormat {
  readonly name: string;
  readonly line: (i: number) => string;
  readonly options: VendorOptions;
  /** Lines a second the issue asks for. */
  readonly target: number;
}

export const FOLLOW_FORMATS: readonly FollowFormat[] = [
  { name: 'juniper-srx', line: srxLine, options: { realm: 'cgn-a' }, target: 150_000 },
  { name: 'kea-csv', line: keaLine, options: {}, target: 60_000 },
  { name: 'freeradius-detail', line: radiusLine, options: {}, target: 60_000 },
];

export interface FollowResult {
  readonly format: string;
  readonly lines: number;
  readonly seconds: number;
  readonly linesPerSecond: number;
  readonly target: number;
  readonly met: boolean;
  /** CPU time of this process (the follower; the writer is another) over the trial, and lines per CPU second: the rate on one core of its own. */
  readonly cpuSeconds: number;
  readonly linesPerCpuSecond: number;
  /** RSS (MiB) when a quarter, half, three quarters and all of the lines were committed. */
  readonly rssMiB: readonly number[];
}

export interface DelayResult {
  readonly linesPerSecond: number;
  readonly seconds: number;
  readonly medianMs: number;
  readonly maxMs: number;
  readonly met: boolean;
}

/**
 * Flush interval of the throughput trials: a trial ends at the commit of its last line, so
 * the interval bounds what the end adds (the delay trial runs the default, 2 s).
 */
const THROUGHPUT_FLUSH_MS = 500;

/** A follower of `file` into a fresh store in this process, and a reader of its committed line count. */
function startFollower(dir: string, file: string, f: FollowFormat, flushIntervalMs = DEFAULT_FLUSH_INTERVAL_MS) {
  const db = `${file}.db`;
  const store = openSqliteStore(db, { cacheMiB: 64 });
  const stop = new AbortController();
  const parser = VENDOR_PARSERS.find((p) => p.name === f.name)!;
  const done = follow(store, [file], { format: parser, vendorOptions: f.options, flushIntervalMs, signal: stop.signal }).finally(() => store.close());
  const scope = `${f.name}|${f.options.realm ?? ''}`;
  let reader: ReturnType<typeof openSqliteStore> | null = null;
  const committedLines = (): number => {
    reader ??= openSqliteStore(db, { readonly: true });
    return reader.followCheckpoints(scope)[0]?.line ?? 0;
  };
  return {
    committedLines,
    stop: async () => {
      stop.abort();
      await done;
      reader?.close();
    },
  };
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Lines a second from an empty file to the commit of its last line, while another
 * process appends `n` lines to it in 1 MiB writes as fast as it can (copied from a file
 * made before the clock starts, so the writer costs the machine little).
 */
async function throughput(dir: string, f: FollowFormat, n: number): Promise<FollowResult> {
  const source = join(dir, `${f.name}.source`);
  const fd = openSync(source, 'w');
  for (let i = 0; i < n;) {
    let text = '';
    for (const end = Math.min(n, i + 10_000); i < end; i++) text += f.line(i) + '\n';
    writeSync(fd, text);
  }
  closeSync(fd);
  const file = join(dir, `${f.name}.log`);
  writeFileSync(file, '');
  const follower = startFollower(dir, file, f, THROUGHPUT_FLUSH_MS);
  const started = performance.now();
  const cpu = process.cpuUsage();
  // The writer: this module in another process, so the follower has this thread to itself.
  const writer = spawn(process.execPath, [fileURLToPath(import.meta.url), '--copy', source, file], { stdio: 'inherit' });
  const rss: number[] = [];
  for (let quarter = 1; quarter <= 4;) {
    await tick(20);
    const lines = follower.committedLines();
    while (quarter <= 4 && lines >= (n * quarter) / 4) {
      rss.push(Math.round(process.memoryUsage().rss / 2 ** 20));
      quarter++;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  await new Promise((r) => (writer.exitCode === null ? writer.once('exit', r) : r(null)));
  await follower.stop();
  const linesPerSecond = Math.round(n / seconds);
  return {
    format: f.name,
    lines: n,
    seconds: Math.round(seconds * 100) / 100,
    linesPerSecond,
    target: f.target,
    met: linesPerSecond >= f.target,
    cpuSeconds: Math.round(cpuSeconds * 100) / 100,
    linesPerCpuSecond: Math.round(n / cpuSeconds),
    rssMiB: rss,
  };
}

/** Write-to-committed delay of SRX lines appended at `rate` lines a second (ten writes a second) for `seconds`. */
async function delay(dir: string, rate: number, seconds: number): Promise<DelayResult> {
  const f = FOLLOW_FORMATS[0]!;
  const file = join(dir, 'delay.log');
  writeFileSync(file, '');
  const follower = startFollower(dir, file, f);
  const perWrite = rate / 10;
  const writes: { last: number; at: number }[] = [];
  const delays: number[] = [];
  let next = 0;
  const t0 = performance.now();
  for (let w = 0; w < seconds * 10; w++) {
    let text = '';
    for (let i = 0; i < perWrite; i++) text += srxLine(next++) + '\n';
    appendFileSync(file, text);
    writes.push({ last: next, at: performance.now() });
    // Between writes (100 ms apart): which writes are committed now.
    while (performance.now() < t0 + (w + 1) * 100) {
      const committed = follower.committedLines();
      while (writes.length > 0 && writes[0]!.last <= committed) delays.push(performance.now() - writes.shift()!.at);
      await tick(10);
    }
  }
  while (writes.length > 0) {
    const committed = follower.committedLines();
    while (writes.length > 0 && writes[0]!.last <= committed) delays.push(performance.now() - writes.shift()!.at);
    await tick(10);
  }
  await follower.stop();
  delays.sort((a, b) => a - b);
  const maxMs = Math.round(delays[delays.length - 1]!);
  return { linesPerSecond: rate, seconds, medianMs: Math.round(delays[delays.length >> 1]!), maxMs, met: maxMs < 5000 };
}

export const FOLLOW_TRIALS = { full: { lines: 600_000, delaySeconds: 30 }, quick: { lines: 150_000, delaySeconds: 10 } } as const;

export async function runFollowBench(quick: boolean): Promise<{ throughput: FollowResult[]; delay: DelayResult }> {
  const trial = quick ? FOLLOW_TRIALS.quick : FOLLOW_TRIALS.full;
  const dir = mkdtempSync(join(tmpdir(), 'ipar-bench-follow-'));
  try {
    const out: FollowResult[] = [];
    for (const f of FOLLOW_FORMATS) out.push(await throughput(dir, f, trial.lines));
    return { throughput: out, delay: await delay(dir, 10_000, trial.delaySeconds) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The writer process: `--copy SOURCE FILE` appends SOURCE to FILE in 1 MiB writes. */
function copyInWrites(source: string, file: string): void {
  const from = openSync(source, 'r');
  const to = openSync(file, 'a');
  const buf = Buffer.alloc(1 << 20);
  for (let n; (n = readSync(from, buf, 0, buf.length, null)) > 0;) writeSync(to, buf, 0, n);
  closeSync(from);
  closeSync(to);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--copy');
  if (at >= 0) copyInWrites(process.argv[at + 1]!, process.argv[at + 2]!);
  else {
    const { throughput: rows, delay: d } = await runFollowBench(process.argv.includes('--quick'));
    console.table(rows.map((r) => ({ ...r, rssMiB: r.rssMiB.join(' / ') })));
    console.table([d]);
  }
}
