import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { main } from '../../src/cli.js';
import { runResolve } from '../../src/cli/resolve.js';
import { shortValue } from '../../src/problems.js';
import { CanonicalRecord } from '../../src/records.js';
import type { Result } from '../../src/request.js';
import { openAuditLog } from '../../src/store/sqlite/audit.js';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import { propertyRun, tempDir, builtCli, captureIo, demoStore, ndjson, NO_OTHER_USER, otherUser } from '../support/index.js';

const mode = (file: string): string => (statSync(file).mode & 0o777).toString(8);
/** A file's content hash; an absent file counts as empty (a reader may leave an empty -wal). */
const sha = (file: string): string =>
  createHash('sha256')
    .update(existsSync(file) ? readFileSync(file) : Buffer.alloc(0))
    .digest('hex');

/** The built CLI, for the tests that run it as another user (built once, before any test times). */
let cli = '';
beforeAll(() => {
  cli = builtCli();
}, 300_000);

describe('files ipar creates are readable by the owner only (0600), whatever the umask', () => {
  let umask = 0;
  beforeAll(() => {
    umask = process.umask(0); // the most permissive: nothing may rely on it
  });
  afterAll(() => {
    process.umask(umask);
  });

  test('a store, its -wal and -shm', () => {
    const db = join(tempDir(), 'store.db');
    const store = openSqliteStore(db);
    store.write([CanonicalRecord.parse({ kind: 'subscriber', account: 'A', type: 'residential' })]);
    expect([mode(db), mode(db + '-wal'), mode(db + '-shm')]).toEqual(['600', '600', '600']);
    store.close();
  });

  test('ingest: the store and the rejects file', async () => {
    const dir = tempDir();
    const input = join(dir, 'in.ndjson');
    writeFileSync(input, '{"kind":"subscriber","account":"A","type":"residential"}\nnot json\n');
    expect(await main(['ingest', '--db', join(dir, 'op.db'), '--rejects', join(dir, 'rejects.ndjson'), input], captureIo())).toBe(1);
    expect([mode(join(dir, 'op.db')), mode(join(dir, 'rejects.ndjson'))]).toEqual(['600', '600']);
  });

  test('a separate audit database, its -wal and -shm', async () => {
    const db = await demoStore();
    const audit = join(tempDir(), 'audit.db');
    const log = openAuditLog(audit);
    expect([mode(audit), mode(audit + '-wal'), mode(audit + '-shm')]).toEqual(['600', '600', '600']);
    log.close();
    expect(
      await main(
        ['resolve', '--db', db, '--audit', join(tempDir(), 'a2.db'), '-'],
        captureIo('{"ref":"R","observations":[{"sourceIp":"198.51.100.7","time":"2026-03-28T10:00:00Z"}]}\n'),
      ),
    ).toBe(0);
  });

  test('an existing file keeps the mode its owner gave it', () => {
    const db = join(tempDir(), 'shared.db');
    writeFileSync(db, '');
    chmodSync(db, 0o640);
    openSqliteStore(db).close();
    expect(mode(db)).toBe('640');
  });
});

describe('resolve opens the store read-only', () => {
  test('with --audit elsewhere, resolving leaves the store file and its WAL byte for byte as they were', async () => {
    const db = await demoStore();
    const before = [sha(db), sha(db + '-wal')];
    const io = captureIo(readFileSync(join(import.meta.dirname, '../../fixtures/demo/requests.ndjson'), 'utf8'));
    expect(await main(['resolve', '--db', db, '--audit', join(tempDir(), 'audit.db'), '-'], io)).toBe(1);
    expect(ndjson(io.out()).length).toBe(15);
    expect([sha(db), sha(db + '-wal')]).toEqual(before);
  });

  test('the store connection refuses writes', async () => {
    const store = openSqliteStore(await demoStore(), { readonly: true });
    expect(() => store.write([])).toThrow(expect.objectContaining({ code: 'STORE_READONLY' }));
    expect(() => store.purge(0)).toThrow(expect.objectContaining({ code: 'STORE_READONLY' }));
    store.close();
  });

  test('a store in a directory this user cannot write: a clear I/O error (exit 2), not an internal one', async (ctx) => {
    const asOther = otherUser(cli);
    if (asOther === null) ctx.skip(NO_OTHER_USER);
    const dir = tempDir();
    const db = await demoStore(join(dir, 'ro'));
    chmodSync(db, 0o644);
    chmodSync(dir, 0o755);
    chmodSync(join(dir, 'ro'), 0o555);
    const run = spawnSync(process.execPath, [cli, 'resolve', '--db', db, '--audit', join(tempDir(), 'audit.db'), '-'], {
      ...asOther,
      input: '{"ref":"R","observations":[{"sourceIp":"198.51.100.7","time":"2026-03-28T10:00:00Z"}]}\n',
      encoding: 'utf8',
    });
    chmodSync(join(dir, 'ro'), 0o755);
    expect(run.stderr).toMatch(/^ipar: (STORE_OPEN_FAILED: cannot read store|AUDIT_UNAVAILABLE: cannot write the audit log)/);
    expect(run.status).toBe(2);
  });
});

