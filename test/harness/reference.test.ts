import { describe, expect, test } from 'vitest';
import { reference } from '../../src/harness/index.js';
import { ask, RECORDS } from './fixture.js';

describe('reference(): the matching rules as plain loops over raw records', () => {
  const ref = reference(RECORDS);
  test.each([
    ['the lease that overlaps the window', ask('198.51.100.7', '2026-03-28T08:30:00Z'), ['A']],
    ['nobody between two leases', ask('198.51.100.7', '2026-03-28T09:10:00Z'), []],
    ['a window reaching back into the earlier lease', ask('198.51.100.7', '2026-03-28T09:00:00.500Z', { toleranceSeconds: 1 }), ['A']],
    [
      'through a block, both holders of the inside address in the sub-window',
      ask('203.0.113.7', '2026-03-28T10:19:59Z', { sourcePort: 1100, toleranceSeconds: 2 }),
      ['C', 'D'],
    ],
    ['the sub-window: the block ended before the later allocation', ask('203.0.113.7', '2026-03-28T10:29:59Z', { sourcePort: 1100 }), ['D']],
    ['without a port, every block on the address', ask('203.0.113.7', '2026-03-28T10:15:00Z'), ['C', 'E']],
    ['a port in no block', ask('203.0.113.7', '2026-03-28T10:15:00Z', { sourcePort: 3000 }), []],
    [
      'an identifier drops the allocations that carry another',
      ask('203.0.113.7', '2026-03-28T10:19:59Z', { sourcePort: 1100, toleranceSeconds: 2, imsi: '234150000000004' }),
      ['D'],
    ],
    ['a server address holds nobody', ask('198.51.100.6', '2026-03-28T10:00:00Z'), []],
    ['a minute spans sixty seconds', ask('198.51.100.7', '2026-03-28T08:59Z'), ['A']],
  ])('%s', (_, request, expected) => {
    expect(ref.candidates(request)).toEqual(expected);
  });

  test('candidates are the intersection of the observations', () => {
    const request = {
      ref: 'T',
      observations: [
        ask('203.0.113.7', '2026-03-28T10:15:00Z').observations[0]!,
        ask('203.0.113.7', '2026-03-28T10:25:00Z', { sourcePort: 1600 }).observations[0]!,
      ],
    };
    expect(ref.perObservation(request)).toEqual([['C', 'E'], ['E']]);
    expect(ref.candidates(request)).toEqual(['E']);
  });

  test('wall-clock times are refused, not guessed', () => {
    expect(() => ref.candidates(ask('198.51.100.7', { local: '2026-03-28T08:30:00', timeZone: 'Europe/London' }))).toThrow(/ISO instants/);
  });
});
