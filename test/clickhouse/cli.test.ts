/** `--store URL` on the commands: the same output as `--db FILE`, from the two shards. */
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, test } from 'vitest';
import { main } from '../../src/cli.js';
import type { Io } from '../../src/cli/io.js';
import { packagePath } from '../../src/paths.js';
import { tempDir, clickhouseUnderTest, freshUrl, reportUnreachable } from '../support/index.js';

const clickhouse = await clickhouseUnderTest();
reportUnreachable(clickhouse, 'ipar --store against ClickHouse');
const it = clickhouse.reachable ? test : test.skip;

function captureIo(): Io & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdin: Readable.from(['']),
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    out: () => out,
    err: () => err,
  };
}

const drops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const d of drops) await d();
});

describe('ipar with --store clickhouse://', () => {
  it('ingest, resolve and estimate print what they print with --db', async () => {
    const { url, drop } = freshUrl(clickhouse);
    drops.push(drop);
    const db = join(tempDir(), 'demo.db');
    const records = packagePath('fixtures', 'demo', 'records.ndjson');
    const requests = packagePath('fixtures', 'demo', 'requests.ndjson');
    const run = async (args: string[]) => {
      const io = captureIo();
      const code = await main(args, io);
      return { code, out: io.out(), err: io.err() };
    };
    const [chIngest, sqIngest] = [await run(['ingest', '--store', url, '--json', records]), await run(['ingest', '--db', db, '--json', records])];
    expect(chIngest).toEqual(sqIngest);
    // Ingesting the same lines again stores nothing and changes no coverage count, on both backends.
    const coverage = async (where: string[]) => (await run(['coverage', ...where, '--json'])).out;
    const [chCoverage, sqCoverage] = [await coverage(['--store', url]), await coverage(['--db', db])];
    expect(chCoverage).toEqual(sqCoverage);
    expect(JSON.parse(sqCoverage).sources.length).toBeGreaterThan(0);
    expect((await run(['ingest', '--store', url, '--json', records])).out).toMatch(/"stored":\{"address-space":0/);
    expect((await run(['ingest', '--db', db, '--json', records])).out).toMatch(/"stored":\{"address-space":0/);
    expect(await coverage(['--store', url])).toEqual(chCoverage);
    expect(await coverage(['--db', db])).toEqual(sqCoverage);
    for (const command of ['resolve', 'estimate']) {
      const audit = () => join(tempDir(), 'audit.db');
      const [ch, sq] = [await run([command, '--store', url, '--audit', audit(), requests]), await run([command, '--db', db, '--audit', audit(), requests])];
      expect(ch.code).toBe(1); // the demo's one invalid request
      expect(ch).toEqual(sq);
    }
    // The audit log is SQLite: a ClickHouse store needs --audit FILE, or nothing is resolved.
    const refused = await run(['resolve', '--store', url, requests]);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/--audit FILE/);
    expect(refused.out).toBe('');
  });

  it('simulate --store ingests the simulated records into the cluster', async () => {
    const { url, drop } = freshUrl(clickhouse);
    drops.push(drop);
    const io = captureIo();
    expect(await main(['simulate', '--profile', 'fixed-dhcp', '--subscribers', '50', '--out', tempDir(), '--store', url], io)).toBe(0);
    expect(io.err()).toMatch(/ingest: \d+ lines \(.*\); records stored .*allocation \d+/);
    expect(JSON.parse(io.out())).toMatchObject({ db: url });
  });
});

test('--db and --store together are a usage error', async () => {
  const io = captureIo();
  expect(await main(['resolve', '--db', 'a.db', '--store', 'clickhouse://h/x', '-'], io)).toBe(2);
  expect(io.err()).toMatch(/--db FILE or --store URL, not both/);
});
