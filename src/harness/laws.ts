/**
 * The laws of resolution as reusable fast-check properties (issue 6). Each law is
 * checked against a system under test ({@link System}) loaded with small simulated
 * operators; the requests are written from the simulator's ground truth (or aimed at the
 * edges of the operator's records), so a counterexample names a world, a request and
 * what the truth was.
 *
 * Preconditions, which the generated requests keep unless a law's domain says otherwise:
 * every time is written correctly (any offset, zone or precision) and the authority's
 * clock is off by no more than the tolerance it gives; the operator's logs are complete
 * or their gaps are declared. The laws state what ipar promises under them.
 */
import fc from 'fast-check';
import { writeTime } from '../../nat/observe.js';
import { IparError } from '../problems.js';
import type { RequestInput, Result } from '../request.js';
import { PRECISION_MS, type Precision } from '../time.js';
import { reference, type Reference } from './reference.js';
import { resolveChecked, sqliteSystem, type Instance, type System } from './system.js';
import { MAX_CANDIDATES, buildWorld, type World, type WorldSpec } from './world.js';

export const LAW_NAMES = ['soundness', 'unique-correctness', 'exactness', 'narrowing', 'tolerance-monotonicity', 'order-independence', 'determinism', 'offset-equivalence'] as const;
export type LawName = (typeof LAW_NAMES)[number];

/** What each law says. */
export const LAWS: Readonly<Record<LawName, string>> = Object.freeze({
  soundness: 'the true account is among the candidates, unless a false-negative flag was raised',
  'unique-correctness': 'a unique answer is the true account, unless a false-positive flag was raised',
  exactness: 'the candidates, and each observation’s own count, equal a brute-force reference over the raw records',
  narrowing: 'another observation of the same device never grows the candidate set',
  'tolerance-monotonicity': 'a wider tolerance never shrinks the candidate set',
  'order-independence': 'the order of the observations changes neither the candidates, the status nor the flags',
  determinism: 'the same request gives the same result, alone or in a batch, asked once or again',
  'offset-equivalence': 'one instant written with any offset gives the same candidates, status and flags',
});

/**
 * Small simulated operators the laws run over (complete logs, some stops missing,
 * destinations and identifiers on about half the requests): a mixed operator over a day
 * across the spring clock change; a dense mobile operator on port blocks (many
 * subscribers behind each public address) over six hours across the autumn change; and
 * a deterministic-NAT operator on the Juniper algorithm.
 */
export const LAW_WORLDS: readonly WorldSpec[] = Object.freeze([
  { name: 'mixed-spring', seed: 61, config: { profile: 'mixed', subscribers: 150, days: 1, start: '2026-03-28T12:00:00Z', requests: 300, ...lawNoise() } },
  { name: 'blocks-dense-autumn', seed: 62, config: { profile: 'mobile-cgnat-blocks', subscribers: 800, days: 0.25, start: '2026-10-25T00:00:00Z', requests: 200, ...lawNoise() } },
  { name: 'det-juniper', seed: 63, config: { profile: 'deterministic-nat', subscribers: 40, days: 1, requests: 80, nat: { deterministic: 'juniper-deterministic' }, ...lawNoise() } },
]);

/** A mixed operator whose log gaps are all declared (24 a day, 45 min on average). */
export const GAP_WORLDS: readonly WorldSpec[] = Object.freeze([
  { name: 'mixed-declared-gaps', seed: 64, config: { profile: 'mixed', subscribers: 150, days: 1, start: '2026-03-28T12:00:00Z', requests: 300, ...lawNoise(), logs: { gaps: 24, gapDeclared: 1, missingStop: 0.05 } } },
]);

function lawNoise() {
  return {
    observationsPerRequest: { min: 1, max: 4 },
    noise: { destinationKnown: 0.5, identifiersKnown: 0.5 },
    logs: { gaps: 0, missingStop: 0.1 },
  } as const;
}

/** Which requests a law is checked on. */
export interface LawDomain {
  /** Observations per request, a prefix of a simulated request's (default 1–4). */
  readonly observations?: { readonly min: number; readonly max: number };
  /**
   * Write every time of a request the same wrong way, as real sources do: an offset an
   * hour off, UK wall-clock time labelled UTC, or a 12-hour clock (declared
   * `12h-ambiguous`). Outside the laws' preconditions: for showing what is flagged.
   */
  readonly misread?: boolean;
}

