/**
 * The life of a batch of requests (DESIGN.md, "Life of a request"): plan, classify the
 * source addresses, translate through NAT, identify the accounts, correlate, disclose.
 * Store questions are asked for the whole batch at each step — one round trip per step,
 * not per observation — so a distributed store serves the same matcher unchanged.
 */
import type { Problem } from '../src/problems.js';
import type { AddressSpaceRecord } from '../src/records.js';
import type { AddressClass, ObservationOutcome, Refusal, Result, Risk } from '../src/request.js';
import type { AllocationQuery, NatQuery, StoreReader } from '../src/store/types.js';
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

/** One request's match before risk analysis and rendering. */
export interface MatchTrace {
  readonly request: PlannedRequest;
  readonly observations: readonly ObservationTrace[];
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

/**
 * Match planned requests against a store, batching every store question.
 *
 * @example
 * const [trace] = await matchPlans(store, [plan]);
 * trace.correlation.candidates; // accounts that fit every observation
 */
export async function matchPlans(store: StoreReader, plans: readonly PlannedRequest[]): Promise<MatchTrace[]> {
  const all = plans.flatMap((p) => p.observations.map((o) => ({ plan: p, o })));
  const spaces = await store.classify(all.map(({ o }) => o.sourceIp));
  const classes = spaces.map(classOf);

  const natIdx: number[] = [];
  const pubIdx: number[] = [];
  classes.forEach((c, i) => {
    if (usesNat(c)) natIdx.push(i);
    if (usesPublicAllocations(c)) pubIdx.push(i);
  });
  const natQueries: NatQuery[] = natIdx.map((i) => ({ outside: all[i]!.o.sourceIp, port: all[i]!.o.sourcePort, window: all[i]!.o.window }));
  const [blocks, sessions, deterministic, publicAllocations] = await Promise.all([
    store.natBlocks(natQueries),
    store.natSessions(natQueries),
    store.natDeterministic(natQueries.map((q) => ({ outside: q.outside, window: q.window }))),
    store.allocations(pubIdx.map((i) => ({ address: all[i]!.o.sourceIp, realm: null, window: all[i]!.o.window }))),
  ]);

  // Translate, then ask for the inside allocations of every translation in one batch.
  const translations: Translation[][] = all.map(() => []);
  const unresolved: UnresolvedPort[][] = all.map(() => []);
  const sessionsExcluded: number[] = all.map(() => 0);
  natIdx.forEach((i, k) => {
    const o = all[i]!.o;
    const s = throughSessions(o, sessions[k]!);
    const d = throughDeterministic(o, deterministic[k]!);
    translations[i] = [...throughBlocks(o, blocks[k]!), ...s.translations, ...d.translations];
    unresolved[i] = d.unresolved;
    sessionsExcluded[i] = s.excluded;
  });
  const insideQueries: AllocationQuery[] = [];
  const insideOwner: [number, Translation][] = [];
  translations.forEach((list, i) => {
    for (const t of list) {
      insideQueries.push({ address: t.inside, realm: t.realm, window: t.window });
      insideOwner.push([i, t]);
    }
  });
  const insideAllocations = await store.allocations(insideQueries);

  const matches: AccountMatches[] = all.map(() => emptyMatches());
  pubIdx.forEach((i, k) => identify(matches[i]!, publicAllocations[k]!, all[i]!.o.window, all[i]!.plan.identifiers, null));
  insideOwner.forEach(([i, t], k) => identify(matches[i]!, insideAllocations[k]!, t.window, all[i]!.plan.identifiers, t.record));

  const traces: ObservationTrace[] = all.map(({ o }, i) => {
    const m = matches[i]!;
    const kinds = new Set<string>();
    for (const supports of m.accounts.values()) for (const s of supports) kinds.add(s.kind);
    const c = classes[i]!;
    let outcome: ObservationOutcome;
    if (c === 'server' || c === 'infrastructure') outcome = 'server-address';
    else if (m.accounts.size > 0) outcome = 'matched';
    else if (c === 'not-operator' && translations[i]!.length === 0 && m.allocations.length === 0) outcome = 'not-operator-address';
    else if (unresolved[i]!.length > 0 && translations[i]!.length === 0) outcome = 'unresolvable-port';
    else outcome = 'no-record';
    return {
      observation: o,
      addressSpace: spaces[i] ?? null,
      addressClass: c,
      realm: spaces[i]?.realm ?? null,
      translations: translations[i]!,
      unresolved: unresolved[i]!,
      sessionsExcluded: sessionsExcluded[i]!,
      matches: m,
      path: PATH_ORDER.filter((k) => kinds.has(k)),
      outcome,
    };
  });

  let cursor = 0;
  return plans.map((request) => {
    const observations = traces.slice(cursor, cursor + request.observations.length);
    cursor += request.observations.length;
    return { request, observations, correlation: correlate(observations.map((t) => t.matches.accounts)) };
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
