/**
 * Reading an observation's time (DESIGN.md, "Life of a request", step 1): every form
 * becomes UTC epoch ms, and how it was written — precision, offset or zone, DST fold or
 * gap — is kept, because that is where real resolutions go wrong.
 */
import { IANAZone } from 'luxon';
import type { Problem } from '../src/problems.js';
import type { ObservationTime } from '../src/request.js';
import { PRECISION_MS, parseInstant, type Precision, type Window } from '../src/time.js';

/** What the written time means, before any tolerance. */
export interface TimeReading {
  /** `[start, end)`: an instant spans its precision, `[t, t + p)`; a range is `[from, to)`. */
  readonly start: number;
  readonly end: number;
  readonly precision: Precision;
  readonly form: 'instant' | 'range' | 'local';
  /** The offset written with an instant (or with both ends of a range), in minutes east of UTC. */
  readonly offsetMinutes: number | null;
  readonly timeZone: string | null;
  /** For a wall-clock time in a DST fold: each instant it can mean (two). */
  readonly foldInstants: readonly number[] | null;
  /** A wall-clock time that does not exist (DST gap), read shifted forward. */
  readonly inGap: boolean;
  /** In a gap, the other reading (with the offset in force after the gap). */
  readonly gapAlternative: number | null;
}

export type TimeParse = { readonly ok: true; readonly value: TimeReading } | { readonly ok: false; readonly problems: readonly Problem[] };

interface LocalInstants {
  /** Every instant the wall-clock time can mean in the zone (0 in a gap, 2 in a fold). */
  readonly instants: number[];
  /** The reading used: the only one, the earliest in a fold, or shifted forward in a gap. */
  readonly chosen: number;
  /** In a gap, the reading with the offset in force after it (lands before the gap). */
  readonly gapAlternative: number | null;
  readonly precision: Precision;
}

/**
 * An IANA zone whose offsets are remembered by instant: luxon asks `Intl` for each one
 * (several µs), and a request's readings ask the same instants again (each reading an
 * hour either side looks at the written instant and the hour around it).
 */
class RememberingZone extends IANAZone {
  readonly #offsets = new Map<number, number>();

