import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { planRequest } from '../../matcher/plan.js';
import { dateReadings } from '../../matcher/sensitivity.js';
import { silenceHorizonMs } from '../../matcher/risk.js';
import { READING_PLAUSIBILITY, zoneShifts } from '../../matcher/severity.js';
import { CoverageRecorder } from '../../src/store/core/coverage.js';
import { records } from '../support/index.js';
import type { RequestInput, Result } from '../../src/request.js';
import { storeSettings } from '../../src/store/core/bounds.js';
import type { SqliteStore } from '../../src/store/sqlite/store.js';
import { operatorStore, resolveIn, riskStore, T, type Obs } from './operators.js';

const S = (hms: string) => T(hms, '2026-07-01'); // BST: Europe/London is UTC+1
const W = (hms: string) => T(hms, '2026-01-15'); // GMT: Europe/London is UTC+0

/**
 * Summer and winter, the same pattern: on .8 the lease passes A→B at 09:30Z and B→D at
 * 18:00Z; on .20 C takes a fresh lease at 09:30Z from a source with a gap before it
 * (summer only), and on .21 E does the same with no gap. So an hour earlier than 10:00Z
 * names another account on .8, and nobody on .20 and .21.
 */
const ZONE_OPERATOR = [
  { kind: 'address-space', prefix: '198.51.100.0/25', role: 'dynamic' },
  ...[
    ['S', S],
    ['W', W],
  ].flatMap(([tag, at]) => {
    const t = at as (hms: string) => string;
    return [
      { kind: 'allocation', account: `A-${String(tag)}`, ip: '198.51.100.8', start: t('06:00:00'), end: t('09:30:00'), source: 'dhcp' },
      { kind: 'allocation', account: `B-${String(tag)}`, ip: '198.51.100.8', start: t('09:30:00'), end: t('18:00:00'), source: 'dhcp' },
      { kind: 'allocation', account: `D-${String(tag)}`, ip: '198.51.100.8', start: t('18:00:00'), end: t('23:59:59'), source: 'dhcp' },
      { kind: 'allocation', account: `C-${String(tag)}`, ip: '198.51.100.20', start: t('09:30:00'), end: t('18:00:00'), source: 'radius' },
      { kind: 'allocation', account: `E-${String(tag)}`, ip: '198.51.100.21', start: t('09:30:00'), end: t('18:00:00'), source: 'dhcp' },
    ];
  }),
  { kind: 'coverage', source: 'radius', start: S('09:00:00'), end: S('09:10:00'), status: 'gap' },
];

let store: SqliteStore;
let utcStore: SqliteStore;
let changedStore: SqliteStore;
let flags: SqliteStore;
beforeAll(() => {
  store = operatorStore(ZONE_OPERATOR);
  utcStore = operatorStore(ZONE_OPERATOR);
  utcStore.setSetting('jurisdictionZone', 'UTC');
  changedStore = operatorStore(ZONE_OPERATOR);
  changedStore.setSetting('zoneChange.dhcp', Date.parse('2026-01-01T00:00:00Z'));
  flags = riskStore();
});
afterAll(() => {
  for (const s of [store, utcStore, changedStore, flags]) s.close();
});

const severityOf = (r: Result, code: string) => r.risks.filter((k) => k.code === code).map((k) => k.severity);

