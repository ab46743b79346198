import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { planRequest, UnreadableRequest } from '../../matcher/plan.js';
import { resolveRequests } from '../../matcher/pipeline.js';
import type { SqliteStore } from '../../src/store/sqlite/store.js';
import { operatorStore, SMALL_OPERATOR, T } from './operators.js';

let store: SqliteStore;
beforeAll(() => {
  store = operatorStore(SMALL_OPERATOR);
});
afterAll(() => store.close());

describe('resolve() of invalid requests', () => {
  test.each([
    ['no observations', { ref: 'X', observations: [] }, 'observations'],
    ['time without offset', { ref: 'X', observations: [{ sourceIp: '198.51.100.7', time: '2026-03-28T10:00:00' }] }, 'observations.0.time'],
    [
      'unknown time zone',
      { ref: 'X', observations: [{ sourceIp: '198.51.100.7', time: { local: '2026-03-28T10:00:00', timeZone: 'Mars/Olympus' } }] },
      'observations.0.time.timeZone',
    ],
    ['a prefix as source', { ref: 'X', observations: [{ sourceIp: '198.51.100.0/24', time: T('10:00:00') }] }, 'observations.0.sourceIp'],
    ['a negative tolerance', { ref: 'X', observations: [{ sourceIp: '198.51.100.7', time: T('10:00:00') }], toleranceSeconds: -1 }, 'toleranceSeconds'],
    [
      'a range that ends before it starts',
      { ref: 'X', observations: [{ sourceIp: '198.51.100.7', time: { from: T('10:00:00'), to: T('09:00:00') } }] },
      'observations.0.time.to',
    ],
  ])('invalid: %s, with the field named', async (_name, input, field) => {
    const [r] = await resolveRequests(store, [input]);
    expect(r!.status).toBe('invalid');
    expect(r!.errors!.map((e) => e.field)).toContain(field);
    expect(r!.ref).toBe('X');
  });
});

describe('planRequest(): each observation becomes a window in UTC epoch ms', () => {
  const iso = (ms: number) => new Date(ms).toISOString();
  test.each([
    ['whole seconds span their second', '2026-03-28T10:00:00Z', 0, '2026-03-28T10:00:00.000Z', '2026-03-28T10:00:01.000Z'],
    ['milliseconds span one, the tolerance either side', '2026-03-28T10:00:00.123Z', 2, '2026-03-28T09:59:58.123Z', '2026-03-28T10:00:02.124Z'],
    ['a minute spans the minute', '2026-03-28T10:00Z', 0, '2026-03-28T10:00:00.000Z', '2026-03-28T10:01:00.000Z'],
    ['an offset is read to UTC', '2026-03-28T11:00:00+01:00', 0, '2026-03-28T10:00:00.000Z', '2026-03-28T10:00:01.000Z'],
    ['a range, the tolerance either side', { from: T('10:00:00'), to: T('11:00:00') }, 1, '2026-03-28T09:59:59.000Z', '2026-03-28T11:00:01.000Z'],
    ['a wall-clock time in a zone', { local: '2026-03-28T12:30:00', timeZone: 'Europe/Paris' }, 0, '2026-03-28T11:30:00.000Z', '2026-03-28T11:30:01.000Z'],
  ] as const)('%s', (_name, time, toleranceSeconds, start, end) => {
    const plan = planRequest({ ref: 'P', observations: [{ sourceIp: '198.51.100.7', time }], toleranceSeconds });
    expect(plan.ok).toBe(true);
    const w = plan.ok ? plan.value.observations[0]!.window : null;
    expect(w && [iso(w.start), iso(w.end)]).toEqual([start, end]);
  });

  test('defaults: single-only, 50 candidates, no identifiers, no authorisation, no port', () => {
    const plan = planRequest({ ref: 'P', observations: [{ sourceIp: '198.51.100.7', time: T('10:00:00') }] });
    expect(plan.ok && plan.value).toMatchObject({
      ref: 'P',
      toleranceMs: 0,
      returnPolicy: 'single-only',
      maxCandidates: 50,
      identifiers: {},
      authorisation: null,
    });
    expect(plan.ok && plan.value.observations[0]).toMatchObject({ index: 0, sourcePort: null, destinationIp: null, clock: '24h' });
  });

  test('a line that was not JSON plans to its problems, with no ref', () => {
    const problems = [{ field: '', reason: 'INVALID_JSON' as const, message: 'line 3 is not JSON', value: '{' }];
    expect(planRequest(new UnreadableRequest(problems))).toEqual({ ok: false, ref: null, errors: problems });
  });
});
