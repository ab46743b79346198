/**
 * Timestamps at the head of syslog-style lines: RFC 5424 (`<14>1 2019-04-12T14:29:06.576Z
 * host …`, an offset or, rarely, none), BSD (`Oct 30 21:46:04 host …`, local, no year),
 * and a relay's BSD header in front of the device's own RFC 5424 message
 * (`Oct 30 21:46:04 relay <14>1 2019-04-12T14:29:06.576+02:00 host …`), where the
 * device's time is the event's clock and wins over the relay's zone-less one.
 */
import type { Clocks, TimeResult } from './clock.js';

/** `<PRI>1 TIMESTAMP ` at the start of an RFC 5424 line. */
export const RFC5424_HEAD = /^<\d{1,3}>1 (\S+) /;
/** `[<PRI>]Mon dd [yyyy ]hh:mm:ss[.fff] ` at the start of a BSD line. */
export const BSD_HEAD = /^(?:<\d{1,3}>)?([A-Z][a-z]{2}) {1,2}(\d{1,2}) (?:(\d{4}) )?(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))? /;
/** After a relay's BSD header: its host name, then the device's RFC 5424 message (PRI optional). */
const RELAYED_RFC5424 = /^\S+ (?:<\d{1,3}>)?1 (\d{4}-\d{2}-\d{2}T\S+) /;

/**
 * The time of a syslog header at the start of `text`: `undefined` when the line has no
 * header (a bare message), else the reading or why it cannot be read.
 *
 * @example headerTime('Oct 30 21:46:04 relay <14>1 2011-10-31T04:46:04Z dev …', clocks) // 04:46:04Z
 */
export function headerTime(text: string, clocks: Clocks): TimeResult | undefined {
  const r = RFC5424_HEAD.exec(text);
  if (r !== null) return clocks.iso(r[1]!);
  const b = BSD_HEAD.exec(text);
  if (b === null) return undefined;
  const relayed = RELAYED_RFC5424.exec(text.slice(b[0].length));
  if (relayed !== null) return clocks.iso(relayed[1]!);
  return clocks.bsd(b, 1);
}

/** Timestamps in a header; the last one is the device's (a relay's comes first). */
const STAMP = /(?:^|[\s>*.])([A-Z][a-z]{2}) {1,2}(\d{1,2})(?: (\d{4}))? (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?/g;
const ISO_STAMP = /(?:^|[\s>])(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)/g;
/** What may follow the device time: its zone, then `:` ending the header. */
const ZONE_AFTER = /^ ([A-Za-z]{1,5}|[+-]\d{2}:?\d{2}):\s*$/;

/**
 * The device's own time in the header before its message marker (Cisco ASA `%ASA-…`,
 * IOS `%NAT-…`): the last timestamp there, ISO or BSD with the zone word the device prints
 * (`Sep 25 15:47:07 EDT: %ASA-…`, `May 21 12:00:01.123 gmt: %IOSXE-…`), else read in the
 * operator's zone. `undefined` when the header holds no timestamp.
 *
 * @example deviceStamp('<14>Nov 11 06:54:58 relay Nov 11 2014 06:47:11: ', clocks) // the device's 06:47:11
 */
export function deviceStamp(header: string, clocks: Clocks): { result: TimeResult; text: string } | undefined {
  let last: RegExpExecArray | null = null;
  let lastEnd = 0;
  STAMP.lastIndex = 0;
  for (let m = STAMP.exec(header); m !== null; m = STAMP.exec(header)) {
    last = m;
    lastEnd = m.index + m[0].length;
  }
  let lastIso: RegExpExecArray | null = null;
  ISO_STAMP.lastIndex = 0;
  for (let m = ISO_STAMP.exec(header); m !== null; m = ISO_STAMP.exec(header)) lastIso = m;
  if (lastIso !== null && (last === null || lastIso.index > last.index)) return { result: clocks.iso(lastIso[1]!), text: lastIso[1]! };
  if (last === null) return undefined;
  const zone = ZONE_AFTER.exec(header.slice(lastEnd))?.[1];
  return { result: clocks.bsd(last, 1, zone), text: last[0].trim() };
}
