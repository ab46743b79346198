/**
 * Issue 20, item 5: secrets and inputs. Each case is one finding of the issue: a
 * password printed in clear, importers that aborted (exit 3) or dropped lines silently on
 * out-of-range numbers and dates, years 0000–0099 read as 1900–1999, write failures that
 * went unnoticed, IPv6 zone ids dropped, non-UTF-8 accounts merged, simulator files others
 * could read.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { parseAddress } from '../../src/address.js';
import { main } from '../../src/cli.js';
import { VENDOR_PARSERS } from '../../src/ingest/vendors/index.js';
import { planRequest } from '../../matcher/plan.js';
import { CanonicalRecord } from '../../src/records.js';
import { redactCredentials, parseClickHouseSpec } from '../../src/store/clickhouse/url.js';
import { parseInstant } from '../../src/time.js';
import { tempDir, builtCli, captureIo, demoStore, storeDigest } from '../support/index.js';
import { parseLines, samplesDir } from '../vendors/harness.js';

describe('credentials are redacted from every message', () => {
  test.each([
    ['a plain password', 'clickhouse://ipar:hunter2@h:8123/ops', 'clickhouse://ipar:***@h:8123/ops'],
    ['a password with / and @ written unencoded', 'clickhouse://ipar:hun/ter@2@h:8123/ops', 'clickhouse://ipar:***@h:8123/ops'],
    ['a password parameter', 'clickhouse://h/ops?password=hunter2', 'clickhouse://h/ops?password=***'],
    ['inside a sentence, two URLs', 'cannot reach clickhouse://a:hunter2@h/x or http://b:hunter2@i/', 'cannot reach clickhouse://a:***@h/x or http://b:***@i/'],
    ['no credentials: unchanged', 'clickhouse://ipar@h/ops and operator.db', 'clickhouse://ipar@h/ops and operator.db'],
  ])('%s', (_, text, redacted) => {
    expect(redactCredentials(text)).toBe(redacted);
  });

  test('a spec that does not parse, with / in its password, is named without it', () => {
    expect(() => parseClickHouseSpec('clickhouse://ipar:hun/ter2@h:8123/bad-name')).toThrow(/^(?!.*ter2)/);
  });

  test.each([
    ['resolve against ClickHouse without --audit', ['resolve', '--store', 'clickhouse://ipar:hun/ter2@127.0.0.1:1/ops', '--workers', '1']],
    ['ingest into an unreachable server', ['ingest', '--store', 'clickhouse://ipar:hunter2@127.0.0.1:1/ops', '-']],
    ['a store spec that does not parse', ['ingest', '--store', 'clickhouse://ipar:hunter2@h:8123/bad-name', '-']],
  ])('%s: exit 2, the password nowhere on stderr', async (_, args) => {
    const io = captureIo('{"kind":"subscriber","account":"A","type":"residential"}\n');
    expect(await main(args, io)).toBe(2);
    expect(io.err()).toMatch(/^ipar: /);
    expect(io.err()).not.toMatch(/hunter2|ter2/);
    expect(io.err()).toMatch(/\*\*\*/);
  });
});

