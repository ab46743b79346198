/**
 * `npm run bench [-- --quick]`: every benchmark, printed as tables and written as JSON
 * to bench/results/latest.json (quick.json for a quick run) with the machine, the date
 * and the load average beside each part (figures for RESULTS.md).
 *
 * Stores of the synthetic operator come from the cache of bench/stores.ts: the first full
 * run builds the 1M and 10M stores (about 30 s and 5 minutes here), later runs reuse them.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { packagePath } from '../src/paths.js';
import { baselineGrowth, LAYOUTS, runBaselines, type BaselineResult } from './baselines.js';
import { runCliBench } from './cli.js';
import { runIngestBench } from './ingest.js';
import { resolveGrowth, runResolveBench, type ResolveTrialResult } from './resolve.js';
import { benchCacheVersionDir, cachedStore } from './stores.js';
import { runVendorBench } from './vendors.js';
import { runIpfixBench } from './ipfix.js';
import { runMixedBench } from './mixed.js';

export interface TargetCheck {
  readonly target: string;
  readonly measured: string;
  readonly met: boolean;
}

const fmt = (x: number) => x.toLocaleString('en', { maximumFractionDigits: 2 });

/**
 * Issue #8's targets, read off one run's results at its largest store (the ratios are
 * measured in the same run on the same data, so they survive a loaded machine better
 * than the absolute rates).
 */
export function targetChecks(resolve: readonly ResolveTrialResult[], baselines: readonly BaselineResult[]): TargetCheck[] {
  const out: TargetCheck[] = [];
  const largest = Math.max(...baselines.map((b) => b.records), ...resolve.map((r) => r.records));
  const at = (layout: string) => baselines.find((b) => b.records === largest && b.layout === layout);
  const ipar = at(LAYOUTS.ipar);
  const floor = at(LAYOUTS.floor);
  const n = largest.toLocaleString('en');
  if (ipar !== undefined && floor !== undefined) {
    const r = ipar.microsecondsPerLookup / floor.microsecondsPerLookup;
    out.push({
      target: `store lookup within 2× of the raw indexed lookup (${n} records)`,
      measured: `${fmt(r)}× (${ipar.microsecondsPerLookup} vs ${floor.microsecondsPerLookup} µs)`,
      met: r <= 2,
    });
  }
  for (const [layout, times] of [
    ['radacct', 3],
    ['rtree', 10],
    ['scan', 1000],
  ] as const) {
    const b = at(LAYOUTS[layout]);
    if (b !== undefined)
      out.push({ target: `≥${fmt(times)}× faster than "${LAYOUTS[layout]}" (${n} records)`, measured: `${fmt(b.ratioToIpar)}×`, met: b.ratioToIpar >= times });
  }
  for (const risks of ['off', 'on'] as const) {
    const r = resolve.find((x) => x.records === largest && x.path === 'port-block-with-port' && x.task === 'batch of 512' && x.risks === risks);
    if (r !== undefined)
      out.push({
        target: `≥100,000 requests/s through a port block with a port, one core, risk analysis ${risks} (${n} records)`,
        measured: `${fmt(r.requestsPerSecond)}/s`,
        met: r.requestsPerSecond >= 100_000,
      });
  }
  const growth = baselineGrowth(baselines).find((g) => g.layout === LAYOUTS.ipar);
  if (growth !== undefined) {
    out.push({
      target: `store lookup cost grows with log n, not n (${growth.fromRecords.toLocaleString('en')} → ${growth.toRecords.toLocaleString('en')}: log n gives 1.17×, n gives 10×; met at ≤ 1.5×)`,
      measured: `${fmt(growth.growth)}×`,
      met: growth.growth <= 1.5,
    });
  }
  return out;
}

const load = () => loadavg().map((x) => Math.round(x * 100) / 100);

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes('--quick');
  const machine = { cpus: cpus().length, model: cpus()[0]?.model ?? '?', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
  const date = new Date().toISOString();
  process.stderr.write(
    `bench: ${quick ? 'quick' : 'full'} run on ${machine.cpus} × ${machine.model}, ${machine.memoryGiB} GiB, node ${machine.node}; store cache ${benchCacheVersionDir()}\n`,
  );
  const loadAverage: Record<string, number[]> = { start: load() };

  const ingest = runIngestBench(quick);
  loadAverage['ingest'] = load();
  console.log('ingest of canonical NDJSON');
  console.table(ingest);

  const resolve = await runResolveBench(quick);
  loadAverage['resolve'] = load();
  console.log('resolve through the library, per path (microseconds and requests/s per request; latency per call)');
  console.table(resolve);
  const resolveGrowthRows = resolveGrowth(resolve);
  if (resolveGrowthRows.length > 0) {
    console.log('resolve: growth of the cost per request with the store size');
    console.table(resolveGrowthRows);
  }

  const baselines = await runBaselines(quick);
  loadAverage['baselines'] = load();
  console.log('lookups against the baselines (same data, same lookups)');
  console.table(baselines);
  const baselineGrowthRows = baselineGrowth(baselines);
  if (baselineGrowthRows.length > 0) {
    console.log('baselines: growth of the cost per lookup with the store size');
    console.table(baselineGrowthRows);
  }

  const targets = targetChecks(resolve, baselines);
  console.log("issue #8's targets, in this run");
  console.table(targets);

  const cli = await runCliBench(quick);
  loadAverage['cli'] = load();
  console.log('the full CLI on a batch');
  console.table(cli);

  const vendors = await runVendorBench(quick);
  loadAverage['vendors'] = load();
  console.log('vendor importers');
  console.table(vendors);

  const ipfix = await runIpfixBench(quick);
  loadAverage['ipfix'] = load();
  console.log('IPFIX NAT event logging');
  console.table(ipfix);

  // The mixed trial (issue 22): the simulator's own operator and request mix.
  const mixed = await runMixedBench(quick);
  loadAverage['mixed'] = load();
  console.log('the mixed trial (the simulated operator and its request mix): composition');
  console.log(JSON.stringify(mixed.composition, null, 2));
  console.table(mixed.results);

  // Each store's build, from the cache (built by the trials above, or by an earlier run).
  const stores = [...new Set([...resolve.map((r) => r.records), ...baselines.map((b) => b.records)])].map((n) => cachedStore(n));
  mkdirSync(packagePath('bench', 'results'), { recursive: true });
  writeFileSync(
    packagePath('bench', 'results', quick ? 'quick.json' : 'latest.json'),
    JSON.stringify(
      {
        date,
        machine,
        loadAverage,
        quick,
        stores,
        ingest,
        resolve,
        resolveGrowth: resolveGrowthRows,
        baselines,
        baselineGrowth: baselineGrowthRows,
        targets,
        cli,
        vendors,
        ipfix,
        mixed,
      },
      null,
      2,
    ) + '\n',
  );
}
