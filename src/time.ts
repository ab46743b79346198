/**
 * One time form (STYLE.md item 5): UTC epoch milliseconds in half-open `[start, end)`
 * windows. An instant must say its offset; how it was written (precision, offset) is
 * kept because it drives risk analysis.
 */
import type { ProblemReason } from './catalogue/problems.js';

/** How finely a time was written: to the millisecond, the second or the minute. */
export type Precision = 'ms' | 's' | 'min';

/** Milliseconds that one unit of each precision spans (DESIGN.md: p in `[t − τ, t + p + τ)`). */
export const PRECISION_MS: Readonly<Record<Precision, number>> = Object.freeze({ ms: 1, s: 1000, min: 60_000 });

/** An instant read from ISO 8601 text, with what the text said about itself. */
export interface Instant {
  /** UTC epoch milliseconds (sub-millisecond digits are truncated). */
  readonly ms: number;
  readonly precision: Precision;
  /** The offset written, in minutes east of UTC (`Z` is 0). */
  readonly offsetMinutes: number;
}

export type InstantReason = Extract<ProblemReason, 'INSTANT_WITHOUT_OFFSET' | 'INVALID_INSTANT'>;

export type InstantParse = { readonly ok: true; readonly value: Instant } | { readonly ok: false; readonly reason: InstantReason; readonly message: string };

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** 400 Gregorian years, in ms: the calendar repeats exactly after them. */
const FOUR_CENTURIES_MS = 146_097 * 86_400_000;

/**
 * `Date.UTC` with the year read literally: `Date.UTC` reads years 0–99 as 1900–1999, so
 * those are computed 400 years later (the same calendar) and moved back (issue 20).
 *
 * @example
 * new Date(utcMs(50, 1, 1, 0, 0, 0, 0)).toISOString(); // '0050-01-01T00:00:00.000Z'
 */
export function utcMs(year: number, month: number, day: number, hour: number, minute: number, second: number, ms: number): number {
  if (year >= 0 && year < 100) return Date.UTC(year + 400, month - 1, day, hour, minute, second, ms) - FOUR_CENTURIES_MS;
  return Date.UTC(year, month - 1, day, hour, minute, second, ms);
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * Parse an ISO 8601 instant that carries `Z` or an offset. Text without an offset is
 * refused (`INSTANT_WITHOUT_OFFSET`): a record or request must be unambiguous.
 *
 * @example
 * parseInstant('2026-03-28T10:00:00.123+01:00'); // ok, ms 1774688400123, precision 'ms', offset 60
 */
export function parseInstant(text: string): InstantParse {
  const m = ISO.exec(text);
  if (m === null) return { ok: false, reason: 'INVALID_INSTANT', message: `not an ISO 8601 instant: ${JSON.stringify(text)}` };
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  if (zone === undefined) {
    return { ok: false, reason: 'INSTANT_WITHOUT_OFFSET', message: `instant ${JSON.stringify(text)} has no offset (add Z or ±hh:mm)` };
  }
  const year = Number(y),
    month = Number(mo),
    day = Number(d),
    hour = Number(h),
    minute = Number(mi);
  const second = s === undefined ? 0 : Number(s);
  const millis = frac === undefined ? 0 : Number(frac.slice(0, 3).padEnd(3, '0'));
  let offsetMinutes = 0;
  if (zone !== 'Z' && zone !== 'z') {
    const digits = zone.replace(':', '');
    const oh = Number(digits.slice(1, 3));
    const om = digits.length > 3 ? Number(digits.slice(3, 5)) : 0;
    if (oh > 18 || om > 59) return { ok: false, reason: 'INVALID_INSTANT', message: `offset out of range in ${JSON.stringify(text)}` };
    offsetMinutes = (zone[0] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const local = utcMs(year, month, day, hour, minute, second, millis);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) {
    return { ok: false, reason: 'INVALID_INSTANT', message: `no such date or time: ${JSON.stringify(text)}` };
  }
  const precision: Precision = frac !== undefined ? 'ms' : s !== undefined ? 's' : 'min';
  return { ok: true, value: Object.freeze({ ms: local - offsetMinutes * 60_000, precision, offsetMinutes }) };
}

/** ISO 8601 text in UTC with milliseconds, the form the engine writes. */
export function formatInstant(ms: number): string {
  const day = Math.floor(ms / DAY_MS);
  if (day !== lastDay) {
    const text = new Date(day * DAY_MS).toISOString();
    if (text.length !== 24) return new Date(ms).toISOString(); // years outside 0000–9999
    lastDay = day;
    lastDayText = text.slice(0, 11);
  }
  // Results carry many instants of the same day: format the date once, the time by hand.
  const t = ms - day * DAY_MS;
  const h = Math.floor(t / 3_600_000),
    m = Math.floor(t / 60_000) % 60,
    s = Math.floor(t / 1000) % 60,
    f = t % 1000;
  return `${lastDayText}${h < 10 ? '0' : ''}${h}:${m < 10 ? '0' : ''}${m}:${s < 10 ? '0' : ''}${s}.${f < 10 ? '00' : f < 100 ? '0' : ''}${f}Z`;
}
const DAY_MS = 86_400_000;
let lastDay = NaN;
let lastDayText = '';

/** A half-open interval `[start, end)` in epoch ms; `end` is `null` while still open. */
export interface Interval {
  readonly start: number;
  readonly end: number | null;
}

/** A closed window `[start, end)` in epoch ms, as the matcher asks about it. */
export interface Window {
  readonly start: number;
  readonly end: number;
}

/** True when `[a.start, a.end)` overlaps `[w.start, w.end)`; an open end runs forever. */
export function overlaps(a: Interval, w: Window): boolean {
  return a.start < w.end && (a.end === null || a.end > w.start);
}

/** The part of `a` inside `w`, or `null` when they do not overlap. */
export function intersect(a: Interval, w: Window): Window | null {
  if (!overlaps(a, w)) return null;
  return { start: Math.max(a.start, w.start), end: a.end === null ? w.end : Math.min(a.end, w.end) };
}
