/** `ipar resolve`: NDJSON requests in, NDJSON results out, in order, streaming. */
import type { KeyObject } from 'node:crypto';
import { auditedResults, type AuditItem } from '../audit/audited.js';
import { sealedLine, type StoredAuditEntry } from '../audit/signing.js';
import { readLines, openInputs, type Input, type Line } from '../ingest/lines.js';
import { IparError } from '../problems.js';
import { Progress } from '../progress.js';
import { openAuditLog, readAuditKeySetting, type SqliteAuditLog } from '../store/sqlite/audit.js';
import type { AuditEntry } from '../audit/types.js';
import { readPrivateKey } from './audit.js';
import { redactSpec } from '../store/clickhouse/url.js';
import { isClickHouseSpec, openStore } from '../store/open.js';
import { isBlank, oneObjectALine, problemTexts, requestItem } from './batch.js';
import { writeOut, type Io } from './io.js';
import { prettyHeader, prettyRow } from './pretty.js';
import { inWorkers, ResolveWorkers } from './workers.js';

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
  /**
   * Worker threads resolving batches (src/cli/workers.ts); 1, the default here, resolves
   * in this thread. The output and the audit's hashes are the same either way.
   */
  readonly workers?: number;
  /** Sign each audit entry with this Ed25519 private key (PEM file); absent: the store's `auditKey` setting, if any. */
  readonly auditKey?: string;
  /** Append each result line's audit sequence, entry hash and signature (needs a key; not with `pretty`). */
  readonly signResults?: boolean;
  /**
   * Keep each request line and result line of the run (for `--report`); resolves in this
   * thread whatever `workers` says.
   */
  readonly collect?: { readonly requests: string[]; readonly results: string[] };
}

/** Requests from NDJSON lines (blank lines skipped), noting each one's line number. */
async function* requestsFrom(lines: AsyncIterable<Line>, lineNumbers: number[], collect?: string[]): AsyncGenerator<AuditItem> {
  for await (const { text, line, length } of lines) {
    if (isBlank(text)) continue;
    lineNumbers.push(line);
    collect?.push(text);
    yield requestItem(text, length);
  }
}

/** The signing key for a run: `--audit-key`, else the store's `auditKey` setting, else none. */
function signingKey(cmd: ResolveCommand): KeyObject | null {
  const file = cmd.auditKey ?? (isClickHouseSpec(cmd.db) ? null : readAuditKeySetting(cmd.db));
  const key = file === null ? null : readPrivateKey(file);
  if (cmd.signResults === true && key === null)
    throw new IparError('USAGE', '--sign-results needs a signing key: give --audit-key FILE (or set one with ipar settings --audit-key)');
  if (cmd.signResults === true && cmd.pretty) throw new IparError('USAGE', '--sign-results signs NDJSON result lines: not with --pretty');
  return key;
}

/** A result line as printed: with `--sign-results`, sealed with its entry's sequence, hash and signature. */
function printed(cmd: ResolveCommand, line: string, entry: AuditEntry): string {
  if (cmd.signResults !== true) return line + '\n';
  const { seq, hash, signature } = entry as StoredAuditEntry;
  return sealedLine(line, { seq, hash, signature: signature! }) + '\n';
}

/** The audit log for a run; refuses (exit 2) rather than resolve without one. */
function openAudit(cmd: ResolveCommand): SqliteAuditLog {
  if (cmd.audit === undefined && isClickHouseSpec(cmd.db)) {
    throw new IparError('AUDIT_UNAVAILABLE', `the store ${redactSpec(cmd.db)} is not a SQLite file to audit into; give --audit FILE (nothing was resolved)`);
  }
  const key = signingKey(cmd);
  try {
    return openAuditLog(cmd.audit ?? cmd.db, key === null ? {} : { key });
  } catch (error) {
    if (!(error instanceof IparError) || cmd.audit !== undefined) throw error;
    throw new IparError(error.code, `${error.message}; nothing was resolved (give --audit FILE to audit to a separate database when the store is read-only)`, {
      cause: error,
    });
  }
}

