/**
 * `node dist/bench/services.js [RECORDS…]`: a three-layer service-users request (issue 19)
 * over one day each, on SQLite stores of RECORDS connection records (default 100,000 and
 * 1,000,000) spread over ten days. The three services get the same traffic at every store
 * size (2,000 connections a day each, from 20,000 accounts); the rest is background
 * traffic to other destinations, so the store grows and the matches do not: the per-layer
 * cost should follow the matches. Stores are built outside the timed part; each trial is
 * run 20 times after a warm-up and the median and p95 are printed as JSON with the
 * machine and date (figures for bench/RESULTS.md).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveRequests } from '../matcher/pipeline.js';
import { parseAddress, type Address } from '../src/address.js';
import type { ConnectionRecord } from '../src/records.js';
import { openSqliteStore } from '../src/store/sqlite/store.js';

const DAY = 86_400_000;
const START = Date.parse('2026-03-01T00:00:00Z');
const DAYS = 10;
const SERVICES = ['192.0.2.80', '192.0.2.90', '192.0.2.100'] as const;
const PER_SERVICE_DAY = 2000;
const ACCOUNTS = 20_000;

function address(text: string): Address {
  const r = parseAddress(text, false);
  if (!r.ok) throw new Error(r.message);
  return r.value;
}

/** A small deterministic stream (no Math.random: the same store every run). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

function build(file: string, total: number): void {
  const store = openSqliteStore(file, { cacheMiB: 256 });
  const rnd = lcg(total);
  const services = SERVICES.map(address);
  const sources = Array.from({ length: 256 }, (_, i) => address(`198.51.100.${i}`));
  const background = Array.from({ length: 4096 }, (_, i) => address(`2001:db8:bb::${i.toString(16)}`));
  const accounts = Array.from({ length: ACCOUNTS }, (_, i) => `ACC-${String(i).padStart(6, '0')}`);
  const serviceRecords = DAYS * SERVICES.length * PER_SERVICE_DAY;
  let batch: ConnectionRecord[] = [];
  const flush = (): void => {
    store.write(batch);
    batch = [];
  };
  const push = (destinationIp: Address, day: number, k: number): void => {
    const start = START + day * DAY + Math.floor(rnd() * (DAY - 600_000));
    batch.push({
      kind: 'connection',
      account: accounts[Math.floor(rnd() * ACCOUNTS)]!,
      sourceIp: sources[k % 256]!,
      sourcePort: 1024 + (k % 60_000),
      destinationIp,
      destinationPort: 443,
      protocol: 'tcp',
      start,
      end: start + 1000 + Math.floor(rnd() * 300_000),
    });
    if (batch.length >= 50_000) flush();
  };
  let k = 0;
  for (let day = 0; day < DAYS; day++) for (const s of services) for (let i = 0; i < PER_SERVICE_DAY; i++) push(s, day, k++);
  for (let i = 0; i < total - serviceRecords; i++) push(background[i % background.length]!, Math.floor(rnd() * DAYS), k++);
  flush();
  store.close();
}

const iso = (ms: number): string => new Date(ms).toISOString();
const REQUEST = {
  ref: 'BENCH',
  kind: 'service-users',
  authorisation: { authorityType: 'national-crime-agency', condition: 'D', purpose: 'serious-crime' },
  layers: SERVICES.map((destination, i) => ({
    service: { destinations: [destination], ports: [443] },
    window: { from: iso(START + (2 + 3 * i) * DAY), to: iso(START + (3 + 3 * i) * DAY) },
  })),
  minLayers: 2,
  returnPolicy: 'allow-multiple',
  maxCandidates: 10_000,
};

async function main(): Promise<void> {
  const sizes = process.argv
    .slice(2)
    .map(Number)
    .filter((n) => n > 0);
  const out: unknown[] = [];
  for (const total of sizes.length > 0 ? sizes : [100_000, 1_000_000]) {
    const dir = mkdtempSync(join(tmpdir(), 'ipar-bench-services-'));
    const file = join(dir, 'store.db');
    const t0 = performance.now();
    build(file, total);
    const buildSeconds = (performance.now() - t0) / 1000;
    process.stderr.write(`services bench: ${total} records built in ${buildSeconds.toFixed(1)} s\n`);
    const store = openSqliteStore(file, { readonly: true });
    const [warm] = await resolveRequests(store, [REQUEST]);
    const times: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      const [r] = await resolveRequests(store, [REQUEST]);
      times.push(performance.now() - t);
      if (r!.candidateCount !== warm!.candidateCount) throw new Error('answers differ between runs');
    }
    store.close();
    rmSync(dir, { recursive: true, force: true });
    times.sort((a, b) => a - b);
    out.push({
      records: total,
      buildSeconds: Number(buildSeconds.toFixed(1)),
      medianMs: Number(times[10]!.toFixed(1)),
      p95Ms: Number(times[18]!.toFixed(1)),
      layers: warm!.layers,
      candidates: warm!.candidateCount,
    });
  }
  process.stdout.write(
    JSON.stringify(
      { date: new Date().toISOString(), cpu: cpus()[0]?.model, cores: cpus().length, loadavg: loadavg().map((x) => Number(x.toFixed(2))), results: out },
      null,
      1,
    ) + '\n',
  );
}

await main();
