/**
 * Severity (issue 18; 9.24): which flags are material — a reading or a fact plausible for
 * this request changes who would be disclosed, or that someone would be — and which are
 * notes. A flag that fires on two answers in three is read as noise, so a reading counts
 * only where the way the time was written allows it. Both halves are data: the
 * plausibility of each reading ({@link READING_PLAUSIBILITY}) and the severity rule of
 * each flag (the `severity` of each row of matcher/risk.ts's table, the `material` text of
 * each code in src/catalogue/risks.ts). Pure.
 */
import { READING_ENTRIES, type RiskCode, type Severity, type UnratedOf, type UnratedRisk } from '../src/catalogue/risks.js';
import type { StoreSettings } from '../src/store/types.js';
import type { PlannedObservation } from './plan.js';
import { zone } from './time.js';
import type { ReadingName, ReadingOutcome } from './sensitivity.js';

const HOUR_MIN = 60;

/** What deciding a reading's plausibility reads about one observation. */
export interface ReadingFacts {
  readonly observation: PlannedObservation;
  readonly settings: StoreSettings;
  readonly toleranceMs: number;
  /** How many accounts the answer names (a `none` answer: 0). */
  readonly answer: number;
  /** How many accounts this observation alone matched. */
  readonly matched: number;
  /**
   * Why this observation's records may be lost, when it matched nobody and a flag of
   * doubt is on it (a gap, outside its sources' span, an inside host no allocation holds,
   * the retention horizon); `null` otherwise.
   */
  readonly doubt: string | null;
}

/** Whether a reading is plausible, and why (the text a flag's detail carries). */
export interface Plausibility {
  readonly plausible: boolean;
  readonly why: string;
}

/**
 * The hour shifts, in minutes, that would correct a time written with `offsetMinutes` at
 * `ms` if it were really the jurisdiction's wall time: the zone's offset at the written
 * instant and at the instant an hour either side (a clock change between them), less the
 * written offset, where that is exactly an hour. `[-60]`: BST written as GMT.
 *
 * @example
 * zoneShifts(Date.parse('2026-07-01T10:00:00Z'), 0, 'Europe/London'); // [-60]
 */
export function zoneShifts(ms: number, offsetMinutes: number, zoneName: string): number[] {
  const z = zone(zoneName);
  if (z === null) return [];
  const out = new Set<number>();
  for (const at of [ms, ms - HOUR_MIN * 60_000, ms + HOUR_MIN * 60_000]) {
    const shift = offsetMinutes - z.offset(at);
    if (Math.abs(shift) === HOUR_MIN) out.add(shift);
  }
  return [...out];
}

function hourShift(direction: -1 | 1) {
  return ({ observation: o, settings }: ReadingFacts): Plausibility => {
    const r = o.reading;
    if (o.clock === 'uncertain') return { plausible: true, why: 'the source clock is declared uncertain' };
    if (r.form === 'local' || (r.form === 'range' && r.timeZone !== null))
      return { plausible: true, why: `the time was given as local time in ${r.timeZone ?? '?'}` };
    // A source that changed its time-zone format without notice: its records after then may be an hour off.
    const changed = Object.entries(settings.zoneChangeAt).find(([, at]) => at <= r.end);
    if (changed !== undefined) return { plausible: true, why: `${changed[0]} changed its time-zone format at ${new Date(changed[1]).toISOString()}` };
    if (r.offsetMinutes === null) return { plausible: false, why: 'the time was written without one offset' };
    const shifts = zoneShifts(r.start, r.offsetMinutes, settings.jurisdictionZone);
    if (shifts.includes(direction * HOUR_MIN)) {
      return {
        plausible: true,
        why: `${settings.jurisdictionZone} is an hour ${direction < 0 ? 'ahead of' : 'behind'} the written offset ${formatOffset(r.offsetMinutes)} at that date`,
      };
    }
    return {
      plausible: false,
      why: `${settings.jurisdictionZone} is not an hour ${direction < 0 ? 'ahead of' : 'behind'} the written offset ${formatOffset(r.offsetMinutes)} at that date`,
    };
  };
}

