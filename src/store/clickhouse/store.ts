/**
 * The distributed store: ClickHouse over its HTTP interface, through the official
 * client `@clickhouse/client` (the only module that imports it). Uses the client's
 * `query` (JSONCompact reads), `command` (DDL) and `exec` (RowBinary inserts) and
 * nothing newer than ClickHouse 18.16 understands.
 *
 * Same contract as the SQLite store (src/store/sqlite/store.ts is the reference): half-open
 * intervals, open records, realms apart, IPv6 prefix containment by the prefix lengths
 * present, port blocks of mixed sizes, natural keys (re-ingest adds nothing), and record
 * ids built from natural keys, and each answer in the canonical order (src/store/core/),
 * identical across backends.
 *
 * Batching: every reader method sends ONE request for the whole batch. The batch's
 * queries travel as one packed string literal — `k,key…,window…;k,…` — that the server
 * splits into rows (`arrayJoin(splitByChar(…))`), so the SQL text stays one literal
 * however large the batch (18.16 analyses a JOIN's subquery several times, and a
 * literal array of tuples made that cost half a second per 500 queries). The table is
 * joined to those rows on its key prefix, which also feeds an `IN (subquery)` so the
 * primary key prunes granules; the query index `k` comes back with each row. Versions
 * of a record are folded with `argMax(…, ver)` at read time (table layout:
 * schema.ts).
 */
import { Readable } from 'node:stream';
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import { addressFromKey, maskKey, type Address } from '../../address.js';
import { IparError } from '../../problems.js';
import type { ErrorCode } from '../../catalogue/errors.js';
import {
  NatDeterministicRecord,
  RECORD_KINDS,
  toWritten,
  type AddressRole,
  type AddressSpaceRecord,
  type CanonicalRecord,
  type Protocol,
  type RecordKind,
  type SubscriberType,
} from '../../records.js';
import {
  BOUND_KEYS,
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
} from '../core/index.js';

/** Meta key prefix of a source's coverage (`coverage.<source>`). */
const COVERAGE_KEY = 'coverage.';
import type { Window } from '../../time.js';
import {
  CLICKHOUSE_SCHEMA_VERSION,
  CONNECTION_TABLES,
  DAY_TABLES,
  END_OPEN,
  END_OPEN_BIGINT,
  TABLE,
  columnNames,
  createStatements,
  type TableName,
} from './schema.js';
import { RowBinary, bytes, int, str } from './sql.js';
import { parseClickHouseSpec, redactSpec, type ClickHouseSpec } from './url.js';
import type {
  AllocationQuery,
  CoverageListing,
  CoverageQuery,
  DestinationQuery,
  DeterministicQuery,
  ExportQuery,
  NatQuery,
  PurgeSummary,
  RecordCounts,
  SettingKey,
  SettingValue,
  SourceQuery,
  SourceCoverage,
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
  WriteSummary,
} from '../types.js';

export interface ClickHouseOpenOptions {
  /** Open for queries only: no tables are created, and the store must exist. */
  readonly readonly?: boolean;
  /** Per-request timeout in milliseconds (default 300 000: big inserts and batches). */
  readonly requestTimeoutMs?: number;
}

/** Records whose stored version is looked up in one query when writing (see #chunked). */
const CHECK_CHUNK = 10_000;

/** How long a read-only store trusts its copy of the bounds before reading them again. */
const META_REFRESH_MS = 5_000;

/** Settings sent with every request: numbers as JSON numbers, batches as large as they come. */
const SETTINGS = {
  output_format_json_quote_64bit_integers: 0,
  insert_distributed_sync: 1,
  max_query_size: '268435456',
  max_ast_elements: '10000000',
  max_expanded_ast_elements: '10000000',
} as const;

/** `argMax(end)` of an open record: INT64_MAX does not survive JSON as a double exactly. */
const OPEN_THRESHOLD = 2 ** 62;
const endOf = (e: unknown): number | null => (Number(e) >= OPEN_THRESHOLD ? null : Number(e));

const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const textHex = (s: string): string => Buffer.from(s, 'utf8').toString('hex');
const keyFromHex = (hex: string): Buffer => Buffer.from(hex, 'hex');

/**
 * The batch as one string literal the server splits back into rows: rows joined by `;`,
 * fields by `,`. Fields are decimal integers or hex (texts and address keys), so no
 * value can contain a separator.
 */
function packed(rows: readonly (readonly (string | number)[])[]): string {
  return str(rows.map((r) => r.join(',')).join(';'));
}

/**
 * `SELECT` of the batch rows with typed columns; `fields` are `expr AS name` over `q[i]`.
 * The literal is split into rows in a subquery of its own: an alias over it would be
 * expanded into every `q[i]`, and 18.16 names (and evaluates) each copy with the whole
 * literal in it — 2.5 s instead of 0.56 s for a 1.4 MB batch.
 */
/**
 * Answers cut to the queries' shared row limits (`RowLimit`: exactly `min(n, limit + 1)`
 * rows for the queries sharing one), in query order as SQLite visits them by key — which
 * rows are kept past a limit is unspecified, only how many.
 */
function cutToLimits<R>(queries: readonly { readonly rows?: { readonly limit: number } }[], answers: R[][]): R[][] {
  const allowance = new RowAllowance();
  return answers.map((answer, k) => allowance.cut(queries[k]!, answer));
}

/**
 * `sql` (whose rows carry the batch index `k`) read at most `limit + 1` rows per shared
 * row limit when every query has one: the server stops sending past it (one row per
 * query of `k`, `queryOf(k)` its query). {@link cutToLimits} then makes the count exact.
 */
function limitedSelect(sql: string, queries: readonly { readonly rows?: { readonly limit: number } }[], ks: number, queryOf: (k: number) => number): string {
  if (ks === 0 || !queries.every((q) => q.rows !== undefined)) return sql;
  const groups = new Map<object, number>();
  const groupOfK: number[] = [];
  for (let k = 0; k < ks; k++) {
    const rows = queries[queryOf(k)]!.rows!;
    if (!groups.has(rows)) groups.set(rows, groups.size);
    groupOfK.push(groups.get(rows)!);
  }
  const most = Math.max(...queries.map((q) => q.rows!.limit)) + 1;
  return `SELECT * FROM (${sql}) LIMIT ${int(most)} BY arrayElement([${groupOfK.join(',')}], k + 1)`;
}

function batchRows(rows: readonly (readonly (string | number)[])[], fields: readonly string[]): string {
  return `SELECT splitByChar(',', row) AS q, ${fields.join(', ')} FROM (SELECT arrayJoin(splitByChar(';', ${packed(rows)})) AS row)`;
}

/** Smallest and largest of a list (no spread: batches can hold more values than a call's arguments). */
function minOf(values: Iterable<number>): number {
  let m = Infinity;
  for (const v of values) if (v < m) m = v;
  return m;
}
function maxOf(values: Iterable<number>): number {
  let m = -Infinity;
  for (const v of values) if (v > m) m = v;
  return m;
}

type Tally = Partial<Record<RecordKind, number>>;

function bump(t: Tally, kind: RecordKind): void {
  t[kind] = (t[kind] ?? 0) + 1;
}

// ---- rows as written ------------------------------------------------------------------

interface AllocationRow {
  realm: string;
  addr: Buffer;
  plen: number;
  start: number;
  account: string;
  end: number | null;
  source: string;
  endInferred: boolean;
  imsi: string;
  msisdn: string;
  imei: string;
  mac: string;
  sessionId: string;
  ver: number;
}
interface BlockRow {
  out: Buffer;
  portFirst: number;
  start: number;
  realm: string;
  inside: Buffer;
  protocol: string;
  portLast: number;
  end: number | null;
  endInferred: boolean;
  ver: number;
}
interface SessionRow {
  out: Buffer;
  outPort: number;
  start: number;
  protocol: string;
  realm: string;
  inside: Buffer;
  inPort: number;
  dst: Buffer;
  dstPort: number;
  end: number | null;
  endInferred: boolean;
  ver: number;
}
type TimeRow = AllocationRow | BlockRow | SessionRow;
interface SpaceRow {
  addr: Buffer;
  plen: number;
  role: string;
  realm: string;
  ver: number;
}
interface SubscriberRow {
  account: string;
  type: string;
  ver: number;
}
interface DeterministicRow {
  out: Buffer;
  plen: number;
  start: number;
  realm: string;
  end: number | null;
  record: string;
  ver: number;
}
interface CoverageRow {
  source: string;
  start: number;
  status: string;
  end: number | null;
  ver: number;
}
interface ConnectionRow {
  dst: Buffer;
  start: number;
  realm: string;
  src: Buffer;
  srcPort: number;
  dstPort: number;
  protocol: string;
  end: number;
  account: string;
  bytesUp: number;
  bytesDown: number;
  service: string;
  ver: number;
}

const endValue = (end: number | null): bigint => (end === null ? END_OPEN_BIGINT : BigInt(end));

const ENCODERS = {
  allocation: (w: RowBinary, r: AllocationRow) =>
    w
      .string(r.realm)
      .fixed(r.addr)
      .u8(r.plen)
      .i64(r.start)
      .string(r.account)
      .i64(endValue(r.end))
      .string(r.source)
      .u8(r.endInferred ? 1 : 0)
      .string(r.imsi)
      .string(r.msisdn)
      .string(r.imei)
      .string(r.mac)
      .string(r.sessionId)
      .u32(r.ver),
  nat_block: (w: RowBinary, r: BlockRow) =>
    w
      .fixed(r.out)
      .u16(r.portFirst)
      .i64(r.start)
      .string(r.realm)
      .fixed(r.inside)
      .string(r.protocol)
      .u16(r.portLast)
      .i64(endValue(r.end))
      .u8(r.endInferred ? 1 : 0)
      .u32(r.ver),
  nat_session: (w: RowBinary, r: SessionRow) =>
    w
      .fixed(r.out)
      .u16(r.outPort)
      .i64(r.start)
      .string(r.protocol)
      .string(r.realm)
      .fixed(r.inside)
      .u16(r.inPort)
      .string(r.dst)
      .i32(r.dstPort)
      .i64(endValue(r.end))
      .u8(r.endInferred ? 1 : 0)
      .u32(r.ver),
  address_space: (w: RowBinary, r: SpaceRow) => w.fixed(r.addr).u8(r.plen).string(r.role).string(r.realm).u32(r.ver),
  subscriber: (w: RowBinary, r: SubscriberRow) => w.string(r.account).string(r.type).u32(r.ver),
  nat_deterministic: (w: RowBinary, r: DeterministicRow) =>
    w.fixed(r.out).u8(r.plen).i64(r.start).string(r.realm).i64(endValue(r.end)).string(r.record).u32(r.ver),
  coverage: (w: RowBinary, r: CoverageRow) => w.string(r.source).i64(r.start).string(r.status).i64(endValue(r.end)).u32(r.ver),
  connection: (w: RowBinary, r: ConnectionRow) =>
    w
      .fixed(r.dst)
      .i64(r.start)
      .string(r.realm)
      .fixed(r.src)
      .i32(r.srcPort)
      .i32(r.dstPort)
      .string(r.protocol)
      .i64(r.end)
      .string(r.account)
      .i64(r.bytesUp)
      .i64(r.bytesDown)
      .string(r.service)
      .u32(r.ver),
} as const;

