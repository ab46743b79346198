/**
 * The work budget per request (issue 20 item 3): one test per limit, the hostile request
 * of the finding on a simulated operator's port blocks, and the batch going on around a
 * refusal. Work is asserted as rows the store returned, never as time.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { estimateRequests, resolveRequests } from '../../matcher/pipeline.js';
import { readingsOf } from '../../matcher/guard.js';
import { planRequest } from '../../matcher/plan.js';
import { simulate } from '../../nat/simulate.js';
import { DEFAULT_WORK_BUDGET } from '../../src/budget.js';
import { main } from '../../src/cli.js';
import { BudgetDetail } from '../../src/catalogue/refusals.js';
import { CanonicalRecord } from '../../src/records.js';
import { Estimate, Result, type RequestInput } from '../../src/request.js';
import type { SqliteStore } from '../../src/store/sqlite/store.js';
import type { StoreReader } from '../../src/store/types.js';
import { captureIo, freshStore } from '../support/index.js';

const YEAR_S = 365.25 * 86_400;
/** The hostile ranges' length, 2018-01-01 to 2028-01-01, in seconds. */
const TEN_YEARS_S = (Date.parse('2028-01-01T00:00:00Z') - Date.parse('2018-01-01T00:00:00Z')) / 1000;

/** A real store that counts the rows each record lookup returns (the work a request caused). */
function counting(store: SqliteStore): { reader: StoreReader; rows: () => number; queries: () => number } {
  let rows = 0;
  let queries = 0;
  const counted =
    <Q, R>(ask: (q: readonly Q[]) => Promise<readonly (readonly R[])[]>) =>
    async (q: readonly Q[]) => {
      queries += q.length;
      const answers = await ask(q);
      for (const a of answers) rows += a.length;
      return answers;
    };
  const reader: StoreReader = {
    preferredBatch: store.preferredBatch,
    classify: (a) => store.classify(a),
    allocations: counted((q) => store.allocations(q)),
    natBlocks: counted((q) => store.natBlocks(q)),
    natSessions: counted((q) => store.natSessions(q)),
    natDeterministic: counted((q) => store.natDeterministic(q)),
    coverageGaps: (q) => store.coverageGaps(q),
    connectionsTo: counted((q) => store.connectionsTo(q)),
    connectionsFrom: counted((q) => store.connectionsFrom(q)),
    natSessionsTo: counted((q) => store.natSessionsTo(q)),
    natSessionsFrom: counted((q) => store.natSessionsFrom(q)),
    sourceCoverage: () => store.sourceCoverage(),
    subscriberTypes: (a) => store.subscriberTypes(a),
    settings: () => store.settings(),
    counts: () => store.counts(),
    close: () => store.close(),
  };
  return { reader, rows: () => rows, queries: () => queries };
}

let store: SqliteStore;
/** The simulated CGNAT outside address with the most port blocks, and one of its blocks' times. */
let busy: { ip: string; blocks: number; time: string; port: number };

beforeAll(() => {
  const sim = simulate({ profile: 'mobile-cgnat-blocks', subscribers: 300, days: 1 }, 2026);
  store = freshStore().store;
  const all = [...sim.records].map((r) => CanonicalRecord.parse(r));
  store.write(all);
  const byIp = new Map<string, { n: number; time: string; port: number }>();
  for (const r of all) {
    if (r.kind !== 'nat-block') continue;
    const seen = byIp.get(r.outsideIp.text) ?? { n: 0, time: new Date(r.start + 1000).toISOString(), port: r.portFirst };
    byIp.set(r.outsideIp.text, { ...seen, n: seen.n + 1 });
  }
  const [ip, top] = [...byIp].sort((a, b) => b[1].n - a[1].n)[0]!;
  busy = { ip, blocks: top.n, time: top.time, port: top.port };
});

