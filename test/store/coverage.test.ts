/**
 * What each source covered (src/store/core/coverage.ts): the recorder's spans, the
 * silence detector's law (a silence is a gap exactly when the lowest of the rates around
 * it expects GAP_EXPECTED_EVENTS events over it), and the fold of one ingest into another.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { CoverageRecorder, GAP_EXPECTED_EVENTS, GAP_MIN_MS, judgeSilence, mergeSourceCoverage } from '../../src/store/core/coverage.js';
import { propertyRun, records } from '../support/index.js';

const T = (hms: string) => Date.parse(`2026-03-28T${hms}Z`);
const session = (ms: number) => ({
  kind: 'nat-session',
  realm: 'cgn-a',
  insideIp: '100.64.0.1',
  insidePort: 5000,
  outsideIp: '203.0.113.7',
  outsidePort: 1024 + (ms % 60000),
  protocol: 'tcp',
  start: new Date(ms).toISOString(),
  end: null,
});

describe('CoverageRecorder', () => {
  test('spans per source; an inferred end is no event; a steady source with a silence has one gap bounded by its events', () => {
    const r = new CoverageRecorder();
    r.observe(
      records(
        { kind: 'allocation', account: 'A', ip: '198.51.100.7', start: '2026-03-28T08:00:00Z', end: '2026-03-28T09:00:00Z', source: 'dhcp' },
        { kind: 'allocation', account: 'B', ip: '198.51.100.8', start: '2026-03-28T08:30:00Z', end: '2026-03-28T20:00:00Z', source: 'dhcp', endInferred: true },
      ),
    );
    // A session every 6 s from 08:00 to 11:00, none 09:00–09:30.
    const times: number[] = [];
    for (let t = T('08:00:00'); t < T('11:00:00'); t += 6000) if (t < T('09:00:00') || t >= T('09:30:00')) times.push(t);
    r.observe(records(...times.map(session)));
    const [cgn, dhcp] = r.report();
    expect(dhcp).toMatchObject({ source: 'dhcp', role: 'allocation', first: T('08:00:00'), last: T('09:00:00'), events: 3, inferredGaps: [] });
    expect(cgn).toMatchObject({ source: 'cgn-a', role: 'nat', first: T('08:00:00'), events: times.length });
    expect(cgn!.inferredGaps.map((g) => [g.start, g.end])).toEqual([[T('08:59:54'), T('09:30:00')]]);
  });
});

describe('judgeSilence', () => {
  test('law (threshold): a gap exactly when the lowest rate expects GAP_EXPECTED_EVENTS events over a silence of at least GAP_MIN_MS', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 6 * 3_600_000 }),
        fc.double({ min: 0, max: 20, noNaN: true }),
        fc.double({ min: 0, max: 20, noNaN: true }),
        fc.double({ min: 0, max: 20, noNaN: true }),
        (length, a, b, c) => {
          const gap = judgeSilence('s', 0, length, a, b, c);
          const expected = (Math.min(a, b, c) * length) / 60_000;
          expect(gap !== null).toBe(length >= GAP_MIN_MS && expected >= GAP_EXPECTED_EVENTS);
        },
      ),
      propertyRun('judgeSilence threshold'),
    );
  });
});

describe('mergeSourceCoverage', () => {
  const seen = (first: number, last: number, gaps: [number, number][] = [], rate = 5) => ({
    source: 's',
    role: 'nat' as const,
    first,
    last,
    events: 10,
    ingests: 1,
    rateAtFirst: rate,
    rateAtLast: rate,
    inferredGaps: gaps.map(([start, end]) => ({ source: 's', start, end, rateBefore: rate, rateAfter: rate, usualRate: rate, expectedEvents: 99 })),
  });
  test('a later input with events inside a stored gap cuts it back to the evidence on either side', () => {
    const merged = mergeSourceCoverage(seen(T('08:00:00'), T('12:00:00'), [[T('09:00:00'), T('10:00:00')]]), seen(T('09:20:00'), T('09:40:00')));
    expect(merged.inferredGaps.map((g) => [g.start, g.end])).toEqual([
      [T('09:00:00'), T('09:20:00')],
      [T('09:40:00'), T('10:00:00')],
    ]);
    expect(merged).toMatchObject({ first: T('08:00:00'), last: T('12:00:00'), events: 20, ingests: 2 });
  });
  test('a silence between two ingests is judged by the rates at their facing edges', () => {
    expect(mergeSourceCoverage(seen(T('08:00:00'), T('08:59:00')), seen(T('10:00:00'), T('11:00:00'))).inferredGaps.map((g) => [g.start, g.end])).toEqual([
      [T('08:59:00'), T('10:00:00')],
    ]);
    // Too quiet a source to tell: no gap.
    expect(mergeSourceCoverage(seen(T('08:00:00'), T('08:59:00'), [], 0.1), seen(T('10:00:00'), T('11:00:00'), [], 0.1)).inferredGaps).toEqual([]);
  });
});
