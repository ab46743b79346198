/**
 * `ipar report`: a folder of self-contained HTML pages — one per result of a batch, and an
 * index — for the people who decide from what they can see (issue 21). `ipar resolve …
 * --report DIR` writes the same folder for the batch it has just resolved.
 */
import { readLines, openInputs } from '../ingest/lines.js';
import { IparError } from '../problems.js';
import { Progress } from '../progress.js';
import { openAuditLog, type SqliteAuditLog } from '../store/sqlite/audit.js';
import { isClickHouseSpec, openStore } from '../store/open.js';
import { readResultLine, type ReportItem } from '../report/gather.js';
import { findChromium, printPdfs, writeReport } from '../report/write.js';
import { isBlank } from './batch.js';
import type { Io } from './io.js';
import { runResolve, type ResolveCommand } from './resolve.js';

export interface ReportCommand {
  /** The store the results were resolved against (`--db FILE` or `--store URL`). */
  readonly db: string;
  /** The results file (NDJSON), or `-` for stdin. */
  readonly results: string;
  /** The requests file the results answer, to show each request as received. */
  readonly requests?: string;
  /** Audit database; the store itself when absent and it is a SQLite file. */
  readonly audit?: string;
  readonly out: string;
  readonly pdf: boolean;
}

/** Lines already in memory (from `resolve --report`), in place of the files. */
export interface ReportLines {
  readonly results: readonly string[];
  readonly requests: readonly string[] | null;
}

async function nonBlankLines(path: string, io: Io): Promise<{ text: string; line: number }[]> {
  const [input] = await openInputs([path], io.stdin);
  const out: { text: string; line: number }[] = [];
  for await (const { text, line } of readLines(input!)) if (!isBlank(text)) out.push({ text, line });
  return out;
}

function refOfLine(text: string): string | null {
  try {
    const v = JSON.parse(text) as { ref?: unknown };
    return typeof v === 'object' && v !== null && typeof v.ref === 'string' ? v.ref.slice(0, 128) : null;
  } catch {
    return null;
  }
}

/**
 * Pair results with the request lines they answer: by position when the two files line
 * up (resolve writes one result per request, in order), else by ref (first unused).
 */
export function pairRequests(results: readonly { ref: string | null }[], requests: readonly string[] | null): (string | null)[] {
  if (requests === null) return results.map(() => null);
  const refs = requests.map(refOfLine);
  if (requests.length === results.length && results.every((r, i) => r.ref === null || r.ref === refs[i])) return [...requests];
  const used = new Set<number>();
  return results.map((r) => {
    const i = refs.findIndex((ref, j) => !used.has(j) && ref !== null && ref === r.ref);
    if (i < 0) return null;
    used.add(i);
    return requests[i]!;
  });
}

function openAudit(cmd: ReportCommand): { log: SqliteAuditLog; source: string } | null {
  if (cmd.audit !== undefined) return { log: openAuditLog(cmd.audit, { readonly: true }), source: cmd.audit };
  if (isClickHouseSpec(cmd.db)) return null;
  try {
    return { log: openAuditLog(cmd.db, { readonly: true }), source: cmd.db };
  } catch (error) {
    // A store never resolved into holds no audit yet: the pages say so.
    if (error instanceof IparError && error.code === 'AUDIT_NOT_FOUND') return null;
    throw error;
  }
}

/**
 * Write the report folder; returns the exit code (0, 1 when some result line could not
 * be read or has no audit entry, 2 when `--pdf` was asked and no Chromium is installed).
 *
 * @example
 * const code = await runReport({ db: 'operator.db', results: 'results.ndjson', requests: 'requests.ndjson', out: 'report', pdf: false }, processIo);
 */
export async function runReport(cmd: ReportCommand, io: Io, given?: ReportLines): Promise<number> {
  const chromium = cmd.pdf ? findChromium() : null;
  const resultLines = given?.results.map((text, i) => ({ text, line: i + 1 })) ?? (await nonBlankLines(cmd.results, io));
  const requestLines = given?.requests ?? (cmd.requests === undefined ? null : (await nonBlankLines(cmd.requests, io)).map((l) => l.text));
  let bad = 0;
  const read: { line: string; result: ReportItem['result']; action: 'resolve' | 'estimate' }[] = [];
  for (const { text, line } of resultLines) {
    const r = readResultLine(text);
    if (!r.ok) {
      bad++;
      io.stderr.write(`${cmd.results}:${line}: RESULT_UNREADABLE: ${r.message}\n`);
      continue;
    }
    read.push({ line: text, result: r.result, action: r.action });
  }
  const paired = pairRequests(
    read.map((r) => r.result),
    requestLines,
  );
  const items = read.map((r, i) => ({ item: { line: r.line, result: r.result, request: paired[i]! }, action: r.action }));
  const store = openStore(cmd.db, { readonly: true });
  let audit: ReturnType<typeof openAudit> = null;
  const progress = new Progress('report pages', io.stderr);
  try {
    audit = openAudit(cmd);
    const written = await writeReport(store, items, { out: cmd.out, audit, title: `ipar report: ${cmd.results}`, onPage: (n) => progress.tick(n) });
    progress.done();
    const missing = items.filter((x) => x.item.request === null).length;
    io.stderr.write(
      `report: ${written.pages.length} pages and ${written.index}${requestLines !== null && missing > 0 ? `; ${missing} results have no request line` : ''}${written.unaudited > 0 ? `; ${written.unaudited} results have no audit entry${audit === null ? ' (no audit log read)' : ''}` : ''}\n`,
    );
    if (cmd.pdf) {
      if (chromium === null) {
        io.stderr.write(
          'report: --pdf: no Chromium is installed (looked for chromium, chromium-browser, google-chrome on PATH, or IPAR_CHROMIUM); the HTML pages were written, no PDF\n',
        );
        return 2;
      }
      const pdfs = await printPdfs(chromium, written.pages);
      io.stderr.write(`report: ${pdfs.length} PDFs printed by ${chromium}\n`);
    }
    return bad > 0 || (audit !== null && written.unaudited > 0) ? 1 : 0;
  } finally {
    progress.done();
    audit?.log.close();
    await store.close();
  }
}

/**
 * `ipar resolve … --report DIR` (and `estimate`): resolve as usual, then write the report
 * of the very lines printed and audited. The exit code is the worse of the two.
 *
 * @example
 * const code = await resolveWithReport({ db: 'operator.db', file: 'requests.ndjson', pretty: false }, 'report', processIo);
 */
export async function resolveWithReport(cmd: ResolveCommand, out: string, io: Io): Promise<number> {
  const collect = { requests: [] as string[], results: [] as string[] };
  const code = await runResolve({ ...cmd, collect }, io);
  const reported = await runReport(
    { db: cmd.db, results: cmd.file === '-' ? '(stdin)' : cmd.file, out, pdf: false, ...(cmd.audit === undefined ? {} : { audit: cmd.audit }) },
    io,
    { results: collect.results, requests: collect.requests },
  );
  return Math.max(code, reported);
}
