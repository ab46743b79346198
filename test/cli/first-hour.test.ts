/**
 * A first hour without surprises (issue 21): each thing a new user tripped over, as a CLI
 * test of what the tool now does instead.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { main } from '../../src/cli.js';
import { packagePath } from '../../src/paths.js';
import type { Result } from '../../src/request.js';
import { captureIo, tempDir, builtCli } from '../support/index.js';

const VERSION = (JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string }).version;
const RECORDS = packagePath('fixtures', 'demo', 'records.ndjson');
const GOOD = '{"ref":"A","observations":[{"sourceIp":"198.51.100.7","time":"2026-03-28T10:00:00Z"}],"toleranceSeconds":2}';

let db = '';
beforeAll(async () => {
  db = join(tempDir(), 'demo.db');
  expect(await main(['ingest', '--db', db, RECORDS], captureIo())).toBe(0);
});

/** The audit entries a store holds (0 when it has none). */
async function auditCount(file: string): Promise<number> {
  const io = captureIo();
  await main(['audit', 'verify', '--db', file], io);
  return (JSON.parse(io.out() || '{"entries":0}') as { entries: number }).entries;
}

describe('ipar --version', () => {
  test.each([['--version'], ['-V']])('%s prints the engine as every audit entry names it, exit 0', async (flag) => {
    const io = captureIo();
    expect(await main([flag], io)).toBe(0);
    expect(io.out()).toBe(`ipar@${VERSION}\n`);
  });
});

describe('requests are one JSON object a line', () => {
  test.each([
    ['an object', JSON.stringify(JSON.parse(GOOD), null, 2)],
    ['an array of requests', JSON.stringify([JSON.parse(GOOD)], null, 2)],
  ])('pretty-printed JSON (%s) is one usage error naming the file and line, nothing resolved or audited', async (_name, text) => {
    const file = join(tempDir(), 'requests.json');
    writeFileSync(file, '\n' + text + '\n');
    const before = await auditCount(db);
    const expected = [
      `ipar: USAGE: ${file}:2: requests are one JSON object a line (NDJSON); this input is JSON spread over lines (pretty-printed?). Write each request on one line (e.g. jq -c . ${file}); nothing was resolved`,
    ];
    const io = captureIo();
    expect(await main(['resolve', '--db', db, '--workers', '1', file], io)).toBe(2);
    expect(io.out()).toBe('');
    expect(io.err().trim().split('\n')).toEqual(expected);
    // Worker threads run compiled code: the built CLI.
    const r = spawnSync(process.execPath, [builtCli(), 'resolve', '--db', db, '--workers', '2', file], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual(expected);
    expect(await auditCount(db)).toBe(before);
  });

  test('a lone "{" followed by an unindented line is just an invalid line: the batch goes on', async () => {
    const io = captureIo(`{\n${GOOD}\n`);
    expect(await main(['resolve', '--db', db, '--workers', '1'], io)).toBe(1);
    expect(
      io
        .out()
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as Result).status),
    ).toEqual(['invalid', 'unique']);
  });
});

describe('request errors', () => {
  test('"timeZone" beside "time" is refused with the hint to write it inside', async () => {
    const io = captureIo('{"ref":"Z","observations":[{"sourceIp":"198.51.100.7","time":"2026-03-28T10:00:00","timeZone":"Europe/London"}]}\n');
    expect(await main(['resolve', '--db', db, '--workers', '1'], io)).toBe(1);
    expect(io.err()).toContain(
      'stdin:1: observations.0.timeZone: UNKNOWN_FIELD: unknown field "timeZone": a zone goes inside the time — write "time": {"local":"2026-03-28T10:00:00","timeZone":"Europe/London"}',
    );
  });

  test('an error prints its field path once', async () => {
    const io = captureIo('{"ref":"Z","observations":[{"sourceIp":"198.51.100.7","sourcePort":"x","time":"2026-03-28T10:00:00Z"}],"toleranceSeconds":-1}\n');
    expect(await main(['resolve', '--db', db, '--workers', '1'], io)).toBe(1);
    const lines = io
      .err()
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('stdin:'));
    expect(lines.length).toBe(2);
    for (const line of lines) {
      const field = /^stdin:1: (\S+): /.exec(line)![1]!;
      expect(line.split(field).length - 1, line).toBe(1);
    }
  });
});

