/**
 * `ipar purge`: retention. Deletes the records whose interval ended before a horizon,
 * sets the store's retention horizon (later requests over purged time are flagged
 * BEYOND_RETENTION), and records the purge in the audit log: an entry before (so an
 * interrupted purge still shows) and one after, with the counts.
 */
import { existsSync } from 'node:fs';
import { ENGINE } from '../audit/audited.js';
import { hashJson } from '../audit/hash.js';
import { IparError } from '../problems.js';
import { openAuditLog, readAuditKeySetting } from '../store/sqlite/audit.js';
import { openSqliteStore } from '../store/sqlite/store.js';
import type { AuditDraft } from '../audit/types.js';
import { formatInstant, parseInstant } from '../time.js';
import { readPrivateKey } from './audit.js';
import type { Io } from './io.js';

export interface PurgeCommand {
  readonly db: string;
  /** ISO instant: records that ended at or before it go. */
  readonly before: string;
  /** Audit database; the store itself when absent. */
  readonly audit?: string;
  /** Clock (epoch ms) for the entries and the "not in the future" check; `Date.now` when absent. */
  readonly now?: () => number;
  /** Sign the purge's entries with this private key; absent: the store's `auditKey` setting, if any. */
  readonly auditKey?: string;
}

export async function runPurge(cmd: PurgeCommand, io: Io): Promise<number> {
  const now = cmd.now ?? Date.now;
  const parsed = parseInstant(cmd.before);
  if (!parsed.ok) throw new IparError('USAGE', `--before: ${parsed.message}`);
  const before = parsed.value.ms;
  if (before > now()) throw new IparError('USAGE', `--before ${formatInstant(before)} is in the future: that would purge records still being kept`);
  if (!existsSync(cmd.db)) throw new IparError('STORE_NOT_FOUND', `no store at ${cmd.db}`);
  const store = openSqliteStore(cmd.db);
  try {
    // Signed like resolve's entries, or a signed log would fail verify --public-key at the purge.
    const keyFile = cmd.auditKey ?? readAuditKeySetting(cmd.db);
    const audit = openAuditLog(cmd.audit ?? cmd.db, keyFile === null ? {} : { key: readPrivateKey(keyFile) });
    try {
      const request = { purge: { before: formatInstant(before) } };
      const entry = (status: string, result: unknown): AuditDraft => ({
        action: 'purge',
        ref: null,
        status,
        candidateCount: 0,
        disclosed: 0,
        requestHash: hashJson(request),
        resultHash: hashJson(result),
        records: [],
        engine: ENGINE,
      });
      audit.append(now(), [entry('started', null)]);
      const { deleted } = await store.purge(before);
      const { retentionHorizon } = await store.settings();
      const summary = { before: formatInstant(before), deleted, retentionHorizon: retentionHorizon === null ? null : formatInstant(retentionHorizon) };
      audit.append(now(), [entry('done', summary)]);
      io.stdout.write(JSON.stringify(summary) + '\n');
      const total = Object.values(deleted).reduce((a, b) => a + b, 0);
      io.stderr.write(`purge: ${total} records that ended before ${summary.before} deleted; retention horizon ${summary.retentionHorizon}\n`);
      return 0;
    } finally {
      audit.close();
    }
  } finally {
    store.close();
  }
}
