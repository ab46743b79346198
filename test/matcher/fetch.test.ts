import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fetchPlans, fetchRiskFacts, mergeWindows } from '../../matcher/fetch.js';
import { matchPlans } from '../../matcher/pipeline.js';
import { planRequest, type PlannedRequest } from '../../matcher/plan.js';
import type { SqliteStore } from '../../src/store/sqlite/store.js';
import { operatorStore, SMALL_OPERATOR, T } from './operators.js';

let store: SqliteStore;
beforeAll(() => {
  store = operatorStore(SMALL_OPERATOR);
});
afterAll(() => store.close());

function plans(...observations: object[][]): PlannedRequest[] {
  return observations.map((o, i) => {
    const p = planRequest({ ref: `F${i}`, observations: o });
    if (!p.ok) throw new Error(JSON.stringify(p.errors));
    return p.value;
  });
}

/** The real store, counting how often each question is asked. */
function counted(): { reader: SqliteStore; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const reader = new Proxy(store, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key, target);
      if (typeof value !== 'function') return value;
      return (...a: unknown[]) => {
        calls.set(String(key), (calls.get(String(key)) ?? 0) + 1);
        return (value as (...a: unknown[]) => unknown).apply(target, a);
      };
    },
  });
  return { reader, calls };
}

describe('mergeWindows()', () => {
  test.each([
    ['one window', [[0, 10]], [[0, 10]]],
    [
      'disjoint, sorted',
      [
        [20, 30],
        [0, 10],
      ],
      [
        [0, 10],
        [20, 30],
      ],
    ],
    [
      'touching windows merge',
      [
        [0, 10],
        [10, 20],
      ],
      [[0, 20]],
    ],
    [
      'a window inside another',
      [
        [0, 30],
        [5, 10],
      ],
      [[0, 30]],
    ],
    [
      'overlapping chains',
      [
        [0, 10],
        [25, 40],
        [8, 26],
      ],
      [[0, 40]],
    ],
  ] as const)('%s', (_name, windows, merged) => {
    expect(mergeWindows(windows.map(([start, end]) => ({ start, end })))).toEqual(merged.map(([start, end]) => ({ start, end })));
  });
});

describe('fetchPlans(): one store round trip per step for the whole batch', () => {
  const batch = () =>
    plans(
      [{ sourceIp: '198.51.100.7', time: T('10:00:00') }],
      [
        { sourceIp: '203.0.113.7', sourcePort: 1300, time: T('09:30:00') },
        { sourceIp: '203.0.113.70', sourcePort: 40001, time: T('10:00:00') },
      ],
      [{ sourceIp: '198.51.100.241', time: T('10:00:00') }],
    );

  test('each question asked once, whatever the number of requests and observations', async () => {
    const { reader, calls } = counted();
    await fetchPlans(reader, batch());
    expect(Object.fromEntries(calls)).toEqual({ classify: 1, natBlocks: 1, natSessions: 1, natDeterministic: 1, allocations: 2 });
  });

  test('rows by observation, in plan order: public allocations, NAT rows, inside allocations by realm and address', async () => {
    const fetched = await fetchPlans(store, batch());
    expect(fetched.map((f) => f.length)).toEqual([1, 2, 1]);
    const [dhcp, block, session, server] = fetched.flat();
    expect(dhcp!.addressClass).toBe('dynamic');
    expect(dhcp!.publicAllocations.map((a) => a.account)).toEqual(['DYN-A']);
    expect(dhcp!.blocks).toEqual([]);
    expect(block!.addressClass).toBe('cgnat-outside');
    expect(block!.blocks.map((b) => b.insideIp.text)).toEqual(['100.64.0.12']);
    expect([...block!.inside.keys()]).toEqual(['cgn-a|100.64.0.12']);
    expect(block!.inside.get('cgn-a|100.64.0.12')!.map((a) => a.account)).toEqual(['MOB-1']);
    expect(session!.sessions.map((s) => s.insideIp.text).sort()).toEqual(['100.64.1.20', '100.64.1.21']);
    expect(server!.addressClass).toBe('server');
    expect([server!.publicAllocations, server!.blocks, server!.sessions, server!.inside.size]).toEqual([[], [], [], 0]);
  });

  test('wider fetch windows read the rows of every reading, merged into disjoint windows', async () => {
    const [f] = (
      await fetchPlans(store, plans([{ sourceIp: '198.51.100.7', time: T('11:59:00') }]), (o) => [
        o.window,
        { start: o.window.start + 3_600_000, end: o.window.end + 3_600_000 },
        { start: o.window.start, end: o.window.end + 10_000 },
      ])
    ).flat();
    expect(f!.fetchWindows).toEqual([
      { start: Date.parse(T('11:59:00')), end: Date.parse(T('11:59:11')) },
      { start: Date.parse(T('12:59:00')), end: Date.parse(T('12:59:01')) },
    ]);
    expect(f!.publicAllocations.map((a) => a.account)).toEqual(['DYN-A', 'DYN-B']);
  });
});

describe('fetchRiskFacts()', () => {
  test('one read of each for the batch, gaps handed back per request and observation', async () => {
    const traces = await matchPlans(
      store,
      plans(
        [{ sourceIp: '198.51.100.7', time: T('10:00:00') }],
        [
          { sourceIp: '198.51.100.7', time: T('10:00:00') },
          { sourceIp: '203.0.113.7', time: T('09:30:00') },
        ],
      ),
    );
    const { reader, calls } = counted();
    const facts = await fetchRiskFacts(reader, traces);
    expect(Object.fromEntries(calls)).toEqual({ settings: 1, sourceCoverage: 1, subscriberTypes: 1, coverageGaps: 1 });
    expect(facts.map((f) => f.gaps.length)).toEqual([1, 2]);
    expect(facts[0]!.settings).toBe(facts[1]!.settings);
  });
});
