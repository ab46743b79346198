/**
 * The embedded store: better-sqlite3 (the only module that imports it). Uses the
 * driver's `Database` (open, pragma, exec, transaction) and `Statement` (run, all, get,
 * raw) and nothing else, so a second backend can be an addition, not a rewrite.
 *
 * Query shape from ../shared/PERFORMANCE.md: equality on the address key, a range on
 * `start` bounded below by the longest closed record of the table, `end` checked in the
 * same statement; open records through a partial index. A batch runs in one read
 * transaction (autocommit costs ~2 µs a lookup). No ANALYZE: STAT4 makes range
 * statements recompile on every parameter change.
 */
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { addressFromKey, addressFromV4, isV4Key, maskKey, type Address } from '../../address.js';
import { IparError } from '../../problems.js';
import type { Window } from '../../time.js';
import {
  NatDeterministicRecord,
  toWritten,
  type AddressRole,
  type AddressSpaceRecord,
  type AllocationRecord,
  type CanonicalRecord,
  type ConnectionRecord,
  type Protocol,
  RECORD_KINDS,
  type RecordKind,
  type SubscriberType,
} from '../../records.js';
import {
  BOUND_KEYS,
  CoverageRecorder,
  RowAllowance,
  SESSION_ROW_LIMIT,
  addressSpaceRecord,
  allocationOrder,
  allocationRecord,
  connectionOrder,
  connectionRecord,
  coverageOrder,
  coverageRecord,
  inOrder,
  lengthsFor,
  lookBackStart,
  natBlockOrder,
  natBlockRecord,
  natDeterministicOrder,
  natDeterministicRecord,
  natSessionByStartOrder,
  natSessionOrder,
  natSessionRecord,
  storeSettings,
  coverageFromText,
  coverageListing,
  coverageToText,
  mergeSourceCoverage,
  pairingConflict,
} from '../core/index.js';
import { createPrivateFile } from './files.js';
import { MIGRATIONS, SCHEMA_VERSION } from './schema.js';
import type {
  AllocationQuery,
  CoverageListing,
  CoverageQuery,
  DestinationQuery,
  DeterministicQuery,
  ExportQuery,
  SourceQuery,
  NatQuery,
  PurgeSummary,
  RecordCounts,
  RowLimit,
  SettingKey,
  SettingValue,
  SourceCoverage,
  FollowCheckpoint,
  StoreAdmin,
  StoreExporter,
  StoreReader,
  StoreSettings,
  StoreWriter,
  StoredAllocation,
  StoredConnection,
  StoredCoverage,
  StoredNatBlock,
  StoredNatDeterministic,
  StoredNatSession,
  StoredRecord,
  WriteOptions,
  WriteSummary,
  PairingSnapshot,
} from '../types.js';

export interface SqliteOpenOptions {
  /** Open for queries only (the default for resolve). The file must exist. */
  readonly readonly?: boolean;
  /** Page cache in MiB (bulk loads into indexed tables want the index in cache). */
  readonly cacheMiB?: number;
}

const V4_PREFIX = Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]);
const EMPTY = Buffer.alloc(0);
const NO_DEVICE = ['', '', '', ''] as const;

/** Records an export hands over at a time. */
const EXPORT_BATCH = 4096;

/** The 16-byte key of an on-disk address (IPv4's four bytes get their mapped prefix back). */
function keyFromDisk(disk: Buffer): Buffer {
  return disk.length === 4 ? Buffer.concat([V4_PREFIX, disk]) : disk;
}

/** On-disk form of a 16-byte key: IPv4-mapped keys lose their 12-byte prefix. */
function diskKey(key: Buffer): Buffer {
  return isV4Key(key) ? key.subarray(12) : key;
}

/** The address a stored host key names (IPv4 keys are stored as their 4 bytes). */
function addressFromDisk(disk: Buffer): Address {
  return disk.length === 4 ? addressFromV4(disk.readUInt32BE(0)) : addressFromKey(disk);
}

/**
 * Answer `queries` in the order of their keys, results in input order: a batch sorted by
 * key walks the B-tree's pages in order (PERFORMANCE.md: 1.39 → 1.01 µs a lookup at 10M).
 */
function inKeyOrder<Q, R>(queries: readonly Q[], keyOf: (q: Q) => Buffer, answer: (q: Q) => R): R[] {
  // IPv4 keys sort by their last four bytes as a number (cheaper than Buffer.compare);
  // IPv6 keys (rank -1) among themselves by bytes.
  const ranks = queries.map((q) => {
    const k = keyOf(q);
    return isV4Key(k) ? k.readUInt32BE(12) : -1;
  });
  const order = queries
    .map((_, i) => i)
    .sort((a, b) => ranks[a]! - ranks[b]! || (ranks[a] === -1 ? Buffer.compare(keyOf(queries[a]!), keyOf(queries[b]!)) : 0) || a - b);
  const out = new Array<R>(queries.length);
  for (const i of order) out[i] = answer(queries[i]!);
  return out;
}

/**
 * The queries of a batch that {@link SqliteStore}'s allocation lookup answers together:
 * IPv4 hosts (not prefixes) asked in the same realm over the same window under the same
 * row limit, at least {@link HOST_GROUP_MIN} of them. Indexes into `queries`, in order.
 */
function hostGroups(queries: readonly AllocationQuery[]): number[][] {
  const groups = new Map<RowLimit | undefined, Map<string, number[]>>();
  queries.forEach((q, i) => {
    if (q.address.family !== 4 || q.address.length !== 128) return;
    let byKey = groups.get(q.rows);
    if (byKey === undefined) groups.set(q.rows, (byKey = new Map()));
    const key = `${q.realm ?? ''}|${q.window.start}|${q.window.end}`;
    const list = byKey.get(key);
    if (list === undefined) byKey.set(key, [i]);
    else list.push(i);
  });
  const out: number[][] = [];
  for (const byKey of groups.values()) for (const list of byKey.values()) if (list.length >= HOST_GROUP_MIN) out.push(list);
  return out;
}

/** A `LIMIT` parameter for at most `cap` rows (`-1`: none), and never more than `most`. */
function limitOf(cap: number, most = Infinity): number {
  const n = Math.min(cap, most);
  return Number.isFinite(n) ? n : -1;
}

/**
 * Closed rows of `key` whose start lies in the look-back range of `window`, then, when the
 * table has open rows, the open ones: every lookup statement takes the key, then
 * (window end, look-back start, window start), its open twin the key and the window end;
 * each then the `LIMIT`. At most `cap` rows in all (`most` a statement).
 */
function closedThenOpen(
  closed: Database.Statement,
  open: Database.Statement,
  present: { open: boolean },
  key: readonly unknown[],
  window: Window,
  maxDuration: number,
  cap = Infinity,
  most = Infinity,
): unknown[][] {
  if (cap <= 0) return [];
  const rows = closed.all(...key, window.end, lookBackStart(window, maxDuration), window.start, limitOf(cap, most)) as unknown[][];
  if (present.open && rows.length < cap) for (const row of open.all(...key, window.end, limitOf(cap - rows.length, most)) as unknown[][]) rows.push(row);
  return rows;
}

const TABLE_OF: Readonly<Record<RecordKind, string>> = {
  'address-space': 'address_space',
  subscriber: 'account',
  allocation: 'allocation',
  'nat-block': 'nat_block',
  'nat-session': 'nat_session',
  'nat-deterministic': 'nat_deterministic',
  coverage: 'coverage',
  connection: 'connection',
};

/** Bits of {@link BatchBounds}' table sets. */
const ALLOCATION = 1;
const NAT_BLOCK = 2;
const NAT_SESSION = 4;

/**
 * The last key of a prefix (every host bit set), in on-disk form: with the masked first
 * key, the range of on-disk keys a destination prefix covers.
 */
function lastDiskKey(prefix: Address): Buffer {
  const last = Buffer.from(maskKey(prefix.key, prefix.length));
  for (let bit = prefix.length; bit < 128; bit++) last[bit >> 3]! |= 0x80 >> (bit & 7);
  return diskKey(last);
}

/**
 * What one written batch noted for the reader's bounds: the longest closed record of each
 * table (of allocations, per realm id too), the widest port block, and which tables got
 * rows and open rows. Gathered as numbers per record, folded into the store once a batch.
 */
interface BatchBounds {
  allocation: number;
  readonly allocationByRealm: Map<number, number>;
  natBlock: number;
  natSession: number;
  connection: number;
  blockSpan: number;
  rows: number;
  open: number;
}

function batchBounds(): BatchBounds {
  return { allocation: 0, allocationByRealm: new Map(), natBlock: 0, natSession: 0, connection: 0, blockSpan: 0, rows: 0, open: 0 };
}

const ALLOCATION_COLUMNS = `start, "end", end_inferred, source, session_id, account, device, last_seen FROM allocation`;
const BLOCK_COLUMNS = `port_first, start, realm, in_addr, protocol, port_last, "end", end_inferred, last_seen FROM nat_block`;
/** {@link ALLOCATION_COLUMNS} and the address last (rows of many hosts at once). */
const HOST_ALLOCATION_COLUMNS = `start, "end", end_inferred, source, session_id, account, device, last_seen, addr FROM allocation`;
const SESSION_COLUMNS = `out_port, start, protocol, realm, in_addr, in_port, dst_addr, dst_port, "end", end_inferred, last_seen FROM nat_session`;
const SESSION_COLUMNS_WITH_OUTSIDE = `out_addr, ${SESSION_COLUMNS}`;
const CONNECTION_COLUMNS = `dst_addr, start, realm, src_addr, src_port, dst_port, protocol, "end", account, bytes_up, bytes_down, service FROM connection`;
/** The range of `start` and the end check every connection lookup ends with: (window end, look-back start, window start). */
const OVERLAPS = 'start < ? AND start >= ? AND "end" > ?';

/**
 * Every lookup the read path makes, by name (tests check each one's query plan). Closed
 * records: a range on `start` bounded below by the longest closed record. Open records:
 * the partial index, named, because the planner would otherwise walk the primary key
 * over the address's whole history to find the few rows with no end.
 */
