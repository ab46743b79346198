/** `ipar backup --db FILE --to FILE`: an online copy of a store in use (src/store/backup.ts). */
import { backupDatabase } from '../store/sqlite/backup.js';
import { writeOut, type Io } from './io.js';

export async function runBackup(cmd: { readonly db: string; readonly to: string }, io: Io): Promise<number> {
  const pages = await backupDatabase(cmd.db, cmd.to);
  await writeOut(io, JSON.stringify({ db: cmd.db, to: cmd.to, pages }) + '\n');
  io.stderr.write(`backup: ${pages} pages of ${cmd.db} copied to ${cmd.to}\n`);
  return 0;
}
