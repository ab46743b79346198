import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, test } from 'vitest';
import { auditedBatches, ENGINE } from '../../src/audit/audited.js';
import { entryHash, GENESIS, verifyChain } from '../../src/audit/chain.js';
import { canonicalJson, hashJson, sha256 } from '../../src/audit/hash.js';
import { main } from '../../src/cli.js';
import { runResolve } from '../../src/cli/resolve.js';
import { packagePath } from '../../src/paths.js';
import type { Result } from '../../src/request.js';
import { openAuditLog } from '../../src/store/sqlite/audit.js';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import type { AuditDraft, AuditEntry } from '../../src/audit/types.js';
import {
  tempDir,
  builtCli,
  captureIo,
  demoStore,
  entriesOf,
  ndjson,
  NO_OTHER_USER,
  otherUser,
  withDatabase,
  auditRow,
  SET_AUDIT_ROW,
} from '../support/index.js';

const T0 = Date.parse('2026-04-01T09:00:00Z');
const demoRequests = readFileSync(packagePath('fixtures', 'demo', 'requests.ndjson'), 'utf8');
/** 9.14: a local authority may not ask for anything that processes connection records. */
const refused =
  '{"ref":"LA-DST","observations":[{"sourceIp":"203.0.113.70","sourcePort":40001,"time":"2026-03-28T10:00:00Z","destinationIp":"192.0.2.80"}],"authorisation":{"authorityType":"local-authority","condition":"A","purpose":"crime"}}';

function draft(i: number): AuditDraft {
  return {
    action: 'resolve',
    ref: `R${i}`,
    status: 'unique',
    candidateCount: 1,
    disclosed: 1,
    requestHash: sha256(`q${i}`),
    resultHash: sha256(`r${i}`),
    records: [`allocation::198.51.100.${i}:0:ACC-${i}`],
    engine: ENGINE,
  };
}

/** The built CLI, for the tests that run it as another user (built once, before any test times). */
let cli = '';
beforeAll(() => {
  cli = builtCli();
}, 300_000);

describe('canonical JSON and hashes', () => {
  test.each([
    ['keys sorted, no spaces', { b: 1, a: [true, null, 'x'] }, '{"a":[true,null,"x"],"b":1}'],
    ['undefined fields skipped, undefined in arrays is null', { a: undefined, b: [undefined] }, '{"b":[null]}'],
    ['non-finite numbers are null, as JSON.stringify writes them', [Infinity, NaN, -0], '[null,null,0]'],
    ['strings escaped as JSON.stringify does', { '\u0000"': 'é\n' }, '{"\\u0000\\"":"é\\n"}'],
  ])('%s', (_, value, text) => {
    expect(canonicalJson(value)).toBe(text);
  });

  test('a value nested 200 000 deep serialises (hostile requests are audited too)', () => {
    const deep = JSON.parse('['.repeat(200_000) + ']'.repeat(200_000)) as unknown;
    expect(canonicalJson(deep)).toHaveLength(400_000);
  });

  test('the same request written with other key order and spacing hashes the same', () => {
    expect(hashJson(JSON.parse('{ "ref": "R", "observations": [ {"time":"t","sourceIp":"ip"} ] }'))).toBe(
      hashJson({ observations: [{ sourceIp: 'ip', time: 't' }], ref: 'R' }),
    );
  });
});