describe('severity of TIME_READING_CHANGES_RESULT: a reading counts only where the way the time was written allows it', () => {
  const cases: [name: string, store: () => SqliteStore, obs: Obs, severity: 'material' | 'note' | 'absent'][] = [
    ['BST written as Z, an hour earlier names another account', () => store, { sourceIp: '198.51.100.8', time: S('10:00:00') }, 'material'],
    ['GMT written as Z: the hour earlier is not plausible', () => store, { sourceIp: '198.51.100.8', time: W('10:00:00') }, 'note'],
    ['BST written with its own offset +01:00: nothing to misread', () => store, { sourceIp: '198.51.100.8', time: '2026-07-01T11:00:00+01:00' }, 'note'],
    [
      'BST written as +02:00 (an hour off the other way): the hour later is plausible, but names the same account',
      () => store,
      { sourceIp: '198.51.100.8', time: '2026-07-01T12:00:00+02:00' },
      'note',
    ],
    [
      'local time: either hour is plausible',
      () => store,
      { sourceIp: '198.51.100.8', time: { local: '2026-07-01T11:00:00', timeZone: 'Europe/London' } },
      'material',
    ],
    ['a clock declared uncertain, in winter', () => store, { sourceIp: '198.51.100.8', time: W('10:00:00'), clock: 'uncertain' }, 'material'],
    ['a jurisdiction zone of UTC: BST is no longer plausible', () => utcStore, { sourceIp: '198.51.100.8', time: S('10:00:00') }, 'note'],
    [
      'a source that changed its zone format: the hour is plausible in winter',
      () => changedStore,
      { sourceIp: '198.51.100.8', time: W('10:00:00') },
      'material',
    ],
    ['nobody an hour earlier, coverage not in doubt: a note', () => store, { sourceIp: '198.51.100.21', time: S('10:00:00') }, 'note'],
    ['nobody an hour earlier, a gap in the source before: material', () => store, { sourceIp: '198.51.100.20', time: S('10:00:00') }, 'material'],
    [
      'a 12-hour clock: twelve hours later names another account',
      () => store,
      { sourceIp: '198.51.100.8', time: W('10:00:00'), clock: '12h-ambiguous' },
      'material',
    ],
  ];
  test.each(cases)('%s', async (_name, s, obs, expected) => {
    const r = await resolveIn(s(), [obs]);
    const got = severityOf(r, 'TIME_READING_CHANGES_RESULT');
    if (expected === 'absent') expect(got).toEqual([]);
    else expect(got).toEqual([expected]);
  });

  test('each reading in the detail says whether it is plausible and why; the message names the reading and the count', async () => {
    const r = await resolveIn(store, [{ sourceIp: '198.51.100.8', time: S('10:00:00') }]);
    const f = r.risks.find((k) => k.code === 'TIME_READING_CHANGES_RESULT')!;
    expect(f.message).toMatch(/under minus-1h 1 of the 1 accounts given do not fit \(1 would\)/);
    const readings = f.detail['readings'] as { reading: string; plausible: boolean; why: string }[];
    expect(readings.find((x) => x.reading === 'minus-1h')).toMatchObject({
      plausible: true,
      why: 'Europe/London is an hour ahead of the written offset Z at that date',
    });
    expect(r.assessment).toBe(
      'unique under the time as written; could be wrong: under an hour earlier (BST read as GMT) for observation 0 1 other account(s) would fit',
    );
  });

  test('a robust answer says so', async () => {
    const r = await resolveIn(store, [{ sourceIp: '198.51.100.8', time: W('10:00:00') }]);
    expect(r.assessment).toBe('robust: unique under the time as written; no plausible reading or fact changes who would be disclosed');
    expect(r.advice).toEqual([]);
  });
});

