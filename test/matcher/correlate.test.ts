import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RequestInput } from '../../src/request.js';
import type { SqliteStore } from '../../src/store/sqlite.js';
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