function formatOffset(minutes: number): string {
  if (minutes === 0) return 'Z';
  const m = Math.abs(minutes);
  return `${minutes < 0 ? '-' : '+'}${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}

const always = (why: string) => (): Plausibility => ({ plausible: true, why });

/** What a reading would return, for the rules that read it (a `none` answer it would fill). */
export type ReadingEffect = Pick<ReadingOutcome, 'candidateCount'>;

/**
 * A date misreading: plausible where the clock is declared `date-ambiguous`, or where the
 * answer is none and this reading would fill it (the time as written finds nobody, so a
 * misdated request is one explanation oversight reports name).
 */
function dateReading(declared: string) {
  return ({ observation, answer }: ReadingFacts, effect?: ReadingEffect): Plausibility => {
    if (observation.clock === 'date-ambiguous') return { plausible: true, why: declared };
    if (answer === 0 && effect !== undefined && effect.candidateCount > 0)
      return { plausible: true, why: `the answer is none and this reading would fill it (${effect.candidateCount} accounts)` };
    return { plausible: false, why: 'the date is not declared ambiguous and the answer is not none' };
  };
}

/** A reading of the records around an observation that matched nobody: plausible where its coverage is in doubt. */
function recordReading({ doubt }: ReadingFacts): Plausibility {
  return doubt === null
    ? { plausible: false, why: "the observation's coverage is not in doubt: no flag says its records may be lost" }
    : { plausible: true, why: `its records may be lost: ${doubt}` };
}

/**
 * Each reading matcher/sensitivity.ts tries, and when the way the time was written makes
 * it plausible. The fold, gap and twelve-hour readings are only tried where they apply
 * (a fold, a gap, a clock declared `12h-ambiguous`), so where tried they are plausible.
 */
export const READING_PLAUSIBILITY: Readonly<
  Record<Exclude<ReadingName, 'any-combination'>, { readonly rule: string; readonly plausible: (f: ReadingFacts, effect?: ReadingEffect) => Plausibility }>
> = {
  'exact-instant': { rule: READING_ENTRIES['exact-instant'].meaning, plausible: always('the time as written, without the tolerance') },
  'wider-tolerance': {
    rule: READING_ENTRIES['wider-tolerance'].meaning,
    plausible: ({ observation, settings, toleranceMs }) => {
      if (observation.clock === 'uncertain') return { plausible: true, why: 'the source clock is declared uncertain' };
      const over = Object.entries(settings.clockErrorMs).filter(([, e]) => e > toleranceMs);
      return over.length > 0
        ? { plausible: true, why: `${over[0]![0]}'s declared clock error (${over[0]![1] / 1000} s) exceeds the tolerance` }
        : { plausible: false, why: 'no declared clock error exceeds the tolerance' };
    },
  },
  'fold-first': { rule: READING_ENTRIES['fold-first'].meaning, plausible: always('the wall-clock time falls in a DST fold') },
  'fold-second': { rule: READING_ENTRIES['fold-second'].meaning, plausible: always('the wall-clock time falls in a DST fold') },
  'gap-other-offset': { rule: READING_ENTRIES['gap-other-offset'].meaning, plausible: always('the wall-clock time falls in a DST gap') },
  'minus-1h': {
    rule: READING_ENTRIES['minus-1h'].meaning,
    plausible: hourShift(-1),
  },
  'plus-1h': {
    rule: READING_ENTRIES['plus-1h'].meaning,
    plausible: hourShift(1),
  },
  'minus-12h': { rule: READING_ENTRIES['minus-12h'].meaning, plausible: always('the clock is declared 12-hour without AM/PM') },
  'plus-12h': { rule: READING_ENTRIES['plus-12h'].meaning, plausible: always('the clock is declared 12-hour without AM/PM') },
  'minus-1d': { rule: READING_ENTRIES['minus-1d'].meaning, plausible: dateReading('the date is declared ambiguous') },
  'plus-1d': { rule: READING_ENTRIES['plus-1d'].meaning, plausible: dateReading('the date is declared ambiguous') },
  'minus-1y': { rule: READING_ENTRIES['minus-1y'].meaning, plausible: dateReading('the date is declared ambiguous') },
  'day-month-swapped': {
    rule: READING_ENTRIES['day-month-swapped'].meaning,
    plausible: dateReading('the date is declared ambiguous, and day and month are both below 13'),
  },
  'held-before': { rule: READING_ENTRIES['held-before'].meaning, plausible: recordReading },
  'held-after': { rule: READING_ENTRIES['held-after'].meaning, plausible: recordReading },
  'without-observations': { rule: READING_ENTRIES['without-observations'].meaning, plausible: recordReading },
};

/** Readings of the records rather than of the time (RECORD_READING_FINDS_MORE raises them). */
export const RECORD_READINGS: ReadonlySet<ReadingName> = new Set(
  (Object.keys(READING_ENTRIES) as (keyof typeof READING_ENTRIES)[]).filter((r) => READING_ENTRIES[r].kind === 'record'),
);

/**
 * Whether `reading` is plausible for observation `index` (a number), or for a joint
 * reading (`null`): plausible for some observation it moves. `any-combination` is
 * plausible when some observation has a plausible reading other than the exact instant;
 * a joint reading of the records, when every observation that matched nobody is in doubt.
 * `effect` is what the reading would return (a date reading that fills a none answer).
 */