describe('date readings: considered for clocks declared date-ambiguous, and for a none answer they would fill', () => {
  test.each([
    [
      'the year written one later: the year before finds the holder',
      { sourceIp: '198.51.100.8', time: '2027-01-15T10:00:00Z', clock: 'date-ambiguous' },
      'minus-1y',
      ['B-W'],
    ],
    ['the day written one later: the day before', { sourceIp: '198.51.100.8', time: '2026-01-16T10:00:00Z', clock: 'date-ambiguous' }, 'minus-1d', ['B-W']],
    ['the day written one earlier: the day after', { sourceIp: '198.51.100.8', time: '2026-01-14T10:00:00Z', clock: 'date-ambiguous' }, 'plus-1d', ['B-W']],
    [
      'day and month swapped (1 July written 7 January)',
      { sourceIp: '198.51.100.8', time: '2026-01-07T10:00:00Z', clock: 'date-ambiguous' },
      'day-month-swapped',
      ['B-S'],
    ],
  ] as const)('%s', async (_name, obs, reading, accounts) => {
    const r = await resolveIn(store, [obs]);
    expect(r.status).toBe('none');
    const more = r.risks.find((k) => k.code === 'TIME_READING_FINDS_MORE')!;
    expect(more.severity).toBe('material');
    expect((more.detail['readings'] as { reading: string; plausible: boolean }[]).find((x) => x.reading === reading)).toMatchObject({ plausible: true });
    const zone = r.advice.find((a) => a.kind === 'confirm-time-zone');
    expect(zone?.kind === 'confirm-time-zone' && zone.readings.find((x) => x.reading === reading)).toMatchObject({ candidateCount: 1, accounts });
  });

  test('without the declaration, an answered request tries no date reading', async () => {
    const answered = await resolveIn(store, [{ sourceIp: '198.51.100.8', time: W('10:00:00') }]);
    expect(answered.status).toBe('unique');
    expect(JSON.stringify(answered.risks)).not.toMatch(/minus-1y|minus-1d|plus-1d|day-month-swapped/);
  });

  // Without the declaration, a none answer that a date reading would fill: the reading is
  // plausible (a misdated request is one explanation), so the flag is material and the
  // advice names the accounts under it; a reading that finds nobody stays implausible.
  test.each([
    ['the year written one later, not declared', { sourceIp: '198.51.100.8', time: '2027-01-15T10:00:00Z' }, 'minus-1y', ['B-W']],
    ['the day written one later, not declared', { sourceIp: '198.51.100.8', time: '2026-01-16T10:00:00Z' }, 'minus-1d', ['B-W']],
    ['the day written one earlier, not declared', { sourceIp: '198.51.100.8', time: '2026-01-14T10:00:00Z' }, 'plus-1d', ['B-W']],
    ['day and month swapped, not declared', { sourceIp: '198.51.100.8', time: '2026-01-07T10:00:00Z' }, 'day-month-swapped', ['B-S']],
  ] as const)('%s: a none answer the reading fills', async (_name, obs, reading, accounts) => {
    const r = await resolveIn(store, [obs]);
    expect(r.status).toBe('none');
    const more = r.risks.find((k) => k.code === 'TIME_READING_FINDS_MORE')!;
    expect(more.severity).toBe('material');
    const readings = more.detail['readings'] as { reading: string; plausible: boolean; why: string; candidateCount: number }[];
    expect(readings.find((x) => x.reading === reading)).toMatchObject({
      plausible: true,
      candidateCount: 1,
      why: 'the answer is none and this reading would fill it (1 accounts)',
    });
    expect(more.message).toContain(`under ${reading} 1 accounts would fit (1 the answer lacks)`);
    const zone = r.advice.find((a) => a.kind === 'confirm-time-zone');
    expect(zone?.kind === 'confirm-time-zone' && zone.readings.find((x) => x.reading === reading)).toMatchObject({ candidateCount: 1, accounts });
  });

  test('the rule as data: a date reading is plausible when declared, or when it fills a none answer, and not otherwise', () => {
    const p = planRequest({ ref: 'R', observations: [{ sourceIp: '198.51.100.8', time: '2027-01-15T10:00:00Z' }] });
    const d = planRequest({ ref: 'R', observations: [{ sourceIp: '198.51.100.8', time: '2027-01-15T10:00:00Z', clock: 'date-ambiguous' }] });
    if (!p.ok || !d.ok) throw new Error('invalid');
    const settings = storeSettings([], []);
    const facts = (o: (typeof p.value.observations)[number], answer: number) => ({
      observation: o,
      settings,
      toleranceMs: 0,
      answer,
      matched: answer,
      doubt: null,
    });
    const rule = READING_PLAUSIBILITY['minus-1y'].plausible;
    const table: [declared: boolean, answer: number, filled: number, plausible: boolean][] = [
      [true, 1, 0, true],
      [true, 0, 0, true],
      [false, 0, 1, true],
      [false, 0, 0, false],
      [false, 1, 1, false],
    ];
    for (const [declared, answer, filled, plausible] of table)
      expect(rule(facts((declared ? d : p).value.observations[0]!, answer), { candidateCount: filled }).plausible, `${declared} ${answer} ${filled}`).toBe(
        plausible,
      );
  });

  test('day and month are not swapped when the day is 13 or more, or equals the month', () => {
    const plan = (time: string) => {
      const p = planRequest({ ref: 'R', observations: [{ sourceIp: '198.51.100.8', time, clock: 'date-ambiguous' }] });
      if (!p.ok) throw new Error('invalid');
      return dateReadings(p.value.observations[0]!).map((d) => d.reading);
    };
    expect(plan('2026-03-28T10:00:00Z')).toEqual(['minus-1d', 'plus-1d', 'minus-1y']);
    expect(plan('2026-03-03T10:00:00Z')).toEqual(['minus-1d', 'plus-1d', 'minus-1y']);
    expect(plan('2026-03-05T10:00:00Z')).toEqual(['minus-1d', 'plus-1d', 'minus-1y', 'day-month-swapped']);
  });
});

