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
import Database from 'better-sqlite3';
import { entryHash, GENESIS } from '../../audit/chain.js';
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
}

function entryOf(row: Row): AuditEntry {
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
    records: JSON.parse(row.records) as string[],
    engine: row.engine,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

export interface AuditOpenOptions {
  /** Read the log only (verify, show): the file must exist and hold an audit log. */
  readonly readonly?: boolean;
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

  constructor(file: string, options: AuditOpenOptions = {}) {
    this.#file = file;
    const readonly = options.readonly === true;
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
  #insert: Database.Statement | null = null;

  append(time: number, drafts: readonly AuditDraft[]): readonly AuditEntry[] {
    if (drafts.length === 0) return [];
    const head = (this.#head ??= this.#db.prepare('SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1'));
    const insert = (this.#insert ??= this.#db.prepare(
      `INSERT INTO audit_log (time, action, ref, status, candidate_count, disclosed, request_hash, result_hash, records, engine, prev_hash, hash)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ));
    try {
      return this.#db
        .transaction(() => {
          let prevHash = (head.get() as { hash: string } | undefined)?.hash ?? GENESIS;
          return drafts.map((d): AuditEntry => {
            const body = { ...d, records: [...d.records], time, prevHash };
            const hash = entryHash(body);
            const { lastInsertRowid } = insert.run(time, d.action, d.ref, d.status, d.candidateCount, d.disclosed, d.requestHash, d.resultHash, JSON.stringify(body.records), d.engine, prevHash, hash);
            prevHash = hash;
            return { ...body, seq: Number(lastInsertRowid), hash };
          });
        })
        .immediate();
    } catch (cause) {
      throw new IparError('AUDIT_WRITE_FAILED', `cannot write the audit log in ${this.#file}: ${(cause as Error).message}`, { cause });
    }
  }

  *entries(): Iterable<AuditEntry> {
    for (const row of this.#db.prepare('SELECT * FROM audit_log ORDER BY seq').iterate() as IterableIterator<Row>) yield entryOf(row);
  }

  find(filter: { readonly ref?: string; readonly action?: AuditAction }): AuditEntry[] {
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

  close(): void {
    if (this.#db.open) this.#db.close();
  }
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
