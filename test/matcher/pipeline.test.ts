import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { resolveRequests } from '../../matcher/pipeline.js';
import type { SqliteStore } from '../../src/store/sqlite/store.js';
import { operatorStore, SMALL_OPERATOR, T } from './operators.js';

let store: SqliteStore;
beforeAll(() => {
  store = operatorStore(SMALL_OPERATOR);
});
afterAll(() => store.close());

describe("resolve() in the store's preferred batches", () => {
  test('a batch larger than the store prefers is resolved in chunks, with the same results in input order', async () => {
    const requests: unknown[] = [
      { ref: 'C1', observations: [{ sourceIp: '198.51.100.7', time: T('10:00:00') }] },
      { ref: 'C2', observations: [{ sourceIp: '203.0.113.7', sourcePort: 1100, time: T('10:30:00') }] },
      { ref: 'C3', observations: [] },
      { ref: 'C4', observations: [{ sourceIp: '203.0.113.7', time: T('10:30:00') }] },
      { ref: 'C5', observations: [{ sourceIp: '192.0.2.1', time: T('10:00:00') }] },
    ];
    // The real store, seen through a reader that asks for two requests at a time.
    const reader = (preferredBatch: number | undefined): SqliteStore =>
      new Proxy(store, {
        get(target, key) {
          if (key === 'preferredBatch') return preferredBatch;
          const value: unknown = Reflect.get(target, key, target);
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
    const [chunked, whole] = [reader(2), reader(undefined)];
    const [a, b] = [await resolveRequests(chunked, requests), await resolveRequests(whole, requests)];
    expect(a.map((r) => r.ref)).toEqual(['C1', 'C2', 'C3', 'C4', 'C5']);
    expect(a).toEqual(b);
  });
});
