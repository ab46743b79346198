import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, test } from 'vitest';
import { main } from '../../src/cli.js';
import { runPurge } from '../../src/cli/purge.js';
import { runResolve } from '../../src/cli/resolve.js';
import type { Result } from '../../src/request.js';
import { openAuditLog } from '../../src/store/sqlite/audit.js';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import { tempDir, captureIo, ndjson, storeDigest } from '../support/index.js';

const NOW = () => Date.parse('2026-04-01T00:00:00Z');
const HORIZON = '2026-03-20T00:00:00Z';
const PURGED_MAC = '02:00:5e:aa:aa:01';

const RECORDS = [
  { kind: 'address-space', prefix: '198.51.100.0/24', role: 'dynamic' },
  { kind: 'address-space', prefix: '203.0.113.0/26', role: 'cgnat-outside', realm: 'cgn-a' },
  { kind: 'subscriber', account: 'ACC-A', type: 'residential' },
  // ended before the horizon: purged
  { kind: 'allocation', account: 'ACC-A', ip: '198.51.100.7', start: '2026-03-01T00:00:00Z', end: '2026-03-10T00:00:00Z', source: 'dhcp', mac: PURGED_MAC },
  // ended exactly at the horizon ([start, end) holds nothing from the horizon on): purged
  { kind: 'allocation', account: 'ACC-B', ip: '198.51.100.7', start: '2026-03-10T00:00:00Z', end: HORIZON, source: 'dhcp', mac: '02:00:5e:aa:aa:02' },
  // straddles the horizon: kept
  { kind: 'allocation', account: 'ACC-C', ip: '198.51.100.7', start: '2026-03-19T00:00:00Z', end: '2026-03-25T00:00:00Z', source: 'dhcp' },
  // open: kept
  { kind: 'allocation', account: 'ACC-D', ip: '198.51.100.8', start: '2026-03-01T00:00:00Z', end: null, source: 'dhcp' },
  {
    kind: 'allocation',
    account: 'ACC-E',
    ip: '100.64.0.5',
    realm: 'cgn-a',
    start: '2026-03-01T00:00:00Z',
    end: '2026-03-05T00:00:00Z',
    source: 'radius',
    imsi: '234150000000005',
  },
  {
    kind: 'nat-block',
    realm: 'cgn-a',
    insideIp: '100.64.0.5',
    outsideIp: '203.0.113.7',
    portFirst: 1024,
    portLast: 1535,
    start: '2026-03-01T00:00:00Z',
    end: '2026-03-05T00:00:00Z',
  },
  {
    kind: 'nat-session',
    realm: 'cgn-a',
    insideIp: '100.64.0.5',
    insidePort: 5000,
    outsideIp: '203.0.113.8',
    outsidePort: 40000,
    protocol: 'tcp',
    start: '2026-03-02T00:00:00Z',
    end: '2026-03-02T00:01:00Z',
  },
  {
    kind: 'nat-deterministic',
    realm: 'cgn-a',
    insidePrefix: '100.65.0.0/24',
    outsidePrefix: '203.0.113.32/30',
    portFirst: 1024,
    portLast: 65535,
    algorithm: 'vpp-det44',
    start: '2026-03-01T00:00:00Z',
    end: null,
  },
  { kind: 'coverage', source: 'dhcp', start: '2026-03-03T00:00:00Z', end: '2026-03-04T00:00:00Z', status: 'gap' },
  { kind: 'coverage', source: 'dhcp', start: '2026-03-22T00:00:00Z', end: '2026-03-23T00:00:00Z', status: 'gap' },
];

const request = (ref: string, ip: string, time: string): string => JSON.stringify({ ref, observations: [{ sourceIp: ip, time }], toleranceSeconds: 1 });

async function resolveAll(db: string, lines: string[]): Promise<Result[]> {
  const io = captureIo(lines.join('\n') + '\n');
  await runResolve({ db, file: '-', pretty: false, now: NOW }, io);
  return ndjson<Result>(io.out());
}

let db = '';
beforeEach(async () => {
  const dir = tempDir();
  db = join(dir, 'store.db');
  const input = join(dir, 'records.ndjson');
  writeFileSync(input, RECORDS.map((r) => JSON.stringify(r)).join('\n') + '\n');
  expect(await main(['ingest', '--db', db, input], captureIo())).toBe(0);
});

