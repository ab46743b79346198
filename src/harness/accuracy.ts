/**
 * `ipar accuracy` (issue 6): simulated requests through the system under test, scenario
 * by scenario, scored against the simulator's ground truth, with the naive baseline
 * measured on the same requests. A silent error is an error the result gives no warning
 * of: a wrong unique answer without a false-positive flag, or a miss (the true account
 * not among the candidates, the answer not unique) without a false-negative flag.
 * Each silent error is put down to a cause read from the truth — whether the records
 * could have shown it decides whether the scenario is a known gap or undetectable.
 */
import { z } from 'zod';
import { readTime } from '../../matcher/time.js';
import { PROFILE_NAMES, type SimRequest, type SimTruth, type SimulationConfigInput } from '../../nat/simulate.js';
import { IparError } from '../problems.js';
import type { CanonicalRecordInput } from '../records.js';
import type { RequestInput, Result } from '../request.js';
import { hourlyRuns } from './rotate.js';
import { naiveBaseline } from './baseline.js';
import { SCENARIOS, SCENARIO_NAMES, COMPLETE_LOGS, QUIET_NOISE, type Scenario } from './scenarios.js';
import { resolveChecked, sqliteSystem, type System } from './system.js';
import { asRequest, buildWorld, type WorldSpec } from './world.js';

/** The size of each simulated operator a scenario draws its trials from. */
export const WORLD = Object.freeze({
  subscribers: 250,
  requests: 500,
  days: 1,
  toleranceSeconds: 2,
  /** Worlds alternate between the two UK clock changes of 2026, so BST, GMT and both changes occur. */
  starts: ['2026-03-28T12:00:00Z', '2026-10-24T12:00:00Z'],
});

/** A written time this far from the true instant was misread (zone, offset, 12-hour), not skewed. */
const MISREAD_MS = 30 * 60_000;
/** Worlds in a row that may yield no request before the run gives up. */
const MAX_EMPTY_WORLDS = 3;

export const SILENT_CAUSES = {
  'log-lost-undeclared': {
    detectable: false,
    explanation: 'a record behind the true answer was lost in a log gap that no coverage record declares: nothing in the records shows that it is missing',
  },
  'log-lost-declared': { detectable: true, explanation: 'a record behind the true answer was lost in a log gap that a coverage record declares' },
  'outside-span': {
    detectable: true,
    explanation: "the request's time lies outside the span of log time the store's sources covered: the records show that nothing is known then",
  },
  'feed-missing': {
    detectable: true,
    explanation: 'an allocation behind the true answer came from a feed that was not loaded: the NAT record reaches an inside host no allocation holds',
  },
  'time-misread': {
    detectable: true,
    explanation: 'a time was written the wrong way (zone label, offset or 12-hour clock), and the request says which readings are plausible',
  },
  'skew-beyond-tolerance': {
    detectable: true,
    explanation: "the authority's clock was off by more than the tolerance the request gave, and the record that held starts or ends just outside the window",
  },
  unexplained: { detectable: true, explanation: 'nothing in the truth explains it: a defect to investigate' },
} as const satisfies Record<string, { detectable: boolean; explanation: string }>;
export type SilentCause = keyof typeof SILENT_CAUSES;
const CAUSE_NAMES = Object.keys(SILENT_CAUSES) as [SilentCause, ...SilentCause[]];

export const VERDICTS = ['pass', 'undetectable', 'known-gap', 'fail'] as const;

// ---- the report (JSON on stdout with --json) -------------------------------------------

const rate = z.number().min(0).max(1);
export const Figures = z.strictObject({
  name: z.string(),
  trials: z.int().min(0),
  /** Share of requests answered with exactly one account. */
  uniqueRate: rate,
  /** Share of unique answers that are the true account; `null` when there were none. */
  precision: rate.nullable(),
  /** Share of requests whose true account is among the candidates. */
  recall: rate,
  meanCandidates: z.number().min(0),
  silentErrors: z.int().min(0),
});
export type Figures = z.infer<typeof Figures>;

