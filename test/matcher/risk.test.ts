import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { estimateRequests, resolveRequests } from '../../matcher/pipeline.js';
import { RISK_CODES } from '../../matcher/risk.js';
import { Estimate, Result, type RequestInput } from '../../src/request.js';
import type { SqliteStore } from '../../src/store/sqlite/store.js';
import { freshStore, records } from '../helpers.js';

const T = (hms: string, day = '2026-03-28') => `${day}T${hms}Z`;

const OPERATOR = [
  { kind: 'address-space', prefix: '198.51.100.0/25', role: 'dynamic' },
  { kind: 'address-space', prefix: '198.51.100.240/28', role: 'server' },
  { kind: 'address-space', prefix: '192.0.2.0/28', role: 'infrastructure' },
  { kind: 'address-space', prefix: '203.0.113.0/26', role: 'cgnat-outside', realm: 'cgn-a' },
  { kind: 'address-space', prefix: '203.0.113.128/31', role: 'cgnat-outside', realm: 'cgn-d' },
  { kind: 'subscriber', account: 'HOME', type: 'residential' },
  { kind: 'subscriber', account: 'CAFE', type: 'public-wifi' },
  // 198.51.100.7: HOME all day. 198.51.100.8: A until 12:00, B after. 198.51.100.9: CAFE.
  { kind: 'allocation', account: 'HOME', ip: '198.51.100.7', start: T('00:00:00'), end: T('23:59:59'), source: 'dhcp', mac: '02:00:00:00:00:07' },
  { kind: 'allocation', account: 'A', ip: '198.51.100.8', start: T('06:00:00'), end: T('12:00:00'), source: 'dhcp', mac: '02:00:00:00:00:0a' },
  { kind: 'allocation', account: 'B', ip: '198.51.100.8', start: T('12:00:00'), end: T('18:00:00'), source: 'dhcp', mac: '02:00:00:00:00:0b' },
  { kind: 'allocation', account: 'CAFE', ip: '198.51.100.9', start: T('00:00:00'), end: null, source: 'dhcp' },
  { kind: 'allocation', account: 'LOST-STOP', ip: '198.51.100.10', start: T('09:00:00'), end: T('11:00:00'), source: 'radius', endInferred: true },
  // 12-hour trap: 198.51.100.11 is X in the morning, Y in the evening.
  { kind: 'allocation', account: 'X', ip: '198.51.100.11', start: T('00:00:00'), end: T('12:00:00'), source: 'dhcp' },
  { kind: 'allocation', account: 'Y', ip: '198.51.100.11', start: T('12:00:00'), end: T('23:59:59'), source: 'dhcp' },
  // DST, Europe/London, 25 October 2026: 01:00–02:00 BST happens, then 01:00–02:00 GMT again.
  { kind: 'allocation', account: 'FOLD-BST', ip: '198.51.100.12', start: T('00:00:00', '2026-10-25'), end: T('01:00:00', '2026-10-25'), source: 'dhcp' },
  { kind: 'allocation', account: 'FOLD-GMT', ip: '198.51.100.12', start: T('01:00:00', '2026-10-25'), end: T('02:00:00', '2026-10-25'), source: 'dhcp' },
  // CGNAT: two subscribers, blocks on 203.0.113.7; a port handed from one host to another at 10:00.
  { kind: 'allocation', account: 'M1', ip: '100.64.0.1', realm: 'cgn-a', start: T('00:00:00'), end: null, source: 'radius', imsi: '234150000000001' },
  { kind: 'allocation', account: 'M2', ip: '100.64.0.2', realm: 'cgn-a', start: T('00:00:00'), end: null, source: 'radius', imsi: '234150000000002' },
  { kind: 'nat-block', realm: 'cgn-a', insideIp: '100.64.0.1', outsideIp: '203.0.113.7', portFirst: 1024, portLast: 1535, start: T('08:00:00'), end: T('10:00:00') },
  { kind: 'nat-block', realm: 'cgn-a', insideIp: '100.64.0.2', outsideIp: '203.0.113.7', portFirst: 1024, portLast: 1535, start: T('10:00:00'), end: T('12:00:00') },
  { kind: 'nat-block', realm: 'cgn-a', insideIp: '100.64.0.2', outsideIp: '203.0.113.7', portFirst: 1536, portLast: 2047, start: T('08:00:00'), end: T('10:00:00') },
  // Deterministic with RFC 7422 dynamic shares held back.
  { kind: 'allocation', account: 'D0', ip: '100.65.0.0', realm: 'cgn-d', start: T('00:00:00'), end: null, source: 'pgw' },
  { kind: 'nat-deterministic', realm: 'cgn-d', insidePrefix: '100.65.0.0/28', outsidePrefix: '203.0.113.128/31', portFirst: 1024, portLast: 65535, algorithm: 'rfc7422', ratio: 16, dynamicShares: 2, start: T('00:00:00'), end: null },
  { kind: 'coverage', source: 'dhcp', start: T('14:00:00'), end: T('15:00:00'), status: 'gap' },
  { kind: 'coverage', source: 'cgn-a', start: T('16:00:00'), end: T('17:00:00'), status: 'gap' },
];

