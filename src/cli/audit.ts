/** `ipar audit verify` and `ipar audit show`: check the audit log's hash chain; print entries. */
import { verifyChain } from '../audit/chain.js';
import { formatInstant } from '../time.js';
import { openAuditLog } from '../store/sqlite/audit.js';
import type { AuditAction, AuditEntry } from '../audit/types.js';
import { writeOut, type Io } from './io.js';

export interface AuditVerifyCommand {
  /** The store, or the separate audit database. */
  readonly db: string;
  /** A head hash recorded earlier (outside the log) that must still be in it. */
  readonly head?: string;
}

/** An entry as `ipar audit show` prints it (times in ISO form). */
export function entryJson(e: AuditEntry): Record<string, unknown> {
  return { ...e, time: formatInstant(e.time) };
}

/** Exit 0 when the chain is intact, 1 naming the first entry changed, removed or reordered. */
export async function runAuditVerify(cmd: AuditVerifyCommand, io: Io): Promise<number> {
  const log = openAuditLog(cmd.db, { readonly: true });
  try {
    const report = verifyChain(log.entries(), (h) => log.seqOfHash(h), cmd.head);
    await writeOut(io, JSON.stringify(report) + '\n');
    if (report.intact) {
      io.stderr.write(`audit: ${report.entries} entries, chain intact${report.head === null ? '' : `, head ${report.head}`}\n`);
      return 0;
    }
    io.stderr.write(`audit: entry ${report.seq}: ${report.reason}: ${report.message}\n`);
    return 1;
  } finally {
    log.close();
  }
}

export interface AuditShowCommand {
  readonly db: string;
  readonly ref?: string;
  readonly action?: AuditAction;
}

/** Print the matching entries as NDJSON; exit 1 when there are none. */
export async function runAuditShow(cmd: AuditShowCommand, io: Io): Promise<number> {
  const log = openAuditLog(cmd.db, { readonly: true });
  try {
    const entries = log.find({ ...(cmd.ref === undefined ? {} : { ref: cmd.ref }), ...(cmd.action === undefined ? {} : { action: cmd.action }) });
    for (const e of entries) await writeOut(io, JSON.stringify(entryJson(e)) + '\n');
    if (entries.length === 0) io.stderr.write('audit: no entries match\n');
    return entries.length === 0 ? 1 : 0;
  } finally {
    log.close();
  }
}
