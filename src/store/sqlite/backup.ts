/**
 * Online backup of a SQLite store or audit database (issue 20), with the driver's
 * `Database.backup` (SQLite's backup API): the copy is a consistent snapshot of what is
 * committed, WAL content included, taken while other processes read and write — unlike
 * copying the `.db` file, which misses whatever is still only in `-wal`.
 */
import { existsSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { IparError } from '../../problems.js';
import { createPrivateFile } from './files.js';

/**
 * Copy `from` to `to` (a new file, 0600). Returns the pages copied.
 *
 * @example
 * await backupDatabase('operator.db', '/backup/operator-2026-04-01.db');
 */
export async function backupDatabase(from: string, to: string): Promise<number> {
  if (!existsSync(from)) throw new IparError('STORE_NOT_FOUND', `no database at ${from}`);
  if (existsSync(to)) throw new IparError('BACKUP_EXISTS', `${to} exists: a backup never replaces a file`);
  let db: Database.Database;
  try {
    db = new Database(from, { readonly: true, fileMustExist: true });
  } catch (cause) {
    throw new IparError('STORE_OPEN_FAILED', `cannot open ${from}: ${(cause as Error).message}`, { cause });
  }
  try {
    createPrivateFile(to);
    const { totalPages } = await db.backup(to);
    // The copy is a whole database in its file: no -wal of its own to carry along.
    const copy = new Database(to);
    try {
      copy.pragma('journal_mode = DELETE');
    } finally {
      copy.close();
    }
    return totalPages;
  } catch (cause) {
    rmSync(to, { force: true });
    throw new IparError('BACKUP_FAILED', `backup of ${from} to ${to} failed: ${(cause as Error).message}`, { cause });
  } finally {
    db.close();
  }
}