let store: SqliteStore;
beforeAll(() => {
  store = freshStore().store;
  store.write(records(...OPERATOR));
  store.setSetting('clockError.radius', 5000);
  store.setSetting('retentionHorizon', Date.parse('2026-01-01T00:00:00Z'));
});
afterAll(() => store.close());

type Obs = RequestInput['observations'][number];
async function resolve(observations: Obs[], extra: Partial<RequestInput> = {}): Promise<Result> {
  const [r] = await resolveRequests(store, [{ ref: 'R', observations, toleranceSeconds: 1, ...extra }]);
  expect(Result.safeParse(r).success).toBe(true);
  return r!;
}
const codes = (r: Result) => r.risks.map((k) => k.code);
const risk = (r: Result, code: string) => r.risks.find((k) => k.code === code);

describe('risk flags: each raised when its condition holds, and not otherwise', () => {
  const cases: [code: keyof typeof RISK_CODES, raised: [Obs[], Partial<RequestInput>?], quiet: [Obs[], Partial<RequestInput>?]][] = [
    ['SHARED_ADDRESS_NO_PORT', [[{ sourceIp: '203.0.113.7', time: T('09:00:00') }]], [[{ sourceIp: '203.0.113.7', sourcePort: 1100, time: T('09:00:00') }]]],
    ['ALLOCATION_BOUNDARY', [[{ sourceIp: '198.51.100.8', time: T('11:59:59') }]], [[{ sourceIp: '198.51.100.8', time: T('11:00:00') }]]],
    ['SINGLE_OBSERVATION', [[{ sourceIp: '198.51.100.7', time: T('10:00:00') }]], [[{ sourceIp: '198.51.100.7', time: T('10:00:00') }, { sourceIp: '198.51.100.7', time: T('11:00:00') }]]],
    ['SHARED_ACCOUNT', [[{ sourceIp: '198.51.100.9', time: T('10:00:00') }]], [[{ sourceIp: '198.51.100.7', time: T('10:00:00') }]]],
    ['INFERRED_END', [[{ sourceIp: '198.51.100.10', time: T('10:00:00') }]], [[{ sourceIp: '198.51.100.7', time: T('10:00:00') }]]],
    ['PORT_REUSE', [[{ sourceIp: '203.0.113.7', sourcePort: 1100, time: T('09:59:59') }]], [[{ sourceIp: '203.0.113.7', sourcePort: 1100, time: T('09:00:00') }]]],
    ['LOW_TIME_PRECISION', [[{ sourceIp: '198.51.100.7', time: '2026-03-28T10:00Z' }]], [[{ sourceIp: '198.51.100.7', time: T('10:00:00') }]]],
    ['COVERAGE_GAP', [[{ sourceIp: '198.51.100.7', time: T('14:30:00') }]], [[{ sourceIp: '198.51.100.7', time: T('13:30:00') }]]],
    ['BEYOND_RETENTION', [[{ sourceIp: '198.51.100.7', time: '2025-12-31T23:00:00Z' }]], [[{ sourceIp: '198.51.100.7', time: T('10:00:00') }]]],
    ['NOT_OPERATOR_ADDRESS', [[{ sourceIp: '198.51.100.200', time: T('10:00:00') }]], [[{ sourceIp: '198.51.100.50', time: T('10:00:00') }]]],
    ['SERVER_ADDRESS', [[{ sourceIp: '198.51.100.241', time: T('10:00:00') }]], [[{ sourceIp: '198.51.100.7', time: T('10:00:00') }]]],
    ['CONTRADICTORY_OBSERVATIONS', [[{ sourceIp: '198.51.100.7', time: T('10:00:00') }, { sourceIp: '198.51.100.9', time: T('10:00:00') }]], [[{ sourceIp: '198.51.100.7', time: T('10:00:00') }, { sourceIp: '198.51.100.50', time: T('10:00:00') }]]],
    ['EXCLUDED_BY_IDENTIFIER', [[{ sourceIp: '203.0.113.7', time: T('09:00:00') }], { identifiers: { imsi: '234150000000002' } }], [[{ sourceIp: '203.0.113.7', time: T('09:00:00') }]]],
    ['TOLERANCE_BELOW_CLOCK_ERROR', [[{ sourceIp: '198.51.100.10', time: T('10:00:00') }], { toleranceSeconds: 2 }], [[{ sourceIp: '198.51.100.10', time: T('10:00:00') }], { toleranceSeconds: 5 }]],
    ['TIME_READING_CHANGES_RESULT', [[{ sourceIp: '198.51.100.8', time: T('11:30:00') }]], [[{ sourceIp: '198.51.100.7', time: T('10:00:00') }]]],
    ['TIME_READING_FINDS_MORE', [[{ sourceIp: '198.51.100.8', time: T('05:30:00') }]], [[{ sourceIp: '198.51.100.7', time: T('10:00:00') }]]],
    ['CONNECTION_RECORDS_PROCESSED', [[{ sourceIp: '203.0.113.7', sourcePort: 1100, destinationIp: '192.0.2.80', time: T('09:00:00') }]], [[{ sourceIp: '203.0.113.7', sourcePort: 1100, time: T('09:00:00') }]]],
  ];
  test.each(cases)('%s', async (code, [raiseObs, raiseExtra], [quietObs, quietExtra]) => {
    const raised = await resolve(raiseObs, raiseExtra);
    const flagged = risk(raised, code);
    expect(flagged, `expected ${code} in ${codes(raised).join(',')}`).toBeDefined();
    expect(flagged).toMatchObject({ kind: RISK_CODES[code].kind, paragraph: RISK_CODES[code].paragraph });
    expect(flagged!.message.length).toBeGreaterThan(10);
    expect(codes(await resolve(quietObs, quietExtra))).not.toContain(code);
  });

  test('details carry the values that raised the flag', async () => {
    const r = await resolve([{ sourceIp: '203.0.113.7', sourcePort: 1100, time: T('09:59:59') }]);
    expect(risk(r, 'PORT_REUSE')!.detail).toEqual({ observation: 0, sourceIp: '203.0.113.7', sourcePort: 1100, insideHosts: 2 });
    const gap = await resolve([{ sourceIp: '198.51.100.7', time: T('14:30:00') }]);
    expect(risk(gap, 'COVERAGE_GAP')!.detail['gaps']).toEqual([{ source: 'dhcp', start: '2026-03-28T14:00:00.000Z', end: '2026-03-28T15:00:00.000Z', relation: 'overlaps-window' }]);
  });

  test('a coverage gap of a source the path does not need is not flagged', async () => {
    // cgn-a's gap at 16:00 does not concern a DHCP address (DHCP's own gap earlier that day does).
    const dhcp = risk(await resolve([{ sourceIp: '198.51.100.7', time: T('16:30:00') }]), 'COVERAGE_GAP');
    expect((dhcp?.detail['gaps'] as { source: string }[] | undefined)?.map((g) => g.source)).toEqual(['dhcp']);
    const nat = risk(await resolve([{ sourceIp: '203.0.113.7', time: T('16:30:00') }]), 'COVERAGE_GAP');
    expect((nat!.detail['gaps'] as { source: string }[]).map((g) => g.source)).toContain('cgn-a');
  });

  test('a gap before the window counts when a record that started in it could still be held', async () => {
    // HOME's lease runs all day: a lease that began in DHCP's 14:00-15:00 gap could be held at 15:30.
    const r = risk(await resolve([{ sourceIp: '198.51.100.7', time: T('15:30:00') }]), 'COVERAGE_GAP');
    expect(r!.detail['gaps']).toEqual([{ source: 'dhcp', start: '2026-03-28T14:00:00.000Z', end: '2026-03-28T15:00:00.000Z', relation: 'before-window' }]);
  });

  test('a reading that finds someone the answer lacks is a false-negative flag', async () => {
    // 198.51.100.8 at 05:30 finds nobody; an hour later A held it.
    const r = await resolve([{ sourceIp: '198.51.100.8', time: T('05:30:00') }]);
    expect(r.status).toBe('none');
    const more = risk(r, 'TIME_READING_FINDS_MORE')!;
    expect(more.kind).toBe('false-negative');
    expect((more.detail['readings'] as { reading: string; added: number }[]).map((x) => [x.reading, x.added])).toEqual([['plus-1h', 1]]);
    expect(codes(r)).not.toContain('TIME_READING_CHANGES_RESULT');
  });

  test('a clock a little beyond the tolerance: the wider reading finds the record just outside the window', async () => {
    const r = await resolve([{ sourceIp: '198.51.100.8', time: T('05:59:30') }]);
    expect(r.status).toBe('none');
    const readings = risk(r, 'TIME_READING_FINDS_MORE')!.detail['readings'] as { reading: string }[];
    expect(readings.map((x) => x.reading)).toContain('wider-tolerance');
  });

  test('every time misread the same way: the joint shift is tried on all observations together', async () => {
    // B used 198.51.100.8 at 12:30 and 12:40, both written an hour early: the answer is A.
    // Shifting one observation alone meets the other unshifted one and finds nobody new;
    // only shifting both finds B.
    const r = await resolve([{ sourceIp: '198.51.100.8', time: T('11:30:00') }, { sourceIp: '198.51.100.8', time: T('11:40:00') }]);
    expect(r.candidates.map((c) => c.account)).toEqual(['A']);
    const own = r.risks.filter((k) => k.code === 'TIME_READING_FINDS_MORE' && k.detail['observation'] !== 'all');
    expect(own).toEqual([]);
    const joint = r.risks.find((k) => k.code === 'TIME_READING_FINDS_MORE' && k.detail['observation'] === 'all');
    expect((joint!.detail['readings'] as { reading: string; added: number }[]).map((x) => [x.reading, x.added])).toEqual([['plus-1h', 1], ['any-combination', 1]]);
  });

  test('a port in an RFC 7422 dynamic share cannot be resolved by the configuration and is flagged', async () => {
    const r = await resolve([{ sourceIp: '203.0.113.128', sourcePort: 60000, time: T('10:00:00') }]);
    expect(r.status).toBe('none');
    expect(risk(r, 'SHARED_ADDRESS_NO_PORT')!.detail).toMatchObject({ sourcePort: 60000, reasons: ['dynamic-share'] });
  });

  test('contradictions give partial support as counts only', async () => {
    const r = await resolve([{ sourceIp: '198.51.100.7', time: T('10:00:00') }, { sourceIp: '198.51.100.9', time: T('10:00:00') }, { sourceIp: '198.51.100.7', time: T('11:00:00') }]);
    const detail = risk(r, 'CONTRADICTORY_OBSERVATIONS')!.detail;
    expect(detail).toEqual({ observations: 3, bestSupport: 2, supportCounts: [{ support: 1, of: 3, accounts: 1 }, { support: 2, of: 3, accounts: 1 }] });
    expect(JSON.stringify(r.risks)).not.toMatch(/HOME|CAFE/);
  });

  test('withheld results do not leak identities through flags', async () => {
    const r = await resolve([{ sourceIp: '203.0.113.7', time: T('09:00:00') }], { identifiers: { imsi: '234150000000002' } });
    const noId = await resolve([{ sourceIp: '203.0.113.7', time: T('09:00:00') }]);
    expect(noId.withheld).toBe(true);
    expect(JSON.stringify(noId)).not.toMatch(/"M1"|"M2"|100\.64\.0\.\d/);
    expect(JSON.stringify(r.risks)).not.toMatch(/"M1"|"M2"/);
  });
});

