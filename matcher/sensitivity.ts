/**
 * Time-reading sensitivity (9.24; the GMT/BST and 12-hour failures in DESIGN.md): re-run
 * the match under the other plausible readings of the times and say, when the combined
 * candidate set changes, which reading gives what — counts only. Each observation is
 * re-read alone, and when there are several, the shifts that would misread every time the
 * same way (an hour, twelve hours) are also tried on all of them together. The rows are
 * fetched once for windows covering every reading; each reading is evaluated in memory.
 */
import { DateTime, FixedOffsetZone } from 'luxon';
import { IparError } from '../src/problems.js';
import type { Interval, Window } from '../src/time.js';
import type { PlannedObservation, PlannedRequest } from './plan.js';
import { evaluate, type MatchTrace } from './evaluate.js';
import type { FetchedObservation } from './fetch.js';

/** The readings tried, as named in risk details. */
export type ReadingName =
  | 'exact-instant'
  | 'wider-tolerance'
  | 'fold-first'
  | 'fold-second'
  | 'gap-other-offset'
  | 'minus-1h'
  | 'plus-1h'
  | 'minus-12h'
  | 'plus-12h'
  | 'minus-1d'
  | 'plus-1d'
  | 'minus-1y'
  | 'day-month-swapped'
  | 'any-combination'
  | 'held-before'
  | 'held-after'
  | 'without-observations';

export interface ReadingOutcome {
  readonly reading: ReadingName;
  /** The observation re-read, or `null` for a shift applied to all of them together. */
  readonly observation: number | null;
  /** The window searched (for a joint shift: the first observation's). */
  readonly window: Window;
  /** How many accounts the whole request would return under this reading. */
  readonly candidateCount: number;
  /** Accounts of the answer given that this reading does not return (false-positive risk). */
  readonly missing: number;
  /** Accounts this reading returns that the answer given lacks (false-negative risk). */
  readonly added: number;
  /** The accounts the whole request would return under this reading (never rendered in a flag; advice and the harness read them). */
  readonly accounts: ReadonlySet<string>;
}

const HOUR = 3_600_000;
/** How far past the tolerance a clock may plausibly be off: a minute either side. */
export const WIDER_TOLERANCE_MS = 60_000;

/** The alternative windows for one observation (pure). */
export function alternativeReadings(o: PlannedObservation, toleranceMs: number): { reading: ReadingName; window: Window }[] {
  const r = o.reading;
  const p = r.end - r.start;
  const shift = (ms: number): Window => ({ start: o.window.start + ms, end: o.window.end + ms });
  const out: { reading: ReadingName; window: Window }[] = [];
  if (toleranceMs > 0) out.push({ reading: 'exact-instant', window: { start: r.start, end: r.end } });
  out.push({ reading: 'wider-tolerance', window: { start: o.window.start - WIDER_TOLERANCE_MS, end: o.window.end + WIDER_TOLERANCE_MS } });
  if (r.foldInstants !== null && r.form === 'local' && r.foldInstants.length === 2) {
    const [a, b] = r.foldInstants as [number, number];
    const span = r.end - r.foldInstants[r.foldInstants.length - 1]!;
    out.push({ reading: 'fold-first', window: { start: a - toleranceMs, end: a + span + toleranceMs } });
    out.push({ reading: 'fold-second', window: { start: b - toleranceMs, end: b + span + toleranceMs } });
  }
  if (r.gapAlternative !== null)
    out.push({ reading: 'gap-other-offset', window: { start: r.gapAlternative - toleranceMs, end: r.gapAlternative + p + toleranceMs } });
  out.push({ reading: 'minus-1h', window: shift(-HOUR) }, { reading: 'plus-1h', window: shift(HOUR) });
  if (o.clock === '12h-ambiguous') out.push({ reading: 'minus-12h', window: shift(-12 * HOUR) }, { reading: 'plus-12h', window: shift(12 * HOUR) });
  if (o.clock === 'date-ambiguous') for (const d of dateReadings(o)) out.push({ reading: d.reading, window: shift(d.ms) });
  return out;
}

