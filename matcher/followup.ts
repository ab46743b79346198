/**
 * Readings tried only for a `none` answer (issue 18; 9.24: a false negative must be
 * considered): when nobody fits the time as written, which other reading would fill the
 * answer. Two families, each read in one more batched store pass for the requests that
 * need it, so an answered request costs nothing more:
 *
 * - the date misreadings oversight reports name (a day either side, the year before, day
 *   and month swapped) for a time whose clock is not declared `date-ambiguous` (there
 *   matcher/sensitivity.ts already tries them): each observation alone and all together;
 * - readings of the records around an observation that matched nobody: the address's
 *   last holder before its window (`held-before`: the record, or its successor, was lost
 *   in a gap), its first holder after (`held-after`), and — with several observations —
 *   the accounts that fit the others, leaving out those that matched nobody
 *   (`without-observations`).
 *
 * Which of them are plausible is matcher/severity.ts's business; here only what each
 * would return. Pure but for the one store pass.
 */
import type { AllocationQuery, StoreReader, SourceCoverage, StoreSettings } from '../src/store/types.js';
import type { Window } from '../src/time.js';
import { evaluate, type MatchTrace, type ObservationTrace } from './evaluate.js';
import { fetchPlansWithin, type FetchedObservation } from './fetch.js';
import { emptyMatches, identify, type Support } from './identify.js';
import type { PlannedObservation, PlannedRequest } from './plan.js';
import { dateReadings, intersectAll, outcome, type ReadingName, type ReadingOutcome } from './sensitivity.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** How far before (or after) the window the last (first) holder of an address is looked for: the longest record the store holds, within an hour and a day. */
export function holderReach(settings: StoreSettings): number {
  return Math.min(DAY, Math.max(HOUR, settings.longestRecordMs));
}

/** An observation that matched nobody on an address whose records could hold it (not a server, not another operator's). */
function emptyOnRecords(ot: ObservationTrace): boolean {
  return ot.matches.accounts.size === 0 && (ot.outcome === 'no-record' || ot.outcome === 'inside-unallocated');
}

/**
 * The windows in which the last holder before and the first holder after an observation's
 * window are looked for: up to {@link holderReach} before its start and after its end,
 * moved to the edge of what the sources covered when the window lies outside it (the
 * state when the logs stop, or begin).
 *
 * @example
 * holderWindows({ start: 10_000, end: 12_000 }, 3_600_000, []); // { before: {start: -3_590_000, end: 10_000}, after: {start: 12_000, end: 3_612_000} }
 */
export function holderWindows(window: Window, reach: number, coverage: readonly SourceCoverage[]): { before: Window; after: Window } {
  const last = coverage.length === 0 ? Infinity : Math.max(...coverage.map((c) => c.last)) + 1;
  const first = coverage.length === 0 ? -Infinity : Math.min(...coverage.map((c) => c.first));
  const b = Math.min(window.start, last);
  const a = Math.max(window.end, first);
  return { before: { start: b - reach, end: b }, after: { start: a, end: a + reach } };
}

/** When an account's hold on the address ends within a reading: its NAT records' latest end behind NAT, bounded by its allocations'. */
function holdSpan(supports: readonly Support[]): { start: number; end: number } {
  const nat = supports.filter((s) => s.kind !== 'allocation');
  const alloc = supports.filter((s) => s.kind === 'allocation');
  const span = (list: readonly Support[]) =>
    list.length === 0
      ? { start: -Infinity, end: Infinity }
      : { start: Math.min(...list.map((s) => s.start)), end: Math.max(...list.map((s) => s.end ?? Infinity)) };
  const n = span(nat);
  const l = span(alloc);
  return { start: Math.max(n.start, l.start), end: Math.min(n.end, l.end) };
}

/** The accounts of a trace whose hold ends last (`before`) or begins first (`after`): the address's last or first holder. */
export function edgeHolders(accounts: ReadonlyMap<string, readonly Support[]>, side: 'before' | 'after'): Set<string> {
  let best = side === 'before' ? -Infinity : Infinity;
  let out = new Set<string>();
  for (const [account, supports] of accounts) {
    const h = holdSpan(supports);
    const at = side === 'before' ? h.end : h.start;
    if (at === best) out.add(account);
    else if (side === 'before' ? at > best : at < best) ((best = at), (out = new Set([account])));
  }
  return out;
}