describe('audited resolution: every resolution, estimate and refusal appends an entry', () => {
  let db = '';
  let out: Result[] = [];
  const lines = [...demoRequests.trim().split('\n'), refused, '{not json'];
  beforeAll(async () => {
    db = await demoStore();
    const io = captureIo(lines.join('\n') + '\n');
    expect(await runResolve({ db, file: '-', pretty: false, now: () => T0 }, io)).toBe(1); // BAD-TIME and the broken line are invalid
    out = ndjson<Result>(io.out());
  });

  test('one entry per request, in input order, stamped with the clock passed in, chained from GENESIS', () => {
    const entries = entriesOf(db);
    expect(entries.map((e) => e.ref)).toEqual(out.map((r) => r.ref));
    expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i + 1));
    expect(new Set(entries.map((e) => e.time))).toEqual(new Set([T0]));
    expect(entries[0]!.prevHash).toBe(GENESIS);
    entries.forEach((e, i) => {
      if (i > 0) expect(e.prevHash).toBe(entries[i - 1]!.hash);
      expect(e.hash).toBe(entryHash(e));
      expect(e.engine).toBe(`ipar@${(JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string }).version}`);
      expect(e.action).toBe('resolve');
    });
  });

  test('request and result hashes: sha256 of the canonical JSON of the request line and of the result line as printed', () => {
    const entries = entriesOf(db);
    entries.forEach((e, i) => {
      expect(e.resultHash).toBe(sha256(JSON.stringify(out[i])));
      expect(e.status).toBe(out[i]!.status);
      if (i < lines.length - 1) expect(e.requestHash).toBe(hashJson(JSON.parse(lines[i]!)));
    });
    // A line that is not JSON is hashed as it was read.
    expect(entries.at(-1)!.requestHash).toBe(sha256('{not json'));
  });

  test('records consulted: the evidence ids of the result; none when identities were withheld', () => {
    for (const [i, e] of entriesOf(db).entries()) {
      const r = out[i]!;
      expect(e.records).toEqual([...new Set(r.candidates.flatMap((c) => c.evidence.map((x) => x.id)))]);
      expect(e.disclosed).toBe(r.candidates.length);
      expect(e.candidateCount).toBe(r.candidateCount);
    }
    const noport = entriesOf(db).find((e) => e.ref === 'PBA-NOPORT')!;
    expect([noport.status, noport.candidateCount, noport.disclosed, noport.records]).toEqual(['multiple', 2, 0, []]);
  });

  test('a refusal is audited like any result', () => {
    const e = entriesOf(db).find((x) => x.ref === 'LA-DST')!;
    expect([e.status, e.disclosed, e.records]).toEqual(['refused', 0, []]);
  });

  test('estimate appends entries with action "estimate" and no records', async () => {
    const io = captureIo(demoRequests.split('\n')[5]! + '\n');
    expect(await runResolve({ db, file: '-', pretty: false, estimate: true, now: () => T0 + 1 }, io)).toBe(0);
    const e = entriesOf(db).at(-1)!;
    expect([e.action, e.ref, e.status, e.candidateCount, e.disclosed, e.records, e.time]).toEqual(['estimate', 'PBA-NOPORT', 'multiple', 2, 0, [], T0 + 1]);
  });

  test("ipar audit show --ref prints that request's entries as NDJSON; an unknown ref exits 1", async () => {
    const io = captureIo();
    expect(await main(['audit', 'show', '--db', db, '--ref', 'PBA-NOPORT'], io)).toBe(0);
    const shown = ndjson<Record<string, unknown>>(io.out());
    expect(shown.map((e) => [e['ref'], e['action']])).toEqual([
      ['PBA-NOPORT', 'resolve'],
      ['PBA-NOPORT', 'estimate'],
    ]);
    expect(shown[0]!['time']).toBe('2026-04-01T09:00:00.000Z');
    expect(Object.keys(shown[0]!).sort()).toEqual([
      'action',
      'candidateCount',
      'disclosed',
      'engine',
      'hash',
      'prevHash',
      'records',
      'ref',
      'requestHash',
      'resultHash',
      'seq',
      'status',
      'time',
    ]);
    expect(await main(['audit', 'show', '--db', db, '--ref', 'NO-SUCH'], captureIo())).toBe(1);
  });

  test('ipar audit verify: exit 0 and the head on an intact chain', async () => {
    const io = captureIo();
    expect(await main(['audit', 'verify', '--db', db], io)).toBe(0);
    const report = JSON.parse(io.out()) as { intact: boolean; entries: number; head: string };
    expect(report).toMatchObject({ intact: true, entries: entriesOf(db).length, head: entriesOf(db).at(-1)!.hash });
  });
});

