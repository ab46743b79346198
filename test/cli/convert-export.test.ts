/**
 * `ipar convert` (what an import would store, no store), `ipar export` (a store's records
 * as canonical NDJSON) and `--format auto` on input it does not recognise.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { main } from '../../src/cli.js';
import { packagePath } from '../../src/paths.js';
import { RECORD_KINDS } from '../../src/records.js';
import { captureIo, tempDir } from '../support/index.js';
import { fixturesDir, sorted } from '../vendors/harness.js';

const run = async (args: string[], stdin = '') => {
  const io = captureIo(stdin);
  const code = await main(args, io);
  return { code, out: io.out(), err: io.err() };
};
const lines = (text: string): string[] => text.split('\n').filter((l) => l !== '');

/** A simulated operator's store (every record kind) and its records file. */
async function simulated(): Promise<{ db: string; records: string }> {
  const dir = tempDir();
  const db = join(dir, 'a.db');
  expect((await run(['simulate', '--profile', 'mixed', '--subscribers', '60', '--days', '1', '--seed', '11', '--out', dir, '--db', db])).code).toBe(0);
  // The simulated operator holds no connection records: the demo's are added, so every kind is there.
  const records = join(dir, 'all.ndjson');
  writeFileSync(records, readFileSync(join(dir, 'records.ndjson'), 'utf8') + readFileSync(packagePath('fixtures', 'demo', 'connections.ndjson'), 'utf8'));
  expect((await run(['ingest', '--db', db, packagePath('fixtures', 'demo', 'connections.ndjson')])).code).toBe(0);
  return { db, records };
}

