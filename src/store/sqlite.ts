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
import { addressFromKey, maskKey, type Address } from '../address.js';
import { IparError } from '../problems.js';
import {
  NatDeterministicRecord,
  toWritten,
  type AddressRole,
  type AddressSpaceRecord,
  type CanonicalRecord,
  type Protocol,
  type RecordKind,
  type SubscriberType,
} from '../records.js';
import { createPrivateFile } from './files.js';
import { MIGRATIONS, SCHEMA_VERSION } from './schema.js';
import type {
  AllocationQuery,
  CoverageQuery,
  DeterministicQuery,
  NatQuery,
  RecordCounts,
  StoreReader,
  StoreSettings,
  StoreWriter,
  StoredAllocation,
  StoredCoverage,
  StoredNatBlock,
  StoredNatDeterministic,
  StoredNatSession,
  WriteSummary,
} from './types.js';

export interface SqliteOpenOptions {
  /** Open for queries only (the default for resolve). The file must exist. */
  readonly readonly?: boolean;
  /** Page cache in MiB (bulk loads into indexed tables want the index in cache). */
  readonly cacheMiB?: number;
}

const V4_PREFIX = Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]);
const EMPTY = Buffer.alloc(0);

/** On-disk form of a 16-byte key: IPv4-mapped keys lose their 12-byte prefix. */
function diskKey(key: Buffer): Buffer {
  return key.subarray(0, 12).equals(V4_PREFIX) ? key.subarray(12) : key;
}

function memKey(disk: Buffer): Buffer {
  return disk.length === 4 ? Buffer.concat([V4_PREFIX, disk]) : disk;
}

/** Prefix lengths, in IPv6 terms, that can hold an address of this family. */
function lengthsFor(address: Address, lengths: readonly number[]): number[] {
  return lengths.filter((l) => l <= address.length && (address.family === 6 || l >= 96));
}

const TABLE_OF: Readonly<Record<RecordKind, string>> = {
  'address-space': 'address_space',
  subscriber: 'account',
  allocation: 'allocation',
  'nat-block': 'nat_block',
  'nat-session': 'nat_session',
  'nat-deterministic': 'nat_deterministic',
  coverage: 'coverage',
};

/** Rows a single no-port session query returns at most (the matcher treats it as "too many"). */
export const SESSION_ROW_LIMIT = 100_000;

type Row = Record<string, unknown>;

/**
 * A store in one SQLite file, serving both {@link StoreReader} and {@link StoreWriter}.
 *
 * @example
 * const store = openSqliteStore('operator.db');
 * store.write(records);
 * const [hits] = await store.allocations([{ address, realm: null, window }]);
 * store.close();
 */