describe('ipar audit verify names the first entry changed, removed or reordered', () => {
  /** A log of 6 entries in a fresh file, tampered with by `tamper`. */
  function tampered(tamper: (db: Parameters<Parameters<typeof withDatabase>[1]>[0], entries: AuditEntry[]) => void): string {
    const file = join(tempDir(), 'audit.db');
    const log = openAuditLog(file);
    for (let i = 1; i <= 6; i++) log.append(T0 + i, [draft(i)]);
    log.close();
    const entries = entriesOf(file);
    withDatabase(file, (db) => tamper(db, entries));
    return file;
  }

  test.each<[string, (db: Parameters<Parameters<typeof withDatabase>[1]>[0], e: AuditEntry[]) => void, number, string]>([
    ['a field changed', (db) => db.prepare("UPDATE audit_log SET status = 'none' WHERE seq = 3").run(), 3, 'CHANGED'],
    ['the records consulted changed', (db) => db.prepare("UPDATE audit_log SET records = '[]' WHERE seq = 4").run(), 4, 'CHANGED'],
    ['the time changed', (db) => db.prepare('UPDATE audit_log SET time = time + 1 WHERE seq = 2').run(), 2, 'CHANGED'],
    [
      'a field changed and its hash recomputed',
      (db, e) => {
        const changed = { ...e[2]!, status: 'none' };
        db.prepare('UPDATE audit_log SET status = ?, hash = ? WHERE seq = 3').run('none', entryHash(changed));
      },
      3,
      'BROKEN_LINK',
    ],
    ['an entry removed', (db) => db.prepare('DELETE FROM audit_log WHERE seq = 4').run(), 4, 'REMOVED'],
    ['the first entry removed', (db) => db.prepare('DELETE FROM audit_log WHERE seq = 1').run(), 1, 'REMOVED'],
    [
      'an entry removed and the rest renumbered',
      (db) => {
        db.prepare('DELETE FROM audit_log WHERE seq = 4').run();
        db.prepare('UPDATE audit_log SET seq = seq - 1 WHERE seq > 4').run();
      },
      3,
      'BROKEN_LINK',
    ],
    [
      'two entries swapped',
      (db, e) => {
        db.prepare(SET_AUDIT_ROW).run(...auditRow(e[4]!), 4);
        db.prepare(SET_AUDIT_ROW).run(...auditRow(e[3]!), 5);
      },
      4,
      'REORDERED',
    ],
    [
      'entries removed from the end, then one appended',
      (db, e) => {
        db.prepare('DELETE FROM audit_log WHERE seq > 4').run();
        // what the log itself does on the next append: chain after the (new) head
        const body = { ...draft(7), records: [...draft(7).records], time: T0 + 7, prevHash: e[3]!.hash };
        db.prepare(
          'INSERT INTO audit_log (time, action, ref, status, candidate_count, disclosed, request_hash, result_hash, records, engine, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)',
        ).run(...auditRow({ ...body, seq: 0, hash: entryHash(body) }));
      },
      5,
      'REMOVED',
    ],
  ])('%s', async (_, tamper, seq, reason) => {
    const file = tampered(tamper);
    const io = captureIo();
    expect(await main(['audit', 'verify', '--db', file], io)).toBe(1);
    expect(JSON.parse(io.out())).toMatchObject({ intact: false, seq, reason });
    expect(io.err()).toMatch(new RegExp(`^audit: entry ${seq}: ${reason}: `));
  });

  test('entries removed from the end are caught against a head recorded earlier (--head)', async () => {
    let head = '';
    const file = tampered((db, e) => {
      head = e[5]!.hash;
      db.prepare('DELETE FROM audit_log WHERE seq > 4').run();
    });
    expect(await main(['audit', 'verify', '--db', file], captureIo())).toBe(0); // no trace without an anchor
    const io = captureIo();
    expect(await main(['audit', 'verify', '--db', file, '--head', head], io)).toBe(1);
    expect(JSON.parse(io.out())).toMatchObject({ intact: false, seq: 5, reason: 'TRUNCATED' });
  });

  test('an intact chain passes with its own head; an empty log is intact; a missing file is exit 2', async () => {
    const file = tampered(() => undefined);
    const head = entriesOf(file).at(-1)!.hash;
    expect(await main(['audit', 'verify', '--db', file, '--head', head], captureIo())).toBe(0);
    const empty = join(tempDir(), 'empty.db');
    openAuditLog(empty).close();
    expect(verifyChain(entriesOf(empty), () => null)).toEqual({ intact: true, entries: 0, head: null, lastSeq: 0 });
    const io = captureIo();
    expect(await main(['audit', 'verify', '--db', join(tempDir(), 'none.db')], io)).toBe(2);
    expect(io.err()).toMatch(/no audit log at/);
  });
});