export const SilentCauseReport = z.strictObject({
  cause: z.enum(CAUSE_NAMES),
  count: z.int().min(1),
  detectable: z.boolean(),
  explanation: z.string(),
  /** The first such trial, enough to reproduce it: the world, the request, the truth, the result. */
  example: z.strictObject({
    world: z.strictObject({ name: z.string(), seed: z.int(), config: z.record(z.string(), z.unknown()) }),
    request: z.record(z.string(), z.unknown()),
    truth: z.record(z.string(), z.unknown()),
    result: z.strictObject({
      status: z.string(),
      candidateCount: z.int(),
      candidates: z.array(z.string()),
      risks: z.array(z.strictObject({ code: z.string(), kind: z.string() })),
    }),
  }),
});
export type SilentCauseReport = z.infer<typeof SilentCauseReport>;

/** How far the flags guide a decision (issue 18): severity measured against the truth. */
export const Guidance = z.strictObject({
  /** Of the right unique answers, the share with no material false-positive flag; `null` when there were none. */
  clean: rate.nullable(),
  /** The same share counting every false-positive flag, whatever its severity (what the flags said before severity). */
  cleanAnyFlag: rate.nullable(),
  /** Wrong unique answers with no material false-positive flag: silent errors of a reader who trusts severity (must be 0). */
  wrongClean: z.int().min(0),
  /** Of the unique answers carrying a material false-positive flag, the share that were wrong; `null` when there were none. */
  materialPrecision: rate.nullable(),
  /** Share of requests whose true account is among the candidates, or among the accounts of a plausible reading the result's advice names. */
  recallWithReadings: rate,
});
export type Guidance = z.infer<typeof Guidance>;

export const ScenarioReport = Figures.extend({
  description: z.string(),
  guidance: Guidance,
  /** pass: no silent error; undetectable: only errors the records cannot show; known-gap: errors the records could show; fail: unexplained ones. */
  verdict: z.enum(VERDICTS),
  silentCauses: z.array(SilentCauseReport),
  /** Of the requests whose true record was lost in an undeclared gap, the share flagged INFERRED_GAP; `null` when there were none. */
  inferredGapDetection: rate.nullable(),
  /** Of the requests whose truth touches no gap at all, the share flagged INFERRED_GAP (at most 1 % where the logs are complete); `null` when there were none. */
  inferredGapFalseAlarm: rate.nullable(),
});
export type ScenarioReport = z.infer<typeof ScenarioReport>;

export const AccuracyReport = z.strictObject({
  system: z.string(),
  profile: z.enum(PROFILE_NAMES),
  seed: z.int(),
  trialsPerScenario: z.int().min(1),
  world: z.strictObject({ subscribers: z.int(), requests: z.int(), days: z.number(), toleranceSeconds: z.number(), starts: z.array(z.string()) }),
  scenarios: z.array(ScenarioReport),
  baseline: z.strictObject({ description: z.string(), scenarios: z.array(Figures) }),
});
export type AccuracyReport = z.infer<typeof AccuracyReport>;

export const AccuracyOptions = z.strictObject({
  trials: z.int().min(1).max(1_000_000).default(1000),
  seed: z
    .int()
    .min(0)
    .max(2 ** 32 - 1)
    .default(1),
  profile: z.enum(PROFILE_NAMES).default('mixed'),
  /** Only these scenarios (default: all, in {@link SCENARIOS} order). */
  scenarios: z
    .array(z.enum(SCENARIO_NAMES as [string, ...string[]]))
    .min(1)
    .optional(),
});
export type AccuracyOptions = z.infer<typeof AccuracyOptions>;
export type AccuracyOptionsInput = z.input<typeof AccuracyOptions>;

export interface AccuracyProgress {
  readonly scenario: string;
  /** 0-based position of the scenario, of `scenarios`. */
  readonly index: number;
  readonly scenarios: number;
  readonly trials: number;
  readonly of: number;
}

export const BASELINE_DESCRIPTION =
  'naive: the first observation at face value (no tolerance, no precision window, no other reading); the last NAT record and the last allocation that started before that instant win; no end check, no sub-window, no cross-correlation, no flags';

// ---- scoring -----------------------------------------------------------------------------

/** One request scored: the engine's result and the baseline's answer against the truth. */
export interface Trial {
  readonly world: WorldSpec;
  readonly request: SimRequest;
  readonly truth: SimTruth;
  readonly result: Result;
  readonly naive: string | null;
  /** The request's times were moved outside the data's span (scenario `outside-span`). */
  readonly movedOutside?: boolean;
  /** An allocation of the true account was withheld with a missing feed (scenario `missing-feed`). */
  readonly feedMissing?: boolean;
}

const hasKind = (r: Result, kind: 'false-positive' | 'false-negative') => r.risks.some((x) => x.kind === kind);

