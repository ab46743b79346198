/**
 * Issue 20, items 1 and 2: a signed audit that nobody without the private key can
 * rewrite, heads kept elsewhere that catch truncation, result lines that can be checked
 * on their own, and nothing of the audit left only in a side file (`-wal`).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, test } from 'vitest';
import { entryHash } from '../../src/audit/chain.js';
import { main } from '../../src/cli.js';
import { packagePath } from '../../src/paths.js';
import type { AuditEntry } from '../../src/audit/types.js';
import { tempDir, builtCli, captureIo, demoStore, entriesOf, ndjson, withDatabase, auditRow, SET_AUDIT_ROW } from '../support/index.js';

const demoRequests = readFileSync(packagePath('fixtures', 'demo', 'requests.ndjson'), 'utf8');
const T0 = Date.parse('2026-04-01T09:00:00Z');

/** A fresh key pair made by `ipar audit keygen`. */
async function keys(): Promise<{ key: string; pub: string }> {
  const out = join(tempDir(), 'keys');
  expect(await main(['audit', 'keygen', '--out', out], captureIo())).toBe(0);
  return { key: join(out, 'audit.key'), pub: join(out, 'audit.pub') };
}

/** The demo store with the demo requests resolved into its audit, signed with `key` (or unsigned). */
async function resolvedStore(key?: string, extra: string[] = []): Promise<{ db: string; out: string }> {
  const db = await demoStore();
  const io = captureIo(demoRequests);
  await main(['resolve', '--db', db, '--workers', '1', ...(key === undefined ? [] : ['--audit-key', key]), ...extra], io);
  return { db, out: io.out() };
}

async function verify(args: string[]): Promise<{ code: number; report: Record<string, unknown>; err: string }> {
  const io = captureIo();
  const code = await main(['audit', 'verify', ...args], io);
  return { code, report: io.out() === '' ? {} : (JSON.parse(io.out()) as Record<string, unknown>), err: io.err() };
}

/**
 * The forgery of issue 20 with the shipped code: entry `seq` rewritten (status none,
 * nothing disclosed, no records) and every later hash recomputed with `entryHash`.
 */
function forge(db: string, seq: number): void {
  const entries = entriesOf(db);
  withDatabase(db, (sql) => {
    let prevHash = entries[seq - 2]?.hash ?? '0'.repeat(64);
    for (const e of entries.slice(seq - 1)) {
      const body = e.seq === seq ? { ...e, status: 'none', candidateCount: 0, disclosed: 0, records: [], prevHash } : { ...e, prevHash };
      const hash = entryHash(body);
      sql.prepare(SET_AUDIT_ROW).run(...auditRow({ ...body, hash }), e.seq);
      prevHash = hash;
    }
  });
}

