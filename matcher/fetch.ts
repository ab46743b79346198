/**
 * The batched store reads (DESIGN.md, "Scale path"): for a whole batch of planned
 * requests, classify every source address, then read the NAT rows and public allocations
 * that cover each observation's fetch windows, translate in memory to find the inside
 * hosts, and read their allocations — one round trip per step, not per observation, so a
 * distributed store serves the same matcher unchanged. Also the facts risk analysis
 * consults (settings, subscriber types, coverage gaps), read once per batch.
 */
import type { Address } from '../src/address.js';
import type { AddressSpaceRecord } from '../src/records.js';
import type { AddressClass, Identifiers } from '../src/request.js';
import type {
  AllocationQuery,
  NatQuery,
  RowLimit,
  StoreReader,
  StoredAllocation,
  StoredNatBlock,
  StoredNatDeterministic,
  StoredNatSession,
} from '../src/store/types.js';
import type { Window } from '../src/time.js';
import { SESSION_ROW_LIMIT } from '../src/store/core/limits.js';
import { classify, usesNat, usesPublicAllocations } from './classify.js';
import type { MatchTrace } from './evaluate.js';
import type { PlannedObservation, PlannedRequest } from './plan.js';
import type { RiskInputs } from './risk.js';
import { translateObservation } from './translate.js';

/**
 * The store rows for one observation, fetched once for a window at least as wide as any
 * reading of its time that will be evaluated (the base window and the alternatives risk
 * analysis tries), so every reading is evaluated in memory.
 */
export interface FetchedObservation {
  readonly observation: PlannedObservation;
  readonly identifiers: Identifiers;
  /** The windows fetched (disjoint, sorted); every reading evaluated lies inside one. */
  readonly fetchWindows: readonly Window[];
  readonly addressSpace: AddressSpaceRecord | null;
  readonly addressClass: AddressClass;
  readonly blocks: readonly StoredNatBlock[];
  readonly sessions: readonly StoredNatSession[];
  readonly deterministic: readonly StoredNatDeterministic[];
  readonly publicAllocations: readonly StoredAllocation[];
  /** Inside allocations by `realm|inside address`. */
  readonly inside: ReadonlyMap<string, readonly StoredAllocation[]>;
  /** A port-less session lookup came back with {@link SESSION_ROW_LIMIT} rows: the store cut it. */
  readonly sessionsCapped: boolean;
}

/** The windows to fetch for an observation; the default is its own window. */
export type FetchWindows = (o: PlannedObservation, request: PlannedRequest) => readonly Window[];

/** Sort and merge overlapping or touching windows. */
export function mergeWindows(windows: readonly Window[]): Window[] {
  const sorted = [...windows].sort((a, b) => a.start - b.start);
  const out: Window[] = [];
  for (const w of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && w.start <= last.end) out[out.length - 1] = { start: last.start, end: Math.max(last.end, w.end) };
    else out.push({ start: w.start, end: w.end });
  }
  return out;
}

function unique<R extends { readonly id: string }>(lists: readonly (readonly R[])[]): readonly R[] {
  if (lists.length === 1) return lists[0]!;
  if (lists.length === 0) return [];
  const seen = new Set<string>();
  const out: R[] = [];
  for (const list of lists) for (const r of list) if (!seen.has(r.id)) (seen.add(r.id), out.push(r));
  return out;
}

/**
 * Fetch the rows every observation of every plan needs, batching each store question:
 * one round trip per step for the whole batch.
 */
export async function fetchPlans(
  store: StoreReader,
  plans: readonly PlannedRequest[],
  fetchWindows: FetchWindows = (o) => [o.window],
): Promise<FetchedObservation[][]> {
  return (await fetchAll(store, plans, fetchWindows, null)).map((f) => f.observations);
}

/** A plan's rows, or how many it had read when it passed the row budget (its rows are dropped). */
export type FetchedWithin =
  { readonly ok: true; readonly observations: FetchedObservation[]; readonly rows: number } | { readonly ok: false; readonly rows: number };

/**
 * {@link fetchPlans} within a row budget per plan (src/budget.ts): every store read of a
 * plan shares one row limit, so the store stops one row past it; a plan that passes it is
 * answered `{ok: false}` with the rows it had read (at least `rowBudget + 1`), and its
 * inside hosts are not read at all.
 *
 * @example
 * const [f] = await fetchPlansWithin(store, [plan], undefined, 20_000);
 * f.ok ? f.observations : f.rows; // the rows, or how many it had read past the budget
 */