export const LOOKUPS = {
  classify: 'SELECT role, realm FROM address_space WHERE addr = ? AND plen = ?',
  allocationsClosed: `SELECT ${ALLOCATION_COLUMNS} WHERE realm = ? AND addr = ? AND plen = ? AND start < ? AND start >= ? AND "end" > ? LIMIT ?`,
  allocationsOpen: `SELECT ${ALLOCATION_COLUMNS} INDEXED BY allocation_open WHERE realm = ? AND addr = ? AND plen = ? AND "end" IS NULL AND start < ? LIMIT ?`,
  blockFirstPort: 'SELECT max(port_first) FROM nat_block WHERE out_addr = ? AND port_first <= ? AND port_first >= ?',
  blocksClosed: `SELECT ${BLOCK_COLUMNS} WHERE out_addr = ? AND port_first = ? AND start < ? AND start >= ? AND "end" > ? LIMIT ?`,
  blocksOpen: `SELECT ${BLOCK_COLUMNS} INDEXED BY nat_block_open WHERE out_addr = ? AND port_first = ? AND "end" IS NULL AND start < ? LIMIT ?`,
  blockNextFirstPort: 'SELECT min(port_first) FROM nat_block WHERE out_addr = ? AND port_first > ?',
  blocksOnAddressOpen: `SELECT ${BLOCK_COLUMNS} INDEXED BY nat_block_open WHERE out_addr = ? AND "end" IS NULL AND start < ? LIMIT ?`,
  sessionsClosed: `SELECT ${SESSION_COLUMNS} WHERE out_addr = ? AND out_port = ? AND start < ? AND start >= ? AND "end" > ? LIMIT ?`,
  sessionsOpen: `SELECT ${SESSION_COLUMNS} INDEXED BY nat_session_open WHERE out_addr = ? AND out_port = ? AND "end" IS NULL AND start < ? LIMIT ?`,
  sessionsOnAddressClosed: `SELECT ${SESSION_COLUMNS} INDEXED BY nat_session_by_start WHERE out_addr = ? AND start < ? AND start >= ? AND "end" > ? LIMIT ?`,
  sessionsOnAddressOpen: `SELECT ${SESSION_COLUMNS} INDEXED BY nat_session_open WHERE out_addr = ? AND "end" IS NULL AND start < ? LIMIT ?`,
  deterministic: 'SELECT start, realm, record FROM nat_deterministic WHERE out_addr = ? AND plen = ? AND start < ? AND ("end" IS NULL OR "end" > ?) LIMIT ?',
  coverageOfSource: `SELECT source, start, "end", status FROM coverage WHERE source = ? AND start < ? AND ("end" IS NULL OR "end" > ?)`,
  coverageAny: `SELECT source, start, "end", status FROM coverage WHERE start < ? AND ("end" IS NULL OR "end" > ?)`,
  // Connection evidence (issue 19). A destination prefix is walked address by address
  // (a skip scan over the addresses it holds), each address one bounded range on start.
  connectionFirstDestination: 'SELECT min(dst_addr) FROM connection WHERE dst_addr >= ? AND dst_addr <= ?',
  connectionNextDestination: 'SELECT min(dst_addr) FROM connection WHERE dst_addr > ? AND dst_addr <= ?',
  connectionsTo: `SELECT ${CONNECTION_COLUMNS} WHERE dst_addr = ? AND ${OVERLAPS}`,
  connectionsFromSource: `SELECT ${CONNECTION_COLUMNS} INDEXED BY connection_by_source WHERE realm = ? AND src_addr = ? AND ${OVERLAPS}`,
  connectionsOfAccount: `SELECT ${CONNECTION_COLUMNS} INDEXED BY connection_by_account WHERE account = ? AND account <> 0 AND ${OVERLAPS}`,
  sessionFirstDestination: `SELECT min(dst_addr) FROM nat_session INDEXED BY nat_session_by_destination WHERE dst_addr <> x'' AND dst_addr >= ? AND dst_addr <= ?`,
  sessionNextDestination: `SELECT min(dst_addr) FROM nat_session INDEXED BY nat_session_by_destination WHERE dst_addr <> x'' AND dst_addr > ? AND dst_addr <= ?`,
  sessionsToClosed: `SELECT ${SESSION_COLUMNS_WITH_OUTSIDE} INDEXED BY nat_session_by_destination WHERE dst_addr <> x'' AND dst_addr = ? AND ${OVERLAPS} LIMIT ?`,
  sessionsToOpen: `SELECT ${SESSION_COLUMNS_WITH_OUTSIDE} INDEXED BY nat_session_destination_open WHERE dst_addr <> x'' AND "end" IS NULL AND dst_addr = ? AND start < ? LIMIT ?`,
  sessionsFromClosed: `SELECT ${SESSION_COLUMNS_WITH_OUTSIDE} INDEXED BY nat_session_by_inside WHERE realm = ? AND in_addr = ? AND ${OVERLAPS} LIMIT ?`,
  sessionsFromOpen: `SELECT ${SESSION_COLUMNS_WITH_OUTSIDE} INDEXED BY nat_session_inside_open WHERE "end" IS NULL AND realm = ? AND in_addr = ? AND start < ? LIMIT ?`,
  // Issue 22: one statement for many keys. The key list is a JSON array (hex for blobs);
  // SQLite sorts it and seeks each key in the primary key, bounded by the look-back range.
  blocksOnAddressClosed: `SELECT ${BLOCK_COLUMNS} WHERE out_addr = ? AND port_first IN (SELECT value FROM json_each(?)) AND start < ? AND start >= ? AND "end" > ? LIMIT ?`,
  allocationsOfHostsClosed: `SELECT ${HOST_ALLOCATION_COLUMNS} WHERE realm = ? AND addr IN (SELECT unhex(value) FROM json_each(?)) AND plen = ? AND start < ? AND start >= ? AND "end" > ? LIMIT ?`,
  allocationsOfHostsOpen: `SELECT ${HOST_ALLOCATION_COLUMNS} INDEXED BY allocation_open WHERE realm = ? AND addr IN (SELECT unhex(value) FROM json_each(?)) AND plen = ? AND "end" IS NULL AND start < ? LIMIT ?`,
} as const;

/** Queries of one batch that ask the same realm and window under the same row limit, at least this many, are answered by one statement. */
const HOST_GROUP_MIN = 4;
// A record the pairing still owns (pending) takes whatever its next version says (a
// later run closed it, capped it, or extended its evidence); a final one only gains an end.
const UPSERT_END = `ON CONFLICT DO UPDATE SET "end" = excluded."end", end_inferred = excluded.end_inferred, last_seen = excluded.last_seen, pending = excluded.pending
      WHERE "end" IS NULL AND excluded."end" IS NOT NULL OR end_inferred = 1 AND excluded.end_inferred = 0 AND excluded."end" IS NOT NULL
        OR pending = 1 AND ("end" IS NOT excluded."end" OR end_inferred <> excluded.end_inferred OR last_seen IS NOT excluded.last_seen OR pending <> excluded.pending)`;