describe('a mistyped path never becomes a new store', () => {
  test.each([
    ['settings', (f: string) => ['settings', '--db', f], /no store at/],
    ['settings --retention-horizon', (f: string) => ['settings', '--db', f, '--retention-horizon', '2026-01-01T00:00:00Z'], /no store at/],
    ['audit verify', (f: string) => ['audit', 'verify', '--db', f], /no audit log at/],
    ['audit show', (f: string) => ['audit', 'show', '--db', f, '--ref', 'R'], /no audit log at/],
    ['resolve', (f: string) => ['resolve', '--db', f, '--workers', '1', '-'], /no store at/],
    ['estimate', (f: string) => ['estimate', '--db', f, '--workers', '1', '-'], /no store at/],
    ['report', (f: string) => ['report', '--db', f, '--out', join(tempDir(), 'r'), '-'], /no store at/],
    ['coverage', (f: string) => ['coverage', '--db', f], /no store at/],
    ['export', (f: string) => ['export', '--db', f], /no store at/],
    ['purge', (f: string) => ['purge', '--db', f, '--before', '2026-01-01T00:00:00Z'], /no store at/],
    ['backup', (f: string) => ['backup', '--db', f, '--to', join(tempDir(), 'copy.db')], /no database at/],
  ])('%s: exit 2, one line, nothing created', async (_name, args, message) => {
    const file = join(tempDir(), 'typo.db');
    const io = captureIo('');
    expect(await main(args(file), io)).toBe(2);
    expect(io.err()).toMatch(message);
    expect(io.err().trim().split('\n')).toHaveLength(1);
    expect(existsSync(file)).toBe(false);
  });

  test('ingest of an input that is not there does not create the store', async () => {
    const file = join(tempDir(), 'new.db');
    const io = captureIo();
    expect(await main(['ingest', '--db', file, join(tempDir(), 'missing.ndjson')], io)).toBe(2);
    expect(io.err()).toMatch(/cannot read .*missing\.ndjson/);
    expect(existsSync(file)).toBe(false);
  });
});

describe('ipar settings --clock-error', () => {
  test('a source the store has never seen is refused, naming the ones it has; nothing is set', async () => {
    const io = captureIo();
    expect(await main(['settings', '--db', db, '--retention-horizon', '2020-01-01T00:00:00Z', '--clock-error', 'dchp=3'], io)).toBe(2);
    expect(io.err()).toBe(
      'ipar: USAGE: --clock-error: the store has no records from source or realm "dchp"; it knows cgn-a, cgn-d, cgn-s, dhcp, dhcpv6-pd, pgw, radius, static\n',
    );
    const show = captureIo();
    expect(await main(['settings', '--db', db], show)).toBe(0);
    expect(JSON.parse(show.out())).toEqual({ retentionHorizon: null, jurisdictionZone: 'Europe/London', zoneChanges: {}, clockErrorSeconds: {} });
  });

  test('a source it has seen (an allocation source or a realm) is set, and can be removed', async () => {
    const local = join(tempDir(), 'op.db');
    expect(await main(['ingest', '--db', local, RECORDS], captureIo())).toBe(0);
    const io = captureIo();
    expect(await main(['settings', '--db', local, '--clock-error', 'dhcp=3', '--clock-error', 'cgn-a=1.5'], io)).toBe(0);
    expect(JSON.parse(io.out())).toEqual({
      retentionHorizon: null,
      jurisdictionZone: 'Europe/London',
      zoneChanges: {},
      clockErrorSeconds: { dhcp: 3, 'cgn-a': 1.5 },
    });
    const removed = captureIo();
    expect(await main(['settings', '--db', local, '--clock-error', 'dhcp='], removed)).toBe(0);
    expect(JSON.parse(removed.out())).toEqual({
      retentionHorizon: null,
      jurisdictionZone: 'Europe/London',
      zoneChanges: {},
      clockErrorSeconds: { 'cgn-a': 1.5 },
    });
  });
});

