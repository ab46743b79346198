/**
 * Audited resolution (issue 9): the layer that calls the matcher writes one audit entry
 * per request — resolution, estimate or refusal — before the results leave it, so no
 * result is ever handed out unaudited. The clock is passed in.
 */
import { readFileSync } from 'node:fs';
import { estimateRequests, resolveRequests, type ResolveOptions } from '../../matcher/pipeline.js';
import { packagePath } from '../paths.js';
import type { Estimate, Result } from '../request.js';
import type { StoreReader } from '../store/types.js';
import type { AuditDraft, AuditEntry, AuditLog } from './types.js';
import { hashJson, sha256 } from './hash.js';

/** The engine named in every entry: `ipar@<package.json version>`. */
export const ENGINE = `ipar@${(JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string }).version}`;

/** Requests resolved together at most (one store round trip per step per batch). */
export const BATCH_SIZE = 512;

/**
 * Request text a batch holds at most, in characters: a batch closes early when its lines
 * add up to this, so memory stays bounded even when every line is near the 1 MiB limit.
 */
export const MAX_BATCH_CHARS = 16 * 1024 * 1024;

export interface AuditedOptions extends ResolveOptions {
  /** The clock stamped on entries, epoch ms (the CLI passes `Date.now`). */
  readonly now: () => number;
}

export interface AuditedBatchOptions extends AuditedOptions {
  readonly batchSize?: number;
  readonly maxBatchChars?: number;
}

/** A request as its reader found it: the value, its size, and (for an unreadable line) its hash. */
export interface AuditItem {
  readonly request: unknown;
  /** Characters of request text the value holds (for {@link MAX_BATCH_CHARS}); 0 if unknown. */
  readonly chars?: number;
  /** The request hash when the value is not the request (a line that was not JSON: sha256 of the line). */
  readonly requestHash?: string;
}

/** What a batch is asked: identities (`resolve`) or counts only (`estimate`). */
export type Action = 'resolve' | 'estimate';

/** The record ids a result shows it consulted: its evidence, each id once, in order. */
export function recordsConsulted(result: Result | Estimate): string[] {
  const ids = new Set<string>();
  if ('candidates' in result) for (const c of result.candidates) for (const e of c.evidence) ids.add(e.id);
  // Connection records disclosed to the authority (9.7–9.13) are records the answer rests on too.
  if ('connections' in result && result.connections !== undefined) for (const c of result.connections) ids.add(c.id);
  return [...ids];
}

/**
 * The audit entry for one request and its result. `line` is the result as
 * `JSON.stringify` writes it, when the caller has it already (it is hashed, not re-made).
 *
 * @example
 * auditDraft('resolve', { request }, result).requestHash; // sha256 of the request's canonical JSON
 */
export function auditDraft(action: Action, item: AuditItem, result: Result | Estimate, line: string = JSON.stringify(result)): AuditDraft {
  return {
    action,
    ref: result.ref,
    status: result.status,
    candidateCount: result.candidateCount,
    disclosed: 'candidates' in result ? result.candidates.length : 0,
    requestHash: item.requestHash ?? hashJson(item.request),
    // The result as JSON.stringify writes it: the very line `ipar resolve` prints, so an
    // auditor can check a disclosed line against the log (results are built in a fixed key order).
    resultHash: sha256(line),
    records: recordsConsulted(result),
    engine: ENGINE,
  };
}

/** A result with the line it is printed as (what `resultHash` hashes) and its audit entry. */
export interface AuditedResult {
  readonly result: Result | Estimate;
  readonly line: string;
  readonly entry: AuditEntry;
}

async function auditedPairs(
  action: Action,
  store: StoreReader,
  audit: AuditLog,
  items: readonly AuditItem[],
  options: AuditedOptions,
): Promise<AuditedResult[]> {
  const requests = items.map((i) => i.request);
  const results = action === 'resolve' ? await resolveRequests(store, requests, options) : await estimateRequests(store, requests, options);
  const lines = results.map((r) => JSON.stringify(r));
  const entries = audit.append(
    options.now(),
    results.map((r, i) => auditDraft(action, items[i]!, r, lines[i])),
  );
  return results.map((result, i) => ({ result, line: lines[i]!, entry: entries[i]! }));
}

