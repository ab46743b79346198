import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { main } from '../../src/cli.js';
import { packagePath } from '../../src/paths.js';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import { captureIo, tempDir } from '../support/index.js';

const good = [
  '{"kind":"address-space","prefix":"198.51.100.0/24","role":"dynamic"}',
  '{"kind":"allocation","account":"A","ip":"198.51.100.7","start":"2026-03-28T10:00:00Z","end":null,"source":"dhcp"}',
];
const mixed = [
  good[0],
  '{"kind":"allocation","account":"A","ip":"198.51.100.7","start":"2026-03-28T10:00:00","end":null,"source":"dhcp"}',
  good[1],
  'not json at all',
  '',
  '{"kind":"nat-block","realm":"cgn-a","insideIp":"100.64.0.1","outsideIp":"203.0.113.7","portFirst":2000,"portLast":1000,"start":"2026-03-28T10:00:00Z","end":null}',
  '{"kind":"subscriber","account":"A","type":"residential"}',
].join('\n');

describe('ipar ingest', () => {
  test('a file with bad lines: good lines stored, bad ones reported with file, line, field, value and reason; exit 1', async () => {
    const dir = tempDir();
    const input = join(dir, 'records.ndjson');
    const rejects = join(dir, 'rejects.ndjson');
    const db = join(dir, 'op.db');
    writeFileSync(input, mixed);
    const io = captureIo();
    const code = await main(['ingest', '--db', db, '--rejects', rejects, input], io);
    expect(code).toBe(1);
    expect(io.err()).toContain(`${input}:2: start: INSTANT_WITHOUT_OFFSET`);
    expect(io.err()).toContain('(value "2026-03-28T10:00:00")');
    expect(io.err()).toContain(`${input}:4: (line): INVALID_JSON`);
    expect(io.err()).toContain(`${input}:6: portFirst: PORT_RANGE_REVERSED`);
    const rejected = readFileSync(rejects, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { line: number });
    expect(rejected.map((r) => r.line)).toEqual([2, 4, 6]);
    const store = openSqliteStore(db, { readonly: true });
    const counts = await store.counts();
    store.close();
    expect([counts['address-space'], counts.allocation, counts.subscriber, counts['nat-block']]).toEqual([1, 1, 1, 0]);
  });

  test('ingesting the same input twice adds nothing; stdin with -', async () => {
    const dir = tempDir();
    const db = join(dir, 'op.db');
    const first = captureIo(good.join('\n'));
    expect(await main(['ingest', '--db', db, '--json', '-'], first)).toBe(0);
    const second = captureIo(good.join('\n'));
    expect(await main(['ingest', '--db', db, '--json', '-'], second)).toBe(0);
    const [s1, s2] = [first.out(), second.out()].map((o) => JSON.parse(o) as { stored: Record<string, number>; unchanged: Record<string, number> });
    expect(s1!.stored.allocation).toBe(1);
    expect(s2!.stored.allocation).toBe(0);
    expect(s2!.unchanged.allocation).toBe(1);
  });

  test('several files in one run', async () => {
    const dir = tempDir();
    const [a, b] = [join(dir, 'a.ndjson'), join(dir, 'b.ndjson')];
    writeFileSync(a, good[0]!);
    writeFileSync(b, good[1]!);
    const io = captureIo();
    expect(await main(['ingest', '--db', join(dir, 'op.db'), '--json', a, b], io)).toBe(0);
    expect(JSON.parse(io.out())).toMatchObject({ lines: 2, rejectedLines: 0 });
  });

  test.each([
    ['a missing input file', (dir: string) => ['ingest', '--db', join(dir, 'op.db'), join(dir, 'nope.ndjson')], /cannot read .*nope\.ndjson/],
    ['an unwritable database', (dir: string) => ['ingest', '--db', join(dir, 'no', 'such', 'dir', 'op.db'), '-'], /cannot open store/],
    ['no --db', () => ['ingest', '-'], /required option '--db <file>'/],
    ['an unknown format', (dir: string) => ['ingest', '--db', join(dir, 'op.db'), '--format', 'nonsense', '-'], /--format "nonsense" is not known/],
  ] as const)('%s is a usage or I/O error: exit 2, one line, no stack trace', async (_name, args, message) => {
    const io = captureIo('');
    const code = await main(args(tempDir()), io);
    expect(code).toBe(2);
    expect(io.err()).toMatch(message);
    expect(io.err()).not.toMatch(/\n\s+at /);
  });
});

describe('ipar ingest --format (vendor logs)', () => {
  const log = packagePath('fixtures', 'vendors', 'juniper-srx', 'traps.log');
  test('a vendor log is paired into records and stored; auto picks the importer', async () => {
    for (const format of ['juniper-srx', 'auto']) {
      const io = captureIo();
      const code = await main(
        ['ingest', '--db', join(tempDir(), 'op.db'), '--format', format, '--realm', 'cgn-a', '--tz', 'Europe/London', '--year', '2025', '--json', log],
        io,
      );
      expect(code, io.err()).toBeLessThanOrEqual(1);
      const summary = JSON.parse(io.out()) as { stored: Record<string, number> };
      expect(summary.stored['nat-block']! + summary.stored['nat-session']!).toBeGreaterThan(0);
    }
  });
  test.each([
    ['a NAT importer without --realm', ['--format', 'juniper-srx'], /realm/],
    ['a malformed --zone-abbreviation', ['--format', 'juniper-srx', '--realm', 'x', '--zone-abbreviation', 'PST+8'], /ABBR=±HH:MM/],
  ])('%s is a usage error: exit 2', async (_name, args, message) => {
    const io = captureIo();
    expect(await main(['ingest', '--db', join(tempDir(), 'op.db'), ...args, log], io)).toBe(2);
    expect(io.err()).toMatch(message);
  });
});

describe('ingest() contains an importer that fails on a line', () => {
  test('the line is reported as PARSER_FAILED and the lines after it are still read', async () => {
    const { ingest } = await import('../../src/ingest/ingest.js');
    const { openInputs } = await import('../../src/ingest/lines.js');
    const { openSqliteStore } = await import('../../src/store/sqlite/store.js');
    const dir = tempDir();
    const input = join(dir, 'x.log');
    writeFileSync(input, ['198.51.100.1', 'boom', '198.51.100.2'].join('\n'));
    const failing = {
      name: 'test-failing',
      description: 'throws on "boom"',
      sniff: () => false,
      session: () => ({
        line: (text: string) => {
          if (text === 'boom') throw new Error('unexpected token');
          return { records: [{ kind: 'allocation', account: text, ip: text, start: '2026-03-28T10:00:00Z', end: null, source: 'x' } as never], problems: [] };
        },
        end: () => ({ records: [], problems: [] }),
      }),
    };
    const store = openSqliteStore(join(dir, 'op.db'));
    const rejects: { line: number; problems: readonly { reason: string }[] }[] = [];
    const summary = await ingest(store, await openInputs([input]), { format: failing, onReject: (r) => rejects.push(r) });
    store.close();
    expect(summary.stored.allocation).toBe(2);
    expect(rejects.map((r) => [r.line, r.problems[0]!.reason])).toEqual([[2, 'PARSER_FAILED']]);
  });
});
