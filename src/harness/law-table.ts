/**
 * The law table (see laws.ts): each law's name, its statement, and its property over a
 * suite's worlds, and the violation a broken law throws.
 */
import fc from 'fast-check';
import { IparError } from '../problems.js';
import type { RequestInput, Result } from '../request.js';
import type { Reference } from './reference.js';
import {
  aimedCaseArb,
  aimedRequest,
  offsetArb,
  truthCaseArb,
  truthRequest,
  type AimedCase,
  type LawDomain,
  type Target,
  type TruthCase,
} from './law-arbitraries.js';
import type { World } from './world.js';

export const LAW_NAMES = [
  'soundness',
  'unique-correctness',
  'exactness',
  'narrowing',
  'tolerance-monotonicity',
  'order-independence',
  'determinism',
  'offset-equivalence',
] as const;
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

/** What the laws' properties run against: the worlds loaded into a system under test. */
export interface LawContext {
  readonly worlds: readonly World[];
  readonly targets: readonly Target[][];
  readonly withIds: readonly number[][];
  /** The brute-force reference over a world's raw records (built on first use). */
  referenceOf(world: number): Reference;
  resolve(world: number, requests: readonly RequestInput[]): Promise<Result[]>;
  /** The world named for a counterexample. */
  where(world: number): string;
}

/** Each law as a fast-check property over the context's worlds. */
export function lawTable(ctx: LawContext): Record<LawName, (domain: LawDomain) => fc.IAsyncProperty<[LawInput]>> {
  const { worlds, targets, withIds, referenceOf, resolve, where } = ctx;
  return {
    soundness: (domain) =>
      fc.asyncProperty(truthCaseArb(worlds, domain).map(asTruth), async (input) => {
        const c = only(input, 'truth').case;
        const request = truthRequest(worlds[c.world]!, c);
        const [r] = await resolve(c.world, [request]);
        const truth = worlds[c.world]!.truth[c.request]!;
        check(
          'soundness',
          accounts(r!).includes(truth.account) || r!.risks.some((x) => x.kind === 'false-negative'),
          () => `${where(c.world)}: request ${JSON.stringify(request)}; true account ${truth.account}; result ${summary(r!)}`,
        );
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
      fc.asyncProperty(
        aimedCaseArb(worlds, targets, withIds).map((c): LawInput => ({ kind: 'aimed', case: c })),
        async (input) => {
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
            () =>
              `${where(c.world)}: request ${JSON.stringify(request)}; reference [${expected.join(', ')}] per observation ${JSON.stringify(perObservation)}; result ${summary(r!)} per observation ${JSON.stringify(got)}`,
          );
        },
      ),
    narrowing: (domain) =>
      fc.asyncProperty(
        truthCaseArb(worlds, { ...domain, observations: { min: Math.max(2, domain.observations?.min ?? 2), max: domain.observations?.max ?? 4 } }).map(asTruth),
        async (input) => {
          const c = only(input, 'truth').case;
          const fewer = truthRequest(worlds[c.world]!, { ...c, count: c.count - 1 });
          const more = truthRequest(worlds[c.world]!, c);
          const [a, b] = await resolve(c.world, [fewer, more]);
          const before = new Set(accounts(a!));
          check(
            'narrowing',
            accounts(b!).every((x) => before.has(x)),
            () =>
              `${where(c.world)}: ${c.count - 1} observations ${JSON.stringify(fewer)} give ${summary(a!)}; with observation ${JSON.stringify(more.observations[c.count - 1])} ${summary(b!)}`,
          );
        },
      ),
    'tolerance-monotonicity': (domain) =>
      fc.asyncProperty(
        fc.tuple(truthCaseArb(worlds, domain), fc.constantFrom(1, 2, 10, 60, 3600)).map(([c, wider]): LawInput => ({ kind: 'tolerance', case: c, wider })),
        async (input) => {
          const { case: c, wider } = only(input, 'tolerance');
          const narrow = truthRequest(worlds[c.world]!, c);
          const wide = { ...narrow, toleranceSeconds: narrow.toleranceSeconds! + wider };
          const [a, b] = await resolve(c.world, [narrow, wide]);
          const after = new Set(accounts(b!));
          check(
            'tolerance-monotonicity',
            accounts(a!).every((x) => after.has(x)),
            () => `${where(c.world)}: ${JSON.stringify(narrow)} gives ${summary(a!)}; with tolerance ${wide.toleranceSeconds} s ${summary(b!)}`,
          );
        },
      ),
    'order-independence': (domain) =>
      fc.asyncProperty(
        truthCaseArb(worlds, domain).chain((c) =>
          fc
            .shuffledSubarray([...Array(c.count).keys()], { minLength: c.count, maxLength: c.count })
            .map((order): LawInput => ({ kind: 'order', case: c, order })),
        ),
        async (input) => {
          const { case: c, order } = only(input, 'order');
          const given = truthRequest(worlds[c.world]!, c);
          const permuted = truthRequest(worlds[c.world]!, c, order);
          const [a, b] = await resolve(c.world, [given, permuted]);
          const same =
            a!.status === b!.status && JSON.stringify(accounts(a!)) === JSON.stringify(accounts(b!)) && JSON.stringify(codes(a!)) === JSON.stringify(codes(b!));
          check(
            'order-independence',
            same,
            () => `${where(c.world)}: ${JSON.stringify(given)} gives ${summary(a!)}; in the order ${JSON.stringify(order)} ${summary(b!)}`,
          );
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
        check(
          'determinism',
          JSON.stringify(batch[others.length]) === text && JSON.stringify(again) === text,
          () =>
            `${where(c.world)}: ${JSON.stringify(request)} gives ${text}; in a batch ${JSON.stringify(batch[others.length])}; again ${JSON.stringify(again)}`,
        );
      }),
    'offset-equivalence': (domain) =>
      fc.asyncProperty(
        fc.tuple(truthCaseArb(worlds, domain), offsetArb, offsetArb).map(([c, a, b]): LawInput => ({ kind: 'offsets', case: c, offsets: [a, b] })),
        async (input) => {
          const { case: c, offsets } = only(input, 'offsets');
          const written = (offsetMinutes: number) =>
            truthRequest(worlds[c.world]!, c, undefined, { ...c.writing, form: 'offset', offsetMinutes, misread: null });
          const [x, y] = [written(offsets[0]), written(offsets[1])];
          const [a, b] = await resolve(c.world, [x, y]);
          const same =
            a!.status === b!.status && JSON.stringify(accounts(a!)) === JSON.stringify(accounts(b!)) && JSON.stringify(codes(a!)) === JSON.stringify(codes(b!));
          check(
            'offset-equivalence',
            same,
            () =>
              `${where(c.world)}: ${JSON.stringify(x.observations.map((o) => o.time))} gives ${summary(a!)}; ${JSON.stringify(y.observations.map((o) => o.time))} gives ${summary(b!)} (request ${JSON.stringify(x)})`,
          );
        },
      ),
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
