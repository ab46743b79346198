/**
 * The system under test. The harness never calls the matcher directly: it loads an
 * operator's canonical records into a {@link System} and sends requests through the
 * {@link Resolver} it returns, so an operator can run the same laws and accuracy
 * measurement against its own store or integration. The default is the embedded SQLite
 * store with the ipar matcher.
 */
import { resolveRequests } from '../../matcher/pipeline.js';
import { IparError } from '../problems.js';
import { CanonicalRecord, type CanonicalRecordInput } from '../records.js';
import { Result, type RequestInput } from '../request.js';
import { CoverageRecorder } from '../store/core/coverage.js';
import { openSqliteStore } from '../store/sqlite/store.js';

/** Resolve a batch of requests: one result per request, in request order. */
export type Resolver = (requests: readonly RequestInput[]) => Promise<readonly Result[]>;

/** A system loaded with one operator's records. */
export interface Instance {
  readonly resolve: Resolver;
  close(): void | Promise<void>;
}

/** How to load an operator's records (canonical NDJSON values) into a fresh system under test. */
export interface System {
  readonly name: string;
  /**
   * Load `records`. With `runs` (the same records as rotated files, in order: the
   * rotated-logs scenario), a system that ingests in runs loads each as an ingest of its
   * own; one that cannot may load `records` at once.
   */
  open(records: Iterable<CanonicalRecordInput>, runs?: readonly (readonly CanonicalRecordInput[])[]): Promise<Instance>;
}

/**
 * The default system: a fresh SQLite store (in memory unless `file` is given) and the
 * ipar matcher with risk analysis.
 *
 * @example
 * const instance = await sqliteSystem().open(records);
 * const [result] = await instance.resolve([{ ref: 'R1', observations: [{ sourceIp: '198.51.100.7', time: '2026-03-28T10:00:00Z' }] }]);
 * instance.close();
 */
export function sqliteSystem(options: { readonly file?: string } = {}): System {
  return {
    name: 'ipar (SQLite store)',
    async open(records, runs) {
      const store = openSqliteStore(options.file ?? ':memory:');
      try {
        for (const run of runs ?? [records]) {
          const parsed: CanonicalRecord[] = [];
          for (const r of run) parsed.push(CanonicalRecord.parse(r));
          store.write(parsed);
          // As `ipar ingest` does at the end of each run: what each source covered.
          const coverage = new CoverageRecorder();
          coverage.observe(parsed);
          store.recordCoverage(coverage.report());
        }
      } catch (error) {
        store.close();
        throw error;
      }
      return { resolve: (requests) => resolveRequests(store, requests), close: () => store.close() };
    },
  };
}

/**
 * Resolve through a system under test and check what comes back at the boundary: one
 * valid result per request, refs in order. A system that breaks this contract is a
 * fault (`HARNESS_BAD_RESULT`), not a measurement.
 */
export async function resolveChecked(instance: Instance, requests: readonly RequestInput[]): Promise<Result[]> {
  const results = await instance.resolve(requests);
  if (results.length !== requests.length)
    throw new IparError('HARNESS_BAD_RESULT', `the system returned ${results.length} results for ${requests.length} requests`);
  return results.map((value, i) => {
    const parsed = Result.safeParse(value);
    if (!parsed.success)
      throw new IparError(
        'HARNESS_BAD_RESULT',
        `result ${i} (ref ${JSON.stringify(requests[i]!.ref)}) is not a result: ${parsed.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`,
      );
    if (parsed.data.ref !== requests[i]!.ref)
      throw new IparError('HARNESS_BAD_RESULT', `result ${i} has ref ${JSON.stringify(parsed.data.ref)}, expected ${JSON.stringify(requests[i]!.ref)}`);
    return parsed.data;
  });
}
