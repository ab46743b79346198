/**
 * `follow` and `streamIngest` (src/ingest/follow.ts) in this process: a follower over
 * files that grow, rotate by rename, get truncated and appear, and stdin as a stream.
 * Law throughout: what the store holds after following equals what one `ingest` of the
 * same lines at once stores (`ipar export`'s canonical records), and records become
 * queryable while the input is still being written.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { keaLine, radiusLine, srxLine } from '../../bench/follow.js';
import { follow, streamIngest, type StreamOptions } from '../../src/ingest/follow.js';
import { pairingScope } from '../../src/ingest/ingest.js';
import { VENDOR_PARSERS } from '../../src/ingest/vendors/index.js';
import type { VendorOptions } from '../../src/ingest/vendors/types.js';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import { main } from '../../src/cli.js';
import { captureIo, tempDir } from '../support/index.js';
import { atOnce as atOnceRecords, caughtUp as caughtUpIn, exported, until } from './support.js';

const parser = (name: string) => VENDOR_PARSERS.find((p) => p.name === name)!;
const SRX = { format: parser('juniper-srx'), vendorOptions: { realm: 'cgn-a' } as VendorOptions };
const range = (from: number, to: number, line: (i: number) => string): string => Array.from({ length: to - from }, (_, k) => line(from + k) + '\n').join('');

/** The records of `text` ingested at once into a fresh store. */
const atOnce = (dir: string, text: string, format = SRX.format, vendorOptions = SRX.vendorOptions): Promise<string[]> =>
  atOnceRecords(dir, text, format.name, vendorOptions);

/** A follower over `patterns` into `db`, stopped by `stop()`. */
function start(db: string, patterns: string[], more: Partial<StreamOptions> = {}) {
  const controller = new AbortController();
  const store = openSqliteStore(db);
  const notices: string[] = [];
  const done = follow(store, patterns, {
    ...SRX,
    flushIntervalMs: 50,
    pollIntervalMs: 20,
    onNotice: (m) => notices.push(m),
    signal: controller.signal,
    ...more,
  }).finally(() => store.close());
  return { notices, done, stop: () => (controller.abort(), done) };
}

/** True when the last commit of `db` has every one of `files` read to its end. */
const caughtUp = (db: string, files: string[], scope = pairingScope('juniper-srx', SRX.vendorOptions)): boolean => caughtUpIn(db, scope, files);

