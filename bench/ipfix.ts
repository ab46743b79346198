/**
 * IPFIX NAT event logging (issue 17): NAT events a second for the decoder alone, the
 * decoder with pairing, and the whole path into a SQLite store; and a loopback run of
 * `startCollector` receiving a paced stream from a worker thread, counting datagrams
 * lost. Events are NAT44 session create/delete pairs, 25 records a message (~1.1 kB
 * datagrams, as exporters fill a 1500-octet MTU), encoded by the test encoder.
 *
 *   node [--expose-gc] dist/bench/ipfix.js [--quick] [--memory [SECONDS]]   (--memory: only RSS and heap over a stream at 10,000 events/s, 60 s unless given, 20 s with --quick;
 *                                                              with --expose-gc the heap is read after a full collection)
 *
 * Beside each wall-clock rate, the CPU seconds of this thread (the decoder, the pairing and
 * the store all run in it): on a machine shared with other work, events per CPU second is
 * the figure that moves least.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { FlowDecoder } from '../src/ingest/ipfix/decoder.js';
import { FlowSession } from '../src/ingest/ipfix/session.js';
import { FlowSink } from '../src/ingest/ipfix/sink.js';
import { startCollector } from '../src/ingest/ipfix/collector.js';
import { profileNamed } from '../src/ingest/ipfix/profiles.js';
import { openStore } from '../src/store/open.js';
import { IpfixExporter, SESSION_FIELDS, type NatEvent, type TemplateDef } from '../test/ipfix/encoder.js';
import { threadCpuSeconds } from './ingest.js';

export const IPFIX_TRIALS = {
  full: { events: 400_000, loopbackRates: [10_000, 25_000, 50_000], loopbackSeconds: 10, memorySeconds: 60 },
  quick: { events: 100_000, loopbackRates: [10_000, 50_000], loopbackSeconds: 4, memorySeconds: 20 },
} as const;
const PER_MESSAGE = 25;
const SESSION: TemplateDef = { id: 256, fields: SESSION_FIELDS };
const T0 = Date.parse('2026-03-28T10:00:00Z');

/** `n` events: session i is created at i ms and deleted 60 s later (so pairs interleave as on a live NAT). */
function events(n: number): NatEvent[] {
  const out: NatEvent[] = [];
  for (let i = 0; out.length < n; i++) {
    const k = i >> 1;
    const del = (i & 1) === 1;
    const s = del ? k - 30_000 : k;
    if (s < 0) continue;
    out.push({
      natEvent: del ? 5 : 4,
      timeMs: T0 + k * 2,
      insideIp: `100.${64 + ((s >> 16) & 63)}.${(s >> 8) & 255}.${s & 255}`,
      insidePort: 1024 + (s % 60_000),
      outsideIp: `203.0.113.${s % 256}`,
      outsidePort: 1024 + ((s >> 8) % 64_000),
      destinationIp: `198.51.100.${s % 200}`,
      destinationPort: 443,
      protocol: 6,
    });
  }
  return out;
}

function messages(evs: readonly NatEvent[]): Buffer[] {
  const x = new IpfixExporter(1);
  const out: Buffer[] = [];
  for (let i = 0; i < evs.length; i += PER_MESSAGE) {
    const chunk = evs.slice(i, i + PER_MESSAGE);
    out.push(
      x.message(Math.floor(chunk[chunk.length - 1]!.timeMs / 1000), { templates: i === 0 ? [SESSION] : [], data: [{ template: SESSION, events: chunk }] }),
    );
  }
  return out;
}

export interface IpfixResult {
  readonly task: string;
  readonly events: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
  /** CPU seconds of this thread over the trial (null without /proc), and events per CPU second. */
  readonly cpuSeconds: number | null;
  readonly eventsPerCpuSecond: number | null;
  readonly note?: string;
}

/** The fastest of `trials` runs: wall seconds, and the CPU seconds of that run. */
function best(trials: number, run: () => number): { seconds: number; cpu: number | null } {
  let fastest = { seconds: Infinity, cpu: null as number | null };
  for (let t = 0; t < trials; t++) {
    const before = threadCpuSeconds();
    const seconds = run();
    const after = threadCpuSeconds();
    if (seconds < fastest.seconds) fastest = { seconds, cpu: before === null || after === null ? null : after - before };
  }
  return fastest;
}

const profile = profileNamed('iana')!;
const sessionOptions = { format: 'ipfix' as const, profile, vendorOptions: { realm: 'cgn-a' } };

