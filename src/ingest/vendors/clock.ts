/**
 * Reading vendor clocks into UTC epoch milliseconds. Every source states its zone: an
 * offset or an abbreviation in the line, or the operator's `timeZone`. Times that carry
 * an offset are plain `Date.UTC` arithmetic; luxon is used only to apply an IANA zone,
 * and its answer is cached per local hour because a zone lookup costs ~5 µs.
 */
import { IANAZone } from 'luxon';
import type { ProblemReason } from '../../catalogue/problems.js';
import { IparError } from '../../problems.js';
import { parseInstant } from '../../time.js';
import type { VendorOptions } from './types.js';

/** Why a time could not be read. Constant, for grouping a batch report. */
export type TimeReason = Extract<
  ProblemReason,
  | 'TIME_MISSING'
  | 'INVALID_TIME'
  | 'ZONE_UNKNOWN'
  | 'AMBIGUOUS_ZONE_ABBREVIATION'
  | 'UNKNOWN_ZONE_ABBREVIATION'
  | 'NONEXISTENT_LOCAL_TIME'
  | 'YEAR_UNKNOWN'
  /** Two clocks in one line disagree by more than their precision. */
  | 'CLOCKS_DISAGREE'
  /** A time (or a time plus a duration) outside 1970–9999, the years a record may hold. */
  | 'TIME_OUT_OF_RANGE'
>;

/** The last instant a record may hold: 9999-12-31T23:59:59.999Z (the years {@link wallMs} reads). */
export const LAST_INSTANT_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * Whether an epoch-ms time lies in the years a record may hold (1970–9999): a number
 * from a log (epoch seconds, a start plus a duration) is checked before it is used.
 *
 * @example
 * instantInRange(9999999999999 * 1000); // false
 */
export function instantInRange(ms: number): boolean {
  return Number.isSafeInteger(ms) && ms >= 0 && ms <= LAST_INSTANT_MS;
}

/**
 * An instant read from a log. `early` and `late` differ only for a wall-clock time in a
 * DST fold (it happened twice): a start takes the early reading and an end the late one,
 * so the record covers both readings instead of silently picking one.
 */
export interface Reading {
  readonly early: number;
  readonly late: number;
}

export type TimeResult = { readonly ok: true; readonly value: Reading } | { readonly ok: false; readonly reason: TimeReason; readonly message: string };

export function exact(ms: number): TimeResult {
  return { ok: true, value: { early: ms, late: ms } };
}

export function timeFailure(reason: TimeReason, message: string): TimeResult {
  return { ok: false, reason, message };
}

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

/**
 * Zone abbreviations read as fixed offsets (minutes east of UTC). Only abbreviations that
 * name one offset in current use are here. EST/EDT/CST… are North American by decision:
 * glibc writes them for America/* zones, which is where the samples come from. PST/PDT
 * are also written by Asia/Manila (+08:00): an operator there passes
 * `zoneAbbreviations: { PST: '+08:00' }`. The abbreviations in {@link AMBIGUOUS} name
 * several offsets in current use and are refused unless the operator maps them.
 */
export const ZONE_ABBREVIATIONS: Readonly<Record<string, number>> = Object.freeze({
  Z: 0,
  UT: 0,
  UTC: 0,
  GMT: 0,
  WET: 0,
  WEST: 60,
  CET: 60,
  MET: 60,
  CEST: 120,
  MEST: 120,
  EET: 120,
  EEST: 180,
  SAST: 120,
  MSK: 180,
  WIB: 420,
  ICT: 420,
  WITA: 480,
  HKT: 480,
  SGT: 480,
  AWST: 480,
  WIT: 540,
  JST: 540,
  KST: 540,
  ACST: 570,
  ACDT: 630,
  AEST: 600,
  AEDT: 660,
  NZST: 720,
  NZDT: 780,
  HST: -600,
  AKST: -540,
  AKDT: -480,
  PST: -480,
  PDT: -420,
  MST: -420,
  MDT: -360,
  EST: -300,
  EDT: -240,
  NST: -210,
  NDT: -150,
});

/** Abbreviations with several current meanings (IST: India, Ireland, Israel; …). */
export const AMBIGUOUS: ReadonlySet<string> = new Set(['IST', 'BST', 'CST', 'CDT', 'AST', 'ADT', 'GST', 'SST', 'ECT', 'AMT', 'CAT', 'PHT']);

const OFFSET_TEXT = /^([+-])(\d{2}):?(\d{2})$/;

