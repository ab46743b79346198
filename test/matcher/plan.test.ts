import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { resolveRequests } from '../../matcher/pipeline.js';
import type { SqliteStore } from '../../src/store/sqlite.js';
import { operatorStore, SMALL_OPERATOR, T } from './operators.js';

let store: SqliteStore;
beforeAll(() => {
  store = operatorStore(SMALL_OPERATOR);
});
afterAll(() => store.close());

describe('resolve() of invalid requests', () => {
  test.each([
    ['no observations', { ref: 'X', observations: [] }, 'observations'],
    ['time without offset', { ref: 'X', observations: [{ sourceIp: '198.51.100.7', time: '2026-03-28T10:00:00' }] }, 'observations.0.time'],
    ['unknown time zone', { ref: 'X', observations: [{ sourceIp: '198.51.100.7', time: { local: '2026-03-28T10:00:00', timeZone: 'Mars/Olympus' } }] }, 'observations.0.time.timeZone'],
    ['a prefix as source', { ref: 'X', observations: [{ sourceIp: '198.51.100.0/24', time: T('10:00:00') }] }, 'observations.0.sourceIp'],
    ['a negative tolerance', { ref: 'X', observations: [{ sourceIp: '198.51.100.7', time: T('10:00:00') }], toleranceSeconds: -1 }, 'toleranceSeconds'],
    ['a range that ends before it starts', { ref: 'X', observations: [{ sourceIp: '198.51.100.7', time: { from: T('10:00:00'), to: T('09:00:00') } }] }, 'observations.0.time.to'],
  ])('invalid: %s, with the field named', async (_name, input, field) => {
    const [r] = await resolveRequests(store, [input]);
    expect(r!.status).toBe('invalid');
    expect(r!.errors!.map((e) => e.field)).toContain(field);
    expect(r!.ref).toBe('X');
  });
});
