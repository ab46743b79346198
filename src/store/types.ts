/**
 * The narrow store interface the matcher depends on (STYLE.md item 4, DESIGN.md "Scale
 * path"). Every question is batch-shaped — "these addresses, ports and windows: which
 * records cover them?" — and answered in one round trip per batch, so a distributed
 * backend can serve the same matcher unchanged. Nothing here knows about SQLite.
 */
import type { Address } from '../address.js';
import type {
  AddressSpaceRecord,
  AllocationRecord,
  CanonicalRecord,
  ConnectionRecord,
  CoverageRecord,
  NatBlockRecord,
  NatDeterministicRecord,
  NatSessionRecord,
  RecordKind,
  SubscriberType,
} from '../records.js';
import type { BudgetName, WorkBudget } from '../budget.js';
import type { Window } from '../time.js';

/** A stored record carries a stable id built from its natural key (for evidence and audit). */
export type Stored<R> = R & { readonly id: string };

export type StoredAllocation = Stored<AllocationRecord>;
export type StoredNatBlock = Stored<NatBlockRecord>;
export type StoredNatSession = Stored<NatSessionRecord>;
export type StoredNatDeterministic = Stored<NatDeterministicRecord>;
export type StoredCoverage = Stored<CoverageRecord>;
export type StoredConnection = Stored<ConnectionRecord>;

/**
 * A share of rows that several queries of one call draw on together (a request's row
 * budget, src/budget.ts). Within one call, the answers to the queries that carry the same
 * object hold together exactly `min(n, limit + 1)` rows, `n` being the rows they cover:
 * all of them when `n <= limit`; past it `limit + 1` of them (which ones is unspecified),
 * so the caller knows the limit was passed and the store read little more than `limit`
 * rows for them. Queries without one are answered in full.
 */
export interface RowLimit {
  readonly limit: number;
}

/** Allocations on an address (or on prefixes containing it) in a realm, overlapping a window. */
export interface AllocationQuery {
  readonly address: Address;
  /** Inside realm for addresses behind a CGNAT; `null` for public space. */
  readonly realm: string | null;
  readonly window: Window;
  /** The row limit this query shares (see {@link RowLimit}). */
  readonly rows?: RowLimit;
}

/** NAT records on an outside address (and port, when known) overlapping a window. */
export interface NatQuery {
  readonly outside: Address;
  /** `null`: every block or session on the address in the window. */
  readonly port: number | null;
  readonly window: Window;
  /** The row limit this query shares (see {@link RowLimit}). */
  readonly rows?: RowLimit;
}

/** Deterministic NAT configurations whose outside prefix holds an address in a window. */
export interface DeterministicQuery {
  readonly outside: Address;
  readonly window: Window;
  /** The row limit this query shares (see {@link RowLimit}). */
  readonly rows?: RowLimit;
}

/**
 * Connection evidence to a destination (an address, or every address of a prefix)
 * overlapping a window: connection records, or NAT sessions that logged the destination.
 */
export interface DestinationQuery {
  readonly destination: Address;
  readonly window: Window;
}

/** Connection evidence from a subject overlapping a window: by account, or by source (inside) address in a realm. */
export type SourceQuery =
  | { readonly account: string; readonly window: Window }
  | { readonly source: Address; /** `null` for public space. */ readonly realm: string | null; readonly window: Window };

/** Coverage gaps of one source (or of any source, `null`) overlapping a window. */
export interface CoverageQuery {
  readonly source: string | null;
  readonly window: Window;
}