/** Minutes east of UTC for `+hh:mm`, `-hhmm`; null when not an offset. */
export function offsetMinutes(text: string): number | null {
  const m = OFFSET_TEXT.exec(text);
  if (m === null) return null;
  const h = Number(m[2]),
    mi = Number(m[3]);
  if (h > 18 || mi > 59) return null;
  return (m[1] === '-' ? -1 : 1) * (h * 60 + mi);
}

export type ZoneWord = { readonly ok: true; readonly offset: number } | { readonly ok: false; readonly reason: TimeReason; readonly message: string };

/** Resolve a zone word (`CEST`, `gmt`, `+0100`, `(GMT)`) to an offset, with the operator's overrides first. */
export function zoneWordOffset(word: string, overrides: ReadonlyMap<string, number>): ZoneWord {
  const key = word.replace(/^\(|\)$/g, '').toUpperCase();
  const override = overrides.get(key);
  if (override !== undefined) return { ok: true, offset: override };
  const numeric = offsetMinutes(key);
  if (numeric !== null) return { ok: true, offset: numeric };
  const fixed = ZONE_ABBREVIATIONS[key];
  if (fixed !== undefined) return { ok: true, offset: fixed };
  if (AMBIGUOUS.has(key)) {
    return {
      ok: false,
      reason: 'AMBIGUOUS_ZONE_ABBREVIATION',
      message: `zone abbreviation ${JSON.stringify(word)} names several offsets; map it with zoneAbbreviations`,
    };
  }
  return { ok: false, reason: 'UNKNOWN_ZONE_ABBREVIATION', message: `unknown zone abbreviation ${JSON.stringify(word)}; map it with zoneAbbreviations` };
}

/** Validate the operator's abbreviation overrides (`{ PST: '+08:00' }`) once per session. */
export function abbreviationOverrides(map: Readonly<Record<string, string>> | undefined): ReadonlyMap<string, number> {
  const out = new Map<string, number>();
  if (map === undefined) return out;
  for (const [abbr, text] of Object.entries(map)) {
    const minutes = offsetMinutes(text);
    if (minutes === null) throw new IparError('INVALID_OPTION', `zoneAbbreviations.${abbr} must be an offset like +08:00, got ${JSON.stringify(text)}`);
    out.set(abbr.toUpperCase(), minutes);
  }
  return out;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Wall-clock fields (month 1–12, milliseconds already truncated) as if UTC, or null when
 * no such date or time exists (30 February, 24:00, a leap second).
 */
export function wallMs(year: number, month: number, day: number, hour: number, minute: number, second: number, ms = 0): number | null {
  if (!(year >= 1970 && year <= 9999 && month >= 1 && month <= 12 && day >= 1 && hour <= 23 && minute <= 59 && second <= 59)) return null;
  const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > DAYS_IN_MONTH[month - 1]! + (leap ? 1 : 0)) return null;
  return Date.UTC(year, month - 1, day, hour, minute, second, ms);
}

/** Milliseconds from a fraction written after the seconds (`.87` is 870 ms, `.252715` is 252 ms). */
export function fractionMs(frac: string | undefined): number {
  if (frac === undefined || frac === '') return 0;
  return Number(frac.slice(0, 3).padEnd(3, '0'));
}

interface HourOffsets {
  /** Offsets (minutes) valid for the whole local hour: one, or two in a fold; none in a gap. */
  readonly offsets: readonly number[];
}

/**
 * Local wall-clock time in one IANA zone to UTC. A time in a DST gap is refused; a time
 * in a fold yields both readings. Results are cached per local hour unless the hour
 * itself holds a transition.
 */
export class ZoneClock {
  private readonly zone: IANAZone;
  private readonly cache = new Map<number, HourOffsets>();

  constructor(readonly name: string) {
    if (!IANAZone.isValidZone(name)) throw new IparError('INVALID_OPTION', `timeZone ${JSON.stringify(name)} is not an IANA zone`);
    this.zone = IANAZone.create(name);
  }

  private offsetsAt(wall: number): number[] {
    const candidates = new Set([this.zone.offset(wall - 12 * HOUR_MS), this.zone.offset(wall), this.zone.offset(wall + 12 * HOUR_MS)]);
    const valid: number[] = [];
    for (const o of candidates) if (this.zone.offset(wall - o * MINUTE_MS) === o) valid.push(o);
    // Larger offset first: wall − offset is then the earlier instant.
    return valid.sort((a, b) => b - a);
  }