describe('withheld results never carry identities', () => {
  // Eight accounts behind two CGNAT outside addresses, four port blocks each.
  const accounts = Array.from({ length: 8 }, (_, k) => ({
    account: `ACC-SECRET-${k}`,
    imsi: `23415000000000${k}`,
    msisdn: `44770090000${k}`,
    imei: `3569380356400${k}`,
    mac: `02:00:5e:00:00:0${k}`,
  }));
  const secrets = accounts.flatMap((a) => Object.values(a));
  let db = '';
  let audit = '';
  beforeAll(async () => {
    const dir = tempDir();
    const lines = [
      { kind: 'address-space', prefix: '203.0.113.0/26', role: 'cgnat-outside', realm: 'cgn-a' },
      ...accounts.flatMap((a, k) => [
        { kind: 'subscriber', account: a.account, type: 'mobile' },
        { kind: 'allocation', ...a, ip: `100.64.0.${k}`, realm: 'cgn-a', start: '2026-03-28T00:00:00Z', end: '2026-03-29T00:00:00Z', source: 'radius' },
        {
          kind: 'nat-block',
          realm: 'cgn-a',
          insideIp: `100.64.0.${k}`,
          outsideIp: `203.0.113.${k % 2}`,
          portFirst: 1024 + 512 * Math.floor(k / 2),
          portLast: 1535 + 512 * Math.floor(k / 2),
          start: '2026-03-28T00:00:00Z',
          end: '2026-03-29T00:00:00Z',
        },
      ]),
    ];
    writeFileSync(join(dir, 'records.ndjson'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    db = join(dir, 'store.db');
    audit = join(dir, 'audit.db');
    expect(await main(['ingest', '--db', db, join(dir, 'records.ndjson')], captureIo())).toBe(0);
  });

  const observation = fc
    .record({
      sourceIp: fc.constantFrom('203.0.113.0', '203.0.113.1'),
      sourcePort: fc.option(fc.integer({ min: 1024, max: 3071 }), { nil: undefined }),
      time: fc.integer({ min: 0, max: 86_399 }).map((s) => new Date(Date.parse('2026-03-28T00:00:00Z') + s * 1000).toISOString()),
    })
    .map((o) => (o.sourcePort === undefined ? { sourceIp: o.sourceIp, time: o.time } : o));
  const request = fc.record({
    observations: fc.array(observation, { minLength: 1, maxLength: 3 }),
    returnPolicy: fc.constantFrom('single-only', 'allow-multiple'),
    maxCandidates: fc.integer({ min: 1, max: 5 }),
  });

  test('law (no disclosure when withheld): over a batch, a withheld result, its audit entry and every estimate name no account or identifier', async () => {
    const run = propertyRun('withheld results carry no identities', 40);
    await fc.assert(
      fc.asyncProperty(fc.array(request, { minLength: 1, maxLength: 40 }), async (requests) => {
        const input = requests.map((r, i) => JSON.stringify({ ref: `Q${i}`, ...r })).join('\n') + '\n';
        const io = captureIo(input);
        expect(await runResolve({ db, audit, file: '-', pretty: false, now: () => 0 }, io)).toBe(0);
        const results = ndjson<Result>(io.out());
        expect(results).toHaveLength(requests.length);
        const log = openAuditLog(audit, { readonly: true });
        try {
          for (const r of results) {
            if (!r.withheld) {
              expect(r.candidates).toHaveLength(r.candidateCount);
              continue;
            }
            expect(r.candidates).toEqual([]);
            const text = JSON.stringify(r);
            for (const s of secrets) expect(text).not.toContain(s);
            const entries = log.find({ ref: r.ref! });
            const entry = JSON.stringify(entries.at(-1));
            for (const s of secrets) expect(entry).not.toContain(s);
          }
        } finally {
          log.close();
        }
        const estimate = captureIo(input);
        await runResolve({ db, audit, file: '-', pretty: false, estimate: true, now: () => 0 }, estimate);
        for (const s of secrets) expect(estimate.out()).not.toContain(s);
      }),
      run,
    );
  });

  test('the batch does withhold (the property is not vacuous)', async () => {
    const io = captureIo('{"ref":"W","observations":[{"sourceIp":"203.0.113.0","time":"2026-03-28T10:00:00Z"}]}\n');
    await runResolve({ db, audit, file: '-', pretty: false, now: () => 0 }, io);
    expect(JSON.parse(io.out())).toMatchObject({ status: 'multiple', candidateCount: 4, withheld: true, candidates: [] });
  });
});

describe('errors never echo whole records', () => {
  const SECRET = 'SECRET-CUSTOMER-00042';
  test('shortValue caps a value at 200 characters', () => {
    expect(shortValue('x'.repeat(1000))).toBe('x'.repeat(200) + '…');
    expect(shortValue({ a: 'y'.repeat(1000) })).toHaveLength(201);
    expect(shortValue({ a: 1 })).toEqual({ a: 1 });
  });

  test('ingest: a rejected long record shows at most 200 characters of it, on stderr and in --rejects', async () => {
    const dir = tempDir();
    const input = join(dir, 'in.ndjson');
    const record = {
      kind: 'allocation',
      account: 'ACC-1',
      ip: '198.51.100.7',
      start: '2026-03-28T10:00:00',
      end: null,
      source: 'dhcp',
      sessionId: 'z'.repeat(300) + SECRET,
    };
    writeFileSync(
      input,
      [
        record,
        { ...record, start: '2026-03-28T10:00:00Z', unknownField: 'u'.repeat(300) + SECRET },
        { ...record, start: '2026-03-28T10:00:00Z', ip: 'i'.repeat(300) + SECRET },
        { ...record, start: '2026-03-28T10:00:00Z', ['k'.repeat(300) + SECRET]: 1 },
      ]
        .map((r) => JSON.stringify(r))
        .join('\n') + '\n',
    );
    const io = captureIo();
    expect(await main(['ingest', '--db', join(dir, 'op.db'), '--rejects', join(dir, 'rejects.ndjson'), input], io)).toBe(1);
    const rejects = readFileSync(join(dir, 'rejects.ndjson'), 'utf8');
    expect(io.err()).not.toContain(SECRET);
    expect(rejects).not.toContain(SECRET);
    for (const r of ndjson<{ input: string; problems: { value?: unknown }[] }>(rejects)) {
      expect(r.input.length).toBeLessThanOrEqual(201);
      for (const p of r.problems) expect(JSON.stringify(p.value ?? '').length).toBeLessThanOrEqual(210);
    }
  });

  test('resolve: an invalid request shows at most 200 characters of any value, and a broken line none of its text', async () => {
    const db = await demoStore();
    const lines = [
      JSON.stringify({ ref: 'R1', observations: [{ sourceIp: '198.51.100.7', time: '2026-03-28T10:00:00Z', fqdn: 'f'.repeat(300) + SECRET }] }),
      JSON.stringify({ ref: 'R2', observations: [{ sourceIp: 'x'.repeat(300) + SECRET, time: '2026-03-28T10:00:00Z' }] }),
      JSON.stringify({ ref: 'R4', observations: [{ sourceIp: '198.51.100.7', time: '2026-03-28T10:00:00Z' }], ['k'.repeat(300) + SECRET]: 1 }),
      '{"ref":"R3","observations":' + 'y'.repeat(300) + SECRET,
    ];
    const io = captureIo(lines.join('\n') + '\n');
    expect(await main(['resolve', '--db', db, '--audit', join(tempDir(), 'a.db')], io)).toBe(1);
    expect(io.out()).not.toContain(SECRET);
    expect(io.err()).not.toContain(SECRET);
    expect(ndjson<Result>(io.out()).map((r) => r.status)).toEqual(['invalid', 'invalid', 'invalid', 'invalid']);
  });
});
