/**
 * The ClickHouse schema: one table per canonical record kind, written for ClickHouse
 * 18.16 (Debian bookworm's server) and later. DESIGN.md "Scale path":
 *
 * - MergeTree tables ordered by the natural key, which begins with what the matcher
 *   looks up: (outside address, port, start) for NAT records, (realm, address, prefix
 *   length, start) for allocations. ReplacingMergeTree(ver) folds the versions of a
 *   record (an open record and the later export that closes it) at merges; reads take
 *   the latest version with argMax(…, ver), so nothing depends on when merges run.
 * - Closed records live in tables partitioned by day of `start` (retention drops whole
 *   partitions: 18.16 has no TTL, which arrived in 19.6). Records written with no end
 *   go to a small `*_open` table partitioned by month: like SQLite's partial index, it
 *   lets a lookup bound its scan of the day tables by the longest closed record and
 *   still find an open record from last year.
 * - With a cluster, each table is `<name>_local` on every shard plus a Distributed table
 *   `<name>` sharded by the address (so every version of a record lands on one shard).
 * - Connection records (issue 19) are immutable: written once to three tables, the same
 *   rows in the three lookup orders (by destination, by source, by account).
 * - Addresses are FixedString(16) keys (IPv4-mapped IPv6, src/address.ts); times are
 *   Int64 epoch ms (DateTime64 arrived in 20.1); names are plain Strings (18.16's
 *   LowCardinality is experimental). Open ends are stored as {@link END_OPEN}.
 */

export type TableName =
  | 'address_space'
  | 'subscriber'
  | 'allocation'
  | 'allocation_open'
  | 'nat_block'
  | 'nat_block_open'
  | 'nat_session'
  | 'nat_session_open'
  | 'nat_deterministic'
  | 'coverage'
  | 'connection'
  | 'connection_by_source'
  | 'connection_by_account'
  | 'meta';

export interface TableSpec {
  readonly name: TableName;
  readonly columns: readonly (readonly [string, string])[];
  /** The natural key: the sorting key, so ReplacingMergeTree folds exactly one record's versions. */
  readonly orderBy: readonly string[];
  /** The primary index: the prefix of the sorting key that lookups use (a smaller index in memory). */
  readonly primaryKey: readonly string[];
  readonly partitionBy: string;
  /** Distributed sharding expression: every version of a record on the same shard. */
  readonly shardBy: string;
  readonly engine: 'ReplacingMergeTree(ver)' | 'MergeTree';
  readonly granularity: number;
}

/** The end of a record still open when exported (`end: null`): it runs forever. */
export const END_OPEN = '9223372036854775807';
export const END_OPEN_BIGINT = 9223372036854775807n;

/** Schema version kept in the meta table; a reader refuses another. */
export const CLICKHOUSE_SCHEMA_VERSION = 1;

const DAY = 'toDate(toDateTime(intDiv(greatest(start, 0), 1000)))';
const MONTH = 'toYYYYMM(toDateTime(intDiv(greatest(start, 0), 1000)))';
/**
 * Point lookups read a granule per key and part: 256-row granules read a quarter of
 * the default's 8192/4 (measured: 2.1× less time per batch than 1024), and the primary
 * index holding only the lookup prefix stays small (100M rows: 390k marks).
 */
const GRANULE = 256;

const ALLOCATION_COLUMNS = [
  ['realm', 'String'],
  ['addr', 'FixedString(16)'],
  ['plen', 'UInt8'],
  ['start', 'Int64'],
  ['account', 'String'],
  ['`end`', 'Int64'],
  ['source', 'String'],
  ['end_inferred', 'UInt8'],
  ['imsi', 'String'],
  ['msisdn', 'String'],
  ['imei', 'String'],
  ['mac', 'String'],
  ['session_id', 'String'],
  ['ver', 'UInt32'],
] as const;
const BLOCK_COLUMNS = [
  ['out_addr', 'FixedString(16)'],
  ['port_first', 'UInt16'],
  ['start', 'Int64'],
  ['realm', 'String'],
  ['in_addr', 'FixedString(16)'],
  ['protocol', 'String'],
  ['port_last', 'UInt16'],
  ['`end`', 'Int64'],
  ['end_inferred', 'UInt8'],
  ['ver', 'UInt32'],
] as const;
const SESSION_COLUMNS = [
  ['out_addr', 'FixedString(16)'],
  ['out_port', 'UInt16'],
  ['start', 'Int64'],
  ['protocol', 'String'],
  ['realm', 'String'],
  ['in_addr', 'FixedString(16)'],
  ['in_port', 'UInt16'],
  ['dst_addr', 'String'],
  ['dst_port', 'Int32'],
  ['`end`', 'Int64'],
  ['end_inferred', 'UInt8'],
  ['ver', 'UInt32'],
] as const;