describe('ingest --follow over growing, rotating and new files', () => {
  it('appends (a line written in two parts), a rename, a new name in the glob: the records of the lines at once, queryable on the way', async () => {
    const dir = tempDir();
    const db = path.join(dir, 'follow.db');
    const log = path.join(dir, 'srx.log');
    fs.writeFileSync(log, range(0, 1000, srxLine));
    const f = start(db, [path.join(dir, 'srx*.log')]);
    await until('the first lines committed', () => caughtUp(db, [log]));
    expect((await exported(db)).length).toBeGreaterThan(0);

    const more = range(1000, 2000, srxLine);
    fs.appendFileSync(log, more.slice(0, 1234));
    await new Promise((r) => setTimeout(r, 150));
    fs.appendFileSync(log, more.slice(1234));
    await until('the appended lines', () => caughtUp(db, [log]));

    // Rotation by rename: the old name leaves the glob, a new file takes the name.
    fs.renameSync(log, path.join(dir, 'srx.log.1'));
    fs.writeFileSync(log, range(2000, 3000, srxLine));
    await until('the file under the old name', () => caughtUp(db, [log]));
    const second = path.join(dir, 'srx2.log');
    fs.writeFileSync(second, range(3000, 4000, srxLine));
    await until('the new file', () => caughtUp(db, [log, second]));

    const summary = await f.stop();
    expect(summary.lines).toBe(4000);
    expect(summary.rejectedLines).toBe(0);
    expect(f.notices.some((m) => m.includes('renamed away or removed'))).toBe(true);
    expect(await exported(db)).toEqual(await atOnce(dir, range(0, 4000, srxLine)));
  }, 60_000);

  it('a truncated file is read again from its start, nothing before the truncation doubled', async () => {
    const dir = tempDir();
    const db = path.join(dir, 'follow.db');
    const log = path.join(dir, 'srx.log');
    fs.writeFileSync(log, range(0, 1500, srxLine));
    const f = start(db, [log]);
    await until('the first lines', () => caughtUp(db, [log]));
    fs.truncateSync(log, 0);
    fs.writeFileSync(log, range(1500, 2100, srxLine));
    await until('the lines after the truncation', () => caughtUp(db, [log]));
    await f.stop();
    expect(f.notices.some((m) => m.includes('truncated'))).toBe(true);
    expect(await exported(db)).toEqual(await atOnce(dir, range(0, 2100, srxLine)));
  }, 60_000);

  it('a restart resumes at the checkpoint of the last commit: lines appended meanwhile once, none twice', async () => {
    const dir = tempDir();
    const db = path.join(dir, 'follow.db');
    const log = path.join(dir, 'srx.log');
    fs.writeFileSync(log, range(0, 2000, srxLine));
    const first = start(db, [log]);
    await until('the first run', () => caughtUp(db, [log]));
    expect((await first.stop()).lines).toBe(2000);
    fs.appendFileSync(log, range(2000, 3000, srxLine));
    // Renamed while nobody followed: found by its inode beside the name, read to its end first.
    fs.renameSync(log, path.join(dir, 'srx.log.1'));
    fs.writeFileSync(log, range(3000, 3500, srxLine));
    const second = start(db, [log]);
    await until('the second run', () => caughtUp(db, [log]) && !second.notices.every((m) => !m.includes('finished')));
    const summary = await second.stop();
    expect(summary.lines).toBe(1500);
    expect(second.notices.some((m) => m.includes('resuming at line 2001'))).toBe(true);
    expect(await exported(db)).toEqual(await atOnce(dir, range(0, 3500, srxLine)));
  }, 60_000);

  it.each([
    { name: 'freeradius-detail', line: radiusLine, options: {} },
    { name: 'kea-csv', line: keaLine, options: {} },
  ])(
    '$name: commits fall between records (written in pieces that cut them), the records of the lines at once',
    async ({ name, line, options }) => {
      const dir = tempDir();
      const db = path.join(dir, 'follow.db');
      const log = path.join(dir, 'in.log');
      fs.writeFileSync(log, '');
      const f = start(db, [log], { format: parser(name), vendorOptions: options, flushIntervalMs: 1 });
      const all = range(0, 3000, line);
      for (let at = 0; at < all.length; at += 7001) {
        fs.appendFileSync(log, all.slice(at, at + 7001));
        await new Promise((r) => setTimeout(r, 30));
      }
      await until('every line', () => caughtUp(db, [log], pairingScope(name, options)));
      const summary = await f.stop();
      expect(summary.rejectedLines).toBe(0);
      const records = await exported(db);
      expect(records.length).toBeGreaterThan(100);
      expect(records).toEqual(await atOnce(dir, all, parser(name), options));
    },
    60_000,
  );
});

describe('stdin as a stream', () => {
  it('commits on the flush interval while the stream is open; at its end, the records of the lines at once', async () => {
    const dir = tempDir();
    const db = path.join(dir, 'stream.db');
    const stream = new PassThrough();
    const store = openSqliteStore(db);
    const done = streamIngest(store, { name: 'stdin', stream: () => stream }, { ...SRX, flushIntervalMs: 50, pollIntervalMs: 20 }).finally(() => store.close());
    stream.write(range(0, 1500, srxLine));
    await until('records queryable before the end of the stream', async () => (await exported(db)).length > 0);
    stream.end(range(1500, 3000, srxLine));
    const summary = await done;
    expect(summary.lines).toBe(3000);
    expect(await exported(db)).toEqual(await atOnce(dir, range(0, 3000, srxLine)));
  }, 60_000);
});

describe('ingest --follow refusals', () => {
  it.each([
    { args: ['--format', 'auto'], code: 'USAGE', what: 'auto' },
    { args: ['--format', 'juniper-srx', '--realm', 'cgn-a', '--store', 'clickhouse://127.0.0.1:1/ipar'], code: 'FOLLOW_NOT_SUPPORTED', what: 'ClickHouse' },
  ])('$what: exit 2 with $code, nothing read', async ({ args, code }) => {
    const dir = tempDir();
    const io = captureIo();
    const db = args.includes('--store') ? [] : ['--db', path.join(dir, 'x.db')];
    expect(await main(['ingest', '--follow', ...db, ...args, path.join(dir, 'srx.log')], io)).toBe(2);
    expect(io.err()).toContain(code);
  });
});
