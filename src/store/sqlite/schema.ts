/**
 * The SQLite schema, as forward migrations indexed by `PRAGMA user_version`.
 * Layout chosen from ../shared/PERFORMANCE.md: WITHOUT ROWID tables clustered on
 * (address, start) so "records on A overlapping W" is one B-tree range; open records
 * (end NULL) get a small partial index so the range can be bounded by the longest
 * closed record. Addresses are stored as the 16-byte key with the IPv4-mapped prefix
 * dropped (4 bytes for IPv4): same order within a family, 12 bytes less a row.
 * Names (realm, account, source) and device identifiers are interned into small tables.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: the canonical record kinds.
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE realm (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
  INSERT INTO realm (id, name) VALUES (0, '');
  CREATE TABLE account (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, type TEXT);
  CREATE TABLE source (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
  CREATE TABLE device (
    id INTEGER PRIMARY KEY,
    imsi TEXT NOT NULL, msisdn TEXT NOT NULL, imei TEXT NOT NULL, mac TEXT NOT NULL,
    UNIQUE (imsi, msisdn, imei, mac)
  );
  INSERT INTO device (id, imsi, msisdn, imei, mac) VALUES (0, '', '', '', '');

  CREATE TABLE address_space (
    addr BLOB NOT NULL, plen INTEGER NOT NULL, role TEXT NOT NULL, realm INTEGER NOT NULL,
    PRIMARY KEY (addr, plen)
  ) WITHOUT ROWID;

  CREATE TABLE allocation (
    realm INTEGER NOT NULL, addr BLOB NOT NULL, plen INTEGER NOT NULL, start INTEGER NOT NULL, account INTEGER NOT NULL,
    "end" INTEGER, source INTEGER NOT NULL, end_inferred INTEGER NOT NULL, device INTEGER NOT NULL, session_id TEXT,
    PRIMARY KEY (realm, addr, plen, start, account)
  ) WITHOUT ROWID;
  CREATE INDEX allocation_open ON allocation (realm, addr, plen, start) WHERE "end" IS NULL;

  CREATE TABLE nat_block (
    out_addr BLOB NOT NULL, port_first INTEGER NOT NULL, start INTEGER NOT NULL, realm INTEGER NOT NULL,
    in_addr BLOB NOT NULL, protocol TEXT NOT NULL, port_last INTEGER NOT NULL, "end" INTEGER, end_inferred INTEGER NOT NULL,
    PRIMARY KEY (out_addr, port_first, start, realm, in_addr, protocol)
  ) WITHOUT ROWID;
  CREATE INDEX nat_block_open ON nat_block (out_addr, port_first, start) WHERE "end" IS NULL;

  CREATE TABLE nat_session (
    out_addr BLOB NOT NULL, out_port INTEGER NOT NULL, start INTEGER NOT NULL, protocol TEXT NOT NULL, realm INTEGER NOT NULL,
    in_addr BLOB NOT NULL, in_port INTEGER NOT NULL, dst_addr BLOB NOT NULL, dst_port INTEGER NOT NULL,
    "end" INTEGER, end_inferred INTEGER NOT NULL,
    PRIMARY KEY (out_addr, out_port, start, protocol, realm, in_addr, in_port, dst_addr, dst_port)
  ) WITHOUT ROWID;
  CREATE INDEX nat_session_open ON nat_session (out_addr, out_port, start) WHERE "end" IS NULL;

  CREATE TABLE nat_deterministic (
    out_addr BLOB NOT NULL, plen INTEGER NOT NULL, start INTEGER NOT NULL, realm INTEGER NOT NULL,
    "end" INTEGER, record TEXT NOT NULL,
    PRIMARY KEY (out_addr, plen, start, realm)
  ) WITHOUT ROWID;

  CREATE TABLE coverage (
    source INTEGER NOT NULL, start INTEGER NOT NULL, status TEXT NOT NULL, "end" INTEGER,
    PRIMARY KEY (source, start, status)
  ) WITHOUT ROWID;
  `,
  // 2: the audit log (issue 9): one row per resolution, estimate, refusal and purge, each
  // chained to the one before by hash (src/audit/chain.ts). AUTOINCREMENT so a sequence
  // number is never reused: entries removed from the end leave a gap the next one shows.
  // IF NOT EXISTS: a separate audit file (`--audit FILE`) creates the same table itself.
  `
  CREATE TABLE IF NOT EXISTS audit_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    time INTEGER NOT NULL,
    action TEXT NOT NULL,
    ref TEXT,
    status TEXT NOT NULL,
    candidate_count INTEGER NOT NULL,
    disclosed INTEGER NOT NULL,
    request_hash TEXT NOT NULL,
    result_hash TEXT NOT NULL,
    records TEXT NOT NULL,
    engine TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS audit_log_ref ON audit_log (ref);
  `,
  // 3: sessions on an outside address by start, for lookups without a port (issue 8).
  // The primary key leads with (address, port): without a port only its address part
  // bounds the search, so such a lookup read every session the address ever had and
  // grew with the store's history. (Port blocks need no index for it: the store steps
  // through an address's first ports, a few hundred at most, each a bounded range.)
  `
  CREATE INDEX nat_session_by_start ON nat_session (out_addr, start);
  `,
  // 4 (issue 15): pairing that survives files and runs, and readers that cannot be stale.
  // last_seen: on a record open when exported (end NULL), the last time a line showed it
  // held. pending: the importer's pairing still owns the record (open, or closed but
  // waiting for late lines): a later run's version of it replaces it, whatever it says.
  // pairing: an importer's unfinished intervals per scope (format and realm), replaced by
  // each run in its last write; generation guards against two runs of a scope at once.
  // write_version: bumped by every write transaction of records, settings or purges, so a
  // long-running reader knows when its cached bounds and names went stale (the audit
  // log's commits leave it alone).
  `
  ALTER TABLE allocation ADD COLUMN last_seen INTEGER;
  ALTER TABLE nat_block ADD COLUMN last_seen INTEGER;
  ALTER TABLE nat_session ADD COLUMN last_seen INTEGER;
  ALTER TABLE allocation ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE nat_block ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE nat_session ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;
  CREATE TABLE pairing (scope TEXT PRIMARY KEY, generation INTEGER NOT NULL, state TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE write_version (id INTEGER PRIMARY KEY CHECK (id = 0), value INTEGER NOT NULL);
  INSERT INTO write_version (id, value) VALUES (0, 0);
  `,
  // 5: what each source covered (issue 15): one row a source (an allocation source or a
  // NAT realm), its span, event counts, edge rates and inferred gaps as the JSON of
  // SourceCoverage (src/store/types.ts), folded by src/store/core/coverage.ts.
  `
  CREATE TABLE source_coverage (source TEXT PRIMARY KEY, state TEXT NOT NULL) WITHOUT ROWID;
  `,
  // 6: internet connection records (issue 19): the connection kind, clustered on
  // (destination, start) for "who connected to this service in this window" (9.25,
  // Condition D), with an index by source (realm, address, start) and by account for
  // "what did this subject connect to" (9.7–9.13). Sessions that logged a destination
  // are connection evidence too: indexed by destination and by inside address, each
  // with a partial twin for open sessions (as nat_session_open).
  `
  CREATE TABLE connection (
    dst_addr BLOB NOT NULL, start INTEGER NOT NULL, realm INTEGER NOT NULL, src_addr BLOB NOT NULL, src_port INTEGER NOT NULL,
    dst_port INTEGER NOT NULL, protocol TEXT NOT NULL, "end" INTEGER NOT NULL, account INTEGER NOT NULL,
    bytes_up INTEGER NOT NULL, bytes_down INTEGER NOT NULL, service TEXT NOT NULL,
    PRIMARY KEY (dst_addr, start, realm, src_addr, src_port, dst_port, protocol)
  ) WITHOUT ROWID;
  CREATE INDEX connection_by_source ON connection (realm, src_addr, start);
  CREATE INDEX connection_by_account ON connection (account, start) WHERE account <> 0;
  CREATE INDEX nat_session_by_destination ON nat_session (dst_addr, start) WHERE dst_addr <> x'';
  CREATE INDEX nat_session_destination_open ON nat_session (dst_addr, start) WHERE "end" IS NULL AND dst_addr <> x'';
  CREATE INDEX nat_session_by_inside ON nat_session (realm, in_addr, start);
  CREATE INDEX nat_session_inside_open ON nat_session (realm, in_addr, start) WHERE "end" IS NULL;
  `,
];

/** The audit log's table, for a separate audit database (the same DDL as migration 2). */
export const AUDIT_LOG_DDL = MIGRATIONS[1]!;

/** The schema version this build writes and reads. */
export const SCHEMA_VERSION = MIGRATIONS.length;
