/**
 * The request kinds beyond IP resolution (issue 19): which kind a request line is, and
 * the life of a service-users or connection-records request — plan, guard (with the
 * store's window bound), match, disclose, render — as the pipeline dispatches them.
 */
import type { Estimate, Refusal, RequestKind, Result } from '../src/request.js';
import type { StoreReader } from '../src/store/types.js';
import {
  connectionRecordsRequestRefusal,
  matchConnectionRecords,
  planConnectionRecords,
  type ConnectionRecordsOutcome,
  type PlannedConnectionRecords,
} from './connections.js';
import { assess } from './advice.js';
import { disclose, statusOf } from './disclose.js';
import { invalidEstimate, invalidResult, refusedEstimate, refusedResult } from './render.js';
import { matchServiceUsers, planServiceUsers, serviceUsersRefusal, type PlannedServiceUsers, type ServiceUsersOutcome } from './services.js';

/**
 * The kind a request line asks for: its `kind` field, `ip-resolution` when absent (or not
 * one of the kinds: IP resolution's own validation then names the field).
 *
 * @example
 * requestKind({ ref: 'S', kind: 'service-users' }); // 'service-users'
 */
export function requestKind(input: unknown): RequestKind {
  const kind = typeof input === 'object' && input !== null && !Array.isArray(input) ? (input as { kind?: unknown }).kind : undefined;
  return kind === 'service-users' || kind === 'connection-records' ? kind : 'ip-resolution';
}

/** An IP-resolution request that names its kind is read as one that does not. */
export function withoutKind(input: unknown): unknown {
  if (typeof input !== 'object' || input === null || Array.isArray(input) || (input as { kind?: unknown }).kind !== 'ip-resolution') return input;
  const { kind: _, ...rest } = input as Record<string, unknown>;
  return rest;
}

type Outcome =
  | { readonly kind: 'invalid'; readonly ref: string | null; readonly errors: Extract<ReturnType<typeof planServiceUsers>, { ok: false }>['errors'] }
  | { readonly kind: 'refused'; readonly ref: string; readonly refusal: Refusal }
  | { readonly kind: 'service-users'; readonly outcome: ServiceUsersOutcome }
  | { readonly kind: 'connection-records'; readonly outcome: ConnectionRecordsOutcome };

/**
 * Plan, guard and match a batch of service-users and connection-records requests
 * (`inputs` holds only those), outcomes in input order.
 */
export async function runConnectionRequests(store: StoreReader, inputs: readonly unknown[]): Promise<Outcome[]> {
  if (inputs.length === 0) return [];
  const settings = await store.settings();
  const steps: (Outcome | { readonly kind: 'su'; readonly plan: PlannedServiceUsers } | { readonly kind: 'cr'; readonly plan: PlannedConnectionRecords })[] =
    inputs.map((input) => {
      const p = requestKind(input) === 'service-users' ? planServiceUsers(input) : planConnectionRecords(input);
      if (!p.ok) return { kind: 'invalid', ref: p.ref, errors: p.errors };
      const refusal = p.value.kind === 'service-users' ? serviceUsersRefusal(p.value, settings) : connectionRecordsRequestRefusal(p.value, settings);
      if (refusal !== null) return { kind: 'refused', ref: p.value.ref, refusal };
      return p.value.kind === 'service-users' ? { kind: 'su', plan: p.value } : { kind: 'cr', plan: p.value };
    });
  const su = await matchServiceUsers(
    store,
    steps.flatMap((s) => (s.kind === 'su' ? [s.plan] : [])),
    settings,
  );
  const cr = await matchConnectionRecords(
    store,
    steps.flatMap((s) => (s.kind === 'cr' ? [s.plan] : [])),
    settings,
  );
  let i = 0;
  let j = 0;
  return steps.map((s): Outcome =>
    s.kind === 'su' ? { kind: 'service-users', outcome: su[i++]! } : s.kind === 'cr' ? { kind: 'connection-records', outcome: cr[j++]! } : s,
  );
}

/** What a service-users answer is, in words, for its assessment line. */
function usersAnswer(n: number): string {
  return n === 0 ? 'no account met the layers' : n === 1 ? 'one account met the layers' : `${n} accounts met the layers`;
}

/** What a connection-records answer is, in words, for its assessment line. */
function recordsAnswer(subjects: number, records: number): string {
  if (subjects === 0) return 'the subject resolved to no account';
  if (subjects > 1) return `the subject resolved to ${subjects} accounts: no records are disclosed`;
  return `the subject resolved to one account with ${records} connection record(s) of interest`;
}

/** A service-users or connection-records outcome as a result (identities under the disclosure policy). */
export function connectionOutcomeResult(o: Outcome): Result {
  if (o.kind === 'invalid') return invalidResult(o.ref, o.errors);
  if (o.kind === 'refused') return refusedResult(o.ref, o.refusal);
  if (o.kind === 'service-users') {
    const { plan, answer, risks } = o.outcome;
    const d = disclose(answer.candidates, plan.returnPolicy, plan.maxCandidates);
    return {
      ref: plan.ref,
      status: d.status,
      candidateCount: d.candidateCount,
      withheld: d.withheld,
      candidates: [...d.candidates],
      observations: [],
      risks: [...risks],
      kind: 'service-users',
      layers: [...answer.layers],
      assessment: assess(d.status, d.candidateCount, risks, usersAnswer(d.candidateCount)),
      advice: [],
    };
  }
  const { plan, subjects, account, records, heldBack, risks } = o.outcome;
  const status = statusOf(subjects);
  // Records of one subject only: a subject address that resolves to several accounts discloses none.
  return {
    ref: plan.ref,
    status,
    candidateCount: subjects,
    withheld: subjects > 1,
    candidates: account === null ? [] : [{ account, support: 1, of: 1, evidence: [] }],
    observations: [],
    risks: [...risks],
    kind: 'connection-records',
    connections: subjects === 1 ? [...records] : [],
    heldBack,
    assessment: assess(status, subjects, risks, recordsAnswer(subjects, records.length)),
    advice: [],
  };
}

/** The same outcome as an estimate: per-layer counts, record counts, flags — no identities, no records. */
export function connectionOutcomeEstimate(o: Outcome): Estimate {
  if (o.kind === 'invalid') return invalidEstimate(o.ref, o.errors);
  if (o.kind === 'refused') return refusedEstimate(o.ref, o.refusal);
  if (o.kind === 'service-users') {
    const { plan, answer, risks } = o.outcome;
    const n = answer.candidates.length;
    const status = statusOf(n);
    return {
      ref: plan.ref,
      status,
      candidateCount: n,
      supportCounts: [...answer.supportCounts],
      observations: [],
      risks: [...risks],
      kind: 'service-users',
      layers: [...answer.layers],
      assessment: assess(status, n, risks, usersAnswer(n)),
      advice: [],
    };
  }
  const { plan, subjects, records, heldBack, risks } = o.outcome;
  const status = statusOf(subjects);
  return {
    ref: plan.ref,
    status,
    candidateCount: subjects,
    supportCounts: [],
    observations: [],
    risks: [...risks],
    kind: 'connection-records',
    connectionCount: subjects === 1 ? records.length : 0,
    heldBack,
    assessment: assess(status, subjects, risks, recordsAnswer(subjects, records.length)),
    advice: [],
  };
}