/** Connection records (issue 19): immutable events, one table per lookup order (ClickHouse has no secondary index in 18.16). */
const CONNECTION_COLUMNS = [
  ['dst_addr', 'FixedString(16)'],
  ['start', 'Int64'],
  ['realm', 'String'],
  ['src_addr', 'FixedString(16)'],
  ['src_port', 'Int32'],
  ['dst_port', 'Int32'],
  ['protocol', 'String'],
  ['`end`', 'Int64'],
  ['account', 'String'],
  ['bytes_up', 'Int64'],
  ['bytes_down', 'Int64'],
  ['service', 'String'],
  ['ver', 'UInt32'],
] as const;
const CONNECTION_KEY = ['dst_addr', 'start', 'realm', 'src_addr', 'src_port', 'dst_port', 'protocol'];
const connectionTable = (name: 'connection' | 'connection_by_source' | 'connection_by_account', lead: readonly string[], shardBy: string): TableSpec => ({
  name,
  columns: CONNECTION_COLUMNS,
  orderBy: [...lead, ...CONNECTION_KEY.filter((c) => !lead.includes(c))],
  primaryKey: [...lead],
  partitionBy: DAY,
  shardBy,
  engine: 'ReplacingMergeTree(ver)',
  granularity: GRANULE,
});

const ALLOCATION_KEY = ['realm', 'addr', 'plen', 'start', 'account'];
const BLOCK_KEY = ['out_addr', 'port_first', 'start', 'realm', 'in_addr', 'protocol'];
const SESSION_KEY = ['out_addr', 'out_port', 'start', 'protocol', 'realm', 'in_addr', 'in_port', 'dst_addr', 'dst_port'];

const timeTables = (
  name: 'allocation' | 'nat_block' | 'nat_session',
  columns: TableSpec['columns'],
  orderBy: string[],
  primaryKey: string[],
  shardBy: string,
): TableSpec[] => [
  { name, columns, orderBy, primaryKey, partitionBy: DAY, shardBy, engine: 'ReplacingMergeTree(ver)', granularity: GRANULE },
  { name: `${name}_open`, columns, orderBy, primaryKey, partitionBy: MONTH, shardBy, engine: 'ReplacingMergeTree(ver)', granularity: GRANULE },
];