describe('time-reading sensitivity', () => {
  test('GMT/BST: an hour either side is tried for every observation, with counts', async () => {
    const r = await resolve([{ sourceIp: '198.51.100.8', time: T('11:30:00') }]);
    const readings = risk(r, 'TIME_READING_CHANGES_RESULT')!.detail['readings'] as { reading: string; candidateCount: number }[];
    expect(readings.map((x) => [x.reading, x.candidateCount])).toEqual([['plus-1h', 1]]);
    expect(r.candidates.map((c) => c.account)).toEqual(['A']);
  });

  test('a DST fold: both instants are searched and each reading reported', async () => {
    const r = await resolve([{ sourceIp: '198.51.100.12', time: { local: '2026-10-25T01:30:00', timeZone: 'Europe/London' } }], { returnPolicy: 'allow-multiple' });
    expect(r.candidates.map((c) => c.account)).toEqual(['FOLD-BST', 'FOLD-GMT']);
    const readings = risk(r, 'TIME_READING_CHANGES_RESULT')!.detail['readings'] as { reading: string; candidateCount: number }[];
    expect(readings.filter((x) => x.reading.startsWith('fold')).map((x) => [x.reading, x.candidateCount])).toEqual([['fold-first', 1], ['fold-second', 1]]);
  });

  test('a DST gap: the wall-clock time that does not exist is read shifted, and the other offset is tried', async () => {
    // 29 March 2026 01:30 does not exist in London (clocks go 01:00 GMT -> 02:00 BST).
    const r = await resolve([{ sourceIp: '198.51.100.7', time: { local: '2026-03-29T01:30:00', timeZone: 'Europe/London' } }]);
    expect(r.observations[0]!.window.start).toBe('2026-03-29T01:29:59.000Z');
  });

  test('12-hour clocks without AM/PM: the reading twelve hours apart is tried when the request says so', async () => {
    const obs: Obs = { sourceIp: '198.51.100.11', time: T('09:00:00') };
    expect(codes(await resolve([obs]))).not.toContain('TIME_READING_CHANGES_RESULT');
    const r = await resolve([{ ...obs, clock: '12h-ambiguous' }]);
    const readings = risk(r, 'TIME_READING_CHANGES_RESULT')!.detail['readings'] as { reading: string; candidateCount: number }[];
    // 21:00 the day before finds nobody; 21:00 the same day finds Y.
    expect(readings.map((x) => [x.reading, x.candidateCount])).toEqual([['minus-12h', 0], ['plus-12h', 1]]);
  });

  test('the tolerance edge: the exact instant gives another answer than the tolerant window', async () => {
    const r = await resolve([{ sourceIp: '198.51.100.8', time: T('11:59:59') }]);
    const readings = risk(r, 'TIME_READING_CHANGES_RESULT')!.detail['readings'] as { reading: string; candidateCount: number }[];
    expect(readings.find((x) => x.reading === 'exact-instant')).toMatchObject({ candidateCount: 1 });
  });
});