describe('zoneShifts: the hour a written offset is off the jurisdiction zone', () => {
  test.each([
    ['summer Z in London', '2026-07-01T10:00:00Z', 0, 'Europe/London', [-60]],
    ['winter Z in London', '2026-01-15T10:00:00Z', 0, 'Europe/London', []],
    ['winter +01:00 in London', '2026-01-15T10:00:00Z', 60, 'Europe/London', [60]],
    ['summer +02:00 in London', '2026-07-01T10:00:00Z', 120, 'Europe/London', [60]],
    ['an hour after the spring change, Z: the zone changed in between', '2026-03-29T01:30:00Z', 0, 'Europe/London', [-60]],
    ['an unknown zone', '2026-07-01T10:00:00Z', 0, 'Nowhere/Else', []],
  ] as const)('%s', (_name, at, offset, zone, shifts) => {
    expect(zoneShifts(Date.parse(at), offset, zone)).toEqual(shifts);
  });

  test('every reading of the table has a documented rule', () => {
    for (const [name, entry] of Object.entries(READING_PLAUSIBILITY)) expect(entry.rule.length, name).toBeGreaterThan(20);
  });
});

describe('severity of every other rule (the risk operator, 2026-03-28: GMT)', () => {
  const cases: [code: string, obs: Obs[], extra: Partial<RequestInput>, severity: 'material' | 'note'][] = [
    ['SHARED_ADDRESS_NO_PORT', [{ sourceIp: '203.0.113.7', time: T('09:00:00') }], {}, 'material'],
    ['SHARED_ADDRESS_NO_PORT', [{ sourceIp: '203.0.113.7', time: T('09:00:00') }], { identifiers: { imsi: '234150000000002' } }, 'note'],
    ['ALLOCATION_BOUNDARY', [{ sourceIp: '198.51.100.8', time: T('11:59:59') }], {}, 'material'],
    ['SINGLE_OBSERVATION', [{ sourceIp: '198.51.100.7', time: T('10:00:00') }], {}, 'note'],
    ['SHARED_ACCOUNT', [{ sourceIp: '198.51.100.9', time: T('10:00:00') }], {}, 'note'],
    ['INFERRED_END', [{ sourceIp: '198.51.100.10', time: T('10:00:00') }], {}, 'material'],
    ['PORT_REUSE', [{ sourceIp: '203.0.113.7', sourcePort: 1100, time: T('09:59:59') }], {}, 'material'],
    ['LOW_TIME_PRECISION', [{ sourceIp: '198.51.100.7', time: '2026-03-28T10:00Z' }], {}, 'note'],
    ['COVERAGE_GAP', [{ sourceIp: '198.51.100.7', time: T('14:30:00') }], {}, 'material'],
    ['BEYOND_RETENTION', [{ sourceIp: '198.51.100.7', time: '2025-12-31T23:00:00Z' }], {}, 'material'],
    ['NOT_OPERATOR_ADDRESS', [{ sourceIp: '198.51.100.200', time: T('10:00:00') }], {}, 'note'],
    ['SERVER_ADDRESS', [{ sourceIp: '198.51.100.241', time: T('10:00:00') }], {}, 'note'],
    [
      'CONTRADICTORY_OBSERVATIONS',
      [
        { sourceIp: '198.51.100.7', time: T('10:00:00') },
        { sourceIp: '198.51.100.9', time: T('10:00:00') },
      ],
      {},
      'material',
    ],
    ['EXCLUDED_BY_IDENTIFIER', [{ sourceIp: '203.0.113.7', time: T('09:00:00') }], { identifiers: { imsi: '234150000000002' } }, 'material'],
    ['TOLERANCE_BELOW_CLOCK_ERROR', [{ sourceIp: '198.51.100.10', time: T('10:00:00') }], { toleranceSeconds: 2 }, 'note'],
    ['TIME_READING_FINDS_MORE', [{ sourceIp: '198.51.100.8', time: T('05:30:00') }], {}, 'note'],
    ['CONNECTION_RECORDS_PROCESSED', [{ sourceIp: '203.0.113.7', sourcePort: 1100, destinationIp: '192.0.2.80', time: T('09:00:00') }], {}, 'note'],
  ];
  test.each(cases)('%s (case %#)', async (code, obs, extra, expected) => {
    const r = await resolveIn(flags, obs, extra);
    const got = severityOf(r, code);
    expect(got.length, `expected ${code} among ${r.risks.map((k) => k.code).join(',')}`).toBeGreaterThan(0);
    expect(got).toContain(expected);
  });
});