/** The true account is among the candidates. */
export function found(t: Trial): boolean {
  return t.result.candidates.some((c) => c.account === t.truth.account);
}

/**
 * A wrong unique answer without a false-positive flag, or a miss (not unique, the true
 * account not among the candidates) without a false-negative flag.
 */
export function isSilentError(t: Trial): boolean {
  if (found(t)) return false;
  return t.result.status === 'unique' ? !hasKind(t.result, 'false-positive') : !hasKind(t.result, 'false-negative');
}

const materialFp = (r: Result) => r.risks.some((x) => x.kind === 'false-positive' && x.severity === 'material');

/** The true account is among the candidates or among the accounts of a material reading the advice names (of the time or of the records). */
export function foundWithReadings(t: Trial): boolean {
  if (found(t)) return true;
  return t.result.advice.some(
    (a) => (a.kind === 'confirm-time-zone' || a.kind === 'confirm-records') && a.readings.some((r) => r.accounts?.includes(t.truth.account) === true),
  );
}

/** Severity scored against the truth: clean answers, silent errors among them, precision of material flags. */
export function scoreGuidance(trials: readonly Trial[]): Guidance {
  const unique = trials.filter((t) => t.result.status === 'unique');
  const right = unique.filter(found);
  const flagged = unique.filter((t) => materialFp(t.result));
  const share = (k: number, of: number) => (of === 0 ? null : round(k / of));
  return {
    clean: share(right.filter((t) => !materialFp(t.result)).length, right.length),
    cleanAnyFlag: share(right.filter((t) => !hasKind(t.result, 'false-positive')).length, right.length),
    wrongClean: unique.filter((t) => !found(t) && !materialFp(t.result)).length,
    materialPrecision: share(flagged.filter((t) => !found(t)).length, flagged.length),
    recallWithReadings: share(trials.filter(foundWithReadings).length, trials.length) ?? 0,
  };
}

/** Why a silent error happened, read from the truth (first cause that applies). */
export function causeOf(t: Trial): SilentCause {
  if (t.movedOutside === true) return 'outside-span';
  if (t.feedMissing === true) return 'feed-missing';
  if (t.truth.logGap === 'record-lost-silent') return 'log-lost-undeclared';
  if (t.truth.logGap === 'record-lost-declared') return 'log-lost-declared';
  const misread = t.request.observations.some((o, i) => {
    const read = readTime(o.time, 'time');
    const truth = t.truth.observations[i];
    return read.ok && truth !== undefined && Math.abs(read.value.start - Date.parse(truth.time)) >= MISREAD_MS;
  });
  if (misread) return 'time-misread';
  if (Math.abs(t.truth.noise.skewMs) > t.request.toleranceSeconds * 1000) return 'skew-beyond-tolerance';
  return 'unexplained';
}

const round = (x: number) => Math.round(x * 10_000) / 10_000;

/** The figures for one system over a set of outcomes. */
function figures(name: string, outcomes: readonly { unique: boolean; hit: boolean; candidates: number; silent: boolean }[]): Figures {
  const n = outcomes.length;
  const unique = outcomes.filter((o) => o.unique);
  const share = (k: number, of: number) => (of === 0 ? 0 : round(k / of));
  return {
    name,
    trials: n,
    uniqueRate: share(unique.length, n),
    precision: unique.length === 0 ? null : share(unique.filter((o) => o.hit).length, unique.length),
    recall: share(outcomes.filter((o) => o.hit).length, n),
    meanCandidates: share(
      outcomes.reduce((s, o) => s + o.candidates, 0),
      n,
    ),
    silentErrors: outcomes.filter((o) => o.silent).length,
  };
}

