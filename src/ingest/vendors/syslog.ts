/**
 * Timestamps at the head of syslog-style lines: RFC 5424 (`<14>1 2019-04-12T14:29:06.576Z
 * host …`, an offset or, rarely, none) and BSD (`Oct 30 21:46:04 host …`, local, no year).
 */
import type { Clocks, TimeResult } from './clock.js';

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
