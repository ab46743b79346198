import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { disagreeingIdentifiers, emptyMatches, identify } from '../../matcher/identify.js';
import type { RequestInput } from '../../src/request.js';
import type { SqliteStore } from '../../src/store/sqlite/store.js';
import { records } from '../support/index.js';
import { accountsIn, operatorStore, SMALL_OPERATOR, T, type Obs } from './operators.js';

let store: SqliteStore;
beforeAll(() => {
  store = operatorStore(SMALL_OPERATOR);
});
afterAll(() => store.close());

const accounts = (observations: Obs[], extra: Partial<RequestInput> = {}) => accountsIn(store, observations, extra);

describe('resolve() through dynamic allocations and delegated prefixes', () => {
  test.each([
    ['inside the lease', '198.51.100.7', T('10:00:00'), 0, ['DYN-A']],
    ['the boundary second, no tolerance: the next lease only (start inclusive)', '198.51.100.7', T('12:00:00'), 0, ['DYN-B']],
    ['the last second of the first lease (end exclusive)', '198.51.100.7', T('11:59:59'), 0, ['DYN-A']],
    ['the last second with 1 s tolerance reaches the next lease', '198.51.100.7', T('11:59:59'), 1, ['DYN-A', 'DYN-B']],
    ['the last millisecond written in ms: one lease', '198.51.100.7', '2026-03-28T11:59:59.999Z', 0, ['DYN-A']],
    ['written to the minute: the whole minute is searched, ending at the boundary', '198.51.100.7', '2026-03-28T11:59Z', 0, ['DYN-A']],
    ['written to the minute with 1 s tolerance: the minute plus a second reaches the next lease', '198.51.100.7', '2026-03-28T11:59Z', 1, ['DYN-A', 'DYN-B']],
    ['written to the second, the same second plus 1 s tolerance', '198.51.100.7', '2026-03-28T11:58:58Z', 1, ['DYN-A']],
    ['an open static record from last year', '198.51.100.8', T('10:00:00'), 0, ['OPEN']],
    ['an address inside a delegated /56', '2001:db8:1234:56ff::42', T('10:00:00'), 0, ['PD']],
    ['an address outside the /56', '2001:db8:1234:5700::1', T('10:00:00'), 0, []],
    ['before any lease', '198.51.100.7', T('07:00:00'), 0, []],
  ] as const)('%s', async (_name, sourceIp, time, toleranceSeconds, expected) => {
    const r = await accounts([{ sourceIp, time }], { toleranceSeconds });
    expect(r.accounts).toEqual(expected);
    expect(r.status).toBe(expected.length === 0 ? 'none' : expected.length === 1 ? 'unique' : 'multiple');
  });

  test('a range covers every lease it overlaps', async () => {
    expect((await accounts([{ sourceIp: '198.51.100.7', time: { from: T('11:00:00'), to: T('13:00:00') } }])).accounts).toEqual(['DYN-A', 'DYN-B']);
  });

  test('a local wall-clock time in a zone', async () => {
    // 28 March 2026 is still GMT in London; in Paris it is UTC+1.
    expect((await accounts([{ sourceIp: '198.51.100.7', time: { local: '2026-03-28T12:30:00', timeZone: 'Europe/London' } }])).accounts).toEqual(['DYN-B']);
    expect((await accounts([{ sourceIp: '198.51.100.7', time: { local: '2026-03-28T12:30:00', timeZone: 'Europe/Paris' } }])).accounts).toEqual(['DYN-A']);
  });
});

describe('resolve() identifiers', () => {
  test('an identifier narrows the allocations that carry it', async () => {
    expect((await accounts([{ sourceIp: '203.0.113.7', time: T('09:30:00') }], { identifiers: { imsi: '234150000000002' } })).accounts).toEqual(['MOB-2']);
  });

  test('an identifier the allocations do not carry excludes nothing', async () => {
    expect((await accounts([{ sourceIp: '198.51.100.7', time: T('10:00:00') }], { identifiers: { imsi: '234150000000002' } })).accounts).toEqual(['DYN-A']);
  });
});

describe('identify(): allocations covering a window, narrowed by identifiers', () => {
  const allocation = (id: string, o: object) => {
    const [r] = records({ kind: 'allocation', ip: '198.51.100.7', start: T('08:00:00'), end: T('12:00:00'), source: 'dhcp', ...o });
    if (r?.kind !== 'allocation') throw new Error('not an allocation');
    return { ...r, id };
  };
  const w = (from: string, to: string) => ({ start: Date.parse(T(from)), end: Date.parse(T(to)) });

  test.each([
    ['no identifiers asked: nothing disagrees', { imsi: '234150000000001' }, {}, []],
    ['the same IMSI', { imsi: '234150000000001' }, { imsi: '234150000000001' }, []],
    ['another IMSI', { imsi: '234150000000001' }, { imsi: '234150000000002' }, ['imsi']],
    ['an identifier the record does not carry', {}, { imsi: '234150000000002' }, []],
    [
      'two kinds differ, in catalogue order',
      { imsi: '234150000000001', mac: '02:00:00:00:00:01' },
      { mac: '02:00:00:00:00:02', imsi: '234150000000002' },
      ['imsi', 'mac'],
    ],
  ] as const)('disagreeingIdentifiers: %s', (_name, carried, wanted, kinds) => {
    expect(disagreeingIdentifiers(allocation('a', { account: 'A', ...carried }), wanted)).toEqual(kinds);
  });

  test('only allocations overlapping the window count; a disagreeing one is recorded as an exclusion, not an account', () => {
    const m = emptyMatches();
    const rows = [
      allocation('a', { account: 'A', imsi: '234150000000001' }),
      allocation('b', { account: 'B', imsi: '234150000000002' }),
      allocation('c', { account: 'C', start: T('12:00:00'), end: T('13:00:00') }),
    ];
    identify(m, rows, w('11:00:00', '12:00:00'), { imsi: '234150000000001' }, null);
    expect([...m.accounts.keys()]).toEqual(['A']);
    expect(m.allocations.map((a) => a.id)).toEqual(['a', 'b']);
    expect(m.exclusions).toEqual([
      { account: 'B', allocationId: 'b', kinds: ['imsi'], requested: { imsi: '234150000000001' }, recorded: { imsi: '234150000000002' } },
    ]);
  });

  test('through NAT the translation record comes first in the evidence, each record once', () => {
    const m = emptyMatches();
    const via = { kind: 'nat-block' as const, id: 'blk', start: Date.parse(T('09:00:00')), end: null, endInferred: false };
    const row = allocation('a', { account: 'A', endInferred: true });
    identify(m, [row], w('10:00:00', '10:00:01'), {}, via);
    identify(m, [row], w('10:00:00', '10:00:01'), {}, via);
    expect(m.accounts.get('A')).toEqual([via, { kind: 'allocation', id: 'a', start: row.start, end: row.end, endInferred: true }]);
  });
});