// ---- how a request is written -----------------------------------------------------------

const TOLERANCES = [0, 1, 2, 5, 60] as const;
const MISREADINGS = ['plus-1h', 'minus-1h', 'as-utc', '12h'] as const;
type Misreading = (typeof MISREADINGS)[number];

export interface Writing {
  readonly precision: Precision;
  /** `offset`: ISO with `offsetMinutes`; `local`: `{local, timeZone: 'Europe/London'}`. */
  readonly form: 'offset' | 'local';
  readonly offsetMinutes: number;
  /** The authority's clock error as a share of the tolerance, −1 to 1. */
  readonly skew: number;
  readonly toleranceSeconds: number;
  readonly port: boolean;
  readonly destination: boolean;
  readonly identifiers: boolean;
  readonly misread: Misreading | null;
}

const offsetArb = fc.integer({ min: -56, max: 56 }).map((q) => q * 15);

function writingArb(misread: boolean): fc.Arbitrary<Writing> {
  return fc.record({
    precision: fc.constantFrom<Precision>('ms', 's', 'min'),
    form: fc.constantFrom('offset' as const, 'offset' as const, 'local' as const),
    offsetMinutes: fc.oneof(fc.constant(0), offsetArb),
    skew: fc.oneof(fc.constant(0), fc.constantFrom(-1, 1), fc.double({ min: -1, max: 1, noNaN: true })),
    toleranceSeconds: fc.constantFrom(...TOLERANCES),
    port: fc.boolean(),
    destination: fc.boolean(),
    identifiers: fc.boolean(),
    misread: misread ? fc.constantFrom(...MISREADINGS) : fc.constant(null),
  });
}

/**
 * An instant written in ISO 8601 with a given offset, truncated to the precision.
 *
 * @example
 * isoWithOffset(Date.UTC(2026, 2, 28, 10, 0, 0, 123), 's', 90); // '2026-03-28T11:30:00+01:30'
 */
