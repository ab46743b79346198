/**
 * Files the store creates are readable by the owner only: they hold who used which
 * address when. SQLite gives a database's -wal and -shm files the database file's own
 * permissions, so creating the database file 0600 covers all three.
 */
import { chmodSync, closeSync, openSync, writeFileSync } from 'node:fs';

/**
 * Create `file` empty with mode 0600 unless it exists (an empty file is an empty SQLite
 * database). `:memory:` and `""` are left alone.
 *
 * @example
 * createPrivateFile('operator.db'); // then open it with SQLite
 */
export function createPrivateFile(file: string): void {
  if (file === ':memory:' || file === '') return;
  try {
    closeSync(openSync(file, 'wx', 0o600));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

/**
 * Write a new file, owner-only (0600), with `text`; refuses (`EEXIST`) to replace one.
 *
 * @example
 * writePrivateFile('keys/audit.key', pem);
 */
export function writePrivateFile(file: string, text: string): void {
  writeFileSync(file, text, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600); // whatever the umask took away, nothing more is given
}