describe('the audit is never skipped', () => {
  test('two logs writing one file interleave into one chain', () => {
    const file = join(tempDir(), 'audit.db');
    const a = openAuditLog(file);
    const b = openAuditLog(file);
    for (let i = 0; i < 10; i++) (i % 2 === 0 ? a : b).append(T0 + i, [draft(i), draft(i + 100)]);
    a.close();
    b.close();
    expect(verifyChain(entriesOf(file), () => null)).toMatchObject({ intact: true, entries: 20 });
  });

  test('when the audit cannot be written mid-run, that batch is not returned and the run fails', async () => {
    const db = await demoStore();
    const auditFile = join(tempDir(), 'audit.db');
    const request = JSON.parse(demoRequests.split('\n')[0]!) as unknown;
    const store = openSqliteStore(db, { readonly: true });
    const audit = openAuditLog(auditFile);
    const other = new Database(auditFile); // another writer, which will hold the write lock
    async function* items(): AsyncGenerator<{ request: unknown }> {
      yield { request };
      yield { request };
      other.exec('BEGIN EXCLUSIVE'); // pulled only after the first batch was audited and returned
      yield { request };
      yield { request };
    }
    const results: unknown[] = [];
    try {
      await expect(
        (async () => {
          for await (const r of auditedBatches('resolve', store, audit, items(), { now: () => T0, batchSize: 2 })) results.push(r);
        })(),
      ).rejects.toMatchObject({ code: 'AUDIT_WRITE_FAILED' });
    } finally {
      other.exec('ROLLBACK');
      other.close();
      store.close();
      audit.close();
    }
    expect(results).toHaveLength(2);
    expect(entriesOf(auditFile)).toHaveLength(2);
  });

  test('a store that is read-only for this user: resolve refuses (exit 2, no result) unless --audit names a writable audit database', (ctx) => {
    const asOther = otherUser(cli);
    if (asOther === null) ctx.skip(NO_OTHER_USER);
    const dir = tempDir();
    const storeDir = join(dir, 'ro');
    const db = join(storeDir, 'store.db');
    return demoStore(storeDir).then(() => {
      // The user may read the store but not write it (nor its directory, so not even
      // its -shm: resolve must still open it read-only… which SQLite cannot do for a WAL
      // database without a writable directory, so the directory stays writable here and
      // the file itself is read-only).
      chmodSync(db, 0o644);
      chmodSync(dir, 0o777);
      chmodSync(storeDir, 0o777);
      const requests = join(dir, 'requests.ndjson');
      writeFileSync(requests, demoRequests.split('\n')[0]! + '\n', { mode: 0o644 });
      if (asOther!.uid === undefined) chmodSync(db, 0o444);
      const run = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { ...asOther, encoding: 'utf8' });
      const refusedRun = run(['resolve', '--db', db, requests]);
      expect(refusedRun.status).toBe(2);
      expect(refusedRun.stdout).toBe('');
      expect(refusedRun.stderr).toMatch(/cannot write the audit log in .*store\.db.*nothing was resolved \(give --audit FILE/);
      const audited = run(['resolve', '--db', db, '--audit', join(dir, 'audit.db'), requests]);
      expect(audited.status).toBe(0);
      expect((JSON.parse(audited.stdout) as Result).status).toBe('unique');
      expect(entriesOf(join(dir, 'audit.db')).map((e) => e.ref)).toEqual(['DYN-1']);
    });
  });
});