/** Natural keys, as strings, the same from a record and from a row read back. */
const SEP = '\u0000';
const keyOf = {
  allocation: (r: { realm: string; addr: string; plen: number; start: number; account: string }) => [r.realm, r.addr, r.plen, r.start, r.account].join(SEP),
  nat_block: (r: { out: string; portFirst: number; start: number; realm: string; inside: string; protocol: string }) =>
    [r.out, r.portFirst, r.start, r.realm, r.inside, r.protocol].join(SEP),
  nat_session: (r: {
    out: string;
    outPort: number;
    start: number;
    protocol: string;
    realm: string;
    inside: string;
    inPort: number;
    dst: string;
    dstPort: number;
  }) => [r.out, r.outPort, r.start, r.protocol, r.realm, r.inside, r.inPort, r.dst, r.dstPort].join(SEP),
};

const connectionKey = (dst: string, start: number, realm: string, src: string, srcPort: number, dstPort: number, protocol: string): string =>
  [dst, start, realm, src, srcPort, dstPort, protocol].join(SEP);

/** How final a time record's end is: open < inferred < logged. Only a higher rank replaces (as SQLite's upsert). */
const rank = (end: number | null, endInferred: boolean): number => (end === null ? 0 : endInferred ? 1 : 2);

interface TimeState<R extends TimeRow> {
  row: R;
}

// ---- meta -----------------------------------------------------------------------------

interface Meta {
  readonly bounds: Map<string, number>;
  readonly lengths: Map<string, number[]>;
  /** NAT realms whose records carry no destination (StoreSettings.realmsWithoutDestination). */
  readonly noDestination: Set<string>;
  readonly settings: Map<string, { value: string; ver: number }>;
  readonly schema: number | null;
}

/**
 * A store in a ClickHouse database — one server, or a cluster of shards behind
 * Distributed tables — serving {@link StoreReader}, {@link StoreWriter} and {@link StoreAdmin}.
 *
 * @example
 * const store = new ClickHouseStore('clickhouse://127.0.0.1:8123/ipar');
 * await store.write(records);
 * const [hits] = await store.allocations([{ address, realm: null, window }]);
 * await store.close();
 */
export class ClickHouseStore implements StoreReader, StoreWriter, StoreAdmin, StoreExporter {
  readonly spec: ClickHouseSpec;
  readonly #text: string;
  readonly #readonly: boolean;
  readonly #clients: ClickHouseClient[];
  readonly #db: string;
  #ready: Promise<void> | null = null;
  #meta: Meta | null = null;
  #metaAt = 0;
  readonly #detCache = new Map<string, NatDeterministicRecord>();

