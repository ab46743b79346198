/**
 * Timestamps of syslog-style lines: RFC 5424 (`<14>1 2019-04-12T14:29:06.576Z host …`,
 * an offset or, rarely, none) and BSD (`Oct 30 21:46:04 host …`, local, no year).
 */
import { parseInstant } from '../../time.js';
import {
  MONTHS, YearTracker, abbreviationOverrides, exact, fractionMs, localZone, timeFailure, wallMs, yearUnknown, zoneWordOffset,
  fromOffset, type LocalZone, type TimeResult,
} from './clock.js';
import type { VendorOptions } from './types.js';

const ISO_LOCAL = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?$/;

/** The clocks a format may need: the operator's zone, the running year, pinned abbreviations. */
export class Clocks {
  readonly zone: LocalZone;
  readonly years: YearTracker;
  readonly abbreviations: ReadonlyMap<string, number>;

  constructor(options: VendorOptions, readonly format: string) {
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
    year: number | undefined, month: number, day: number, hour: number, minute: number, second: number, ms: number,
    zoneWord: string | undefined, text: string,
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
      y === undefined ? undefined : Number(y), month, Number(match[at + 1]), Number(match[at + 3]), Number(match[at + 4]), Number(match[at + 5]),
      fractionMs(match[at + 6]), zoneWord, text,
    );
  }
}

/** `<PRI>1 TIMESTAMP ` at the start of an RFC 5424 line. */
export const RFC5424_HEAD = /^<\d{1,3}>1 (\S+) /;
/** `[<PRI>]Mon dd [yyyy ]hh:mm:ss[.fff] ` at the start of a BSD line. */
export const BSD_HEAD = /^(?:<\d{1,3}>)?([A-Z][a-z]{2}) {1,2}(\d{1,2}) (?:(\d{4}) )?(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))? /;

/**
 * The time of a syslog header at the start of `text`: `undefined` when the line has no
 * header (a bare message), else the reading or why it cannot be read.
 */
export function headerTime(text: string, clocks: Clocks): TimeResult | undefined {
  const r = RFC5424_HEAD.exec(text);
  if (r !== null) return clocks.iso(r[1]!);
  const b = BSD_HEAD.exec(text);
  if (b !== null) return clocks.bsd(b, 1);
  return undefined;
}
