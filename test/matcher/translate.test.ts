import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { planRequest } from '../../matcher/plan.js';
import { translateObservation } from '../../matcher/translate.js';
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

describe('resolve() through port blocks', () => {
  test.each([
    ['the port picks the block', 1300, ['MOB-1']],
    ['the last port of a block', 1535, ['MOB-1']],
    ['the first port of the next block', 1536, ['MOB-2']],
    ['a port in no block', 900, []],
  ] as const)('%s', async (_name, sourcePort, expected) => {
    expect((await accounts([{ sourceIp: '203.0.113.7', sourcePort, time: T('09:30:00') }])).accounts).toEqual(expected);
  });

  test('without a port, every block on the address: a multi-customer answer', async () => {
    const r = await accounts([{ sourceIp: '203.0.113.7', time: T('09:30:00') }]);
    expect(r.accounts).toEqual(['MOB-1', 'MOB-2']);
    expect(r.result.observations[0]!.path).toEqual(['nat-block', 'allocation']);
  });

  test('chaining: the inside allocation must overlap the part of the window in which the block held', async () => {
    // Window 08:30–10:30; the block holds 09:00–10:30 of it; MOB-1 held the inside address until 10:00, MOB-1B after.
    const r = await accounts([{ sourceIp: '203.0.113.7', sourcePort: 1300, time: { from: T('08:30:00'), to: T('10:30:00') } }]);
    expect(r.accounts).toEqual(['MOB-1', 'MOB-1B']);
    // Window 08:00–08:59: the block did not hold yet, so nobody, though MOB-1 held the inside address.
    expect((await accounts([{ sourceIp: '203.0.113.7', sourcePort: 1300, time: { from: T('08:00:00'), to: T('08:59:00') } }])).accounts).toEqual([]);
  });

  test('realms are kept apart: the same inside address in another realm is not chained', async () => {
    const r = await accounts([{ sourceIp: '203.0.113.7', sourcePort: 1300, time: T('09:30:00') }]);
    expect(r.accounts).not.toContain('OTHER-REALM');
  });

  test('a protocol-specific block only matches its protocol', async () => {
    expect((await accounts([{ sourceIp: '203.0.113.8', sourcePort: 1100, protocol: 'udp', time: T('09:30:00') }])).accounts).toEqual(['MOB-2']);
    expect((await accounts([{ sourceIp: '203.0.113.8', sourcePort: 1100, protocol: 'tcp', time: T('09:30:00') }])).accounts).toEqual([]);
  });

  test('evidence names the block and the allocation with their intervals', async () => {
    const r = await accounts([{ sourceIp: '203.0.113.7', sourcePort: 1300, time: T('09:30:00') }]);
    expect(r.result.candidates[0]!.evidence.map((e) => [e.kind, e.start, e.end])).toEqual([
      ['nat-block', '2026-03-28T09:00:00.000Z', '2026-03-28T11:00:00.000Z'],
      ['allocation', '2026-03-28T08:00:00.000Z', '2026-03-28T10:00:00.000Z'],
    ]);
  });
});

describe('resolve() through per-session NAT records', () => {
  test.each([
    ['destination narrows to one session', { destinationIp: '192.0.2.80' }, ['SES-1']],
    ['destination port alone does not narrow (both 443)', { destinationPort: 443 }, ['SES-1', 'SES-2']],
    ['no destination: every session on the port', {}, ['SES-1', 'SES-2']],
    ['a destination no session went to', { destinationIp: '192.0.2.1' }, []],
    ['protocol disagrees', { protocol: 'udp' as const }, []],
  ] as const)('%s', async (_name, extra, expected) => {
    expect((await accounts([{ sourceIp: '203.0.113.70', sourcePort: 40001, time: T('10:00:00'), ...extra }])).accounts).toEqual(expected);
  });

  test('a session that ended before the window does not count', async () => {
    expect((await accounts([{ sourceIp: '203.0.113.70', sourcePort: 40001, time: T('10:03:00') }])).accounts).toEqual(['SES-1']);
  });
});

