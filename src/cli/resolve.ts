/** `ipar resolve`: NDJSON requests in, NDJSON results out, in order, streaming. */
import { auditedBatches, type AuditItem } from '../audit/audited.js';
import { sha256 } from '../audit/hash.js';
import { readLines, openInputs, parseJsonLine, type Line } from '../ingest/lines.js';
import { UnreadableRequest } from '../../matcher/plan.js';
import { IparError } from '../problems.js';
import { Progress } from '../progress.js';
import { openAuditLog, type SqliteAuditLog } from '../store/audit.js';
import { isClickHouseSpec, openStore } from '../store/open.js';
import { writeOut, type Io } from './io.js';
import { prettyHeader, prettyRow } from './pretty.js';

export interface ResolveCommand {
  readonly db: string;
  readonly file: string;
  readonly pretty: boolean;
  /** `estimate`: counts and flags only, no identities. */
  readonly estimate?: boolean;
  /** Audit database; the store itself when absent (and then the store file must be writable). */
  readonly audit?: string;
  /** Clock for audit entries (epoch ms); `Date.now` when absent. */
  readonly now?: () => number;
}

/**
 * Requests from NDJSON lines; a line that cannot be read (too long, too deep, not JSON)
 * becomes an {@link UnreadableRequest}, audited with the hash of the line itself.
 */
async function* requestsFrom(lines: AsyncIterable<Line>, lineNumbers: number[]): AsyncGenerator<AuditItem> {
  for await (const { text, line, length } of lines) {
    if (text.trim() === '') continue;
    lineNumbers.push(line);
    const read = parseJsonLine(text, length);
    if (read.ok) yield { request: read.value, chars: text.length };
    else yield { request: new UnreadableRequest([read.problem]), requestHash: sha256(text) };
  }
}

/** The audit log for a run; refuses (exit 2) rather than resolve without one. */
function openAudit(cmd: ResolveCommand): SqliteAuditLog {
  if (cmd.audit === undefined && isClickHouseSpec(cmd.db)) {
    throw new IparError('AUDIT_UNAVAILABLE', `the store ${cmd.db} is not a SQLite file to audit into; give --audit FILE (nothing was resolved)`);
  }
  try {
    return openAuditLog(cmd.audit ?? cmd.db);
  } catch (error) {
    if (!(error instanceof IparError) || cmd.audit !== undefined) throw error;
    throw new IparError(error.code, `${error.message}; nothing was resolved (give --audit FILE to audit to a separate database when the store is read-only)`, { cause: error });
  }
}

export async function runResolve(cmd: ResolveCommand, io: Io): Promise<number> {
  const [input] = await openInputs([cmd.file], io.stdin);
  const store = openStore(cmd.db, { readonly: true });
  let audit: SqliteAuditLog;
  try {
    audit = openAudit(cmd);
  } catch (error) {
    await store.close();
    throw error;
  }
  const progress = new Progress('resolve requests', io.stderr);
  const lineNumbers: number[] = [];
  let done = 0;
  let invalid = 0;
  try {
    if (cmd.pretty) await writeOut(io, prettyHeader());
    const results = auditedBatches(cmd.estimate === true ? 'estimate' : 'resolve', store, audit, requestsFrom(readLines(input!), lineNumbers), { now: cmd.now ?? Date.now });
    for await (const result of results) {
      const line = lineNumbers.shift()!;
      done++;
      if (result.status === 'invalid') {
        invalid++;
        for (const e of result.errors ?? []) io.stderr.write(`${input!.name}:${line}: ${e.field || '(line)'}: ${e.reason}: ${e.message}\n`);
      }
      await writeOut(io, cmd.pretty ? prettyRow(result) : JSON.stringify(result) + '\n');
      progress.tick(done);
    }
    lineNumbers.length = 0;
  } finally {
    progress.done();
    await store.close();
    audit.close();
  }
  io.stderr.write(`${cmd.estimate === true ? 'estimate' : 'resolve'}: ${done} requests, ${invalid} invalid\n`);
  return invalid > 0 ? 1 : 0;
}