/** The writer's statements, one a kind (exported for bench/ingest.ts, whose bare-insert floor runs the same SQL). */
export const INSERT_SQL = {
  addressSpace: `INSERT INTO address_space (addr, plen, role, realm) VALUES (?, ?, ?, ?)
         ON CONFLICT DO UPDATE SET role = excluded.role, realm = excluded.realm WHERE role <> excluded.role OR realm <> excluded.realm`,
  subscriber: 'UPDATE account SET type = ? WHERE name = ? AND type IS NOT ?',
  allocation: `INSERT INTO allocation (realm, addr, plen, start, account, "end", source, end_inferred, device, session_id, last_seen, pending)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ${UPSERT_END}`,
  natBlock: `INSERT INTO nat_block (out_addr, port_first, start, realm, in_addr, protocol, port_last, "end", end_inferred, last_seen, pending)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ${UPSERT_END}`,
  natSession: `INSERT INTO nat_session (out_addr, out_port, start, protocol, realm, in_addr, in_port, dst_addr, dst_port, "end", end_inferred, last_seen, pending)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ${UPSERT_END}`,
  natDeterministic: `INSERT INTO nat_deterministic (out_addr, plen, start, realm, "end", record) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT DO UPDATE SET "end" = excluded."end", record = excluded.record WHERE record <> excluded.record`,
  coverage: `INSERT INTO coverage (source, start, status, "end") VALUES (?, ?, ?, ?)
         ON CONFLICT DO UPDATE SET "end" = excluded."end" WHERE "end" IS NOT excluded."end"`,
  // A connection is an event, logged once closed: a repeat changes nothing.
  connection: `INSERT OR IGNORE INTO connection (dst_addr, start, realm, src_addr, src_port, dst_port, protocol, "end", account, bytes_up, bytes_down, service)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
} as const;

type Row = Record<string, unknown>;

/**
 * A store in one SQLite file, serving {@link StoreReader}, {@link StoreWriter} and {@link StoreAdmin}.
 *
 * @example
 * const store = openSqliteStore('operator.db');
 * store.write(records);
 * const [hits] = await store.allocations([{ address, realm: null, window }]);
 * store.close();
 */
export class SqliteStore implements StoreReader, StoreWriter, StoreAdmin, StoreExporter {
  /**
   * 64 requests at a time: the traces of 512 outlived V8's young generation and each
   * scavenge copied them (GC 6.0 s vs 1.6–1.8 s for the same 60,000 requests with risk
   * analysis, 128 at a time 3.4–3.7 s; 9k vs 13k requests a CPU-second). Lookups cost
   * the same per request.
   */
  readonly preferredBatch = 64;
  readonly #db: Database.Database;
  readonly #readonly: boolean;
  // Name → id of the interned names, one map a table (the same map objects for the life
  // of the store, so the writer can hold them directly).
  readonly #realmIds = new Map<string, number>();
  readonly #sourceIds = new Map<string, number>();
  readonly #accountIds = new Map<string, number>();
  readonly #names = new Map<string, Map<string, number>>([
    ['realm', this.#realmIds],
    ['source', this.#sourceIds],
    ['account', this.#accountIds],
  ]);
  readonly #realmNames = new Map<number, string>();
  readonly #sourceNames = new Map<number, string>();
  readonly #deviceIds = new Map<string, number>();
  readonly #meta = new Map<string, string>();
  readonly #stmts = new Map<string, Database.Statement>();
  readonly #detCache = new Map<string, NatDeterministicRecord>();

  constructor(file: string, options: SqliteOpenOptions = {}) {
    this.#readonly = options.readonly === true;
    if (this.#readonly && file !== ':memory:' && !existsSync(file)) {
      throw new IparError('STORE_NOT_FOUND', `no store at ${file}`);
    }
    try {
      if (!this.#readonly) createPrivateFile(file);
      this.#db = new Database(file, { readonly: this.#readonly, fileMustExist: this.#readonly });
    } catch (cause) {
      throw new IparError('STORE_OPEN_FAILED', `cannot open store ${file}: ${(cause as Error).message}`, { cause });
    }
    try {
      this.#db.pragma(`cache_size = -${(options.cacheMiB ?? 64) * 1024}`);
      this.#db.pragma('mmap_size = 2000000000');
      if (!this.#readonly) {
        this.#db.pragma('journal_mode = WAL');
        this.#db.pragma('synchronous = NORMAL');
        this.#migrate(file);
      } else {
        const version = this.#db.pragma('user_version', { simple: true }) as number;
        if (version !== SCHEMA_VERSION) {
          throw new IparError(
            version > SCHEMA_VERSION ? 'STORE_TOO_NEW' : 'STORE_NEEDS_MIGRATION',
            `store ${file} has schema version ${version}; this ipar reads version ${SCHEMA_VERSION}` +
              (version < SCHEMA_VERSION ? ' (open it once for writing, e.g. with ipar ingest, to migrate)' : ''),
          );
        }
      }
      this.#loadDictionaries();
      this.#dataVersion = this.#readDataVersion();
      this.#writeVersion = this.#readWriteVersion();
    } catch (error) {
      this.#db.close();
      if (error instanceof IparError) throw error;
      // e.g. SQLITE_READONLY_DIRECTORY: even a reader of a WAL database must create its -shm.
      throw new IparError(
        'STORE_OPEN_FAILED',
        `cannot read store ${file}: ${(error as Error).message}` +
          (this.#readonly ? " (a reader needs write access to the store's directory, or existing -wal and -shm files)" : ''),
        { cause: error },
      );
    }
  }

  /**
   * Migrate under the write lock (BEGIN IMMEDIATE), reading the version inside it: two
   * writers opening a new store at once apply each migration once (the second waits for
   * the lock, then finds the version raised), never "table meta already exists".
   */
  #migrate(file: string): void {
    const step = this.#db.transaction((): boolean => {
      const version = this.#db.pragma('user_version', { simple: true }) as number;
      if (version > SCHEMA_VERSION) {
        throw new IparError('STORE_TOO_NEW', `store ${file} has schema version ${version}; this ipar knows up to ${SCHEMA_VERSION}`);
      }
      if (version === SCHEMA_VERSION) return false;
      this.#db.exec(MIGRATIONS[version]!);
      this.#db.pragma(`user_version = ${version + 1}`);
      return true;
    }).immediate;
    while (step()) {
      // one migration a transaction, each re-reading the version
    }
  }

  #loadDictionaries(): void {
    for (const table of ['realm', 'source'] as const) {
      const ids = table === 'realm' ? this.#realmIds : this.#sourceIds;
      ids.clear();
      for (const row of this.#db.prepare(`SELECT id, name FROM ${table}`).all() as { id: number; name: string }[]) {
        ids.set(row.name, row.id);
        (table === 'realm' ? this.#realmNames : this.#sourceNames).set(row.id, row.name);
      }
    }
    this.#accountIds.clear();
    for (const row of this.#db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[]) {
      this.#meta.set(row.key, row.value);
    }
    this.#noDestination = new Set(JSON.parse(this.#meta.get(BOUND_KEYS.realmsWithoutDestination) ?? '[]') as string[]);
  }

  // ---- other connections' commits ---------------------------------------------------
  // Bounds, address space, presence and names are cached per connection. Another
  // connection's commit (a concurrent ingest beside a long-running resolve) bumps
  // SQLite's data_version; every read and write transaction looks at it first, inside
  // the transaction, and forgets the caches when it moved, so a batch's bounds come from
  // the same snapshot as its rows.

  #dataVersion = 0;
  #writeVersion = 0;

  #readDataVersion(): number {
    return this.#stmt('PRAGMA data_version').pluck().get() as number;
  }

  #readWriteVersion(): number {
    return this.#stmt('SELECT value FROM write_version WHERE id = 0').pluck().get() as number;
  }

  /** Inside a write transaction: the writer's bump (readers compare it with theirs). */
  #bumpWriteVersion(): void {
    this.#writeVersion = this.#stmt('UPDATE write_version SET value = value + 1 WHERE id = 0 RETURNING value').pluck().get() as number;
  }

  /**
   * Inside a transaction: drop what another connection's commit may have made stale.
   * data_version (in memory) moves on any other commit, the audit log's too; only a
   * moved write_version (one indexed row) costs the caches.
   */
  #sync(): void {
    const version = this.#readDataVersion();
    if (version === this.#dataVersion) return;
    this.#dataVersion = version;
    const written = this.#readWriteVersion();
    if (written === this.#writeVersion) return;
    this.#writeVersion = written;
    this.#meta.clear();
    this.#bounds.clear();
    this.#lengths.clear();
    this.#boundsDirty = false;
    this.#present.clear();
    this.#classified.clear();
    this.#firstPorts.clear();
    this.#subscriberTypes.clear();
    this.#accountNames.clear();
    this.#devices.clear();
    this.#deviceIds.clear();
    this.#realmNames.clear();
    this.#sourceNames.clear();
    this.#loadDictionaries();
  }

  // Whether a table has any rows, and any open rows: lookups of a kind the store does not
  // hold, or of open records when there are none, are skipped (read once, kept current
  // by this instance's writes).
  readonly #present = new Map<string, { rows: boolean; open: boolean }>();

  #presence(table: 'allocation' | 'nat_block' | 'nat_session'): { rows: boolean; open: boolean } {
    let p = this.#present.get(table);
    if (p === undefined) {
      try {
        p = {
          rows: this.#db.prepare(`SELECT EXISTS (SELECT 1 FROM ${table})`).pluck().get() === 1,
          open: this.#db.prepare(`SELECT EXISTS (SELECT 1 FROM ${table} INDEXED BY ${table}_open WHERE "end" IS NULL)`).pluck().get() === 1,
        };
      } catch (cause) {
        // A corrupt or unreadable file is a store fault (exit 2), like any other read.
        throw new IparError('STORE_READ_FAILED', `store read failed: ${(cause as Error).message}`, { cause });
      }
      this.#present.set(table, p);
    }
    return p;
  }

  #stmt(sql: string): Database.Statement {
    let s = this.#stmts.get(sql);
    if (s === undefined) {
      s = this.#db.prepare(sql);
      this.#stmts.set(sql, s);
    }
    return s;
  }

  // ---- meta: table bounds the reader needs -------------------------------------------
  // Kept parsed in memory (they are consulted on every row written and every lookup);
  // persisted to the meta table once per written batch.

  readonly #bounds = new Map<string, number>();
  readonly #lengths = new Map<string, number[]>();
  #boundsDirty = false;

  #metaNumber(key: string): number {
    let v = this.#bounds.get(key);
    if (v === undefined) {
      const text = this.#meta.get(key);
      v = text === undefined ? 0 : Number(text);
      this.#bounds.set(key, v);
    }
    return v;
  }

  #metaLengths(table: string): number[] {
    let v = this.#lengths.get(table);
    if (v === undefined) {
      const text = this.#meta.get(`lengths.${table}`);
      v = text === undefined ? [] : (JSON.parse(text) as number[]);
      this.#lengths.set(table, v);
    }
    return v;
  }

  #setMeta(key: string, value: string): void {
    if (this.#meta.get(key) === value) return;
    this.#meta.set(key, value);
    this.#stmt('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  #raise(key: string, value: number): void {
    if (value > this.#metaNumber(key)) {
      this.#bounds.set(key, value);
      this.#boundsDirty = true;
    }
  }

  #noteLength(table: string, length: number): void {
    const lengths = this.#metaLengths(table);
    if (!lengths.includes(length)) {
      this.#lengths.set(
        table,
        [...lengths, length].sort((a, b) => b - a),
      );
      this.#boundsDirty = true;
    }
  }

  /** The bounds as the database holds them now (inside a write transaction). */
  #reloadBounds(): void {
    for (const row of this.#stmt("SELECT key, value FROM meta WHERE key LIKE 'maxDuration.%' OR key LIKE 'maxSpan.%' OR key LIKE 'lengths.%' OR key = ?").all(
      BOUND_KEYS.realmsWithoutDestination,
    ) as {
      key: string;
      value: string;
    }[]) {
      this.#meta.set(row.key, row.value);
    }
    this.#bounds.clear();
    this.#lengths.clear();
    for (const realm of JSON.parse(this.#meta.get(BOUND_KEYS.realmsWithoutDestination) ?? '[]') as string[]) this.#noDestination.add(realm);
  }

  // Realms whose NAT records carry no destination (StoreSettings.realmsWithoutDestination).
  #noDestination = new Set<string>();

  #noteNoDestination(realm: string): void {
    if (this.#noDestination.has(realm)) return;
    this.#noDestination.add(realm);
    this.#boundsDirty = true;
  }

  #persistBounds(): void {
    if (!this.#boundsDirty) return;
    if (this.#noDestination.size > 0) this.#setMeta(BOUND_KEYS.realmsWithoutDestination, JSON.stringify([...this.#noDestination].sort()));
    for (const [key, value] of this.#bounds) this.#setMeta(key, String(value));
    for (const [table, lengths] of this.#lengths) this.#setMeta(`lengths.${table}`, JSON.stringify(lengths));
    this.#boundsDirty = false;
  }

  // ---- writing -------------------------------------------------------------------------

  /**
   * The id of a name the cache does not hold: inserted, or looked up when the store has it
   * already. (INSERT OR IGNORE and the new rowid cost half of an upsert with RETURNING.)
   */
  #internName(table: 'realm' | 'source' | 'account', ids: Map<string, number>, name: string): number {
    const inserted = this.#stmt(`INSERT OR IGNORE INTO ${table} (name) VALUES (?)`).run(name);
    const id = inserted.changes === 1 ? Number(inserted.lastInsertRowid) : (this.#stmt(`SELECT id FROM ${table} WHERE name = ?`).pluck().get(name) as number);
    ids.set(name, id);
    if (table === 'realm') this.#realmNames.set(id, name);
    if (table === 'source') this.#sourceNames.set(id, name);
    if (ids.size > 500_000) ids.clear();
    return id;
  }

  #realm(name: string): number {
    return this.#realmIds.get(name) ?? this.#internName('realm', this.#realmIds, name);
  }

  #source(name: string): number {
    return this.#sourceIds.get(name) ?? this.#internName('source', this.#sourceIds, name);
  }

  #account(name: string): number {
    return this.#accountIds.get(name) ?? this.#internName('account', this.#accountIds, name);
  }

  #device(r: AllocationRecord): number {
    const { imsi, msisdn, imei, mac } = r;
    // The cache key is the identifier itself when a record has only an IMSI (digits) or
    // only a MAC (has ':'), else all four joined by '|': the three forms never collide,
    // and the common records build no string.
    let key: string;
    if (msisdn === undefined && imei === undefined && (imsi === undefined || mac === undefined)) {
      if (imsi !== undefined) key = imsi;
      else if (mac !== undefined) key = mac;
      else return 0;
    } else key = `${imsi ?? ''}|${msisdn ?? ''}|${imei ?? ''}|${mac ?? ''}`;
    const hit = this.#deviceIds.get(key);
    if (hit !== undefined) return hit;
    const values = [imsi ?? '', msisdn ?? '', imei ?? '', mac ?? ''] as const;
    const inserted = this.#stmt('INSERT OR IGNORE INTO device (imsi, msisdn, imei, mac) VALUES (?, ?, ?, ?)').run(...values);
    const id =
      inserted.changes === 1
        ? Number(inserted.lastInsertRowid)
        : (this.#stmt('SELECT id FROM device WHERE imsi = ? AND msisdn = ? AND imei = ? AND mac = ?')
            .pluck()
            .get(...values) as number);
    if (this.#deviceIds.size > 500_000) this.#deviceIds.clear();
    this.#deviceIds.set(key, id);
    return id;
  }

  #writeStatements: Record<keyof typeof INSERT_SQL, Database.Statement> | null = null;

  /** The insert statements, prepared once (SQL text is built once, not per row). */
  #writers(): Record<keyof typeof INSERT_SQL, Database.Statement> {
    if (this.#writeStatements !== null) return this.#writeStatements;
    const w = {} as Record<keyof typeof INSERT_SQL, Database.Statement>;
    for (const [name, sql] of Object.entries(INSERT_SQL)) w[name as keyof typeof INSERT_SQL] = this.#db.prepare(sql);
    return (this.#writeStatements = w);
  }

  /** Fold what a batch noted into the bounds the reader uses (once a batch, not once a record). */
  #foldBounds(b: BatchBounds): void {
    this.#raise(BOUND_KEYS.longest('allocation'), b.allocation);
    // The look-back bound is also kept per realm: static or long mobile sessions in one
    // realm must not widen every lookup of short DHCP leases in another.
    for (const [realmId, duration] of b.allocationByRealm) this.#raise(BOUND_KEYS.longestAllocationOf(realmId), duration);
    this.#raise(BOUND_KEYS.longest('nat_block'), b.natBlock);
    this.#raise(BOUND_KEYS.longest('nat_session'), b.natSession);
    this.#raise(BOUND_KEYS.longest('connection'), b.connection);
    this.#raise(BOUND_KEYS.widestBlock, b.blockSpan);
    for (const [table, bit] of [
      ['allocation', ALLOCATION],
      ['nat_block', NAT_BLOCK],
      ['nat_session', NAT_SESSION],
    ] as const) {
      const p = this.#present.get(table);
      if (p === undefined) continue; // not read yet: the first read will look
      if ((b.rows & bit) !== 0) p.rows = true;
      if ((b.open & bit) !== 0) p.open = true;
    }
  }

  #writeOne(r: CanonicalRecord, b: BatchBounds, pending: 0 | 1 = 0): boolean {
    const w = this.#writers();
    switch (r.kind) {
      case 'address-space':
        this.#noteLength('address_space', r.prefix.length);
        return w.addressSpace!.run(diskKey(r.prefix.key), r.prefix.length, r.role, this.#realm(r.realm ?? '')).changes > 0;
      case 'subscriber':
        this.#account(r.account);
        return w.subscriber!.run(r.type, r.account, r.type).changes > 0;
      case 'allocation': {
        this.#noteLength('allocation', r.ip.length);
        const realmId = this.#realm(r.realm ?? '');
        b.rows |= ALLOCATION;
        if (r.end === null) b.open |= ALLOCATION;
        else {
          const duration = r.end - r.start;
          if (duration > b.allocation) b.allocation = duration;
          if (duration > (b.allocationByRealm.get(realmId) ?? 0)) b.allocationByRealm.set(realmId, duration);
        }
        return (
          w.allocation!.run(
            realmId,
            diskKey(r.ip.key),
            r.ip.length,
            r.start,
            this.#account(r.account),
            r.end,
            this.#source(r.source),
            r.endInferred === true ? 1 : 0,
            this.#device(r),
            r.sessionId ?? null,
            r.lastSeen ?? null,
            pending,
          ).changes > 0
        );
      }
      case 'nat-block': {
        this.#noteNoDestination(r.realm);
        b.rows |= NAT_BLOCK;
        if (r.end === null) b.open |= NAT_BLOCK;
        else if (r.end - r.start > b.natBlock) b.natBlock = r.end - r.start;
        const span = r.portLast - r.portFirst + 1;
        if (span > b.blockSpan) b.blockSpan = span;
        return (
          w.natBlock!.run(
            diskKey(r.outsideIp.key),
            r.portFirst,
            r.start,
            this.#realm(r.realm),
            diskKey(r.insideIp.key),
            r.protocol ?? '',
            r.portLast,
            r.end,
            r.endInferred === true ? 1 : 0,
            r.lastSeen ?? null,
            pending,
          ).changes > 0
        );
      }
      case 'nat-session':
        if (r.destinationIp === undefined) this.#noteNoDestination(r.realm);
        b.rows |= NAT_SESSION;
        if (r.end === null) b.open |= NAT_SESSION;
        else if (r.end - r.start > b.natSession) b.natSession = r.end - r.start;
        return (
          w.natSession!.run(
            diskKey(r.outsideIp.key),
            r.outsidePort,
            r.start,
            r.protocol,
            this.#realm(r.realm),
            diskKey(r.insideIp.key),
            r.insidePort,
            r.destinationIp === undefined ? EMPTY : diskKey(r.destinationIp.key),
            r.destinationPort ?? -1,
            r.end,
            r.endInferred === true ? 1 : 0,
            r.lastSeen ?? null,
            pending,
          ).changes > 0
        );
      case 'nat-deterministic':
        this.#noteNoDestination(r.realm);
        this.#noteLength('nat_deterministic', r.outsidePrefix.length);
        return (
          w.natDeterministic!.run(diskKey(r.outsidePrefix.key), r.outsidePrefix.length, r.start, this.#realm(r.realm), r.end, JSON.stringify(toWritten(r)))
            .changes > 0
        );
      case 'coverage':
        return w.coverage!.run(this.#source(r.source), r.start, r.status, r.end).changes > 0;
      case 'connection':
        if (r.end - r.start > b.connection) b.connection = r.end - r.start;
        return this.#writeConnection(w.connection!, r);
    }
  }

  #writeConnection(stmt: Database.Statement, r: ConnectionRecord): boolean {
    return (
      stmt.run(
        diskKey(r.destinationIp.key),
        r.start,
        this.#realm(r.realm ?? ''),
        diskKey(r.sourceIp.key),
        r.sourcePort ?? -1,
        r.destinationPort ?? -1,
        r.protocol ?? '',
        r.end,
        r.account === undefined ? 0 : this.#account(r.account),
        r.bytesUp ?? -1,
        r.bytesDown ?? -1,
        r.service ?? '',
      ).changes > 0
    );
  }

  /**
   * The pairing state an importer saved for `scope`, with its generation (see
   * {@link StoreWriter.pairingState}). A scope whose last run left nothing open keeps its
   * row (state '') so that its generation still counts the runs.
   */
  pairingState(scope: string): PairingSnapshot {
    const row = this.#stmt('SELECT state, generation FROM pairing WHERE scope = ?').get(scope) as { state: string; generation: number } | undefined;
    return { state: row === undefined || row.state === '' ? null : row.state, generation: row?.generation ?? 0 };
  }

  /** Remove a record the pairing still owns (pending), by its natural key; names not interned yet hold nothing. */
  #retract(r: CanonicalRecord): void {
    const realmOf = (name: string): number | undefined =>
      this.#realmIds.get(name) ?? (this.#stmt('SELECT id FROM realm WHERE name = ?').pluck().get(name) as number | undefined);
    switch (r.kind) {
      case 'allocation': {
        const realm = realmOf(r.realm ?? '');
        const account = this.#accountIds.get(r.account) ?? (this.#stmt('SELECT id FROM account WHERE name = ?').pluck().get(r.account) as number | undefined);
        if (realm === undefined || account === undefined) return;
        this.#stmt('DELETE FROM allocation WHERE realm = ? AND addr = ? AND plen = ? AND start = ? AND account = ? AND pending = 1').run(
          realm,
          diskKey(r.ip.key),
          r.ip.length,
          r.start,
          account,
        );
        return;
      }
      case 'nat-block': {
        const realm = realmOf(r.realm);
        if (realm === undefined) return;
        this.#stmt(
          'DELETE FROM nat_block WHERE out_addr = ? AND port_first = ? AND start = ? AND realm = ? AND in_addr = ? AND protocol = ? AND pending = 1',
        ).run(diskKey(r.outsideIp.key), r.portFirst, r.start, realm, diskKey(r.insideIp.key), r.protocol ?? '');
        return;
      }
      case 'nat-session': {
        const realm = realmOf(r.realm);
        if (realm === undefined) return;
        this.#stmt(
          'DELETE FROM nat_session WHERE out_addr = ? AND out_port = ? AND start = ? AND protocol = ? AND realm = ? AND in_addr = ? AND in_port = ? AND dst_addr = ? AND dst_port = ? AND pending = 1',
        ).run(
          diskKey(r.outsideIp.key),
          r.outsidePort,
          r.start,
          r.protocol,
          realm,
          diskKey(r.insideIp.key),
          r.insidePort,
          r.destinationIp === undefined ? EMPTY : diskKey(r.destinationIp.key),
          r.destinationPort ?? -1,
        );
        return;
      }
      default:
        return;
    }
  }

  /**
   * Store a batch in one transaction. Re-storing a record changes nothing (natural keys).
   * With `options.pairing`, the previous run's provisional records are retracted and the
   * new pairing state saved in the same transaction.
   */
  write(records: readonly CanonicalRecord[], options: WriteOptions = {}): WriteSummary {
    if (this.#readonly) throw new IparError('STORE_READONLY', 'the store was opened read-only');
    const stored: Partial<Record<RecordKind, number>> = {};
    const unchanged: Partial<Record<RecordKind, number>> = {};
    const changed = new Uint8Array(records.length);
    const metaBefore = new Map(this.#meta);
    this.#classified.clear(); // the batch may hold address space
    this.#firstPorts.clear(); // and port blocks, subscriber types
    this.#subscriberTypes.clear();
    try {
      // IMMEDIATE: the write lock first, then the bounds as committed, raised to this
      // batch's maxima in the same transaction — a concurrent writer's larger bound is
      // read here and kept, never overwritten with this connection's older copy.
      this.#db
        .transaction(() => {
          this.#sync();
          this.#reloadBounds();
          this.#bumpWriteVersion();
          const pairing = options.pairing;
          if (pairing?.generation !== undefined) {
            // Under the write lock: a run that committed to the scope since this one read its state has moved the generation.
            const now = (this.#stmt('SELECT generation FROM pairing WHERE scope = ?').pluck().get(pairing.scope) as number | undefined) ?? 0;
            if (now !== pairing.generation) throw pairingConflict(pairing.scope, pairing.generation, now);
          }
          if (pairing !== undefined) for (const r of pairing.retract) this.#retract(r);
          const bounds = batchBounds();
          for (let i = 0; i < records.length; i++) {
            const r = records[i]!;
            const wrote = this.#writeOne(r, bounds);
            if (wrote) changed[i] = 1;
            const tally = wrote ? stored : unchanged;
            tally[r.kind] = (tally[r.kind] ?? 0) + 1;
          }
          for (const r of pairing?.provisional ?? []) {
            const tally = this.#writeOne(r, bounds, 1) ? stored : unchanged;
            tally[r.kind] = (tally[r.kind] ?? 0) + 1;
          }
          this.#foldBounds(bounds);
          this.#persistBounds();
          if (pairing !== undefined) {
            this.#stmt(
              'INSERT INTO pairing (scope, generation, state) VALUES (?, 1, ?) ON CONFLICT (scope) DO UPDATE SET generation = generation + 1, state = excluded.state',
            ).run(pairing.scope, pairing.state ?? '');
          }
          if (options.checkpoints !== undefined) this.#writeCheckpoints(options.checkpoints);
          if (options.coverage === true) {
            const seen = new CoverageRecorder();
            seen.observe(records, changed);
            this.#foldCoverage(seen.report());
          }
        })
        .immediate();
    } catch (cause) {
      // The transaction rolled back: forget what it noted and interned.
      this.#meta.clear();
      for (const [k, v] of metaBefore) this.#meta.set(k, v);
      this.#bounds.clear();
      this.#lengths.clear();
      this.#present.clear();
      this.#boundsDirty = false;
      for (const ids of this.#names.values()) ids.clear();
      this.#deviceIds.clear();
      this.#loadDictionaries();
      if (cause instanceof IparError && cause.code === 'PAIRING_CONFLICT') throw cause;
      throw new IparError('STORE_WRITE_FAILED', `store write failed: ${(cause as Error).message}`, { cause });
    }
    return { stored, unchanged, changed };
  }

  /** Every source and realm name the store has seen (what a clock error may be declared for), sorted. */
  knownSources(): string[] {
    return [...new Set([...this.#sourceNames.values(), ...this.#realmNames.values()])].filter((n) => n !== '').sort();
  }

  /** Where a follower of `scope` stopped in each file (see {@link StoreWriter.followCheckpoints}). */
  followCheckpoints(scope: string): FollowCheckpoint[] {
    const rows = this.#stmt(
      'SELECT device, inode, path, "offset", line, head, head_bytes AS headBytes FROM follow_checkpoint WHERE scope = ? ORDER BY path, device, inode',
    ).all(scope) as FollowCheckpoint[];
    return rows.map((r) => ({ ...r }));
  }

  /** Inside a write transaction: a follower's checkpoints, as {@link WriteOptions.checkpoints} gives them. */
  #writeCheckpoints(c: NonNullable<WriteOptions['checkpoints']>): void {
    const drop = this.#stmt('DELETE FROM follow_checkpoint WHERE scope = ? AND device = ? AND inode = ?');
    for (const d of c.drop) drop.run(c.scope, d.device, d.inode);
    const put = this.#stmt(
      'INSERT INTO follow_checkpoint (scope, device, inode, path, "offset", line, head, head_bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ' +
        'ON CONFLICT (scope, device, inode) DO UPDATE SET path = excluded.path, "offset" = excluded."offset", line = excluded.line, head = excluded.head, head_bytes = excluded.head_bytes',
    );
    for (const k of c.set) put.run(c.scope, k.device, k.inode, k.path, k.offset, k.line, k.head, k.headBytes);
  }

  /** Inside a transaction: fold sources' coverage into what is stored. */
  #foldCoverage(seen: readonly SourceCoverage[]): void {
    const get = this.#stmt('SELECT state FROM source_coverage WHERE source = ?').pluck();
    const put = this.#stmt('INSERT INTO source_coverage (source, state) VALUES (?, ?) ON CONFLICT (source) DO UPDATE SET state = excluded.state');
    for (const c of seen) {
      const held = get.get(c.source) as string | undefined;
      put.run(c.source, coverageToText(mergeSourceCoverage(held === undefined ? undefined : coverageFromText(held), c)));
    }
  }

  /** Fold one ingest's view of its sources into the stored coverage, in one transaction. */
  recordCoverage(seen: readonly SourceCoverage[]): void {
    if (this.#readonly) throw new IparError('STORE_READONLY', 'the store was opened read-only');
    if (seen.length === 0) return;
    try {
      // Immediate: a concurrent ingest's fold is read after it commits, never overwritten.
      this.#db.transaction(() => this.#foldCoverage(seen)).immediate();
    } catch (cause) {
      if (cause instanceof IparError) throw cause;
      throw new IparError('STORE_WRITE_FAILED', `store write of source coverage failed: ${(cause as Error).message}`, { cause });
    }
  }

  /** Set a store setting (retention horizon, clock errors). */
  setSetting(key: SettingKey, value: SettingValue | null): void {
    if (this.#readonly) throw new IparError('STORE_READONLY', 'the store was opened read-only');
    this.#db
      .transaction(() => {
        this.#bumpWriteVersion();
        if (value === null) {
          this.#stmt('DELETE FROM meta WHERE key = ?').run(`setting.${key}`);
          this.#meta.delete(`setting.${key}`);
        } else {
          this.#setMeta(`setting.${key}`, String(value));
        }
      })
      .immediate();
  }

  /**
   * Retention (issue 9): delete the records whose interval ended at or before `before`
   * (open records, address space and subscribers are kept), and the device identifiers
   * and account names no remaining record holds; raise the retention horizon to `before`
   * in the same transaction, so a later request over purged time is flagged
   * BEYOND_RETENTION, never silently "none". Deleted content is zeroed (secure_delete)
   * and the WAL truncated. Returns how many records of each kind went.
   */
  purge(before: number): PurgeSummary {
    if (this.#readonly) throw new IparError('STORE_READONLY', 'the store was opened read-only');
    const deleted: Partial<Record<RecordKind, number>> = {};
    const metaBefore = new Map(this.#meta);
    this.#db.pragma('secure_delete = ON');
    try {
      this.#db.transaction(() => {
        this.#bumpWriteVersion();
        for (const kind of ['allocation', 'nat-block', 'nat-session', 'nat-deterministic', 'coverage', 'connection'] as const) {
          deleted[kind] = this.#db.prepare(`DELETE FROM ${TABLE_OF[kind]} WHERE "end" IS NOT NULL AND "end" <= ?`).run(before).changes;
        }
        this.#db.prepare('DELETE FROM device WHERE id <> 0 AND id NOT IN (SELECT device FROM allocation)').run();
        this.#db
          .prepare('DELETE FROM account WHERE type IS NULL AND id NOT IN (SELECT account FROM allocation) AND id NOT IN (SELECT account FROM connection)')
          .run();
        const horizon = this.#meta.get('setting.retentionHorizon');
        if (horizon === undefined || Number(horizon) < before) this.#setMeta('setting.retentionHorizon', String(before));
      })();
    } catch (cause) {
      this.#meta.clear();
      for (const [k, v] of metaBefore) this.#meta.set(k, v);
      throw new IparError('STORE_WRITE_FAILED', `purge failed: ${(cause as Error).message}`, { cause });
    } finally {
      this.#db.pragma('secure_delete = OFF');
    }
    // Interned ids of deleted rows must not be reused by a later write on this connection.
    this.#names.get('account')!.clear();
    this.#deviceIds.clear();
    this.#erasePurged();
    return { deleted, partitions: [] };
  }

  /**
   * Leave no byte of what a purge deleted in the files (issue 20): secure_delete zeroes
   * the deleted cells, but the interior pages of a WITHOUT ROWID table or an index keep
   * copies of keys as dividers, deleted rows' included, and a page rebalanced during the
   * deletes may keep fragments. VACUUM rebuilds every page from the rows that remain;
   * the checkpoint then writes them back and truncates the WAL, which held the old pages.
   */
  #erasePurged(): void {
    try {
      this.#db.exec('VACUUM');
      this.#db.pragma('wal_checkpoint(TRUNCATE)');
    } catch (cause) {
      throw new IparError('STORE_WRITE_FAILED', `the purge was committed but its freed pages could not be erased (run it again): ${(cause as Error).message}`, {
        cause,
      });
    }
  }

  // ---- reading -------------------------------------------------------------------------

  // One read transaction wrapper for every read (building one per call cost 3 % of a
  // port-block lookup).
  #readTransaction: ((fn: () => unknown) => unknown) | null = null;

  #read<T>(fn: () => T): Promise<T> {
    try {
      this.#readTransaction ??= this.#db.transaction((f: () => unknown) => {
        this.#sync();
        return f();
      }).deferred;
      return Promise.resolve(this.#readTransaction(fn) as T);
    } catch (cause) {
      return Promise.reject(new IparError('STORE_READ_FAILED', `store read failed: ${(cause as Error).message}`, { cause }));
    }
  }

  // Requests repeat addresses (a CGNAT pool is small): each is classified once. The
  // address space is read once per connection like the other bounds (#metaLengths), so
  // the answers are kept with them; a write on this connection forgets them.
  readonly #classified = new Map<string, AddressSpaceRecord | null>();

  classify(addresses: readonly Address[]): Promise<readonly (AddressSpaceRecord | null)[]> {
    return this.#read(() =>
      addresses.map((address) => {
        let space = this.#classified.get(address.text);
        if (space === undefined) {
          if (this.#classified.size >= 100_000) this.#classified.clear();
          this.#classified.set(address.text, (space = this.#classifyOne(address)));
        }
        return space;
      }),
    );
  }

  #classifyOne(address: Address): AddressSpaceRecord | null {
    const stmt = this.#stmt(LOOKUPS.classify);
    for (const length of lengthsFor(address, this.#metaLengths('address_space'))) {
      const key = maskKey(address.key, length);
      const row = stmt.get(diskKey(key), length) as { role: AddressRole; realm: number } | undefined;
      if (row !== undefined) {
        return addressSpaceRecord(addressFromKey(key, length), row.role, this.#realmNames.get(row.realm) ?? '');
      }
    }
    return null;
  }

  // Names and devices by id, read once and kept (the read path avoids a JOIN per row).
  readonly #accountNames = new Map<number, string>();
  readonly #devices = new Map<number, readonly [string, string, string, string]>();

  #accountName(id: number): string {
    let name = this.#accountNames.get(id);
    if (name === undefined) {
      name = (this.#stmt('SELECT name FROM account WHERE id = ?').pluck().get(id) as string | undefined) ?? '?';
      if (this.#accountNames.size > 1_000_000) this.#accountNames.clear();
      this.#accountNames.set(id, name);
    }
    return name;
  }

  #deviceOf(id: number): readonly [string, string, string, string] {
    let d = this.#devices.get(id);
    if (d === undefined) {
      d = (this.#stmt('SELECT imsi, msisdn, imei, mac FROM device WHERE id = ?').raw().get(id) as [string, string, string, string] | undefined) ?? [
        '',
        '',
        '',
        '',
      ];
      if (this.#devices.size > 1_000_000) this.#devices.clear();
      this.#devices.set(id, d);
    }
    return d;
  }

  allocations(queries: readonly AllocationQuery[]): Promise<readonly (readonly StoredAllocation[])[]> {
    // Positional parameters and raw rows: the cheapest better-sqlite3 call.
    const closed = this.#stmt(LOOKUPS.allocationsClosed).raw();
    const open = this.#stmt(LOOKUPS.allocationsOpen).raw();
    const bound = new Map<number, number>();
    const allowance = new RowAllowance();
    return this.#read(() => {
      // Bounds inside the read transaction: the same snapshot as the rows.
      const lengths = this.#metaLengths('allocation');
      const fallback = this.#metaNumber(BOUND_KEYS.longest('allocation'));
      const present = this.#presence('allocation');
      const maxDurationOf = (realmId: number): number => {
        let maxDuration = bound.get(realmId);
        if (maxDuration === undefined) {
          // Stores written before the per-realm bound existed have only the table-wide one.
          const key = BOUND_KEYS.longestAllocationOf(realmId);
          maxDuration = this.#bounds.has(key) || this.#meta.has(key) ? this.#metaNumber(key) : fallback;
          bound.set(realmId, maxDuration);
        }
        return maxDuration;
      };
      // Many IPv4 hosts of one realm asked over one window (the inside hosts of a port-less
      // deterministic observation): one statement for all of them.
      const answers = new Array<readonly StoredAllocation[] | undefined>(queries.length);
      if (present.rows) for (const group of hostGroups(queries)) this.#allocationsOfHosts(queries, group, lengths, present, maxDurationOf, allowance, answers);
      const rest = queries.flatMap((q, i) => (answers[i] === undefined ? [i] : []));
      const single = inKeyOrder(
        rest.map((i) => queries[i]!),
        (q) => q.address.key,
        (q) => {
          if (!present.rows) return [];
          const realmId = this.#names.get('realm')!.get(q.realm ?? '');
          if (realmId === undefined) return [];
          const out: StoredAllocation[] = [];
          const maxDuration = maxDurationOf(realmId);
          for (const length of lengthsFor(q.address, lengths)) {
            const key = length === 128 ? q.address.key : maskKey(q.address.key, length);
            const disk = diskKey(key);
            const rows = closedThenOpen(closed, open, present, [realmId, disk, length], q.window, maxDuration, allowance.left(q));
            allowance.took(q, rows.length);
            if (rows.length === 0) continue;
            const ip = length === 128 && q.address.length === 128 ? q.address : addressFromKey(key, length);
            for (const row of rows) out.push(this.#allocationFromRow(row, ip, q.realm));
          }
          return inOrder(out, allocationOrder);
        },
      );
      rest.forEach((i, k) => (answers[i] = single[k]!));
      return answers as (readonly StoredAllocation[])[];
    });
  }

  /**
   * Answer the queries `group` names (IPv4 hosts, one realm, one window, one row limit)
   * with one statement per prefix length for closed rows and one for open rows, the hosts'
   * keys as a list; each query gets the rows of its own key, as {@link allocations} would
   * have read them one by one.
   */
  #allocationsOfHosts(
    queries: readonly AllocationQuery[],
    group: readonly number[],
    lengths: readonly number[],
    present: { open: boolean },
    maxDurationOf: (realmId: number) => number,
    allowance: RowAllowance,
    answers: (readonly StoredAllocation[] | undefined)[],
  ): void {
    const first = queries[group[0]!]!;
    const realmId = this.#names.get('realm')!.get(first.realm ?? '');
    if (realmId === undefined) {
      for (const i of group) answers[i] = [];
      return;
    }
    const closed = this.#stmt(LOOKUPS.allocationsOfHostsClosed).raw();
    const open = this.#stmt(LOOKUPS.allocationsOfHostsOpen).raw();
    const window = first.window;
    const maxDuration = maxDurationOf(realmId);
    const out = group.map((): StoredAllocation[] => []);
    for (const length of lengthsFor(first.address, lengths)) {
      // Each host's key at this length, and the hosts that share it.
      const hosts = new Map<string, number[]>();
      group.forEach((i, k) => {
        const q = queries[i]!;
        const disk = diskKey(length === 128 ? q.address.key : maskKey(q.address.key, length)).toString('hex');
        const list = hosts.get(disk);
        if (list === undefined) hosts.set(disk, [k]);
        else list.push(k);
      });
      const keys = JSON.stringify([...hosts.keys()]);
      const cap = allowance.left(first);
      if (cap <= 0) break;
      const rows = closed.all(realmId, keys, length, window.end, lookBackStart(window, maxDuration), window.start, limitOf(cap)) as unknown[][];
      if (present.open && rows.length < cap)
        for (const row of open.all(realmId, keys, length, window.end, limitOf(cap - rows.length)) as unknown[][]) rows.push(row);
      // A prefix row read once answers every host it holds: the limit counts answers.
      let given = 0;
      for (const row of rows) {
        const disk = row[8] as Buffer;
        for (const k of hosts.get(disk.toString('hex')) ?? []) {
          if (given >= cap) break;
          const q = queries[group[k]!]!;
          const ip = length === 128 && q.address.length === 128 ? q.address : addressFromKey(keyFromDisk(disk), length);
          out[k]!.push(this.#allocationFromRow(row, ip, q.realm));
          given++;
        }
      }
      allowance.took(first, given);
    }
    group.forEach((i, k) => (answers[i] = inOrder(out[k]!, allocationOrder)));
  }

  #allocationFromRow(row: unknown[], ip: Address, realm: string | null): StoredAllocation {
    const [start, end, endInferred, source, sessionId, accountId, deviceId, lastSeen] = row as [
      number,
      number | null,
      number,
      number,
      string | null,
      number,
      number,
      number | null,
    ];
    const [imsi, msisdn, imei, mac] = deviceId === 0 ? NO_DEVICE : this.#deviceOf(deviceId);
    return allocationRecord({
      ip,
      realm,
      account: this.#accountName(accountId),
      start,
      end,
      source: this.#sourceNames.get(source) ?? '?',
      endInferred: endInferred === 1,
      imsi,
      msisdn,
      imei,
      mac,
      sessionId,
      lastSeen,
    });
  }

  // The first ports of each outside address's blocks, as the JSON list the block lookup
  // takes; kept per connection until the data changes (#sync, write).
  readonly #firstPorts = new Map<string, string>();

  #firstPortsOf(out: Buffer, nextFirstPort: Database.Statement): string {
    const key = out.toString('hex');
    let ports = this.#firstPorts.get(key);
    if (ports === undefined) {
      const list: number[] = [];
      for (let f = nextFirstPort.get(out, -1) as number | null; f !== null; f = nextFirstPort.get(out, f) as number | null) list.push(f);
      if (this.#firstPorts.size >= 100_000) this.#firstPorts.clear();
      this.#firstPorts.set(key, (ports = JSON.stringify(list)));
    }
    return ports;
  }

  natBlocks(queries: readonly NatQuery[]): Promise<readonly (readonly StoredNatBlock[])[]> {
    const firstPort = this.#stmt(LOOKUPS.blockFirstPort).pluck();
    const closed = this.#stmt(LOOKUPS.blocksClosed).raw();
    const open = this.#stmt(LOOKUPS.blocksOpen).raw();
    const nextFirstPort = this.#stmt(LOOKUPS.blockNextFirstPort).pluck();
    const openOnAddress = this.#stmt(LOOKUPS.blocksOnAddressOpen).raw();
    const onAddress = this.#stmt(LOOKUPS.blocksOnAddressClosed).raw();
    const allowance = new RowAllowance();
    return this.#read(() => {
      const maxDuration = this.#metaNumber(BOUND_KEYS.longest('nat_block'));
      const maxSpan = this.#metaNumber(BOUND_KEYS.widestBlock);
      const present = this.#presence('nat_block');
      return inKeyOrder(
        queries,
        (q) => q.outside.key,
        (q) => {
          if (!present.rows) return [];
          const out = diskKey(q.outside.key);
          const { start, end } = q.window;
          const rows: unknown[][] = [];
          const cap = allowance.left(q);
          if (q.port === null) {
            // Every block on the address: step through its first ports (a skip scan; the
            // key leads with the port, and a range on the address alone would read every
            // block the address ever had), each searched over the look-back range only.
            // The first ports are kept per address (they change only with a write), and
            // one statement seeks them all.
            const ports = this.#firstPortsOf(out, nextFirstPort);
            if (ports !== '[]' && cap > 0)
              for (const row of onAddress.all(out, ports, end, lookBackStart(q.window, maxDuration), start, limitOf(cap)) as unknown[][]) rows.push(row);
            if (present.open && rows.length < cap) for (const row of openOnAddress.all(out, end, limitOf(cap - rows.length)) as unknown[][]) rows.push(row);
          } else {
            // Blocks of mixed sizes and layouts over time: visit each first port that could
            // hold the port, highest first, within the widest block ever seen.
            let hi = q.port;
            const lo = q.port - maxSpan + 1;
            while (rows.length < cap) {
              const f = firstPort.get(out, hi, lo) as number | null;
              if (f === null) break;
              // Not limited by statement: a block ending below the port is read but is no row
              // of the answer (the rows of one first port are few, bounded by the look-back).
              for (const row of closedThenOpen(closed, open, present, [out, f], q.window, maxDuration)) if ((row[5] as number) >= q.port) rows.push(row);
              hi = f - 1;
            }
            if (rows.length > cap) rows.length = cap;
          }
          allowance.took(q, rows.length);
          return inOrder(
            rows.map((row) => this.#blockFromRow(row, q.outside)),
            natBlockOrder(q.port),
          );
        },
      );
    });
  }

  #blockFromRow(row: unknown[], outsideIp: Address): StoredNatBlock {
    const [portFirst, start, realmId, inAddr, protocol, portLast, end, endInferred, lastSeen] = row as [
      number,
      number,
      number,
      Buffer,
      string,
      number,
      number | null,
      number,
      number | null,
    ];
    return natBlockRecord({
      realm: this.#realmNames.get(realmId) ?? '?',
      insideIp: addressFromDisk(inAddr),
      outsideIp,
      portFirst,
      portLast,
      start,
      end,
      protocol,
      endInferred: endInferred === 1,
      lastSeen,
    });
  }

  natSessions(queries: readonly NatQuery[]): Promise<readonly (readonly StoredNatSession[])[]> {
    const closed = this.#stmt(LOOKUPS.sessionsClosed).raw();
    const open = this.#stmt(LOOKUPS.sessionsOpen).raw();
    const closedOnAddress = this.#stmt(LOOKUPS.sessionsOnAddressClosed).raw();
    const openOnAddress = this.#stmt(LOOKUPS.sessionsOnAddressOpen).raw();
    const allowance = new RowAllowance();
    return this.#read(() => {
      const maxDuration = this.#metaNumber(BOUND_KEYS.longest('nat_session'));
      const present = this.#presence('nat_session');
      return inKeyOrder(
        queries,
        (q) => q.outside.key,
        (q) => {
          if (!present.rows) return [];
          const out = diskKey(q.outside.key);
          const rows =
            q.port === null
              ? closedThenOpen(closedOnAddress, openOnAddress, present, [out], q.window, maxDuration, allowance.left(q), SESSION_ROW_LIMIT)
              : closedThenOpen(closed, open, present, [out, q.port], q.window, maxDuration, allowance.left(q));
          allowance.took(q, rows.length);
          return inOrder(
            rows.map((row) => this.#sessionFromRow(row, q.outside)),
            natSessionOrder,
          );
        },
      );
    });
  }

  #sessionFromRow(row: unknown[], outsideIp: Address): StoredNatSession {
    const [outsidePort, start, protocol, realmId, inAddr, insidePort, dst, dstPort, end, endInferred, lastSeen] = row as [
      number,
      number,
      Protocol,
      number,
      Buffer,
      number,
      Buffer,
      number,
      number | null,
      number,
      number | null,
    ];
    return natSessionRecord({
      realm: this.#realmNames.get(realmId) ?? '?',
      insideIp: addressFromDisk(inAddr),
      insidePort,
      outsideIp,
      outsidePort,
      protocol,
      start,
      end,
      destinationIp: dst.length > 0 ? addressFromDisk(dst) : null,
      destinationPort: dstPort,
      endInferred: endInferred === 1,
      lastSeen,
    });
  }

  natDeterministic(queries: readonly DeterministicQuery[]): Promise<readonly (readonly StoredNatDeterministic[])[]> {
    const stmt = this.#stmt(LOOKUPS.deterministic);
    const allowance = new RowAllowance();
    return this.#read(() => {
      const lengths = this.#metaLengths('nat_deterministic');
      return queries.map((q) => {
        const out: StoredNatDeterministic[] = [];
        for (const length of lengthsFor(q.outside, lengths)) {
          const key = maskKey(q.outside.key, length);
          const cap = allowance.left(q);
          if (cap <= 0) break;
          const rows = stmt.all(diskKey(key), length, q.window.end, q.window.start, limitOf(cap)) as Row[];
          allowance.took(q, rows.length);
          for (const row of rows) {
            const text = row['record'] as string;
            let record = this.#detCache.get(text);
            if (record === undefined) {
              record = NatDeterministicRecord.parse(JSON.parse(text));
              this.#detCache.set(text, record);
            }
            out.push(natDeterministicRecord(record, this.#realmNames.get(row['realm'] as number) ?? '?', row['start'] as number));
          }
        }
        return inOrder(out, natDeterministicOrder);
      });
    });
  }

  coverageGaps(queries: readonly CoverageQuery[]): Promise<readonly (readonly StoredCoverage[])[]> {
    const one = this.#stmt(LOOKUPS.coverageOfSource);
    // Coverage gaps are few (they are declared, not logged), so "any source" reads them all.
    const any = this.#stmt(LOOKUPS.coverageAny);
    return this.#read(() =>
      queries.map((q) => {
        let rows: Row[];
        if (q.source === null) rows = any.all(q.window.end, q.window.start) as Row[];
        else {
          const sourceId = this.#names.get('source')!.get(q.source);
          if (sourceId === undefined) return [];
          rows = one.all(sourceId, q.window.end, q.window.start) as Row[];
        }
        return inOrder(
          rows.map((row) =>
            coverageRecord(this.#sourceNames.get(row['source'] as number) ?? '?', row['start'] as number, row['end'] as number | null, row['status'] as 'gap'),
          ),
          coverageOrder,
        );
      }),
    );
  }

  // ---- connection evidence (issue 19) ----------------------------------------------------

  /**
   * Rows of each destination address a query covers: the address itself, or each address
   * of a prefix in turn (skip scan), each one bounded range on start.
   */
  #byDestination(first: Database.Statement, next: Database.Statement, each: (dst: Buffer) => unknown[][], destination: Address): unknown[][] {
    if (destination.length === 128) return each(diskKey(destination.key));
    const lo = diskKey(maskKey(destination.key, destination.length));
    const hi = lastDiskKey(destination);
    const rows: unknown[][] = [];
    for (let d = first.get(lo, hi) as Buffer | null; d !== null; d = next.get(d, hi) as Buffer | null) {
      // A 16-byte key can sort inside a 4-byte range: keep the query's family only.
      if (d.length === lo.length) for (const row of each(d)) rows.push(row);
    }
    return rows;
  }

  connectionsTo(queries: readonly DestinationQuery[]): Promise<readonly (readonly StoredConnection[])[]> {
    const maxDuration = this.#metaNumber(BOUND_KEYS.longest('connection'));
    const stmt = this.#stmt(LOOKUPS.connectionsTo).raw();
    const first = this.#stmt(LOOKUPS.connectionFirstDestination).pluck();
    const next = this.#stmt(LOOKUPS.connectionNextDestination).pluck();
    return this.#read(() =>
      queries.map((q) => {
        const rows = this.#byDestination(
          first,
          next,
          (d) => stmt.all(d, q.window.end, lookBackStart(q.window, maxDuration), q.window.start) as unknown[][],
          q.destination,
        );
        return inOrder(
          rows.map((row) => this.#connectionFromRow(row)),
          connectionOrder,
        );
      }),
    );
  }

  connectionsFrom(queries: readonly SourceQuery[]): Promise<readonly (readonly StoredConnection[])[]> {
    const maxDuration = this.#metaNumber(BOUND_KEYS.longest('connection'));
    const bySource = this.#stmt(LOOKUPS.connectionsFromSource).raw();
    const byAccount = this.#stmt(LOOKUPS.connectionsOfAccount).raw();
    const accountId = this.#stmt('SELECT id FROM account WHERE name = ?').pluck();
    return this.#read(() =>
      queries.map((q) => {
        const range = [q.window.end, lookBackStart(q.window, maxDuration), q.window.start];
        let rows: unknown[][];
        if ('account' in q) {
          const id = accountId.get(q.account) as number | undefined;
          rows = id === undefined ? [] : (byAccount.all(id, ...range) as unknown[][]);
        } else {
          const realmId = this.#realmIds.get(q.realm ?? '');
          rows = realmId === undefined ? [] : (bySource.all(realmId, diskKey(q.source.key), ...range) as unknown[][]);
        }
        return inOrder(
          rows.map((row) => this.#connectionFromRow(row)),
          connectionOrder,
        );
      }),
    );
  }

  /** A connection row of {@link CONNECTION_COLUMNS}; its account column is an id, or (an export's join) the name itself. */
  #connectionFromRow(row: unknown[]): StoredConnection {
    const [dst, start, realmId, src, sourcePort, destinationPort, protocol, end, accountOf, bytesUp, bytesDown, service] = row as [
      Buffer,
      number,
      number,
      Buffer,
      number,
      number,
      string,
      number,
      number | string | null,
      number,
      number,
      string,
    ];
    return connectionRecord({
      account: typeof accountOf === 'number' ? (accountOf === 0 ? '' : this.#accountName(accountOf)) : (accountOf ?? ''),
      sourceIp: addressFromDisk(src),
      sourcePort,
      realm: this.#realmNames.get(realmId) ?? '?',
      destinationIp: addressFromDisk(dst),
      destinationPort,
      protocol,
      start,
      end,
      bytesUp,
      bytesDown,
      service,
    });
  }

  natSessionsTo(queries: readonly DestinationQuery[]): Promise<readonly (readonly StoredNatSession[])[]> {
    const maxDuration = this.#metaNumber(BOUND_KEYS.longest('nat_session'));
    const closed = this.#stmt(LOOKUPS.sessionsToClosed).raw();
    const open = this.#stmt(LOOKUPS.sessionsToOpen).raw();
    const first = this.#stmt(LOOKUPS.sessionFirstDestination).pluck();
    const next = this.#stmt(LOOKUPS.sessionNextDestination).pluck();
    const present = this.#presence('nat_session');
    return this.#read(() =>
      queries.map((q) => {
        if (!present.rows) return [];
        const rows = this.#byDestination(first, next, (d) => closedThenOpen(closed, open, present, [d], q.window, maxDuration), q.destination);
        return inOrder(
          rows.map((row) => this.#sessionFromRow(row.slice(1), addressFromDisk(row[0] as Buffer))),
          natSessionByStartOrder,
        );
      }),
    );
  }

  natSessionsFrom(queries: readonly Extract<SourceQuery, { source: Address }>[]): Promise<readonly (readonly StoredNatSession[])[]> {
    const maxDuration = this.#metaNumber(BOUND_KEYS.longest('nat_session'));
    const closed = this.#stmt(LOOKUPS.sessionsFromClosed).raw();
    const open = this.#stmt(LOOKUPS.sessionsFromOpen).raw();
    const present = this.#presence('nat_session');
    return this.#read(() =>
      queries.map((q) => {
        const realmId = this.#realmIds.get(q.realm ?? '');
        if (!present.rows || realmId === undefined) return [];
        const rows = closedThenOpen(closed, open, present, [realmId, diskKey(q.source.key)], q.window, maxDuration);
        return inOrder(
          rows.map((row) => this.#sessionFromRow(row.slice(1), addressFromDisk(row[0] as Buffer))),
          natSessionByStartOrder,
        );
      }),
    );
  }

  // Subscriber types by account name (null: none), kept per connection until the data changes (#sync, write).
  readonly #subscriberTypes = new Map<string, SubscriberType | null>();

  subscriberTypes(accounts: readonly string[]): Promise<ReadonlyMap<string, SubscriberType>> {
    const stmt = this.#stmt('SELECT type FROM account WHERE name = ? AND type IS NOT NULL').pluck();
    return this.#read(() => {
      const out = new Map<string, SubscriberType>();
      for (const account of new Set(accounts)) {
        let type = this.#subscriberTypes.get(account);
        if (type === undefined) {
          type = (stmt.get(account) as SubscriberType | undefined) ?? null;
          if (this.#subscriberTypes.size >= 1_000_000) this.#subscriberTypes.clear();
          this.#subscriberTypes.set(account, type);
        }
        if (type !== null) out.set(account, type);
      }
      return out;
    });
  }

  settings(): Promise<StoreSettings> {
    return this.#read(() => {
      const settings: [string, string][] = [];
      for (const [key, value] of this.#meta) if (key.startsWith('setting.')) settings.push([key.slice('setting.'.length), value]);
      const bounds: [string, number][] = [];
      for (const key of new Set([...this.#meta.keys(), ...this.#bounds.keys()])) if (key.startsWith('maxDuration.')) bounds.push([key, this.#metaNumber(key)]);
      return storeSettings(settings, bounds, [...this.#noDestination]);
    });
  }

  sourceCoverage(): Promise<readonly SourceCoverage[]> {
    return this.#read(() => (this.#stmt('SELECT state FROM source_coverage ORDER BY source').pluck().all() as string[]).map(coverageFromText));
  }

  coverage(): Promise<CoverageListing> {
    return coverageListing(this);
  }

  counts(): Promise<RecordCounts> {
    return this.#read(() => {
      const out = {} as Record<RecordKind, number>;
      for (const [kind, table] of Object.entries(TABLE_OF) as [RecordKind, string][]) {
        const where = kind === 'subscriber' ? ' WHERE type IS NOT NULL' : '';
        out[kind] = (this.#stmt(`SELECT count(*) AS n FROM ${table}${where}`).get() as { n: number }).n;
      }
      return out;
    });
  }

  /**
   * Every stored record of the kinds asked for, overlapping the window ({@link StoreExporter}),
   * in batches of {@link EXPORT_BATCH}, each table in its primary-key order. Names and
   * devices are joined in the query: the connection is busy while a table is read, and
   * no other statement could run to look them up.
   */
  async *exportRecords(query: ExportQuery): AsyncIterable<readonly StoredRecord[]> {
    const lo = Math.max(query.window.start, Number.MIN_SAFE_INTEGER);
    const hi = Math.min(query.window.end, Number.MAX_SAFE_INTEGER);
    const overlapsOf = (t: string): string => `${t}start < ${hi} AND (${t}"end" IS NULL OR ${t}"end" > ${lo})`;
    const overlaps = overlapsOf('');
    const realm = (id: number): string => this.#realmNames.get(id) ?? '?';
    const tables: Record<RecordKind, { sql: string; row: (r: unknown[]) => StoredRecord }> = {
      'address-space': {
        sql: 'SELECT addr, plen, role, realm FROM address_space ORDER BY addr, plen',
        row: ([addr, plen, role, realmId]) =>
          addressSpaceRecord(addressFromKey(keyFromDisk(addr as Buffer), plen as number), role as AddressRole, realm(realmId as number)),
      },
      subscriber: {
        sql: 'SELECT name, type FROM account WHERE type IS NOT NULL ORDER BY name',
        row: ([account, type]) => Object.freeze({ kind: 'subscriber' as const, account: account as string, type: type as SubscriberType }),
      },
      allocation: {
        sql: `SELECT a.realm, a.addr, a.plen, a.start, a."end", a.end_inferred, a.source, a.session_id, c.name, d.imsi, d.msisdn, d.imei, d.mac, a.last_seen
              FROM allocation a JOIN account c ON c.id = a.account JOIN device d ON d.id = a.device
              WHERE ${overlapsOf('a.')} ORDER BY a.realm, a.addr, a.plen, a.start, a.account`,
        row: ([realmId, addr, plen, start, end, endInferred, source, sessionId, account, imsi, msisdn, imei, mac, lastSeen]) => {
          const name = realm(realmId as number);
          return allocationRecord({
            ip: addressFromKey(keyFromDisk(addr as Buffer), plen as number),
            realm: name === '' ? null : name,
            account: account as string,
            start: start as number,
            end: end as number | null,
            source: this.#sourceNames.get(source as number) ?? '?',
            endInferred: endInferred === 1,
            imsi: imsi as string,
            msisdn: msisdn as string,
            imei: imei as string,
            mac: mac as string,
            sessionId: sessionId as string | null,
            // As blocks and sessions: a record the pairing still owns keeps its last evidence.
            lastSeen: lastSeen as number | null,
          });
        },
      },
      'nat-block': {
        sql: `SELECT out_addr, ${BLOCK_COLUMNS} WHERE ${overlaps} ORDER BY out_addr, port_first, start, realm, in_addr, protocol`,
        row: (r) => this.#blockFromRow(r.slice(1), addressFromDisk(r[0] as Buffer)),
      },
      'nat-session': {
        sql: `SELECT out_addr, ${SESSION_COLUMNS} WHERE ${overlaps} ORDER BY out_addr, out_port, start, protocol, realm, in_addr, in_port, dst_addr, dst_port`,
        row: (r) => this.#sessionFromRow(r.slice(1), addressFromDisk(r[0] as Buffer)),
      },
      'nat-deterministic': {
        sql: `SELECT realm, start, record FROM nat_deterministic WHERE ${overlaps} ORDER BY out_addr, plen, start, realm`,
        row: ([realmId, start, text]) =>
          natDeterministicRecord(NatDeterministicRecord.parse(JSON.parse(text as string)), realm(realmId as number), start as number),
      },
      connection: {
        sql: `SELECT c.dst_addr, c.start, c.realm, c.src_addr, c.src_port, c.dst_port, c.protocol, c."end", a.name, c.bytes_up, c.bytes_down, c.service
              FROM connection c LEFT JOIN account a ON a.id = c.account
              WHERE ${overlapsOf('c.')} ORDER BY c.dst_addr, c.start, c.realm, c.src_addr, c.src_port, c.dst_port, c.protocol`,
        row: (r) => this.#connectionFromRow(r),
      },
      coverage: {
        sql: `SELECT source, start, "end", status FROM coverage WHERE ${overlaps} ORDER BY source, start, status`,
        row: ([source, start, end, status]) =>
          coverageRecord(this.#sourceNames.get(source as number) ?? '?', start as number, end as number | null, status as 'gap'),
      },
    };
    for (const kind of RECORD_KINDS) {
      if (!query.kinds.includes(kind)) continue;
      const { sql, row } = tables[kind];
      let batch: StoredRecord[] = [];
      let rows: IterableIterator<unknown[]>;
      try {
        rows = this.#db.prepare(sql).raw().iterate() as IterableIterator<unknown[]>;
      } catch (cause) {
        throw new IparError('STORE_READ_FAILED', `store read failed: ${(cause as Error).message}`, { cause });
      }
      for (const r of rows) {
        batch.push(row(r));
        if (batch.length >= EXPORT_BATCH) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length > 0) yield batch;
    }
  }

  /** The query plan SQLite picks for each lookup (tests check that lookups use indexes). */
  lookupPlans(): Record<keyof typeof LOOKUPS, string[]> {
    const out = {} as Record<keyof typeof LOOKUPS, string[]>;
    for (const [name, sql] of Object.entries(LOOKUPS) as [keyof typeof LOOKUPS, string][]) {
      const params = new Array<null>((sql.match(/\?/g) ?? []).length).fill(null);
      out[name] = (this.#db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail);
    }
    return out;
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}

/**
 * Open (and create or migrate, unless read-only) a store file.
 *
 * @example
 * const store = openSqliteStore('operator.db', { readonly: true });
 */
export function openSqliteStore(file: string, options: SqliteOpenOptions = {}): SqliteStore {
  return new SqliteStore(file, options);
}