/** Store-wide settings that risk analysis needs (issue 4 fills more of them). */
export interface StoreSettings {
  /** Records before this instant (epoch ms) have been purged; `null` when nothing was. */
  readonly retentionHorizon: number | null;
  /** Declared clock error per source or realm, in milliseconds. */
  readonly clockErrorMs: Readonly<Record<string, number>>;
  /** The longest closed record the store holds, in milliseconds (how far back a record may reach). */
  readonly longestRecordMs: number;
  /** The work budget limits set on this store (`budget.*` settings); absent when none is, and the defaults apply. */
  readonly budget?: Partial<WorkBudget>;
  /**
   * The jurisdiction's time zone (IANA), default `Europe/London`: an hour either side of a
   * time written with an offset is a plausible reading where this zone is an hour from
   * that offset at that date (matcher/severity.ts).
   */
  readonly jurisdictionZone: string;
  /** Per source or realm, the instant (epoch ms) it changed its time-zone format without notice. */
  readonly zoneChangeAt: Readonly<Record<string, number>>;
  /**
   * The longest window one layer of a service-users request (or a connection-records
   * request) may span, in milliseconds (Condition D: the period no longer than
   * necessary); `null` when not set: {@link DEFAULT_MAX_LAYER_WINDOW_MS} applies.
   */
  readonly maxLayerWindowMs: number | null;
  /**
   * NAT realms whose records carry no destination (port blocks, deterministic NAT,
   * sessions logged without one, as RFC 6888 advises): connections through them cannot
   * be found by destination.
   */
  readonly realmsWithoutDestination: readonly string[];
}

/** The per-layer window bound when the store sets none: one day. */
export const DEFAULT_MAX_LAYER_WINDOW_MS = 86_400_000;

export type RecordCounts = Readonly<Record<RecordKind, number>>;

/**
 * A stretch in which a source that usually logs fell silent (src/store/core/coverage.ts):
 * from its last event before to its first event after, with the evidence — the rates
 * (events a minute) in the hour before and after, and the usual rate at that time of day.
 */
export interface InferredGap {
  readonly source: string;
  readonly start: number;
  readonly end: number;
  readonly rateBefore: number;
  readonly rateAfter: number;
  readonly usualRate: number;
  /** Events the lowest of those rates expects over the silence (the detector's evidence). */
  readonly expectedEvents: number;
}

/**
 * What the store knows a source covered: the span of log time its inputs covered (first
 * and last event), how many events and ingests, the rates at the span's edges (to judge a
 * silence between two ingests) and its inferred gaps. A source is an allocation `source`
 * or a NAT realm, as the records name it.
 */
export interface SourceCoverage {
  readonly source: string;
  readonly role: 'allocation' | 'nat';
  readonly first: number;
  readonly last: number;
  readonly events: number;
  readonly ingests: number;
  /** Events a minute in the first and last hour of the span. */
  readonly rateAtFirst: number;
  readonly rateAtLast: number;
  readonly inferredGaps: readonly InferredGap[];
}

/** Everything `ipar coverage` shows: each source's span and gaps, the declared gaps, the retention horizon. */
export interface CoverageListing {
  readonly sources: readonly SourceCoverage[];
  readonly declaredGaps: readonly StoredCoverage[];
  readonly retentionHorizon: number | null;
}

/** What the matcher may ask. Each method answers a batch: one result per query, same order. */
export interface StoreReader {
  /**
   * Requests the matcher should resolve together at most (absent: the whole batch it is
   * given). A local store answers a small batch as cheaply per request as a large one and
   * keeps the matcher's working set small; a network store wants few, large round trips.
   */
  readonly preferredBatch?: number;
  /** The most specific address-space record whose prefix holds each address, or `null`. */
  classify(addresses: readonly Address[]): Promise<readonly (AddressSpaceRecord | null)[]>;
  allocations(queries: readonly AllocationQuery[]): Promise<readonly (readonly StoredAllocation[])[]>;
  natBlocks(queries: readonly NatQuery[]): Promise<readonly (readonly StoredNatBlock[])[]>;
  natSessions(queries: readonly NatQuery[]): Promise<readonly (readonly StoredNatSession[])[]>;
  natDeterministic(queries: readonly DeterministicQuery[]): Promise<readonly (readonly StoredNatDeterministic[])[]>;
  coverageGaps(queries: readonly CoverageQuery[]): Promise<readonly (readonly StoredCoverage[])[]>;
  /** Connection records to a destination (address or prefix) overlapping each window. */
  connectionsTo(queries: readonly DestinationQuery[]): Promise<readonly (readonly StoredConnection[])[]>;
  /** Connection records of an account, or from a source address in a realm, overlapping each window. */
  connectionsFrom(queries: readonly SourceQuery[]): Promise<readonly (readonly StoredConnection[])[]>;
  /** NAT sessions that logged a destination in the address or prefix, overlapping each window. */
  natSessionsTo(queries: readonly DestinationQuery[]): Promise<readonly (readonly StoredNatSession[])[]>;
  /** NAT sessions of an inside address in a realm, overlapping each window (only the `source` form of {@link SourceQuery}). */
  natSessionsFrom(queries: readonly Extract<SourceQuery, { source: Address }>[]): Promise<readonly (readonly StoredNatSession[])[]>;
  /** Subscriber types of the accounts that have a subscriber record. */
  subscriberTypes(accounts: readonly string[]): Promise<ReadonlyMap<string, SubscriberType>>;
  settings(): Promise<StoreSettings>;
  counts(): Promise<RecordCounts>;
  /** What each source covered (spans and inferred gaps), read fresh on every call. */
  sourceCoverage(): Promise<readonly SourceCoverage[]>;
  /** Release the store (a network store closes its connections: await it). */
  close(): void | Promise<void>;
}

