/**
 * One way to open a store, whichever backend: a `clickhouse://…` URL opens the
 * ClickHouse store (src/store/clickhouse/store.ts), anything else is a SQLite file (the
 * default, no server needed).
 */
import { ClickHouseStore, type ClickHouseOpenOptions } from './clickhouse/store.js';
import { isClickHouseSpec } from './clickhouse/url.js';
import { SqliteStore, type SqliteOpenOptions } from './sqlite/store.js';
import type { StoreAdmin, StoreExporter, StoreReader, StoreWriter } from './types.js';

export { isClickHouseSpec } from './clickhouse/url.js';

export type OpenStoreOptions = SqliteOpenOptions & ClickHouseOpenOptions;

/** A store that reads, writes, is run (settings, purge, coverage) and exported, whichever backend. */
export type Store = StoreReader & StoreWriter & StoreAdmin & StoreExporter;

/**
 * Open the store a spec names: `clickhouse://host:port[,host:port…]/database[?cluster=NAME]`
 * for ClickHouse, otherwise a SQLite file path. Opening ClickHouse does not touch the
 * network: the first call does (and throws `STORE_UNREACHABLE` if no server answers).
 *
 * @example
 * const store = openStore('operator.db', { readonly: true });
 * const cluster = openStore('clickhouse://127.0.0.1:18123,127.0.0.1:18124/ipar?cluster=ipar');
 * await store.close();
 */
export function openStore(spec: string, options: OpenStoreOptions = {}): Store {
  if (isClickHouseSpec(spec)) {
    return new ClickHouseStore(spec, {
      ...(options.readonly === undefined ? {} : { readonly: options.readonly }),
      ...(options.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: options.requestTimeoutMs }),
    });
  }
  return new SqliteStore(spec, options);
}