describe('ipar ingest', () => {
  test.each([
    ['ms-dhcp-audit', [], '--tz'],
    ['panos-traffic', ['--realm', 'pa'], '--tz'],
  ])('--format %s without the option every line needs is a usage error (exit 2), not every line rejected', async (format, extra, missing) => {
    const io = captureIo();
    const file = packagePath('fixtures', 'vendors', format, 'traps.log');
    expect(await main(['ingest', '--db', join(tempDir(), 'v.db'), '--format', format, ...extra, file], io)).toBe(2);
    expect(io.err().trim().split('\n')).toHaveLength(1);
    expect(io.err()).toContain(missing);
    expect(io.err()).not.toMatch(/traps\.log:\d+:/);
  });

  test.each([
    [
      'infoblox-dhcpd',
      ['--tz', 'Europe/London'],
      '--year YYYY',
      (i: number) =>
        `<30>Mar 28 10:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')} ib1 dhcpd[100]: DHCPACK on 192.0.2.${(i % 200) + 1} to aa:bb:cc:00:${String(i % 100).padStart(2, '0')}:00 (pc) via eth1 lease-duration 600`,
    ],
    [
      'cisco-asa',
      ['--realm', 'asa-1', '--year', '2025'],
      '--tz ZONE',
      (i: number) =>
        `Jun  1 2025 12:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')} fw1 : %ASA-6-305011: Built dynamic TCP translation from inside:10.0.0.7/${40000 + i} to outside:203.0.113.51/${30000 + i}`,
    ],
  ])(
    '--format %s whose lines all lack what an option gives is one usage error naming it (exit 2), nothing stored, not a thousand rejected lines',
    async (format, extra, flag, line) => {
      const file = join(tempDir(), 'device.log');
      writeFileSync(file, Array.from({ length: 1000 }, (_, i) => line(i)).join('\n') + '\n');
      const store = join(tempDir(), 'v.db');
      const io = captureIo();
      expect(await main(['ingest', '--db', store, '--format', format, ...extra, file], io)).toBe(2);
      expect(io.err().trim().split('\n')).toHaveLength(1);
      expect(io.err()).toMatch(
        new RegExp(`^ipar: MISSING_OPTION: .*device\\.log:1: .*the first 8 lines rejected all need ${flag.replace(' ', ' ')}.*nothing was stored\n$`),
      );
      const exported = captureIo();
      expect(await main(['export', '--db', store], exported)).toBe(0);
      expect(exported.out()).toBe('');
      // Given the option, the same lines are stored.
      const fixed = captureIo();
      const option = flag === '--tz ZONE' ? ['--tz', 'Europe/London'] : ['--year', '2026'];
      expect(await main(['ingest', '--db', join(tempDir(), 'ok.db'), '--format', format, ...extra, ...option, file], fixed)).toBe(0);
      expect(fixed.err()).toMatch(/ingest: 1000 lines \(\d+ gave records, 0 rejected/);
    },
  );

  test('a line or two lacking a zone among lines that carry one is rejected as before: the rest are stored', async () => {
    const file = join(tempDir(), 'relayed.log');
    const good = (i: number) =>
      `<30>1 2026-03-28T10:${String(i).padStart(2, '0')}:00Z ib1 dhcpd 100 - - DHCPACK on 192.0.2.${i + 1} to aa:bb:cc:00:${String(i).padStart(2, '0')}:00 (pc) via eth1 lease-duration 600`;
    writeFileSync(
      file,
      [
        '<30>Mar 28 09:59:00 ib1 dhcpd[100]: DHCPACK on 192.0.2.250 to aa:bb:cc:00:99:00 (pc) via eth1 lease-duration 600',
        ...Array.from({ length: 20 }, (_, i) => good(i)),
      ].join('\n') + '\n',
    );
    const io = captureIo();
    expect(await main(['ingest', '--db', join(tempDir(), 'r.db'), '--format', 'infoblox-dhcpd', file], io)).toBe(1);
    expect(io.err()).toMatch(/relayed\.log:1: .*YEAR_UNKNOWN/);
    expect(io.err()).toMatch(/ingest: 21 lines \(\d+ gave records, 1 rejected, .*records stored allocation 20;/);
  });

  test('--help lists every format', async () => {
    const { VENDOR_PARSERS } = await import('../../src/ingest/vendors/index.js');
    const io = captureIo();
    expect(await main(['ingest', '--help'], io)).toBe(0);
    for (const name of ['canonical', 'auto', ...VENDOR_PARSERS.map((p) => p.name)]) expect(io.out()).toMatch(new RegExp(`^  ${name} `, 'm'));
  });

  test('the summary accounts for every line: gave records, rejected, or gave none of its own', async () => {
    const file = join(tempDir(), 'mixed.ndjson');
    const lines = readFileSync(RECORDS, 'utf8').trim().split('\n');
    writeFileSync(file, [lines[0], '', '{"kind":"allocation"}', lines[1], '   ', lines[0]].join('\n') + '\n');
    const io = captureIo();
    expect(await main(['ingest', '--db', join(tempDir(), 's.db'), '--json', file], io)).toBe(1);
    const summary = JSON.parse(io.out()) as { lines: number; rejectedLines: number; recordLines: number };
    expect(summary).toMatchObject({ lines: 6, rejectedLines: 1, recordLines: 3 });
    expect(io.err()).toMatch(
      /ingest: 6 lines \(3 gave records, 1 rejected, 2 gave none of their own: blank, header, other events or paired with a later line\); records stored address-space 2; unchanged address-space 1; rejected lines 1/,
    );
  });
});

describe('--pretty', () => {
  test('keeps whole addresses and accounts, and lists each observation with its own flags under its request', async () => {
    const v6 =
      '{"ref":"V6","observations":[{"sourceIp":"2001:db8:1234:56ab:ffff:ffff:ffff:fff1","sourcePort":65000,"time":"2026-03-28T10:00:00Z"},{"sourceIp":"203.0.113.7","time":"2026-03-28T10:00:00Z"}],"toleranceSeconds":2,"returnPolicy":"allow-multiple"}';
    const io = captureIo(v6 + '\n');
    await main(['resolve', '--db', db, '--pretty', '--workers', '1'], io);
    const lines = io.out().split('\n');
    expect(lines[2]).toMatch(/^V6\s+none\s+0\s+-/);
    expect(lines[3]).toMatch(/^ {4}#0 \[2001:db8:1234:56ab:ffff:ffff:ffff:fff1\]:65000 {2}allocation {2}1 fit$/);
    expect(lines[4]).toMatch(/^ {4}#1 203\.0\.113\.7 {2}nat-block>allocation {2}2 fit {2}SHARED_ADDRESS_NO_PORT$/);
    expect(lines[2]).toContain('CONTRADICTORY_OBSERVATIONS');
    expect(lines[2]).not.toContain('SHARED_ADDRESS_NO_PORT');
  });
});

describe('usage errors are one line', () => {
  test.each([
    [['resolve', '--dbb', 'x']],
    [['resolve', '--db']],
    [['nosuchcommand']],
    [['simulate', '--subscribers', 'many', '--out', 'x']],
    [['resolve', '--db', 'a.db', '--store', 'b.db']],
  ])('%j: exit 2 and one line on stderr', async (args) => {
    const io = captureIo();
    expect(await main(args, io)).toBe(2);
    expect(io.err().trim().split('\n'), io.err()).toHaveLength(1);
  });
});

describe('npm start (ipar demo)', () => {
  test('labels its deliberate bad request, says where the report is and whether the none answers were right', async () => {
    const dir = tempDir();
    const io = captureIo();
    expect(await main(['demo', '--dir', dir], io)).toBe(0);
    expect(io.out()).toContain('(BAD-TIME is invalid on purpose: its time "2026-03-28T10:00:00" has no offset');
    expect(io.out()).toContain(`The report of this batch, a page per request: ${join(dir, 'report', 'index.html')}`);
    expect(existsSync(join(dir, 'report', 'index.html'))).toBe(true);
    const m =
      /; (\d+) none \((\d+) right: the records that would show the account were lost; (\d+) wrong but flagged as a possible false negative; (\d+) wrong and unflagged\)/.exec(
        io.out(),
      );
    expect(m, io.out().slice(-400)).not.toBeNull();
    const [none, right, flagged, silent] = m!.slice(1).map(Number) as [number, number, number, number];
    expect(right + flagged + silent).toBe(none);
  });
});

describe('oneObjectALine', () => {
  test.each([
    ['a lone { then an indented key', ['{', '  "ref": "A",'], true],
    ['a lone [ then an indented {', ['[', '  {'], true],
    ['a lone { then an unindented line', ['{', GOOD], false],
    ['a lone { then indented text that is not JSON', ['{', '  hello'], false],
    ['a whole object first', [GOOD, '  {'], false],
    ['a lone { and nothing after', ['{'], false],
  ])('%s: pretty-printed %s', async (_name, lines, pretty) => {
    const { oneObjectALine } = await import('../../src/cli/batch.js');
    async function* read() {
      for (const [i, text] of lines.entries()) yield { text, line: i + 1 };
    }
    const out: string[] = [];
    let error: unknown = null;
    try {
      for await (const l of oneObjectALine('f', read())) out.push(l.text);
    } catch (e) {
      error = e;
    }
    expect(error !== null).toBe(pretty);
    if (!pretty) expect(out).toEqual(lines);
  });
});
