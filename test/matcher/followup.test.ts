import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { edgeHolders, holderReach, holderWindows } from '../../matcher/followup.js';
import type { Support } from '../../matcher/identify.js';
import { READING_PLAUSIBILITY, readingPlausibility, type ReadingFacts } from '../../matcher/severity.js';
import { planRequest } from '../../matcher/plan.js';
import { estimateRequests } from '../../matcher/pipeline.js';
import type { Advice, Result } from '../../src/request.js';
import { CoverageRecorder } from '../../src/store/core/coverage.js';
import type { SourceCoverage } from '../../src/store/types.js';
import type { SqliteStore } from '../../src/store/sqlite/store.js';
import { storeSettings } from '../../src/store/core/bounds.js';
import { records } from '../support/index.js';
import { accountsIn, operatorStore, risk, T, type Obs } from './operators.js';

/**
 * The records around a none answer (issue 18): on 198.51.100.30 P1 holds until 09:00, then
 * dhcp's records are lost (a declared gap 09:00–10:00), then P2 from 10:00. On
 * 198.51.100.31, from `dense` (a source that logs so often a silence would show), R1 until
 * 09:00 and R2 from 10:00, no gap. Behind NAT, 203.0.113.80's block holds for the inside
 * host 100.64.5.5 all morning, but its allocations (Q1 until 09:00, Q2 from 10:00) miss
 * the hour between. PAIR-A and PAIR-B share 198.51.100.32's lease history for the
 * policy test: both held it up to 09:00.
 */
const OPERATOR = [
  { kind: 'address-space', prefix: '198.51.100.0/25', role: 'dynamic' },
  { kind: 'address-space', prefix: '203.0.113.64/27', role: 'cgnat-outside', realm: 'cgn-f' },
  { kind: 'allocation', account: 'P1', ip: '198.51.100.30', start: T('06:00:00'), end: T('09:00:00'), source: 'dhcp' },
  { kind: 'allocation', account: 'P2', ip: '198.51.100.30', start: T('10:00:00'), end: T('12:00:00'), source: 'dhcp' },
  { kind: 'coverage', source: 'dhcp', start: T('09:00:00'), end: T('10:00:00'), status: 'gap' },
  { kind: 'allocation', account: 'R1', ip: '198.51.100.31', start: T('06:00:00'), end: T('09:00:00'), source: 'dense' },
  { kind: 'allocation', account: 'R2', ip: '198.51.100.31', start: T('10:00:00'), end: T('12:00:00'), source: 'dense' },
  { kind: 'allocation', account: 'PAIR-A', ip: '198.51.100.32', start: T('06:00:00'), end: T('09:00:00'), source: 'dhcp' },
  { kind: 'allocation', account: 'PAIR-B', ip: '198.51.100.32', start: T('07:00:00'), end: T('09:00:00'), source: 'dhcp' },
  { kind: 'allocation', account: 'Q1', ip: '100.64.5.5', realm: 'cgn-f', start: T('06:00:00'), end: T('09:00:00'), source: 'ffeed' },
  { kind: 'allocation', account: 'Q2', ip: '100.64.5.5', realm: 'cgn-f', start: T('10:00:00'), end: T('12:00:00'), source: 'ffeed' },
  {
    kind: 'nat-block',
    realm: 'cgn-f',
    insideIp: '100.64.5.5',
    outsideIp: '203.0.113.80',
    portFirst: 1024,
    portLast: 2047,
    start: T('06:00:00'),
    end: T('12:00:00'),
  },
];

let store: SqliteStore;
beforeAll(() => {
  store = operatorStore(OPERATOR);
  // What each source covered as an ingest records it; `dense` logs 100 events a minute, so a silence of minutes would show.
  const recorder = new CoverageRecorder();
  recorder.observe(records(...OPERATOR));
  store.recordCoverage(recorder.report().map((c) => (c.source === 'dense' ? { ...c, events: 36_000 } : c)));
});
afterAll(() => store.close());

const resolve = async (observations: Obs[], extra = {}) => (await accountsIn(store, observations, extra)).result;
const confirmRecords = (r: Result) => r.advice.find((a): a is Extract<Advice, { kind: 'confirm-records' }> => a.kind === 'confirm-records');
const readingsOf = (r: Result, observation: number | 'all') =>
  (r.risks.find((k) => k.code === 'RECORD_READING_FINDS_MORE' && k.detail['observation'] === observation)?.detail['readings'] ?? []) as {
    reading: string;
    candidateCount: number;
    added: number;
    plausible: boolean;
    why: string;
  }[];