/**
 * OPEN_PAST_EVIDENCE: material only where the answer rests on an open record whose source
 * has been silent past the window for longer than its own rates allow. `busy` logs 100
 * events a minute from 06:00 to 12:00 (its last event): a silence of more than 30 s past
 * it means its logs stopped. `sparse` logs a handful of events: it has no rate to judge by.
 */
describe('severity of OPEN_PAST_EVIDENCE: past the source’s silence horizon', () => {
  const OPEN = [
    { kind: 'address-space', prefix: '198.51.100.0/25', role: 'dynamic' },
    { kind: 'allocation', account: 'BUSY', ip: '198.51.100.40', start: T('06:00:00'), end: null, source: 'busy' },
    { kind: 'allocation', account: 'BUSY-LAST', ip: '198.51.100.41', start: T('12:00:00'), end: T('12:00:01'), source: 'busy' },
    { kind: 'allocation', account: 'SPARSE', ip: '198.51.100.42', start: T('06:00:00'), end: null, source: 'sparse' },
    { kind: 'allocation', account: 'SPARSE-LAST', ip: '198.51.100.43', start: T('12:00:00'), end: T('12:00:01'), source: 'sparse' },
  ];
  let open: SqliteStore;
  beforeAll(() => {
    open = operatorStore(OPEN);
    const recorder = new CoverageRecorder();
    recorder.observe(records(...OPEN));
    open.recordCoverage(recorder.report().map((c) => (c.source === 'busy' ? { ...c, events: 36_000 } : c)));
  });
  afterAll(() => open.close());

  test.each([
    ['a busy source silent for hours past its last event', '198.51.100.40', T('15:00:00'), 'material', 1],
    ['a busy source within its horizon (10 s past its last event)', '198.51.100.40', T('12:00:11'), 'note', 0],
    ['a sparse source silent for hours: no rate to judge by', '198.51.100.42', T('15:00:00'), 'note', 0],
  ] as const)('%s', async (_name, sourceIp, time, severity, pastHorizon) => {
    const r = await resolveIn(open, [{ sourceIp, time }]);
    expect(r.status).toBe('unique');
    const f = r.risks.find((k) => k.code === 'OPEN_PAST_EVIDENCE')!;
    expect(f.detail['pastHorizon']).toBe(pastHorizon);
    expect(f.severity).toBe(severity);
  });

  test('silenceHorizonMs: the time the mean rate expects 50 events in; none under 50 events', () => {
    const c = (events: number, minutes: number) =>
      ({ source: 's', role: 'allocation', first: 0, last: minutes * 60_000, events, ingests: 1, rateAtFirst: 0, rateAtLast: 0, inferredGaps: [] }) as const;
    expect(silenceHorizonMs(c(600, 60))).toBe(5 * 60_000);
    expect(silenceHorizonMs(c(50, 500))).toBe(500 * 60_000);
    expect(silenceHorizonMs(c(49, 60))).toBe(Infinity);
  });
});