/** Per-kind tallies of one write: records newly stored or updated, and exact repeats. */
export interface WriteSummary {
  readonly stored: Readonly<Partial<Record<RecordKind, number>>>;
  readonly unchanged: Readonly<Partial<Record<RecordKind, number>>>;
  /**
   * Per record of the batch, in order (provisional records not included): 1 when it was
   * stored or updated, 0 when it was an exact repeat. What an ingest folds into the
   * sources' coverage counts only the former (a re-ingest adds no events).
   */
  readonly changed: Uint8Array;
}

/**
 * Bulk loading. SQLite's `write` is one transaction (all of the batch or none) and
 * returns at once; a network store's returns a promise (await either).
 */
export interface StoreWriter {
  write(records: readonly CanonicalRecord[], options?: WriteOptions): WriteSummary | Promise<WriteSummary>;
  /**
   * The pairing state a vendor importer left for `scope` (format and realm) in its last
   * run, or `null`: intervals still open, or closed but waiting for late lines, that a
   * later file's lines may close, extend or pair (issue 15). Absent: the backend keeps
   * none, and each run pairs alone.
   */
  pairingState?(scope: string): PairingSnapshot | Promise<PairingSnapshot>;
  /**
   * Where `ipar ingest --follow` stopped reading each input of `scope`, as the last write
   * with {@link WriteOptions.checkpoints} left it. Absent: the backend cannot commit a
   * checkpoint with its records (no transactions), and refuses to follow.
   */
  followCheckpoints?(scope: string): readonly FollowCheckpoint[] | Promise<readonly FollowCheckpoint[]>;
  /**
   * Fold what one ingest saw of each source into the stored coverage
   * ({@link mergeSourceCoverage} in src/store/core/coverage.ts, the same on every backend).
   */
  recordCoverage(seen: readonly SourceCoverage[]): void | Promise<void>;
  close(): void | Promise<void>;
}

/** An importer scope's pairing state as a run reads it, with the generation it guards against a concurrent run with. */
export interface PairingSnapshot {
  /** The state the last run saved (opaque text), `null` when none is (or nothing was left open). */
  readonly state: string | null;
  /** How many runs have saved a state for the scope (0: none): the run hands it back with its last write. */
  readonly generation: number;
}

/**
 * What a run's last write carries besides records: the importer's pairing state, saved in
 * the same transaction as the provisional records it describes.
 */
export interface WriteOptions {
  readonly pairing?: {
    readonly scope: string;
    /** The new state (opaque text), `null` when nothing is left open. */
    readonly state: string | null;
    /**
     * The records the new state stands for now, stored as pending: a later run's version
     * of each replaces it, whatever it says (open ones carry `lastSeen`).
     */
    readonly provisional: readonly CanonicalRecord[];
    /**
     * The provisional records the previous state had stored: removed first when they are
     * still pending, so a record whose start moved leaves no copy.
     */
    readonly retract: readonly CanonicalRecord[];
    /**
     * The generation read with the state ({@link PairingSnapshot}): when another run has
     * saved a state for the scope since, the write fails with `PAIRING_CONFLICT` and
     * stores nothing. Absent: not checked.
     */
    readonly generation?: number;
  };
  /**
   * A follower's read positions, committed with the records read up to them: `set`
   * replaces the checkpoint of each file (by device and inode), `drop` removes those of
   * files that are gone and were read to their end.
   */
  readonly checkpoints?: {
    readonly scope: string;
    readonly set: readonly FollowCheckpoint[];
    readonly drop: readonly Pick<FollowCheckpoint, 'device' | 'inode'>[];
  };
  /**
   * Fold what the batch's newly stored records saw of their sources into the stored
   * coverage, in the same transaction (records stored before count once: a line read
   * again adds no events, as for `ingest`).
   */
  readonly coverage?: true;
}