describe('RECORD_READING_FINDS_MORE: the records around an observation that matched nobody', () => {
  test.each([
    ['in a declared gap: the holders either side', [{ sourceIp: '198.51.100.30', time: T('09:30:00') }], { 'held-before': ['P1'], 'held-after': ['P2'] }],
    [
      'behind NAT, an inside host no allocation holds: its own holders either side',
      [{ sourceIp: '203.0.113.80', sourcePort: 1100, time: T('09:30:00') }],
      { 'held-before': ['Q1'], 'held-after': ['Q2'] },
    ],
    [
      'outside what the sources covered: the holder when the logs stop',
      [{ sourceIp: '198.51.100.30', time: '2027-06-28T10:00:00Z' }],
      { 'held-before': ['P2'] },
    ],
  ] as const)('%s', async (_name, observations, expected) => {
    const r = await resolve([...observations]);
    expect(r.status).toBe('none');
    const flag = risk(r, 'RECORD_READING_FINDS_MORE')!;
    expect(flag.severity).toBe('material');
    expect(flag.kind).toBe('false-negative');
    const readings = readingsOf(r, 0);
    for (const [reading, accounts] of Object.entries(expected)) {
      expect(readings.find((x) => x.reading === reading)).toMatchObject({ candidateCount: accounts.length, added: accounts.length, plausible: true });
      expect(flag.message).toContain(`under ${reading} ${accounts.length} accounts would fit (${accounts.length} the answer lacks)`);
      expect(confirmRecords(r)!.readings.find((x) => x.reading === reading)).toMatchObject({ observation: 0, candidateCount: accounts.length, accounts });
    }
    expect(readings.every((x) => x.why.startsWith('its records may be lost: '))).toBe(true);
  });

  test('where the coverage is not in doubt (a dense source, no gap), the readings are tried but are notes', async () => {
    // Alone in a store: with nothing matched every allocation source counts, so dhcp's gap would put it in doubt.
    const only = OPERATOR.filter((r) => r.kind === 'address-space' || r.source === 'dense');
    const dense = operatorStore(only);
    const recorder = new CoverageRecorder();
    recorder.observe(records(...only));
    dense.recordCoverage(recorder.report().map((c) => ({ ...c, events: 36_000 })));
    const r = (await accountsIn(dense, [{ sourceIp: '198.51.100.31', time: T('09:30:00') }])).result;
    dense.close();
    expect(r.status).toBe('none');
    const flag = risk(r, 'RECORD_READING_FINDS_MORE')!;
    expect(flag.severity).toBe('note');
    expect(readingsOf(r, 0).map((x) => [x.reading, x.plausible])).toEqual([
      ['held-before', false],
      ['held-after', false],
    ]);
    expect(confirmRecords(r)).toBeUndefined();
    expect(r.risks.filter((k) => k.severity === 'material')).toEqual([]);
  });

  test('several observations: without the one whose records may be lost, the others name the account', async () => {
    const r = await resolve([
      { sourceIp: '198.51.100.30', time: T('11:00:00') },
      { sourceIp: '198.51.100.30', time: T('09:30:00') },
    ]);
    expect(r.status).toBe('none');
    const joint = r.risks.find((k) => k.code === 'RECORD_READING_FINDS_MORE' && k.detail['observation'] === 'all')!;
    expect(joint.severity).toBe('material');
    expect(joint.message).toContain('all 2 observations read together: where records may be lost, under without-observations 1 accounts would fit');
    expect(confirmRecords(r)!.readings.find((x) => x.reading === 'without-observations')).toEqual({
      reading: 'without-observations',
      observation: 'all',
      candidateCount: 1,
      accounts: ['P2'],
    });
    // Observation 1 alone re-read: its holder after the gap, P2, also fits observation 0.
    expect(readingsOf(r, 1).find((x) => x.reading === 'held-after')).toMatchObject({ candidateCount: 1, plausible: true });
  });

  test('an answered request tries none of them', async () => {
    const r = await resolve([{ sourceIp: '198.51.100.30', time: T('11:00:00') }]);
    expect(r.status).toBe('unique');
    expect(JSON.stringify(r)).not.toMatch(/held-before|held-after|without-observations|RECORD_READING/);
  });

  test('identities only where the policy would disclose that set; an estimate gives counts only', async () => {
    const single = await resolve([{ sourceIp: '198.51.100.32', time: T('09:30:00') }], { returnPolicy: 'single-only' });
    const before = confirmRecords(single)!.readings.find((x) => x.reading === 'held-before')!;
    expect(before).toEqual({ reading: 'held-before', observation: 0, candidateCount: 2 });
    const multiple = await resolve([{ sourceIp: '198.51.100.32', time: T('09:30:00') }]);
    expect(confirmRecords(multiple)!.readings.find((x) => x.reading === 'held-before')!.accounts).toEqual(['PAIR-A', 'PAIR-B']);
    const [estimate] = await estimateRequests(store, [
      { ref: 'E', observations: [{ sourceIp: '198.51.100.30', time: T('09:30:00') }], returnPolicy: 'allow-multiple', maxCandidates: 100 },
    ]);
    const advice = estimate!.advice.find((a) => a.kind === 'confirm-records');
    expect(advice?.kind === 'confirm-records' && advice.readings.map((x) => [x.reading, x.candidateCount])).toEqual([
      ['held-before', 1],
      ['held-after', 1],
    ]);
    expect(JSON.stringify(estimate)).not.toMatch(/"P1"|"P2"/);
  });
});

