/**
 * How an authority's source writes a time, right or wrong. The simulator knows the true
 * instant of an event and writes it the way a real source would: to the millisecond,
 * second or minute; in UTC, or as UK wall-clock time with its zone; or with the two
 * errors behind real wrong disclosures (DESIGN.md): Europe/London local time labelled
 * UTC, or an offset off by one hour (GMT/BST confusion), and a 12-hour clock without
 * AM/PM.
 */
import { DateTime } from 'luxon';
import type { Precision } from '../src/time.js';

/**
 * - `utc`: correct, ISO with `Z`.
 * - `local`: correct, `{local, timeZone}` wall-clock time.
 * - `as-utc`: wall-clock time in the zone written with `Z` (an hour late in BST).
 * - `offset-off-by-one`: wall-clock time with an offset one hour off the true one.
 */
export const ZONE_WRITINGS = ['utc', 'local', 'as-utc', 'offset-off-by-one'] as const;
export type ZoneWriting = (typeof ZONE_WRITINGS)[number];

export interface TimeWriting {
  readonly precision: Precision;
  readonly zone: ZoneWriting;
  /** Hours written 1–12 without AM/PM. */
  readonly clock12h: boolean;
  /** IANA zone of the wall clock; default `Europe/London`. */
  readonly timeZone?: string;
  /** For `offset-off-by-one`: +60 or −60 minutes added to the true offset; default +60. */
  readonly offsetShiftMinutes?: 60 | -60;
}

/** A time as written in a request: ISO text with `Z` or an offset, or a wall-clock time. */
export type WrittenTime = string | { readonly local: string; readonly timeZone: string };

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

function offsetText(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const m = Math.abs(minutes);
  return `${sign}${pad(Math.floor(m / 60))}:${pad(m % 60)}`;
}

/**
 * Write the instant `ms` the way `how` says. The instant is first truncated to the
 * precision (a clock that shows seconds shows the second that has begun).
 *
 * @example
 * const t = Date.UTC(2026, 5, 1, 22, 15, 3, 123);
 * writeTime(t, { precision: 's', zone: 'utc', clock12h: false });    // '2026-06-01T22:15:03Z'
 * writeTime(t, { precision: 'min', zone: 'as-utc', clock12h: false }); // '2026-06-01T23:15Z' (BST read as UTC)
 * writeTime(t, { precision: 's', zone: 'utc', clock12h: true });     // '2026-06-01T10:15:03Z'
 */
export function writeTime(ms: number, how: TimeWriting): WrittenTime {
  const unit = how.precision === 'ms' ? 1 : how.precision === 's' ? 1000 : 60_000;
  const truncated = Math.floor(ms / unit) * unit;
  const timeZone = how.timeZone ?? 'Europe/London';
  const dt = DateTime.fromMillis(truncated, { zone: how.zone === 'utc' ? 'utc' : timeZone });
  const hour = how.clock12h ? (dt.hour % 12 === 0 ? 12 : dt.hour % 12) : dt.hour;
  let wall = `${pad(dt.year, 4)}-${pad(dt.month)}-${pad(dt.day)}T${pad(hour)}:${pad(dt.minute)}`;
  if (how.precision !== 'min') wall += `:${pad(dt.second)}`;
  if (how.precision === 'ms') wall += `.${pad(dt.millisecond, 3)}`;
  switch (how.zone) {
    case 'local':
      return { local: wall, timeZone };
    case 'offset-off-by-one':
      return wall + offsetText(dt.offset + (how.offsetShiftMinutes ?? 60));
    case 'utc':
    case 'as-utc':
      return wall + 'Z';
  }
}

/** How a date can be miswritten (oversight reports): a year later, a day off, day and month swapped. */
export type DateError = 'wrong-year' | 'day-before' | 'day-after' | 'day-month-swapped';

/**
 * A written time with its date miswritten; the time of day and the zone stay as written.
 * `day-month-swapped` changes nothing unless day and month are both below 13 and differ.
 *
 * @example
 * misdate('2026-03-05T10:00:00Z', 'day-month-swapped'); // '2026-05-03T10:00:00Z'
 */
export function misdate(written: WrittenTime, error: DateError): WrittenTime {
  const change = (wall: string): string => {
    const date = wall.slice(0, 10);
    const d = DateTime.fromISO(date, { zone: 'utc' });
    let out: DateTime;
    if (error === 'wrong-year') out = d.plus({ years: 1 });
    else if (error === 'day-before') out = d.minus({ days: 1 });
    else if (error === 'day-after') out = d.plus({ days: 1 });
    else if (d.day <= 12 && d.day !== d.month) out = d.set({ month: d.day, day: d.month });
    else out = d;
    return `${pad(out.year, 4)}-${pad(out.month)}-${pad(out.day)}${wall.slice(10)}`;
  };
  return typeof written === 'string' ? change(written) : { ...written, local: change(written.local) };
}
