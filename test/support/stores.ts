/** Fresh stores and parsed records for tests: real SQLite, a new file each time, no mocks. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAddress, type Address } from '../../src/address.js';
import { CanonicalRecord } from '../../src/records.js';
import type { Store } from '../../src/store/open.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/store.js';
import { freshClickHouseStore, type ClickHouseUnderTest } from './clickhouse.js';

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'ipar-test-'));
}

/** A fresh store in a new temporary file (real SQLite, no mocks). */
export function freshStore(): { store: SqliteStore; file: string } {
  const file = join(tempDir(), 'store.db');
  return { store: openSqliteStore(file), file };
}

export function addr(text: string): Address {
  const r = parseAddress(text, true);
  if (!r.ok) throw new Error(r.message);
  return r.value;
}

export function records(...inputs: object[]): CanonicalRecord[] {
  return inputs.map((i) => CanonicalRecord.parse(i));
}

export const at = (iso: string): number => Date.parse(iso);

/** A DHCP allocation as a canonical input line (for {@link records}). */
export const alloc = (ip: string, account: string, start: string, end: string | null, extra: object = {}) => ({
  kind: 'allocation',
  account,
  ip,
  start,
  end,
  source: 'dhcp',
  ...extra,
});

/** A port block of realm cgn-a on 203.0.113.7 as a canonical input line (for {@link records}). */
export const block = (inside: string, first: number, last: number, start: string, end: string | null, extra: object = {}) => ({
  kind: 'nat-block',
  realm: 'cgn-a',
  insideIp: inside,
  outsideIp: '203.0.113.7',
  portFirst: first,
  portLast: last,
  start,
  end,
  ...extra,
});

/** A backend the contract and end-to-end tests run on: SQLite always, ClickHouse when reachable. */
export interface Backend {
  readonly name: string;
  readonly available: boolean;
  readonly open: () => { store: Store; done: () => Promise<void> | void };
}

/** SQLite (a fresh file) and the two ClickHouse shards under test (a fresh database). */
export function backendsUnder(clickhouse: ClickHouseUnderTest): readonly Backend[] {
  return [
    {
      name: 'SQLite',
      available: true,
      open: () => {
        const { store } = freshStore();
        return { store, done: () => store.close() };
      },
    },
    { name: 'ClickHouse, two shards', available: clickhouse.reachable, open: () => freshClickHouseStore(clickhouse) },
  ];
}
