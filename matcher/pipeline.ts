/**
 * The life of a batch of requests (DESIGN.md, "Life of a request"), one stage per file:
 * plan, guard, classify and fetch, translate and identify (evaluate), correlate, analyse
 * risk, disclose, render. The store is asked once per step for the whole batch, in the
 * store's preferred batch size.
 */
import { workBudget, type WorkBudget } from '../src/budget.js';
import type { Estimate, Result } from '../src/request.js';
import type { StoreReader } from '../src/store/types.js';
import { advise, assess } from './advice.js';
import { correlate } from './correlate.js';
import { disclose } from './disclose.js';
import { evaluate, type MatchTrace } from './evaluate.js';
import { fetchPlans, fetchPlansWithin, fetchRiskFacts, type FetchWindows } from './fetch.js';
import { budgetRefusal, planBudgetRefusal, refusalFor } from './guard.js';
import { connectionOutcomeEstimate, connectionOutcomeResult, requestKind, runConnectionRequests, withoutKind } from './requests.js';
import { planRequest, type Plan, type PlannedRequest } from './plan.js';
import { asEstimate, asResult, type Renderer } from './render.js';
import { analyseRisks, type RiskInputs } from './risk.js';
import { sensitivityWindows, timeSensitivity } from './sensitivity.js';

export interface ResolveOptions {
  /** Analyse risk (the default). Off only for measuring the bare matcher. */
  readonly risks?: boolean;
  /** Work budget limits for these requests, over the store's `budget.*` settings and the defaults (src/budget.ts). */
  readonly budget?: Partial<WorkBudget>;
}

type Step =
  | { readonly kind: 'invalid'; readonly plan: Extract<Plan, { ok: false }> }
  | { readonly kind: 'refused'; readonly plan: PlannedRequest; readonly refusal: NonNullable<ReturnType<typeof refusalFor>> }
  | { readonly kind: 'match'; readonly plan: PlannedRequest; readonly trace: MatchTrace; readonly risks: RiskInputs | null };

/**
 * Match planned requests against a store, batching every store question.
 *
 * @example
 * const [trace] = await matchPlans(store, [plan]);
 * trace.correlation.candidates; // accounts that fit every observation
 */
export async function matchPlans(store: StoreReader, plans: readonly PlannedRequest[], fetchWindows?: FetchWindows): Promise<MatchTrace[]> {
  // Classify every source address and read the records its windows need (fetch.ts).
  const fetched = await fetchPlans(store, plans, fetchWindows);
  return plans.map((request, k) => traceOf(request, fetched[k]!));
}

function traceOf(request: PlannedRequest, fetched: MatchTrace['fetched']): MatchTrace {
  // Translate and identify each observation in memory (evaluate.ts), then correlate.
  const observations = fetched.map((f) => evaluate(f, f.observation.window));
  return { request, observations, fetched, correlation: correlate(observations.map((t) => t.matches.accounts)) };
}

async function run(store: StoreReader, inputs: readonly unknown[], options: ResolveOptions): Promise<Step[]> {
  // Plan: validate, read every time.
  const plans = inputs.map(planRequest);
  // Guard: refuse what 9.14 and Condition D forbid, and windows or readings past the work
  // budget, before any record is read.
  const analyse = options.risks !== false;
  const budget = workBudget((await store.settings()).budget, options.budget);
  const refusals = plans.map((p) => (p.ok ? (refusalFor(p.value) ?? planBudgetRefusal(p.value, budget, analyse)) : null));
  const planned = plans.flatMap((p, i) => (p.ok && refusals[i] === null ? [{ i, plan: p.value }] : []));
  // Match, reading wide enough for every alternative time reading risk analysis tries; a
  // request whose reads pass the row budget is refused with what it had read.
  const fetched = await fetchPlansWithin(
    store,
    planned.map((m) => m.plan),
    analyse ? sensitivityWindows : undefined,
    budget.rows,
  );
  const traces: MatchTrace[] = [];
  fetched.forEach((f, k) => {
    if (f.ok) traces.push(traceOf(planned[k]!.plan, f.observations));
    else refusals[planned[k]!.i] = budgetRefusal([{ budget: 'rows', limit: budget.rows, value: f.rows, atLeast: true }]);
  });
  // What risk analysis consults: facts from the store, and the other readings of the times.
  let inputsFor: (t: number) => RiskInputs | null = () => null;
  if (analyse && traces.length > 0) {
    const facts = await fetchRiskFacts(store, traces);
    const readings = timeSensitivity(traces);
    inputsFor = (t) => ({ ...facts[t]!, readings: readings[t]! });
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

/** Analyse risk, classify the answer and apply the disclosure policy, then render. */
function finish<T>(step: Step, render: Renderer<T>): T {
  if (step.kind === 'invalid') return render.invalid(step.plan.ref, step.plan.errors);
  if (step.kind === 'refused') return render.refused(step.plan.ref, step.refusal);
  const { trace } = step;
  const { returnPolicy, maxCandidates } = trace.request;
  const risks = step.risks === null ? [] : analyseRisks(trace, step.risks);
  const disclosure = disclose(trace.correlation.candidates, returnPolicy, maxCandidates);
  // Advice names a reading's accounts only where the policy would disclose that set.
  const discloses = (accounts: readonly string[]) =>
    !disclose(
      accounts.map((account) => ({ account, support: 0, of: 0, evidence: [] })),
      returnPolicy,
      maxCandidates,
    ).withheld;
  const advice = step.risks === null ? [] : advise(trace, { risks, readings: step.risks.readings, discloses });
  return render.matched(trace, disclosure, risks, { assessment: assess(disclosure.status, disclosure.candidateCount, risks), advice });
}

/**
 * Dispatch by request kind: IP resolutions run the stages above; service-users and
 * connection-records requests run matcher/requests.ts. Answers in input order.
 */
async function dispatch<T>(
  store: StoreReader,
  inputs: readonly unknown[],
  options: ResolveOptions,
  render: Renderer<T>,
  renderOther: (o: Awaited<ReturnType<typeof runConnectionRequests>>[number]) => T,
): Promise<T[]> {
  const other = inputs.map((input) => requestKind(input) !== 'ip-resolution');
  if (!other.includes(true)) return (await run(store, inputs.map(withoutKind), options)).map((step) => finish(step, render));
  const resolved = (
    await run(
      store,
      inputs.flatMap((input, i) => (other[i] ? [] : [withoutKind(input)])),
      options,
    )
  ).map((step) => finish(step, render));
  const answered = (
    await runConnectionRequests(
      store,
      inputs.filter((_, i) => other[i]),
    )
  ).map(renderOther);
  let a = 0;
  let b = 0;
  return inputs.map((_, i) => (other[i] ? answered[b++]! : resolved[a++]!));
}

/** Resolve `inputs` in chunks of the store's preferred batch, rendering each chunk before the next. */
async function inChunks<T>(
  store: StoreReader,
  inputs: readonly unknown[],
  options: ResolveOptions,
  render: Renderer<T>,
  renderOther: Parameters<typeof dispatch<T>>[4],
): Promise<T[]> {
  const size = Math.max(1, store.preferredBatch ?? inputs.length);
  const out: T[] = [];
  for (let i = 0; i < inputs.length; i += size)
    for (const answer of await dispatch(store, inputs.slice(i, i + size), options, render, renderOther)) out.push(answer);
  return out;
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
  return inChunks(store, inputs, options, asResult, connectionOutcomeResult);
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
  return inChunks(store, inputs, options, asEstimate, connectionOutcomeEstimate);
}
