/**
 * The audit log in SQLite (table `audit_log`, migration 2): in the store itself, or in a
 * separate audit database (`--audit FILE`) when the store is read-only. Uses the driver's
 * `Database` (open, pragma, exec, transaction) and `Statement` (run, get, all, iterate).
 *
 * Entries are appended in an IMMEDIATE transaction that reads the head and writes after
 * it, so two processes auditing to one file still make one chain. `synchronous = FULL`:
 * an entry that was written survives a power cut (results go out only after it is).
 */
import { existsSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import Database from 'better-sqlite3';
import { entryHash, GENESIS } from '../../audit/chain.js';
import { signEntry, type AuditHead, type StoredAuditEntry } from '../../audit/signing.js';
import { IparError } from '../../problems.js';
import { createPrivateFile } from './files.js';
import { AUDIT_LOG_DDL } from './schema.js';
import type { AuditAction, AuditDraft, AuditEntry, AuditLog } from '../../audit/types.js';

interface Row {
  seq: number;
  time: number;
  action: AuditAction;
  ref: string | null;
  status: string;
  candidate_count: number;
  disclosed: number;
  request_hash: string;
  result_hash: string;
  records: string;
  engine: string;
  prev_hash: string;
  hash: string;
  /** Absent in a log written before entries were signed (issue 20). */
  signature?: string | null;
}

/** The records column as stored: a JSON array of strings, or why it is not one. */
function recordsOf(text: unknown): { records: string[]; unreadable?: string } {
  try {
    const value = JSON.parse(String(text)) as unknown;
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return { records: value as string[] };
  } catch {
    // reported below
  }
  return { records: [], unreadable: `its records column is not a JSON array of ids: ${JSON.stringify(String(text).slice(0, 60))}` };
}

function entryOf(row: Row): StoredAuditEntry {
  const { records, unreadable } = recordsOf(row.records);
  return {
    seq: row.seq,
    time: row.time,
    action: row.action,
    ref: row.ref,
    status: row.status,
    candidateCount: row.candidate_count,
    disclosed: row.disclosed,
    requestHash: row.request_hash,
    resultHash: row.result_hash,
    records,
    engine: row.engine,
    prevHash: row.prev_hash,
    hash: row.hash,
    signature: row.signature ?? null,
    ...(unreadable === undefined ? {} : { unreadable }),
  };
}

export interface AuditOpenOptions {
  /** Read the log only (verify, show): the file must exist and hold an audit log. */
  readonly readonly?: boolean;
  /** Sign every entry appended with this Ed25519 private key (src/audit/signing.ts). */
  readonly key?: KeyObject;
}

/**
 * A hash-chained audit log in one SQLite file.
 *
 * @example
 * const audit = openAuditLog('operator.db');
 * audit.append(Date.now(), drafts);
 * audit.close();
 */
export class SqliteAuditLog implements AuditLog {
  readonly #db: Database.Database;
  readonly #file: string;
  readonly #key: KeyObject | null;
  readonly #readonly: boolean;

  constructor(file: string, options: AuditOpenOptions = {}) {
    this.#file = file;
    this.#key = options.key ?? null;
    const readonly = options.readonly === true;
    this.#readonly = readonly;
    if (readonly && !existsSync(file)) throw new IparError('AUDIT_NOT_FOUND', `no audit log at ${file}`);
    try {
      if (!readonly) createPrivateFile(file);
      this.#db = new Database(file, { readonly, fileMustExist: readonly });
    } catch (cause) {
      throw new IparError(readonly ? 'AUDIT_NOT_FOUND' : 'AUDIT_UNAVAILABLE', `cannot open the audit log ${file}: ${(cause as Error).message}`, { cause });
    }
    try {
      if (readonly) {
        const table = this.#db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit_log'").get();
        if (table === undefined) throw new IparError('AUDIT_NOT_FOUND', `${file} holds no audit log`);
        return;
      }
      this.#db.pragma('journal_mode = WAL');
      this.#db.pragma('synchronous = FULL');
      this.#db.exec(AUDIT_LOG_DDL);
      addSignatureColumn(this.#db);
      // SQLite opens a file it may not write read-only without saying so, and a no-op
      // CREATE … IF NOT EXISTS succeeds on it: probe with a statement that needs a write
      // transaction, so an audit log that cannot be written is refused before anything
      // is resolved.
      this.#db.exec('BEGIN IMMEDIATE');
      try {
        this.#db.exec('DELETE FROM audit_log WHERE 0');
      } finally {
        this.#db.exec('ROLLBACK');
      }
    } catch (error) {
      this.#db.close();
      if (error instanceof IparError) throw error;
      throw new IparError('AUDIT_UNAVAILABLE', `cannot write the audit log in ${file}: ${(error as Error).message}`, { cause: error });
    }
  }

  #head: Database.Statement | null = null;
  #next: Database.Statement | null = null;
  #insert: Database.Statement | null = null;

  /** Whether entries appended here are signed. */
  get signing(): boolean {
    return this.#key !== null;
  }

  append(time: number, drafts: readonly AuditDraft[]): readonly StoredAuditEntry[] {
    if (drafts.length === 0) return [];
    const head = (this.#head ??= this.#db.prepare('SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1'));
    // The number the next entry gets, as AUTOINCREMENT would give it: known before the
    // insert, so it can be signed (inside the IMMEDIATE transaction nobody else appends).
    const next = (this.#next ??= this.#db.prepare(
      "SELECT max(coalesce((SELECT max(seq) FROM audit_log), 0), coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'), 0)) + 1 AS seq",
    ));
    const insert = (this.#insert ??= this.#db.prepare(
      `INSERT INTO audit_log (seq, time, action, ref, status, candidate_count, disclosed, request_hash, result_hash, records, engine, prev_hash, hash, signature)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ));
    const key = this.#key;
    try {
      return this.#db
        .transaction(() => {
          let prevHash = (head.get() as { hash: string } | undefined)?.hash ?? GENESIS;
          let seq = (next.get() as { seq: number }).seq;
          return drafts.map((d): StoredAuditEntry => {
            const body = { ...d, records: [...d.records], time, prevHash };
            const hash = entryHash(body);
            const signature = key === null ? null : signEntry(key, { seq, hash, resultHash: d.resultHash });
            insert.run(
              seq,
              time,
              d.action,
              d.ref,
              d.status,
              d.candidateCount,
              d.disclosed,
              d.requestHash,
              d.resultHash,
              JSON.stringify(body.records),
              d.engine,
              prevHash,
              hash,
              signature,
            );
            prevHash = hash;
            return { ...body, seq: seq++, hash, signature };
          });
        })
        .immediate();
    } catch (cause) {
      throw new IparError('AUDIT_WRITE_FAILED', `cannot write the audit log in ${this.#file}: ${(cause as Error).message}`, { cause });
    }
  }

  /** The last entry: what `ipar audit head` prints; `null` for an empty log. */
  head(): AuditHead | null {
    const row = this.#db.prepare('SELECT * FROM audit_log ORDER BY seq DESC LIMIT 1').get() as Row | undefined;
    return row === undefined ? null : { seq: row.seq, hash: row.hash, signature: row.signature ?? null };
  }

  *entries(): Iterable<StoredAuditEntry> {
    for (const row of this.#db.prepare('SELECT * FROM audit_log ORDER BY seq').iterate() as IterableIterator<Row>) yield entryOf(row);
  }

  find(filter: { readonly ref?: string; readonly action?: AuditAction }): StoredAuditEntry[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.ref !== undefined) (where.push('ref = ?'), params.push(filter.ref));
    if (filter.action !== undefined) (where.push('action = ?'), params.push(filter.action));
    const sql = `SELECT * FROM audit_log${where.length === 0 ? '' : ' WHERE ' + where.join(' AND ')} ORDER BY seq`;
    return (this.#db.prepare(sql).all(...params) as Row[]).map(entryOf);
  }

  seqOfHash(hash: string): number | null {
    const row = this.#db.prepare('SELECT seq FROM audit_log WHERE hash = ? ORDER BY seq LIMIT 1').get(hash) as { seq: number } | undefined;
    return row?.seq ?? null;
  }

  /**
   * Close the log. A writer first checkpoints the WAL into the database file and
   * truncates it (issue 20): nothing of the audit is left only in `FILE-wal`, so a copy
   * of the file alone holds every entry (when other connections still read the file,
   * SQLite would otherwise leave the WAL to the last of them, which may be read-only).
   */
  close(): void {
    if (!this.#db.open) return;
    try {
      if (!this.#readonly) this.#db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      this.#db.close();
    }
  }
}

/** Logs written before issue 20 have no `signature` column: add it (NULL: unsigned). */
function addSignatureColumn(db: Database.Database): void {
  const columns = db.pragma('table_info(audit_log)') as { name: string }[];
  if (!columns.some((c) => c.name === 'signature')) db.exec('ALTER TABLE audit_log ADD COLUMN signature TEXT');
}

/**
 * Open an audit log: for writing (created, owner-only, if missing; `AUDIT_UNAVAILABLE`
 * when it cannot be written) or, with `readonly`, for reading (`AUDIT_NOT_FOUND`).
 *
 * @example
 * const audit = openAuditLog('audit.db');
 */
export function openAuditLog(file: string, options: AuditOpenOptions = {}): SqliteAuditLog {
  return new SqliteAuditLog(file, options);
}

/** The store setting that names the audit signing key (`ipar settings --audit-key FILE`). */
export const AUDIT_KEY_SETTING = 'setting.auditKey';

/**
 * The audit key file a SQLite store names in its settings, or `null` (no such setting,
 * or not a SQLite store file).
 *
 * @example
 * readAuditKeySetting('operator.db'); // '/etc/ipar/audit.key'
 */
export function readAuditKeySetting(file: string): string | null {
  if (!existsSync(file)) return null;
  let db: Database.Database | null = null;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    const row = db.prepare('SELECT value FROM meta WHERE key = ?').get(AUDIT_KEY_SETTING) as { value: string } | undefined;
    return row?.value ?? null;
  } catch {
    return null; // not a store (a separate audit database, or no meta table)
  } finally {
    db?.close();
  }
}

/** Name the audit key file in a SQLite store's settings (`null` removes it). */
export function writeAuditKeySetting(file: string, keyFile: string | null): void {
  const db = new Database(file, { fileMustExist: true });
  try {
    if (keyFile === null) db.prepare('DELETE FROM meta WHERE key = ?').run(AUDIT_KEY_SETTING);
    else db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(AUDIT_KEY_SETTING, keyFile);
  } catch (cause) {
    throw new IparError('STORE_WRITE_FAILED', `cannot set the audit key in ${file}: ${(cause as Error).message}`, { cause });
  } finally {
    db.close();
  }
}
