/**
 * The parse worker's wire form (src/ingest/wire.ts). Law (round trip): a run of entries,
 * records the fast path accepted and lines' texts, reads back as the same entries in the
 * same order, each record deep-equal to what was sent with its keys in the same order.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { fastCanonicalRecord, type FastRecord } from '../../src/ingest/fast-record.js';
import { encodeRecord, encodeText, WireReader } from '../../src/ingest/wire.js';
import { propertyRun } from '../support/index.js';
import { commonRecord, mutated } from './arbitraries.js';

type Sent = { line: number; record: FastRecord } | { line: number; text: string; length: number | undefined };

const entry: fc.Arbitrary<Omit<Sent, 'line'>> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .oneof(commonRecord, mutated)
      .map(fastCanonicalRecord)
      .filter((r): r is FastRecord => r !== undefined)
      .map((record) => ({ record })),
  },
  fc.record({ text: fc.string(), length: fc.option(fc.nat(), { nil: undefined }) }),
);

describe('wire form of parsed lines', () => {
  test('round trip: entries read back as sent, records deep-equal with keys in order', () => {
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 30 }), (entries) => {
        const sent: Sent[] = entries.map((e, i) => ({ line: 3 * i + 1, ...e }) as Sent);
        const values: unknown[] = [];
        for (const e of sent) {
          if ('record' in e) encodeRecord(values, e.line, e.record);
          else encodeText(values, e.line, e.text, e.length);
        }
        const read: Sent[] = [];
        for (const r = new WireReader(structuredClone(values)); r.next();) {
          read.push(r.record === null ? { line: r.line, text: r.text, length: r.length } : { line: r.line, record: r.record });
        }
        expect(read).toStrictEqual(sent);
        read.forEach((e, i) => {
          const s = sent[i]!;
          if ('record' in e && 'record' in s) expect(Object.keys(e.record)).toEqual(Object.keys(s.record));
        });
      }),
      propertyRun('wire round trip', 500),
    );
  });
});