describe('the rules as data', () => {
  const settings = storeSettings([], []);
  const facts = (index: number, matched: number, doubt: string | null): ReadingFacts => {
    const p = planRequest({ ref: 'R', observations: [{ sourceIp: '198.51.100.30', time: T('09:30:00') }] });
    if (!p.ok) throw new Error('invalid');
    return { observation: { ...p.value.observations[0]!, index }, settings, toleranceMs: 0, answer: 0, matched, doubt };
  };

  test.each([
    ['in doubt', 'COVERAGE_GAP', true],
    ['not in doubt', null, false],
  ] as const)('held-before, held-after and without-observations, one observation %s', (_name, doubt, plausible) => {
    for (const reading of ['held-before', 'held-after', 'without-observations'] as const)
      expect(READING_PLAUSIBILITY[reading].plausible(facts(0, 0, doubt)).plausible, reading).toBe(plausible);
  });

  test.each([
    ['every observation that matched nobody is in doubt', [facts(0, 1, null), facts(1, 0, 'COVERAGE_GAP')], true],
    ['one that matched nobody is not in doubt', [facts(0, 0, null), facts(1, 0, 'COVERAGE_GAP')], false],
    ['none matched nobody', [facts(0, 1, null), facts(1, 1, null)], false],
  ] as const)('a joint record reading: %s', (_name, list, plausible) => {
    expect(readingPlausibility('without-observations', null, list).plausible).toBe(plausible);
    expect(readingPlausibility('held-before', null, list).plausible).toBe(plausible);
  });

  test.each([
    [
      'within the span: an hour of reach either side of the window',
      { start: 10_000, end: 12_000 },
      [] as SourceCoverage[],
      3_600_000,
      [-3_590_000, 10_000, 12_000, 3_612_000],
    ],
    [
      'after what the sources covered: the reach before the last event',
      { start: 100_000_000, end: 100_002_000 },
      [{ first: 0, last: 50_000_000 }],
      3_600_000,
      [46_400_001, 50_000_001, 100_002_000, 103_602_000],
    ],
    [
      'before what the sources covered: the reach after the first event',
      { start: 1_000, end: 2_000 },
      [{ first: 50_000_000, last: 60_000_000 }],
      3_600_000,
      [-3_599_000, 1_000, 50_000_000, 53_600_000],
    ],
  ] as const)('holderWindows: %s', (_name, window, coverage, reach, [bs, be, as, ae]) => {
    expect(holderWindows(window, reach, coverage as unknown as SourceCoverage[])).toEqual({ before: { start: bs, end: be }, after: { start: as, end: ae } });
  });

  test('holderReach: the longest record the store holds, within an hour and a day', () => {
    expect([0, 7_200_000, 10 * 86_400_000].map((longestRecordMs) => holderReach({ ...settings, longestRecordMs }))).toEqual([3_600_000, 7_200_000, 86_400_000]);
  });

  test('edgeHolders: behind NAT the hold ends with the NAT record, bounded by the allocation', () => {
    const s = (kind: Support['kind'], start: number, end: number | null): Support => ({ kind, id: `${kind}-${start}`, start, end, endInferred: false });
    const accounts = new Map<string, Support[]>([
      ['EARLY', [s('nat-block', 0, 100), s('allocation', 0, null)]],
      ['LATE', [s('nat-block', 100, 300), s('allocation', 0, 250)]],
      ['ALSO-LATE', [s('allocation', 50, 250)]],
    ]);
    expect([...edgeHolders(accounts, 'before')].sort()).toEqual(['ALSO-LATE', 'LATE']);
    expect([...edgeHolders(accounts, 'after')]).toEqual(['EARLY']);
  });
});