export class SqliteStore implements StoreReader, StoreWriter {
  readonly #db: Database.Database;
  readonly #readonly: boolean;
  readonly #names = new Map<string, Map<string, number>>();
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
    } catch (error) {
      this.#db.close();
      if (error instanceof IparError) throw error;
      // e.g. SQLITE_READONLY_DIRECTORY: even a reader of a WAL database must create its -shm.
      throw new IparError('STORE_OPEN_FAILED', `cannot read store ${file}: ${(error as Error).message}` + (this.#readonly ? ' (a reader needs write access to the store\'s directory, or existing -wal and -shm files)' : ''), { cause: error });
    }
  }

  #migrate(file: string): void {
    const version = this.#db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new IparError('STORE_TOO_NEW', `store ${file} has schema version ${version}; this ipar knows up to ${SCHEMA_VERSION}`);
    }
    for (let v = version; v < SCHEMA_VERSION; v++) {
      this.#db.transaction(() => {
        this.#db.exec(MIGRATIONS[v]!);
        this.#db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  #loadDictionaries(): void {
    for (const table of ['realm', 'source'] as const) {
      const ids = new Map<string, number>();
      for (const row of this.#db.prepare(`SELECT id, name FROM ${table}`).all() as { id: number; name: string }[]) {
        ids.set(row.name, row.id);
        (table === 'realm' ? this.#realmNames : this.#sourceNames).set(row.id, row.name);
      }
      this.#names.set(table, ids);
    }
    this.#names.set('account', new Map());
    for (const row of this.#db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[]) {
      this.#meta.set(row.key, row.value);
    }
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

  #noteDuration(table: string, start: number, end: number | null): void {
    if (end !== null) this.#raise(`maxDuration.${table}`, end - start);
  }

  #noteLength(table: string, length: number): void {
    const lengths = this.#metaLengths(table);
    if (!lengths.includes(length)) {
      this.#lengths.set(table, [...lengths, length].sort((a, b) => b - a));
      this.#boundsDirty = true;
    }
  }

  #persistBounds(): void {
    if (!this.#boundsDirty) return;
    for (const [key, value] of this.#bounds) this.#setMeta(key, String(value));
    for (const [table, lengths] of this.#lengths) this.#setMeta(`lengths.${table}`, JSON.stringify(lengths));
    this.#boundsDirty = false;
  }

  // ---- writing -------------------------------------------------------------------------

  #intern(table: 'realm' | 'source' | 'account', name: string): number {
    const ids = this.#names.get(table)!;
    const hit = ids.get(name);
    if (hit !== undefined) return hit;
    const id = (this.#stmt(`INSERT INTO ${table} (name) VALUES (?) ON CONFLICT (name) DO UPDATE SET name = name RETURNING id`).get(name) as { id: number }).id;
    ids.set(name, id);
    if (table === 'realm') this.#realmNames.set(id, name);
    if (table === 'source') this.#sourceNames.set(id, name);
    if (ids.size > 500_000) ids.clear();
    return id;
  }

  #device(r: { imsi?: string | undefined; msisdn?: string | undefined; imei?: string | undefined; mac?: string | undefined }): number {
    if (r.imsi === undefined && r.msisdn === undefined && r.imei === undefined && r.mac === undefined) return 0;
    const values = [r.imsi ?? '', r.msisdn ?? '', r.imei ?? '', r.mac ?? ''] as const;
    const cacheKey = values.join('|');
    const hit = this.#deviceIds.get(cacheKey);
    if (hit !== undefined) return hit;
    const id = (
      this.#stmt('INSERT INTO device (imsi, msisdn, imei, mac) VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET imsi = imsi RETURNING id').get(...values) as { id: number }
    ).id;
    if (this.#deviceIds.size > 500_000) this.#deviceIds.clear();
    this.#deviceIds.set(cacheKey, id);
    return id;
  }

  #writeStatements: Record<string, Database.Statement> | null = null;

  /** The insert statements, prepared once (SQL text is built once, not per row). */
  #writers(): Record<string, Database.Statement> {
    if (this.#writeStatements !== null) return this.#writeStatements;
    const upsertEnd = `ON CONFLICT DO UPDATE SET "end" = excluded."end", end_inferred = excluded.end_inferred
      WHERE "end" IS NULL AND excluded."end" IS NOT NULL OR end_inferred = 1 AND excluded.end_inferred = 0 AND excluded."end" IS NOT NULL`;
    this.#writeStatements = {
      addressSpace: this.#db.prepare(
        `INSERT INTO address_space (addr, plen, role, realm) VALUES (?, ?, ?, ?)
         ON CONFLICT DO UPDATE SET role = excluded.role, realm = excluded.realm WHERE role <> excluded.role OR realm <> excluded.realm`,
      ),
      subscriber: this.#db.prepare('UPDATE account SET type = ? WHERE name = ? AND type IS NOT ?'),
      allocation: this.#db.prepare(
        `INSERT INTO allocation (realm, addr, plen, start, account, "end", source, end_inferred, device, session_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ${upsertEnd}`,
      ),
      natBlock: this.#db.prepare(
        `INSERT INTO nat_block (out_addr, port_first, start, realm, in_addr, protocol, port_last, "end", end_inferred)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ${upsertEnd}`,
      ),
      natSession: this.#db.prepare(
        `INSERT INTO nat_session (out_addr, out_port, start, protocol, realm, in_addr, in_port, dst_addr, dst_port, "end", end_inferred)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ${upsertEnd}`,
      ),
      natDeterministic: this.#db.prepare(
        `INSERT INTO nat_deterministic (out_addr, plen, start, realm, "end", record) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT DO UPDATE SET "end" = excluded."end", record = excluded.record WHERE record <> excluded.record`,
      ),
      coverage: this.#db.prepare(
        `INSERT INTO coverage (source, start, status, "end") VALUES (?, ?, ?, ?)
         ON CONFLICT DO UPDATE SET "end" = excluded."end" WHERE "end" IS NOT excluded."end"`,
      ),
    };
    return this.#writeStatements;
  }

  #writeOne(r: CanonicalRecord): boolean {
    const w = this.#writers();
    switch (r.kind) {
      case 'address-space':
        this.#noteLength('address_space', r.prefix.length);
        return (
          w.addressSpace!.run(diskKey(r.prefix.key), r.prefix.length, r.role, this.#intern('realm', r.realm ?? '')).changes > 0
        );
      case 'subscriber':
        this.#intern('account', r.account);
        return w.subscriber!.run(r.type, r.account, r.type).changes > 0;
      case 'allocation':
        this.#noteLength('allocation', r.ip.length);
        this.#noteDuration('allocation', r.start, r.end);
        return (
          w.allocation!.run(
            this.#intern('realm', r.realm ?? ''),
            diskKey(r.ip.key),
            r.ip.length,
            r.start,
            this.#intern('account', r.account),
            r.end,
            this.#intern('source', r.source),
            r.endInferred === true ? 1 : 0,
            this.#device(r),
            r.sessionId ?? null,
          ).changes > 0
        );
      case 'nat-block':
        this.#noteDuration('nat_block', r.start, r.end);
        this.#raise('maxSpan.nat_block', r.portLast - r.portFirst + 1);
        return (
          w.natBlock!.run(
            diskKey(r.outsideIp.key),
            r.portFirst,
            r.start,
            this.#intern('realm', r.realm),
            diskKey(r.insideIp.key),
            r.protocol ?? '',
            r.portLast,
            r.end,
            r.endInferred === true ? 1 : 0,
          ).changes > 0
        );
      case 'nat-session':
        this.#noteDuration('nat_session', r.start, r.end);
        return (
          w.natSession!.run(
            diskKey(r.outsideIp.key),
            r.outsidePort,
            r.start,
            r.protocol,
            this.#intern('realm', r.realm),
            diskKey(r.insideIp.key),
            r.insidePort,
            r.destinationIp === undefined ? EMPTY : diskKey(r.destinationIp.key),
            r.destinationPort ?? -1,
            r.end,
            r.endInferred === true ? 1 : 0,
          ).changes > 0
        );
      case 'nat-deterministic':
        this.#noteLength('nat_deterministic', r.outsidePrefix.length);
        return (
          w.natDeterministic!.run(diskKey(r.outsidePrefix.key), r.outsidePrefix.length, r.start, this.#intern('realm', r.realm), r.end, JSON.stringify(toWritten(r))).changes > 0
        );
      case 'coverage':
        return (
          w.coverage!.run(this.#intern('source', r.source), r.start, r.status, r.end).changes > 0
        );
    }
  }

  /** Store a batch in one transaction. Re-storing a record changes nothing (natural keys). */
  write(records: readonly CanonicalRecord[]): WriteSummary {
    if (this.#readonly) throw new IparError('STORE_READONLY', 'the store was opened read-only');
    const stored: Partial<Record<RecordKind, number>> = {};
    const unchanged: Partial<Record<RecordKind, number>> = {};
    const metaBefore = new Map(this.#meta);
    try {
      this.#db.transaction(() => {
        for (const r of records) {
          const tally = this.#writeOne(r) ? stored : unchanged;
          tally[r.kind] = (tally[r.kind] ?? 0) + 1;
        }
        this.#persistBounds();
      })();
    } catch (cause) {
      // The transaction rolled back: forget what it noted and interned.
      this.#meta.clear();
      for (const [k, v] of metaBefore) this.#meta.set(k, v);
      this.#bounds.clear();
      this.#lengths.clear();
      this.#boundsDirty = false;
      for (const ids of this.#names.values()) ids.clear();
      this.#deviceIds.clear();
      this.#loadDictionaries();
      throw new IparError('STORE_WRITE_FAILED', `store write failed: ${(cause as Error).message}`, { cause });
    }
    return { stored, unchanged };
  }

  /** Set a store setting (retention horizon, clock errors). */
  setSetting(key: 'retentionHorizon' | `clockError.${string}`, value: number | null): void {
    if (this.#readonly) throw new IparError('STORE_READONLY', 'the store was opened read-only');
    if (value === null) {
      this.#stmt('DELETE FROM meta WHERE key = ?').run(`setting.${key}`);
      this.#meta.delete(`setting.${key}`);
    } else {
      this.#setMeta(`setting.${key}`, String(value));
    }
  }

  /**
   * Retention (issue 9): delete the records whose interval ended at or before `before`
   * (open records, address space and subscribers are kept), and the device identifiers
   * and account names no remaining record holds; raise the retention horizon to `before`
   * in the same transaction, so a later request over purged time is flagged
   * BEYOND_RETENTION, never silently "none". Deleted content is zeroed (secure_delete)
   * and the WAL truncated. Returns how many records of each kind went.
   */
  purge(before: number): Partial<Record<RecordKind, number>> {
    if (this.#readonly) throw new IparError('STORE_READONLY', 'the store was opened read-only');
    const deleted: Partial<Record<RecordKind, number>> = {};
    const metaBefore = new Map(this.#meta);
    this.#db.pragma('secure_delete = ON');
    try {
      this.#db.transaction(() => {
        for (const kind of ['allocation', 'nat-block', 'nat-session', 'nat-deterministic', 'coverage'] as const) {
          deleted[kind] = this.#db.prepare(`DELETE FROM ${TABLE_OF[kind]} WHERE "end" IS NOT NULL AND "end" <= ?`).run(before).changes;
        }
        this.#db.prepare('DELETE FROM device WHERE id <> 0 AND id NOT IN (SELECT device FROM allocation)').run();
        this.#db.prepare('DELETE FROM account WHERE type IS NULL AND id NOT IN (SELECT account FROM allocation)').run();
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
    this.#db.pragma('wal_checkpoint(TRUNCATE)');
    return deleted;
  }

  // ---- reading -------------------------------------------------------------------------

  #read<T>(fn: () => T): Promise<T> {
    try {
      return Promise.resolve(this.#db.transaction(fn).deferred());
    } catch (cause) {
      return Promise.reject(new IparError('STORE_READ_FAILED', `store read failed: ${(cause as Error).message}`, { cause }));
    }
  }

  classify(addresses: readonly Address[]): Promise<readonly (AddressSpaceRecord | null)[]> {
    const lengths = this.#metaLengths('address_space');
    const stmt = this.#stmt('SELECT role, realm FROM address_space WHERE addr = ? AND plen = ?');
    return this.#read(() =>
      addresses.map((address) => {
        for (const length of lengthsFor(address, lengths)) {
          const key = maskKey(address.key, length);
          const row = stmt.get(diskKey(key), length) as { role: AddressRole; realm: number } | undefined;
          if (row !== undefined) {
            const realm = this.#realmNames.get(row.realm) ?? '';
            const prefix = addressFromKey(key, length);
            return Object.freeze(
              realm === '' ? { kind: 'address-space', prefix, role: row.role } : { kind: 'address-space', prefix, role: row.role, realm },
            ) as AddressSpaceRecord;
          }
        }
        return null;
      }),
    );
  }

  allocations(queries: readonly AllocationQuery[]): Promise<readonly (readonly StoredAllocation[])[]> {
    const lengths = this.#metaLengths('allocation');
    const maxDuration = this.#metaNumber('maxDuration.allocation');
    const columns = `a.plen, a.start, a."end", a.end_inferred, a.source, a.session_id, c.name AS account,
      d.imsi, d.msisdn, d.imei, d.mac FROM allocation a JOIN account c ON c.id = a.account JOIN device d ON d.id = a.device`;
    const stmt = this.#stmt(
      `SELECT ${columns} WHERE a.realm = @realm AND a.addr = @addr AND a.plen = @plen AND a.start < @end AND a.start >= @low AND a."end" > @start
       UNION ALL
       SELECT ${columns} WHERE a.realm = @realm AND a.addr = @addr AND a.plen = @plen AND a."end" IS NULL AND a.start < @end`,
    );
    return this.#read(() =>
      queries.map((q) => {
        const realmId = this.#names.get('realm')!.get(q.realm ?? '');
        if (realmId === undefined) return [];
        const out: StoredAllocation[] = [];
        for (const length of lengthsFor(q.address, lengths)) {
          const key = maskKey(q.address.key, length);
          const rows = stmt.all({ realm: realmId, addr: diskKey(key), plen: length, end: q.window.end, low: q.window.start - maxDuration, start: q.window.start }) as Row[];
          for (const row of rows) out.push(this.#allocationFromRow(row, key, q.realm));
        }
        return out;
      }),
    );
  }

  #allocationFromRow(row: Row, key: Buffer, realm: string | null): StoredAllocation {
    const ip = addressFromKey(key, row['plen'] as number);
    const start = row['start'] as number;
    const account = row['account'] as string;
    const r: Record<string, unknown> = {
      kind: 'allocation',
      account,
      ip,
      start,
      end: row['end'] as number | null,
      source: this.#sourceNames.get(row['source'] as number) ?? '?',
      id: `allocation:${realm ?? ''}:${ip.text}:${start}:${account}`,
    };
    if (realm !== null) r['realm'] = realm;
    for (const k of ['imsi', 'msisdn', 'imei', 'mac'] as const) if (row[k] !== '') r[k] = row[k];
    if (row['session_id'] !== null) r['sessionId'] = row['session_id'];
    if (row['end_inferred'] === 1) r['endInferred'] = true;
    return Object.freeze(r) as StoredAllocation;
  }

  natBlocks(queries: readonly NatQuery[]): Promise<readonly (readonly StoredNatBlock[])[]> {
    const maxDuration = this.#metaNumber('maxDuration.nat_block');
    const maxSpan = this.#metaNumber('maxSpan.nat_block');
    const columns = `port_first, start, realm, in_addr, protocol, port_last, "end", end_inferred FROM nat_block`;
    const atFirst = this.#stmt(
      `SELECT ${columns} WHERE out_addr = @out AND port_first = @first AND start < @end AND start >= @low AND "end" > @start
       UNION ALL
       SELECT ${columns} WHERE out_addr = @out AND port_first = @first AND "end" IS NULL AND start < @end`,
    );
    const nextFirst = this.#stmt('SELECT max(port_first) AS f FROM nat_block WHERE out_addr = ? AND port_first <= ? AND port_first >= ?');
    const onAddress = this.#stmt(
      `SELECT ${columns} WHERE out_addr = @out AND start < @end AND start >= @low AND "end" > @start
       UNION ALL
       SELECT ${columns} WHERE out_addr = @out AND "end" IS NULL AND start < @end`,
    );
    return this.#read(() =>
      queries.map((q) => {
        const out = diskKey(q.outside.key);
        const { start, end } = q.window;
        const rows: Row[] = [];
        if (q.port === null) {
          rows.push(...(onAddress.all({ out, end, low: start - maxDuration, start }) as Row[]));
        } else {
          let hi = q.port;
          const lo = q.port - maxSpan + 1;
          for (;;) {
            const f = (nextFirst.get(out, hi, lo) as { f: number | null }).f;
            if (f === null) break;
            for (const row of atFirst.all({ out, first: f, end, low: start - maxDuration, start }) as Row[]) {
              if ((row['port_last'] as number) >= q.port) rows.push(row);
            }
            hi = f - 1;
          }
        }
        return rows.map((row) => this.#blockFromRow(row, q.outside));
      }),
    );
  }

  #blockFromRow(row: Row, outsideIp: Address): StoredNatBlock {
    const realm = this.#realmNames.get(row['realm'] as number) ?? '?';
    const insideIp = addressFromKey(memKey(row['in_addr'] as Buffer));
    const portFirst = row['port_first'] as number;
    const start = row['start'] as number;
    const r: Record<string, unknown> = {
      kind: 'nat-block',
      realm,
      insideIp,
      outsideIp,
      portFirst,
      portLast: row['port_last'] as number,
      start,
      end: row['end'] as number | null,
      id: `nat-block:${realm}:${outsideIp.text}:${portFirst}:${start}:${insideIp.text}${row['protocol'] === '' ? '' : ':' + String(row['protocol'])}`,
    };
    if (row['protocol'] !== '') r['protocol'] = row['protocol'] as Protocol;
    if (row['end_inferred'] === 1) r['endInferred'] = true;
    return Object.freeze(r) as StoredNatBlock;
  }

  natSessions(queries: readonly NatQuery[]): Promise<readonly (readonly StoredNatSession[])[]> {
    const maxDuration = this.#metaNumber('maxDuration.nat_session');
    const columns = `out_port, start, protocol, realm, in_addr, in_port, dst_addr, dst_port, "end", end_inferred FROM nat_session`;
    const onPort = this.#stmt(
      `SELECT ${columns} WHERE out_addr = @out AND out_port = @port AND start < @end AND start >= @low AND "end" > @start
       UNION ALL
       SELECT ${columns} WHERE out_addr = @out AND out_port = @port AND "end" IS NULL AND start < @end`,
    );
    const onAddress = this.#stmt(
      `SELECT ${columns} WHERE out_addr = @out AND start < @end AND start >= @low AND "end" > @start
       UNION ALL
       SELECT ${columns} WHERE out_addr = @out AND "end" IS NULL AND start < @end
       LIMIT ${SESSION_ROW_LIMIT}`,
    );
    return this.#read(() =>
      queries.map((q) => {
        const out = diskKey(q.outside.key);
        const { start, end } = q.window;
        const rows =
          q.port === null
            ? (onAddress.all({ out, end, low: start - maxDuration, start }) as Row[])
            : (onPort.all({ out, port: q.port, end, low: start - maxDuration, start }) as Row[]);
        return rows.map((row) => this.#sessionFromRow(row, q.outside));
      }),
    );
  }

  #sessionFromRow(row: Row, outsideIp: Address): StoredNatSession {
    const realm = this.#realmNames.get(row['realm'] as number) ?? '?';
    const insideIp = addressFromKey(memKey(row['in_addr'] as Buffer));
    const dst = row['dst_addr'] as Buffer;
    const start = row['start'] as number;
    const outsidePort = row['out_port'] as number;
    const r: Record<string, unknown> = {
      kind: 'nat-session',
      realm,
      insideIp,
      insidePort: row['in_port'] as number,
      outsideIp,
      outsidePort,
      protocol: row['protocol'] as Protocol,
      start,
      end: row['end'] as number | null,
    };
    let dstText = '';
    if (dst.length > 0) {
      const destinationIp = addressFromKey(memKey(dst));
      r['destinationIp'] = destinationIp;
      dstText = destinationIp.text;
    }
    if ((row['dst_port'] as number) >= 0) r['destinationPort'] = row['dst_port'] as number;
    if (row['end_inferred'] === 1) r['endInferred'] = true;
    r['id'] = `nat-session:${realm}:${outsideIp.text}:${outsidePort}:${String(row['protocol'])}:${start}:${insideIp.text}:${String(row['in_port'])}:${dstText}:${String(row['dst_port'])}`;
    return Object.freeze(r) as StoredNatSession;
  }

  natDeterministic(queries: readonly DeterministicQuery[]): Promise<readonly (readonly StoredNatDeterministic[])[]> {
    const lengths = this.#metaLengths('nat_deterministic');
    const stmt = this.#stmt(
      'SELECT start, realm, record FROM nat_deterministic WHERE out_addr = ? AND plen = ? AND start < ? AND ("end" IS NULL OR "end" > ?)',
    );
    return this.#read(() =>
      queries.map((q) => {
        const out: StoredNatDeterministic[] = [];
        for (const length of lengthsFor(q.outside, lengths)) {
          const key = maskKey(q.outside.key, length);
          for (const row of stmt.all(diskKey(key), length, q.window.end, q.window.start) as Row[]) {
            const text = row['record'] as string;
            let record = this.#detCache.get(text);
            if (record === undefined) {
              record = NatDeterministicRecord.parse(JSON.parse(text));
              this.#detCache.set(text, record);
            }
            const realm = this.#realmNames.get(row['realm'] as number) ?? '?';
            out.push(Object.freeze({ ...record, id: `nat-deterministic:${realm}:${record.outsidePrefix.text}:${String(row['start'])}` }));
          }
        }
        return out;
      }),
    );
  }

  coverageGaps(queries: readonly CoverageQuery[]): Promise<readonly (readonly StoredCoverage[])[]> {
    const one = this.#stmt(`SELECT source, start, "end", status FROM coverage WHERE source = ? AND start < ? AND ("end" IS NULL OR "end" > ?)`);
    // Coverage gaps are few (they are declared, not logged), so "any source" reads them all.
    const any = this.#stmt(`SELECT source, start, "end", status FROM coverage WHERE start < ? AND ("end" IS NULL OR "end" > ?)`);
    return this.#read(() =>
      queries.map((q) => {
        let rows: Row[];
        if (q.source === null) rows = any.all(q.window.end, q.window.start) as Row[];
        else {
          const sourceId = this.#names.get('source')!.get(q.source);
          if (sourceId === undefined) return [];
          rows = one.all(sourceId, q.window.end, q.window.start) as Row[];
        }
        return rows.map((row) => {
          const source = this.#sourceNames.get(row['source'] as number) ?? '?';
          return Object.freeze({
            kind: 'coverage' as const,
            source,
            start: row['start'] as number,
            end: row['end'] as number | null,
            status: row['status'] as 'gap',
            id: `coverage:${source}:${String(row['start'])}`,
          });
        });
      }),
    );
  }

  subscriberTypes(accounts: readonly string[]): Promise<ReadonlyMap<string, SubscriberType>> {
    const stmt = this.#stmt('SELECT type FROM account WHERE name = ? AND type IS NOT NULL');
    return this.#read(() => {
      const out = new Map<string, SubscriberType>();
      for (const account of new Set(accounts)) {
        const row = stmt.get(account) as { type: SubscriberType } | undefined;
        if (row !== undefined) out.set(account, row.type);
      }
      return out;
    });
  }

  settings(): Promise<StoreSettings> {
    const horizon = this.#meta.get('setting.retentionHorizon');
    const clockErrorMs: Record<string, number> = {};
    for (const [key, value] of this.#meta) {
      if (key.startsWith('setting.clockError.')) clockErrorMs[key.slice('setting.clockError.'.length)] = Number(value);
    }
    return Promise.resolve({ retentionHorizon: horizon === undefined ? null : Number(horizon), clockErrorMs });
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

  /** The query plan SQLite picks for a statement (tests check that lookups use indexes). */
  explain(sql: string): string[] {
    return (this.#db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((r) => r.detail);
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