/** The finding: 64 observations, each a ten-year range on a CGNAT address without a port. */
const hostile = (ref = 'HOSTILE'): RequestInput => ({
  ref,
  observations: Array.from({ length: 64 }, () => ({ sourceIp: busy.ip, time: { from: '2018-01-01T00:00:00Z', to: '2028-01-01T00:00:00Z' } })),
});
const legit = (ref = 'LEGIT'): RequestInput => ({ ref, observations: [{ sourceIp: busy.ip, sourcePort: busy.port, time: busy.time }], toleranceSeconds: 2 });

const refusal = (r: Result | Estimate) => {
  expect(r.status).toBe('refused');
  expect(r.refusal?.code).toBe('WORK_BUDGET_EXCEEDED');
  expect(r.refusal?.paragraph).toBe('9.24');
  return BudgetDetail.parse(r.refusal?.detail).exceeded;
};

describe('the work budget of a request', () => {
  test('the simulated address is a busy one (the hostile request would read its whole history)', () => {
    expect(busy.blocks).toBeGreaterThan(20);
  });

  test('window: the hostile request is refused before any record is read', async () => {
    const c = counting(store);
    const [r] = await resolveRequests(c.reader, [hostile()]);
    expect(Result.parse(r)).toEqual(r);
    expect(refusal(r!)).toEqual([{ budget: 'windowSeconds', limit: DEFAULT_WORK_BUDGET.windowMs / 1000, value: TEN_YEARS_S, atLeast: false }]);
    expect(r!.candidates).toEqual([]);
    expect(c.queries()).toBe(0);
    expect(c.rows()).toBe(0);
  });

  test('readings: more readings than the budget is refused before any record is read', async () => {
    // Three instants with a tolerance: 3 × (own, exact, wider, ±1 h) + ±1 h jointly on all 3 = 21.
    const request: RequestInput = {
      ref: 'R',
      observations: [0, 1, 2].map(() => ({ sourceIp: busy.ip, sourcePort: busy.port, time: busy.time })),
      toleranceSeconds: 2,
    };
    const plan = planRequest(request);
    if (!plan.ok) throw new Error('plan');
    expect(readingsOf(plan.value, true)).toBe(21);
    expect(readingsOf(plan.value, false)).toBe(3);
    const c = counting(store);
    const [r] = await resolveRequests(c.reader, [request], { budget: { readings: 20 } });
    expect(refusal(r!)).toEqual([{ budget: 'readings', limit: 20, value: 21, atLeast: false }]);
    expect(c.queries()).toBe(0);
    // Without risk analysis only the own windows are evaluated: within the budget.
    const [bare] = await resolveRequests(store, [request], { budget: { readings: 20 }, risks: false });
    expect(bare!.status).not.toBe('refused');
  });

  test('rows: past the row budget the reads stop one row past it and the request is refused', async () => {
    const c = counting(store);
    const limit = 50;
    const [r] = await resolveRequests(c.reader, [hostile()], { budget: { windowMs: 20 * YEAR_S * 1000, rows: limit } });
    const [exceeded] = refusal(r!);
    expect(exceeded).toMatchObject({ budget: 'rows', limit, atLeast: true });
    expect(exceeded!.value).toBeGreaterThan(limit);
    // 64 observations of the whole history, yet each batched read stops one row past the
    // limit (blocks, sessions, deterministic, public allocations; no inside host is read).
    expect(c.rows()).toBe(exceeded!.value);
    expect(c.rows()).toBeLessThanOrEqual(4 * (limit + 1));
    expect(c.rows()).toBeLessThan(busy.blocks * 64);
  });

  test('rows: a request within the budget reads every row, as without one', async () => {
    const [within] = await resolveRequests(store, [legit()], { budget: { rows: 1_000_000 } });
    const [defaults] = await resolveRequests(store, [legit()]);
    expect(within).toEqual(defaults);
    expect(defaults!.status).not.toBe('refused');
  });

  test('the rest of the batch goes on around a refused request, answered as alone', async () => {
    const [alone] = await resolveRequests(store, [legit('B')]);
    const results = await resolveRequests(store, [legit('A'), hostile('H'), legit('B'), hostile('H2')], { budget: { windowMs: 20 * YEAR_S * 1000, rows: 50 } });
    expect(results.map((r) => r.status)).toEqual([alone!.status, 'refused', alone!.status, 'refused']);
    expect(results[2]).toEqual(alone);
  });

  test('estimate says what the full answer would cost: the same refusal, the same numbers', async () => {
    const [e] = await estimateRequests(store, [hostile()]);
    expect(Estimate.parse(e)).toEqual(e);
    const [r] = await resolveRequests(store, [hostile()]);
    expect(e!.refusal).toEqual(r!.refusal);
    expect(refusal(e!)[0]!.value).toBe(TEN_YEARS_S);
  });

  test('a store setting sets a limit; a call option overrides it; removing it restores the default', async () => {
    const { store: s } = freshStore();
    s.write([...simulate({ profile: 'mobile-cgnat-blocks', subscribers: 50, days: 1 }, 7).records].map((r) => CanonicalRecord.parse(r)));
    const request: RequestInput = { ref: 'W', observations: [{ sourceIp: busy.ip, time: { from: '2026-01-01T00:00:00Z', to: '2026-01-03T00:00:00Z' } }] };
    s.setSetting('budget.windowMs', 86_400_000);
    expect((await s.settings()).budget).toEqual({ windowMs: 86_400_000 });
    expect(refusal((await resolveRequests(s, [request]))[0]!)[0]).toMatchObject({ budget: 'windowSeconds', limit: 86_400 });
    expect((await resolveRequests(s, [request], { budget: { windowMs: 3 * 86_400_000 } }))[0]!.status).not.toBe('refused');
    s.setSetting('budget.windowMs', null);
    expect((await s.settings()).budget).toBeUndefined();
    expect((await resolveRequests(s, [request]))[0]!.status).not.toBe('refused');
    s.close();
  });
});

