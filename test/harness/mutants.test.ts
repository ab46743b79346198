/**
 * The laws can fail: each is run against a system broken in the way it forbids (a
 * mutant wrapping the SQLite store and matcher) and must find a counterexample. This is
 * also the harness used the way an operator would: the system under test is a parameter.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';
import {
  buildWorld,
  LAW_WORLDS,
  openLawSuite,
  sqliteSystem,
  type Instance,
  type LawName,
  type LawSuite,
  type Resolver,
  type System,
} from '../../src/harness/index.js';
import { flag, rated } from '../../src/catalogue/risks.js';
import type { RequestInput, Result } from '../../src/request.js';
import { propertyRun } from '../support/index.js';

/** The dense world (many subscribers behind each public address), built and loaded once for every mutant. */
const WORLD = buildWorld(LAW_WORLDS[1]!);
const base = sqliteSystem();
const loaded = new Map<object, Promise<Instance>>();

/** The default system with its resolver changed. */
function mutant(name: string, change: (requests: readonly RequestInput[], resolve: Resolver) => Promise<readonly Result[]>): System {
  return {
    name,
    async open(records) {
      if (!loaded.has(records)) loaded.set(records, base.open(records));
      const inner = await loaded.get(records)!;
      return { resolve: (requests) => change(requests, inner.resolve), close: () => {} };
    },
  };
}

const accountsOf = (r: Result) => r.candidates.map((c) => c.account);
const withCandidates = (r: Result, accounts: readonly string[]): Result => ({
  ...r,
  status: accounts.length === 0 ? 'none' : accounts.length === 1 ? 'unique' : 'multiple',
  candidateCount: accounts.length,
  candidates: accounts.map((account) => ({ account, support: 1, of: 1, evidence: [] })),
});
const next = (account: string) => account.replace(/\d+$/, (n) => String(Number(n) + 1).padStart(n.length, '0'));
let calls = 0;

const MUTANTS: Record<LawName, [string, System]> = {
  soundness: [
    'answers none and drops its false-negative flags',
    mutant('none', async (q, resolve) =>
      (await resolve(q)).map((r) => ({ ...withCandidates(r, []), risks: r.risks.filter((x) => x.kind !== 'false-negative') })),
    ),
  ],
  'unique-correctness': [
    'names the next account in a unique answer, without false-positive flags',
    mutant('neighbour', async (q, resolve) =>
      (await resolve(q)).map((r) =>
        r.status === 'unique' ? { ...withCandidates(r, [next(r.candidates[0]!.account)]), risks: r.risks.filter((x) => x.kind !== 'false-positive') } : r,
      ),
    ),
  ],
  exactness: [
    'ignores the source port',
    mutant('no-port', (q, resolve) => resolve(q.map((r) => ({ ...r, observations: r.observations.map(({ sourcePort: _, ...o }) => o) })))),
  ],
  narrowing: [
    'joins the observations instead of intersecting them',
    mutant('union', async (q, resolve) => {
      const out: Result[] = [];
      for (const r of q) {
        const each = await resolve(r.observations.map((o) => ({ ...r, observations: [o] })));
        out.push(withCandidates((await resolve([r]))[0]!, [...new Set(each.flatMap(accountsOf))].sort()));
      }
      return out;
    }),
  ],
  'tolerance-monotonicity': [
    'reads the tolerance backwards (60 s minus it)',
    mutant('backwards', (q, resolve) => resolve(q.map((r) => ({ ...r, toleranceSeconds: Math.max(0, 60 - (r.toleranceSeconds ?? 0)) })))),
  ],
  'order-independence': [
    'resolves the first observation only',
    mutant('first', (q, resolve) => resolve(q.map((r) => ({ ...r, observations: r.observations.slice(0, 1) })))),
  ],
  determinism: [
    'counts its calls in a note',
    mutant('counter', async (q, resolve) =>
      (await resolve(q)).map((r) => ({
        ...r,
        risks: [...r.risks, rated(flag('CONNECTION_RECORDS_PROCESSED', `call ${++calls}`, { observations: [] }), 'note')],
      })),
    ),
  ],
  'offset-equivalence': [
    'reads every offset as Z',
    mutant('offsets', (q, resolve) =>
      resolve(
        q.map((r) => ({
          ...r,
          observations: r.observations.map((o) => (typeof o.time === 'string' ? { ...o, time: o.time.replace(/([+-]\d{2}:\d{2}|Z)$/, 'Z') } : o)),
        })),
      ),
    ),
  ],
};

describe('each law finds a counterexample on a system that breaks it', () => {
  const suites: LawSuite[] = [];
  afterAll(async () => {
    await Promise.all(suites.map((s) => s.close()));
    for (const instance of loaded.values()) await (await instance).close();
  });
  for (const [law, [what, system]] of Object.entries(MUTANTS) as [LawName, [string, System]][]) {
    test(`${law}, on a system that ${what}`, async () => {
      const suite = await openLawSuite(system, [WORLD]);
      suites.push(suite);
      const details = await fc.check(suite.property(law), { ...propertyRun(`${law} against a mutant`, 200), endOnFailure: true });
      expect(details.failed).toBe(true);
      expect(String(details.errorInstance)).toContain(`${law} (`);
    });
  }
});
