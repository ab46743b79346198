/**
 * What each source covered (issue 15 item 2), the same on every backend: a recorder the
 * ingest driver feeds every record it writes, which notes per source (an allocation
 * `source`, a NAT realm) the span of log time and the events by minute, and counts as
 * events only the records the write stored (a re-ingest of the same lines changes no
 * count, and a source it added nothing to is not folded at all); the detector of
 * silences that become inferred gaps; and the fold of one ingest into what the store
 * already holds. Pure: no clock, no store.
 *
 * A silence is a gap when the source's own rate says it should have logged: the lowest
 * of its rate in the hour before, in the hour after and its usual rate at that time of
 * day (the same hours of every day the ingest covered) expects at least
 * {@link GAP_EXPECTED_EVENTS} events over it. Under a Poisson model of the source's
 * events, a quiet stretch that long happens by chance with probability e^−50 ≈ 2·10⁻²²: the margin is for sources whose rate drifts (a day's quiet tail, a sparse feed), which a lower threshold took for gaps in the accuracy harness (8 % false alarms at 20).
 */
import { z } from 'zod';
import { IparError } from '../../problems.js';
import type { CanonicalRecord } from '../../records.js';
import type { CoverageListing, InferredGap, SourceCoverage, StoreReader } from '../types.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** Events the source's own rates must expect over a silence before it is a gap. */
export const GAP_EXPECTED_EVENTS = 50;
/** Shortest silence that can be a gap (shorter ones are clock jitter and batching). */
export const GAP_MIN_MS = 2 * MINUTE;
/** How far either side of a silence its local rate is measured. */
export const RATE_WINDOW_MS = HOUR;

interface Bucket {
  n: number;
  min: number;
  max: number;
}

interface Seen {
  readonly role: SourceCoverage['role'];
  first: number;
  last: number;
  /** Events of records the store did not hold yet (what the fold adds). */
  events: number;
  readonly minutes: Map<number, Bucket>;
}

const round = (x: number): number => Math.round(x * 1000) / 1000;

/**
 * Notes, per source, the log times of the records an ingest writes: an allocation's or
 * NAT record's start, and its end when it was logged (not inferred, not open). Every
 * record shapes the span and the rates; only those the write reports as stored
 * (`changed`, see WriteSummary) count as events, so what an ingest folds in is what it
 * added. A record closed by a later export counts its start again (the store does not
 * say which of its events were new): a small over-count, never a doubling.
 *
 * @example
 * const recorder = new CoverageRecorder();
 * const summary = await store.write(records);
 * recorder.observe(records, summary.changed);
 * await store.recordCoverage(recorder.report());
 */
export class CoverageRecorder {
  readonly #sources = new Map<string, Seen>();

  /** Note a batch; `changed[i]` 0 when record i was already stored (absent: every record is new). */
  observe(records: readonly CanonicalRecord[], changed?: Uint8Array): void {
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      let source: string;
      let role: SourceCoverage['role'];
      if (r.kind === 'allocation') ((source = r.source), (role = 'allocation'));
      else if (r.kind === 'nat-block' || r.kind === 'nat-session') ((source = r.realm), (role = 'nat'));
      else continue;
      const fresh = changed === undefined || changed[i] !== 0;
      this.#event(source, role, r.start, fresh);
      if (r.end !== null && r.endInferred !== true) this.#event(source, role, r.end, fresh);
    }
  }

  #event(source: string, role: SourceCoverage['role'], at: number, fresh: boolean): void {
    let s = this.#sources.get(source);
    if (s === undefined) this.#sources.set(source, (s = { role, first: at, last: at, events: 0, minutes: new Map() }));
    if (fresh) s.events++;
    if (at < s.first) s.first = at;
    if (at > s.last) s.last = at;
    const m = Math.floor(at / MINUTE);
    const b = s.minutes.get(m);
    if (b === undefined) s.minutes.set(m, { n: 1, min: at, max: at });
    else (b.n++, at < b.min && (b.min = at), at > b.max && (b.max = at));
  }

  /**
   * What this ingest saw of each source it added events to, its silences judged (sources
   * in name order). A source whose records were all stored already is left out: the store
   * holds its coverage as it was (its span and silences were judged when they were stored).
   */
  report(): SourceCoverage[] {
    return [...this.#sources]
      .filter(([, s]) => s.events > 0)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([source, s]) => summarise(source, s));
  }
}

function summarise(source: string, s: Seen): SourceCoverage {
  const keys = [...s.minutes.keys()].sort((a, b) => a - b);
  const buckets = keys.map((k) => s.minutes.get(k)!);
  // Cumulative events by bucket, for the rate in any stretch by binary search.
  const cumulative: number[] = [];
  let total = 0;
  for (const b of buckets) cumulative.push((total += b.n));
  const eventsBefore = (t: number): number => {
    // Events in buckets whose minute starts before t (minute resolution is enough for rates).
    let lo = 0;
    let hi = keys.length;
    const m = Math.floor(t / MINUTE);
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (keys[mid]! < m) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? 0 : cumulative[lo - 1]!;
  };
  const rateIn = (from: number, to: number): number => {
    const a = Math.max(from, s.first);
    const b = Math.min(to, s.last + MINUTE);
    return b - a < MINUTE ? 0 : (eventsBefore(b) - eventsBefore(a)) / ((b - a) / MINUTE);
  };
  // The usual rate at each hour of the day (UTC), over the minutes the span covered.
  const hourEvents = new Array<number>(24).fill(0);
  const hourMinutes = new Array<number>(24).fill(0);
  for (let k = 0; k < keys.length; k++) hourEvents[Math.floor((keys[k]! * MINUTE) / HOUR) % 24]! += buckets[k]!.n;
  for (let m = Math.floor(s.first / MINUTE); m <= Math.floor(s.last / MINUTE); m++) hourMinutes[Math.floor((m * MINUTE) / HOUR) % 24]!++;
  const usualAt = (t: number): number => {
    const h = Math.floor(t / HOUR) % 24;
    return hourMinutes[h]! === 0 ? 0 : hourEvents[h]! / hourMinutes[h]!;
  };
  const gaps: InferredGap[] = [];
  for (let k = 1; k < buckets.length; k++) {
    const start = buckets[k - 1]!.max;
    const end = buckets[k]!.min;
    if (end - start < GAP_MIN_MS) continue;
    const gap = judgeSilence(
      source,
      start,
      end,
      rateIn(start - RATE_WINDOW_MS, start),
      rateIn(end, end + RATE_WINDOW_MS),
      Math.min(usualAt(start), usualAt(end)),
    );
    if (gap !== null) gaps.push(gap);
  }
  return {
    source,
    role: s.role,
    first: s.first,
    last: s.last,
    events: s.events,
    ingests: 1,
    rateAtFirst: round(rateIn(s.first, s.first + RATE_WINDOW_MS)),
    rateAtLast: round(rateIn(s.last - RATE_WINDOW_MS, s.last)),
    inferredGaps: gaps,
  };
}

