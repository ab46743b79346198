import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { correlate } from '../../matcher/correlate.js';
import type { RequestInput } from '../../src/request.js';
import type { SqliteStore } from '../../src/store/sqlite/store.js';
import { accountsIn, operatorStore, SMALL_OPERATOR, T, type Obs } from './operators.js';

let store: SqliteStore;
beforeAll(() => {
  store = operatorStore(SMALL_OPERATOR);
});
afterAll(() => store.close());

const accounts = (observations: Obs[], extra: Partial<RequestInput> = {}) => accountsIn(store, observations, extra);

describe('resolve() cross-correlation', () => {
  test('two observations: the intersection, with support n of n', async () => {
    const r = await accounts([
      { sourceIp: '203.0.113.7', time: T('09:30:00') },
      { sourceIp: '203.0.113.7', sourcePort: 1600, time: T('10:30:00') },
    ]);
    expect(r.accounts).toEqual(['MOB-2']);
    expect(r.result.candidates[0]).toMatchObject({ support: 2, of: 2 });
    expect(r.result.candidates[0]!.evidence.map((e) => e.observation)).toEqual([0, 0, 1, 1]);
    expect(r.result.observations.map((o) => o.candidateCount)).toEqual([2, 1]);
  });

  test('observations that share nobody give none', async () => {
    const r = await accounts([
      { sourceIp: '198.51.100.7', time: T('10:00:00') },
      { sourceIp: '198.51.100.8', time: T('10:00:00') },
    ]);
    expect(r.status).toBe('none');
  });
});

describe('correlate() of per-observation account sets', () => {
  const s = (id: string) => ({ kind: 'allocation' as const, id, start: Date.parse(T('08:00:00')), end: null, endInferred: false });
  const of = (...accounts: string[]) => new Map(accounts.map((a) => [a, [s(`${a}-rec`)]]));
  test.each([
    ['one observation: every account, sorted', [of('B', 'A')], ['A', 'B'], [2], 1],
    ['the intersection of two', [of('A', 'B'), of('B')], ['B'], [1, 1], 2],
    ['disjoint observations: nobody, each fitting one', [of('A'), of('B')], [], [2, 0], 1],
    ['one observation matching nobody empties the answer', [of('A'), of()], [], [1, 0], 1],
    ['three, one account in all', [of('A', 'C'), of('A', 'B'), of('A', 'B')], ['A'], [1, 1, 1], 3],
  ] as const)('%s', (_name, perObservation, candidates, supportCounts, bestSupport) => {
    const c = correlate(perObservation);
    expect(c.candidates.map((x) => x.account)).toEqual(candidates);
    expect(c.supportCounts).toEqual(supportCounts);
    expect(c.bestSupport).toBe(bestSupport);
    for (const x of c.candidates) expect([x.support, x.of]).toEqual([perObservation.length, perObservation.length]);
  });
  test('evidence: each record with its observation, times written as instants', () => {
    const [c] = correlate([of('A'), of('A')]).candidates;
    expect(c!.evidence).toEqual([
      { kind: 'allocation', id: 'A-rec', start: '2026-03-28T08:00:00.000Z', end: null, observation: 0 },
      { kind: 'allocation', id: 'A-rec', start: '2026-03-28T08:00:00.000Z', end: null, observation: 1 },
    ]);
  });
});
