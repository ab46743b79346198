import { describe, expect, test } from 'vitest';
import { forward } from '../../nat/deterministic.js';
import { naiveBaseline } from '../../src/harness/index.js';
import { NatDeterministicRecord } from '../../src/records.js';
import { addr } from '../support/index.js';
import { ask, RECORDS } from './fixture.js';

describe('naiveBaseline(): what operators write by hand', () => {
  const naive = naiveBaseline(RECORDS);
  test.each([
    ['the lease that holds the address', ask('198.51.100.7', '2026-03-28T08:30:00Z'), 'A'],
    ['the last lease before the time, though it ended (no end check)', ask('198.51.100.7', '2026-03-28T09:10:00Z'), 'A'],
    ['nothing before the first lease', ask('198.51.100.7', '2026-03-28T07:00:00Z'), null],
    ['the block holding the port, then the last allocation of its inside address', ask('203.0.113.7', '2026-03-28T10:25:00Z', { sourcePort: 1100 }), 'D'],
    ['the allocation before the inside address changed hands', ask('203.0.113.7', '2026-03-28T10:15:00Z', { sourcePort: 1100 }), 'C'],
    ['without a port, the last block on the address, whoever holds it', ask('203.0.113.7', '2026-03-28T10:15:00Z'), 'E'],
    ['the offset at face value', ask('198.51.100.7', '2026-03-28T09:31:00+01:00'), 'A'],
    ['an offset an hour off is believed', ask('198.51.100.7', '2026-03-28T10:31:00+01:00'), 'B'],
    ['a wall-clock time read in its zone', ask('198.51.100.7', { local: '2026-03-28T09:31:00', timeZone: 'Europe/London' }), 'B'],
    ['a minute read as its first second, no tolerance', ask('203.0.113.7', '2026-03-28T10:19Z', { sourcePort: 1100, toleranceSeconds: 120 }), 'C'],
    ['identifiers ignored', ask('203.0.113.7', '2026-03-28T10:25:00Z', { sourcePort: 1100, imsi: '234150000000003' }), 'D'],
  ])('%s', (_, request, expected) => {
    expect(naive(request)).toBe(expected);
  });

  test('the first observation only: no cross-correlation', () => {
    const request = {
      ref: 'T',
      observations: [ask('198.51.100.7', '2026-03-28T08:30:00Z').observations[0]!, ask('198.51.100.7', '2026-03-28T10:00:00Z').observations[0]!],
    };
    expect(naive(request)).toBe('A');
  });

  test('deterministic NAT: the formula reversed, then the inside allocation', () => {
    const det = {
      kind: 'nat-deterministic',
      realm: 'd',
      insidePrefix: '100.65.0.0/24',
      outsidePrefix: '203.0.113.128/30',
      portFirst: 1024,
      portLast: 65535,
      algorithm: 'vpp-det44',
      start: '2026-03-28T00:00:00Z',
      end: null,
    } as const;
    const f = forward(NatDeterministicRecord.parse(det), addr('100.65.0.9'));
    if (!f.ok) throw new Error(f.message);
    const withDet = naiveBaseline([
      ...RECORDS,
      det,
      { kind: 'allocation', account: 'F', ip: '100.65.0.9', realm: 'd', start: '2026-03-28T01:00:00Z', end: null, source: 'radius' },
    ]);
    expect(withDet(ask(f.value.outsideAddress.text, '2026-03-28T12:00:00Z', { sourcePort: f.value.portFirst }))).toBe('F');
    expect(withDet(ask(f.value.outsideAddress.text, '2026-03-28T12:00:00Z')), 'no port, no guess').toBe(null);
  });
});