describe('resolve() through deterministic NAT', () => {
  test('the port reverses to one inside address (vpp-det44: 100.65.0.5 holds 203.0.113.128:6064–7071)', async () => {
    const r = await accounts([{ sourceIp: '203.0.113.128', sourcePort: 6064, time: T('10:00:00') }]);
    expect(r.accounts).toEqual(['DET-5']);
    expect(r.result.observations[0]!.path).toEqual(['nat-deterministic', 'allocation']);
  });
  test('the next share belongs to the next inside address', async () => {
    expect((await accounts([{ sourceIp: '203.0.113.128', sourcePort: 7072, time: T('10:00:00') }])).accounts).toEqual(['DET-6']);
  });
  test('a reserved port resolves to nobody and says why', async () => {
    const r = await accounts([{ sourceIp: '203.0.113.128', sourcePort: 80, time: T('10:00:00') }]);
    expect(r.accounts).toEqual([]);
    expect(r.result.observations[0]!.outcome).toBe('unresolvable-port');
  });
  test('without a port, every inside address sharing the outside address', async () => {
    expect((await accounts([{ sourceIp: '203.0.113.128', time: T('10:00:00') }])).accounts).toEqual(['DET-5', 'DET-6']);
  });
});

describe('translateObservation(): NAT rows to inside hosts, each with its sub-window', () => {
  const stored = <K extends string>(kind: K, id: string, o: object) => {
    const [r] = records({ kind, ...o });
    if (r?.kind !== kind) throw new Error(`not a ${kind}`);
    return { ...(r as Extract<typeof r, { kind: K }>), id };
  };
  const block = stored('nat-block', 'blk', {
    realm: 'cgn-a',
    insideIp: '100.64.0.12',
    outsideIp: '203.0.113.7',
    portFirst: 1024,
    portLast: 1535,
    protocol: 'tcp',
    start: T('09:00:00'),
    end: T('11:00:00'),
  });
  const session = stored('nat-session', 'ses', {
    realm: 'cgn-s',
    insideIp: '100.64.1.20',
    insidePort: 50000,
    outsideIp: '203.0.113.7',
    outsidePort: 1300,
    destinationIp: '192.0.2.80',
    destinationPort: 443,
    protocol: 'tcp',
    start: T('10:00:00'),
    end: T('10:05:00'),
  });
  const observation = (o: Partial<Obs>) => {
    const p = planRequest({ ref: 'X', observations: [{ sourceIp: '203.0.113.7', sourcePort: 1300, time: { from: T('08:30:00'), to: T('10:30:00') }, ...o }] });
    if (!p.ok) throw new Error(JSON.stringify(p.errors));
    return p.value.observations[0]!;
  };
  const rows = (addressClass: 'cgnat-outside' | 'dynamic') => ({ addressClass, blocks: [block], sessions: [session], deterministic: [] });
  const iso = (ms: number) => new Date(ms).toISOString();

  test.each([
    [
      'a CGNAT address: the block, cut to where it held, then the session',
      'cgnat-outside',
      {},
      [
        ['blk', '100.64.0.12', '09:00:00', '10:30:00'],
        ['ses', '100.64.1.20', '10:00:00', '10:05:00'],
      ],
      0,
    ],
    ['a dynamic address does not go through NAT', 'dynamic', {}, [], 0],
    ['another protocol: neither the tcp block nor the tcp session', 'cgnat-outside', { protocol: 'udp' }, [], 1],
    ['another destination drops the session, counted', 'cgnat-outside', { destinationIp: '192.0.2.99' }, [['blk', '100.64.0.12', '09:00:00', '10:30:00']], 1],
  ] as const)('%s', (_name, addressClass, o, expected, excluded) => {
    const t = translateObservation(observation(o), rows(addressClass));
    expect(t.translations.map((x) => [x.record.id, x.inside.text, iso(x.window.start), iso(x.window.end)])).toEqual(
      expected.map(([id, inside, s, e]) => [id, inside, T(s).replace('Z', '.000Z'), T(e).replace('Z', '.000Z')]),
    );
    expect(t.sessionsExcluded).toBe(excluded);
  });
});
