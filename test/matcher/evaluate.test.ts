import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { evaluate } from '../../matcher/evaluate.js';
import { fetchPlans } from '../../matcher/fetch.js';
import { planRequest } from '../../matcher/plan.js';
import type { SqliteStore } from '../../src/store/sqlite/store.js';
import { operatorStore, SMALL_OPERATOR, T, type Obs } from './operators.js';

let store: SqliteStore;
beforeAll(() => {
  store = operatorStore(SMALL_OPERATOR);
});
afterAll(() => store.close());

const HOUR = 3_600_000;

/** One observation fetched two hours either side of its window, so other windows are evaluated in memory. */
async function fetchedWide(o: Obs) {
  const p = planRequest({ ref: 'E', observations: [o] });
  if (!p.ok) throw new Error(JSON.stringify(p.errors));
  const [f] = (await fetchPlans(store, [p.value], (x) => [{ start: x.window.start - 2 * HOUR, end: x.window.end + 2 * HOUR }])).flat();
  return f!;
}

describe('evaluate(): one observation over its fetched rows, in memory', () => {
  test.each([
    ['a dynamic address', { sourceIp: '198.51.100.7', time: T('10:00:00') }, 'matched', ['allocation'], ['DYN-A']],
    ['a dynamic address nobody held', { sourceIp: '198.51.100.50', time: T('10:00:00') }, 'no-record', [], []],
    ['a port block', { sourceIp: '203.0.113.7', sourcePort: 1300, time: T('09:30:00') }, 'matched', ['nat-block', 'allocation'], ['MOB-1']],
    [
      'a session log',
      { sourceIp: '203.0.113.70', sourcePort: 40001, destinationIp: '192.0.2.80', time: T('10:00:00') },
      'matched',
      ['nat-session', 'allocation'],
      ['SES-1'],
    ],
    ['a deterministic share', { sourceIp: '203.0.113.128', sourcePort: 6064, time: T('10:00:00') }, 'matched', ['nat-deterministic', 'allocation'], ['DET-5']],
    ['a reserved port under deterministic NAT', { sourceIp: '203.0.113.128', sourcePort: 80, time: T('10:00:00') }, 'unresolvable-port', [], []],
    ['a server address', { sourceIp: '198.51.100.241', time: T('10:00:00') }, 'server-address', [], []],
    ['an address the operator does not hold', { sourceIp: '192.0.2.200', time: T('10:00:00') }, 'not-operator-address', [], []],
  ] as const)('%s: %s', async (_name, o, outcome, path, accounts) => {
    const f = await fetchedWide(o);
    const t = evaluate(f, f.observation.window);
    expect(t.outcome).toBe(outcome);
    expect(t.path).toEqual(path);
    expect([...t.matches.accounts.keys()].sort()).toEqual(accounts);
    expect(t.observation).toBe(f.observation);
  });

  test.each([
    ['as written', 0, ['DYN-A']],
    ['an hour later, after the lease changed hands', HOUR, ['DYN-B']],
    ['twenty minutes later, across the 12:00 boundary', HOUR / 3, ['DYN-A', 'DYN-B']],
  ] as const)('another window inside the fetched rows: %s', async (_name, shift, accounts) => {
    const f = await fetchedWide({ sourceIp: '198.51.100.7', time: { from: T('11:30:00'), to: T('11:45:00') } });
    const window = { start: f.observation.window.start + shift, end: f.observation.window.end + shift };
    const t = evaluate(f, window);
    expect([...t.matches.accounts.keys()].sort()).toEqual(accounts);
    expect(t.observation.window).toEqual(window);
  });

  test('through NAT, the chain follows the sub-window in which the block held', async () => {
    // The block holds 09:00–11:00; MOB-1 held the inside address until 10:00, MOB-1B after.
    const f = await fetchedWide({ sourceIp: '203.0.113.7', sourcePort: 1300, time: T('09:30:00') });
    expect([...evaluate(f, { start: Date.parse(T('10:30:00')), end: Date.parse(T('10:31:00')) }).matches.accounts.keys()]).toEqual(['MOB-1B']);
    const late = evaluate(f, { start: Date.parse(T('11:00:00')), end: Date.parse(T('11:01:00')) });
    expect([late.translations.length, late.matches.accounts.size, late.outcome]).toEqual([0, 0, 'no-record']);
  });
});