interface Needs {
  /** For each observation, the windows to read: date readings and the holders' windows. */
  readonly windows: { reading: ReadingName; window: Window }[][];
}

/** What a `none` answer's follow-up readings need read, or `null` when the request has an answer. */
function needsOf(trace: MatchTrace, settings: StoreSettings, coverage: readonly SourceCoverage[]): Needs | null {
  if (trace.correlation.candidates.length > 0) return null;
  const reach = holderReach(settings);
  const windows = trace.observations.map((ot) => {
    const o = ot.observation;
    const out: { reading: ReadingName; window: Window }[] = [];
    if (o.clock !== 'date-ambiguous' && ot.addressClass !== 'server' && ot.addressClass !== 'infrastructure')
      for (const d of dateReadings(o)) out.push({ reading: d.reading, window: { start: o.window.start + d.ms, end: o.window.end + d.ms } });
    if (emptyOnRecords(ot)) {
      const { before, after } = holderWindows(o.window, reach, coverage);
      out.push({ reading: 'held-before', window: before }, { reading: 'held-after', window: after });
    }
    return out;
  });
  return windows.some((w) => w.length > 0) ? { windows } : null;
}

/** The follow-up readings of one request: per observation, and joint. */
export interface FollowUp {
  readonly perObservation: ReadingOutcome[][];
  readonly joint: ReadingOutcome[];
}

/** Evaluate the follow-up readings of one `none` answer on the rows read for them (pure). */
export function followUpOf(trace: MatchTrace, needs: Needs, fetched: readonly FetchedObservation[], inside: readonly InsideEdges[] = []): FollowUp {
  const baseline = new Set<string>();
  const own = trace.observations.map((ot) => new Set(ot.matches.accounts.keys()));
  const sets = needs.windows.map((list, i) =>
    list.map(({ reading, window }) => {
      const t = evaluate(fetched[i]!, window);
      const side = reading === 'held-before' ? 'before' : reading === 'held-after' ? 'after' : null;
      // The address's holder through the records around the window, and — where the NAT held
      // but no allocation held its inside host — that host's own holder either side.
      const accounts = side === null ? new Set(t.matches.accounts.keys()) : new Set([...edgeHolders(t.matches.accounts, side), ...(inside[i]?.[side] ?? [])]);
      return { reading, window, accounts };
    }),
  );
  const perObservation = sets.map((list, i) =>
    list.map(({ reading, window, accounts }) => outcome(reading, i, window, intersectAll(own.map((s, j) => (j === i ? accounts : s))), baseline)),
  );
  const joint: ReadingOutcome[] = [];
  const n = trace.observations.length;
  if (n > 1) {
    const first = trace.observations[0]!.observation.window;
    // Every observation moved the same way: a date misread on all of them, or every empty observation's holder.
    const readings = new Set(sets.flatMap((list) => list.map((x) => x.reading)));
    for (const reading of readings) {
      const moved = sets.map((list) => list.find((x) => x.reading === reading));
      if (moved.filter((x) => x !== undefined).length < 2) continue;
      const combined = intersectAll(own.map((s, i) => moved[i]?.accounts ?? s));
      joint.push(outcome(reading, null, moved.find((x) => x !== undefined)!.window, combined, baseline));
    }
    const kept = own.filter((_, i) => !emptyOnRecords(trace.observations[i]!));
    if (kept.length > 0 && kept.length < n) joint.push(outcome('without-observations', null, first, intersectAll(kept), baseline));
  }
  return { perObservation, joint };
}

/**
 * The follow-up readings of a batch: for each `none` answer, one more store pass over the
 * windows its readings need (within the row budget; a request past it gets none).
 *
 * @example
 * const more = await followUpReadings(store, traces, facts, 20_000);
 * more[0]?.joint.find((r) => r.reading === 'without-observations')?.candidateCount;
 */
