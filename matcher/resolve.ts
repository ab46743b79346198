/**
 * The life of a batch of requests (DESIGN.md, "Life of a request"): plan, classify the
 * source addresses, translate through NAT, identify the accounts, correlate, disclose.
 * Store questions are asked for the whole batch at each step — one round trip per step,
 * not per observation — so a distributed store serves the same matcher unchanged.
 */
import type { Problem } from '../src/problems.js';
import type { AddressSpaceRecord } from '../src/records.js';
import type { AddressClass, ObservationOutcome, Refusal, Result, Risk } from '../src/request.js';
import type { Address } from '../src/address.js';
import type { Identifiers } from '../src/request.js';
import type { AllocationQuery, NatQuery, StoreReader, StoredAllocation, StoredNatBlock, StoredNatDeterministic, StoredNatSession } from '../src/store/types.js';
import type { Window } from '../src/time.js';
import { formatInstant } from '../src/time.js';
import { correlate, disclose, type Correlation } from './correlate.js';
import { emptyMatches, identify, type AccountMatches } from './identify.js';
import type { PlannedObservation, PlannedRequest } from './plan.js';
import { throughBlocks, throughDeterministic, throughSessions, type Translation, type UnresolvedPort } from './translate.js';

/** Everything the matcher learned about one observation (risk analysis reads it). */
export interface ObservationTrace {
  readonly observation: PlannedObservation;
  readonly addressSpace: AddressSpaceRecord | null;
  readonly addressClass: AddressClass;
  readonly realm: string | null;
  readonly translations: readonly Translation[];
  readonly unresolved: readonly UnresolvedPort[];
  readonly sessionsExcluded: number;
  readonly matches: AccountMatches;
  readonly path: readonly string[];
  readonly outcome: ObservationOutcome;
}

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
}

/** One request's match before risk analysis and rendering. */
export interface MatchTrace {
  readonly request: PlannedRequest;
  readonly observations: readonly ObservationTrace[];
  readonly fetched: readonly FetchedObservation[];
  readonly correlation: Correlation;
}

function classOf(space: AddressSpaceRecord | null): AddressClass {
  return space === null ? 'not-operator' : space.role;
}

function usesNat(c: AddressClass): boolean {
  return c === 'cgnat-outside' || c === 'not-operator';
}

function usesPublicAllocations(c: AddressClass): boolean {
  return c === 'dynamic' || c === 'static' || c === 'not-operator';
}

const PATH_ORDER = ['nat-block', 'nat-session', 'nat-deterministic', 'allocation'] as const;

function translationsFor(o: PlannedObservation, f: FetchedObservation): { translations: Translation[]; unresolved: UnresolvedPort[]; sessionsExcluded: number } {
  if (!usesNat(f.addressClass)) return { translations: [], unresolved: [], sessionsExcluded: 0 };
  const s = throughSessions(o, f.sessions);
  const d = throughDeterministic(o, f.deterministic);
  return { translations: [...throughBlocks(o, f.blocks), ...s.translations, ...d.translations], unresolved: d.unresolved, sessionsExcluded: s.excluded };
}

/**
 * Evaluate one observation for a window inside its fetch window: pure, no store.
 *
 * @example
 * evaluate(fetched, fetched.observation.window); // the observation as written
 */