export function readingPlausibility(reading: ReadingName, index: number | null, facts: readonly ReadingFacts[], effect?: ReadingEffect): Plausibility {
  if (index === null && RECORD_READINGS.has(reading)) {
    // A joint record reading moves every observation that matched nobody: each must be in doubt.
    const moved = facts.filter((f) => f.matched === 0);
    const clear = moved.find((f) => f.doubt === null);
    if (clear !== undefined) return { plausible: false, why: `observation ${clear.observation.index} matched nobody and its coverage is not in doubt` };
    return moved.length === 0
      ? { plausible: false, why: 'no observation matched nobody' }
      : { plausible: true, why: moved.map((f) => `observation ${f.observation.index}'s records may be lost: ${f.doubt}`).join('; ') };
  }
  if (reading === 'any-combination') {
    for (const f of facts) {
      for (const [name, entry] of Object.entries(READING_PLAUSIBILITY)) {
        if (name === 'exact-instant' || RECORD_READINGS.has(name as ReadingName)) continue;
        const p = entry.plausible(f);
        if (p.plausible) return { plausible: true, why: `observation ${f.observation.index}: ${p.why}` };
      }
    }
    return { plausible: false, why: 'no observation has a plausible reading other than the time as written' };
  }
  const entry = READING_PLAUSIBILITY[reading];
  const chosen = index === null ? facts : facts.slice(index, index + 1);
  let last: Plausibility = { plausible: false, why: 'no observation' };
  for (const f of chosen) {
    last = entry.plausible(f, effect);
    if (last.plausible) return index === null ? { plausible: true, why: `observation ${f.observation.index}: ${last.why}` } : last;
  }
  return last;
}

// ---- severity rules ----------------------------------------------------------------------

/** What a severity rule reads: the answer and every flag raised for the request (unrated). */
export interface RatingContext {
  /** The accounts that fit every observation. */
  readonly candidates: ReadonlySet<string>;
  readonly flags: readonly UnratedRisk[];
  /** Alternative readings, as risk analysis consulted them. */
  readonly readings: { readonly perObservation: readonly (readonly ReadingOutcome[])[]; readonly joint: readonly ReadingOutcome[] };
  /** For each observation, accounts of the answer that rest only on records whose end was inferred. */
  readonly inferredOnly: readonly number[];
}

/** A severity: fixed, or decided from the flag and the request. */
export type SeverityRule<C extends RiskCode = RiskCode> = Severity | ((flag: UnratedOf<C>, ctx: RatingContext) => Severity);

const DOUBT_CODES: ReadonlySet<RiskCode> = new Set(['COVERAGE_GAP', 'BEYOND_RETENTION', 'INFERRED_END']);

/** The coverage of observation `i`'s time is in doubt: a gap, the retention horizon or an inferred end is flagged on it (`'all'`: on any). */
export function coverageInDoubt(ctx: RatingContext, observation: number | 'all'): boolean {
  return ctx.flags.some((f) => DOUBT_CODES.has(f.code) && (observation === 'all' || (f.detail as { observation?: unknown }).observation === observation));
}

/** Severity rules shared by several codes. */
export const SEVERITY = {
  /** A fact that explains why the answer names several accounts. */
  whenSeveral: ((_, ctx) => (ctx.candidates.size > 1 ? 'material' : 'note')) as SeverityRule,
  /** A reading that names other accounts, or nobody where the coverage is in doubt. */
  readingChanges: ((f, ctx) => {
    const d = f.detail;
    return d.readings.some((r) => r.plausible && (r.added > 0 || (r.candidateCount === 0 && coverageInDoubt(ctx, d.observation)))) ? 'material' : 'note';
  }) as SeverityRule<'TIME_READING_CHANGES_RESULT'>,
  readingFindsMore: ((f) => (f.detail.readings.some((r) => r.plausible && r.added > 0) ? 'material' : 'note')) as SeverityRule<'TIME_READING_FINDS_MORE'>,
  inferredEnd: ((f, ctx) => ((ctx.inferredOnly[f.detail.observation] ?? 0) > 0 ? 'material' : 'note')) as SeverityRule<'INFERRED_END'>,
  coverageGap: ((f, ctx) =>
    ctx.candidates.size === 0 || f.detail.gaps.some((g) => g.relation === 'overlaps-window') ? 'material' : 'note') as SeverityRule<'COVERAGE_GAP'>,
  serverAddress: ((_, ctx) => (ctx.candidates.size > 0 ? 'material' : 'note')) as SeverityRule,
  /**
   * A record the answer rests on is open past its source's last evidence, and the source
   * has been silent for longer than its own rates allow (its logs stopped, or the time is
   * misdated): who held it then is not known. A sparse source quiet for a while is not.
   */
  openPastEvidence: ((f, ctx) => (ctx.candidates.size > 0 && f.detail.pastHorizon > 0 ? 'material' : 'note')) as SeverityRule<'OPEN_PAST_EVIDENCE'>,
  toleranceBelowClockError: ((f, ctx) =>
    (ctx.readings.perObservation[f.detail.observation] ?? []).some((r) => r.reading === 'wider-tolerance' && (r.added > 0 || r.missing > 0))
      ? 'material'
      : 'note') as SeverityRule<'TOLERANCE_BELOW_CLOCK_ERROR'>,
} as const;

/** Apply a rule. */
export function severityOf<C extends RiskCode>(rule: SeverityRule<C>, flag: UnratedOf<C>, ctx: RatingContext): Severity {
  return typeof rule === 'string' ? rule : rule(flag, ctx);
}
