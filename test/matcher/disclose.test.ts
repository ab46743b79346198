import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { resolveRequests } from '../../matcher/pipeline.js';
import type { SqliteStore } from '../../src/store/sqlite.js';
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
