import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { disclose } from '../../matcher/disclose.js';
import { resolveRequests } from '../../matcher/pipeline.js';
import type { SqliteStore } from '../../src/store/sqlite/store.js';
import { operatorStore, SMALL_OPERATOR, T, type Obs } from './operators.js';

let store: SqliteStore;
beforeAll(() => {
  store = operatorStore(SMALL_OPERATOR);
});
afterAll(() => store.close());

describe('resolve() disclosure policy', () => {
  const twoBlocks: Obs[] = [{ sourceIp: '203.0.113.7', time: T('09:30:00') }];

  test('single-only (the default) withholds several candidates but gives the count', async () => {
    const [r] = await resolveRequests(store, [{ ref: 'P', observations: twoBlocks }]);
    expect(r).toMatchObject({ status: 'multiple', candidateCount: 2, withheld: true, candidates: [] });
  });

  test('allow-multiple discloses up to maxCandidates', async () => {
    const [r] = await resolveRequests(store, [{ ref: 'P', observations: twoBlocks, returnPolicy: 'allow-multiple', maxCandidates: 2 }]);
    expect(r).toMatchObject({ status: 'multiple', candidateCount: 2, withheld: false });
    expect(r!.candidates).toHaveLength(2);
  });

  test('allow-multiple beyond maxCandidates withholds', async () => {
    const [r] = await resolveRequests(store, [{ ref: 'P', observations: twoBlocks, returnPolicy: 'allow-multiple', maxCandidates: 1 }]);
    expect(r).toMatchObject({ candidateCount: 2, withheld: true, candidates: [] });
  });

  test('a unique answer is disclosed under single-only', async () => {
    const [r] = await resolveRequests(store, [{ ref: 'P', observations: [{ sourceIp: '198.51.100.7', time: T('10:00:00') }] }]);
    expect(r).toMatchObject({ status: 'unique', withheld: false, candidates: [{ account: 'DYN-A', support: 1, of: 1 }] });
  });
});

describe('disclose() under each policy', () => {
  const c = (account: string) => ({ account, support: 1, of: 1, evidence: [] });
  test.each([
    ['nobody', 0, 'single-only', 50, 'none', false],
    ['one, single-only', 1, 'single-only', 50, 'unique', false],
    ['two, single-only: withheld', 2, 'single-only', 50, 'multiple', true],
    ['two, allow-multiple up to 2', 2, 'allow-multiple', 2, 'multiple', false],
    ['three, allow-multiple up to 2: withheld', 3, 'allow-multiple', 2, 'multiple', true],
    ['one, allow-multiple up to 1', 1, 'allow-multiple', 1, 'unique', false],
  ] as const)('%s', (_name, count, policy, max, status, withheld) => {
    const candidates = ['A', 'B', 'C'].slice(0, count).map(c);
    const d = disclose(candidates, policy, max);
    expect(d).toEqual({ status, candidateCount: count, withheld, candidates: withheld ? [] : candidates });
  });
});
