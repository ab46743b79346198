import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { formatInstant, intersect, overlaps, parseInstant } from '../src/time.js';
import { propertyRun } from './support/index.js';

describe('parseInstant', () => {
  test.each([
    ['2026-03-28T10:00:00.123Z', Date.UTC(2026, 2, 28, 10, 0, 0, 123), 'ms', 0],
    ['2026-03-28T10:00:00Z', Date.UTC(2026, 2, 28, 10), 's', 0],
    ['2026-03-28T10:00Z', Date.UTC(2026, 2, 28, 10), 'min', 0],
    ['2026-03-28T11:00:00+01:00', Date.UTC(2026, 2, 28, 10), 's', 60],
    ['2026-03-28T05:30:00-0430', Date.UTC(2026, 2, 28, 10), 's', -270],
    ['2026-03-28T10:00:00.123456789Z', Date.UTC(2026, 2, 28, 10, 0, 0, 123), 'ms', 0],
  ] as const)('%s', (text, ms, precision, offset) => {
    expect(parseInstant(text)).toEqual({ ok: true, value: { ms, precision, offsetMinutes: offset } });
  });

  test.each([
    ['2026-03-28T10:00:00', 'INSTANT_WITHOUT_OFFSET'],
    ['2026-02-29T10:00:00Z', 'INVALID_INSTANT'],
    ['2026-03-28T24:00:00Z', 'INVALID_INSTANT'],
    ['28/03/2026 10:00', 'INVALID_INSTANT'],
    ['2026-03-28T10:00:00+19:00', 'INVALID_INSTANT'],
  ])('%s is refused as %s', (text, reason) => {
    const r = parseInstant(text);
    expect(r.ok ? null : r.reason).toBe(reason);
  });
});

describe('half-open overlap', () => {
  const w = { start: 100, end: 200 };
  test.each([
    ['ends where the window starts', { start: 50, end: 100 }, false],
    ['ends just inside', { start: 50, end: 101 }, true],
    ['starts where the window ends', { start: 200, end: 300 }, false],
    ['starts just inside', { start: 199, end: 300 }, true],
    ['open, started before', { start: 0, end: null }, true],
    ['open, starts at the window end', { start: 200, end: null }, false],
  ])('%s', (_n, interval, expected) => {
    expect(overlaps(interval, w)).toBe(expected);
    expect(intersect(interval, w) !== null).toBe(expected);
  });
});

describe('formatInstant', () => {
  // Law: the hand-formatted text is exactly Date#toISOString's, for any instant
  // (formatInstant caches the day and formats the time itself, for speed).
  test('law (formatInstant ≡ toISOString): equals Date#toISOString for every instant', () => {
    fc.assert(
      fc.property(fc.integer({ min: -8.64e15, max: 8.64e15 }), fc.integer({ min: -86_400_000 * 3, max: 86_400_000 * 3 }), (ms, step) => {
        // Two calls a short step apart exercise the cached day and its change.
        expect(formatInstant(ms)).toBe(new Date(ms).toISOString());
        const next = Math.min(8.64e15, Math.max(-8.64e15, ms + step));
        expect(formatInstant(next)).toBe(new Date(next).toISOString());
      }),
      propertyRun('formatInstant ≡ toISOString', 5000),
    );
  });

  test.each([0, -1, 86_399_999, 86_400_000, -62_167_219_200_000, 253_402_300_799_999, 253_402_300_800_000])('edge %d', (ms) => {
    expect(formatInstant(ms)).toBe(new Date(ms).toISOString());
  });
});