export async function followUpReadings(
  store: StoreReader,
  traces: readonly MatchTrace[],
  facts: readonly { readonly settings: StoreSettings; readonly coverage: readonly SourceCoverage[] }[],
  rowBudget: number,
): Promise<(FollowUp | null)[]> {
  const needs = traces.map((t, k) => needsOf(t, facts[k]!.settings, facts[k]!.coverage));
  const asked = traces.flatMap((t, k) => (needs[k] === null ? [] : [k]));
  if (asked.length === 0) return traces.map(() => null);
  const windowsOf = new Map<PlannedObservation, readonly Window[]>();
  for (const k of asked)
    traces[k]!.request.observations.forEach((o, i) => {
      const ws = needs[k]!.windows[i]!.map((x) => x.window);
      windowsOf.set(o, ws.length > 0 ? ws : [o.window]);
    });
  const plans: PlannedRequest[] = asked.map((k) => traces[k]!.request);
  const [fetched, inside] = await Promise.all([
    fetchPlansWithin(store, plans, (o) => windowsOf.get(o) ?? [o.window], rowBudget),
    insideEdges(
      store,
      asked.map((k) => traces[k]!),
      asked.map((k) => holderReach(facts[k]!.settings)),
      rowBudget,
    ),
  ]);
  const out: (FollowUp | null)[] = traces.map(() => null);
  asked.forEach((k, j) => {
    const f = fetched[j]!;
    if (f.ok) out[k] = followUpOf(traces[k]!, needs[k]!, f.observations, inside[j]!);
  });
  return out;
}

/** For each observation, the holders of its unallocated inside hosts just before and just after its window. */
type InsideEdges = { readonly before: ReadonlySet<string>; readonly after: ReadonlySet<string> } | undefined;

/**
 * Where a NAT record held at the window but no allocation held its inside host (a lost
 * or missing allocation), the inside host's last holder before the window and first after
 * it, within `reach`: one batched allocation read for the batch.
 */
async function insideEdges(store: StoreReader, traces: readonly MatchTrace[], reach: readonly number[], rowBudget: number): Promise<InsideEdges[][]> {
  const queries: AllocationQuery[] = [];
  const owners: { k: number; i: number; side: 'before' | 'after'; window: Window }[] = [];
  traces.forEach((trace, k) =>
    trace.observations.forEach((ot, i) => {
      if (!emptyOnRecords(ot)) return;
      const w = ot.observation.window;
      const hosts = new Map(ot.unallocated.map((t) => [`${t.realm}|${t.inside.text}`, t]));
      for (const t of hosts.values()) {
        for (const [side, window] of [
          ['before', { start: w.start - reach[k]!, end: w.start }],
          ['after', { start: w.end, end: w.end + reach[k]! }],
        ] as const) {
          queries.push({ address: t.inside, realm: t.realm, window, rows: { limit: rowBudget } });
          owners.push({ k, i, side, window });
        }
      }
    }),
  );
  const out: InsideEdges[][] = traces.map((t) => t.observations.map(() => undefined));
  if (queries.length === 0) return out;
  const rows = await store.allocations(queries);
  const found = new Map<string, { before: Set<string>; after: Set<string> }>();
  owners.forEach(({ k, i, side, window }, q) => {
    const m = emptyMatches();
    identify(m, rows[q]!, window, traces[k]!.request.identifiers, null);
    const key = `${k}|${i}`;
    if (!found.has(key)) found.set(key, { before: new Set(), after: new Set() });
    for (const a of edgeHolders(m.accounts, side)) found.get(key)![side].add(a);
  });
  for (const [key, v] of found) {
    const [k, i] = key.split('|').map(Number) as [number, number];
    out[k]![i] = v;
  }
  return out;
}

/** A request's readings with its follow-up readings appended. */
export function withFollowUp(
  readings: { readonly perObservation: readonly (readonly ReadingOutcome[])[]; readonly joint: readonly ReadingOutcome[] },
  more: FollowUp | null,
): { perObservation: ReadingOutcome[][]; joint: ReadingOutcome[] } {
  return {
    perObservation: readings.perObservation.map((list, i) => [...list, ...(more?.perObservation[i] ?? [])]),
    joint: [...readings.joint, ...(more?.joint ?? [])],
  };
}
