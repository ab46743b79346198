import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { estimateRequests } from '../../matcher/pipeline.js';
import { Estimate, type Advice, type RequestInput, type Result } from '../../src/request.js';
import type { SqliteStore } from '../../src/store/sqlite/store.js';
import { operatorStore, resolveIn, riskStore, SMALL_OPERATOR, T, type Obs } from './operators.js';

const S = (hms: string) => T(hms, '2026-07-01');
/** Summer (BST): 198.51.100.8 passes from A to B at 09:30Z. */
const SUMMER = [
  { kind: 'address-space', prefix: '198.51.100.0/25', role: 'dynamic' },
  { kind: 'allocation', account: 'A', ip: '198.51.100.8', start: S('06:00:00'), end: S('09:30:00'), source: 'dhcp' },
  { kind: 'allocation', account: 'B', ip: '198.51.100.8', start: S('09:30:00'), end: S('18:00:00'), source: 'dhcp' },
];

let risky: SqliteStore;
let small: SqliteStore;
let summer: SqliteStore;
beforeAll(() => {
  risky = riskStore();
  small = operatorStore(SMALL_OPERATOR);
  summer = operatorStore(SUMMER);
});
afterAll(() => {
  for (const s of [risky, small, summer]) s.close();
});

const ofKind = <K extends Advice['kind']>(r: Result, kind: K) => r.advice.filter((a): a is Extract<Advice, { kind: K }> => a.kind === kind);

/** Each piece of advice, the request it is given for, and what it must say, read from the records of that operator. */
describe('advice: each piece tested against the records it relies on', () => {
  const cases: [name: string, store: () => SqliteStore, obs: Obs[], extra: Partial<RequestInput>, kind: Advice['kind'], expected: object][] = [
    // M1 holds ports 1024–1535 and M2 1536–2047 of 203.0.113.7 until 10:00: disjoint blocks.
    [
      'source-port, disjoint blocks: a port singles out one',
      () => risky,
      [{ sourceIp: '203.0.113.7', time: T('09:00:00') }],
      {},
      'source-port',
      { observation: 0, insideHosts: 2, worstCase: 1 },
    ],
    // At 10:00 ports 1024–1535 pass from M1 to M2: inside the window a port in that range fits both.
    [
      'source-port, a block handed over inside the window: at most two',
      () => risky,
      [{ sourceIp: '203.0.113.7', time: T('09:59:59') }],
      {},
      'source-port',
      { observation: 0, insideHosts: 2, worstCase: 2 },
    ],
    // Both subscribers' radius records carry IMSIs.
    [
      'device-identifier: the IMSIs the records carry',
      () => risky,
      [{ sourceIp: '203.0.113.7', time: T('09:00:00') }],
      {},
      'device-identifier',
      { identifier: 'imsi', carried: 2, of: 2 },
    ],
    // A's lease of 198.51.100.8 ends at 12:00, B's at 18:00.
    [
      'another-observation: the leases diverge at 12:00',
      () => risky,
      [{ sourceIp: '198.51.100.8', time: T('11:59:59') }],
      {},
      'another-observation',
      { after: '2026-03-28T12:00:00.000Z', remaining: 1, of: 2 },
    ],
    // Two sessions on 203.0.113.70:40001 around 10:00, each with its destination.
    [
      'destination: session logs with destinations for this address',
      () => small,
      [{ sourceIp: '203.0.113.70', sourcePort: 40001, time: T('10:00:00') }],
      {},
      'destination',
      { observation: 0, sessions: 2 },
    ],
    // BST written as Z: an hour earlier names A; the policy allows it, so A is named.
    [
      'confirm-time-zone: the answer under the hour earlier',
      () => summer,
      [{ sourceIp: '198.51.100.8', time: S('10:00:00') }],
      { returnPolicy: 'allow-multiple' },
      'confirm-time-zone',
      { readings: expect.arrayContaining([{ reading: 'minus-1h', observation: 0, candidateCount: 1, accounts: ['A'] }]) },
    ],
  ];
  test.each(cases)('%s', async (_name, store, obs, extra, kind, expected) => {
    const r = await resolveIn(store(), obs, extra);
    const advice = ofKind(r, kind);
    expect(advice, JSON.stringify(r.advice)).toHaveLength(1);
    expect(advice[0]).toMatchObject(expected);
    expect(advice[0]!.message.length).toBeGreaterThan(20);
  });

  test('no advice for a robust unique answer', async () => {
    const r = await resolveIn(risky, [
      { sourceIp: '198.51.100.7', time: T('10:00:00') },
      { sourceIp: '198.51.100.7', time: T('11:00:00') },
    ]);
    expect(r.status).toBe('unique');
    expect(r.advice).toEqual([]);
  });

  test('no identifier advice for an identifier the request already gave', async () => {
    const r = await resolveIn(risky, [{ sourceIp: '203.0.113.7', time: T('09:59:59') }], { identifiers: { imsi: '234150000000002' } });
    expect(ofKind(r, 'device-identifier')).toEqual([]);
  });

  test('under single-only a reading that names one account is named; withheld identities are not', async () => {
    const r = await resolveIn(summer, [{ sourceIp: '198.51.100.8', time: S('10:00:00') }]);
    expect(ofKind(r, 'confirm-time-zone')[0]!.readings.find((x) => x.reading === 'minus-1h')).toEqual({
      reading: 'minus-1h',
      observation: 0,
      candidateCount: 1,
      accounts: ['A'],
    });
  });

  test("an estimate carries the same advice without any reading's accounts", async () => {
    const [e] = await estimateRequests(summer, [{ ref: 'E', observations: [{ sourceIp: '198.51.100.8', time: S('10:00:00') }], toleranceSeconds: 1 }]);
    const parsed = Estimate.parse(e);
    const zone = parsed.advice.find((a) => a.kind === 'confirm-time-zone');
    expect(zone).toBeDefined();
    expect(JSON.stringify(parsed)).not.toMatch(/"A"|"B"/);
    expect(parsed.assessment).toMatch(/^unique under the time as written; could be wrong: under an hour earlier/);
  });
});