  private hour(wall: number): HourOffsets | null {
    const key = Math.floor(wall / HOUR_MS);
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit;
    const first = this.offsetsAt(key * HOUR_MS);
    const last = this.offsetsAt(key * HOUR_MS + HOUR_MS - 1);
    if (first.length !== last.length || first.some((o, i) => o !== last[i])) return null;
    const entry = { offsets: first };
    if (this.cache.size > 50_000) this.cache.clear();
    this.cache.set(key, entry);
    return entry;
  }

  /** Convert a validated wall time (from {@link wallMs}). */
  fromWall(wall: number, text: string): TimeResult {
    const offsets = this.hour(wall)?.offsets ?? this.offsetsAt(wall);
    const first = offsets[0];
    if (first === undefined) {
      return timeFailure('NONEXISTENT_LOCAL_TIME', `${text} does not exist in ${this.name} (skipped by a DST change)`);
    }
    const last = offsets[offsets.length - 1] ?? first;
    return { ok: true, value: { early: wall - first * MINUTE_MS, late: wall - last * MINUTE_MS } };
  }
}

/** The operator's zone for lines without one, or a constant refusal when none was given. */
export interface LocalZone {
  fromWall(wall: number, text: string): TimeResult;
}

export function localZone(timeZone: string | undefined, format: string): LocalZone {
  if (timeZone !== undefined) return new ZoneClock(timeZone);
  return {
    fromWall: (_wall, text) => timeFailure('ZONE_UNKNOWN', `${format}: ${text} has no zone; pass timeZone (--tz) with the device's IANA zone`),
  };
}

/** Read a wall time in a fixed offset (minutes east of UTC). */
export function fromOffset(wall: number, offset: number): TimeResult {
  return exact(wall - offset * MINUTE_MS);
}

export const MONTHS: Readonly<Record<string, number>> = Object.freeze({
  Jan: 1,
  Feb: 2,
  Mar: 3,
  Apr: 4,
  May: 5,
  Jun: 6,
  Jul: 7,
  Aug: 8,
  Sep: 9,
  Oct: 10,
  Nov: 11,
  Dec: 12,
});

/**
 * The year of year-less headers (BSD syslog `Oct 30 21:46:04`). It starts at the
 * operator's `year` (the year of the file's first dated line) or at the first year the
 * file itself states, and moves on when the month falls back by more than six months
 * (Dec → Jan). A line more than six months ahead of the running month is a late line
 * from the previous year.
 */
export class YearTracker {
  private year: number | undefined;
  private month = 0;
  /** A year-less header was read: the running year is the file's own inference, worth handing on. */
  private inferred = false;

  constructor(year: number | undefined) {
    if (year !== undefined && !(Number.isInteger(year) && year >= 1970 && year <= 9999)) {
      throw new IparError('INVALID_OPTION', `year must be a whole year such as 2025, got ${String(year)}`);
    }
    this.year = year;
  }

  /** The file stated a year on this line: follow it. */
  observe(year: number, month: number): void {
    this.year = year;
    this.month = month;
  }

  /**
   * The running year and month once a year-less header was read (else undefined): what the
   * next file of the same source continues from (`load`), so a rotated file that starts in
   * January after a December one reads its January as the next year, across runs too.
   */
  save(): { readonly year: number; readonly month: number } | undefined {
    return this.inferred && this.year !== undefined && this.month !== 0 ? { year: this.year, month: this.month } : undefined;
  }

  /** Continue from what an earlier file of the source left (before its first line); it wins over `year`. */
  load(saved: { readonly year: number; readonly month: number }): void {
    this.year = saved.year;
    this.month = saved.month;
    this.inferred = true;
  }

  /** The year for a line in `month` (1–12), or undefined when none is known. */
  resolve(month: number): number | undefined {
    if (this.year === undefined) return undefined;
    this.inferred = true;
    if (this.month === 0) {
      this.month = month;
      return this.year;
    }
    if (month < this.month - 6) {
      this.year += 1;
      this.month = month;
      return this.year;
    }
    if (month > this.month + 6) return this.year - 1;
    this.month = month;
    return this.year;
  }
}

/** `YEAR_UNKNOWN` with the values that would fix it. */
export function yearUnknown(format: string, text: string): TimeResult {
  return timeFailure('YEAR_UNKNOWN', `${format}: ${JSON.stringify(text)} has no year; pass year (--year) for the file's first line`);
}