export async function fetchPlansWithin(
  store: StoreReader,
  plans: readonly PlannedRequest[],
  fetchWindows: FetchWindows | undefined,
  rowBudget: number,
): Promise<FetchedWithin[]> {
  return (await fetchAll(store, plans, fetchWindows ?? ((o) => [o.window]), rowBudget)).map((f) =>
    f.rows > rowBudget ? { ok: false, rows: f.rows } : { ok: true, observations: f.observations, rows: f.rows },
  );
}

async function fetchAll(
  store: StoreReader,
  plans: readonly PlannedRequest[],
  fetchWindows: FetchWindows,
  rowBudget: number | null,
): Promise<{ observations: FetchedObservation[]; rows: number }[]> {
  // Each plan's reads share one row limit a call (RowLimit); `planOf` maps observations to plans.
  const limits: (RowLimit | undefined)[] = plans.map(() => (rowBudget === null ? undefined : { limit: rowBudget }));
  const planOf = plans.flatMap((p, k) => p.observations.map(() => k));
  const rowsRead = plans.map(() => 0);
  const limited = <Q extends object>(q: Q, i: number): Q => (limits[planOf[i]!] === undefined ? q : { ...q, rows: limits[planOf[i]!]! });
  const over = (i: number): boolean => rowBudget !== null && rowsRead[planOf[i]!]! > rowBudget;
  const all = plans.flatMap((p) => p.observations.map((o) => ({ plan: p, o, ws: mergeWindows(fetchWindows(o, p)) })));
  const classes = await classify(
    store,
    all.map(({ o }) => o.sourceIp),
  );
  // One query per (observation, fetch window); `owner` maps each back to its observation.
  // Lookups keyed to one row history (an address, an address and port) ask once over the
  // hull of the windows: the store's look-back by the longest record already spans more
  // than the hour either side, so the hull reads few more rows for a third of the calls.
  // Sessions on an address without a port are asked per window: there the rows are many
  // and capped.
  const keyedOwner: number[] = [];
  const keyedQueries: NatQuery[] = [];
  const sessionOwner: number[] = [];
  const sessionQueries: NatQuery[] = [];
  const pubOwner: number[] = [];
  const pubQueries: AllocationQuery[] = [];
  all.forEach(({ o, ws }, i) => {
    const hull = { start: ws[0]!.start, end: ws[ws.length - 1]!.end };
    if (usesNat(classes[i]!.addressClass)) {
      keyedOwner.push(i);
      keyedQueries.push(limited({ outside: o.sourceIp, port: o.sourcePort, window: hull }, i));
      for (const w of o.sourcePort === null ? ws : [hull])
        (sessionOwner.push(i), sessionQueries.push(limited({ outside: o.sourceIp, port: o.sourcePort, window: w }, i)));
    }
    if (usesPublicAllocations(classes[i]!.addressClass)) (pubOwner.push(i), pubQueries.push(limited({ address: o.sourceIp, realm: null, window: hull }, i)));
  });
  const [blocks, sessions, deterministic, publicAllocations] = await Promise.all([
    store.natBlocks(keyedQueries),
    store.natSessions(sessionQueries),
    store.natDeterministic(
      keyedQueries.map((q) => (q.rows === undefined ? { outside: q.outside, window: q.window } : { outside: q.outside, window: q.window, rows: q.rows })),
    ),
    store.allocations(pubQueries),
  ]);
  const count = (owner: readonly number[], answers: readonly (readonly unknown[])[]): void =>
    owner.forEach((i, k) => (rowsRead[planOf[i]!]! += answers[k]!.length));
  (count(keyedOwner, blocks), count(sessionOwner, sessions), count(keyedOwner, deterministic), count(pubOwner, publicAllocations));
  const group = <R>(owner: readonly number[], rows: readonly (readonly R[])[]): (readonly R[])[][] => {
    const out: (readonly R[])[][] = all.map(() => []);
    owner.forEach((i, k) => out[i]!.push(rows[k]!));
    return out;
  };
  const [b, s, d, p] = [group(keyedOwner, blocks), group(sessionOwner, sessions), group(keyedOwner, deterministic), group(pubOwner, publicAllocations)];
  const fetched = all.map(({ plan, o, ws }, i) => ({
    observation: o,
    identifiers: plan.identifiers,
    fetchWindows: ws,
    addressSpace: classes[i]!.addressSpace,
    addressClass: classes[i]!.addressClass,
    blocks: unique(b[i]!),
    sessions: unique(s[i]!),
    deterministic: unique(d[i]!),
    publicAllocations: unique(p[i]!),
    inside: new Map<string, readonly StoredAllocation[]>(),
    sessionsCapped: o.sourcePort === null && s[i]!.some((rows) => rows.length >= SESSION_ROW_LIMIT),
  }));

  // Inside allocations: for each (observation, realm, inside address), the sub-windows in
  // which translations held within the fetch windows, merged; one query per merged span.
  const insideQueries: AllocationQuery[] = [];
  const owners: [number, string][] = [];
  // A plan past its budget reads no more; the others share what is left of theirs.
  const left = plans.map((_, k) => (rowBudget === null ? undefined : { limit: Math.max(0, rowBudget - rowsRead[k]!) }));
  const insideLimit = (i: number): { rows: RowLimit } | object => (left[planOf[i]!] === undefined ? {} : { rows: left[planOf[i]!]! });
  fetched.forEach((f, i) => {
    if (!usesNat(f.addressClass) || over(i)) return;
    const spans = new Map<string, { realm: string; inside: Address; windows: Window[] }>();
    for (const w of f.fetchWindows) {
      for (const t of translateObservation({ ...f.observation, window: w }, f).translations) {
        const key = `${t.realm}|${t.inside.text}`;
        let span = spans.get(key);
        if (span === undefined) spans.set(key, (span = { realm: t.realm, inside: t.inside, windows: [] }));
        span.windows.push(t.window);
      }
    }
    for (const [key, span] of spans) {
      // One inside host's allocations, asked once over the hull of its sub-windows (as above).
      const merged = mergeWindows(span.windows);
      insideQueries.push({
        address: span.inside,
        realm: span.realm,
        window: { start: merged[0]!.start, end: merged[merged.length - 1]!.end },
        ...insideLimit(i),
      });
      owners.push([i, key]);
    }
  });
  const insideAllocations = await store.allocations(insideQueries);
  count(
    owners.map(([i]) => i),
    insideAllocations,
  );
  const insideLists = new Map<string, (readonly StoredAllocation[])[]>();
  owners.forEach(([i, key], k) => {
    const id = `${i}|${key}`;
    if (!insideLists.has(id)) insideLists.set(id, []);
    insideLists.get(id)!.push(insideAllocations[k]!);
  });
  for (const [id, lists] of insideLists) {
    const bar = id.indexOf('|');
    fetched[Number(id.slice(0, bar))]!.inside.set(id.slice(bar + 1), unique(lists));
  }

  let cursor = 0;
  return plans.map((plan, k) => {
    const slice = fetched.slice(cursor, cursor + plan.observations.length);
    cursor += plan.observations.length;
    return { observations: slice, rows: rowsRead[k]! };
  });
}

/**
 * Read, for a batch of matches, what risk analysis consults besides the traces: the
 * store's settings, the candidates' subscriber types, and every observation's coverage
 * gaps — one round trip each for the batch.
 */
export async function fetchRiskFacts(store: StoreReader, traces: readonly MatchTrace[]): Promise<Omit<RiskInputs, 'readings'>[]> {
  const accounts = traces.flatMap((t) => t.correlation.candidates.map((c) => c.account));
  const [settings, coverage] = await Promise.all([store.settings(), store.sourceCoverage()]);
  // Gaps before the window count too: a record that started in one may still be held.
  const windows = traces.flatMap((t) =>
    t.observations.map((o) => ({ source: null, window: { start: o.observation.window.start - settings.longestRecordMs, end: o.observation.window.end } })),
  );
  const [subscriberTypes, gaps] = await Promise.all([store.subscriberTypes(accounts), store.coverageGaps(windows)]);
  let at = 0;
  return traces.map((t) => {
    const facts = { settings, subscriberTypes, coverage, gaps: gaps.slice(at, at + t.observations.length) };
    at += t.observations.length;
    return facts;
  });
}