/**
 * How far a follower has read one file: the bytes and lines of complete lines consumed.
 * A file is known by device and inode (a rename keeps them), checked by the digest of its
 * first bytes (an inode number reused by a new file does not match).
 */
export interface FollowCheckpoint {
  /** `st_dev` and `st_ino` in decimal (they may exceed 2^53). */
  readonly device: string;
  readonly inode: string;
  /** The path it was last read under. */
  readonly path: string;
  readonly offset: number;
  readonly line: number;
  /** SHA-256 (hex) of the file's first `headBytes` bytes. */
  readonly head: string;
  readonly headBytes: number;
}

/**
 * What `ipar export` asks for: records of these kinds whose interval overlaps the window
 * (an open record runs forever). Records without an interval — address space and
 * subscribers — hold at every time and are always given when their kind is asked for.
 */
export interface ExportQuery {
  readonly kinds: readonly RecordKind[];
  readonly window: Window;
}

/** A stored record of any kind, as an export gives it. */
export type StoredRecord = CanonicalRecord & { readonly id?: string };

/**
 * Reading a store back out, whichever backend (`ipar export`): batches of records, kind
 * by kind in `RECORD_KINDS` order, each kind in its table's key order (the backend's; a
 * comparison of two stores compares the records as sets). Memory is one batch.
 *
 * @example
 * for await (const batch of store.exportRecords({ kinds: ['allocation'], window: { start: -Infinity, end: Infinity } })) …
 */
export interface StoreExporter {
  exportRecords(query: ExportQuery): AsyncIterable<readonly StoredRecord[]>;
}

/** A store setting: the retention horizon, the per-layer window bound of connection requests, the jurisdiction's zone, the clock error or zone change of a source or realm, or a work budget limit. */
export type SettingKey = 'retentionHorizon' | 'maxLayerWindow' | 'jurisdictionZone' | `clockError.${string}` | `zoneChange.${string}` | `budget.${BudgetName}`;
/** A setting's value: epoch ms or milliseconds, except `jurisdictionZone`, an IANA zone name. */
export type SettingValue = number | string;

/** What a purge removed. */
export interface PurgeSummary {
  /** Records deleted, by kind (a backend that drops whole partitions does not count them). */
  readonly deleted: Readonly<Partial<Record<RecordKind, number>>>;
  /** Whole partitions dropped (a backend that deletes record by record drops none). */
  readonly partitions: readonly { readonly table: string; readonly partition: string }[];
}

/**
 * Running a store, whichever backend: its settings, retention, and what it covers. Like
 * {@link StoreWriter}'s `write`, SQLite's methods answer at once and a network store's
 * return promises (await either).
 *
 * @example
 * await store.setSetting('clockError.dhcp', 2000);
 * const { deleted } = await store.purge(Date.parse('2026-01-01T00:00:00Z'));
 */
export interface StoreAdmin {
  settings(): Promise<StoreSettings>;
  /** Set a setting; `null` removes it. */
  setSetting(key: SettingKey, value: SettingValue | null): void | Promise<void>;
  /**
   * Retention: remove the closed records that ended at or before `before` (open records,
   * address space and subscribers are kept) and raise the retention horizon to it, so a
   * later request over purged time is flagged BEYOND_RETENTION, never silently "none".
   */
  purge(before: number): PurgeSummary | Promise<PurgeSummary>;
  /** Coverage: how many records of each kind the store holds. */
  counts(): Promise<RecordCounts>;
  /** Coverage: each source's span and gaps (declared and inferred), and the retention horizon (`ipar coverage`). */
  coverage(): Promise<CoverageListing>;
}
