/**
 * `npm start`: the main job on the embedded default.
 * 1. The hand-made scenario (fixtures/demo): one request per resolution path.
 * 2. A simulated mixed operator (built on the first run, reused after): a batch of its
 *    authority requests resolved, the table, and how the answers compare with the truth.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveRequests } from '../../matcher/pipeline.js';
import { ingest } from '../ingest/ingest.js';
import { openInputs } from '../ingest/lines.js';
import { packagePath } from '../paths.js';
import { openSqliteStore } from '../store/sqlite/store.js';
import { formatReport, formatSummary } from './ingest.js';
import type { Io } from './io.js';
import { prettyHeader, prettyRow } from './pretty.js';
import { runResolve } from './resolve.js';
import { simulateInto } from './simulate.js';

/** The embedded default operator: builds in a few seconds on this machine. */
export const DEMO_OPERATOR = { profile: 'mixed', subscribers: 3000, days: 2, seed: 2026, requests: 400 } as const;
const SHOWN = 30;

export async function runDemo(opts: { dir: string }, io: Io): Promise<number> {
  mkdirSync(opts.dir, { recursive: true, mode: 0o700 });

  const fixturesDb = join(opts.dir, 'fixtures.db');
  if (!(await ingestFixture(fixturesDb, 'records.ndjson', io))) return 1;
  io.stdout.write(`== 1. Each resolution path, on the hand-made operator in fixtures/demo (${fixturesDb})\n\n`);
  const code = await runResolve({ db: fixturesDb, file: packagePath('fixtures', 'demo', 'requests.ndjson'), pretty: true }, io);
  if (code === 2) return 2;

  const simDir = join(opts.dir, 'operator');
  const simDb = join(opts.dir, 'operator.db');
  if (!existsSync(simDb) || !existsSync(join(simDir, 'truth.ndjson'))) {
    io.stderr.write(`building the simulated operator (${DEMO_OPERATOR.profile}, ${DEMO_OPERATOR.subscribers} subscribers, ${DEMO_OPERATOR.days} days, seed ${DEMO_OPERATOR.seed}) …\n`);
    await simulateInto({ ...DEMO_OPERATOR, out: simDir, db: simDb }, io);
  }
  const requests = readFileSync(join(simDir, 'requests.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as unknown);
  const truth = new Map(
    readFileSync(join(simDir, 'truth.ndjson'), 'utf8').trim().split('\n').map((l) => {
      const t = JSON.parse(l) as { ref: string; account: string };
      return [t.ref, t.account] as const;
    }),
  );
  const sim = openSqliteStore(simDb, { readonly: true });
  try {
    const results = await resolveRequests(sim, requests);
    io.stdout.write(`\n== 2. A simulated operator (${simDb}): the first ${SHOWN} of ${results.length} authority requests\n\n`);
    io.stdout.write(prettyHeader());
    for (const r of results.slice(0, SHOWN)) io.stdout.write(prettyRow(r));
    let unique = 0, right = 0, wrongFlagged = 0, wrongSilent = 0, withheld = 0, none = 0;
    for (const r of results) {
      if (r.status === 'none') none++;
      if (r.withheld) withheld++;
      if (r.status !== 'unique') continue;
      unique++;
      if (r.candidates[0]?.account === truth.get(r.ref ?? '')) right++;
      else if (r.risks.some((k) => k.kind === 'false-positive')) wrongFlagged++;
      else wrongSilent++;
    }
    io.stdout.write(
      `\nagainst the simulator's truth: ${unique} unique answers of ${results.length} (${right} right, ${wrongFlagged} wrong but flagged, ${wrongSilent} wrong and unflagged); ${withheld} withheld as multi-customer; ${none} none\n`,
    );
  } finally {
    sim.close();
  }
  return connectionsSection(fixturesDb, io);
}

/** Ingest a file of fixtures/demo into the store, the summary on stderr; false when a line was rejected. */
async function ingestFixture(db: string, file: string, io: Io): Promise<boolean> {
  const store = openSqliteStore(db);
  try {
    const summary = await ingest(store, await openInputs([packagePath('fixtures', 'demo', file)]), {
      onReject: (r) => formatReport(r).forEach((l) => io.stderr.write(l + '\n')),
    });
    io.stderr.write(formatSummary(summary) + '\n');
    return summary.rejectedLines === 0;
  } finally {
    store.close();
  }
}

/**
 * 3. Internet connection records (issue 19): fixtures/demo/connections.ndjson added to the
 * hand-made operator, and the service-users and connection-records requests of
 * fixtures/demo/connection-requests.ndjson resolved as NDJSON (the README's examples run
 * against this store).
 */
async function connectionsSection(fixturesDb: string, io: Io): Promise<number> {
  if (!(await ingestFixture(fixturesDb, 'connections.ndjson', io))) return 1;
  io.stdout.write(`\n== 3. Internet connection records on the hand-made operator (${fixturesDb}): service users and a subject's records\n\n`);
  const code = await runResolve({ db: fixturesDb, file: packagePath('fixtures', 'demo', 'connection-requests.ndjson'), pretty: false }, io);
  return code === 2 ? 2 : 0;
}