  constructor(spec: string | ClickHouseSpec, options: ClickHouseOpenOptions = {}) {
    this.spec = typeof spec === 'string' ? parseClickHouseSpec(spec) : spec;
    this.#text =
      typeof spec === 'string' ? redactSpec(spec) : `clickhouse://${this.spec.hosts.map((h) => `${h.host}:${h.port}`).join(',')}/${this.spec.database}`;
    this.#readonly = options.readonly === true;
    this.#db = this.spec.database;
    this.#clients = this.spec.hosts.map((h) =>
      createClient({
        url: `http://${h.host}:${h.port}`,
        username: this.spec.username,
        password: this.spec.password,
        request_timeout: options.requestTimeoutMs ?? 300_000,
        clickhouse_settings: SETTINGS,
        // Faults reach the caller as IparError with the server's message; the client's own log would repeat them.
        log: { level: ClickHouseLogLevel.OFF },
      }),
    );
  }

  /** `db.table`: the Distributed table with a cluster, the table itself without. */
  #t(name: TableName): string {
    return `${this.#db}.${name}`;
  }

  #fault(code: ErrorCode, what: string, cause: unknown): IparError {
    const message = cause instanceof Error ? cause.message : String(cause);
    const unreachable = /ECONNREFUSED|ECONNRESET|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|socket hang up|Timeout error/i.test(message);
    if (unreachable) return new IparError('STORE_UNREACHABLE', `cannot reach ClickHouse (${this.#text}): ${message.split('\n')[0]}`, { cause });
    return new IparError(code, `${what} (${this.#text}): ${message.split('\n')[0]}`, { cause });
  }

  async #select(sql: string, client: ClickHouseClient = this.#clients[0]!): Promise<unknown[][]> {
    try {
      const rs = await client.query({ query: sql, format: 'JSONCompact' });
      return ((await rs.json()) as { data: unknown[][] }).data;
    } catch (cause) {
      throw this.#fault('STORE_READ_FAILED', 'store read failed', cause);
    }
  }

  async #command(sql: string, client: ClickHouseClient = this.#clients[0]!): Promise<void> {
    try {
      await client.command({ query: sql });
    } catch (cause) {
      throw this.#fault('STORE_WRITE_FAILED', 'store command failed', cause);
    }
  }

  async #insert(table: TableName, w: RowBinary): Promise<void> {
    if (w.rows === 0) return;
    try {
      const r = await this.#clients[0]!.exec({
        query: `INSERT INTO ${this.#t(table)} (${columnNames(TABLE[table])
          .map((c) => (c === 'end' ? '`end`' : c))
          .join(', ')}) FORMAT RowBinary`,
        values: Readable.from([w.bytes()]),
      });
      for await (const _ of r.stream) void _;
    } catch (cause) {
      throw this.#fault('STORE_WRITE_FAILED', `store write to ${table} failed`, cause);
    }
  }

  // ---- opening ---------------------------------------------------------------------------

  /** Connect, and create the tables on every host (writers) or check they exist (readers). */
  #open(): Promise<void> {
    this.#ready ??= this.#init();
    return this.#ready;
  }

  async #init(): Promise<void> {
    const { cluster, hosts } = this.spec;
    if (!this.#readonly) {
      if (cluster !== null) {
        const [row] = await this.#select(`SELECT uniqExact(shard_num) FROM system.clusters WHERE cluster = ${str(cluster)}`);
        const shards = Number(row?.[0] ?? 0);
        if (shards === 0)
          throw new IparError('STORE_OPEN_FAILED', `cluster ${cluster} is not in remote_servers of ${hosts[0]!.host}:${hosts[0]!.port} (${this.#text})`);
        if (shards !== hosts.length) {
          throw new IparError(
            'STORE_OPEN_FAILED',
            `cluster ${cluster} has ${shards} shards but the store URL lists ${hosts.length} hosts; list every shard's HTTP host:port (${this.#text})`,
          );
        }
      }
      // No ON CLUSTER (it needs ZooKeeper): the same statements on every shard.
      for (const client of this.#clients) for (const sql of createStatements(this.#db, cluster)) await this.#command(sql, client);
    } else {
      const [row] = await this.#select(`SELECT count() FROM system.tables WHERE database = ${str(this.#db)} AND name = 'meta'`);
      if (Number(row?.[0] ?? 0) === 0)
        throw new IparError('STORE_NOT_FOUND', `no ipar store in database ${this.#db} (${this.#text}); create it with ipar ingest --store`);
    }
    const meta = await this.#loadMeta();
    if (meta.schema === null && !this.#readonly) {
      await this.#insertMeta([['schema.version', String(CLICKHOUSE_SCHEMA_VERSION), 0]]);
    } else if (meta.schema !== CLICKHOUSE_SCHEMA_VERSION) {
      const found = meta.schema ?? 0;
      throw new IparError(
        found > CLICKHOUSE_SCHEMA_VERSION ? 'STORE_TOO_NEW' : 'STORE_NEEDS_MIGRATION',
        `store ${this.#text} has schema version ${found}; this ipar reads version ${CLICKHOUSE_SCHEMA_VERSION}`,
      );
    }
  }

  async #loadMeta(): Promise<Meta> {
    const rows = await this.#select(`SELECT key, groupArray(value), argMax(value, ver), max(ver) FROM ${this.#t('meta')} GROUP BY key`);
    const meta: Meta = { bounds: new Map(), lengths: new Map(), noDestination: new Set(), settings: new Map(), schema: null };
    let schema: number | null = null;
    for (const [key, values, last, ver] of rows as [string, string[], string, number][]) {
      if (key === 'schema.version') schema = Number(last);
      else if (key === BOUND_KEYS.realmsWithoutDestination)
        for (const v of values) for (const realm of JSON.parse(v) as string[]) meta.noDestination.add(realm);
      else if (key.startsWith('lengths.'))
        meta.lengths.set(
          key.slice(8),
          [...new Set(values.flatMap((v) => JSON.parse(v) as number[]))].sort((a, b) => b - a),
        );
      else if (key.startsWith('setting.')) meta.settings.set(key.slice(8), { value: last, ver: Number(ver) });
      else if (key.startsWith(COVERAGE_KEY))
        continue; // read fresh by sourceCoverage()
      else meta.bounds.set(key, maxOf(values.map(Number)));
    }
    const out = { ...meta, schema };
    this.#meta = out;
    this.#metaAt = performance.now();
    return out;
  }

  /** The bounds and settings; a read-only store reads them again after a few seconds (a writer may have raised them). */
  async #metaNow(): Promise<Meta> {
    await this.#open();
    if (this.#readonly && performance.now() - this.#metaAt > META_REFRESH_MS) return this.#loadMeta();
    return this.#meta!;
  }

  async #insertMeta(rows: readonly (readonly [string, string, number])[]): Promise<void> {
    if (rows.length === 0) return;
    const w = new RowBinary();
    for (const [key, value, ver] of rows) (w.string(key).string(value).u64(ver), w.rows++);
    await this.#insert('meta', w);
  }

  // ---- writing -------------------------------------------------------------------------

  /**
   * Store a batch. Records have natural keys: the batch's keys are looked up first (one
   * query per kind, only for records that could exist — a record starting after
   * everything stored so far cannot), and only new records and real updates (a later
   * export closing an open record, a logged end replacing an inferred one, a changed
   * address space, subscriber type, deterministic configuration or coverage end) are
   * inserted, as a new version. Bounds the readers need are written before the rows.
   * Not one transaction: ClickHouse has none across tables; a failed batch leaves what
   * it inserted, and writing it again completes it (natural keys).
   */
  async write(records: readonly CanonicalRecord[]): Promise<WriteSummary> {
    if (this.#readonly) throw new IparError('STORE_READONLY', 'the store was opened read-only');
    await this.#open();
    const meta = this.#meta!;
    const stored: Tally = {};
    const unchanged: Tally = {};
    const byKind = new Map<RecordKind, CanonicalRecord[]>();
    for (const r of records) {
      let list = byKind.get(r.kind);
      if (list === undefined) byKind.set(r.kind, (list = []));
      list.push(r);
    }
    const states = await this.#states(byKind, meta);
    const out = {
      allocation: new Map<string, AllocationRow>(),
      allocation_open: new Map<string, AllocationRow>(),
      nat_block: new Map<string, BlockRow>(),
      nat_block_open: new Map<string, BlockRow>(),
      nat_session: new Map<string, SessionRow>(),
      nat_session_open: new Map<string, SessionRow>(),
      address_space: new Map<string, SpaceRow>(),
      subscriber: new Map<string, SubscriberRow>(),
      nat_deterministic: new Map<string, DeterministicRow>(),
      coverage: new Map<string, CoverageRow>(),
      connection: new Map<string, ConnectionRow>(),
    };
    const noDestination = new Set<string>();
    const noteNoDestination = (realm: string): void => {
      if (!meta.noDestination.has(realm)) noDestination.add(realm);
    };
    const raised = new Map<string, number>();
    const raise = (key: string, value: number): void => {
      if (value > (raised.get(key) ?? meta.bounds.get(key) ?? -Infinity)) raised.set(key, value);
    };
    const newLengths = new Map<string, Set<number>>();
    const noteLength = (table: string, length: number): void => {
      if (meta.lengths.get(table)?.includes(length) === true) return;
      let s = newLengths.get(table);
      if (s === undefined) newLengths.set(table, (s = new Set()));
      s.add(length);
    };

    /** Decide for one time record against its current version; queue the rows to insert. */
    const timeRecord = <R extends TimeRow>(
      kind: RecordKind,
      table: 'allocation' | 'nat_block' | 'nat_session',
      key: string,
      fresh: R,
      state: Map<string, TimeState<R>>,
    ): void => {
      const current = state.get(key);
      let next: R | null = null;
      if (current === undefined) next = { ...fresh, ver: 1 };
      else if (rank(fresh.end, fresh.endInferred) > rank(current.row.end, current.row.endInferred)) {
        // The first version's other fields stay (SQLite's upsert changes only the end).
        next = { ...current.row, end: fresh.end, endInferred: fresh.endInferred, ver: current.row.ver + 1 };
      }
      if (next === null) return bump(unchanged, kind);
      bump(stored, kind);
      const opens = out[`${table}_open`] as Map<string, R>;
      if (next.end === null) opens.set(key, next);
      else {
        (out[table] as Map<string, R>).set(key, next);
        // It was open: its closing version goes to the open table too, so that table's
        // latest version says it is no longer open.
        if (current !== undefined && current.row.end === null) opens.set(key, next);
        raise(`maxDuration.${table}`, next.end - next.start);
      }
      raise(`hwm.${table}`, next.start);
      state.set(key, { row: next });
    };

    for (const r of records) {
      switch (r.kind) {
        case 'allocation': {
          const realm = r.realm ?? '';
          noteLength('allocation', r.ip.length);
          const row: AllocationRow = {
            realm,
            addr: r.ip.key,
            plen: r.ip.length,
            start: r.start,
            account: r.account,
            end: r.end,
            source: r.source,
            endInferred: r.endInferred === true,
            imsi: r.imsi ?? '',
            msisdn: r.msisdn ?? '',
            imei: r.imei ?? '',
            mac: r.mac ?? '',
            sessionId: r.sessionId ?? '',
            ver: 0,
          };
          const key = keyOf.allocation({ realm, addr: hexOf(r.ip.key), plen: r.ip.length, start: r.start, account: r.account });
          timeRecord('allocation', 'allocation', key, row, states.allocation);
          // The look-back bound is kept per realm, as in the SQLite store.
          const st = states.allocation.get(key)!.row;
          if (st.end !== null) raise(`maxDuration.allocation.${realm}`, st.end - st.start);
          break;
        }
        case 'nat-block': {
          noteNoDestination(r.realm);
          const protocol = r.protocol ?? '';
          const row: BlockRow = {
            out: r.outsideIp.key,
            portFirst: r.portFirst,
            start: r.start,
            realm: r.realm,
            inside: r.insideIp.key,
            protocol,
            portLast: r.portLast,
            end: r.end,
            endInferred: r.endInferred === true,
            ver: 0,
          };
          timeRecord(
            'nat-block',
            'nat_block',
            keyOf.nat_block({ out: hexOf(r.outsideIp.key), portFirst: r.portFirst, start: r.start, realm: r.realm, inside: hexOf(r.insideIp.key), protocol }),
            row,
            states.nat_block,
          );
          raise('maxSpan.nat_block', r.portLast - r.portFirst + 1);
          break;
        }
        case 'nat-session': {
          if (r.destinationIp === undefined) noteNoDestination(r.realm);
          const dst = r.destinationIp?.key ?? Buffer.alloc(0);
          const row: SessionRow = {
            out: r.outsideIp.key,
            outPort: r.outsidePort,
            start: r.start,
            protocol: r.protocol,
            realm: r.realm,
            inside: r.insideIp.key,
            inPort: r.insidePort,
            dst,
            dstPort: r.destinationPort ?? -1,
            end: r.end,
            endInferred: r.endInferred === true,
            ver: 0,
          };
          const key = keyOf.nat_session({
            out: hexOf(r.outsideIp.key),
            outPort: r.outsidePort,
            start: r.start,
            protocol: r.protocol,
            realm: r.realm,
            inside: hexOf(r.insideIp.key),
            inPort: r.insidePort,
            dst: hexOf(dst),
            dstPort: row.dstPort,
          });
          timeRecord('nat-session', 'nat_session', key, row, states.nat_session);
          break;
        }
        case 'address-space': {
          noteLength('address_space', r.prefix.length);
          const key = [hexOf(r.prefix.key), r.prefix.length].join(SEP);
          const cur = states.address_space.get(key);
          const realm = r.realm ?? '';
          if (cur !== undefined && cur.role === r.role && cur.realm === realm) bump(unchanged, r.kind);
          else {
            const row = { addr: r.prefix.key, plen: r.prefix.length, role: r.role, realm, ver: (cur?.ver ?? 0) + 1 };
            states.address_space.set(key, row);
            out.address_space.set(key, row);
            bump(stored, r.kind);
          }
          break;
        }
        case 'subscriber': {
          const cur = states.subscriber.get(r.account);
          if (cur !== undefined && cur.type === r.type) bump(unchanged, r.kind);
          else {
            const row = { account: r.account, type: r.type, ver: (cur?.ver ?? 0) + 1 };
            states.subscriber.set(r.account, row);
            out.subscriber.set(r.account, row);
            bump(stored, r.kind);
          }
          break;
        }
        case 'nat-deterministic': {
          noteNoDestination(r.realm);
          noteLength('nat_deterministic', r.outsidePrefix.length);
          const key = [hexOf(r.outsidePrefix.key), r.outsidePrefix.length, r.start, r.realm].join(SEP);
          const record = JSON.stringify(toWritten(r));
          const cur = states.nat_deterministic.get(key);
          if (cur !== undefined && cur.record === record) bump(unchanged, r.kind);
          else {
            const row = {
              out: r.outsidePrefix.key,
              plen: r.outsidePrefix.length,
              start: r.start,
              realm: r.realm,
              end: r.end,
              record,
              ver: (cur?.ver ?? 0) + 1,
            };
            states.nat_deterministic.set(key, row);
            out.nat_deterministic.set(key, row);
            bump(stored, r.kind);
          }
          break;
        }
        case 'connection': {
          const row: ConnectionRow = {
            dst: r.destinationIp.key,
            start: r.start,
            realm: r.realm ?? '',
            src: r.sourceIp.key,
            srcPort: r.sourcePort ?? -1,
            dstPort: r.destinationPort ?? -1,
            protocol: r.protocol ?? '',
            end: r.end,
            account: r.account ?? '',
            bytesUp: r.bytesUp ?? -1,
            bytesDown: r.bytesDown ?? -1,
            service: r.service ?? '',
            ver: 1,
          };
          const key = connectionKey(hexOf(row.dst), row.start, row.realm, hexOf(row.src), row.srcPort, row.dstPort, row.protocol);
          // A connection is an event, logged once closed: a repeat changes nothing.
          if (states.connection.has(key) || out.connection.has(key)) bump(unchanged, r.kind);
          else {
            out.connection.set(key, row);
            raise(`maxDuration.connection`, r.end - r.start);
            raise('hwm.connection', r.start);
            bump(stored, r.kind);
          }
          break;
        }
        case 'coverage': {
          const key = [r.source, r.start, r.status].join(SEP);
          const cur = states.coverage.get(key);
          if (cur !== undefined && cur.end === r.end) bump(unchanged, r.kind);
          else {
            const row = { source: r.source, start: r.start, status: r.status, end: r.end, ver: (cur?.ver ?? 0) + 1 };
            states.coverage.set(key, row);
            out.coverage.set(key, row);
            bump(stored, r.kind);
          }
          break;
        }
      }
    }

    // Bounds first: a reader that sees a row must also see the bound that finds it.
    const metaRows: [string, string, number][] = [...raised].map(([k, v]) => [k, String(v), 0]);
    for (const [table, set] of newLengths) metaRows.push([`lengths.${table}`, JSON.stringify([...set]), 0]);
    if (noDestination.size > 0) metaRows.push([BOUND_KEYS.realmsWithoutDestination, JSON.stringify([...noDestination].sort()), 0]);
    await this.#insertMeta(metaRows);
    for (const [k, v] of raised) meta.bounds.set(k, v);
    for (const realm of noDestination) meta.noDestination.add(realm);
    for (const [table, set] of newLengths)
      meta.lengths.set(
        table,
        [...new Set([...(meta.lengths.get(table) ?? []), ...set])].sort((a, b) => b - a),
      );

    const inserts: Promise<void>[] = [];
    for (const [table, rows] of Object.entries(out) as [keyof typeof out, Map<string, unknown>][]) {
      if (rows.size === 0) continue;
      if (table === 'connection') {
        // The same rows in each lookup order.
        for (const t of CONNECTION_TABLES) {
          const w = new RowBinary();
          for (const row of rows.values()) (ENCODERS.connection(w, row as ConnectionRow), w.rows++);
          inserts.push(this.#insert(t, w));
        }
        continue;
      }
      const base = table.replace(/_open$/, '') as keyof typeof ENCODERS;
      const encode = ENCODERS[base] as (w: RowBinary, r: unknown) => RowBinary;
      const w = new RowBinary();
      for (const row of rows.values()) (encode(w, row), w.rows++);
      inserts.push(this.#insert(table, w));
    }
    await Promise.all(inserts);
    return { stored, unchanged };
  }

  /** The current version of every record in the batch that may already be stored: one query per kind, in parallel. */
  async #states(byKind: ReadonlyMap<RecordKind, readonly CanonicalRecord[]>, meta: Meta) {
    const hwm = (table: string): number => meta.bounds.get(`hwm.${table}`) ?? -Infinity;
    const maybeStored = <K extends RecordKind>(kind: K, table: string): Extract<CanonicalRecord, { kind: K }>[] =>
      ((byKind.get(kind) ?? []) as Extract<CanonicalRecord, { kind: K }>[]).filter((r) => !('start' in r) || table === '' || r.start <= hwm(table));
    const alloc = maybeStored('allocation', 'allocation');
    const blocks = maybeStored('nat-block', 'nat_block');
    const sessions = maybeStored('nat-session', 'nat_session');
    const spaces = maybeStored('address-space', '');
    const subs = maybeStored('subscriber', '');
    const dets = maybeStored('nat-deterministic', '');
    const gaps = maybeStored('coverage', '');
    const conns = maybeStored('connection', 'connection');

    // No `key IN (batch)` here: 18.16 checks each granule range against every element of
    // an IN set (a 100 000-record batch on 100M rows did not finish in two minutes). The
    // batch's time span prunes partitions, PREWHERE reads only `start` for the rest, and
    // the join on the whole natural key runs on each shard.
    const timeQuery = (
      table: 'allocation' | 'nat_block' | 'nat_session',
      keyCols: readonly string[],
      fields: readonly string[],
      rows: (string | number)[][],
      starts: number[],
      extra: readonly string[],
    ): string => {
      const batch = batchRows(rows, fields);
      const cols = [...keyCols, 'ver', '`end`', 'end_inferred', ...extra].join(', ');
      const span = `PREWHERE start >= ${int(minOf(starts))} AND start <= ${int(maxOf(starts))}`;
      return `SELECT ${keyCols.map((c) => (/addr$/.test(c) ? `lower(hex(${c}))` : c)).join(', ')}, max(ver), argMax(\`end\`, ver), argMax(end_inferred, ver)${extra.map((c) => `, argMax(${c}, ver)`).join('')}
        FROM (SELECT ${cols} FROM ${this.#t(table)} ALL INNER JOIN (${batch}) USING (${keyCols.join(', ')}) ${span}
              UNION ALL SELECT ${cols} FROM ${this.#t(`${table}_open`)} ALL INNER JOIN (${batch}) USING (${keyCols.join(', ')}) ${span})
        GROUP BY ${keyCols.join(', ')}`;
    };
    const connectionKeys = ['dst_addr', 'start', 'realm', 'src_addr', 'src_port', 'dst_port', 'protocol'];
    const [a, b, s, sp, su, d, g, c] = await Promise.all([
      this.#chunked(alloc, (alloc) =>
        this.#select(
          timeQuery(
            'allocation',
            ['realm', 'addr', 'plen', 'start', 'account'],
            ['unhex(q[1]) AS realm', 'toFixedString(unhex(q[2]), 16) AS addr', 'toUInt8(q[3]) AS plen', 'toInt64(q[4]) AS start', 'unhex(q[5]) AS account'],
            alloc.map((r) => [textHex(r.realm ?? ''), hexOf(r.ip.key), r.ip.length, r.start, textHex(r.account)]),
            alloc.map((r) => r.start),
            ['source', 'imsi', 'msisdn', 'imei', 'mac', 'session_id'],
          ),
        ),
      ),
      this.#chunked(blocks, (blocks) =>
        this.#select(
          timeQuery(
            'nat_block',
            ['out_addr', 'port_first', 'start', 'realm', 'in_addr', 'protocol'],
            [
              'toFixedString(unhex(q[1]), 16) AS out_addr',
              'toUInt16(q[2]) AS port_first',
              'toInt64(q[3]) AS start',
              'unhex(q[4]) AS realm',
              'toFixedString(unhex(q[5]), 16) AS in_addr',
              'unhex(q[6]) AS protocol',
            ],
            blocks.map((r) => [hexOf(r.outsideIp.key), r.portFirst, r.start, textHex(r.realm), hexOf(r.insideIp.key), textHex(r.protocol ?? '')]),
            blocks.map((r) => r.start),
            ['port_last'],
          ),
        ),
      ),
      this.#chunked(sessions, (sessions) =>
        this.#select(
          timeQuery(
            'nat_session',
            ['out_addr', 'out_port', 'start', 'protocol', 'realm', 'in_addr', 'in_port', 'dst_addr', 'dst_port'],
            [
              'toFixedString(unhex(q[1]), 16) AS out_addr',
              'toUInt16(q[2]) AS out_port',
              'toInt64(q[3]) AS start',
              'unhex(q[4]) AS protocol',
              'unhex(q[5]) AS realm',
              'toFixedString(unhex(q[6]), 16) AS in_addr',
              'toUInt16(q[7]) AS in_port',
              'unhex(q[8]) AS dst_addr',
              'toInt32(q[9]) AS dst_port',
            ],
            sessions.map((r) => [
              hexOf(r.outsideIp.key),
              r.outsidePort,
              r.start,
              textHex(r.protocol),
              textHex(r.realm),
              hexOf(r.insideIp.key),
              r.insidePort,
              r.destinationIp === undefined ? '' : hexOf(r.destinationIp.key),
              r.destinationPort ?? -1,
            ]),
            sessions.map((r) => r.start),
            [],
          ),
        ),
      ),
      this.#chunked(spaces, (spaces) =>
        this.#select(`SELECT lower(hex(addr)), plen, max(ver), argMax(role, ver), argMax(realm, ver) FROM ${this.#t('address_space')}
        ALL INNER JOIN (${batchRows(
          spaces.map((r) => [hexOf(r.prefix.key), r.prefix.length]),
          ['toFixedString(unhex(q[1]), 16) AS addr', 'toUInt8(q[2]) AS plen'],
        )}) USING (addr, plen) GROUP BY addr, plen`),
      ),
      this.#chunked(subs, (subs) =>
        this.#select(`SELECT account, max(ver), argMax(type, ver) FROM ${this.#t('subscriber')}
        ALL INNER JOIN (${batchRows(
          subs.map((r) => [textHex(r.account)]),
          ['unhex(q[1]) AS account'],
        )}) USING (account) GROUP BY account`),
      ),
      this.#chunked(dets, (dets) =>
        this.#select(`SELECT lower(hex(out_addr)), plen, start, realm, max(ver), argMax(record, ver) FROM ${this.#t('nat_deterministic')}
        ALL INNER JOIN (${batchRows(
          dets.map((r) => [hexOf(r.outsidePrefix.key), r.outsidePrefix.length, r.start, textHex(r.realm)]),
          ['toFixedString(unhex(q[1]), 16) AS out_addr', 'toUInt8(q[2]) AS plen', 'toInt64(q[3]) AS start', 'unhex(q[4]) AS realm'],
        )})
        USING (out_addr, plen, start, realm) GROUP BY out_addr, plen, start, realm`),
      ),
      this.#chunked(gaps, (gaps) =>
        this.#select(`SELECT source, start, status, max(ver), argMax(\`end\`, ver) FROM ${this.#t('coverage')}
        ALL INNER JOIN (${batchRows(
          gaps.map((r) => [textHex(r.source), r.start, textHex(r.status)]),
          ['unhex(q[1]) AS source', 'toInt64(q[2]) AS start', 'unhex(q[3]) AS status'],
        )})
        USING (source, start, status) GROUP BY source, start, status`),
      ),
      this.#chunked(conns, (conns) =>
        this.#select(`SELECT DISTINCT lower(hex(dst_addr)), start, realm, lower(hex(src_addr)), src_port, dst_port, protocol FROM ${this.#t('connection')}
        ALL INNER JOIN (${batchRows(
          conns.map((r) => [
            hexOf(r.destinationIp.key),
            r.start,
            textHex(r.realm ?? ''),
            hexOf(r.sourceIp.key),
            r.sourcePort ?? -1,
            r.destinationPort ?? -1,
            textHex(r.protocol ?? ''),
          ]),
          [
            'toFixedString(unhex(q[1]), 16) AS dst_addr',
            'toInt64(q[2]) AS start',
            'unhex(q[3]) AS realm',
            'toFixedString(unhex(q[4]), 16) AS src_addr',
            'toInt32(q[5]) AS src_port',
            'toInt32(q[6]) AS dst_port',
            'unhex(q[7]) AS protocol',
          ],
        )})
        USING (${connectionKeys.join(', ')}) PREWHERE start >= ${int(minOf(conns.map((r) => r.start)))} AND start <= ${int(maxOf(conns.map((r) => r.start)))}`),
      ),
    ]);

    const allocation = new Map<string, TimeState<AllocationRow>>();
    for (const [realm, addr, plen, start, account, ver, end, ei, source, imsi, msisdn, imei, mac, sessionId] of a as [
      string,
      string,
      number,
      number,
      string,
      number,
      unknown,
      number,
      string,
      string,
      string,
      string,
      string,
      string,
    ][]) {
      allocation.set(keyOf.allocation({ realm, addr, plen, start, account }), {
        row: { realm, addr: keyFromHex(addr), plen, start, account, end: endOf(end), source, endInferred: ei === 1, imsi, msisdn, imei, mac, sessionId, ver },
      });
    }
    const natBlock = new Map<string, TimeState<BlockRow>>();
    for (const [out, portFirst, start, realm, inside, protocol, ver, end, ei, portLast] of b as [
      string,
      number,
      number,
      string,
      string,
      string,
      number,
      unknown,
      number,
      number,
    ][]) {
      natBlock.set(keyOf.nat_block({ out, portFirst, start, realm, inside, protocol }), {
        row: { out: keyFromHex(out), portFirst, start, realm, inside: keyFromHex(inside), protocol, portLast, end: endOf(end), endInferred: ei === 1, ver },
      });
    }
    const natSession = new Map<string, TimeState<SessionRow>>();
    for (const [out, outPort, start, protocol, realm, inside, inPort, dst, dstPort, ver, end, ei] of s as [
      string,
      number,
      number,
      string,
      string,
      string,
      number,
      string,
      number,
      number,
      unknown,
      number,
    ][]) {
      natSession.set(keyOf.nat_session({ out, outPort, start, protocol, realm, inside, inPort, dst, dstPort }), {
        row: {
          out: keyFromHex(out),
          outPort,
          start,
          protocol,
          realm,
          inside: keyFromHex(inside),
          inPort,
          dst: keyFromHex(dst),
          dstPort,
          end: endOf(end),
          endInferred: ei === 1,
          ver,
        },
      });
    }
    const addressSpace = new Map<string, SpaceRow>();
    for (const [addr, plen, ver, role, realm] of sp as [string, number, number, string, string][])
      addressSpace.set([addr, plen].join(SEP), { addr: keyFromHex(addr), plen, role, realm, ver });
    const subscriber = new Map<string, SubscriberRow>();
    for (const [account, ver, type] of su as [string, number, string][]) subscriber.set(account, { account, type, ver });
    const deterministic = new Map<string, DeterministicRow>();
    for (const [out, plen, start, realm, ver, record] of d as [string, number, number, string, number, string][]) {
      deterministic.set([out, plen, start, realm].join(SEP), { out: keyFromHex(out), plen, start, realm, end: null, record, ver });
    }
    const coverage = new Map<string, CoverageRow>();
    for (const [source, start, status, ver, end] of g as [string, number, string, number, unknown][])
      coverage.set([source, start, status].join(SEP), { source, start, status, end: endOf(end), ver });
    const connection = new Set<string>();
    for (const [dst, start, realm, src, srcPort, dstPort, protocol] of c as [string, number, string, string, number, number, string][])
      connection.add(connectionKey(dst, Number(start), realm, src, srcPort, dstPort, protocol));
    return {
      allocation,
      nat_block: natBlock,
      nat_session: natSession,
      address_space: addressSpace,
      subscriber,
      nat_deterministic: deterministic,
      coverage,
      connection,
    };
  }

  /**
   * Run a look-up per chunk of records, one after another, and concatenate the rows. The
   * batch travels as an SQL literal, and 18.16's handling of it grows faster than its
   * size: 10 000 records take 2 s, 100 000 did not finish in two minutes.
   */
  async #chunked<R>(records: readonly R[], query: (chunk: R[]) => Promise<unknown[][]>): Promise<unknown[][]> {
    const out: unknown[][] = [];
    for (let i = 0; i < records.length; i += CHECK_CHUNK) out.push(...(await query(records.slice(i, i + CHECK_CHUNK))));
    return out;
  }

  /** Set a store setting (retention horizon, clock errors); `null` removes it. */
  async setSetting(key: SettingKey, value: SettingValue | null): Promise<void> {
    if (this.#readonly) throw new IparError('STORE_READONLY', 'the store was opened read-only');
    await this.#open();
    const meta = await this.#loadMeta();
    const ver = (meta.settings.get(key)?.ver ?? 0) + 1;
    await this.#insertMeta([[`setting.${key}`, value === null ? '' : String(value), ver]]);
    await this.#loadMeta();
  }

  /**
   * Retention without TTL (ClickHouse 18.16 has none): drop, on every shard, the day
   * partitions of closed records that all ended before `horizon` (the partition's day
   * ended at least the longest record's duration before it), and record the horizon so
   * risk analysis flags older windows (BEYOND_RETENTION). Open records are kept.
   * Returns the partitions dropped (their records are not counted).
   *
   * @example
   * const { partitions } = await store.purge(Date.parse('2026-01-01T00:00:00Z'));
   */
  async purge(horizon: number): Promise<PurgeSummary> {
    if (this.#readonly) throw new IparError('STORE_READONLY', 'the store was opened read-only');
    await this.#open();
    const meta = await this.#loadMeta();
    const dropped: { table: string; partition: string }[] = [];
    for (const client of this.#clients) {
      for (const table of DAY_TABLES) {
        const local = this.spec.cluster === null ? table : `${table}_local`;
        const maxDuration = meta.bounds.get(`maxDuration.${table.startsWith('connection') ? 'connection' : table}`) ?? 0;
        const rows = await this.#select(
          `SELECT DISTINCT partition FROM system.parts WHERE database = ${str(this.#db)} AND table = ${str(local)} AND active`,
          client,
        );
        for (const [partition] of rows as [string][]) {
          const dayEnd = Date.parse(`${partition.replace(/'/g, '')}T00:00:00Z`) + 86_400_000;
          if (!(dayEnd + maxDuration <= horizon)) continue;
          await this.#command(`ALTER TABLE ${this.#db}.${local} DROP PARTITION ${str(partition.replace(/'/g, ''))}`, client);
          dropped.push({ table, partition: partition.replace(/'/g, '') });
        }
      }
    }
    await this.setSetting('retentionHorizon', horizon);
    return { deleted: {}, partitions: dropped };
  }

  // ---- reading -------------------------------------------------------------------------

  async classify(addresses: readonly Address[]): Promise<readonly (AddressSpaceRecord | null)[]> {
    const meta = await this.#metaNow();
    const lengths = meta.lengths.get('address_space') ?? [];
    const keys = new Map<string, [string, number]>();
    for (const a of addresses)
      for (const l of lengthsFor(a, lengths)) {
        const hex = hexOf(maskKey(a.key, l));
        keys.set(`${hex}/${l}`, [hex, l]);
      }
    const found = new Map<string, { role: AddressRole; realm: string }>();
    if (keys.size > 0) {
      const rows = await this.#select(`SELECT lower(hex(addr)), plen, argMax(role, ver), argMax(realm, ver) FROM ${this.#t('address_space')}
        WHERE (addr, plen) IN (SELECT addr, plen FROM (${batchRows([...keys.values()], ['toFixedString(unhex(q[1]), 16) AS addr', 'toUInt8(q[2]) AS plen'])}))
        GROUP BY addr, plen`);
      for (const [hex, plen, role, realm] of rows as [string, number, AddressRole, string][]) found.set(`${hex}/${plen}`, { role, realm });
    }
    return addresses.map((address) => {
      for (const length of lengthsFor(address, lengths)) {
        const key = maskKey(address.key, length);
        const hit = found.get(`${hexOf(key)}/${length}`);
        if (hit === undefined) continue;
        return addressSpaceRecord(addressFromKey(key, length), hit.role, hit.realm);
      }
      return null;
    });
  }

  async allocations(queries: readonly AllocationQuery[]): Promise<readonly (readonly StoredAllocation[])[]> {
    const meta = await this.#metaNow();
    const lengths = meta.lengths.get('allocation') ?? [];
    const fallback = meta.bounds.get(BOUND_KEYS.longest('allocation')) ?? 0;
    // One sub-query per (query, prefix length), in the order SQLite visits them.
    const subs: { q: number; key: Buffer; length: number; lo: number }[] = [];
    queries.forEach((q, i) => {
      const realm = q.realm ?? '';
      const maxDuration = meta.bounds.get(BOUND_KEYS.longestAllocationOf(realm)) ?? fallback;
      for (const length of lengthsFor(q.address, lengths)) {
        subs.push({ q: i, key: length === 128 ? q.address.key : maskKey(q.address.key, length), length, lo: lookBackStart(q.window, maxDuration) });
      }
    });
    const out: StoredAllocation[][] = queries.map(() => []);
    if (subs.length === 0) return out;
    const batch = batchRows(
      subs.map((s, k) => {
        const q = queries[s.q]!;
        return [k, textHex(q.realm ?? ''), hexOf(s.key), s.length, s.lo, q.window.start, q.window.end];
      }),
      [
        'toUInt32(q[1]) AS k',
        'unhex(q[2]) AS realm',
        'toFixedString(unhex(q[3]), 16) AS addr',
        'toUInt8(q[4]) AS plen',
        'toInt64(q[5]) AS lo',
        'toInt64(q[6]) AS ws',
        'toInt64(q[7]) AS we',
      ],
    );
    const minLo = minOf(subs.map((s) => s.lo));
    const maxWe = maxOf(queries.map((q) => q.window.end));
    const cols =
      'k, start, account, argMax(`end`, ver) AS e, argMax(end_inferred, ver), argMax(source, ver), argMax(imsi, ver), argMax(msisdn, ver), argMax(imei, ver), argMax(mac, ver), argMax(session_id, ver)';
    const join = `ALL INNER JOIN (${batch}) USING (realm, addr, plen) PREWHERE (realm, addr, plen) IN (SELECT realm, addr, plen FROM (${batch})) WHERE 1`;
    const rows = await this.#select(
      limitedSelect(
        `SELECT 0 AS o, ${cols} FROM ${this.#t('allocation')} ${join} AND start >= ${int(minLo)} AND start < ${int(maxWe)} AND start >= lo AND start < we
           GROUP BY k, ws, start, account HAVING e > ws
         UNION ALL
         SELECT 1 AS o, ${cols} FROM ${this.#t('allocation_open')} ${join} AND start < ${int(maxWe)} AND start < we
           GROUP BY k, start, account HAVING e = ${END_OPEN}`,
        queries,
        subs.length,
        (k) => subs[k]!.q,
      ),
    );
    type Row = [number, number, number, string, unknown, number, string, string, string, string, string, string];
    for (const [, k, start, account, e, ei, source, imsi, msisdn, imei, mac, sessionId] of rows as Row[]) {
      const sub = subs[k]!;
      const q = queries[sub.q]!;
      const ip = sub.length === 128 && q.address.length === 128 ? q.address : addressFromKey(sub.key, sub.length);
      out[sub.q]!.push(
        allocationRecord({
          ip,
          realm: q.realm,
          account,
          start,
          end: endOf(e),
          source,
          endInferred: ei === 1,
          imsi,
          msisdn,
          imei,
          mac,
          sessionId: sessionId === '' ? null : sessionId,
        }),
      );
    }
    return cutToLimits(
      queries,
      out.map((answer) => inOrder(answer, allocationOrder)),
    );
  }

  async natBlocks(queries: readonly NatQuery[]): Promise<readonly (readonly StoredNatBlock[])[]> {
    const meta = await this.#metaNow();
    const out: StoredNatBlock[][] = queries.map(() => []);
    if (queries.length === 0) return out;
    const maxDuration = meta.bounds.get(BOUND_KEYS.longest('nat_block')) ?? 0;
    const maxSpan = meta.bounds.get(BOUND_KEYS.widestBlock) ?? 0;
    const batch = batchRows(
      queries.map((q, k) => [k, hexOf(q.outside.key), q.port ?? -1, lookBackStart(q.window, maxDuration), q.window.start, q.window.end]),
      [
        'toUInt32(q[1]) AS k',
        'toFixedString(unhex(q[2]), 16) AS out_addr',
        'toInt32(q[3]) AS p',
        'toInt64(q[4]) AS lo',
        'toInt64(q[5]) AS ws',
        'toInt64(q[6]) AS we',
      ],
    );
    const minLo = minOf(queries.map((q) => q.window.start)) - maxDuration;
    const maxWe = maxOf(queries.map((q) => q.window.end));
    // Blocks of mixed sizes and layouts over time: every first port within the widest block ever seen.
    const portOk = `(p < 0 OR (port_first <= p AND port_first > p - ${int(maxSpan)}))`;
    const cols =
      'k, p, port_first, start, realm, lower(hex(in_addr)) AS ia, protocol, argMax(port_last, ver) AS pl, argMax(`end`, ver) AS e, argMax(end_inferred, ver)';
    const join = `ALL INNER JOIN (${batch}) USING (out_addr) PREWHERE out_addr IN (SELECT out_addr FROM (${batch})) WHERE ${portOk}`;
    const group = 'GROUP BY k, ws, p, port_first, start, realm, in_addr, protocol';
    const rows = await this.#select(
      limitedSelect(
        `SELECT 0 AS o, ${cols} FROM ${this.#t('nat_block')} ${join} AND start >= ${int(minLo)} AND start < ${int(maxWe)} AND start >= lo AND start < we
           ${group} HAVING e > ws AND (p < 0 OR pl >= p)
         UNION ALL
         SELECT 1 AS o, ${cols} FROM ${this.#t('nat_block_open')} ${join} AND start < ${int(maxWe)} AND start < we
           ${group} HAVING e = ${END_OPEN} AND (p < 0 OR pl >= p)`,
        queries,
        queries.length,
        (k) => k,
      ),
    );
    type Row = [number, number, number, number, number, string, string, string, number, unknown, number];
    for (const [, k, , portFirst, start, realm, ia, protocol, portLast, e, ei] of rows as Row[]) {
      out[k]!.push(
        natBlockRecord({
          realm,
          insideIp: addressFromKey(keyFromHex(ia)),
          outsideIp: queries[k]!.outside,
          portFirst,
          portLast,
          start,
          end: endOf(e),
          protocol,
          endInferred: ei === 1,
        }),
      );
    }
    return cutToLimits(
      queries,
      out.map((answer, k) => inOrder(answer, natBlockOrder(queries[k]!.port))),
    );
  }

  async natSessions(queries: readonly NatQuery[]): Promise<readonly (readonly StoredNatSession[])[]> {
    const meta = await this.#metaNow();
    const out: StoredNatSession[][] = queries.map(() => []);
    if (queries.length === 0) return out;
    const maxDuration = meta.bounds.get(BOUND_KEYS.longest('nat_session')) ?? 0;
    const cols =
      'k, out_port, start, protocol, realm, lower(hex(in_addr)), in_port, lower(hex(dst_addr)), dst_port, argMax(`end`, ver) AS e, argMax(end_inferred, ver)';
    const group = 'GROUP BY k, ws, out_port, start, protocol, realm, in_addr, in_port, dst_addr, dst_port';
    const fields = [
      'toUInt32(q[1]) AS k',
      'toFixedString(unhex(q[2]), 16) AS out_addr',
      'toUInt16(q[3]) AS out_port',
      'toInt64(q[4]) AS lo',
      'toInt64(q[5]) AS ws',
      'toInt64(q[6]) AS we',
    ];
    const parts: string[] = [];
    for (const withPort of [true, false]) {
      const mine = queries.flatMap((q, k) =>
        (q.port !== null) === withPort ? [[k, hexOf(q.outside.key), q.port ?? 0, lookBackStart(q.window, maxDuration), q.window.start, q.window.end]] : [],
      );
      if (mine.length === 0) continue;
      const batch = batchRows(mine, withPort ? fields : fields.filter((f) => !f.endsWith('out_port')));
      const keys = withPort ? '(out_addr, out_port)' : '(out_addr)';
      const minLo = minOf(mine.map((m) => m[3] as number));
      const maxWe = maxOf(mine.map((m) => m[5] as number));
      const join = `ALL INNER JOIN (${batch}) USING ${keys} PREWHERE ${keys} IN (SELECT ${keys.slice(1, -1)} FROM (${batch})) WHERE 1`;
      // Without a port an address has too many sessions to be useful: at most SESSION_ROW_LIMIT
      // each, the first in the canonical order (closed by start, open by port; core/order.ts).
      const limit = (first: string): string =>
        withPort ? '' : `ORDER BY k, ${first}, protocol, realm, in_addr, in_port, dst_addr, dst_port LIMIT ${SESSION_ROW_LIMIT} BY k`;
      parts.push(
        `SELECT 0 AS o, ${cols} FROM ${this.#t('nat_session')} ${join} AND start >= ${int(minLo)} AND start < ${int(maxWe)} AND start >= lo AND start < we ${group} HAVING e > ws ${limit('start, out_port')}`,
        `SELECT 1 AS o, ${cols} FROM ${this.#t('nat_session_open')} ${join} AND start < ${int(maxWe)} AND start < we ${group} HAVING e = ${END_OPEN} ${limit('out_port, start')}`,
      );
    }
    const rows = await this.#select(limitedSelect(parts.join('\nUNION ALL\n'), queries, queries.length, (k) => k));
    type Row = [number, number, number, number, Protocol, string, string, number, string, number, unknown, number];
    for (const [, k, outsidePort, start, protocol, realm, ia, insidePort, da, dstPort, e, ei] of rows as Row[]) {
      out[k]!.push(
        natSessionRecord({
          realm,
          insideIp: addressFromKey(keyFromHex(ia)),
          insidePort,
          outsideIp: queries[k]!.outside,
          outsidePort,
          protocol,
          start,
          end: endOf(e),
          destinationIp: da === '' ? null : addressFromKey(keyFromHex(da)),
          destinationPort: dstPort,
          endInferred: ei === 1,
        }),
      );
    }
    return cutToLimits(
      queries,
      out.map((answer) => inOrder(answer, natSessionOrder)),
    );
  }

  async natDeterministic(queries: readonly DeterministicQuery[]): Promise<readonly (readonly StoredNatDeterministic[])[]> {
    const meta = await this.#metaNow();
    const lengths = meta.lengths.get('nat_deterministic') ?? [];
    const subs: { q: number; key: Buffer; length: number }[] = [];
    queries.forEach((q, i) => {
      for (const length of lengthsFor(q.outside, lengths)) subs.push({ q: i, key: maskKey(q.outside.key, length), length });
    });
    const out: StoredNatDeterministic[][] = queries.map(() => []);
    if (subs.length === 0) return out;
    const batch = batchRows(
      subs.map((s, k) => [k, hexOf(s.key), s.length, queries[s.q]!.window.start, queries[s.q]!.window.end]),
      ['toUInt32(q[1]) AS k', 'toFixedString(unhex(q[2]), 16) AS out_addr', 'toUInt8(q[3]) AS plen', 'toInt64(q[4]) AS ws', 'toInt64(q[5]) AS we'],
    );
    const rows = await this.#select(
      limitedSelect(
        `SELECT k, start, realm, argMax(\`end\`, ver) AS e, argMax(record, ver) FROM ${this.#t('nat_deterministic')}
      ALL INNER JOIN (${batch}) USING (out_addr, plen) WHERE (out_addr, plen) IN (SELECT out_addr, plen FROM (${batch})) AND start < we
      GROUP BY k, ws, start, realm HAVING e > ws`,
        queries,
        subs.length,
        (k) => subs[k]!.q,
      ),
    );
    type Row = [number, number, string, unknown, string];
    for (const [k, start, realm, , text] of rows as Row[]) {
      let record = this.#detCache.get(text);
      if (record === undefined) {
        record = NatDeterministicRecord.parse(JSON.parse(text));
        this.#detCache.set(text, record);
      }
      out[subs[k]!.q]!.push(natDeterministicRecord(record, realm, start));
    }
    return cutToLimits(
      queries,
      out.map((answer) => inOrder(answer, natDeterministicOrder)),
    );
  }

  async coverageGaps(queries: readonly CoverageQuery[]): Promise<readonly (readonly StoredCoverage[])[]> {
    await this.#open();
    if (queries.length === 0) return [];
    // Coverage gaps are declared, not logged: a handful of rows. Read those overlapping
    // any window of the batch once, and hand each query its own.
    const minWs = minOf(queries.map((q) => q.window.start));
    const maxWe = maxOf(queries.map((q) => q.window.end));
    const rows = (await this.#select(`SELECT source, start, status, argMax(\`end\`, ver) AS e FROM ${this.#t('coverage')}
      WHERE start < ${int(maxWe)} GROUP BY source, start, status HAVING e > ${int(minWs)}`)) as [string, number, 'gap', unknown][];
    const gaps = inOrder(
      rows.map(([source, start, status, e]) => coverageRecord(source, start, endOf(e), status)),
      coverageOrder,
    );
    return queries.map((q) =>
      gaps.filter((g) => (q.source === null || g.source === q.source) && g.start < q.window.end && (g.end === null || g.end > q.window.start)),
    );
  }

  async subscriberTypes(accounts: readonly string[]): Promise<ReadonlyMap<string, SubscriberType>> {
    await this.#open();
    const out = new Map<string, SubscriberType>();
    const unique = [...new Set(accounts)];
    if (unique.length === 0) return out;
    const rows = await this.#select(`SELECT account, argMax(type, ver) FROM ${this.#t('subscriber')}
      WHERE account IN (SELECT account FROM (${batchRows(
        unique.map((a) => [textHex(a)]),
        ['unhex(q[1]) AS account'],
      )})) GROUP BY account`);
    for (const [account, type] of rows as [string, SubscriberType][]) out.set(account, type);
    return out;
  }

  /** Each source's coverage, as the latest version of its `coverage.<source>` meta row. */
  async #sourceCoverage(only?: readonly string[]): Promise<Map<string, { state: SourceCoverage; ver: number }>> {
    const where = only === undefined ? `startsWith(key, ${str(COVERAGE_KEY)})` : `key IN (${only.map((s) => str(COVERAGE_KEY + s)).join(', ')})`;
    const rows = (await this.#select(`SELECT key, argMax(value, ver), max(ver) FROM ${this.#t('meta')} WHERE ${where} GROUP BY key ORDER BY key`)) as [
      string,
      string,
      number,
    ][];
    return new Map(rows.map(([key, value, ver]) => [key.slice(COVERAGE_KEY.length), { state: coverageFromText(value), ver: Number(ver) }]));
  }

  async sourceCoverage(): Promise<readonly SourceCoverage[]> {
    await this.#open();
    return [...(await this.#sourceCoverage()).values()].map((c) => c.state);
  }

  /**
   * Fold one ingest's view of its sources into the stored coverage: a new version of each
   * source's meta row. Not atomic across writers (ClickHouse has no transactions): two
   * ingests of the same source at once may each fold over the same version, and the
   * later insert wins; the next ingest of that source widens the span again.
   */
  async recordCoverage(seen: readonly SourceCoverage[]): Promise<void> {
    if (this.#readonly) throw new IparError('STORE_READONLY', 'the store was opened read-only');
    if (seen.length === 0) return;
    await this.#open();
    const held = await this.#sourceCoverage(seen.map((c) => c.source));
    await this.#insertMeta(
      seen.map((c) => {
        const h = held.get(c.source);
        return [COVERAGE_KEY + c.source, coverageToText(mergeSourceCoverage(h?.state, c)), (h?.ver ?? 0) + 1] as const;
      }),
    );
  }

  coverage(): Promise<CoverageListing> {
    return coverageListing(this);
  }

  // ---- connection evidence (issue 19) ----------------------------------------------------
  // One statement a batch: each query is a sub-select tagged with its index `k`, over the
  // table whose primary key leads with what it looks up. Connection rows are immutable
  // (one version), so GROUP BY the natural key only folds copies not yet merged.

  async #connections(table: 'connection' | 'connection_by_source' | 'connection_by_account', wheres: readonly string[]): Promise<StoredConnection[][]> {
    const out: StoredConnection[][] = wheres.map(() => []);
    if (wheres.length === 0) return out;
    const cols =
      'lower(hex(dst_addr)), start, realm, lower(hex(src_addr)), src_port, dst_port, protocol, any(`end`), any(account), any(bytes_up), any(bytes_down), any(service)';
    const group = 'GROUP BY dst_addr, start, realm, src_addr, src_port, dst_port, protocol';
    const rows = await this.#select(wheres.map((w, k) => `SELECT ${k} AS k, ${cols} FROM ${this.#t(table)} WHERE ${w} ${group}`).join('\nUNION ALL\n'));
    type Row = [number, string, number, string, string, number, number, string, unknown, string, unknown, unknown, string];
    for (const [k, dst, start, realm, src, sourcePort, destinationPort, protocol, end, account, up, down, service] of rows as Row[]) {
      out[Number(k)]!.push(
        connectionRecord({
          account,
          sourceIp: addressFromKey(keyFromHex(src)),
          sourcePort,
          realm,
          destinationIp: addressFromKey(keyFromHex(dst)),
          destinationPort,
          protocol,
          start: Number(start),
          end: Number(end),
          bytesUp: Number(up),
          bytesDown: Number(down),
          service,
        }),
      );
    }
    return out.map((answer) => inOrder(answer, connectionOrder));
  }

  /** `start` in the look-back range of a window and `end` after its start. */
  #overlaps(window: Window, maxDuration: number): string {
    return `start >= ${int(lookBackStart(window, maxDuration))} AND start < ${int(window.end)} AND \`end\` > ${int(window.start)}`;
  }

  async connectionsTo(queries: readonly DestinationQuery[]): Promise<readonly (readonly StoredConnection[])[]> {
    const meta = await this.#metaNow();
    const maxDuration = meta.bounds.get(BOUND_KEYS.longest('connection')) ?? 0;
    return this.#connections(
      'connection',
      queries.map((q) => `${destinationRange('dst_addr', q.destination)} AND ${this.#overlaps(q.window, maxDuration)}`),
    );
  }

  async connectionsFrom(queries: readonly SourceQuery[]): Promise<readonly (readonly StoredConnection[])[]> {
    const meta = await this.#metaNow();
    const maxDuration = meta.bounds.get(BOUND_KEYS.longest('connection')) ?? 0;
    const byAccount = queries.flatMap((q, i) => ('account' in q ? [i] : []));
    const bySource = queries.flatMap((q, i) => ('account' in q ? [] : [i]));
    const [a, s] = await Promise.all([
      this.#connections(
        'connection_by_account',
        byAccount.map((i) => {
          const q = queries[i] as { account: string; window: Window };
          return `account = ${str(q.account)} AND account != '' AND ${this.#overlaps(q.window, maxDuration)}`;
        }),
      ),
      this.#connections(
        'connection_by_source',
        bySource.map((i) => {
          const q = queries[i] as { source: Address; realm: string | null; window: Window };
          return `realm = ${str(q.realm ?? '')} AND src_addr = ${bytes(q.source.key)} AND ${this.#overlaps(q.window, maxDuration)}`;
        }),
      ),
    ]);
    const out: StoredConnection[][] = queries.map(() => []);
    byAccount.forEach((i, j) => (out[i] = a[j]!));
    bySource.forEach((i, j) => (out[i] = s[j]!));
    return out;
  }

  /**
   * Sessions by destination or inside address: the session tables are ordered by outside
   * address, so these read every session of the days in range (correct, not fast: an
   * index table by destination is the next step for ClickHouse).
   */
  async #sessionsWhere(wheres: readonly string[], windows: readonly Window[]): Promise<StoredNatSession[][]> {
    const meta = await this.#metaNow();
    const out: StoredNatSession[][] = wheres.map(() => []);
    if (wheres.length === 0) return out;
    const maxDuration = meta.bounds.get(BOUND_KEYS.longest('nat_session')) ?? 0;
    const cols =
      'lower(hex(out_addr)), out_port, start, protocol, realm, lower(hex(in_addr)), in_port, lower(hex(dst_addr)), dst_port, argMax(`end`, ver) AS e, argMax(end_inferred, ver)';
    const group = 'GROUP BY out_addr, out_port, start, protocol, realm, in_addr, in_port, dst_addr, dst_port';
    const parts = wheres.flatMap((w, k) => [
      `SELECT ${k} AS k, ${cols} FROM ${this.#t('nat_session')} WHERE ${w} AND start >= ${int(lookBackStart(windows[k]!, maxDuration))} AND start < ${int(windows[k]!.end)} ${group} HAVING e > ${int(windows[k]!.start)}`,
      `SELECT ${k} AS k, ${cols} FROM ${this.#t('nat_session_open')} WHERE ${w} AND start < ${int(windows[k]!.end)} ${group} HAVING e = ${END_OPEN}`,
    ]);
    const rows = await this.#select(parts.join('\nUNION ALL\n'));
    type Row = [number, string, number, number, Protocol, string, string, number, string, number, unknown, number];
    for (const [k, oa, outsidePort, start, protocol, realm, ia, insidePort, da, dstPort, e, ei] of rows as Row[]) {
      out[Number(k)]!.push(
        natSessionRecord({
          realm,
          insideIp: addressFromKey(keyFromHex(ia)),
          insidePort,
          outsideIp: addressFromKey(keyFromHex(oa)),
          outsidePort,
          protocol,
          start: Number(start),
          end: endOf(e),
          destinationIp: da === '' ? null : addressFromKey(keyFromHex(da)),
          destinationPort: dstPort,
          endInferred: ei === 1,
        }),
      );
    }
    return out.map((answer) => inOrder(answer, natSessionByStartOrder));
  }

  natSessionsTo(queries: readonly DestinationQuery[]): Promise<readonly (readonly StoredNatSession[])[]> {
    return this.#sessionsWhere(
      queries.map((q) => `length(dst_addr) = 16 AND ${destinationRange('dst_addr', q.destination)}`),
      queries.map((q) => q.window),
    );
  }

  natSessionsFrom(queries: readonly Extract<SourceQuery, { source: Address }>[]): Promise<readonly (readonly StoredNatSession[])[]> {
    return this.#sessionsWhere(
      queries.map((q) => `realm = ${str(q.realm ?? '')} AND in_addr = ${bytes(q.source.key)}`),
      queries.map((q) => q.window),
    );
  }

  async settings(): Promise<StoreSettings> {
    await this.#open();
    const meta = await this.#loadMeta();
    return storeSettings(
      [...meta.settings].map(([key, { value }]) => [key, value] as const),
      meta.bounds,
      [...meta.noDestination],
    );
  }

  async counts(): Promise<RecordCounts> {
    await this.#open();
    const single = (kind: RecordKind, table: TableName): string => `SELECT ${str(kind)}, count() FROM ${this.#t(table)} FINAL`;
    const open = (kind: RecordKind, table: TableName): string =>
      `SELECT ${str(kind)}, count() FROM (SELECT argMax(\`end\`, ver) AS e FROM ${this.#t(table)} GROUP BY ${TABLE[table].orderBy.join(', ')}) WHERE e = ${END_OPEN}`;
    const rows = await this.#select(
      [
        single('address-space', 'address_space'),
        single('subscriber', 'subscriber'),
        single('allocation', 'allocation'),
        open('allocation', 'allocation_open'),
        single('nat-block', 'nat_block'),
        open('nat-block', 'nat_block_open'),
        single('nat-session', 'nat_session'),
        open('nat-session', 'nat_session_open'),
        single('nat-deterministic', 'nat_deterministic'),
        single('coverage', 'coverage'),
        single('connection', 'connection'),
      ].join('\nUNION ALL\n'),
    );
    const out = {
      'address-space': 0,
      subscriber: 0,
      allocation: 0,
      'nat-block': 0,
      'nat-session': 0,
      'nat-deterministic': 0,
      coverage: 0,
      connection: 0,
    } as Record<RecordKind, number>;
    for (const [kind, n] of rows as [RecordKind, number][]) out[kind] += Number(n);
    return out;
  }

  /**
   * Rows of a query as they arrive, in batches (the whole answer is never held). 18.16
   * streams JSONEachRow only (JSONCompactEachRow came later): each row's values, in the
   * order of the query's columns, whose names must differ.
   */
  async *#stream(sql: string): AsyncIterable<unknown[][]> {
    let rs;
    try {
      rs = await this.#clients[0]!.query({ query: sql, format: 'JSONEachRow' });
    } catch (cause) {
      throw this.#fault('STORE_READ_FAILED', 'store read failed', cause);
    }
    try {
      for await (const rows of rs.stream<Record<string, unknown>>()) yield rows.map((r) => Object.values(r.json<Record<string, unknown>>()));
    } catch (cause) {
      throw this.#fault('STORE_READ_FAILED', 'store read failed', cause);
    }
  }

  /**
   * Every stored record of the kinds asked for, overlapping the window ({@link StoreExporter}):
   * each record's latest version (argMax over `ver`), closed records from the day tables and
   * the still-open ones from the `*_open` tables, each table in its key order.
   */
  async *exportRecords(query: ExportQuery): AsyncIterable<readonly StoredRecord[]> {
    await this.#open();
    const lo = int(Math.max(query.window.start, Number.MIN_SAFE_INTEGER));
    const hi = int(Math.min(query.window.end, Number.MAX_SAFE_INTEGER));
    // Closed records, then the ones still open: each part in the table's key order.
    const timed = (table: 'allocation' | 'nat_block' | 'nat_session', cols: string): string[] => {
      const key = TABLE[table].orderBy.join(', ');
      return [
        `SELECT ${cols} FROM ${this.#t(table)} WHERE start < ${hi} GROUP BY ${key} HAVING e > ${lo} ORDER BY ${key}`,
        `SELECT ${cols} FROM ${this.#t(`${table}_open`)} WHERE start < ${hi} GROUP BY ${key} HAVING e = ${END_OPEN} ORDER BY ${key}`,
      ];
    };
    const ip = (hex: string, length = 128): Address => addressFromKey(keyFromHex(hex), length);
    const queries: Record<RecordKind, { sql: string | string[]; row: (r: unknown[]) => StoredRecord }> = {
      'address-space': {
        sql: `SELECT lower(hex(addr)), plen, argMax(role, ver), argMax(realm, ver) FROM ${this.#t('address_space')} GROUP BY addr, plen ORDER BY addr, plen`,
        row: ([hex, plen, role, realm]) => addressSpaceRecord(ip(hex as string, plen as number), role as AddressRole, realm as string),
      },
      subscriber: {
        sql: `SELECT account, argMax(type, ver) FROM ${this.#t('subscriber')} GROUP BY account ORDER BY account`,
        row: ([account, type]) => Object.freeze({ kind: 'subscriber' as const, account: account as string, type: type as SubscriberType }),
      },
      allocation: {
        sql: timed(
          'allocation',
          'realm, lower(hex(addr)) AS a, plen, start, account, argMax(`end`, ver) AS e, argMax(end_inferred, ver) AS ei, argMax(source, ver) AS so, argMax(imsi, ver) AS i1, argMax(msisdn, ver) AS i2, argMax(imei, ver) AS i3, argMax(mac, ver) AS i4, argMax(session_id, ver) AS sid',
        ),
        row: ([realm, hex, plen, start, account, e, ei, source, imsi, msisdn, imei, mac, sessionId]) =>
          allocationRecord({
            ip: ip(hex as string, plen as number),
            realm: realm === '' ? null : (realm as string),
            account: account as string,
            start: Number(start),
            end: endOf(e),
            source: source as string,
            endInferred: ei === 1,
            imsi: imsi as string,
            msisdn: msisdn as string,
            imei: imei as string,
            mac: mac as string,
            sessionId: sessionId === '' ? null : (sessionId as string),
          }),
      },
      'nat-block': {
        sql: timed(
          'nat_block',
          'lower(hex(out_addr)) AS oa, port_first, start, realm, lower(hex(in_addr)) AS ia, protocol, argMax(port_last, ver) AS pl, argMax(`end`, ver) AS e, argMax(end_inferred, ver) AS ei',
        ),
        row: ([oa, portFirst, start, realm, ia, protocol, portLast, e, ei]) =>
          natBlockRecord({
            realm: realm as string,
            insideIp: ip(ia as string),
            outsideIp: ip(oa as string),
            portFirst: portFirst as number,
            portLast: portLast as number,
            start: Number(start),
            end: endOf(e),
            protocol: protocol as string,
            endInferred: ei === 1,
          }),
      },
      'nat-session': {
        sql: timed(
          'nat_session',
          'lower(hex(out_addr)) AS oa, out_port, start, protocol, realm, lower(hex(in_addr)) AS ia, in_port, lower(hex(dst_addr)) AS da, dst_port, argMax(`end`, ver) AS e, argMax(end_inferred, ver) AS ei',
        ),
        row: ([oa, outsidePort, start, protocol, realm, ia, insidePort, da, dstPort, e, ei]) =>
          natSessionRecord({
            realm: realm as string,
            insideIp: ip(ia as string),
            insidePort: insidePort as number,
            outsideIp: ip(oa as string),
            outsidePort: outsidePort as number,
            protocol: protocol as Protocol,
            start: Number(start),
            end: endOf(e),
            destinationIp: da === '' ? null : ip(da as string),
            destinationPort: dstPort as number,
            endInferred: ei === 1,
          }),
      },
      'nat-deterministic': {
        sql: `SELECT realm, start, argMax(\`end\`, ver) AS e, argMax(record, ver) FROM ${this.#t('nat_deterministic')} WHERE start < ${hi}
          GROUP BY out_addr, plen, start, realm HAVING e > ${lo} ORDER BY out_addr, plen, start, realm`,
        row: ([realm, start, , text]) => natDeterministicRecord(NatDeterministicRecord.parse(JSON.parse(text as string)), realm as string, Number(start)),
      },
      connection: {
        sql: `SELECT lower(hex(dst_addr)) AS da, start, realm, lower(hex(src_addr)) AS sa, src_port, dst_port, protocol, any(\`end\`) AS e, any(account) AS acc,
            any(bytes_up) AS up, any(bytes_down) AS down, any(service) AS svc FROM ${this.#t('connection')} WHERE start < ${hi}
          GROUP BY dst_addr, start, realm, src_addr, src_port, dst_port, protocol HAVING e > ${lo} ORDER BY dst_addr, start, realm, src_addr, src_port, dst_port, protocol`,
        row: ([da, start, realm, sa, sourcePort, destinationPort, protocol, e, account, up, down, service]) =>
          connectionRecord({
            account: account as string,
            sourceIp: ip(sa as string),
            sourcePort: sourcePort as number,
            realm: realm as string,
            destinationIp: ip(da as string),
            destinationPort: destinationPort as number,
            protocol: protocol as string,
            start: Number(start),
            end: Number(e),
            bytesUp: Number(up),
            bytesDown: Number(down),
            service: service as string,
          }),
      },
      coverage: {
        sql: `SELECT source, start, status, argMax(\`end\`, ver) AS e FROM ${this.#t('coverage')} WHERE start < ${hi}
          GROUP BY source, start, status HAVING e > ${lo} ORDER BY source, start, status`,
        row: ([source, start, status, e]) => coverageRecord(source as string, Number(start), endOf(e), status as 'gap'),
      },
    };
    for (const kind of RECORD_KINDS) {
      if (!query.kinds.includes(kind)) continue;
      const { sql, row } = queries[kind];
      for (const part of typeof sql === 'string' ? [sql] : sql) {
        for await (const rows of this.#stream(part)) if (rows.length > 0) yield rows.map(row);
      }
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.#clients.map((c) => c.close()));
  }
}

/**
 * Open a store in ClickHouse (tables are created on first use unless read-only).
 *
 * @example
 * const store = openClickHouseStore('clickhouse://127.0.0.1:18123,127.0.0.1:18124/ipar?cluster=ipar');
 */
export function openClickHouseStore(spec: string, options: ClickHouseOpenOptions = {}): ClickHouseStore {
  return new ClickHouseStore(spec, options);
}

/** `column` within a destination address or prefix: its first and last 16-byte keys. */
function destinationRange(column: string, destination: Address): string {
  const first = maskKey(destination.key, destination.length);
  if (destination.length === 128) return `${column} = ${bytes(first)}`;
  const last = Buffer.from(first);
  for (let bit = destination.length; bit < 128; bit++) last[bit >> 3]! |= 0x80 >> (bit & 7);
  return `${column} >= ${bytes(first)} AND ${column} <= ${bytes(last)}`;
}