/**
 * The date misreadings oversight reports name, for a clock declared `date-ambiguous`: a
 * day either side, the year before (the year written one later), and day and month
 * swapped where both are below 13 and differ — as shifts of the written instant, on the
 * wall clock the time was written in.
 */
export function dateReadings(o: PlannedObservation): { reading: ReadingName; ms: number }[] {
  const r = o.reading;
  const zone = r.timeZone ?? (r.offsetMinutes === null ? 'utc' : FixedOffsetZone.instance(r.offsetMinutes));
  const wall = DateTime.fromMillis(r.start, { zone });
  const out: { reading: ReadingName; ms: number }[] = [
    { reading: 'minus-1d', ms: wall.minus({ days: 1 }).toMillis() - r.start },
    { reading: 'plus-1d', ms: wall.plus({ days: 1 }).toMillis() - r.start },
    { reading: 'minus-1y', ms: wall.minus({ years: 1 }).toMillis() - r.start },
  ];
  if (wall.day <= 12 && wall.day !== wall.month)
    out.push({ reading: 'day-month-swapped', ms: wall.set({ month: wall.day, day: wall.month }).toMillis() - r.start });
  return out;
}

/** Shifts tried on all observations together (each observation's own window moved), and the clock they need, if any. */
const JOINT: readonly { reading: ReadingName; ms: (o: PlannedObservation) => number | null; only: PlannedObservation['clock'] | null }[] = [
  { reading: 'minus-1h', ms: () => -HOUR, only: null },
  { reading: 'plus-1h', ms: () => HOUR, only: null },
  { reading: 'minus-12h', ms: () => -12 * HOUR, only: '12h-ambiguous' },
  { reading: 'plus-12h', ms: () => 12 * HOUR, only: '12h-ambiguous' },
  ...(['minus-1d', 'plus-1d', 'minus-1y', 'day-month-swapped'] as const).map((reading) => ({
    reading,
    ms: (o: PlannedObservation) => dateReadings(o).find((d) => d.reading === reading)?.ms ?? null,
    only: 'date-ambiguous' as const,
  })),
];

/** The windows to fetch for an observation: its own and every alternative reading's. */
export function sensitivityWindows(o: PlannedObservation, request: PlannedRequest): Window[] {
  return [o.window, ...alternativeReadings(o, request.toleranceMs).map((a) => a.window)];
}

export function outcome(
  reading: ReadingName,
  observation: number | null,
  window: Window,
  combined: ReadonlySet<string>,
  baseline: ReadonlySet<string>,
): ReadingOutcome {
  let missing = 0;
  for (const a of baseline) if (!combined.has(a)) missing++;
  let added = 0;
  for (const a of combined) if (!baseline.has(a)) added++;
  return { reading, observation, window, candidateCount: combined.size, missing, added, accounts: combined };
}

/**
 * True when every row fetched for an observation overlaps `a` exactly when it overlaps
 * `b`; then both windows give the same accounts. A translation's sub-window is its row
 * cut to the window, and an allocation supports an account when it meets that sub-window:
 * three intervals meet in a point exactly when each pair meets (Helly, in one dimension),
 * and the pair allocation–row does not depend on the window. So the account set depends
 * only on which rows overlap the window.
 */
export function sameRows(f: FetchedObservation, a: Window, b: Window): boolean {
  const { starts, ends } = rowSpans(f);
  for (let k = 0; k < starts.length; k++) {
    // overlaps() of src/time.ts: start before the window end, and no end or an end after its start.
    const s = starts[k]!;
    const e = ends[k]!;
    if ((s < a.end && e > a.start) !== (s < b.end && e > b.start)) return false;
  }
  return true;
}

// Every row fetched for an observation, as two flat arrays of starts and ends (an open end
// as +Infinity), built once per fetched observation for all the readings compared on it.
const spans = new WeakMap<FetchedObservation, { starts: Float64Array; ends: Float64Array }>();

