/**
 * Time-reading sensitivity (9.24; the GMT/BST and 12-hour failures in DESIGN.md): for
 * every observation, re-run the match under the other plausible readings of its time
 * and say, when the combined candidate set differs, which reading gives what count.
 * Only the changed observation is re-matched; the others' account sets are reused.
 */
import type { StoreReader } from '../src/store/types.js';
import type { Window } from '../src/time.js';
import type { PlannedObservation, PlannedRequest } from './plan.js';
import { matchPlans, type MatchTrace } from './resolve.js';

/** The readings tried, as named in risk details. */
export type ReadingName = 'exact-instant' | 'fold-first' | 'fold-second' | 'gap-other-offset' | 'minus-1h' | 'plus-1h' | 'minus-12h' | 'plus-12h';

export interface ReadingOutcome {
  readonly reading: ReadingName;
  readonly window: Window;
  /** How many accounts the whole request would return under this reading. */
  readonly candidateCount: number;
  /** True when the candidate set (not only its size) differs from the answer given. */
  readonly differs: boolean;
}

const HOUR = 3_600_000;

/** The alternative windows for one observation (pure). */
export function alternativeReadings(o: PlannedObservation, toleranceMs: number): { reading: ReadingName; window: Window }[] {
  const r = o.reading;
  const p = r.end - r.start;
  const shift = (ms: number): Window => ({ start: o.window.start + ms, end: o.window.end + ms });
  const out: { reading: ReadingName; window: Window }[] = [];
  if (toleranceMs > 0) out.push({ reading: 'exact-instant', window: { start: r.start, end: r.end } });
  if (r.foldInstants !== null && r.form === 'local' && r.foldInstants.length === 2) {
    const [a, b] = r.foldInstants as [number, number];
    const span = (r.end - r.foldInstants[r.foldInstants.length - 1]!);
    out.push({ reading: 'fold-first', window: { start: a - toleranceMs, end: a + span + toleranceMs } });
    out.push({ reading: 'fold-second', window: { start: b - toleranceMs, end: b + span + toleranceMs } });
  }
  if (r.gapAlternative !== null) out.push({ reading: 'gap-other-offset', window: { start: r.gapAlternative - toleranceMs, end: r.gapAlternative + p + toleranceMs } });
  out.push({ reading: 'minus-1h', window: shift(-HOUR) }, { reading: 'plus-1h', window: shift(HOUR) });
  if (o.clock === '12h-ambiguous') out.push({ reading: 'minus-12h', window: shift(-12 * HOUR) }, { reading: 'plus-12h', window: shift(12 * HOUR) });
  return out;
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

/**
 * For each trace, each observation: the outcome of every alternative reading.
 *
 * @example
 * const [perObservation] = await timeSensitivity(store, [trace]);
 * perObservation[0].filter((r) => r.differs); // readings under which the answer changes
 */
export async function timeSensitivity(store: StoreReader, traces: readonly MatchTrace[]): Promise<ReadingOutcome[][][]> {
  const jobs: { t: number; i: number; reading: ReadingName; window: Window }[] = [];
  const plans: PlannedRequest[] = [];
  traces.forEach((trace, t) => {
    trace.observations.forEach((ot, i) => {
      for (const alt of alternativeReadings(ot.observation, trace.request.toleranceMs)) {
        jobs.push({ t, i, ...alt });
        plans.push({ ...trace.request, observations: [{ ...ot.observation, window: alt.window }] });
      }
    });
  });
  const altTraces = await matchPlans(store, plans);
  const out: ReadingOutcome[][][] = traces.map((trace) => trace.observations.map(() => []));
  jobs.forEach((job, k) => {
    const trace = traces[job.t]!;
    const baseline = new Set(trace.correlation.candidates.map((c) => c.account));
    let combined = new Set(altTraces[k]!.observations[0]!.matches.accounts.keys());
    trace.observations.forEach((ot, i) => {
      if (i === job.i) return;
      combined = new Set([...combined].filter((a) => ot.matches.accounts.has(a)));
    });
    out[job.t]![job.i]!.push({ reading: job.reading, window: job.window, candidateCount: combined.size, differs: !sameSet(combined, baseline) });
  });
  return out;
}
