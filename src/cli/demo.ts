/**
 * `npm start`: the main job on the embedded default.
 * 1. The hand-made scenario (fixtures/demo): one request per resolution path.
 * 2. A simulated mixed operator (built on the first run, reused after): a batch of its
 *    authority requests resolved, the table, and how the answers compare with the truth.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveRequests } from '../../matcher/pipeline.js';
import type { RecordFate, SimTruth } from '../../nat/simulate.js';
import { ingest } from '../ingest/ingest.js';
import { openInputs } from '../ingest/lines.js';
import { packagePath } from '../paths.js';
import { openSqliteStore } from '../store/sqlite/store.js';
import { formatReport, formatSummary } from './ingest.js';
import type { Io } from './io.js';
import { prettyHeader, prettyRow } from './pretty.js';
import { resolveWithReport } from './report.js';
import { runResolve } from './resolve.js';
import { simulateInto } from './simulate.js';

/** The true account's records were lost: a log gap over the time, or a record never written. */
function recordsLost(t: Pick<SimTruth, 'logGap' | 'observations'>): boolean {
  const lost = (f: RecordFate | undefined) => f === 'lost-declared' || f === 'lost-silent';
  return t.logGap !== 'none' || t.observations.some((o) => o.inGapWindow || lost(o.allocation) || lost(o.nat));
}

/** The embedded default operator: builds in a few seconds on this machine. */
export const DEMO_OPERATOR = { profile: 'mixed', subscribers: 3000, days: 2, seed: 2026, requests: 400 } as const;
const SHOWN = 30;

export async function runDemo(opts: { dir: string }, io: Io): Promise<number> {
  mkdirSync(opts.dir, { recursive: true, mode: 0o700 });

  const fixturesDb = join(opts.dir, 'fixtures.db');
  if (!(await ingestFixture(fixturesDb, 'records.ndjson', io))) return 1;
  io.stdout.write(`== 1. Each resolution path, on the hand-made operator in fixtures/demo (${fixturesDb})\n\n`);
  const reportDir = join(opts.dir, 'report');
  const code = await resolveWithReport({ db: fixturesDb, file: packagePath('fixtures', 'demo', 'requests.ndjson'), pretty: true }, reportDir, io);
  if (code === 2) return 2;
  io.stdout.write(
    `\n(BAD-TIME is invalid on purpose: its time "2026-03-28T10:00:00" has no offset, and the engine refuses to guess a zone — the stderr line above names the field.)\n` +
      `The report of this batch, a page per request: ${join(reportDir, 'index.html')}\n`,
  );

  const simDir = join(opts.dir, 'operator');
  const simDb = join(opts.dir, 'operator.db');
  if (!existsSync(simDb) || !existsSync(join(simDir, 'truth.ndjson'))) {
    io.stderr.write(
      `building the simulated operator (${DEMO_OPERATOR.profile}, ${DEMO_OPERATOR.subscribers} subscribers, ${DEMO_OPERATOR.days} days, seed ${DEMO_OPERATOR.seed}) …\n`,
    );
    await simulateInto({ ...DEMO_OPERATOR, out: simDir, db: simDb }, io);
  }
  const requests = readFileSync(join(simDir, 'requests.ndjson'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as unknown);
  const truth = new Map(
    readFileSync(join(simDir, 'truth.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => {
        const t = JSON.parse(l) as Pick<SimTruth, 'ref' | 'account' | 'logGap' | 'observations'>;
        return [t.ref, t] as const;
      }),
  );
  const sim = openSqliteStore(simDb, { readonly: true });
  try {
    const results = await resolveRequests(sim, requests);
    io.stdout.write(`\n== 2. A simulated operator (${simDb}): the first ${SHOWN} of ${results.length} authority requests\n\n`);
    io.stdout.write(prettyHeader());
    for (const r of results.slice(0, SHOWN)) io.stdout.write(prettyRow(r));
    let unique = 0,
      right = 0,
      wrongFlagged = 0,
      wrongSilent = 0,
      withheld = 0,
      none = 0,
      noneLost = 0,
      noneFlagged = 0,
      noneSilent = 0;
    for (const r of results) {
      const t = truth.get(r.ref ?? '');
      if (r.status === 'none') {
        // Every simulated request has a true account: a none is right only when the
        // records that would show it were lost (a log gap, a record never written).
        none++;
        if (t !== undefined && recordsLost(t)) noneLost++;
        else if (r.risks.some((k) => k.kind === 'false-negative')) noneFlagged++;
        else noneSilent++;
      }
      if (r.withheld) withheld++;
      if (r.status !== 'unique') continue;
      unique++;
      if (r.candidates[0]?.account === t?.account) right++;
      else if (r.risks.some((k) => k.kind === 'false-positive')) wrongFlagged++;
      else wrongSilent++;
    }
    io.stdout.write(
      `\nagainst the simulator's truth: ${unique} unique answers of ${results.length} (${right} right, ${wrongFlagged} wrong but flagged, ${wrongSilent} wrong and unflagged); ${withheld} withheld as multi-customer; ` +
        `${none} none (${noneLost} right: the records that would show the account were lost; ${noneFlagged} wrong but flagged as a possible false negative; ${noneSilent} wrong and unflagged)\n`,
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