/** Engine figures, with the silent errors put down to causes. */
export function scoreEngine(scenario: Scenario, trials: readonly Trial[]): ScenarioReport {
  const f = figures(
    scenario.name,
    trials.map((t) => ({ unique: t.result.status === 'unique', hit: found(t), candidates: t.result.candidateCount, silent: isSilentError(t) })),
  );
  const byCause = new Map<SilentCause, Trial[]>();
  for (const t of trials) {
    if (!isSilentError(t)) continue;
    const cause = causeOf(t);
    if (!byCause.has(cause)) byCause.set(cause, []);
    byCause.get(cause)!.push(t);
  }
  const silentCauses = CAUSE_NAMES.filter((c) => byCause.has(c)).map((cause): SilentCauseReport => {
    const list = byCause.get(cause)!;
    const e = list[0]!;
    return {
      cause,
      count: list.length,
      detectable: SILENT_CAUSES[cause].detectable,
      explanation: SILENT_CAUSES[cause].explanation,
      example: {
        world: { name: e.world.name, seed: e.world.seed, config: { ...e.world.config } },
        request: { ...e.request },
        truth: { ...e.truth },
        result: {
          status: e.result.status,
          candidateCount: e.result.candidateCount,
          candidates: e.result.candidates.slice(0, 5).map((c) => c.account),
          risks: e.result.risks.map((r) => ({ code: r.code, kind: r.kind })),
        },
      },
    };
  });
  const flagged = (t: Trial) => t.result.risks.some((r) => r.code === 'INFERRED_GAP');
  const shareFlagged = (list: readonly Trial[]) => (list.length === 0 ? null : round(list.filter(flagged).length / list.length));
  const inferredGapDetection = shareFlagged(trials.filter((t) => t.truth.logGap === 'record-lost-silent'));
  const inferredGapFalseAlarm = shareFlagged(trials.filter((t) => t.truth.logGap === 'none'));
  const verdict =
    silentCauses.length === 0
      ? 'pass'
      : silentCauses.some((c) => c.cause === 'unexplained')
        ? 'fail'
        : silentCauses.some((c) => c.detectable)
          ? 'known-gap'
          : 'undetectable';
  return { ...f, description: scenario.description, guidance: scoreGuidance(trials), verdict, silentCauses, inferredGapDetection, inferredGapFalseAlarm };
}

/** Baseline figures: it raises no flags, so every error it makes is silent. */
export function scoreBaseline(scenario: Scenario, trials: readonly Trial[]): Figures {
  return figures(
    scenario.name,
    trials.map((t) => ({
      unique: t.naive !== null,
      hit: t.naive === t.truth.account,
      candidates: t.naive === null ? 0 : 1,
      silent: t.naive !== t.truth.account,
    })),
  );
}

// ---- running -------------------------------------------------------------------------------