async function runAudited(
  action: Action,
  store: StoreReader,
  audit: AuditLog,
  items: readonly AuditItem[],
  options: AuditedOptions,
): Promise<(Result | Estimate)[]> {
  return (await auditedPairs(action, store, audit, items, options)).map((p) => p.result);
}

/**
 * Resolve a batch and audit it: the entries are written (one transaction) before the
 * results are returned; if they cannot be, this throws and no result is returned.
 *
 * @example
 * const results = await auditedResolve(store, audit, requests, { now: Date.now });
 */
export async function auditedResolve(store: StoreReader, audit: AuditLog, requests: readonly unknown[], options: AuditedOptions): Promise<Result[]> {
  return (await runAudited(
    'resolve',
    store,
    audit,
    requests.map((request) => ({ request })),
    options,
  )) as Result[];
}

/**
 * Estimate a batch and audit it (entries before results, as {@link auditedResolve}).
 *
 * @example
 * const estimates = await auditedEstimate(store, audit, requests, { now: Date.now });
 */
export async function auditedEstimate(store: StoreReader, audit: AuditLog, requests: readonly unknown[], options: AuditedOptions): Promise<Estimate[]> {
  return (await runAudited(
    'estimate',
    store,
    audit,
    requests.map((request) => ({ request })),
    options,
  )) as Estimate[];
}

/**
 * Group a stream into batches: a batch closes at `size` items or `maxChars` of their
 * `chars`, whichever is first (the rule every resolve and estimate batch follows, in this
 * thread or in worker threads).
 *
 * @example
 * for await (const batch of batchesOf(items, BATCH_SIZE, MAX_BATCH_CHARS)) handle(batch);
 */
export async function* batchesOf<T extends { readonly chars?: number }>(
  items: AsyncIterable<T> | Iterable<T>,
  size: number,
  maxChars: number,
): AsyncGenerator<T[]> {
  let batch: T[] = [];
  let chars = 0;
  for await (const item of items) {
    batch.push(item);
    chars += item.chars ?? 0;
    if (batch.length >= size || chars >= maxChars) {
      yield batch;
      batch = [];
      chars = 0;
    }
  }
  if (batch.length > 0) yield batch;
}

/**
 * Resolve or estimate a stream, audited batch by batch, yielding in input order. A batch
 * closes at `batchSize` requests or `maxBatchChars` of request text, whichever is first.
 *
 * @example
 * for await (const r of auditedBatches('resolve', store, audit, lines, { now: Date.now })) out.write(JSON.stringify(r) + '\n');
 */
export async function* auditedBatches(
  action: Action,
  store: StoreReader,
  audit: AuditLog,
  items: AsyncIterable<AuditItem> | Iterable<AuditItem>,
  options: AuditedBatchOptions,
): AsyncGenerator<Result | Estimate> {
  for await (const { result } of auditedResults(action, store, audit, items, options)) yield result;
}

/**
 * {@link auditedBatches} with each result's printed line and its audit entry (its
 * sequence number and, when the log signs, its signature: what `--sign-results` prints).
 *
 * @example
 * for await (const { line, entry } of auditedResults('resolve', store, audit, lines, { now: Date.now })) out.write(line + '\n');
 */
export async function* auditedResults(
  action: Action,
  store: StoreReader,
  audit: AuditLog,
  items: AsyncIterable<AuditItem> | Iterable<AuditItem>,
  options: AuditedBatchOptions,
): AsyncGenerator<AuditedResult> {
  for await (const batch of batchesOf(items, options.batchSize ?? BATCH_SIZE, options.maxBatchChars ?? MAX_BATCH_CHARS)) {
    yield* await auditedPairs(action, store, audit, batch, options);
  }
}
