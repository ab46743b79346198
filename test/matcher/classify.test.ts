import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { resolveRequests } from '../../matcher/pipeline.js';
import type { SqliteStore } from '../../src/store/sqlite.js';
import { operatorStore, SMALL_OPERATOR, T } from './operators.js';

let store: SqliteStore;
beforeAll(() => {
  store = operatorStore(SMALL_OPERATOR);
});
afterAll(() => store.close());

describe('resolve() classification', () => {
  test.each([
    ['a server address', '198.51.100.241', 'server', 'server-address'],
    ['an address the operator does not hold', '192.0.2.200', 'not-operator', 'not-operator-address'],
    ['an operator address with no record', '198.51.100.50', 'dynamic', 'no-record'],
  ])('%s', async (_name, sourceIp, addressClass, outcome) => {
    const [r] = await resolveRequests(store, [{ ref: 'P', observations: [{ sourceIp, time: T('10:00:00') }] }]);
    expect(r!.status).toBe('none');
    expect(r!.observations[0]).toMatchObject({ addressClass, outcome });
  });
});