/** A 32-bit seed for one world of one scenario, from the run's seed (FNV-1a). */
export function worldSeed(seed: number, scenario: string, index: number): number {
  let h = 0x811c9dc5;
  for (const ch of `${seed}/${scenario}/${index}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return h;
}

/** The simulated operator the `index`-th world of a scenario is. */
export function scenarioWorld(scenario: Scenario, profile: AccuracyOptions['profile'], seed: number, index: number, requests: number): WorldSpec {
  const config: SimulationConfigInput = {
    profile,
    subscribers: WORLD.subscribers,
    days: WORLD.days,
    start: (scenario.starts ?? WORLD.starts)[index % (scenario.starts ?? WORLD.starts).length]!,
    requests,
    toleranceSeconds: WORLD.toleranceSeconds,
    noise: scenario.defaults === true ? { ...scenario.noise } : { ...QUIET_NOISE, ...scenario.noise },
    logs: scenario.defaults === true ? { ...scenario.logs } : { ...COMPLETE_LOGS, ...scenario.logs },
    ...(scenario.observationsPerRequest === undefined ? {} : { observationsPerRequest: scenario.observationsPerRequest }),
  };
  return { name: `${scenario.name}#${index}`, config, seed: worldSeed(seed, scenario.name, index) };
}

/** A request with every instant written as a string moved by `ms` (the `outside-span` scenario's requests are UTC instants). */
function moveRequest(r: RequestInput, ms: number): RequestInput {
  return { ...r, observations: r.observations.map((o) => (typeof o.time === 'string' ? { ...o, time: new Date(Date.parse(o.time) + ms).toISOString() } : o)) };
}

/** A request whose observations no longer declare `"clock": "date-ambiguous"` (the `*-undeclared` scenarios). */
function withoutDateDeclaration(r: RequestInput): RequestInput {
  return {
    ...r,
    observations: r.observations.map(({ clock, ...o }) => (clock === 'date-ambiguous' ? o : { ...o, ...(clock === undefined ? {} : { clock }) })),
  };
}

/** The records without the allocations of inside hosts whose last IPv4 octet is odd, and the accounts that lost one. */
function withoutFeed(records: readonly CanonicalRecordInput[]): { records: CanonicalRecordInput[]; withheld: Set<string> } {
  const withheld = new Set<string>();
  const kept = records.filter((r) => {
    if (r.kind !== 'allocation' || r.realm === undefined) return true;
    const last = Number(/\.(\d+)$/.exec(r.ip)?.[1] ?? 0);
    if (last % 2 === 0) return true;
    withheld.add(r.account);
    return false;
  });
  return { records: kept, withheld };
}

/** Run one scenario: worlds until `trials` requests have been scored. */
export async function runScenario(scenario: Scenario, options: AccuracyOptions, system: System, onTrials: (done: number) => void = () => {}): Promise<Trial[]> {
  const trials: Trial[] = [];
  let empty = 0;
  for (let index = 0; trials.length < options.trials; index++) {
    const spec = scenarioWorld(scenario, options.profile, options.seed, index, Math.min(WORLD.requests, options.trials - trials.length));
    const world = buildWorld(spec);
    const take = Math.min(world.requests.length, options.trials - trials.length);
    if (take === 0) {
      if (++empty >= MAX_EMPTY_WORLDS)
        throw new IparError('ACCURACY_NO_REQUESTS', `scenario ${scenario.name}: ${empty} simulated ${options.profile} operators in a row made no request`);
      continue;
    }
    empty = 0;
    const requests = world.requests.slice(0, take);
    const moved = scenario.outsideSpanMs;
    const inputs = requests
      .map(asRequest)
      .map((r) => (scenario.undeclaredDate === true ? withoutDateDeclaration(r) : r))
      .map((r, i) => (moved === undefined ? r : moveRequest(r, i % 2 === 0 ? -moved.before : moved.after)));
    const { records, withheld } = scenario.missingFeed === true ? withoutFeed(world.records) : { records: world.records, withheld: new Set<string>() };
    const instance = await system.open(records, scenario.rotated === true ? hourlyRuns(records) : undefined);
    let results: Result[];
    try {
      results = await resolveChecked(instance, inputs);
    } finally {
      await instance.close();
    }
    const naive = naiveBaseline(records);
    requests.forEach((request, i) => {
      const truth = world.truth[i]!;
      if (truth.ref !== request.ref)
        throw new IparError('ACCURACY_TRUTH_MISMATCH', `world ${spec.name}: truth ${truth.ref} does not follow request ${request.ref}`);
      trials.push({
        world: spec,
        request: moved === undefined && scenario.undeclaredDate !== true ? request : (inputs[i]! as SimRequest),
        truth,
        result: results[i]!,
        naive: naive(inputs[i]!),
        ...(moved === undefined ? {} : { movedOutside: true }),
        ...(withheld.has(truth.account) ? { feedMissing: true } : {}),
      });
    });
    onTrials(trials.length);
  }
  return trials;
}

/**
 * Measure a system scenario by scenario, the naive baseline beside it.
 *
 * @example
 * const report = await measureAccuracy({ trials: 1000, seed: 1, profile: 'mixed' });
 * report.scenarios.filter((s) => s.silentErrors > 0).map((s) => `${s.name}: ${s.verdict}`);
 */
export async function measureAccuracy(
  input: AccuracyOptionsInput,
  system: System = sqliteSystem(),
  onProgress?: (p: AccuracyProgress) => void,
): Promise<AccuracyReport> {
  const parsed = AccuracyOptions.safeParse(input);
  if (!parsed.success) throw new IparError('USAGE', parsed.error.issues.map((i) => `${i.path.join('.') || 'options'}: ${i.message}`).join('; '));
  const options = parsed.data;
  const chosen = options.scenarios === undefined ? SCENARIOS : SCENARIOS.filter((s) => options.scenarios!.includes(s.name));
  const scenarios: ScenarioReport[] = [];
  const baseline: Figures[] = [];
  for (const [index, scenario] of chosen.entries()) {
    onProgress?.({ scenario: scenario.name, index, scenarios: chosen.length, trials: 0, of: options.trials });
    const trials = await runScenario(scenario, options, system, (done) =>
      onProgress?.({ scenario: scenario.name, index, scenarios: chosen.length, trials: done, of: options.trials }),
    );
    scenarios.push(scoreEngine(scenario, trials));
    baseline.push(scoreBaseline(scenario, trials));
  }
  return {
    system: system.name,
    profile: options.profile,
    seed: options.seed,
    trialsPerScenario: options.trials,
    world: { ...WORLD, starts: [...WORLD.starts] },
    scenarios,
    baseline: { description: BASELINE_DESCRIPTION, scenarios: baseline },
  };
}