describe('importers: an out-of-range number or date is a problem for that line, never exit 3, never a silent drop', () => {
  const cases: [string, string[], string, RegExp][] = [
    [
      'isc-dhcpd-leases: ends epoch 9999999999999',
      ['--format', 'isc-dhcpd-leases'],
      'lease 10.0.10.72 {\n  starts epoch 1507216949;\n  ends epoch 9999999999999;\n  binding state active;\n  hardware ethernet 64:5a:04:6a:07:a2;\n}\nlease 10.0.10.73 {\n  starts epoch 1507216949;\n  ends epoch 1507217949;\n  binding state active;\n  hardware ethernet 64:5a:04:6a:07:a3;\n}\n',
      /:3: ends: TIME_OUT_OF_RANGE: ends epoch 9999999999999 is not a time between 1970 and 9999/,
    ],
    [
      'infoblox-dhcpd: a huge lease-duration',
      ['--format', 'infoblox-dhcpd', '--tz', 'UTC', '--year', '2024'],
      '<30>Mar 27 08:33:00 infoblox dhcpd[2567]: DHCPACK on 192.168.0.4 to 00:50:56:83:6c:a0 via eth3 relay eth3 lease-duration 99999999999999999999 uid 01\n<30>Mar 27 08:33:00 infoblox dhcpd[2567]: DHCPACK on 192.168.0.5 to 00:50:56:83:6c:a1 via eth3 relay eth3 lease-duration 600 uid 01\n',
      /:1: lease-duration: TIME_OUT_OF_RANGE: lease-duration 99999999999999999999 s ends the lease after 9999/,
    ],
    [
      'jool: year 99999',
      ['--format', 'jool', '--realm', 'n64'],
      '[  312.493235] alpha 99999/4/8 16:13:2 (GMT) - Mapped 2001:db8::5#19945 to 192.0.2.2#8208 (UDP)\n[  312.493235] alpha 2015/4/8 16:13:2 (GMT) - Mapped 2001:db8::6#19945 to 192.0.2.2#8209 (UDP)\n',
      /:1: timestamp: INVALID_TIME: no such date or time: .*99999\/4\/8/,
    ],
    [
      'panos-traffic: year 99999',
      ['--format', 'panos-traffic', '--tz', 'UTC', '--realm', 'pa'],
      [
        'Nov 30 16:09:08 PA-220 1,99999/11/30 16:09:07,012801096514,TRAFFIC,start,2049,99999/11/30 16:09:07,192.168.15.207,175.16.199.1,192.168.1.63,175.16.199.1,r,,,apple-maps,vsys1,trust,untrust,e1,e2,send,99999/11/30 16:09:07,22751,1,55113,443,16418,443,0x400053,tcp,allow,7734,1758,5976,36,99999/11/30 15:59:04,586,x,0,32091112,0x0,a,b,0,16,20,n/a,0,0,0,0,,PA-220,from-policy,,,0,,0,,N/A,0,0,0,0',
        'Nov 30 16:09:08 PA-220 1,2018/11/30 16:09:07,012801096514,TRAFFIC,start,2049,2018/11/30 16:09:07,192.168.15.208,175.16.199.1,192.168.1.63,175.16.199.1,r,,,apple-maps,vsys1,trust,untrust,e1,e2,send,2018/11/30 16:09:07,22752,1,55114,443,16419,443,0x400053,tcp,allow,7734,1758,5976,36,2018/11/30 15:59:04,586,x,0,32091112,0x0,a,b,0,16,20,n/a,0,0,0,0,,PA-220,from-policy,,,0,,0,,N/A,0,0,0,0',
      ].join('\n') + '\n',
      /:1: start_time: INVALID_TIME: no such date or time: 99999\/11\/30 15:59:04/,
    ],
  ];
  test.each(cases)('%s: exit 1, that line reported, the good line stored', async (_, args, text, problem) => {
    const dir = tempDir();
    const file = join(dir, 'in.log');
    writeFileSync(file, text);
    const db = join(dir, 'store.db');
    const io = captureIo();
    expect(await main(['ingest', '--db', db, ...args, file], io)).toBe(1);
    expect(io.err()).toMatch(problem);
    const { counts } = storeDigest(db);
    expect((counts['allocation'] ?? 0) + (counts['nat_session'] ?? 0)).toBe(1);
  });

  const present = existsSync(samplesDir);
  test.skipIf(!present)(
    'every importer on every sample it reads, with years made 99999 and long numbers made 9999999999999: no throw, and each mutated line either stored or reported',
    () => {
      const options = { realm: 'r', timeZone: 'UTC', year: 2024 };
      let checked = 0;
      for (const file of readdirSync(samplesDir).filter((f) => f.endsWith('.txt'))) {
        const lines = readFileSync(join(samplesDir, file), 'utf8').split(/\r?\n/);
        for (const parser of VENDOR_PARSERS.filter((p) => p.sniff(lines))) {
          const mutated = lines.map((l) => (l.startsWith('#') ? l : l.replace(/\b(19|20)\d\d(?=[\/-])/g, '99999').replace(/\b\d{9,}\b/g, '9999999999999')));
          const changed = new Set(mutated.flatMap((l, i) => (l !== lines[i] ? [i + 1] : [])));
          let out: ReturnType<typeof parseLines> | undefined;
          expect(() => (out = parseLines(parser, options, mutated)), `${parser.name} on ${file}`).not.toThrow();
          for (const r of out!.records) expect(CanonicalRecord.safeParse(r).success, `${parser.name} on ${file}: ${JSON.stringify(r)}`).toBe(true);
          // Never a silent drop: when records were lost to the changed lines, problems name lines.
          const original = parseLines(parser, options, lines);
          const before = new Set(original.problems.map((p) => p.line));
          // A record wrapped over lines (H3C's four, VPP's) is reported at its first line (LineProblem's contract).
          const touches = (line: number) => [0, 1, 2, 3].some((d) => changed.has(line + d));
          const newlyReported = out!.problems.filter((p) => touches(p.line) && !before.has(p.line));
          if (out!.records.length < original.records.length)
            expect(
              newlyReported.length,
              `${parser.name} on ${file}: ${original.records.length - out!.records.length} records lost, no problem reported`,
            ).toBeGreaterThan(0);
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(10);
    },
  );
});

describe('four-digit years are read literally', () => {
  test.each([
    '0000-01-01T00:00:00Z',
    '0050-06-15T12:30:00.250Z',
    '0099-12-31T23:59:59Z',
    '0100-03-01T00:00:00Z',
    '1999-12-31T23:59:59Z',
    '2026-03-28T10:00:00+01:00',
  ])('%s', (text) => {
    const r = parseInstant(text);
    expect(r.ok && r.value.ms).toBe(Date.parse(text));
  });

  test('0050-02-29 does not exist (50 is not a leap year); 0048-02-29 does', () => {
    expect(parseInstant('0050-02-29T00:00:00Z').ok).toBe(false);
    expect(parseInstant('0048-02-29T00:00:00Z').ok).toBe(true);
  });

  test('in a record and in a request (instant, range and local time), year 0050 stays 0050', () => {
    const rec = CanonicalRecord.parse({
      kind: 'allocation',
      account: 'A',
      ip: '198.51.100.7',
      start: '0050-01-01T00:00:00Z',
      end: '0050-01-02T00:00:00Z',
      source: 'dhcp',
    }) as { start: number; end: number };
    expect(new Date(rec.start).toISOString()).toBe('0050-01-01T00:00:00.000Z');
    for (const time of [
      '0050-01-01T10:00:00Z',
      { from: '0050-01-01T10:00:00Z', to: '0050-01-01T11:00:00Z' },
      { local: '0050-01-01T10:00:00', timeZone: 'UTC' },
    ]) {
      const r = planRequest({ ref: 'Y50', observations: [{ sourceIp: '198.51.100.7', time }], toleranceSeconds: 0 });
      expect(r.ok, JSON.stringify(time)).toBe(true);
      const { window } = r.ok ? r.value.observations[0]! : { window: { start: NaN } };
      expect(new Date(window.start).toISOString(), JSON.stringify(time)).toBe('0050-01-01T10:00:00.000Z');
    }
  });
});

describe('IPv6 zone ids are refused, never dropped', () => {
  test.each(['fe80::1%eth0', 'fe80::1%25eth0', '2001:db8::1%1'])('%s: ADDRESS_ZONE_ID, naming the zone', (text) => {
    const r = parseAddress(text);
    expect(r).toMatchObject({ ok: false, reason: 'ADDRESS_ZONE_ID' });
    expect(!r.ok && r.message).toMatch(/zone id/);
  });

  test('a record with one is a problem on its line', async () => {
    const io = captureIo('{"kind":"allocation","account":"A","ip":"fe80::1%eth0","start":"2026-03-01T00:00:00Z","end":null,"source":"dhcp"}\n');
    expect(await main(['ingest', '--db', join(tempDir(), 's.db'), '-'], io)).toBe(1);
    expect(io.err()).toMatch(/stdin:1: ip: ADDRESS_ZONE_ID: .*zone id "eth0"/);
  });
});

describe('account names that are not valid UTF-8 are refused', () => {
  test('two accounts differing only in non-UTF-8 bytes: both lines refused (ACCOUNT_NOT_UTF8), neither merged into the other', async () => {
    const line = (bytes: number[], ip: string) =>
      Buffer.concat([
        Buffer.from('{"kind":"allocation","account":"ACC-'),
        Buffer.from(bytes),
        Buffer.from(`","ip":"${ip}","start":"2026-03-01T00:00:00Z","end":null,"source":"dhcp"}\n`),
      ]);
    const good = Buffer.from('{"kind":"allocation","account":"ACC-é","ip":"198.51.100.9","start":"2026-03-01T00:00:00Z","end":null,"source":"dhcp"}\n');
    const db = join(tempDir(), 's.db');
    const io = captureIo([line([0xff], '198.51.100.7'), line([0xfe], '198.51.100.8'), good]);
    expect(await main(['ingest', '--db', db, '-'], io)).toBe(1);
    expect(io.err()).toMatch(/stdin:1: account: ACCOUNT_NOT_UTF8: /);
    expect(io.err()).toMatch(/stdin:2: account: ACCOUNT_NOT_UTF8: /);
    expect(storeDigest(db).counts['allocation']).toBe(1);
  });
});

describe('write failures are errors (exit 2)', () => {
  const full = existsSync('/dev/full');
  test.skipIf(!full)('--rejects on a full disk (/dev/full): exit 2 naming the file; the records are stored', async () => {
    const db = join(tempDir(), 's.db');
    const io = captureIo('{bad\n{"kind":"subscriber","account":"A","type":"residential"}\n');
    expect(await main(['ingest', '--db', db, '--rejects', '/dev/full', '-'], io)).toBe(2);
    expect(io.err()).toMatch(/^ipar: REJECTS_WRITE_FAILED: cannot write \/dev\/full: ENOSPC/m);
    expect(storeDigest(db).counts['account']).toBe(1);
  });

  describe('built CLI', () => {
    let cli = '';
    beforeAll(() => {
      cli = builtCli();
    }, 300_000);
    test.skipIf(!full)(
      'resolve and audit show with stdout on a full disk: exit 2, one line, no stack trace',
      async () => {
        const db = await demoStore();
        const requests = join(tempDir(), 'r.ndjson');
        writeFileSync(requests, readFileSync(join(import.meta.dirname, '../../fixtures/demo/requests.ndjson')));
        for (const args of [
          ['resolve', '--db', db, '--workers', '1', requests],
          ['resolve', '--db', db, '--workers', '2', requests],
          ['audit', 'show', '--db', db, '--action', 'resolve'],
        ]) {
          const r = spawnSync('sh', ['-c', `"${process.execPath}" "${cli}" ${args.map((a) => `'${a}'`).join(' ')} > /dev/full`], { encoding: 'utf8' });
          expect(r.status, args.join(' ')).toBe(2);
          expect(r.stderr).toMatch(/^ipar: OUTPUT_WRITE_FAILED: cannot write the output: ENOSPC/m);
          expect(r.stderr).not.toMatch(/\n\s+at /);
        }
      },
      60_000,
    );
  });
});

describe('files ipar writes are 0600 wherever they land', () => {
  test('simulate into an existing directory, over files already there: records, requests and truth are 0600', async () => {
    const out = tempDir();
    mkdirSync(out, { recursive: true, mode: 0o755 });
    writeFileSync(join(out, 'truth.ndjson'), 'old\n', { mode: 0o644 });
    expect(await main(['simulate', '--profile', 'fixed-dhcp', '--subscribers', '5', '--out', out], captureIo())).toBe(0);
    for (const f of ['records.ndjson', 'requests.ndjson', 'truth.ndjson']) expect(statSync(join(out, f)).mode & 0o777, f).toBe(0o600);
  });
});