export async function runIpfixBench(quick: boolean, memoryOnly = false, memorySeconds?: number): Promise<IpfixResult[]> {
  const trial = quick ? IPFIX_TRIALS.quick : IPFIX_TRIALS.full;
  if (memoryOnly) {
    // Memory over a longer stream: sessions live 60 s of log time (6 s of this stream), so the open set is steady after that.
    const dir = mkdtempSync(join(tmpdir(), 'ipar-bench-ipfix-'));
    try {
      return [await loopback(dir, 10_000, memorySeconds ?? trial.memorySeconds, true)];
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const evs = events(trial.events);
  const msgs = messages(evs);
  const results: IpfixResult[] = [];
  const row = (task: string, { seconds, cpu }: { seconds: number; cpu: number | null }, note?: string): void => {
    results.push({
      task,
      events: evs.length,
      seconds: Math.round(seconds * 1000) / 1000,
      eventsPerSecond: Math.round(evs.length / seconds),
      cpuSeconds: cpu === null ? null : Math.round(cpu * 100) / 100,
      eventsPerCpuSecond: cpu === null || cpu === 0 ? null : Math.round(evs.length / cpu),
      ...(note === undefined ? {} : { note }),
    });
  };

  let decoded = 0;
  row(
    'decode alone',
    best(5, () => {
      const d = new FlowDecoder({ format: 'ipfix', transport: 'udp' });
      const t = performance.now();
      for (let i = 0; i < msgs.length; i++) decoded += d.decode(msgs[i]!, '192.0.2.1', i + 1).records.length;
      return (performance.now() - t) / 1000;
    }),
  );
  if (decoded !== evs.length * 5) throw new Error(`decoded ${decoded / 5} of ${evs.length}`);

  let records = 0;
  row(
    'decode + events + pairing',
    best(3, () => {
      const s = new FlowSession(sessionOptions);
      const t = performance.now();
      for (let i = 0; i < msgs.length; i++) records += s.message(msgs[i]!, '192.0.2.1', i + 1, 'udp').records.length;
      records += s.end().records.length;
      return (performance.now() - t) / 1000;
    }),
  );

  const dir = mkdtempSync(join(tmpdir(), 'ipar-bench-ipfix-'));
  try {
    const store = openStore(join(dir, 'e2e.db'));
    const s = new FlowSession(sessionOptions);
    const sink = new FlowSink(store);
    const cpuBefore = threadCpuSeconds();
    const t = performance.now();
    for (let i = 0; i < msgs.length; i++) await sink.take(s.message(msgs[i]!, '192.0.2.1', i + 1, 'udp'), 'bench');
    await sink.take(s.end(), 'bench');
    await sink.flush();
    const seconds = (performance.now() - t) / 1000;
    const cpuAfter = threadCpuSeconds();
    await store.close();
    row(
      'decode + pairing + SQLite store (end to end)',
      { seconds, cpu: cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore },
      `${sink.stored['nat-session']} nat-session records stored`,
    );

    for (const rate of trial.loopbackRates) results.push(await loopback(dir, rate, trial.loopbackSeconds));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

/** A worker sends `rate` events/s for `seconds` to a collector storing into SQLite; datagrams lost are counted. */
async function loopback(dir: string, rate: number, seconds: number, sampleRss = false): Promise<IpfixResult> {
  const evs = events(rate * seconds);
  const msgs = messages(evs);
  const store = openStore(join(dir, `loopback-${rate}.db`));
  const collector = await startCollector(store, { host: '127.0.0.1', port: 0, ...sessionOptions, tcp: false });
  const perTick = Math.ceil(rate / PER_MESSAGE / 100); // datagrams each 10 ms
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     const dgram = require('node:dgram');
     const s = dgram.createSocket('udp4');
     const { msgs, port, perTick } = workerData;
     let i = 0;
     const start = Date.now();
     const tick = () => {
       const due = Math.min(msgs.length, Math.floor((Date.now() - start) / 10 + 1) * perTick);
       while (i < due) s.send(Buffer.from(msgs[i++]), port, '127.0.0.1');
       if (i < msgs.length) setTimeout(tick, 2); else setTimeout(() => { s.close(); parentPort.postMessage(Date.now() - start); }, 50);
     };
     tick();`,
    { eval: true, workerData: { msgs: msgs.map((m) => new Uint8Array(m)), port: collector.ports.udp, perTick } },
  );
  const rss: number[] = [];
  const heap: number[] = [];
  const cpuBefore = threadCpuSeconds();
  const sampler = sampleRss
    ? setInterval(() => {
        // With --expose-gc, the heap after a full collection: what the stream retains, not garbage V8 has not collected yet.
        (globalThis as { gc?: () => void }).gc?.();
        const m = process.memoryUsage();
        rss.push(Math.round(m.rss / 1048576));
        heap.push(Math.round(m.heapUsed / 1048576));
      }, 5000)
    : undefined;
  const sentMs = await new Promise<number>((resolve) => worker.once('message', resolve));
  clearInterval(sampler);
  await worker.terminate();
  const until = Date.now() + 5000;
  while (collector.received() < msgs.length && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  const summary = await collector.stop();
  const cpuAfter = threadCpuSeconds();
  await store.close();
  const lostDatagrams = msgs.length - collector.received();
  const cpu = cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore;
  return {
    task: `loopback UDP at ${rate} events/s for ${seconds} s into SQLite`,
    events: evs.length,
    seconds: Math.round(sentMs) / 1000,
    eventsPerSecond: Math.round(evs.length / (sentMs / 1000)),
    cpuSeconds: cpu === null ? null : Math.round(cpu * 100) / 100,
    eventsPerCpuSecond: cpu === null || cpu === 0 ? null : Math.round(evs.length / cpu),
    note: `${msgs.length} datagrams sent, ${lostDatagrams} lost; sequence gaps counted ${summary.lost} records lost; receive buffer ${collector.recvBufferBytes} octets${rss.length > 0 ? `; RSS every 5 s (MiB): ${rss.join(' ')}; heap used every 5 s (MiB): ${heap.join(' ')}` : ''}`,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes('--quick');
  const before = loadavg()[0]!.toFixed(2);
  const at = process.argv.indexOf('--memory');
  const seconds = at >= 0 && /^\d+$/.test(process.argv[at + 1] ?? '') ? Number(process.argv[at + 1]) : undefined;
  const results = await runIpfixBench(quick, at >= 0, seconds);
  console.log(`${new Date().toISOString()} ${cpus()[0]?.model ?? 'cpu'} ×${cpus().length}, load ${before} → ${loadavg()[0]!.toFixed(2)}`);
  console.table(results);
}