describe('ipar purge', () => {
  test('deletes the records that ended at or before the horizon; open, straddling and interval-less records stay', async () => {
    const before = storeDigest(db).counts;
    const io = captureIo();
    expect(await runPurge({ db, before: HORIZON, now: NOW }, io)).toBe(0);
    expect(JSON.parse(io.out())).toEqual({
      before: '2026-03-20T00:00:00.000Z',
      deleted: { allocation: 3, 'nat-block': 1, 'nat-session': 1, 'nat-deterministic': 0, coverage: 1, connection: 0 },
      retentionHorizon: '2026-03-20T00:00:00.000Z',
    });
    const after = storeDigest(db).counts;
    expect(after).toEqual({
      ...before,
      meta: before['meta']! + 1,
      allocation: 2,
      nat_block: 0,
      nat_session: 0,
      coverage: 1,
      account: before['account']! - 2,
      device: 0,
    });
    expect(after['address_space']).toBe(2);
    expect(after['nat_deterministic']).toBe(1);
  });

  test('later requests over purged time are flagged BEYOND_RETENTION, not a silent "none"; later time still resolves', async () => {
    const lines = [
      request('OLD', '198.51.100.7', '2026-03-05T00:00:00Z'),
      request('STRADDLE', '198.51.100.7', '2026-03-21T00:00:00Z'),
      request('OPEN', '198.51.100.8', '2026-03-05T00:00:00Z'),
    ];
    const [old] = await resolveAll(db, lines);
    expect([old!.status, old!.candidates.map((c) => c.account)]).toEqual(['unique', ['ACC-A']]);
    expect(old!.risks.map((r) => r.code)).not.toContain('BEYOND_RETENTION');

    expect(await main(['purge', '--db', db, '--before', HORIZON], captureIo())).toBe(0);
    const [gone, straddle, open] = await resolveAll(db, lines);
    expect(gone!.status).toBe('none');
    expect(gone!.risks.map((r) => r.code)).toContain('BEYOND_RETENTION');
    expect([straddle!.status, straddle!.candidates.map((c) => c.account), straddle!.risks.map((r) => r.code)]).toEqual([
      'unique',
      ['ACC-C'],
      expect.not.arrayContaining(['BEYOND_RETENTION']),
    ]);
    expect([open!.status, open!.candidates.map((c) => c.account)]).toEqual(['unique', ['ACC-D']]);
    expect(open!.risks.map((r) => r.code)).toContain('BEYOND_RETENTION');
  });

  test('the purge is in the audit log: an entry before it and one after, with the counts', async () => {
    expect(await runPurge({ db, before: HORIZON, now: NOW }, captureIo())).toBe(0);
    const log = openAuditLog(db, { readonly: true });
    const entries = log.find({ action: 'purge' });
    log.close();
    expect(entries.map((e) => [e.action, e.status, e.time, e.ref])).toEqual([
      ['purge', 'started', NOW(), null],
      ['purge', 'done', NOW(), null],
    ]);
    const io = captureIo();
    expect(await main(['audit', 'show', '--db', db, '--action', 'purge'], io)).toBe(0);
    expect(ndjson(io.out())).toHaveLength(2);
    expect(await main(['audit', 'verify', '--db', db], captureIo())).toBe(0);
  });

  test('purged identifiers are gone from the file itself, not just from the tables (secure delete, WAL truncated)', async () => {
    expect(readFileSync(db).includes(PURGED_MAC)).toBe(true);
    expect(await runPurge({ db, before: HORIZON, now: NOW }, captureIo())).toBe(0);
    for (const file of [db, db + '-wal']) {
      if (existsSync(file)) expect(readFileSync(file).includes(PURGED_MAC)).toBe(false);
    }
  });

  test('the horizon only moves forward; a later write on the same store works after a purge', async () => {
    expect(await runPurge({ db, before: HORIZON, now: NOW }, captureIo())).toBe(0);
    const io = captureIo();
    expect(await runPurge({ db, before: '2026-03-01T00:00:00Z', now: NOW }, io)).toBe(0);
    expect(JSON.parse(io.out())).toMatchObject({ retentionHorizon: '2026-03-20T00:00:00.000Z' });
    const store = openSqliteStore(db);
    store.purge(Date.parse('2026-03-21T00:00:00Z'));
    // Interned ids of purged accounts and devices must not be reused for new rows.
    const { CanonicalRecord } = await import('../../src/records.js');
    store.write([
      CanonicalRecord.parse({
        kind: 'allocation',
        account: 'ACC-A',
        ip: '198.51.100.9',
        start: '2026-03-30T00:00:00Z',
        end: null,
        source: 'dhcp',
        mac: PURGED_MAC,
      }),
    ]);
    store.close();
    const [r] = await resolveAll(db, [request('NEW', '198.51.100.9', '2026-03-31T00:00:00Z')]);
    expect([r!.status, r!.candidates.map((c) => c.account)]).toEqual(['unique', ['ACC-A']]);
  });

  test.each([
    ['a horizon in the future', ['--before', '2026-05-01T00:00:00Z'], /is in the future/],
    ['a horizon without offset', ['--before', '2026-03-20T00:00:00'], /--before: .*offset/],
  ])('%s is a usage error (exit 2), nothing deleted', async (_, args, message) => {
    const before = storeDigest(db).digest;
    await expect(runPurge({ db, before: args[1]!, now: NOW }, captureIo())).rejects.toThrow(message);
    expect(storeDigest(db).digest).toBe(before);
  });

  test('through the CLI, a usage error is exit 2 with one line on stderr', async () => {
    const io = captureIo();
    expect(await main(['purge', '--db', db, '--before', '2999-01-01T00:00:00Z'], io)).toBe(2);
    expect(io.err()).toMatch(/^ipar: USAGE: --before 2999-01-01T00:00:00.000Z is in the future/);
  });

  test('a missing store is exit 2 and is not created', async () => {
    const missing = join(tempDir(), 'none.db');
    const io = captureIo();
    expect(await main(['purge', '--db', missing, '--before', HORIZON], io)).toBe(2);
    expect(io.err()).toMatch(/no store at/);
    expect(existsSync(missing)).toBe(false);
  });
});
