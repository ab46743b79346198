/**
 * `ipar resolve --workers N` end to end, in the built CLI (`dist/src/cli.js`: a worker
 * thread runs compiled JavaScript, not the sources vitest runs): the same bytes and the
 * same audit as in one thread, each batch audited before it is printed, and faults.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, test } from 'vitest';
import { main } from '../../src/cli.js';
import { packagePath } from '../../src/paths.js';
import type { AuditEntry } from '../../src/audit/types.js';
import { tempDir, builtCli, captureIo, demoStore, entriesOf, clickhouseUnderTest, freshUrl, reportUnreachable } from '../support/index.js';

const clickhouse = await clickhouseUnderTest();
reportUnreachable(clickhouse, 'ipar resolve --workers on ClickHouse');

const demoLines = readFileSync(packagePath('fixtures', 'demo', 'requests.ndjson'), 'utf8')
  .trim()
  .split('\n');
/** 9.14: a local authority may not ask for anything that processes connection records. */
const refused =
  '{"ref":"LA-DST","observations":[{"sourceIp":"203.0.113.70","sourcePort":40001,"time":"2026-03-28T10:00:00Z","destinationIp":"192.0.2.80"}],"authorisation":{"authorityType":"local-authority","condition":"A","purpose":"crime"}}';

let cli = '';
let db = '';
let dir = '';
/**
 * Three batches and a bit: the demo requests (one invalid) 80 times, a refusal, a blank
 * line, a line that is not JSON, one nested too deep and one over 1 MiB.
 */
let requests = '';
beforeAll(async () => {
  cli = builtCli();
  dir = tempDir();
  db = await demoStore(dir);
  const lines = Array.from({ length: 80 }, () => demoLines).flat();
  lines.splice(700, 0, refused, '', '{not json', '['.repeat(100) + ']'.repeat(100), `{"ref":"${'x'.repeat(1_100_000)}"}`);
  requests = join(dir, 'requests.ndjson');
  writeFileSync(requests, lines.join('\n') + '\n');
}, 300_000);

