/**
 * Resolve and estimate batches end to end: validate, refuse what the guardrails forbid,
 * match, analyse risk (with alternative time readings and coverage gaps), render.
 */
import type { Estimate, Result } from '../src/request.js';
import type { StoreReader } from '../src/store/types.js';
import { refusalFor } from './guard.js';
import { planRequest, type Plan, type PlannedRequest } from './plan.js';
import { invalidResult, matchPlans, refusedResult, renderResult, type MatchTrace } from './resolve.js';
import { analyseRisks, type RiskInputs } from './risk.js';
import { sensitivityWindows, timeSensitivity } from './sensitivity.js';

export interface ResolveOptions {
  /** Analyse risk (the default). Off only for measuring the bare matcher. */
  readonly risks?: boolean;
}

type Step =
  | { readonly kind: 'invalid'; readonly plan: Extract<Plan, { ok: false }> }
  | { readonly kind: 'refused'; readonly plan: PlannedRequest; readonly refusal: NonNullable<ReturnType<typeof refusalFor>> }
  | { readonly kind: 'match'; readonly plan: PlannedRequest; readonly trace: MatchTrace; readonly risks: RiskInputs | null };

/** Resolve `inputs` in chunks of the store's preferred batch, rendering each chunk before the next. */
async function inChunks<T>(store: StoreReader, inputs: readonly unknown[], options: ResolveOptions, render: (step: Step) => T): Promise<T[]> {
  const size = Math.max(1, store.preferredBatch ?? inputs.length);
  const out: T[] = [];
  for (let i = 0; i < inputs.length; i += size) for (const step of await run(store, inputs.slice(i, i + size), options)) out.push(render(step));
  return out;
}

async function run(store: StoreReader, inputs: readonly unknown[], options: ResolveOptions): Promise<Step[]> {
  const plans = inputs.map(planRequest);
  const refusals = plans.map((p) => (p.ok ? refusalFor(p.value) : null));
  const toMatch = plans.flatMap((p, i) => (p.ok && refusals[i] === null ? [p.value] : []));
  const analyse = options.risks !== false;
  const traces = await matchPlans(store, toMatch, analyse ? sensitivityWindows : undefined);
  let inputsFor: (t: number) => RiskInputs | null = () => null;
  if (analyse && traces.length > 0) {
    const accounts = traces.flatMap((t) => t.correlation.candidates.map((c) => c.account));
    const settings = await store.settings();
    // Gaps before the window count too: a record that started in one may still be held.
    const windows = traces.flatMap((t) => t.observations.map((o) => ({ source: null, window: { start: o.observation.window.start - settings.longestRecordMs, end: o.observation.window.end } })));
    const [subscriberTypes, gaps] = await Promise.all([store.subscriberTypes(accounts), store.coverageGaps(windows)]);
    const readings = timeSensitivity(traces);
    const offsets: number[] = [];
    traces.reduce((at, t) => (offsets.push(at), at + t.observations.length), 0);
    inputsFor = (t) => ({ settings, subscriberTypes, gaps: gaps.slice(offsets[t]!, offsets[t]! + traces[t]!.observations.length), readings: readings[t]! });
  }
  let k = 0;
  return plans.map((p, i): Step => {
    if (!p.ok) return { kind: 'invalid', plan: p };
    const refusal = refusals[i];
    if (refusal != null) return { kind: 'refused', plan: p.value, refusal };
    const t = k++;
    return { kind: 'match', plan: p.value, trace: traces[t]!, risks: inputsFor(t) };
  });
}

/**
 * Resolve a batch of requests (any JSON values), results in input order: invalid ones get
 * `status: "invalid"`, forbidden ones `status: "refused"`.
 *
 * @example
 * const [result] = await resolveRequests(store, [{ ref: 'R1', observations: [{ sourceIp: '198.51.100.7', time: '2026-03-28T10:00:00Z' }] }]);
 * result.status; // 'unique'
 */
export async function resolveRequests(store: StoreReader, inputs: readonly unknown[], options: ResolveOptions = {}): Promise<Result[]> {
  return inChunks(store, inputs, options, (step) => {
    if (step.kind === 'invalid') return invalidResult(step.plan.ref, step.plan.errors);
    if (step.kind === 'refused') return refusedResult(step.plan.ref, step.refusal);
    return renderResult(step.trace, step.risks === null ? [] : analyseRisks(step.trace, step.risks));
  });
}

/**
 * How many customers each request would return, per observation and combined, with the
 * flags — no identities (the guidance 9.24 asks for before a multi-customer disclosure).
 *
 * @example
 * const [e] = await estimateRequests(store, [request]);
 * e.candidateCount; e.observations.map((o) => o.candidateCount);
 */
export async function estimateRequests(store: StoreReader, inputs: readonly unknown[], options: ResolveOptions = {}): Promise<Estimate[]> {
  return inChunks(store, inputs, options, (step): Estimate => {
    if (step.kind === 'invalid') return { ref: step.plan.ref, status: 'invalid', candidateCount: 0, supportCounts: [], observations: [], risks: [], errors: [...step.plan.errors] };
    if (step.kind === 'refused') return { ref: step.plan.ref, status: 'refused', candidateCount: 0, supportCounts: [], observations: [], risks: [], refusal: step.refusal };
    const r = renderResult(step.trace, step.risks === null ? [] : analyseRisks(step.trace, step.risks));
    return { ref: r.ref, status: r.status, candidateCount: r.candidateCount, supportCounts: [...step.trace.correlation.supportCounts], observations: r.observations, risks: r.risks };
  });
}
