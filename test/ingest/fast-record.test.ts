/**
 * The ingest fast path (src/ingest/fast-record.ts) against zod, the one source of the
 * record type. Law (soundness): whatever the fast path accepts, zod accepts with a
 * deep-equal value, keys in the same order. Law (coverage): the common well-formed
 * shapes are accepted, so the fast path is the one bulk ingest actually takes.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { syntheticLine } from '../../bench/data.js';
import { fastCanonicalRecord } from '../../src/ingest/fast-record.js';
import { CanonicalRecord } from '../../src/records.js';
import { propertyRun } from '../support/index.js';
import { commonRecord, junk, mutated, nearRecord } from './arbitraries.js';

/** Same value, same keys in the same order (toWritten writes them in that order). True when the fast path accepted. */
function expectSameAsZod(input: unknown): boolean {
  const fast = fastCanonicalRecord(input);
  if (fast === undefined) return false;
  const zod = CanonicalRecord.safeParse(input);
  expect(zod.success, `zod refused what the fast path accepted: ${JSON.stringify(input)}`).toBe(true);
  if (!zod.success) return true;
  expect(fast).toStrictEqual(zod.data);
  expect(Object.keys(fast)).toEqual(Object.keys(zod.data));
  return true;
}

describe('fastCanonicalRecord(): the fast path against zod', () => {
  test('soundness: whatever the fast path accepts, zod accepts with a deep-equal value (valid, mutated and junk inputs)', () => {
    let accepted = 0;
    const runs = 5000;
    fc.assert(
      fc.property(fc.oneof(commonRecord, nearRecord, nearRecord, mutated, mutated, junk), (input) => {
        if (expectSameAsZod(input)) accepted++;
      }),
      propertyRun('fast path accepted ⇒ zod accepts, deep-equal', runs),
    );
    // The law says nothing if the fast path accepted nothing; mutations leave many valid.
    expect(accepted).toBeGreaterThan(runs / 5);
  });

  test('soundness through JSON: the same law for inputs that went through JSON text, as ingest reads them', () => {
    fc.assert(
      fc.property(fc.oneof(commonRecord, mutated), (input) => {
        const text = JSON.stringify(input);
        if (text !== undefined) expectSameAsZod(JSON.parse(text));
      }),
      propertyRun('fast path accepted ⇒ zod accepts, deep-equal (JSON)', 1000),
    );
  });

  test('coverage: every well-formed record of the bulk kinds is accepted by the fast path', () => {
    fc.assert(
      fc.property(commonRecord, (input) => {
        // Prefixes with host bits set are generated but are not well-formed.
        fc.pre(CanonicalRecord.safeParse(input).success);
        expect(fastCanonicalRecord(input), JSON.stringify(input)).toBeDefined();
        expectSameAsZod(input);
      }),
      propertyRun('well-formed bulk record ⇒ fast path accepts', 1000),
    );
  });

  test('the benchmark records (bench/data.ts) take the fast path', () => {
    for (let i = 0; i < 300; i++) {
      const input = JSON.parse(syntheticLine(i)) as unknown;
      expect(fastCanonicalRecord(input), syntheticLine(i)).toBeDefined();
      expectSameAsZod(input);
    }
  });
});

const T0 = '2026-03-28T10:00:00Z';
const base = { kind: 'allocation', account: 'A', ip: '198.51.100.7', start: T0, end: null, source: 'dhcp' };

describe('fastCanonicalRecord(): edges', () => {
  test.each([
    ['an optional key present with undefined (zod keeps the key)', 'zod', { ...base, realm: undefined }],
    [
      'a __proto__ key from JSON',
      'zod',
      JSON.parse('{"kind":"allocation","account":"A","ip":"198.51.100.7","start":"2026-03-28T10:00:00Z","end":null,"source":"dhcp","__proto__":1}') as object,
    ],
    ['an inherited enumerable key', 'zod', Object.assign(Object.create({ colour: 'red' }) as object, base)],
    ['a name of 129 UTF-16 units (65 code points, which zod accepts)', 'zod', { ...base, account: '\u{1F600}'.repeat(64) + 'a' }],
    ['another kind', 'zod', { kind: 'subscriber', account: 'A', type: 'business' }],
    ['end before start', 'zod', { ...base, end: '2026-03-28T09:59:59.999Z' }],
    ['an instant without offset', 'zod', { ...base, start: '2026-03-28T10:00:00' }],
    [
      'a port as a string',
      'zod',
      { kind: 'nat-block', realm: 'r', insideIp: '100.64.0.1', outsideIp: '203.0.113.1', portFirst: '1', portLast: 2, start: T0, end: null },
    ],
    ['a day past the 28th (read by parseInstant)', 'fast', { ...base, start: '2026-03-31T10:00:00Z', end: '2026-04-01T00:00:00.5+01:00' }],
    ['an instant with a space and a comma (read by parseInstant)', 'fast', { ...base, start: '2026-03-28 10:00:00,25Z' }],
    ['a MAC written with dashes, normalised', 'fast', { ...base, mac: '02-00-5E-10-00-01' }],
    ['an end equal to the start', 'fast', { ...base, end: T0 }],
  ] as const)('%s: %s', (_name, expected, input) => {
    expect(fastCanonicalRecord(input) === undefined ? 'zod' : 'fast').toBe(expected);
    expectSameAsZod(input);
  });
});