/**
 * Resolve (or estimate) a file or stdin: results on stdout in input order, each batch
 * audited before it is printed, invalid requests reported on stderr as `file:line: …`.
 * Returns the exit code (0, or 1 when some request was invalid); throws on a fault.
 *
 * @example
 * const code = await runResolve({ db: 'operator.db', file: 'requests.ndjson', pretty: false, workers: 2 }, processIo);
 */
export async function runResolve(cmd: ResolveCommand, io: Io): Promise<number> {
  const [input] = await openInputs([cmd.file], io.stdin);
  const workers = cmd.workers ?? 1;
  const { done, invalid } = workers > 1 && cmd.collect === undefined ? await inWorkerThreads(cmd, io, input!, workers) : await inThisThread(cmd, io, input!);
  io.stderr.write(`${cmd.estimate === true ? 'estimate' : 'resolve'}: ${done} requests, ${invalid} invalid\n`);
  return invalid > 0 ? 1 : 0;
}

interface Counts {
  readonly done: number;
  readonly invalid: number;
}

async function inThisThread(cmd: ResolveCommand, io: Io, input: Input): Promise<Counts> {
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
    const results = auditedResults(
      cmd.estimate === true ? 'estimate' : 'resolve',
      store,
      audit,
      requestsFrom(oneObjectALine(input.name, readLines(input)), lineNumbers, cmd.collect?.requests),
      { now: cmd.now ?? Date.now },
    );
    for await (const { result, line: text, entry } of results) {
      const line = lineNumbers.shift()!;
      done++;
      if (result.status === 'invalid') {
        invalid++;
        for (const problem of problemTexts(result)) io.stderr.write(`${input.name}:${line}: ${problem}\n`);
      }
      cmd.collect?.results.push(text);
      await writeOut(io, cmd.pretty ? prettyRow(result) : printed(cmd, text, entry));
      progress.tick(done);
    }
    lineNumbers.length = 0;
  } finally {
    progress.done();
    await store.close();
    audit.close(); // after the store: the checkpoint then finds no other connection
  }
  return { done, invalid };
}

/**
 * The same run with batches resolved in worker threads (src/cli/workers.ts). This thread
 * reads, audits and prints: each batch's entries are committed before its results are
 * printed, batch after batch in input order.
 */
async function inWorkerThreads(cmd: ResolveCommand, io: Io, input: Input, workers: number): Promise<Counts> {
  const pool = await ResolveWorkers.start({ db: cmd.db, action: cmd.estimate === true ? 'estimate' : 'resolve', pretty: cmd.pretty }, workers);
  let audit: SqliteAuditLog;
  try {
    audit = openAudit(cmd);
  } catch (error) {
    await pool.close();
    throw error;
  }
  const now = cmd.now ?? Date.now;
  const progress = new Progress('resolve requests', io.stderr);
  let done = 0;
  let invalid = 0;
  let finished = false;
  try {
    if (cmd.pretty) await writeOut(io, prettyHeader());
    for await (const { lines, output } of inWorkers(pool, input)) {
      const entries = audit.append(now(), output.drafts);
      for (const { index, problems } of output.invalid) for (const problem of problems) io.stderr.write(`${input.name}:${lines[index]!}: ${problem}\n`);
      done += lines.length;
      invalid += output.invalid.length;
      // Result lines hold no newline of their own (JSON escapes it): one line, one entry.
      await writeOut(
        io,
        cmd.signResults === true
          ? output.text
              .slice(0, -1)
              .split('\n')
              .map((line, i) => printed(cmd, line, entries[i]!))
              .join('')
          : output.text,
      );
      progress.tick(done);
    }
    finished = true;
  } finally {
    progress.done();
    try {
      // After a fault the threads are stopped, not asked: the run has failed already.
      if (finished) await pool.close();
      else await pool.terminate();
    } finally {
      // Last, so the checkpoint finds the workers' read connections closed.
      audit.close();
    }
  }
  return { done, invalid };
}
