/**
 * `npm run bench [-- --quick]`: every benchmark, printed as tables and written as JSON
 * to bench/results/latest.json with the machine and date (figures for RESULTS.md).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { packagePath } from '../src/paths.js';
import { runBaselines } from './baselines.js';
import { runCliBench } from './cli.js';
import { runIngestBench } from './ingest.js';
import { runResolveBench } from './resolve.js';
import { runVendorBench } from './vendors.js';

const quick = process.argv.includes('--quick');
const machine = { cpus: cpus().length, model: cpus()[0]?.model ?? '?', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
const date = new Date().toISOString();
process.stderr.write(`bench: ${quick ? 'quick' : 'full'} run on ${machine.cpus} × ${machine.model}, ${machine.memoryGiB} GiB, node ${machine.node}\n`);

const ingest = runIngestBench(quick);
console.log('ingest of canonical NDJSON');
console.table(ingest);

const resolve = await runResolveBench(quick);
console.log('resolve through the library');
console.table(resolve);

const baselines = await runBaselines(quick);
console.log('lookups against the baselines (same data, same queries)');
console.table(baselines);

const cli = await runCliBench(quick);
console.log('the full CLI on a batch');
console.table(cli);

const vendors = await runVendorBench(quick);
console.log('vendor importers');
console.table(vendors);

mkdirSync(packagePath('bench', 'results'), { recursive: true });
writeFileSync(packagePath('bench', 'results', quick ? 'quick.json' : 'latest.json'), JSON.stringify({ date, machine, quick, ingest, resolve, baselines, cli, vendors }, null, 2) + '\n');