export function evaluate(f: FetchedObservation, window: Window): ObservationTrace {
  const o = window === f.observation.window ? f.observation : { ...f.observation, window };
  const { translations, unresolved, sessionsExcluded } = translationsFor(o, f);
  const m = emptyMatches();
  if (usesPublicAllocations(f.addressClass)) identify(m, f.publicAllocations, window, f.identifiers, null);
  for (const t of translations) identify(m, f.inside.get(`${t.realm}|${t.inside.text}`) ?? [], t.window, f.identifiers, t.record);
  const kinds = new Set<string>();
  for (const supports of m.accounts.values()) for (const s of supports) kinds.add(s.kind);
  const c = f.addressClass;
  let outcome: ObservationOutcome;
  if (c === 'server' || c === 'infrastructure') outcome = 'server-address';
  else if (m.accounts.size > 0) outcome = 'matched';
  else if (c === 'not-operator' && translations.length === 0 && m.allocations.length === 0) outcome = 'not-operator-address';
  else if (unresolved.length > 0 && translations.length === 0) outcome = 'unresolvable-port';
  else outcome = 'no-record';
  return {
    observation: o,
    addressSpace: f.addressSpace,
    addressClass: c,
    realm: f.addressSpace?.realm ?? null,
    translations,
    unresolved,
    sessionsExcluded,
    matches: m,
    path: PATH_ORDER.filter((k) => kinds.has(k)),
    outcome,
  };
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
export async function fetchPlans(store: StoreReader, plans: readonly PlannedRequest[], fetchWindows: FetchWindows = (o) => [o.window]): Promise<FetchedObservation[][]> {
  const all = plans.flatMap((p) => p.observations.map((o) => ({ plan: p, o, ws: mergeWindows(fetchWindows(o, p)) })));
  const spaces = await store.classify(all.map(({ o }) => o.sourceIp));
  const classes = spaces.map(classOf);
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
    if (usesNat(classes[i]!)) {
      keyedOwner.push(i);
      keyedQueries.push({ outside: o.sourceIp, port: o.sourcePort, window: hull });
      for (const w of o.sourcePort === null ? ws : [hull]) (sessionOwner.push(i), sessionQueries.push({ outside: o.sourceIp, port: o.sourcePort, window: w }));
    }
    if (usesPublicAllocations(classes[i]!)) (pubOwner.push(i), pubQueries.push({ address: o.sourceIp, realm: null, window: hull }));
  });
  const [blocks, sessions, deterministic, publicAllocations] = await Promise.all([
    store.natBlocks(keyedQueries),
    store.natSessions(sessionQueries),
    store.natDeterministic(keyedQueries.map((q) => ({ outside: q.outside, window: q.window }))),
    store.allocations(pubQueries),
  ]);
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
    addressSpace: spaces[i] ?? null,
    addressClass: classes[i]!,
    blocks: unique(b[i]!),
    sessions: unique(s[i]!),
    deterministic: unique(d[i]!),
    publicAllocations: unique(p[i]!),
    inside: new Map<string, readonly StoredAllocation[]>(),
  }));

  // Inside allocations: for each (observation, realm, inside address), the sub-windows in
  // which translations held within the fetch windows, merged; one query per merged span.
  const insideQueries: AllocationQuery[] = [];
  const owners: [number, string][] = [];
  fetched.forEach((f, i) => {
    if (!usesNat(f.addressClass)) return;
    const spans = new Map<string, { realm: string; inside: Address; windows: Window[] }>();
    for (const w of f.fetchWindows) {
      for (const t of translationsFor({ ...f.observation, window: w }, f).translations) {
        const key = `${t.realm}|${t.inside.text}`;
        let span = spans.get(key);
        if (span === undefined) spans.set(key, (span = { realm: t.realm, inside: t.inside, windows: [] }));
        span.windows.push(t.window);
      }
    }
    for (const [key, span] of spans) {
      // One inside host's allocations, asked once over the hull of its sub-windows (as above).
      const merged = mergeWindows(span.windows);
      insideQueries.push({ address: span.inside, realm: span.realm, window: { start: merged[0]!.start, end: merged[merged.length - 1]!.end } });
      owners.push([i, key]);
    }
  });
  const insideAllocations = await store.allocations(insideQueries);
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
  return plans.map((plan) => {
    const slice = fetched.slice(cursor, cursor + plan.observations.length);
    cursor += plan.observations.length;
    return slice;
  });
}

/**
 * Match planned requests against a store, batching every store question.
 *
 * @example
 * const [trace] = await matchPlans(store, [plan]);
 * trace.correlation.candidates; // accounts that fit every observation
 */
export async function matchPlans(store: StoreReader, plans: readonly PlannedRequest[], fetchWindows?: FetchWindows): Promise<MatchTrace[]> {
  const fetched = await fetchPlans(store, plans, fetchWindows);
  return plans.map((request, k) => {
    const observations = fetched[k]!.map((f) => evaluate(f, f.observation.window));
    return { request, observations, fetched: fetched[k]!, correlation: correlate(observations.map((t) => t.matches.accounts)) };
  });
}

/** Render a trace as the pinned result format, applying the disclosure policy. */
export function renderResult(trace: MatchTrace, risks: readonly Risk[]): Result {
  const { request, correlation } = trace;
  const d = disclose(correlation.candidates, request.returnPolicy, request.maxCandidates);
  return {
    ref: request.ref,
    status: d.status,
    candidateCount: d.candidateCount,
    withheld: d.withheld,
    candidates: [...d.candidates],
    observations: trace.observations.map((t) => ({
      index: t.observation.index,
      sourceIp: t.observation.sourceIp.text,
      sourcePort: t.observation.sourcePort,
      window: { start: formatInstant(t.observation.window.start), end: formatInstant(t.observation.window.end) },
      addressClass: t.addressClass,
      realm: t.realm,
      path: [...t.path],
      outcome: t.outcome,
      candidateCount: t.matches.accounts.size,
    })),
    risks: [...risks],
  };
}

/** The result for a request that failed validation. */
export function invalidResult(ref: string | null, errors: readonly Problem[]): Result {
  return { ref, status: 'invalid', candidateCount: 0, withheld: false, candidates: [], observations: [], risks: [], errors: [...errors] };
}

/** The result for a request the guardrails refused: nothing was looked up. */
export function refusedResult(ref: string, refusal: Refusal): Result {
  return { ref, status: 'refused', candidateCount: 0, withheld: false, candidates: [], observations: [], risks: [], refusal };
}
