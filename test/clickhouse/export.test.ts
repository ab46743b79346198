/**
 * `ipar export --db a.db | ipar ingest --store clickhouse://… -` moves a store to the
 * cluster: both stores then hold the same records (each exported and compared), and
 * `export --store` gives what `export --db` gives, filters included.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { main } from '../../src/cli.js';
import { captureIo, tempDir, clickhouseUnderTest, freshUrl, reportUnreachable } from '../support/index.js';

const clickhouse = await clickhouseUnderTest();
reportUnreachable(clickhouse, 'ipar export against ClickHouse');
const it = clickhouse.reachable ? test : test.skip;

const run = async (args: string[], stdin = '') => {
  const io = captureIo(stdin);
  const code = await main(args, io);
  return { code, out: io.out(), err: io.err() };
};
const sortedLines = (text: string): string[] =>
  text
    .split('\n')
    .filter((l) => l !== '')
    .sort();

const drops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const d of drops) await d();
});

describe('ipar export, SQLite to ClickHouse and back', () => {
  it('the exported SQLite store ingested into the cluster exports the same records', async () => {
    const dir = tempDir();
    const db = join(dir, 'a.db');
    expect((await run(['simulate', '--profile', 'mixed', '--subscribers', '80', '--days', '1', '--seed', '5', '--out', dir, '--db', db])).code).toBe(0);
    const fromSqlite = await run(['export', '--db', db]);
    expect(fromSqlite.code).toBe(0);
    const { url, drop } = freshUrl(clickhouse);
    drops.push(drop);
    const ingested = await run(['ingest', '--store', url, '-'], fromSqlite.out);
    expect(ingested.code).toBe(0);
    expect(ingested.err).toMatch(/rejected lines 0/);
    const fromCluster = await run(['export', '--store', url]);
    expect(fromCluster.code).toBe(0);
    expect(sortedLines(fromCluster.out)).toEqual(sortedLines(fromSqlite.out));
    expect(fromCluster.err).toBe(fromSqlite.err);
    for (const args of [
      ['--kind', 'nat-session', '--kind', 'allocation'],
      ['--from', '2026-03-23T06:00:00Z', '--to', '2026-03-23T07:00:00Z'],
      ['--kind', 'coverage', '--from', '2026-03-23T12:00:00+02:00'],
    ]) {
      const [a, b] = [await run(['export', '--db', db, ...args]), await run(['export', '--store', url, ...args])];
      expect(sortedLines(b.out), args.join(' ')).toEqual(sortedLines(a.out));
    }
  });

  it('a record closed after it was stored open exports once, closed, from both', async () => {
    const open = '{"kind":"allocation","account":"A","ip":"198.51.100.1","start":"2026-03-28T08:00:00.000Z","end":null,"source":"dhcp"}\n';
    const closed =
      '{"kind":"allocation","account":"A","ip":"198.51.100.1","start":"2026-03-28T08:00:00.000Z","end":"2026-03-28T09:00:00.000Z","source":"dhcp"}\n';
    const db = join(tempDir(), 'b.db');
    const { url, drop } = freshUrl(clickhouse);
    drops.push(drop);
    for (const store of [
      ['--db', db],
      ['--store', url],
    ]) {
      expect((await run(['ingest', ...store, '-'], open)).code).toBe(0);
      expect((await run(['export', ...store])).out).toBe(open);
      expect((await run(['ingest', ...store, '-'], closed)).code).toBe(0);
      expect((await run(['export', ...store])).out).toBe(closed);
    }
  });
});
