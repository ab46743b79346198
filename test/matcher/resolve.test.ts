import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { resolveRequests } from '../../matcher/pipeline.js';
import { Result, type RequestInput } from '../../src/request.js';
import type { SqliteStore } from '../../src/store/sqlite/store.js';
import { freshStore, records } from '../helpers.js';

const T = (hms: string) => `2026-03-28T${hms}Z`;

/** A small operator: public DHCP, a CGNAT realm with port blocks, one with sessions, one deterministic, IPv6 PD. */
const OPERATOR = [
  { kind: 'address-space', prefix: '198.51.100.0/25', role: 'dynamic' },
  { kind: 'address-space', prefix: '198.51.100.240/28', role: 'server' },
  { kind: 'address-space', prefix: '203.0.113.0/26', role: 'cgnat-outside', realm: 'cgn-a' },
  { kind: 'address-space', prefix: '203.0.113.64/27', role: 'cgnat-outside', realm: 'cgn-s' },
  { kind: 'address-space', prefix: '203.0.113.128/30', role: 'cgnat-outside', realm: 'cgn-d' },
  { kind: 'address-space', prefix: '2001:db8:1000::/36', role: 'dynamic' },
  { kind: 'allocation', account: 'DYN-A', ip: '198.51.100.7', start: T('08:00:00'), end: T('12:00:00'), source: 'dhcp' },
  { kind: 'allocation', account: 'DYN-B', ip: '198.51.100.7', start: T('12:00:00'), end: T('16:00:00'), source: 'dhcp' },
  { kind: 'allocation', account: 'OPEN', ip: '198.51.100.8', start: '2025-01-01T00:00:00Z', end: null, source: 'static' },
  { kind: 'allocation', account: 'PD', ip: '2001:db8:1234:5600::/56', start: T('00:00:00'), end: null, source: 'dhcpv6-pd' },
  { kind: 'allocation', account: 'MOB-1', ip: '100.64.0.12', realm: 'cgn-a', start: T('08:00:00'), end: T('10:00:00'), source: 'radius', imsi: '234150000000001' },
  { kind: 'allocation', account: 'MOB-1B', ip: '100.64.0.12', realm: 'cgn-a', start: T('10:00:00'), end: T('14:00:00'), source: 'radius', imsi: '234150000000011' },
  { kind: 'allocation', account: 'MOB-2', ip: '100.64.0.13', realm: 'cgn-a', start: T('08:00:00'), end: T('14:00:00'), source: 'radius', imsi: '234150000000002' },
  { kind: 'allocation', account: 'OTHER-REALM', ip: '100.64.0.12', realm: 'cgn-s', start: T('08:00:00'), end: T('14:00:00'), source: 'pgw' },
  { kind: 'allocation', account: 'SES-1', ip: '100.64.1.20', realm: 'cgn-s', start: T('07:00:00'), end: T('15:00:00'), source: 'pgw' },
  { kind: 'allocation', account: 'SES-2', ip: '100.64.1.21', realm: 'cgn-s', start: T('07:00:00'), end: T('15:00:00'), source: 'pgw' },
  { kind: 'allocation', account: 'DET-5', ip: '100.65.0.5', realm: 'cgn-d', start: T('00:00:00'), end: null, source: 'pgw' },
  { kind: 'allocation', account: 'DET-6', ip: '100.65.0.6', realm: 'cgn-d', start: T('00:00:00'), end: null, source: 'pgw' },
  { kind: 'nat-block', realm: 'cgn-a', insideIp: '100.64.0.12', outsideIp: '203.0.113.7', portFirst: 1024, portLast: 1535, start: T('09:00:00'), end: T('11:00:00') },
  { kind: 'nat-block', realm: 'cgn-a', insideIp: '100.64.0.13', outsideIp: '203.0.113.7', portFirst: 1536, portLast: 2047, start: T('09:00:00'), end: T('11:00:00') },
  { kind: 'nat-block', realm: 'cgn-a', insideIp: '100.64.0.13', outsideIp: '203.0.113.8', portFirst: 1024, portLast: 1535, protocol: 'udp', start: T('09:00:00'), end: T('11:00:00') },
  {
    kind: 'nat-session', realm: 'cgn-s', insideIp: '100.64.1.20', insidePort: 50000, outsideIp: '203.0.113.70', outsidePort: 40001,
    destinationIp: '192.0.2.80', destinationPort: 443, protocol: 'tcp', start: T('09:59:30'), end: T('10:05:00'),
  },
  {
    kind: 'nat-session', realm: 'cgn-s', insideIp: '100.64.1.21', insidePort: 50001, outsideIp: '203.0.113.70', outsidePort: 40001,
    destinationIp: '192.0.2.99', destinationPort: 443, protocol: 'tcp', start: T('09:58:00'), end: T('10:02:00'),
  },
  {
    kind: 'nat-deterministic', realm: 'cgn-d', insidePrefix: '100.65.0.0/24', outsidePrefix: '203.0.113.128/30', portFirst: 1024, portLast: 65535,
    algorithm: 'vpp-det44', start: '2026-01-01T00:00:00Z', end: null,
  },
];

let store: SqliteStore;
beforeAll(() => {
  store = freshStore().store;
  store.write(records(...OPERATOR));
});
afterAll(() => store.close());

type Obs = RequestInput['observations'][number];
async function accounts(observations: Obs[], extra: Partial<RequestInput> = {}): Promise<{ status: string; accounts: string[]; result: Result }> {
  const [result] = await resolveRequests(store, [{ ref: 'T', observations, returnPolicy: 'allow-multiple', maxCandidates: 1000, ...extra }]);
  expect(Result.safeParse(result).success).toBe(true);
  return { status: result!.status, accounts: result!.candidates.map((c) => c.account), result: result! };
}

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

describe('resolve() cross-correlation and identifiers', () => {
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

  test('an identifier narrows the allocations that carry it', async () => {
    expect((await accounts([{ sourceIp: '203.0.113.7', time: T('09:30:00') }], { identifiers: { imsi: '234150000000002' } })).accounts).toEqual(['MOB-2']);
  });

  test('an identifier the allocations do not carry excludes nothing', async () => {
    expect((await accounts([{ sourceIp: '198.51.100.7', time: T('10:00:00') }], { identifiers: { imsi: '234150000000002' } })).accounts).toEqual(['DYN-A']);
  });
});

describe('resolve() classification and disclosure policy', () => {
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
  test.each([
    ['a server address', '198.51.100.241', 'server', 'server-address'],
    ['an address the operator does not hold', '192.0.2.200', 'not-operator', 'not-operator-address'],
    ['an operator address with no record', '198.51.100.50', 'dynamic', 'no-record'],
  ])('%s', async (_name, sourceIp, addressClass, outcome) => {
    const [r] = await resolveRequests(store, [{ ref: 'P', observations: [{ sourceIp, time: T('10:00:00') }] }]);
    expect(r!.status).toBe('none');
    expect(r!.observations[0]).toMatchObject({ addressClass, outcome });
  });
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

describe('resolve() in the store\'s preferred batches', () => {
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