interface Run {
  readonly status: number | null;
  /** The signal that ended the process, when one did (a native crash shows here). */
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(args: readonly string[]): Run {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', maxBuffer: 1 << 30 });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** An entry without what differs between runs by design (its place in the file, time and chain). */
const content = ({ action, ref, status, candidateCount, disclosed, requestHash, resultHash, records, engine }: AuditEntry) => ({
  action,
  ref,
  status,
  candidateCount,
  disclosed,
  requestHash,
  resultHash,
  records,
  engine,
});

/** stderr without the progress lines (their rates and counts depend on timing). */
const reports = (stderr: string): string => stderr.replace(/^resolve requests: .*\n/gm, '');

describe('ipar resolve --workers N: the same output and audit as in one thread', () => {
  test.each([
    ['resolve', [], [2, 3]],
    ['estimate', [], [2]],
    ['resolve', ['--pretty'], [2]],
  ] as const)('%s %j: --workers 1 and --workers %j print the same bytes and audit the same entries in the same order', (command, extra, counts) => {
    const audit = (w: number) => join(dir, `audit-${command}-${extra.join('')}-${w}.db`);
    const one = run([command, '--db', db, '--audit', audit(1), '--workers', '1', ...extra, requests]);
    expect(one.status).toBe(1); // BAD-TIME and the unreadable lines
    expect(reports(one.stderr)).toMatch(/requests\.ndjson:15: observations\.0\.time: INSTANT_WITHOUT_OFFSET/);
    expect(reports(one.stderr)).toMatch(/requests\.ndjson:703: \(line\): INVALID_JSON/);
    const entries = entriesOf(audit(1)).map(content);
    expect(entries).toHaveLength(80 * demoLines.length + 4); // 1204: three batches
    for (const w of counts) {
      const many = run([command, '--db', db, '--audit', audit(w), '--workers', String(w), ...extra, requests]);
      expect(many.status).toBe(one.status);
      expect(many.stdout).toBe(one.stdout);
      expect(reports(many.stderr)).toBe(reports(one.stderr));
      expect(entriesOf(audit(w)).map(content)).toEqual(entries);
      expect(run(['audit', 'verify', '--db', audit(w)]).status).toBe(0);
    }
  });
});

describe('ipar resolve --workers N on ClickHouse: each worker with its own client', () => {
  (clickhouse.reachable ? test : test.skip)(
    '--store URL with --workers 2 prints what --db FILE prints in one thread, and audits the same entries',
    async () => {
      const { url, drop } = freshUrl(clickhouse);
      try {
        expect(await main(['ingest', '--store', url, packagePath('fixtures', 'demo', 'records.ndjson')], captureIo())).toBe(0);
        const audit = (name: string) => join(dir, `audit-clickhouse-${name}.db`);
        const one = run(['resolve', '--db', db, '--audit', audit('sqlite'), '--workers', '1', requests]);
        const two = run(['resolve', '--store', url, '--audit', audit('clickhouse'), '--workers', '2', requests]);
        expect(two.status).toBe(one.status);
        expect(two.stdout).toBe(one.stdout);
        expect(reports(two.stderr)).toBe(reports(one.stderr));
        expect(entriesOf(audit('clickhouse')).map(content)).toEqual(entriesOf(audit('sqlite')).map(content));
      } finally {
        await drop();
      }
    },
  );
});

describe('ipar resolve --workers N: audit before result, batch by batch', () => {
  test('a batch is printed as soon as it is answered, its entries already written; when the next cannot be audited, it is not printed and the run fails (exit 2)', async () => {
    const audit = join(dir, 'audit-locked.db');
    const batch = Array.from({ length: 512 }, (_, i) => demoLines[i % 14]).join('\n') + '\n';
    const child = spawn(process.execPath, [cli, 'resolve', '--db', db, '--audit', audit, '--workers', '2', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const lines = (): number => stdout.split('\n').length - 1;
    let auditedAtFirstResult = -1;
    let locker: Database.Database | null = null;
    const firstBatchOut = new Promise<void>((resolve) => {
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        if (stdout === '') auditedAtFirstResult = entriesOf(audit).length;
        stdout += d;
        if (lines() === 512) resolve();
      });
    });
    // One batch in; its results come out while stdin stays open (nothing more is sent yet).
    child.stdin.write(batch);
    await firstBatchOut;
    expect(auditedAtFirstResult).toBe(512);
    // Another writer holds the audit log: the next batch cannot be audited.
    locker = new Database(audit);
    locker.exec('BEGIN EXCLUSIVE');
    try {
      child.stdin.end(batch);
      expect(await exited).toBe(2);
    } finally {
      locker.exec('ROLLBACK');
      locker.close();
    }
    expect(lines()).toBe(512);
    expect(stderr).toMatch(/^ipar: AUDIT_WRITE_FAILED: cannot write the audit log in .*audit-locked\.db: database is locked$/m);
    expect(entriesOf(audit)).toHaveLength(512);
  });
});

describe('ipar resolve: a reader that stops early', () => {
  test.each([1, 2])('stdout closed after the first line (--workers %i): exit 141, no stack trace', async (workers) => {
    const child = spawn(
      process.execPath,
      [cli, 'resolve', '--db', db, '--audit', join(dir, `audit-pipe-${workers}.db`), '--workers', String(workers), requests],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.once('data', () => child.stdout.destroy());
    const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    expect(status).toBe(141);
    expect(stderr).not.toMatch(/EPIPE|at .*\.js:\d+/);
  });
});

describe('ipar resolve --workers N: faults', () => {
  test.each([
    ['a missing store', () => join(dir, 'none.db'), /^ipar: STORE_NOT_FOUND: no store at .*none\.db\n$/],
    [
      'a file that is not a store',
      () => {
        const file = join(dir, 'not-a-store.db');
        writeFileSync(file, 'not a database, just text\n'.repeat(200));
        return file;
      },
      /^ipar: STORE_OPEN_FAILED: cannot (open|read) store .*not-a-store\.db/,
    ],
  ])('%s: exit 2 with the message --workers 1 gives, nothing printed, nothing audited', (_, store, message) => {
    const file = store();
    const audit = (w: number) => join(dir, `audit-fault-${w}.db`);
    const one = run(['resolve', '--db', file, '--audit', audit(1), '--workers', '1', requests]);
    const two = run(['resolve', '--db', file, '--audit', audit(2), '--workers', '2', requests]);
    expect(one).toMatchObject({ status: 2, stdout: '' });
    expect(one.stderr).toMatch(message);
    expect(two).toEqual(one);
    expect([existsSync(audit(1)), existsSync(audit(2))]).toEqual([false, false]);
  });

  test('a store that breaks under the workers fails the run as it fails in one thread: exit 2 (STORE_READ_FAILED), nothing printed', () => {
    // The allocation table's root page overwritten: the store opens, its first lookup fails.
    const broken = join(dir, 'broken.db');
    copyFileSync(db, broken);
    const probe = new Database(broken, { readonly: true });
    const { rootpage } = probe.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'allocation'").get() as { rootpage: number };
    const pageSize = probe.pragma('page_size', { simple: true }) as number;
    probe.close();
    const fd = openSync(broken, 'r+');
    writeSync(fd, Buffer.alloc(pageSize, 0xff), 0, pageSize, (rootpage - 1) * pageSize);
    closeSync(fd);
    const one = run(['resolve', '--db', broken, '--audit', join(dir, 'audit-broken-1.db'), '--workers', '1', requests]);
    const two = run(['resolve', '--db', broken, '--audit', join(dir, 'audit-broken-2.db'), '--workers', '2', requests]);
    expect(one.status).toBe(2); // a store fault, not an internal error
    expect(one.stdout).toBe('');
    expect(two.status, `two workers ended by signal ${two.signal}; stderr: ${two.stderr.slice(0, 2000)}`).toBe(one.status);
    expect(two.stdout).toBe('');
    expect(two.stderr.split('\n')[0]).toBe(one.stderr.split('\n')[0]);
    expect(entriesOf(join(dir, 'audit-broken-2.db'))).toHaveLength(0);
  });

  test.each(['0', '65', 'two'])('--workers %s is a usage error (exit 2)', async (n) => {
    const io = captureIo('');
    expect(await main(['resolve', '--db', db, '--workers', n, '-'], io)).toBe(2);
    expect(io.err()).toMatch(/--workers must be an integer from 1 to 64/);
  });
});
