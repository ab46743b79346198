/** `ipar resolve`: NDJSON requests in, NDJSON results out, in order, streaming. */
import { auditedBatches, type AuditItem } from '../audit/audited.js';
import { readLines, openInputs, type Input, type Line } from '../ingest/lines.js';
import { IparError } from '../problems.js';
import { Progress } from '../progress.js';
import { openAuditLog, type SqliteAuditLog } from '../store/audit.js';
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
    const results = auditedBatches(cmd.estimate === true ? 'estimate' : 'resolve', store, audit, requestsFrom(oneObjectALine(input.name, readLines(input)), lineNumbers, cmd.collect?.requests), { now: cmd.now ?? Date.now });
    for await (const result of results) {
      const line = lineNumbers.shift()!;
      done++;
      if (result.status === 'invalid') {
        invalid++;
        for (const problem of problemTexts(result)) io.stderr.write(`${input.name}:${line}: ${problem}\n`);
      }
      const text = JSON.stringify(result);
      cmd.collect?.results.push(text);
      await writeOut(io, cmd.pretty ? prettyRow(result) : text + '\n');
      progress.tick(done);
    }
    lineNumbers.length = 0;
  } finally {
    progress.done();
    await store.close();
    audit.close();
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
      audit.append(now(), output.drafts);
      for (const { index, problems } of output.invalid) for (const problem of problems) io.stderr.write(`${input.name}:${lines[index]!}: ${problem}\n`);
      done += lines.length;
      invalid += output.invalid.length;
      await writeOut(io, output.text);
      progress.tick(done);
    }
    finished = true;
  } finally {
    progress.done();
    audit.close();
    // After a fault the threads are stopped, not asked: the run has failed already.
    if (finished) await pool.close();
    else await pool.terminate();
  }
  return { done, invalid };
}