  override offset(ts: number): number {
    let o = this.#offsets.get(ts);
    if (o === undefined) {
      o = super.offset(ts);
      if (this.#offsets.size >= 100_000) this.#offsets.clear();
      this.#offsets.set(ts, o);
    }
    return o;
  }
}

const zones = new Map<string, IANAZone | null>();

/** The IANA zone of that name (cached), or `null` when there is none. */
export function zone(name: string): IANAZone | null {
  let z = zones.get(name);
  if (z === undefined) {
    const created = new RememberingZone(name);
    z = created.isValid ? created : null;
    zones.set(name, z);
  }
  return z;
}

/** The instants a wall-clock time can mean in a zone (luxon supplies the zone's offsets). */
export function localInstants(
  local: string,
  timeZone: string,
  field: string,
  zoneField: string,
): { ok: true; value: LocalInstants } | { ok: false; problems: Problem[] } {
  const z = zone(timeZone);
  if (z === null)
    return {
      ok: false,
      problems: [{ field: zoneField, reason: 'UNKNOWN_TIME_ZONE', message: `not an IANA time zone: ${JSON.stringify(timeZone)}`, value: timeZone }],
    };
  const wall = parseInstant(local + 'Z');
  if (!wall.ok) {
    return {
      ok: false,
      problems: [{ field, reason: 'INVALID_LOCAL_TIME', message: `not a wall-clock time without offset: ${JSON.stringify(local)}`, value: local }],
    };
  }
  const asUtc = wall.value.ms;
  const offsets = new Set<number>();
  for (const h of [-48, -24, -12, -6, -3, -1, 0, 1, 3, 6, 12, 24, 48]) offsets.add(z.offset(asUtc + h * 3_600_000));
  const instants = [...offsets]
    .map((o) => asUtc - o * 60_000)
    .filter((t) => z.offset(t) * 60_000 === asUtc - t)
    .sort((a, b) => a - b);
  let chosen = instants[0];
  let gapAlternative: number | null = null;
  if (chosen === undefined) {
    // In a gap: read with the offset in force just before it, which lands after the gap;
    // the offset in force after it gives the other reading.
    chosen = asUtc - z.offset(asUtc - 86_400_000) * 60_000;
    gapAlternative = asUtc - z.offset(asUtc + 86_400_000) * 60_000;
  }
  return { ok: true, value: { instants: [...new Set(instants)], chosen, gapAlternative, precision: wall.value.precision } };
}

function instant(textValue: string, field: string): { ok: true; ms: number; precision: Precision; offsetMinutes: number } | { ok: false; problems: Problem[] } {
  const r = parseInstant(textValue);
  if (!r.ok) return { ok: false, problems: [{ field, reason: r.reason, message: r.message, value: textValue }] };
  return { ok: true, ms: r.value.ms, precision: r.value.precision, offsetMinutes: r.value.offsetMinutes };
}

/**
 * Read an observation's `time`: an ISO instant with offset, `{from, to}`, or
 * `{local, timeZone}` (and `{from, to, timeZone}` for a wall-clock range).
 *
 * @example
 * readTime({ local: '2026-10-25T01:30:00', timeZone: 'Europe/London' }, 'time');
 * // ok; foldInstants: [00:30Z, 01:30Z] — the hour that happens twice
 */
export function readTime(time: ObservationTime, field: string): TimeParse {
  if (typeof time === 'string') {
    const r = instant(time, field);
    if (!r.ok) return r;
    return {
      ok: true,
      value: {
        start: r.ms,
        end: r.ms + PRECISION_MS[r.precision],
        precision: r.precision,
        form: 'instant',
        offsetMinutes: r.offsetMinutes,
        timeZone: null,
        foldInstants: null,
        inGap: false,
        gapAlternative: null,
      },
    };
  }
  if ('local' in time) {
    const r = localInstants(time.local, time.timeZone, `${field}.local`, `${field}.timeZone`);
    if (!r.ok) return r;
    const { instants, chosen, precision } = r.value;
    const fold = instants.length > 1 ? instants : null;
    const last = fold === null ? chosen : fold[fold.length - 1]!;
    return {
      ok: true,
      value: {
        start: fold === null ? chosen : fold[0]!,
        end: last + PRECISION_MS[precision],
        precision,
        form: 'local',
        offsetMinutes: null,
        timeZone: time.timeZone,
        foldInstants: fold,
        inGap: instants.length === 0,
        gapAlternative: r.value.gapAlternative,
      },
    };
  }
  // A range.
  let from: number, to: number, precision: Precision;
  let offsetMinutes: number | null = null;
  let fold: number[] | null = null;
  let inGap = false;
  if (time.timeZone === undefined) {
    const a = instant(time.from, `${field}.from`);
    const b = instant(time.to, `${field}.to`);
    if (!a.ok || !b.ok) return { ok: false, problems: [...(a.ok ? [] : a.problems), ...(b.ok ? [] : b.problems)] };
    [from, to] = [a.ms, b.ms];
    // Both ends written with the same offset: the range says it, as an instant would.
    if (a.offsetMinutes === b.offsetMinutes) offsetMinutes = a.offsetMinutes;
    precision = PRECISION_MS[a.precision] >= PRECISION_MS[b.precision] ? a.precision : b.precision;
  } else {
    const a = localInstants(time.from, time.timeZone, `${field}.from`, `${field}.timeZone`);
    const b = localInstants(time.to, time.timeZone, `${field}.to`, `${field}.timeZone`);
    if (!a.ok || !b.ok) return { ok: false, problems: [...(a.ok ? [] : a.problems), ...(b.ok ? [] : b.problems)] };
    from = Math.min(a.value.chosen, ...a.value.instants);
    to = Math.max(b.value.chosen, ...b.value.instants);
    precision = PRECISION_MS[a.value.precision] >= PRECISION_MS[b.value.precision] ? a.value.precision : b.value.precision;
    const folds = [...a.value.instants, ...b.value.instants];
    if (a.value.instants.length > 1 || b.value.instants.length > 1) fold = folds;
    inGap = a.value.instants.length === 0 || b.value.instants.length === 0;
  }
  if (to < from) {
    return {
      ok: false,
      problems: [
        {
          field: `${field}.to`,
          reason: 'END_BEFORE_START',
          message: `range ends (${new Date(to).toISOString()}) before it starts (${new Date(from).toISOString()})`,
          value: time.to,
        },
      ],
    };
  }
  return {
    ok: true,
    value: { start: from, end: to, precision, form: 'range', offsetMinutes, timeZone: time.timeZone ?? null, foldInstants: fold, inGap, gapAlternative: null },
  };
}

/** The observation window `[start − τ, end + τ)` for a tolerance τ in ms. */
export function windowOf(reading: { readonly start: number; readonly end: number }, toleranceMs: number): Window {
  return { start: reading.start - toleranceMs, end: reading.end + toleranceMs };
}