describe('ipar audit keygen', () => {
  test('writes an Ed25519 pair, audit.key and audit.pub, both 0600, and never replaces them', async () => {
    const out = join(tempDir(), 'k');
    const io = captureIo();
    expect(await main(['audit', 'keygen', '--out', out], io)).toBe(0);
    const made = JSON.parse(io.out()) as { privateKey: string; publicKey: string; fingerprint: string };
    expect(made.fingerprint).toMatch(/^SHA256:[0-9a-f]{16}$/);
    expect(readFileSync(join(out, 'audit.key'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(readFileSync(join(out, 'audit.pub'), 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(statSync(join(out, 'audit.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(out, 'audit.pub')).mode & 0o777).toBe(0o600);
    const again = captureIo();
    expect(await main(['audit', 'keygen', '--out', out], again)).toBe(2);
    expect(again.err()).toMatch(/audit\.key exists: keygen never replaces a key/);
  });

  test('a private key others may read is refused (exit 2), nothing resolved', async () => {
    const { key } = await keys();
    const { chmodSync } = await import('node:fs');
    chmodSync(key, 0o644);
    const db = await demoStore();
    const io = captureIo(demoRequests);
    expect(await main(['resolve', '--db', db, '--workers', '1', '--audit-key', key], io)).toBe(2);
    expect(io.err()).toMatch(/AUDIT_KEY|may be read by others \(mode 0644\)/);
    expect(io.out()).toBe('');
  });
});

describe('signed audit: a rewrite without the private key fails, naming the first bad entry', () => {
  let pair = { key: '', pub: '' };
  beforeAll(async () => {
    pair = await keys();
  });

  test('every entry of a signed run verifies with the public key', async () => {
    const { db } = await resolvedStore(pair.key);
    const r = await verify(['--db', db, '--public-key', pair.pub]);
    expect(r.code).toBe(0);
    expect(r.report).toMatchObject({ intact: true, entries: demoRequests.trim().split('\n').length, signed: demoRequests.trim().split('\n').length });
    expect(r.err).toMatch(/chain intact, head [0-9a-f]{64}; every entry signed by SHA256:/);
  });

  test('the forgery of issue 20 (shipped code, hashes recomputed) passes the chain but not the signatures', async () => {
    const { db } = await resolvedStore(pair.key);
    forge(db, 3);
    const chainOnly = await verify(['--db', db]);
    expect(chainOnly.code).toBe(0); // the chain alone cannot tell: that is the finding
    expect(chainOnly.err).toMatch(/signatures not checked \(give --public-key\)/);
    const r = await verify(['--db', db, '--public-key', pair.pub]);
    expect(r.code).toBe(1);
    expect(r.report).toMatchObject({ intact: false, seq: 3, reason: 'BAD_SIGNATURE' });
    expect(r.err).toMatch(/^audit: entry 3: BAD_SIGNATURE: entry 3 is not signed by the key SHA256:/);
  });

  test('a forged entry inserted without a signature, the rest renumbered and rehashed: UNSIGNED, named', async () => {
    const { db } = await resolvedStore(pair.key);
    const entries = entriesOf(db);
    withDatabase(db, (sql) => {
      sql.prepare('DELETE FROM audit_log').run();
      let prevHash = '0'.repeat(64);
      const forged = { ...entries[1]!, ref: 'FORGED', status: 'none', candidateCount: 0, disclosed: 0, records: [] };
      const rewritten = [entries[0]!, forged, ...entries.slice(1)];
      rewritten.forEach((e, i) => {
        const body = { ...e, prevHash };
        const hash = entryHash(body);
        const signature = e === forged ? null : (e as AuditEntry & { signature: string }).signature;
        sql
          .prepare(
            'INSERT INTO audit_log (seq, time, action, ref, status, candidate_count, disclosed, request_hash, result_hash, records, engine, prev_hash, hash, signature) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)',
          )
          .run(i + 1, ...auditRow({ ...body, hash }), signature);
        prevHash = hash;
      });
    });
    expect((await verify(['--db', db])).code).toBe(0);
    const r = await verify(['--db', db, '--public-key', pair.pub]);
    expect(r.report).toMatchObject({ intact: false, seq: 2, reason: 'UNSIGNED' });
  });

  test('a log signed by another key fails at entry 1', async () => {
    const { db } = await resolvedStore(pair.key);
    const other = await keys();
    expect((await verify(['--db', db, '--public-key', other.pub])).report).toMatchObject({ intact: false, seq: 1, reason: 'BAD_SIGNATURE' });
  });

  test('without a key the chain works as before and verify says it is unsigned; with --public-key an unsigned log fails at entry 1', async () => {
    const { db } = await resolvedStore();
    const r = await verify(['--db', db]);
    expect(r.code).toBe(0);
    expect(r.report).toMatchObject({ intact: true, signed: 0, key: null });
    expect(r.err).toMatch(/; unsigned \(no entry carries a signature/);
    expect((await verify(['--db', db, '--public-key', pair.pub])).report).toMatchObject({ intact: false, seq: 1, reason: 'UNSIGNED' });
  });

  test('the store setting auditKey signs when --audit-key is not given: resolve, estimate and purge', async () => {
    const db = await demoStore();
    const set = captureIo();
    expect(await main(['settings', '--db', db, '--audit-key', pair.key], set)).toBe(0);
    expect(JSON.parse(set.out())).toMatchObject({ auditKey: pair.key });
    expect(await main(['resolve', '--db', db, '--workers', '1'], captureIo(demoRequests))).toBe(1);
    expect(await main(['estimate', '--db', db, '--workers', '1'], captureIo(demoRequests))).toBe(1);
    expect(await main(['purge', '--db', db, '--before', '2026-03-01T00:00:00Z'], captureIo())).toBe(0);
    const r = await verify(['--db', db, '--public-key', pair.pub]);
    expect(r.code).toBe(0);
    expect(r.report).toMatchObject({ entries: 2 * demoRequests.trim().split('\n').length + 2, signed: 2 * demoRequests.trim().split('\n').length + 2 });
  });

  test('a records column holding non-JSON is a bad entry (exit 1, UNREADABLE), not a crash', async () => {
    const { db } = await resolvedStore(pair.key);
    withDatabase(db, (sql) => sql.prepare("UPDATE audit_log SET records = 'not json [' WHERE seq = 4").run());
    const r = await verify(['--db', db]);
    expect(r.code).toBe(1);
    expect(r.report).toMatchObject({ intact: false, seq: 4, reason: 'UNREADABLE' });
    expect(r.err).toMatch(/entry 4 cannot be read: its records column is not a JSON array/);
  });
});

describe('ipar audit head and verify --head: truncation is named', () => {
  test('head prints {seq, hash, signature}; entries removed from the end (sequence reset) fail against the head file', async () => {
    const { key, pub } = await keys();
    const { db } = await resolvedStore(key);
    const io = captureIo();
    expect(await main(['audit', 'head', '--db', db], io)).toBe(0);
    const head = JSON.parse(io.out()) as { seq: number; hash: string; signature: string };
    const entries = entriesOf(db);
    expect(head).toEqual({ seq: entries.length, hash: entries.at(-1)!.hash, signature: (entries.at(-1)! as AuditEntry & { signature: string }).signature });
    const headFile = join(tempDir(), 'head.json');
    writeFileSync(headFile, io.out());
    expect((await verify(['--db', db, '--head', headFile, '--public-key', pub])).code).toBe(0);
    withDatabase(db, (sql) => {
      sql.prepare('DELETE FROM audit_log WHERE seq > ?').run(head.seq - 2);
      sql.prepare("UPDATE sqlite_sequence SET seq = ? WHERE name = 'audit_log'").run(head.seq - 2);
    });
    expect((await verify(['--db', db, '--public-key', pub])).code).toBe(0); // no trace without the head
    const r = await verify(['--db', db, '--head', headFile, '--public-key', pub]);
    expect(r.report).toMatchObject({ intact: false, seq: head.seq - 1, reason: 'TRUNCATED' });
    expect(r.err).toMatch(new RegExp(`\\(entry ${head.seq}\\) is not in the log: entries after ${head.seq - 2} were removed`));
    // A hash on the command line works as before.
    expect((await verify(['--db', db, '--head', head.hash])).report).toMatchObject({ reason: 'TRUNCATED' });
  });

  test("cut back and written again past the head: the entry at the head's number is named", async () => {
    const { db } = await resolvedStore();
    const headIo = captureIo();
    await main(['audit', 'head', '--db', db], headIo);
    const head = JSON.parse(headIo.out()) as { seq: number };
    const headFile = join(tempDir(), 'head.json');
    writeFileSync(headFile, headIo.out());
    withDatabase(db, (sql) => {
      sql.prepare('DELETE FROM audit_log WHERE seq >= ?').run(head.seq - 1);
      sql.prepare("UPDATE sqlite_sequence SET seq = ? WHERE name = 'audit_log'").run(head.seq - 2);
    });
    await main(['resolve', '--db', db, '--workers', '1'], captureIo(demoRequests));
    const r = await verify(['--db', db, '--head', headFile]);
    expect(r.report).toMatchObject({ intact: false, seq: head.seq, reason: 'TRUNCATED' });
  });
});

describe('--sign-results: a disclosed answer checked on its own', () => {
  test('each line carries its entry (seq, hash, signature); check-result accepts it and refuses a changed line', async () => {
    const { key, pub } = await keys();
    const { db, out } = await resolvedStore(key, ['--sign-results']);
    const lines = out.trim().split('\n');
    const entries = entriesOf(db) as (AuditEntry & { signature: string })[];
    lines.forEach((line, i) => {
      const { audit } = JSON.parse(line) as { audit: { seq: number; hash: string; signature: string } };
      expect(audit).toEqual({ seq: entries[i]!.seq, hash: entries[i]!.hash, signature: entries[i]!.signature });
    });
    const resultsFile = join(tempDir(), 'results.ndjson');
    writeFileSync(resultsFile, out);
    const ok = captureIo();
    expect(await main(['audit', 'check-result', '--public-key', pub, resultsFile], ok)).toBe(0);
    expect(ndjson<{ valid: boolean }>(ok.out()).every((v) => v.valid)).toBe(true);
    const unique = lines.find((l) => l.includes('"status":"unique"'))!;
    const changed = captureIo(unique.replace('"status":"unique"', '"status":"none"') + '\n');
    expect(await main(['audit', 'check-result', '--public-key', pub], changed)).toBe(1);
    expect(ndjson(changed.out())[0]).toMatchObject({ valid: false, reason: 'BAD_SIGNATURE' });
    const bare = captureIo(unique.replace(/,"audit":.*\}$/, '}') + '\n');
    expect(await main(['audit', 'check-result', '--public-key', pub], bare)).toBe(1);
    expect(ndjson(bare.out())[0]).toMatchObject({ valid: false, reason: 'NOT_SEALED' });
  });

  test('without a key, --sign-results is a usage error and nothing is resolved', async () => {
    const db = await demoStore();
    const io = captureIo(demoRequests);
    expect(await main(['resolve', '--db', db, '--workers', '1', '--sign-results'], io)).toBe(2);
    expect(io.err()).toMatch(/--sign-results needs a signing key/);
    expect(io.out()).toBe('');
  });
});

describe('built CLI: workers sign identically, and nothing of the audit stays in -wal', () => {
  let cli = '';
  beforeAll(() => {
    cli = builtCli();
  }, 300_000);
  const run = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });

  test('--workers 1 and --workers 2 with --sign-results: the same lines and entries, every signature good; the .db alone holds every entry', async () => {
    const { key, pub } = await keys();
    const dir = tempDir();
    const db = await demoStore(dir);
    const requests = join(dir, 'requests.ndjson');
    writeFileSync(requests, Array.from({ length: 120 }, () => demoRequests.trim()).join('\n') + '\n'); // 1800 requests: 4 batches
    const strip = (out: string) => out.replace(/,"audit":\{[^}]*\}\}$/gm, '}');
    const runs = [1, 2].map((w) => {
      const audit = join(dir, `audit-${w}.db`);
      const r = run(['resolve', '--db', db, '--audit', audit, '--workers', String(w), '--audit-key', key, '--sign-results', requests]);
      expect(r.status).toBe(1); // BAD-TIME is invalid
      expect(existsSync(`${audit}-wal`) ? statSync(`${audit}-wal`).size : 0).toBe(0);
      // A copy of the .db file alone: every entry, chain and signatures intact.
      const copy = join(dir, `copy-${w}.db`);
      copyFileSync(audit, copy);
      expect(run(['audit', 'verify', '--db', copy, '--public-key', pub]).status).toBe(0);
      expect(entriesOf(copy)).toHaveLength(1800);
      const results = join(dir, `results-${w}.ndjson`);
      writeFileSync(results, r.stdout);
      expect(run(['audit', 'check-result', '--public-key', pub, results]).status).toBe(0);
      return { out: r.stdout, entries: entriesOf(audit) };
    });
    expect(strip(runs[1]!.out)).toBe(strip(runs[0]!.out));
    const content = ({ action, ref, status, candidateCount, disclosed, requestHash, resultHash, records }: AuditEntry) => ({
      action,
      ref,
      status,
      candidateCount,
      disclosed,
      requestHash,
      resultHash,
      records,
    });
    expect(runs[1]!.entries.map(content)).toEqual(runs[0]!.entries.map(content));
  }, 120_000);

  test('a default multi-worker resolve into the store: the .db alone (no -wal) holds every entry', async () => {
    const dir = tempDir();
    const db = await demoStore(dir);
    const requests = join(dir, 'requests.ndjson');
    writeFileSync(requests, Array.from({ length: 120 }, () => demoRequests.trim()).join('\n') + '\n');
    expect(run(['resolve', '--db', db, '--workers', '2', requests]).status).toBe(1);
    const copy = join(dir, 'copy.db');
    copyFileSync(db, copy);
    expect(run(['audit', 'verify', '--db', copy]).status).toBe(0);
    expect(entriesOf(copy)).toHaveLength(1800);
  }, 120_000);
});

describe('ipar backup: an online copy of a live store', () => {
  test('a backup taken while another connection holds entries only in its WAL verifies, with every entry the live store has', async () => {
    const db = (await resolvedStore()).db;
    const live = new Database(db);
    try {
      live.pragma('wal_autocheckpoint = 0'); // the live writer's entries stay in -wal
      const { openAuditLog } = await import('../../src/store/sqlite/audit.js');
      const log = openAuditLog(db);
      const draft = entriesOf(db)[0]!;
      log.append(
        T0,
        Array.from({ length: 300 }, (_, i) => ({ ...draft, ref: `LIVE-${i}` })),
      );
      // Still open: nothing checkpointed yet, and a plain copy of the .db misses them.
      expect(statSync(`${db}-wal`).size).toBeGreaterThan(0);
      const plain = join(tempDir(), 'plain.db');
      copyFileSync(db, plain);
      const backup = join(tempDir(), 'backup.db');
      const io = captureIo();
      expect(await main(['backup', '--db', db, '--to', backup], io)).toBe(0);
      expect(statSync(backup).mode & 0o777).toBe(0o600);
      expect(existsSync(`${backup}-wal`)).toBe(false);
      const liveReport = await verify(['--db', db]);
      const backupReport = await verify(['--db', backup]);
      expect(backupReport.code).toBe(0);
      expect(backupReport.report).toEqual(liveReport.report);
      expect(entriesOf(backup)).toEqual(entriesOf(db));
      expect(entriesOf(plain).length).toBeLessThan(entriesOf(db).length); // what a file copy loses
      expect(await main(['backup', '--db', db, '--to', backup], captureIo())).toBe(2); // never over a file
      (log as unknown as { close(): void }).close();
    } finally {
      live.close();
    }
  });
});