/** Epoch seconds (or ms, µs, ns by magnitude) to epoch ms, truncating sub-millisecond digits. */
export function epochDigitsMs(digits: string): number | null {
  if (!/^\d{1,19}$/.test(digits)) return null;
  const len = digits.length;
  // Seconds until 2286 have ≤ 10 digits, ms 11–13, µs 16, ns 19 (FortiGate eventtime).
  if (len <= 10) return Number(digits) * 1000;
  if (len <= 13) return Number(digits);
  if (len === 16 || len === 19) return Number(digits.slice(0, 13));
  return null;
}

const ISO_LOCAL = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?$/;

/** The clocks a format may need: the operator's zone, the running year, pinned abbreviations. */
export class Clocks {
  readonly zone: LocalZone;
  readonly years: YearTracker;
  readonly abbreviations: ReadonlyMap<string, number>;

  constructor(
    options: VendorOptions,
    readonly format: string,
  ) {
    this.zone = localZone(options.timeZone, format);
    this.years = new YearTracker(options.year);
    this.abbreviations = abbreviationOverrides(options.zoneAbbreviations);
  }

  private lastIso = '';
  private lastIsoResult: TimeResult | null = null;

  /** ISO 8601 with an offset, or without one in the operator's zone. */
  iso(text: string): TimeResult {
    // Busy logs write the same timestamp on many lines in a row.
    if (text === this.lastIso && this.lastIsoResult !== null) return this.lastIsoResult;
    const result = this.isoUncached(text);
    this.lastIso = text;
    this.lastIsoResult = result;
    return result;
  }

  private isoUncached(text: string): TimeResult {
    const r = parseInstant(text);
    if (r.ok) return exact(r.value.ms);
    if (r.reason === 'INSTANT_WITHOUT_OFFSET') {
      const m = ISO_LOCAL.exec(text);
      if (m !== null) {
        const wall = wallMs(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), fractionMs(m[7]));
        if (wall !== null) return this.zone.fromWall(wall, text);
      }
    }
    return timeFailure('INVALID_TIME', `${this.format}: not a timestamp: ${JSON.stringify(text)}`);
  }

  /**
   * A wall time in the operator's zone, or in the zone a word names (`CEST`, `GMT`,
   * `-0500`), the year taken from the file when it is not written.
   */
  wall(
    year: number | undefined,
    month: number,
    day: number,
    hour: number,
    minute: number,
    second: number,
    ms: number,
    zoneWord: string | undefined,
    text: string,
  ): TimeResult {
    if (year === undefined) {
      year = this.years.resolve(month);
      if (year === undefined) return yearUnknown(this.format, text);
    } else {
      this.years.observe(year, month);
    }
    const wall = wallMs(year, month, day, hour, minute, second, ms);
    if (wall === null) return timeFailure('INVALID_TIME', `${this.format}: no such date or time: ${JSON.stringify(text)}`);
    if (zoneWord === undefined) return this.zone.fromWall(wall, text);
    const z = zoneWordOffset(zoneWord, this.abbreviations);
    if (!z.ok) return timeFailure(z.reason, `${this.format}: ${z.message}`);
    return fromOffset(wall, z.offset);
  }

  private lastBsd = '';
  private lastBsdResult: TimeResult | null = null;

  /**
   * `Oct 30 21:46:04` (day space-padded), optional `.mmm`, optional year after the day.
   * The same text as the line before gives the same reading (and the same year).
   */
  bsd(match: RegExpExecArray, at: number, zoneWord?: string): TimeResult {
    const key = zoneWord === undefined ? match[0] : match[0] + zoneWord;
    if (key === this.lastBsd && this.lastBsdResult !== null) return this.lastBsdResult;
    const result = this.bsdUncached(match, at, zoneWord);
    this.lastBsd = key;
    this.lastBsdResult = result;
    return result;
  }

  private bsdUncached(match: RegExpExecArray, at: number, zoneWord?: string): TimeResult {
    // Groups from `at`: month name, day, year?, hh, mm, ss, fraction?
    const month = MONTHS[match[at] ?? ''];
    const text = match[0] ?? '';
    if (month === undefined) return timeFailure('INVALID_TIME', `${this.format}: not a month: ${JSON.stringify(match[at])}`);
    const y = match[at + 2];
    return this.wall(
      y === undefined ? undefined : Number(y),
      month,
      Number(match[at + 1]),
      Number(match[at + 3]),
      Number(match[at + 4]),
      Number(match[at + 5]),
      fractionMs(match[at + 6]),
      zoneWord,
      text,
    );
  }
}
