/**
 * Stages 3 and 4 for one observation, in memory: translate the public address through the
 * NAT rows fetched for it, identify the accounts of the allocations that cover each
 * (sub-)window, and say the outcome and the path taken. Pure over the fetched rows, so any
 * reading of the time inside the fetch windows is evaluated without the store.
 */
import type { AddressSpaceRecord } from '../src/records.js';
import type { AddressClass, ObservationOutcome } from '../src/request.js';
import type { Window } from '../src/time.js';
import { usesPublicAllocations } from './classify.js';
import type { Correlation } from './correlate.js';
import type { FetchedObservation } from './fetch.js';
import { emptyMatches, identify, type AccountMatches } from './identify.js';
import type { PlannedObservation, PlannedRequest } from './plan.js';
import { translateObservation, type Translation, type UnresolvedPort } from './translate.js';

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
  /** Translations whose inside host no allocation holds in the sub-window (a missing feed, or no customer). */
  readonly unallocated: readonly Translation[];
  /** A port-less session lookup returned as many rows as the store gives (more may exist). */
  readonly sessionsCapped: boolean;
  readonly path: readonly string[];
  readonly outcome: ObservationOutcome;
}

/** One request's match before risk analysis and rendering. */
export interface MatchTrace {
  readonly request: PlannedRequest;
  readonly observations: readonly ObservationTrace[];
  readonly fetched: readonly FetchedObservation[];
  readonly correlation: Correlation;
}

const PATH_ORDER = ['nat-block', 'nat-session', 'nat-deterministic', 'allocation'] as const;

/**
 * Evaluate one observation for a window inside its fetch window: pure, no store.
 *
 * @example
 * evaluate(fetched, fetched.observation.window); // the observation as written
 */
export function evaluate(f: FetchedObservation, window: Window): ObservationTrace {
  const o = window === f.observation.window ? f.observation : { ...f.observation, window };
  const { translations, unresolved, sessionsExcluded } = translateObservation(o, f);
  const m = emptyMatches();
  if (usesPublicAllocations(f.addressClass)) identify(m, f.publicAllocations, window, f.identifiers, null);
  const unallocated: Translation[] = [];
  for (const t of translations) {
    const before = m.allocations.length;
    identify(m, f.inside.get(`${t.realm}|${t.inside.text}`) ?? [], t.window, f.identifiers, t.record);
    if (m.allocations.length === before) unallocated.push(t);
  }
  const kinds = new Set<string>();
  for (const supports of m.accounts.values()) for (const s of supports) kinds.add(s.kind);
  const c = f.addressClass;
  let outcome: ObservationOutcome;
  if (c === 'server' || c === 'infrastructure') outcome = 'server-address';
  else if (m.accounts.size > 0) outcome = 'matched';
  else if (c === 'not-operator' && translations.length === 0 && m.allocations.length === 0) outcome = 'not-operator-address';
  else if (unresolved.length > 0 && translations.length === 0) outcome = 'unresolvable-port';
  else if (translations.length > 0 && m.allocations.length === 0) {
    // The NAT step held but no allocation holds the inside host: keep the NAT step in the path.
    outcome = 'inside-unallocated';
    for (const t of translations) kinds.add(t.record.kind);
  } else outcome = 'no-record';
  return {
    observation: o,
    addressSpace: f.addressSpace,
    addressClass: c,
    realm: f.addressSpace?.realm ?? null,
    translations,
    unresolved,
    sessionsExcluded,
    matches: m,
    unallocated,
    sessionsCapped: f.sessionsCapped,
    path: PATH_ORDER.filter((k) => kinds.has(k)),
    outcome,
  };
}
