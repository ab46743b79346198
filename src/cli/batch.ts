/**
 * What `ipar resolve` and `ipar estimate` make of request lines, shared by the run in
 * this thread (src/cli/resolve.ts) and the worker threads (src/cli/resolve-worker.ts):
 * a line becomes a request (or an unreadable one, hashed as the line), and a batch of
 * lines becomes plain data that can cross a thread boundary — the text to print, the
 * audit drafts and the stderr reports — so the main thread only audits and prints.
 */
import { auditDraft, type Action, type AuditItem } from '../audit/audited.js';
import { sha256 } from '../audit/hash.js';
import { parseJsonLine } from '../ingest/lines.js';
import { estimateRequests, resolveRequests } from '../../matcher/pipeline.js';
import { UnreadableRequest } from '../../matcher/plan.js';
import { IparError } from '../problems.js';
import type { Estimate, Result } from '../request.js';
import type { AuditDraft } from '../audit/types.js';
import type { StoreReader } from '../store/types.js';
import { prettyRow } from './pretty.js';

/** A request line as read: its text, and its full length when it was cut (over-long). */
export interface RequestLine {
  readonly text: string;
  readonly length?: number;
}

/** Blank lines carry no request: they are skipped (and not audited). */
export function isBlank(text: string): boolean {
  return text.trim() === '';
}

/**
 * Requests are one JSON object a line. An input whose first line is a lone `{` or `[`
 * and whose next line is indented JSON (a key, or a bracket) is pretty-printed JSON: one usage error says so,
 * rather than an invalid request for every line of it (nothing has been resolved or
 * audited when it throws). Anything else passes through as read; blank lines before the
 * first request are dropped (they carry no request).
 *
 * @example
 * for await (const l of oneObjectALine('requests.json', readLines(input))) …; // throws IparError USAGE on pretty-printed JSON
 */
export async function* oneObjectALine<T extends { readonly text: string; readonly line: number }>(name: string, lines: AsyncIterable<T>): AsyncGenerator<T> {
  let held: T | null = null;
  let checked = false;
  for await (const l of lines) {
    if (checked) {
      yield l;
      continue;
    }
    if (isBlank(l.text)) continue;
    if (held === null) {
      const t = l.text.trim();
      if (t === '{' || t === '[') held = l;
      else {
        checked = true;
        yield l;
      }
      continue;
    }
    if (/^\s+["{}[\]]/.test(l.text)) {
      throw new IparError(
        'USAGE',
        `${name}:${held.line}: requests are one JSON object a line (NDJSON); this input is JSON spread over lines (pretty-printed?). Write each request on one line (e.g. jq -c . ${name}); nothing was resolved`,
      );
    }
    checked = true;
    yield held;
    yield l;
  }
  if (held !== null && !checked) yield held;
}

/**
 * A line as the audit sees it: the JSON value it holds, or — when it cannot be read (too
 * long, too deep, not JSON) — an {@link UnreadableRequest} audited with the hash of the line.
 *
 * @example
 * requestItem('{broken').requestHash; // sha256('{broken')
 */
export function requestItem(text: string, length?: number): AuditItem {
  const read = parseJsonLine(text, length);
  if (read.ok) return { request: read.value, chars: text.length };
  return { request: new UnreadableRequest([read.problem]), requestHash: sha256(text) };
}

/**
 * The problems of an invalid result as stderr reports them, each after `file:line: `.
 *
 * @example
 * problemTexts(result); // ['observations.0.time: INSTANT_WITHOUT_OFFSET: instant "…" has no offset …']
 */
export function problemTexts(result: Result | Estimate): string[] {
  return (result.errors ?? []).map((e) => `${e.field || '(line)'}: ${e.reason}: ${e.message}`);
}

/** A batch resolved: everything the main thread needs, nothing it must compute. */
export interface BatchOutput {
  /** What stdout gets: the result lines (or `--pretty` rows), in input order. */
  readonly text: string;
  /** One audit draft per request, in input order. */
  readonly drafts: readonly AuditDraft[];
  /** The invalid requests: their place in the batch and their problems. */
  readonly invalid: readonly { readonly index: number; readonly problems: readonly string[] }[];
}

/**
 * Resolve (or estimate) a batch of request lines to what is printed and audited for it.
 * Pure over the store: nothing is written.
 *
 * @example
 * const { text, drafts } = await resolveLines(store, 'resolve', false, [{ text: '{"ref":"R1",…}' }]);
 */
export async function resolveLines(store: StoreReader, action: Action, pretty: boolean, lines: readonly RequestLine[]): Promise<BatchOutput> {
  const items = lines.map((l) => requestItem(l.text, l.length));
  const requests = items.map((i) => i.request);
  const results: readonly (Result | Estimate)[] = action === 'resolve' ? await resolveRequests(store, requests) : await estimateRequests(store, requests);
  const text: string[] = [];
  const drafts: AuditDraft[] = [];
  const invalid: { index: number; problems: string[] }[] = [];
  results.forEach((result, index) => {
    const line = JSON.stringify(result);
    text.push(pretty ? prettyRow(result) : line + '\n');
    drafts.push(auditDraft(action, items[index]!, result, line));
    if (result.status === 'invalid') invalid.push({ index, problems: problemTexts(result) });
  });
  return { text: text.join(''), drafts, invalid };
}
