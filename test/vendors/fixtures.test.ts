import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { VENDOR_PARSERS, sniffFormat } from '../../src/ingest/vendors/index.js';
import type { VendorOptions } from '../../src/ingest/vendors/types.js';
import type { CanonicalRecordInput } from '../../src/records.js';
import { fixtureCases, invalidRecords, parseLines, readLines, sorted } from './harness.js';

interface Expected {
  readonly options: VendorOptions;
  readonly records: CanonicalRecordInput[];
  readonly problems: { line: number; reason: string }[];
  /** False when the case's first lines are not meant to be recognised by --format auto. */
  readonly sniff?: boolean;
}

const cases = fixtureCases();

describe('vendor importers on hand-written fixtures', () => {
  it('every fixture folder is named after an importer', () => {
    const names = new Set(VENDOR_PARSERS.map((p) => p.name));
    expect(cases.map((c) => c.format).filter((f) => !names.has(f))).toEqual([]);
  });

  describe.each(cases)('$format / $name', ({ format, name, dir }) => {
    const parser = VENDOR_PARSERS.find((p) => p.name === format)!;
    const expected = JSON.parse(fs.readFileSync(path.join(dir, `${name}.json`), 'utf8')) as Expected;
    const input = fs.readdirSync(dir).find((f) => f.startsWith(name + '.') && !f.endsWith('.json'))!;
    const lines = readLines(path.join(dir, input));

    it('yields the records written by hand', () => {
      const got = parseLines(parser, expected.options, lines);
      expect(sorted(got.records)).toEqual(sorted(expected.records));
    });

    it('reports each bad line once, with its reason', () => {
      const got = parseLines(parser, expected.options, lines);
      const problems = got.problems.map((p) => ({ line: p.line, reason: p.reason })).sort((a, b) => a.line - b.line || (a.reason < b.reason ? -1 : 1));
      expect(problems).toEqual([...expected.problems].sort((a, b) => a.line - b.line || (a.reason < b.reason ? -1 : 1)));
      for (const p of got.problems) expect(p.message.length).toBeGreaterThan(10);
    });

    it('emits only records the canonical schema accepts', () => {
      expect(invalidRecords(parseLines(parser, expected.options, lines).records)).toEqual([]);
    });

    it('emits the same records when the same file is read again', () => {
      expect(sorted(parseLines(parser, expected.options, lines).records)).toEqual(sorted(parseLines(parser, expected.options, lines).records));
    });

    it.skipIf(expected.sniff === false)('is recognised by --format auto', () => {
      expect(sniffFormat(lines.slice(0, 20))?.name).toBe(format);
    });
  });
});