describe('ipar convert', () => {
  test('prints the records of a vendor fixture as canonical NDJSON, its problems on stderr, exit 1', async () => {
    const dir = join(fixturesDir, 'nfware-cgnat');
    const expected = JSON.parse(readFileSync(join(dir, 'traps.json'), 'utf8')) as { records: never[]; problems: { line: number; reason: string }[] };
    const r = await run(['convert', '--format', 'nfware-cgnat', '--realm', 'cgn-nf', join(dir, 'traps.log')]);
    expect(r.code).toBe(1);
    expect(sorted(lines(r.out).map((l) => JSON.parse(l) as never))).toEqual(sorted(expected.records));
    for (const p of expected.problems) expect(r.err).toContain(`traps.log:${p.line}: `);
    expect(r.err).toMatch(/convert: 10 lines; records nat-session 2, nat-block 2; rejected lines 3\n$/);
  });

  test('canonical input comes out as the ingest would store it, exit 0', async () => {
    const { records } = await simulated();
    const r = await run(['convert', records]);
    expect(r.code).toBe(0);
    expect(lines(r.out).length).toBe(lines(readFileSync(records, 'utf8')).length);
    // Times come out in UTC with milliseconds, whatever offset they were written with.
    const offset = await run(
      ['convert', '-'],
      '{"kind":"coverage","source":"x","start":"2026-03-28T11:00:00+01:00","end":"2026-03-28T11:30:00+01:00","status":"gap"}\n',
    );
    expect(offset.out).toBe('{"kind":"coverage","source":"x","start":"2026-03-28T10:00:00.000Z","end":"2026-03-28T10:30:00.000Z","status":"gap"}\n');
  });

  test('an importer that needs an option says so (exit 2)', async () => {
    const r = await run(['convert', '--format', 'nfware-cgnat', join(fixturesDir, 'nfware-cgnat', 'traps.log')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^ipar: MISSING_OPTION: .*--realm/);
  });
});

describe('--format auto on input it does not recognise', () => {
  test.each(['convert', 'ingest'])('%s says so in one line naming the formats (exit 2), not INVALID_JSON per line', async (command) => {
    const db = join(tempDir(), 'x.db');
    const r = await run([command, ...(command === 'ingest' ? ['--db', db] : []), '--format', 'auto', '-'], 'hello\nthis is no log\n');
    expect(r.code).toBe(2);
    expect(lines(r.err)).toHaveLength(1);
    expect(r.err).toMatch(
      /^ipar: FORMAT_NOT_RECOGNISED: stdin: --format auto recognises no format in its first 2 lines; supported formats: canonical, juniper-srx, .*mikrotik-firewall/,
    );
    expect(r.err).not.toMatch(/INVALID_JSON/);
  });

  test('blank input is no error', async () => {
    expect((await run(['convert', '--format', 'auto', '-'], '\n\n')).code).toBe(0);
  });
});

describe('ipar export', () => {
  test('every stored record, kind by kind; ingesting the export into a new store exports the same lines', async () => {
    const { db, records } = await simulated();
    const a = await run(['export', '--db', db]);
    expect(a.code).toBe(0);
    const out = lines(a.out);
    expect(out.length).toBe(lines(readFileSync(records, 'utf8')).length);
    const kinds = out.map((l) => (JSON.parse(l) as { kind: string }).kind);
    // Kind by kind in RECORD_KINDS order, each kind present.
    expect([...new Set(kinds)]).toEqual([...RECORD_KINDS]);
    expect(kinds).toEqual([...kinds].sort((x, y) => RECORD_KINDS.indexOf(x as never) - RECORD_KINDS.indexOf(y as never)));
    expect(a.out).not.toMatch(/"id":/);
    const db2 = join(tempDir(), 'b.db');
    expect((await run(['ingest', '--db', db2, '-'], a.out)).code).toBe(0);
    const b = await run(['export', '--db', db2]);
    // Within a kind the order is the store's key order, which interned ids take part in: compare as sets.
    expect(lines(b.out).sort()).toEqual([...out].sort());
  });

  test('--kind and --from/--to keep the records of those kinds overlapping [from, to)', async () => {
    const db = join(tempDir(), 'c.db');
    const input = [
      '{"kind":"address-space","prefix":"198.51.100.0/24","role":"dynamic"}',
      '{"kind":"allocation","account":"A","ip":"198.51.100.1","start":"2026-03-28T08:00:00Z","end":"2026-03-28T09:00:00Z","source":"dhcp"}',
      '{"kind":"allocation","account":"B","ip":"198.51.100.2","start":"2026-03-28T09:00:00Z","end":"2026-03-28T10:00:00Z","source":"dhcp"}',
      '{"kind":"allocation","account":"C","ip":"198.51.100.3","start":"2026-03-28T09:30:00Z","end":null,"source":"dhcp"}',
      '{"kind":"coverage","source":"dhcp","start":"2026-03-28T07:00:00Z","end":"2026-03-28T08:00:00Z","status":"gap"}',
    ].join('\n');
    expect((await run(['ingest', '--db', db, '-'], input)).code).toBe(0);
    const accounts = (out: string) =>
      lines(out).map((l) => (JSON.parse(l) as { account?: string; kind: string }).account ?? (JSON.parse(l) as { kind: string }).kind);
    // [09:00, 09:45): A ended at 09:00 (half-open), B and the open C overlap; the address space always holds.
    expect(accounts((await run(['export', '--db', db, '--from', '2026-03-28T09:00:00Z', '--to', '2026-03-28T09:45:00Z'])).out)).toEqual([
      'address-space',
      'B',
      'C',
    ]);
    expect(accounts((await run(['export', '--db', db, '--kind', 'allocation', '--to', '2026-03-28T09:00:00Z'])).out)).toEqual(['A']);
    expect(accounts((await run(['export', '--db', db, '--kind', 'coverage', '--kind', 'address-space'])).out)).toEqual(['address-space', 'coverage']);
    const open = lines((await run(['export', '--db', db, '--kind', 'allocation', '--from', '2026-03-28T11:00:00Z'])).out);
    expect(open).toEqual(['{"kind":"allocation","account":"C","ip":"198.51.100.3","start":"2026-03-28T09:30:00.000Z","end":null,"source":"dhcp"}']);
  });

  test.each([
    [['--kind', 'lease'], /--kind "lease" is not a record kind/],
    [['--from', '2026-03-28T09:00:00'], /--from: .*has no offset/],
    [['--from', '2026-03-28T10:00:00Z', '--to', '2026-03-28T09:00:00Z'], /is not before --to/],
  ])('refuses %j as a usage error', async (args, message) => {
    const db = join(tempDir(), 'd.db');
    expect((await run(['ingest', '--db', db, '-'], '')).code).toBe(0);
    const r = await run(['export', '--db', db, ...args]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
  });

  test('a store that is not there is STORE_NOT_FOUND (exit 2)', async () => {
    const r = await run(['export', '--db', join(tempDir(), 'none.db')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^ipar: STORE_NOT_FOUND/);
  });
});
