import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { main } from '../../src/cli.js';
import { Request } from '../../src/request.js';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import { captureIo, tempDir } from '../support/index.js';

describe('ipar simulate', () => {
  test('same seed, same bytes; --db ingests every record; every request is a valid request', async () => {
    const [a, b] = [tempDir(), tempDir()];
    const db = join(a, 'op.db');
    const args = (out: string) => ['simulate', '--profile', 'mixed', '--subscribers', '200', '--days', '1', '--seed', '7', '--out', out];
    const io = captureIo();
    expect(await main([...args(a), '--db', db], io)).toBe(0);
    expect(await main(args(b), captureIo())).toBe(0);
    for (const f of ['records.ndjson', 'requests.ndjson', 'truth.ndjson']) expect(readFileSync(join(a, f))).toEqual(readFileSync(join(b, f)));
    const summary = JSON.parse(io.out()) as { records: number; requests: number };
    const store = openSqliteStore(db, { readonly: true });
    const counts = await store.counts();
    store.close();
    // Subscriber records share the account table; every other record is one row.
    expect(Object.values(counts).reduce((x, y) => x + y, 0)).toBe(summary.records);
    const requests = readFileSync(join(a, 'requests.ndjson'), 'utf8').trim().split('\n');
    expect(requests.length).toBe(summary.requests);
    for (const line of requests) expect(Request.safeParse(JSON.parse(line)).success, line).toBe(true);
  });

  test('a bad option value is a usage error naming it', async () => {
    const io = captureIo();
    expect(await main(['simulate', '--profile', 'nope', '--out', tempDir()], io)).toBe(2);
    expect(io.err()).toMatch(/--profile/);
  });
});
