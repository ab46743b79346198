/**
 * Stage 7: write a request's outcome in the pinned formats — a result (with the evidence,
 * under the disclosure policy) or an estimate (counts and flags, no identities: the
 * guidance 9.24 asks for before a multi-customer disclosure). Pure.
 */
import type { Problem } from '../src/problems.js';
import type { Advice, Estimate, Refusal, Result, Risk } from '../src/request.js';
import { formatInstant } from '../src/time.js';
import { assess } from './advice.js';
import type { Disclosure } from './disclose.js';
import type { MatchTrace } from './evaluate.js';

/** How each kind of request outcome is written, as `T`. */
export interface Renderer<T> {
  /** A request that failed validation. */
  readonly invalid: (ref: string | null, errors: readonly Problem[]) => T;
  /** A request the guardrails refused: nothing was looked up. */
  readonly refused: (ref: string, refusal: Refusal) => T;
  /** A request matched, its answer classified and the policy applied. */
  readonly matched: (trace: MatchTrace, disclosure: Disclosure, risks: readonly Risk[], guidance?: Guidance) => T;
}

/** The assessment line and the corroboration advice of a matched request (matcher/advice.ts). */
export interface Guidance {
  readonly assessment: string;
  readonly advice: readonly Advice[];
}

/** Without advice: the assessment the flags give. */
function guidanceOf(disclosure: Disclosure, risks: readonly Risk[]): Guidance {
  return { assessment: assess(disclosure.status, disclosure.candidateCount, risks), advice: [] };
}

const INVALID_ASSESSMENT = 'invalid: nothing was looked up; see errors';
const REFUSED_ASSESSMENT = 'refused: nothing was looked up; see refusal';

/**
 * Render a trace as the pinned result format, with the disclosure the policy allowed.
 *
 * @example
 * renderResult(trace, disclose(trace.correlation.candidates, 'single-only', 50), []).status; // 'unique'
 */
export function renderResult(trace: MatchTrace, disclosure: Disclosure, risks: readonly Risk[], guidance: Guidance = guidanceOf(disclosure, risks)): Result {
  const d = disclosure;
  return {
    ref: trace.request.ref,
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
    assessment: guidance.assessment,
    advice: [...guidance.advice],
  };
}

/** The result for a request that failed validation. */
export function invalidResult(ref: string | null, errors: readonly Problem[]): Result {
  return {
    ref,
    status: 'invalid',
    candidateCount: 0,
    withheld: false,
    candidates: [],
    observations: [],
    risks: [],
    assessment: INVALID_ASSESSMENT,
    advice: [],
    errors: [...errors],
  };
}

/** The result for a request the guardrails refused: nothing was looked up. */
export function refusedResult(ref: string, refusal: Refusal): Result {
  return {
    ref,
    status: 'refused',
    candidateCount: 0,
    withheld: false,
    candidates: [],
    observations: [],
    risks: [],
    assessment: REFUSED_ASSESSMENT,
    advice: [],
    refusal,
  };
}

/**
 * Render a trace as an estimate: how many customers, per observation and combined, and
 * how many fit k of the n observations — never who.
 *
 * @example
 * renderEstimate(trace, disclosure, risks).supportCounts; // [3, 0]: three accounts fit one of two observations
 */
export function renderEstimate(
  trace: MatchTrace,
  disclosure: Disclosure,
  risks: readonly Risk[],
  guidance: Guidance = guidanceOf(disclosure, risks),
): Estimate {
  const r = renderResult(trace, disclosure, risks, guidance);
  return {
    ref: r.ref,
    status: r.status,
    candidateCount: r.candidateCount,
    supportCounts: [...trace.correlation.supportCounts],
    observations: r.observations,
    risks: r.risks,
    assessment: r.assessment,
    advice: r.advice.map(withoutIdentities),
  };
}

/** Advice as an estimate gives it: no reading's accounts. */
function withoutIdentities(a: Advice): Advice {
  if (a.kind !== 'confirm-time-zone' && a.kind !== 'confirm-records') return a;
  return { ...a, readings: a.readings.map(({ accounts: _, ...r }) => r) };
}

/** The estimate for a request that failed validation. */
export function invalidEstimate(ref: string | null, errors: readonly Problem[]): Estimate {
  return {
    ref,
    status: 'invalid',
    candidateCount: 0,
    supportCounts: [],
    observations: [],
    risks: [],
    assessment: INVALID_ASSESSMENT,
    advice: [],
    errors: [...errors],
  };
}

/** The estimate for a request the guardrails refused. */
export function refusedEstimate(ref: string, refusal: Refusal): Estimate {
  return { ref, status: 'refused', candidateCount: 0, supportCounts: [], observations: [], risks: [], assessment: REFUSED_ASSESSMENT, advice: [], refusal };
}

/** Outcomes as results (`resolve`). */
export const asResult: Renderer<Result> = { invalid: invalidResult, refused: refusedResult, matched: renderResult };

/** Outcomes as estimates (`estimate`). */
export const asEstimate: Renderer<Estimate> = { invalid: invalidEstimate, refused: refusedEstimate, matched: renderEstimate };
