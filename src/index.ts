/**
 * The `ipar` library: what an operator's disclosure system calls.
 *
 * @example
 * import { openStore, resolve } from 'ipar';
 * const store = openStore('operator.db', { readonly: true });
 * const result = await resolve(store, {
 *   ref: 'REQ-1',
 *   observations: [{ sourceIp: '203.0.113.7', sourcePort: 1300, time: '2026-03-28T10:00:00Z' }],
 *   toleranceSeconds: 2,
 * });
 * result.status; // 'unique' | 'multiple' | 'none' | 'invalid'
 * store.close();
 */
import { estimateRequests, resolveRequests, type ResolveOptions } from '../matcher/pipeline.js';
import type { Estimate, Result } from './request.js';
import type { StoreReader } from './store/types.js';

export { openStore, type OpenStoreOptions, type Store } from './store/open.js';
export { SqliteStore, type SqliteOpenOptions } from './store/sqlite/store.js';
export { ClickHouseStore, type ClickHouseOpenOptions } from './store/clickhouse/store.js';
export type { PurgeSummary, SettingKey, StoreAdmin, StoreReader, StoreWriter, StoreSettings } from './store/types.js';
export { CanonicalRecord, toWritten, type CanonicalRecordInput } from './records.js';
export { Request, Result, type RequestInput } from './request.js';
export { ingest, type IngestOptions, type IngestSummary } from './ingest/ingest.js';
export { openInputs } from './ingest/lines.js';
export { IparError, type Problem } from './problems.js';
export { UnreadableRequest } from '../matcher/plan.js';
export type { ResolveOptions } from '../matcher/pipeline.js';
export { DEFAULT_WORK_BUDGET, type WorkBudget } from './budget.js';
export { estimateRequests, resolveRequests };
export { RISK_CODES, type RiskCode } from '../matcher/risk.js';
export {
  AUDIT_VERDICTS,
  BudgetDetail,
  ERRORS,
  PROBLEMS,
  REFUSALS,
  type ErrorCode,
  type ProblemReason,
  type RefusalCode,
  type Risk,
} from './catalogue/index.js';
export { auditedResolve, auditedEstimate, auditedBatches } from './audit/audited.js';
export { openAuditLog } from './store/sqlite/audit.js';

/**
 * Resolve one request (any JSON value; an invalid one gets `status: "invalid"`).
 *
 * @example
 * const r = await resolve(store, { ref: 'R', observations: [{ sourceIp: '198.51.100.7', time: '2026-03-28T10:00:00Z' }] });
 */
export async function resolve(store: StoreReader, request: unknown, options: ResolveOptions = {}): Promise<Result> {
  const [result] = await resolveRequests(store, [request], options);
  return result!;
}

export interface BatchOptions extends ResolveOptions {
  /** Requests resolved together (one store round trip per step per batch). */
  readonly batchSize?: number;
}

/**
 * Resolve a stream of requests, yielding results in input order. Memory is bounded by
 * the batch size, not the stream's length.
 *
 * @example
 * for await (const result of resolveBatch(store, requests)) console.log(JSON.stringify(result));
 */
export function resolveBatch(store: StoreReader, requests: AsyncIterable<unknown> | Iterable<unknown>, options: BatchOptions = {}): AsyncGenerator<Result> {
  return inBatches(requests, options.batchSize ?? 512, (batch) => resolveRequests(store, batch, options));
}

/**
 * Estimate a stream of requests: counts and flags, no identities, in input order.
 *
 * @example
 * for await (const e of estimateBatch(store, requests)) console.log(e.ref, e.candidateCount);
 */
export function estimateBatch(store: StoreReader, requests: AsyncIterable<unknown> | Iterable<unknown>, options: BatchOptions = {}): AsyncGenerator<Estimate> {
  return inBatches(requests, options.batchSize ?? 512, (batch) => estimateRequests(store, batch, options));
}

async function* inBatches<T>(requests: AsyncIterable<unknown> | Iterable<unknown>, size: number, each: (batch: unknown[]) => Promise<T[]>): AsyncGenerator<T> {
  let batch: unknown[] = [];
  for await (const request of requests) {
    batch.push(request);
    if (batch.length >= size) {
      yield* await each(batch);
      batch = [];
    }
  }
  if (batch.length > 0) yield* await each(batch);
}