describe('guardrails', () => {
  const obs: Obs[] = [{ sourceIp: '198.51.100.7', time: T('10:00:00') }];
  const withDst: Obs[] = [{ sourceIp: '198.51.100.7', destinationIp: '192.0.2.80', time: T('10:00:00') }];
  test.each([
    ['a local authority giving a destination (9.14, 9.22)', withDst, { authorityType: 'local-authority', condition: 'A', purpose: 'crime' }, 'LOCAL_AUTHORITY_ICR', '9.14'],
    ['Condition D from the police', obs, { authorityType: 'police', condition: 'D', purpose: 'serious-crime' }, 'CONDITION_D_AUTHORITY', 'Condition D'],
    ['Condition D for ordinary crime', obs, { authorityType: 'national-crime-agency', condition: 'D', purpose: 'crime' }, 'CONDITION_D_PURPOSE', 'Condition D'],
    ['Condition D from a local authority', obs, { authorityType: 'local-authority', condition: 'D', purpose: 'serious-crime' }, 'LOCAL_AUTHORITY_ICR', '9.14'],
  ] as const)('refused: %s', async (_name, observations, authorisation, code, paragraph) => {
    const r = await resolve(observations, { authorisation });
    expect(r).toMatchObject({ status: 'refused', candidates: [], refusal: { code, paragraph } });
  });
  test.each([
    ['a local authority without a destination', obs, { authorityType: 'local-authority', condition: 'A', purpose: 'crime' }],
    ['Condition D from the NCA for serious crime', obs, { authorityType: 'national-crime-agency', condition: 'D', purpose: 'serious-crime' }],
    ['Condition D from the intelligence community for national security', obs, { authorityType: 'intelligence-community', condition: 'D', purpose: 'national-security' }],
  ] as const)('allowed: %s', async (_name, observations, authorisation) => {
    expect((await resolve(observations, { authorisation })).status).toBe('unique');
  });
});

describe('estimate', () => {
  test('counts per observation and combined, partial support, flags, and no identities', async () => {
    const [e] = await estimateRequests(store, [{ ref: 'E', observations: [{ sourceIp: '203.0.113.7', time: T('09:00:00') }, { sourceIp: '198.51.100.7', time: T('10:00:00') }] }]);
    expect(Estimate.parse(e)).toMatchObject({ ref: 'E', status: 'none', candidateCount: 0, supportCounts: [3, 0] });
    expect(e!.observations.map((o) => o.candidateCount)).toEqual([2, 1]);
    expect(e!.risks.map((r) => r.code)).toContain('CONTRADICTORY_OBSERVATIONS');
    expect(JSON.stringify(e)).not.toMatch(/"M1"|"M2"|HOME/);
  });
});