export function isoWithOffset(ms: number, precision: Precision, offsetMinutes: number): string {
  const unit = PRECISION_MS[precision];
  const wall = new Date(Math.floor(ms / unit) * unit + offsetMinutes * 60_000).toISOString();
  const body = wall.slice(0, precision === 'ms' ? 23 : precision === 's' ? 19 : 16);
  if (offsetMinutes === 0) return body + 'Z';
  const m = Math.abs(offsetMinutes);
  return `${body}${offsetMinutes < 0 ? '-' : '+'}${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}

function writeAt(ms: number, w: Writing): RequestInput['observations'][number]['time'] {
  const how = { precision: w.precision, clock12h: false, timeZone: 'Europe/London' } as const;
  switch (w.misread) {
    case 'plus-1h':
    case 'minus-1h':
      return writeTime(ms, { ...how, zone: 'offset-off-by-one', offsetShiftMinutes: w.misread === 'plus-1h' ? 60 : -60 });
    case 'as-utc':
      return writeTime(ms, { ...how, zone: 'as-utc' });
    case '12h':
      return writeTime(ms, { ...how, zone: 'utc', clock12h: true });
    case null:
      return w.form === 'local' ? writeTime(ms, { ...how, zone: 'local' }) : isoWithOffset(ms, w.precision, w.offsetMinutes);
  }
}

// ---- cases ------------------------------------------------------------------------------

/** A simulated request of a world, rewritten from its truth: its first `count` observations. */
export interface TruthCase {
  readonly world: number;
  readonly request: number;
  readonly count: number;
  readonly writing: Writing;
}

function truthCaseArb(worlds: readonly World[], domain: LawDomain): fc.Arbitrary<TruthCase> {
  const min = domain.observations?.min ?? 1;
  const max = domain.observations?.max ?? 4;
  const eligible = worlds.map((w) => w.truth.flatMap((t, i) => (t.observations.length >= min ? [i] : [])));
  const usable = eligible.flatMap((list, w) => (list.length > 0 ? [w] : []));
  if (usable.length === 0) throw new IparError('HARNESS_NO_CASES', `no simulated request has ${min} or more observations`);
  return fc.constantFrom(...usable).chain((w) =>
    fc.nat({ max: eligible[w]!.length - 1 }).chain((k) => {
      const request = eligible[w]![k]!;
      const n = worlds[w]!.truth[request]!.observations.length;
      return fc.record({
        world: fc.constant(w),
        request: fc.constant(request),
        count: fc.integer({ min, max: Math.max(min, Math.min(max, n)) }),
        writing: writingArb(domain.misread === true),
      });
    }),
  );
}

/** Build the request a truth case describes; `order` permutes its observations. */
export function truthRequest(world: World, c: TruthCase, order?: readonly number[], writing: Writing = c.writing): RequestInput {
  const sim = world.requests[c.request]!;
  const truth = world.truth[c.request]!;
  const skewMs = Math.round(c.writing.skew * c.writing.toleranceSeconds * 1000);
  const observations = truth.observations.slice(0, c.count).map((o, i) => {
    const asked = sim.observations[i]!;
    return {
      sourceIp: o.sourceIp,
      ...(writing.port ? { sourcePort: o.sourcePort } : {}),
      time: writeAt(Date.parse(o.time) + skewMs, writing),
      ...(writing.destination && asked.destinationIp !== undefined
        ? { destinationIp: asked.destinationIp, ...(asked.destinationPort === undefined ? {} : { destinationPort: asked.destinationPort }), ...(asked.protocol === undefined ? {} : { protocol: asked.protocol }) }
        : {}),
      ...(writing.misread === '12h' ? { clock: '12h-ambiguous' as const } : {}),
    };
  });
  return {
    ref: `${world.name}/${truth.ref}`,
    observations: order === undefined ? observations : order.map((i) => observations[i]!),
    toleranceSeconds: writing.toleranceSeconds,
    ...(writing.identifiers && sim.identifiers !== undefined ? { identifiers: { ...sim.identifiers } } : {}),
    returnPolicy: 'allow-multiple',
    maxCandidates: MAX_CANDIDATES,
  };
}

/** Something in a world an observation can be aimed at: an address, its ports, an interval. */
interface Target {
  readonly ip: string;
  readonly ports: readonly [number, number] | null;
  readonly start: number;
  readonly end: number | null;
  readonly destination: { readonly destinationIp: string; readonly destinationPort: number; readonly protocol: NonNullable<RequestInput['observations'][number]['protocol']> } | null;
}

function targetsOf(world: World): Target[] {
  const out: Target[] = [];
  const ms = (t: string | null | undefined) => (t === null || t === undefined ? null : Date.parse(t));
  for (const r of world.records) {
    if (r.kind === 'allocation' && r.realm === undefined && !r.ip.includes('/')) out.push({ ip: r.ip, ports: null, start: ms(r.start)!, end: ms(r.end), destination: null });
    else if (r.kind === 'nat-block') out.push({ ip: r.outsideIp, ports: [r.portFirst, r.portLast], start: ms(r.start)!, end: ms(r.end), destination: null });
    else if (r.kind === 'nat-session') {
      const destination = r.destinationIp === undefined || r.destinationPort === undefined ? null : { destinationIp: r.destinationIp, destinationPort: r.destinationPort, protocol: r.protocol };
      out.push({ ip: r.outsideIp, ports: [r.outsidePort, r.outsidePort], start: ms(r.start)!, end: ms(r.end), destination });
    }
  }
  for (const t of world.truth) for (const o of t.observations) out.push({ ip: o.sourceIp, ports: [o.sourcePort, o.sourcePort], start: Date.parse(o.time), end: null, destination: null });
  return out;
}

/** An observation aimed near a record's edge (or a true event), written any valid way. */
export interface AimedObservation {
  readonly target: number;
  readonly edge: 'start' | 'end';
  readonly deltaMs: number;
  readonly precision: Precision;
  readonly offsetMinutes: number;
  readonly port: 'none' | 'held' | 'next';
  readonly portPick: number;
  readonly destination: boolean;
}

export interface AimedCase {
  readonly world: number;
  readonly observations: readonly AimedObservation[];
  readonly toleranceSeconds: number;
  /** An allocation carrying identifiers, and which of them to give. */
  readonly identifiers: { readonly allocation: number; readonly kind: number } | null;
}

const DELTAS = [-61_000, -60_000, -1000, -1, 0, 1, 999, 1000, 59_999, 60_000] as const;

function aimedCaseArb(worlds: readonly World[], targets: readonly Target[][], withIds: readonly number[][]): fc.Arbitrary<AimedCase> {
  return fc.nat({ max: worlds.length - 1 }).chain((w) => {
    // Half at a record's edge, half at a true event (records come first in the list).
    const edges = targets[w]!.length - worlds[w]!.truth.reduce((n, t) => n + t.observations.length, 0);
    const target = edges > 0 && edges < targets[w]!.length ? fc.oneof(fc.nat({ max: edges - 1 }), fc.integer({ min: edges, max: targets[w]!.length - 1 })) : fc.nat({ max: targets[w]!.length - 1 });
    const obs = fc.record({
      target,
      edge: fc.constantFrom('start' as const, 'end' as const),
      deltaMs: fc.constantFrom(...DELTAS),
      precision: fc.constantFrom<Precision>('ms', 's', 'min'),
      offsetMinutes: fc.oneof(fc.constant(0), offsetArb),
      port: fc.constantFrom('none' as const, 'held' as const, 'held' as const, 'next' as const),
      portPick: fc.nat(),
      destination: fc.boolean(),
    });
    // Later observations often aim at the first one's target again, so intersections are not all empty.
    const observations = fc
      .tuple(obs, fc.array(fc.tuple(fc.boolean(), obs), { maxLength: 2 }))
      .map(([first, rest]) => [first, ...rest.map(([same, o]) => (same ? { ...o, target: first.target } : o))]);
    return fc.record({
      world: fc.constant(w),
      observations,
      toleranceSeconds: fc.constantFrom(...TOLERANCES),
      // Identifiers of a random allocation, now and then: they usually exclude everyone else.
      identifiers: withIds[w]!.length === 0 ? fc.constant(null) : fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.record({ allocation: fc.constantFrom(...withIds[w]!), kind: fc.nat({ max: 3 }) }) }),
    });
  });
}

const ID_KINDS = ['imsi', 'msisdn', 'imei', 'mac'] as const;

function aimedRequest(world: World, targets: readonly Target[], c: AimedCase): RequestInput {
  const observations = c.observations.map((o) => {
    const t = targets[o.target]!;
    const at = (o.edge === 'end' && t.end !== null ? t.end : t.start) + o.deltaMs;
    const port =
      o.port === 'none' || t.ports === null ? undefined : o.port === 'next' ? Math.min(65535, t.ports[1] + 1) : t.ports[0] + (o.portPick % (t.ports[1] - t.ports[0] + 1));
    return {
      sourceIp: t.ip,
      time: isoWithOffset(at, o.precision, o.offsetMinutes),
      ...(port === undefined ? {} : { sourcePort: port }),
      ...(o.destination && t.destination !== null ? { ...t.destination } : {}),
    };
  });
  let identifiers: RequestInput['identifiers'];
  if (c.identifiers !== null) {
    const a = world.records[c.identifiers.allocation]!;
    if (a.kind === 'allocation') {
      const kinds = ID_KINDS.filter((k) => a[k] !== undefined);
      const kind = kinds[c.identifiers.kind % kinds.length]!;
      identifiers = { [kind]: a[kind]! };
    }
  }
  return { ref: `${world.name}/aimed`, observations, toleranceSeconds: c.toleranceSeconds, ...(identifiers === undefined ? {} : { identifiers }), returnPolicy: 'allow-multiple', maxCandidates: MAX_CANDIDATES };
}

// ---- checking ---------------------------------------------------------------------------

/** Thrown when a law fails on a case: the message is the counterexample, spelt out. */
export class LawViolation extends Error {
  readonly code = 'LAW_VIOLATION';
  constructor(
    readonly law: LawName,
    message: string,
  ) {
    super(`${law} (${LAWS[law]}): ${message}`);
    this.name = 'LawViolation';
  }
}

function summary(r: Result): string {
  const accounts = r.candidates.map((c) => c.account);
  const shown = accounts.length > 8 ? [...accounts.slice(0, 8), `… ${accounts.length - 8} more`] : accounts;
  return `${r.status} [${shown.join(', ')}] flags [${r.risks.map((x) => `${x.code}/${x.kind}`).join(', ')}]`;
}

const accounts = (r: Result) => r.candidates.map((c) => c.account);
const codes = (r: Result) => r.risks.map((x) => x.code).sort();

function check(law: LawName, ok: boolean, explain: () => string): void {
  if (!ok) throw new LawViolation(law, explain());
}

/** One input of a law's property: which world, which request, and what is varied. */
export type LawInput =
  | { readonly kind: 'truth'; readonly case: TruthCase }
  | { readonly kind: 'aimed'; readonly case: AimedCase }
  | { readonly kind: 'tolerance'; readonly case: TruthCase; readonly wider: number }
  | { readonly kind: 'order'; readonly case: TruthCase; readonly order: readonly number[] }
  | { readonly kind: 'offsets'; readonly case: TruthCase; readonly offsets: readonly [number, number] };

export interface LawSuite {
  readonly worlds: readonly World[];
  /** The law as a fast-check property over these worlds; pass it to `fc.assert` or `fc.check`. */
  property(law: LawName, domain?: LawDomain): fc.IAsyncProperty<[LawInput]>;
  close(): Promise<void>;
}

/**
 * Load the worlds (simulated here from their specs, or given already built) into the
 * system under test, once each, and give the laws over them.
 *
 * @example
 * const suite = await openLawSuite(sqliteSystem());
 * await fc.assert(suite.property('soundness'), { seed: 42, numRuns: 100 });
 * await suite.close();
 */
export async function openLawSuite(system: System = sqliteSystem(), specs: readonly (WorldSpec | World)[] = LAW_WORLDS): Promise<LawSuite> {
  const worlds = specs.map((s) => ('records' in s ? s : buildWorld(s)));
  const instances: Instance[] = [];
  try {
    for (const w of worlds) instances.push(await system.open(w.records));
  } catch (error) {
    await Promise.all(instances.map((i) => i.close()));
    throw error;
  }
  const targets = worlds.map(targetsOf);
  const withIds = worlds.map((w) => w.records.flatMap((r, i) => (r.kind === 'allocation' && ID_KINDS.some((k) => r[k] !== undefined) ? [i] : [])));
  const references = new Map<number, Reference>();
  const referenceOf = (w: number) => {
    let r = references.get(w);
    if (r === undefined) references.set(w, (r = reference(worlds[w]!.records)));
    return r;
  };
  const resolve = (w: number, requests: readonly RequestInput[]) => resolveChecked(instances[w]!, requests);
  const where = (w: number) => `world ${worlds[w]!.name} (seed ${worlds[w]!.seed})`;

  const laws: Record<LawName, (domain: LawDomain) => fc.IAsyncProperty<[LawInput]>> = {
    soundness: (domain) =>
      fc.asyncProperty(truthCaseArb(worlds, domain).map(asTruth), async (input) => {
        const c = only(input, 'truth').case;
        const request = truthRequest(worlds[c.world]!, c);
        const [r] = await resolve(c.world, [request]);
        const truth = worlds[c.world]!.truth[c.request]!;
        check('soundness', accounts(r!).includes(truth.account) || r!.risks.some((x) => x.kind === 'false-negative'), () => `${where(c.world)}: request ${JSON.stringify(request)}; true account ${truth.account}; result ${summary(r!)}`);
      }),
    'unique-correctness': (domain) =>
      fc.asyncProperty(truthCaseArb(worlds, domain).map(asTruth), async (input) => {
        const c = only(input, 'truth').case;
        const request = truthRequest(worlds[c.world]!, c);
        const [r] = await resolve(c.world, [request]);
        const truth = worlds[c.world]!.truth[c.request]!;
        const ok = r!.status !== 'unique' || r!.candidates[0]?.account === truth.account || r!.risks.some((x) => x.kind === 'false-positive');
        check('unique-correctness', ok, () => `${where(c.world)}: request ${JSON.stringify(request)}; true account ${truth.account}; result ${summary(r!)}`);
      }),
    exactness: () =>
      fc.asyncProperty(aimedCaseArb(worlds, targets, withIds).map((c): LawInput => ({ kind: 'aimed', case: c })), async (input) => {
        const c = only(input, 'aimed').case;
        const request = aimedRequest(worlds[c.world]!, targets[c.world]!, c);
        const [r] = await resolve(c.world, [request]);
        const ref = referenceOf(c.world);
        const expected = ref.candidates(request);
        const perObservation = ref.perObservation(request).map((s) => s.length);
        const got = r!.observations.map((o) => o.candidateCount);
        check(
          'exactness',
          JSON.stringify(accounts(r!)) === JSON.stringify(expected) && JSON.stringify(got) === JSON.stringify(perObservation),
          () => `${where(c.world)}: request ${JSON.stringify(request)}; reference [${expected.join(', ')}] per observation ${JSON.stringify(perObservation)}; result ${summary(r!)} per observation ${JSON.stringify(got)}`,
        );
      }),
    narrowing: (domain) =>
      fc.asyncProperty(truthCaseArb(worlds, { ...domain, observations: { min: Math.max(2, domain.observations?.min ?? 2), max: domain.observations?.max ?? 4 } }).map(asTruth), async (input) => {
        const c = only(input, 'truth').case;
        const fewer = truthRequest(worlds[c.world]!, { ...c, count: c.count - 1 });
        const more = truthRequest(worlds[c.world]!, c);
        const [a, b] = await resolve(c.world, [fewer, more]);
        const before = new Set(accounts(a!));
        check('narrowing', accounts(b!).every((x) => before.has(x)), () => `${where(c.world)}: ${c.count - 1} observations ${JSON.stringify(fewer)} give ${summary(a!)}; with observation ${JSON.stringify(more.observations[c.count - 1])} ${summary(b!)}`);
      }),
    'tolerance-monotonicity': (domain) =>
      fc.asyncProperty(
        fc.tuple(truthCaseArb(worlds, domain), fc.constantFrom(1, 2, 10, 60, 3600)).map(([c, wider]): LawInput => ({ kind: 'tolerance', case: c, wider })),
        async (input) => {
          const { case: c, wider } = only(input, 'tolerance');
          const narrow = truthRequest(worlds[c.world]!, c);
          const wide = { ...narrow, toleranceSeconds: narrow.toleranceSeconds! + wider };
          const [a, b] = await resolve(c.world, [narrow, wide]);
          const after = new Set(accounts(b!));
          check('tolerance-monotonicity', accounts(a!).every((x) => after.has(x)), () => `${where(c.world)}: ${JSON.stringify(narrow)} gives ${summary(a!)}; with tolerance ${wide.toleranceSeconds} s ${summary(b!)}`);
        },
      ),
    'order-independence': (domain) =>
      fc.asyncProperty(
        truthCaseArb(worlds, domain).chain((c) => fc.shuffledSubarray([...Array(c.count).keys()], { minLength: c.count, maxLength: c.count }).map((order): LawInput => ({ kind: 'order', case: c, order }))),
        async (input) => {
          const { case: c, order } = only(input, 'order');
          const given = truthRequest(worlds[c.world]!, c);
          const permuted = truthRequest(worlds[c.world]!, c, order);
          const [a, b] = await resolve(c.world, [given, permuted]);
          const same = a!.status === b!.status && JSON.stringify(accounts(a!)) === JSON.stringify(accounts(b!)) && JSON.stringify(codes(a!)) === JSON.stringify(codes(b!));
          check('order-independence', same, () => `${where(c.world)}: ${JSON.stringify(given)} gives ${summary(a!)}; in the order ${JSON.stringify(order)} ${summary(b!)}`);
        },
      ),
    determinism: (domain) =>
      fc.asyncProperty(truthCaseArb(worlds, domain).map(asTruth), async (input) => {
        const c = only(input, 'truth').case;
        const request = truthRequest(worlds[c.world]!, c);
        const others = worlds[c.world]!.truth.slice(0, 3).map((_, k) => truthRequest(worlds[c.world]!, { ...c, request: k, count: 1 }));
        const [alone] = await resolve(c.world, [request]);
        const batch = await resolve(c.world, [...others, request, ...others]);
        const [again] = await resolve(c.world, [request]);
        const text = JSON.stringify(alone);
        check('determinism', JSON.stringify(batch[others.length]) === text && JSON.stringify(again) === text, () => `${where(c.world)}: ${JSON.stringify(request)} gives ${text}; in a batch ${JSON.stringify(batch[others.length])}; again ${JSON.stringify(again)}`);
      }),
    'offset-equivalence': (domain) =>
      fc.asyncProperty(fc.tuple(truthCaseArb(worlds, domain), offsetArb, offsetArb).map(([c, a, b]): LawInput => ({ kind: 'offsets', case: c, offsets: [a, b] })), async (input) => {
        const { case: c, offsets } = only(input, 'offsets');
        const written = (offsetMinutes: number) => truthRequest(worlds[c.world]!, c, undefined, { ...c.writing, form: 'offset', offsetMinutes, misread: null });
        const [x, y] = [written(offsets[0]), written(offsets[1])];
        const [a, b] = await resolve(c.world, [x, y]);
        const same = a!.status === b!.status && JSON.stringify(accounts(a!)) === JSON.stringify(accounts(b!)) && JSON.stringify(codes(a!)) === JSON.stringify(codes(b!));
        check('offset-equivalence', same, () => `${where(c.world)}: ${JSON.stringify(x.observations.map((o) => o.time))} gives ${summary(a!)}; ${JSON.stringify(y.observations.map((o) => o.time))} gives ${summary(b!)} (request ${JSON.stringify(x)})`);
      }),
  };

  return {
    worlds,
    property: (law, domain = {}) => laws[law](domain),
    close: async () => {
      await Promise.all(instances.map((i) => i.close()));
    },
  };
}

function asTruth(c: TruthCase): LawInput {
  return { kind: 'truth', case: c };
}

/** The input as the kind its law generates (each law's arbitrary makes one kind only). */
function only<K extends LawInput['kind']>(input: LawInput, kind: K): Extract<LawInput, { kind: K }> {
  if (input.kind !== kind) throw new IparError('HARNESS_BAD_CASE', `a ${kind} case was expected, got ${input.kind}`);
  return input as Extract<LawInput, { kind: K }>;
}

/** One law's outcome from {@link checkLaws}. */
export interface LawCheck {
  readonly law: LawName;
  readonly statement: string;
  readonly ok: boolean;
  readonly seed: number;
  readonly numRuns: number;
  /** The shrunk input that broke the law, as fast-check prints it; `null` when it held. */
  readonly counterexample: string | null;
  /** Why it broke: the request, the truth and the result, spelt out. */
  readonly error: string | null;
}

/**
 * Check every law (or some) against a system, with a seed; for an operator's own store
 * or integration. Nothing throws for a broken law: each outcome says what broke.
 *
 * @example
 * const checks = await checkLaws({ system: myIntegration, seed: 42, numRuns: 100 });
 * for (const c of checks.filter((c) => !c.ok)) console.log(c.law, c.counterexample, c.error);
 */
export async function checkLaws(options: { readonly system?: System; readonly worlds?: readonly (WorldSpec | World)[]; readonly seed: number; readonly numRuns?: number; readonly laws?: readonly LawName[] }): Promise<LawCheck[]> {
  const suite = await openLawSuite(options.system, options.worlds);
  const numRuns = options.numRuns ?? 100;
  try {
    const out: LawCheck[] = [];
    for (const law of options.laws ?? LAW_NAMES) {
      const details = await fc.check(suite.property(law), { seed: options.seed, numRuns });
      out.push({
        law,
        statement: LAWS[law],
        ok: !details.failed,
        seed: options.seed,
        numRuns,
        counterexample: details.counterexample === null ? null : fc.stringify(details.counterexample),
        error: details.errorInstance === null ? null : details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance),
      });
    }
    return out;
  } finally {
    await suite.close();
  }
}
