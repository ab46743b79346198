/**
 * Time-reading sensitivity (9.24; the GMT/BST and 12-hour failures in DESIGN.md): for
 * every observation, re-run the match under the other plausible readings of its time
 * and say, when the combined candidate set differs, which reading gives what count.
 * The rows are fetched once for a window covering every reading; each reading is then
 * evaluated in memory, and the other observations' account sets are reused.
 */
import { IparError } from '../src/problems.js';
import type { Window } from '../src/time.js';
import type { PlannedObservation, PlannedRequest } from './plan.js';
import { evaluate, type MatchTrace } from './resolve.js';

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

/** The windows to fetch for an observation: its own and every alternative reading's. */
export function sensitivityWindows(o: PlannedObservation, request: PlannedRequest): Window[] {
  return [o.window, ...alternativeReadings(o, request.toleranceMs).map((a) => a.window)];
}

/**
 * For each trace, each observation: the outcome of every alternative reading, evaluated
 * in memory on the rows fetched for {@link sensitivityWindow} (pure, no store).
 *
 * @example
 * const [perObservation] = timeSensitivity([trace]);
 * perObservation[0].filter((r) => r.differs); // readings under which the answer changes
 */
export function timeSensitivity(traces: readonly MatchTrace[]): ReadingOutcome[][][] {
  return traces.map((trace) => {
    const baseline = new Set(trace.correlation.candidates.map((c) => c.account));
    return trace.fetched.map((f, i) =>
      alternativeReadings(f.observation, trace.request.toleranceMs).map(({ reading, window }) => {
        if (!f.fetchWindows.some((w) => w.start <= window.start && window.end <= w.end)) {
          throw new IparError('SENSITIVITY_WINDOW', `reading ${reading} of observation ${i} lies outside the rows fetched for it`);
        }
        let combined = new Set(evaluate(f, window).matches.accounts.keys());
        trace.observations.forEach((ot, j) => {
          if (j !== i) combined = new Set([...combined].filter((a) => ot.matches.accounts.has(a)));
        });
        return { reading, window, candidateCount: combined.size, differs: !sameSet(combined, baseline) };
      }),
    );
  });
}
