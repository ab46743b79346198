/**
 * A batch's report folder: one page per result, an index, and (on request) each page
 * printed to PDF by a headless Chromium when one is installed.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, mkdirSync, writeFileSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { hashJson, sha256 } from '../audit/hash.js';
import type { StoreReader } from '../store/types.js';
import type { AuditEntry, AuditLog } from '../audit/types.js';
import { gatherPage, type ReportItem } from './gather.js';
import { renderIndex, renderPage, type AuditView, type IndexEntry } from './html.js';

export interface ReportOptions {
  readonly out: string;
  /** The audit log to look each result up in, and where it is (for the page). */
  readonly audit: { readonly log: Pick<AuditLog, 'find'>; readonly source: string } | null;
  readonly title?: string;
  /** Called after each page is written (progress). */
  readonly onPage?: (done: number) => void;
}

export interface ReportWritten {
  readonly index: string;
  readonly pages: readonly string[];
  /** Results with no audit entry for their line. */
  readonly unaudited: number;
}

/** A page's file name: its place in the batch and its ref, safe on every file system. */
export function pageName(position: number, ref: string | null): string {
  const safe = (ref ?? 'no-ref').replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 60);
  return `${String(position + 1).padStart(3, '0')}-${safe}.html`;
}

function requestHashOf(line: string): string {
  try {
    return hashJson(JSON.parse(line));
  } catch {
    return sha256(line);
  }
}

function auditFor(item: ReportItem, action: 'resolve' | 'estimate', audit: ReportOptions['audit']): AuditView {
  const resultHash = sha256(item.line);
  if (audit === null) return { source: null, entry: null, resultHash, requestMatches: null };
  const candidates: AuditEntry[] = audit.log.find(item.result.ref === null ? { action } : { ref: item.result.ref });
  const entry = candidates.filter((e) => e.resultHash === resultHash && e.action === action).at(-1) ?? null;
  const requestMatches = entry === null || item.request === null ? null : entry.requestHash === requestHashOf(item.request);
  return { source: audit.source, entry, resultHash, requestMatches };
}

/**
 * Write the report folder for a batch of results.
 *
 * @example
 * const { index } = await writeReport(store, items, { out: 'report', audit: { log, source: 'op.db' } });
 */
export async function writeReport(
  store: StoreReader,
  items: readonly { item: ReportItem; action: 'resolve' | 'estimate' }[],
  options: ReportOptions,
): Promise<ReportWritten> {
  mkdirSync(options.out, { recursive: true });
  const names = items.map((x, i) => pageName(i, x.item.result.ref));
  const entries: IndexEntry[] = [];
  let unaudited = 0;
  // What each source covered, read once for the batch (every page draws the limits of its sources' data).
  const coverage = await store.sourceCoverage();
  for (const [i, { item, action }] of items.entries()) {
    const page = await gatherPage(store, item, action, coverage);
    const audit = auditFor(item, action, options.audit);
    if (audit.entry === null) unaudited++;
    writeFileSync(
      join(options.out, names[i]!),
      renderPage(page, audit, { index: 'index.html', previous: i === 0 ? null : names[i - 1]!, next: names[i + 1] ?? null }),
    );
    entries.push({ file: names[i]!, result: item.result, action, audited: audit.entry !== null });
    options.onPage?.(i + 1);
  }
  const index = join(options.out, 'index.html');
  writeFileSync(index, renderIndex(entries, options.title ?? 'ipar report'));
  return { index, pages: names.map((n) => join(options.out, n)), unaudited };
}

/** Where a Chromium is installed (`IPAR_CHROMIUM`, then the usual names on PATH), or `null`. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | null {
  const candidates =
    env['IPAR_CHROMIUM'] !== undefined
      ? [env['IPAR_CHROMIUM']]
      : (env['PATH'] ?? '').split(delimiter).flatMap((dir) => ['chromium', 'chromium-browser', 'google-chrome'].map((n) => join(dir, n)));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // not this one
    }
  }
  return null;
}

/** The flags every headless run gets: no sandbox (CI runs as root), and nothing fetched from the network. */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
] as const;

/**
 * Print each page to a PDF beside it (`page.html` → `page.pdf`) with headless Chromium.
 *
 * @example
 * await printPdfs('/usr/bin/chromium', written.pages); // ['report/001-R1.pdf', …]
 */
export async function printPdfs(chromium: string, pages: readonly string[]): Promise<string[]> {
  const run = promisify(execFile);
  const out: string[] = [];
  for (const page of pages) {
    const pdf = page.replace(/\.html$/, '.pdf');
    await run(chromium, [...CHROMIUM_FLAGS, '--no-pdf-header-footer', `--print-to-pdf=${resolve(pdf)}`, pathToFileURL(resolve(page)).href], {
      timeout: 60_000,
    });
    out.push(pdf);
  }
  return out;
}
