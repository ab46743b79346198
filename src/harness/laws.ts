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
 *
 * This file runs the suite (worlds, loading, {@link checkLaws}); the laws themselves are in
 * law-table.ts, the requests they are checked on in law-arbitraries.ts.
 */
import fc from 'fast-check';
import type { RequestInput } from '../request.js';
import { reference, type Reference } from './reference.js';
import { resolveChecked, sqliteSystem, type Instance, type System } from './system.js';
import { ID_KINDS, targetsOf, type LawDomain } from './law-arbitraries.js';
import { LAW_NAMES, LAWS, lawTable, type LawInput, type LawName } from './law-table.js';
import { buildWorld, type World, type WorldSpec } from './world.js';

export { isoWithOffset, truthRequest, type AimedCase, type AimedObservation, type LawDomain, type TruthCase, type Writing } from './law-arbitraries.js';
export { LAW_NAMES, LAWS, LawViolation, type LawInput, type LawName } from './law-table.js';

/**
 * Small simulated operators the laws run over (complete logs, some stops missing,
 * destinations and identifiers on about half the requests): a mixed operator over a day
 * across the spring clock change; a dense mobile operator on port blocks (many
 * subscribers behind each public address) over six hours across the autumn change; and
 * a deterministic-NAT operator on the Juniper algorithm.
 */
export const LAW_WORLDS: readonly WorldSpec[] = Object.freeze([
  { name: 'mixed-spring', seed: 61, config: { profile: 'mixed', subscribers: 150, days: 1, start: '2026-03-28T12:00:00Z', requests: 300, ...lawNoise() } },
  {
    name: 'blocks-dense-autumn',
    seed: 62,
    config: { profile: 'mobile-cgnat-blocks', subscribers: 800, days: 0.25, start: '2026-10-25T00:00:00Z', requests: 200, ...lawNoise() },
  },
  {
    name: 'det-juniper',
    seed: 63,
    config: { profile: 'deterministic-nat', subscribers: 40, days: 1, requests: 80, nat: { deterministic: 'juniper-deterministic' }, ...lawNoise() },
  },
]);

/** A mixed operator whose log gaps are all declared (24 a day, 45 min on average). */
export const GAP_WORLDS: readonly WorldSpec[] = Object.freeze([
  {
    name: 'mixed-declared-gaps',
    seed: 64,
    config: {
      profile: 'mixed',
      subscribers: 150,
      days: 1,
      start: '2026-03-28T12:00:00Z',
      requests: 300,
      ...lawNoise(),
      logs: { gaps: 24, gapDeclared: 1, missingStop: 0.05 },
    },
  },
]);

function lawNoise() {
  return {
    observationsPerRequest: { min: 1, max: 4 },
    noise: { destinationKnown: 0.5, identifiersKnown: 0.5 },
    logs: { gaps: 0, missingStop: 0.1 },
  } as const;
}

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

  const laws = lawTable({ worlds, targets, withIds, referenceOf, resolve, where });

  return {
    worlds,
    property: (law, domain = {}) => laws[law](domain),
    close: async () => {
      await Promise.all(instances.map((i) => i.close()));
    },
  };
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
export async function checkLaws(options: {
  readonly system?: System;
  readonly worlds?: readonly (WorldSpec | World)[];
  readonly seed: number;
  readonly numRuns?: number;
  readonly laws?: readonly LawName[];
}): Promise<LawCheck[]> {
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
