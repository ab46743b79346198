/** `ipar simulate`: a simulated operator's records, authority requests and ground truth. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_CONNECTION_WORLD, simulateConnections } from '../../nat/connections.js';
import { parseSimulationConfig, writeSimulation, type SimulationCounts } from '../../nat/simulate.js';
import { ingest } from '../ingest/ingest.js';
import { openInputs } from '../ingest/lines.js';
import { IparError } from '../problems.js';
import { Progress } from '../progress.js';
import { redactSpec } from '../store/clickhouse/url.js';
import { isClickHouseSpec, openStore } from '../store/open.js';
import { formatReport, formatSummary } from './ingest.js';
import type { Io } from './io.js';

export interface SimulateCommand {
  readonly profile: string;
  readonly subscribers: number;
  readonly days: number;
  readonly seed: number;
  readonly out: string;
  readonly db?: string;
  readonly requests?: number;
  /** Also write a connection-records operator (connections.ndjson) and its truth (visits.ndjson). */
  readonly connections?: boolean;
}

/**
 * Write records.ndjson, requests.ndjson and truth.ndjson into `out` (same seed, same
 * bytes) and, with `db`, ingest the records. Returns the counts.
 */
export async function simulateInto(cmd: SimulateCommand, io: Io): Promise<SimulationCounts> {
  const config = parseSimulationConfig({
    profile: cmd.profile,
    subscribers: cmd.subscribers,
    days: cmd.days,
    ...(cmd.requests === undefined ? {} : { requests: cmd.requests }),
  });
  if (!config.ok) throw new IparError('USAGE', config.problems.map((p) => `--${p.field}: ${p.message}`).join('; '));
  mkdirSync(cmd.out, { recursive: true, mode: 0o700 });
  const progress = new Progress('simulate records', io.stderr);
  let counts: SimulationCounts;
  try {
    counts = await writeSimulation({ ...config.value, start: new Date(config.value.start).toISOString(), seed: cmd.seed, outDir: cmd.out }, (p) =>
      progress.tick(p.records, `${Math.round(p.fraction * 100)}% of the period`),
    );
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === undefined) throw cause;
    throw new IparError('OUTPUT_WRITE_FAILED', `cannot write the simulation into ${cmd.out}: ${(cause as Error).message}`, { cause });
  }
  progress.done();
  io.stderr.write(`simulate: ${counts.records} records, ${counts.requests} requests, ${counts.truth} truths in ${cmd.out}\n`);
  if (cmd.db !== undefined) {
    const store = openStore(cmd.db, { cacheMiB: 256 });
    try {
      const ingestProgress = new Progress('ingest lines', io.stderr);
      const summary = await ingest(store, await openInputs([join(cmd.out, 'records.ndjson')]), {
        ...(isClickHouseSpec(cmd.db) ? { batchSize: 100_000 } : {}),
        onReject: (r) => formatReport(r).forEach((l) => io.stderr.write(l + '\n')),
        onProgress: (n) => ingestProgress.tick(n),
      });
      ingestProgress.done();
      io.stderr.write(formatSummary(summary) + '\n');
      if (summary.rejectedLines > 0) throw new IparError('SIMULATION_REJECTED', `${summary.rejectedLines} simulated records were rejected: a simulator bug`);
    } finally {
      await store.close();
    }
  }
  return counts;
}

/**
 * Write the connection world of {@link simulateConnections} for `days` days: its records
 * (its own operator: load it into its own store) and one truth line per visit.
 */
export function writeConnectionWorld(cmd: SimulateCommand): { connections: number; visits: number } {
  const world = simulateConnections({ ...DEFAULT_CONNECTION_WORLD, hours: 24 * cmd.days }, cmd.seed);
  const visits = world.visits.map((v) => ({ ...v, start: new Date(v.start).toISOString(), end: new Date(v.end).toISOString() }));
  try {
    writeFileSync(join(cmd.out, 'connections.ndjson'), world.records.map((r) => JSON.stringify(r) + '\n').join(''), { mode: 0o600 });
    writeFileSync(join(cmd.out, 'visits.ndjson'), visits.map((v) => JSON.stringify(v) + '\n').join(''), { mode: 0o600 });
  } catch (cause) {
    throw new IparError('OUTPUT_WRITE_FAILED', `cannot write the connection world into ${cmd.out}: ${(cause as Error).message}`, { cause });
  }
  return { connections: world.records.length, visits: visits.length };
}

export async function runSimulate(cmd: SimulateCommand, io: Io): Promise<number> {
  const counts = await simulateInto(cmd, io);
  const world = cmd.connections === true ? writeConnectionWorld(cmd) : null;
  io.stdout.write(
    JSON.stringify({ out: cmd.out, ...(cmd.db === undefined ? {} : { db: redactSpec(cmd.db) }), ...counts, ...(world === null ? {} : world) }) + '\n',
  );
  return 0;
}