function rowSpans(f: FetchedObservation): { starts: Float64Array; ends: Float64Array } {
  let hit = spans.get(f);
  if (hit === undefined) {
    const lists: (readonly Interval[])[] = [f.blocks, f.sessions, f.deterministic, f.publicAllocations, ...f.inside.values()];
    const n = lists.reduce((a, l) => a + l.length, 0);
    hit = { starts: new Float64Array(n), ends: new Float64Array(n) };
    let k = 0;
    for (const list of lists)
      for (const r of list) {
        hit.starts[k] = r.start;
        hit.ends[k++] = r.end ?? Infinity;
      }
    spans.set(f, hit);
  }
  return hit;
}

export function intersectAll(sets: readonly ReadonlySet<string>[]): Set<string> {
  const [first, ...rest] = sets;
  return new Set([...(first ?? [])].filter((a) => rest.every((s) => s.has(a))));
}

/**
 * For each trace, the outcome of every alternative reading, evaluated in memory on the
 * rows fetched for {@link sensitivityWindows} (pure, no store): one list per observation,
 * then the joint shifts.
 *
 * @example
 * const [{ perObservation, joint }] = timeSensitivity([trace]);
 * perObservation[0].filter((r) => r.added > 0); // readings that find someone the answer lacks
 */
export function timeSensitivity(traces: readonly MatchTrace[]): { perObservation: ReadingOutcome[][]; joint: ReadingOutcome[] }[] {
  return traces.map((trace) => {
    const baseline = new Set(trace.correlation.candidates.map((c) => c.account));
    const own = trace.observations.map((ot) => new Set(ot.matches.accounts.keys()));
    // A window evaluated once per observation (a joint shift reuses the window of the same
    // shift read alone).
    const evaluated = new Map<string, Set<string>>();
    const at = (i: number, window: Window): Set<string> => {
      const key = `${i}|${window.start}|${window.end}`;
      let hit = evaluated.get(key);
      if (hit === undefined) evaluated.set(key, (hit = evaluateAt(i, window)));
      return hit;
    };
    const evaluateAt = (i: number, window: Window): Set<string> => {
      const f = trace.fetched[i]!;
      if (!f.fetchWindows.some((w) => w.start <= window.start && window.end <= w.end)) {
        throw new IparError('SENSITIVITY_WINDOW', `a reading of observation ${i} lies outside the rows fetched for it`);
      }
      // Most readings a minute either side meet the same rows: no need to evaluate again.
      if (sameRows(f, window, f.observation.window)) return own[i]!;
      return new Set(evaluate(f, window).matches.accounts.keys());
    };
    const readings = trace.fetched.map((f, i) => alternativeReadings(f.observation, trace.request.toleranceMs).map((r) => ({ ...r, set: at(i, r.window) })));
    const perObservation = readings.map((list, i) =>
      list.map(({ reading, window, set }) => outcome(reading, i, window, intersectAll(own.map((s, j) => (j === i ? set : s))), baseline)),
    );
    const joint: ReadingOutcome[] = [];
    if (trace.fetched.length > 1) {
      for (const { reading, ms, only } of JOINT) {
        const shifts = trace.fetched.map((f) => (only === null || f.observation.clock === only ? ms(f.observation) : null));
        if (shifts.filter((x) => x !== null).length < 2) continue;
        const sets = trace.fetched.map((f, i) => {
          const d = shifts[i];
          return d === null || d === undefined ? own[i]! : at(i, { start: f.observation.window.start + d, end: f.observation.window.end + d });
        });
        const first = trace.fetched[0]!.observation.window;
        const d0 = shifts[0] ?? 0;
        joint.push(outcome(reading, null, { start: first.start + d0, end: first.end + d0 }, intersectAll(sets), baseline));
      }
      // Each observation read any plausible way, independently (a 12-hour clock can be
      // right for one time and twelve hours off for the next): who fits some combination.
      const anyReading = own.map((s, i) => new Set([...s, ...readings[i]!.flatMap((r) => [...r.set])]));
      joint.push(outcome('any-combination', null, trace.fetched[0]!.observation.window, intersectAll(anyReading), baseline));
    }
    return { perObservation, joint };
  });
}