export const TABLES: readonly TableSpec[] = [
  {
    name: 'address_space',
    columns: [
      ['addr', 'FixedString(16)'],
      ['plen', 'UInt8'],
      ['role', 'String'],
      ['realm', 'String'],
      ['ver', 'UInt32'],
    ],
    orderBy: ['addr', 'plen'],
    primaryKey: ['addr', 'plen'],
    partitionBy: 'tuple()',
    shardBy: 'cityHash64(addr)',
    engine: 'ReplacingMergeTree(ver)',
    granularity: GRANULE,
  },
  {
    name: 'subscriber',
    columns: [
      ['account', 'String'],
      ['type', 'String'],
      ['ver', 'UInt32'],
    ],
    orderBy: ['account'],
    primaryKey: ['account'],
    partitionBy: 'tuple()',
    shardBy: 'cityHash64(account)',
    engine: 'ReplacingMergeTree(ver)',
    granularity: GRANULE,
  },
  ...timeTables('allocation', ALLOCATION_COLUMNS, ALLOCATION_KEY, ['realm', 'addr', 'plen', 'start'], 'cityHash64(realm, addr)'),
  ...timeTables('nat_block', BLOCK_COLUMNS, BLOCK_KEY, ['out_addr', 'port_first', 'start'], 'cityHash64(out_addr)'),
  ...timeTables('nat_session', SESSION_COLUMNS, SESSION_KEY, ['out_addr', 'out_port', 'start'], 'cityHash64(out_addr, out_port)'),
  {
    name: 'nat_deterministic',
    columns: [
      ['out_addr', 'FixedString(16)'],
      ['plen', 'UInt8'],
      ['start', 'Int64'],
      ['realm', 'String'],
      ['`end`', 'Int64'],
      ['record', 'String'],
      ['ver', 'UInt32'],
    ],
    orderBy: ['out_addr', 'plen', 'start', 'realm'],
    primaryKey: ['out_addr', 'plen', 'start', 'realm'],
    partitionBy: 'tuple()',
    shardBy: 'cityHash64(out_addr)',
    engine: 'ReplacingMergeTree(ver)',
    granularity: GRANULE,
  },
  {
    name: 'coverage',
    columns: [
      ['source', 'String'],
      ['start', 'Int64'],
      ['status', 'String'],
      ['`end`', 'Int64'],
      ['ver', 'UInt32'],
    ],
    orderBy: ['source', 'start', 'status'],
    primaryKey: ['source', 'start', 'status'],
    partitionBy: 'tuple()',
    shardBy: 'cityHash64(source)',
    engine: 'ReplacingMergeTree(ver)',
    granularity: GRANULE,
  },
  connectionTable('connection', ['dst_addr', 'start'], 'cityHash64(dst_addr)'),
  connectionTable('connection_by_source', ['realm', 'src_addr', 'start'], 'cityHash64(realm, src_addr)'),
  connectionTable('connection_by_account', ['account', 'start'], 'cityHash64(account)'),
  {
    // Bounds the reader needs and settings, as rows appended and folded at read time.
    name: 'meta',
    columns: [
      ['key', 'String'],
      ['value', 'String'],
      ['ver', 'UInt64'],
    ],
    orderBy: ['key', 'ver'],
    primaryKey: ['key', 'ver'],
    partitionBy: 'tuple()',
    shardBy: 'cityHash64(key)',
    engine: 'MergeTree',
    granularity: 8192,
  },
];

export const TABLE: Readonly<Record<TableName, TableSpec>> = Object.fromEntries(TABLES.map((t) => [t.name, t])) as Record<TableName, TableSpec>;

/** Column names of a table, in insert order (unquoted). */
export function columnNames(t: TableSpec): string[] {
  return t.columns.map(([c]) => c.replace(/`/g, ''));
}

/** The tables partitioned by day of `start` (retention drops their partitions). */
export const DAY_TABLES: readonly TableName[] = ['allocation', 'nat_block', 'nat_session', 'connection', 'connection_by_source', 'connection_by_account'];

/** The connection tables: the same rows in three orders. */
export const CONNECTION_TABLES = ['connection', 'connection_by_source', 'connection_by_account'] as const;

/**
 * The statements that create the store on one host: the database, then each table —
 * `<name>_local` and its Distributed `<name>` with a cluster, `<name>` alone without.
 */
export function createStatements(database: string, cluster: string | null): string[] {
  const out = [`CREATE DATABASE IF NOT EXISTS ${database}`];
  for (const t of TABLES) {
    const local = cluster === null ? t.name : `${t.name}_local`;
    out.push(
      `CREATE TABLE IF NOT EXISTS ${database}.${local} (${t.columns.map(([c, type]) => `${c} ${type}`).join(', ')}) ` +
        `ENGINE = ${t.engine} PARTITION BY ${t.partitionBy} PRIMARY KEY (${t.primaryKey.join(', ')}) ORDER BY (${t.orderBy.join(', ')}) SETTINGS index_granularity = ${t.granularity}`,
    );
    if (cluster !== null) {
      out.push(
        `CREATE TABLE IF NOT EXISTS ${database}.${t.name} AS ${database}.${local} ENGINE = Distributed(${cluster}, ${database}, ${local}, ${t.shardBy})`,
      );
    }
  }
  return out;
}
