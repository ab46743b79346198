import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { planRequest } from '../../matcher/plan.js';
import { alternativeReadings, sensitivityWindows, WIDER_TOLERANCE_MS } from '../../matcher/sensitivity.js';
import type { RequestInput } from '../../src/request.js';
import type { SqliteStore } from '../../src/store/sqlite/store.js';
import { codes, resolveIn, risk, riskStore, T, type Obs } from './operators.js';

let store: SqliteStore;
beforeAll(() => {
  store = riskStore();
});
afterAll(() => store.close());
const resolve = (observations: Obs[], extra: Partial<RequestInput> = {}) => resolveIn(store, observations, extra);

describe('time-reading sensitivity', () => {
  test('GMT/BST: an hour either side is tried for every observation, with counts', async () => {
    const r = await resolve([{ sourceIp: '198.51.100.8', time: T('11:30:00') }]);
    const readings = risk(r, 'TIME_READING_CHANGES_RESULT')!.detail['readings'] as { reading: string; candidateCount: number }[];
    expect(readings.map((x) => [x.reading, x.candidateCount])).toEqual([['plus-1h', 1]]);
    expect(r.candidates.map((c) => c.account)).toEqual(['A']);
  });

  test('a DST fold: both instants are searched and each reading reported', async () => {
    const r = await resolve([{ sourceIp: '198.51.100.12', time: { local: '2026-10-25T01:30:00', timeZone: 'Europe/London' } }], {
      returnPolicy: 'allow-multiple',
    });
    expect(r.candidates.map((c) => c.account)).toEqual(['FOLD-BST', 'FOLD-GMT']);
    const readings = risk(r, 'TIME_READING_CHANGES_RESULT')!.detail['readings'] as { reading: string; candidateCount: number }[];
    expect(readings.filter((x) => x.reading.startsWith('fold')).map((x) => [x.reading, x.candidateCount])).toEqual([
      ['fold-first', 1],
      ['fold-second', 1],
    ]);
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
    expect(readings.map((x) => [x.reading, x.candidateCount])).toEqual([
      ['minus-12h', 0],
      ['plus-12h', 1],
    ]);
  });

  test('the tolerance edge: the exact instant gives another answer than the tolerant window', async () => {
    const r = await resolve([{ sourceIp: '198.51.100.8', time: T('11:59:59') }]);
    const readings = risk(r, 'TIME_READING_CHANGES_RESULT')!.detail['readings'] as { reading: string; candidateCount: number }[];
    expect(readings.find((x) => x.reading === 'exact-instant')).toMatchObject({ candidateCount: 1 });
  });
});

describe('alternativeReadings(): the other plausible readings of one time', () => {
  const first = (time: Obs['time'], toleranceSeconds: number, clock?: '12h-ambiguous') => {
    const p = planRequest({ ref: 'S', observations: [{ sourceIp: '198.51.100.7', time, ...(clock === undefined ? {} : { clock }) }], toleranceSeconds });
    if (!p.ok) throw new Error(JSON.stringify(p.errors));
    return p.value;
  };
  test.each([
    ['no tolerance: no exact-instant reading', T('10:00:00'), 0, undefined, ['wider-tolerance', 'minus-1h', 'plus-1h']],
    ['a tolerance: the exact instant too', T('10:00:00'), 2, undefined, ['exact-instant', 'wider-tolerance', 'minus-1h', 'plus-1h']],
    ['a 12-hour clock: twelve hours either side', T('10:00:00'), 0, '12h-ambiguous', ['wider-tolerance', 'minus-1h', 'plus-1h', 'minus-12h', 'plus-12h']],
    [
      'a DST fold: both instants',
      { local: '2026-10-25T01:30:00', timeZone: 'Europe/London' },
      0,
      undefined,
      ['wider-tolerance', 'fold-first', 'fold-second', 'minus-1h', 'plus-1h'],
    ],
    [
      'a DST gap: the other offset',
      { local: '2026-03-29T01:30:00', timeZone: 'Europe/London' },
      0,
      undefined,
      ['wider-tolerance', 'gap-other-offset', 'minus-1h', 'plus-1h'],
    ],
  ] as const)('%s', (_name, time, tolerance, clock, readings) => {
    const plan = first(time, tolerance, clock);
    const o = plan.observations[0]!;
    const alternatives = alternativeReadings(o, plan.toleranceMs);
    expect(alternatives.map((a) => a.reading)).toEqual(readings);
    expect(sensitivityWindows(o, plan)).toEqual([o.window, ...alternatives.map((a) => a.window)]);
  });
  test('the hour shifts move the whole window; the wider tolerance adds a minute either side', () => {
    const plan = first(T('10:00:00'), 1);
    const o = plan.observations[0]!;
    const by = new Map(alternativeReadings(o, plan.toleranceMs).map((a) => [a.reading, a.window]));
    expect(by.get('minus-1h')).toEqual({ start: o.window.start - 3_600_000, end: o.window.end - 3_600_000 });
    expect(by.get('wider-tolerance')).toEqual({ start: o.window.start - WIDER_TOLERANCE_MS, end: o.window.end + WIDER_TOLERANCE_MS });
    expect(by.get('exact-instant')).toEqual({ start: Date.parse(T('10:00:00')), end: Date.parse(T('10:00:01')) });
  });
});