/** A silence with its evidence: a gap when the lowest rate expects {@link GAP_EXPECTED_EVENTS} events over it. */
export function judgeSilence(source: string, start: number, end: number, rateBefore: number, rateAfter: number, usualRate: number): InferredGap | null {
  if (end - start < GAP_MIN_MS) return null;
  const expectedEvents = (Math.min(rateBefore, rateAfter, usualRate) * (end - start)) / MINUTE;
  if (expectedEvents < GAP_EXPECTED_EVENTS) return null;
  return { source, start, end, rateBefore: round(rateBefore), rateAfter: round(rateAfter), usualRate: round(usualRate), expectedEvents: round(expectedEvents) };
}

/** The parts of a gap outside `[first, last]`: events there show the source was logging. */
function clip(g: InferredGap, first: number, last: number): InferredGap[] {
  if (g.end <= first || g.start >= last) return [g];
  const out: InferredGap[] = [];
  if (g.start < first && first - g.start >= GAP_MIN_MS) out.push({ ...g, end: first });
  if (g.end > last && g.end - last >= GAP_MIN_MS) out.push({ ...g, start: last });
  return out;
}

/**
 * Fold what one ingest saw of a source into what the store held: the span widens, events
 * and ingests add up, stored gaps are cut back where the new input has events, and a
 * silence between the two spans (a rotated file that never came) is judged by the rates
 * at their facing edges.
 *
 * @example
 * mergeSourceCoverage(stored.get('cgn-a'), seen); // the source's new coverage
 */
export function mergeSourceCoverage(held: SourceCoverage | undefined, seen: SourceCoverage): SourceCoverage {
  if (held === undefined) return seen;
  const gaps = [...held.inferredGaps.flatMap((g) => clip(g, seen.first, seen.last)), ...seen.inferredGaps.flatMap((g) => clip(g, held.first, held.last))];
  const [early, late] = held.first <= seen.first ? [held, seen] : [seen, held];
  const between =
    late.first > early.last
      ? judgeSilence(seen.source, early.last, late.first, early.rateAtLast, late.rateAtFirst, Math.min(early.rateAtLast, late.rateAtFirst))
      : null;
  if (between !== null) gaps.push(between);
  gaps.sort((a, b) => a.start - b.start || a.end - b.end);
  return {
    source: seen.source,
    role: held.role,
    first: Math.min(held.first, seen.first),
    last: Math.max(held.last, seen.last),
    events: held.events + seen.events,
    ingests: held.ingests + seen.ingests,
    rateAtFirst: early.rateAtFirst,
    rateAtLast: held.last >= seen.last ? held.rateAtLast : seen.rateAtLast,
    inferredGaps: gaps.filter((g, i) => i === 0 || g.start !== gaps[i - 1]!.start || g.end !== gaps[i - 1]!.end),
  };
}

/** One source's coverage as stored (JSON), and back. */
export function coverageToText(c: SourceCoverage): string {
  return JSON.stringify(c);
}

const rate = z.number().min(0);
const StoredSourceCoverage = z.strictObject({
  source: z.string(),
  role: z.enum(['allocation', 'nat']),
  first: z.number(),
  last: z.number(),
  events: z.int().min(0),
  ingests: z.int().min(0),
  rateAtFirst: rate,
  rateAtLast: rate,
  inferredGaps: z.array(
    z.strictObject({ source: z.string(), start: z.number(), end: z.number(), rateBefore: rate, rateAfter: rate, usualRate: rate, expectedEvents: rate }),
  ),
});

export function coverageFromText(text: string): SourceCoverage {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new IparError('STORE_READ_FAILED', `a stored source coverage is not JSON: ${(cause as Error).message}`, { cause });
  }
  const parsed = StoredSourceCoverage.safeParse(value);
  if (!parsed.success)
    throw new IparError(
      'STORE_READ_FAILED',
      `a stored source coverage is malformed: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  return parsed.data;
}

/** A store's whole coverage listing from its reader methods (the same on every backend). */
export async function coverageListing(store: Pick<StoreReader, 'sourceCoverage' | 'coverageGaps' | 'settings'>): Promise<CoverageListing> {
  const [sources, [declaredGaps], settings] = await Promise.all([
    store.sourceCoverage(),
    store.coverageGaps([{ source: null, window: { start: Number.MIN_SAFE_INTEGER, end: Number.MAX_SAFE_INTEGER } }]),
    store.settings(),
  ]);
  return { sources, declaredGaps: declaredGaps ?? [], retentionHorizon: settings.retentionHorizon };
}
