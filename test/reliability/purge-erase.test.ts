/**
 * Issue 20, item 4: after `ipar purge`, no byte of a purged record is left anywhere in
 * the store's files — not in freed pages, not in the interior pages of the indexes (whose
 * divider keys are copies of rows, deleted or not), not in the WAL.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { main } from '../../src/cli.js';
import { tempDir, captureIo, integrity, storeDigest } from '../support/index.js';

const N = 6000;
const pad = (i: number) => String(i).padStart(6, '0');

/** `strings`, as the issue ran it: every purged value still found in the bytes of these files. */
function survivors(files: readonly string[], values: readonly string[]): string[] {
  const bytes = files.filter((f) => existsSync(f)).map((f) => readFileSync(f));
  return values.filter((v) => bytes.some((b) => b.includes(v)));
}

describe('ipar purge erases', () => {
  test(`${N} purged allocations (session ids, accounts, MACs): none of their values left in the store file or its WAL`, async () => {
    const dir = tempDir();
    const db = join(dir, 'store.db');
    const input = join(dir, 'records.ndjson');
    const lines: string[] = [JSON.stringify({ kind: 'address-space', prefix: '198.51.100.0/24', role: 'dynamic' })];
    for (let i = 0; i < N; i++) {
      const old = i % 3 !== 0; // two in three ended before the horizon
      const start = Date.parse(old ? '2026-03-01T00:00:00Z' : '2026-03-25T00:00:00Z') + i * 60_000;
      lines.push(
        JSON.stringify({
          kind: 'allocation',
          account: `${old ? 'GONE' : 'KEPT'}-ACC-${pad(i)}`,
          ip: `198.51.100.${i % 250}`,
          start: new Date(start).toISOString(),
          end: new Date(start + 3_600_000).toISOString(),
          source: 'radius',
          sessionId: `${old ? 'PURGED' : 'LIVE'}-SID-${pad(i)}`,
          mac: `02:00:5e:${pad(i).slice(0, 2)}:${pad(i).slice(2, 4)}:${pad(i).slice(4, 6)}`,
        }),
      );
    }
    writeFileSync(input, lines.join('\n') + '\n');
    expect(await main(['ingest', '--db', db, input], captureIo())).toBe(0);
    const purged = Array.from({ length: N }, (_, i) => i).filter((i) => i % 3 !== 0);
    const sessionIds = purged.map((i) => `PURGED-SID-${pad(i)}`);
    const accounts = purged.map((i) => `GONE-ACC-${pad(i)}`);
    const files = [db, `${db}-wal`];
    expect(survivors(files, sessionIds.slice(0, 50))).toHaveLength(50); // the search finds them before
    expect(await main(['purge', '--db', db, '--before', '2026-03-20T00:00:00Z'], captureIo())).toBe(0);
    expect(survivors(files, sessionIds)).toEqual([]);
    expect(survivors(files, accounts)).toEqual([]);
    // What was kept is all there, and the file is sound.
    expect(storeDigest(db).counts['allocation']).toBe(N / 3);
    expect(survivors(files, [`LIVE-SID-${pad(0)}`, `LIVE-SID-${pad(N - 3)}`])).toHaveLength(2);
    expect(integrity(db)).toEqual(['ok']);
  }, 120_000);
});
