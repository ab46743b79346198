/** Feeding a file's lines through an importer the way the ingest pipeline does. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAddress } from '../../src/address.js';
import type { VendorOptions, VendorParser } from '../../src/ingest/vendors/types.js';
import { CanonicalRecord, type CanonicalRecordInput } from '../../src/records.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const fixturesDir = path.join(repoRoot, 'fixtures/vendors');
export const samplesDir = path.resolve(repoRoot, '../shared/samples');

export interface Parsed {
  readonly records: CanonicalRecordInput[];
  readonly problems: { line: number; field: string; reason: string; message: string; value?: unknown }[];
}

/** Lines of a file, without the trailing empty line a final newline makes. */
export function readLines(file: string): string[] {
  const lines = fs.readFileSync(file, 'utf8').split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Run `lines` (numbered from 1) through one session; `skip` lines are not fed (sample headers). */
export function parseLines(parser: VendorParser, options: VendorOptions, lines: readonly string[], skip: (line: string) => boolean = () => false): Parsed {
  const session = parser.session(options);
  const records: CanonicalRecordInput[] = [];
  const problems: Parsed['problems'] = [];
  lines.forEach((text, i) => {
    if (skip(text)) return;
    const out = session.line(text, i + 1);
    records.push(...out.records);
    problems.push(...out.problems);
  });
  const out = session.end();
  records.push(...out.records);
  problems.push(...out.problems);
  return { records, problems };
}

/**
 * An address in the project's one text form (`parseAddress`), so that expectations can be
 * written as RFC 5952 (`2001:db8::1`) whatever form the address module prints.
 */
export function canon(text: string): string {
  const r = parseAddress(text, true);
  return r.ok ? r.value.text : text;
}

const ADDRESS_FIELDS = ['ip', 'insideIp', 'outsideIp', 'destinationIp', 'prefix'];

/** Records with canonical address text, in a stable order for comparison (a multiset). */
export function sorted(records: readonly CanonicalRecordInput[]): CanonicalRecordInput[] {
  return [...records]
    .map((r) => {
      const copy = JSON.parse(JSON.stringify(r)) as Record<string, unknown>;
      for (const f of ADDRESS_FIELDS) if (typeof copy[f] === 'string') copy[f] = canon(copy[f]);
      return copy as CanonicalRecordInput;
    })
    .sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
}

/** Records that the canonical schema refuses, with its issues. */
export function invalidRecords(records: readonly CanonicalRecordInput[]): { record: CanonicalRecordInput; issues: unknown }[] {
  const bad: { record: CanonicalRecordInput; issues: unknown }[] = [];
  for (const record of records) {
    const r = CanonicalRecord.safeParse(record);
    if (!r.success) bad.push({ record, issues: r.error.issues });
  }
  return bad;
}

/** Every hand-written fixture: its importer (the folder), its name and folder. */
export function fixtureCases(): { format: string; name: string; dir: string }[] {
  return fs
    .readdirSync(fixturesDir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) =>
      fs
        .readdirSync(path.join(fixturesDir, d.name))
        .filter((f) => f.endsWith('.json'))
        .map((f) => ({ format: d.name, name: f.replace(/\.json$/, ''), dir: path.join(fixturesDir, d.name) })),
    );
}