describe('ipar settings --budget-*', () => {
  test('sets and prints the limits; resolve then refuses past them; "" restores the default', async () => {
    const { store: s, file } = freshStore();
    s.close();
    const set = captureIo();
    expect(await main(['settings', '--db', file, '--budget-window', '3600', '--budget-readings', '100', '--budget-rows', '5000'], set)).toBe(0);
    expect(JSON.parse(set.out())).toEqual({
      retentionHorizon: null,
      jurisdictionZone: 'Europe/London',
      zoneChanges: {},
      clockErrorSeconds: {},
      budget: { windowSeconds: 3600, readings: 100, rows: 5000 },
    });
    const io = captureIo('{"ref":"DAY","observations":[{"sourceIp":"198.51.100.7","time":{"from":"2026-03-28T00:00:00Z","to":"2026-03-29T00:00:00Z"}}]}\n');
    expect(await main(['resolve', '--db', file, '--workers', '1'], io)).toBe(0);
    expect(JSON.parse(io.out())).toMatchObject({
      ref: 'DAY',
      status: 'refused',
      refusal: { code: 'WORK_BUDGET_EXCEEDED', detail: { exceeded: [{ budget: 'windowSeconds', limit: 3600, value: 86_400 }] } },
    });
    const reset = captureIo();
    expect(await main(['settings', '--db', file, '--budget-window', '', '--budget-readings', '', '--budget-rows', ''], reset)).toBe(0);
    expect(JSON.parse(reset.out())).toEqual({ retentionHorizon: null, jurisdictionZone: 'Europe/London', zoneChanges: {}, clockErrorSeconds: {} });
  });

  test.each([
    ['--budget-rows', 'many'],
    ['--budget-rows', '1.5'],
    ['--budget-readings', '0'],
    ['--budget-window', '-5'],
  ])('%s %s is a usage error naming the option', async (option, value) => {
    const { store: s, file } = freshStore();
    s.close();
    const io = captureIo();
    expect(await main(['settings', '--db', file, option, value], io)).toBe(2);
    expect(io.err()).toContain(option);
  });
});
