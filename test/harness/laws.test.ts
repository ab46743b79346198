/**
 * The laws of resolution (src/harness/laws.ts) against the default system: the SQLite
 * store and the ipar matcher, over small simulated operators. Each law runs with a fixed,
 * printed seed (FC_SEED overrides it); a failure prints fast-check's shrunk
 * counterexample and the request, truth and result behind it.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GAP_WORLDS, LAW_NAMES, LAWS, openLawSuite, sqliteSystem, type LawName, type LawSuite, type System } from '../../src/harness/index.js';
import type { Result } from '../../src/request.js';
import { propertyRun } from '../helpers.js';

const RUNS: Record<LawName, number> = {
  soundness: 150,
  'unique-correctness': 150,
  exactness: 150,
  narrowing: 100,
  'tolerance-monotonicity': 100,
  'order-independence': 100,
  determinism: 50,
  'offset-equivalence': 100,
};

/** The default system, remembering every result it gave (to show the laws were not checked on empty answers). */
function recording(): { system: System; results: Result[] } {
  const results: Result[] = [];
  const base = sqliteSystem();
  return {
    results,
    system: {
      name: 'recording',
      async open(records) {
        const inner = await base.open(records);
        return {
          resolve: async (requests) => {
            const out = await inner.resolve(requests);
            results.push(...out);
            return out;
          },
          close: () => inner.close(),
        };
      },
    },
  };
}

describe('laws of resolution over simulated operators (SQLite store + matcher)', () => {
  const seen = recording();
  let suite: LawSuite;
  beforeAll(async () => {
    suite = await openLawSuite(seen.system);
  });
  afterAll(async () => {
    await suite.close();
  });

  for (const law of LAW_NAMES) {
    test(`${law}: ${LAWS[law]}`, async () => {
      const before = seen.results.length;
      await fc.assert(suite.property(law), propertyRun(law, RUNS[law]));
      // A law is only worth something over answers of every kind: unique ones, and
      // observations that several accounts fit (shared addresses, wide windows).
      const results = seen.results.slice(before);
      const observations = results.flatMap((r) => r.observations);
      const share = <T>(list: readonly T[], keep: (x: T) => boolean) => list.filter(keep).length / list.length;
      expect(share(results, (r) => r.status === 'unique'), 'unique answers').toBeGreaterThan(0.2);
      expect(share(observations, (o) => o.candidateCount > 0), 'observations that matched').toBeGreaterThan(0.4);
      expect(share(observations, (o) => o.candidateCount > 1), 'observations several accounts fit').toBeGreaterThan(0.03);
    });
  }

  test('unique-correctness also holds when every time of a request is misread (an hour off, UTC-labelled, 12-hour)', async () => {
    await fc.assert(suite.property('unique-correctness', { misread: true }), propertyRun('unique-correctness (misread times)', 150));
  });

  // Known gap, the engine's (report of issue 6, defect D1): a time misread by an hour or
  // twelve leaves the true account out, and the only flag is TIME_READING_CHANGES_RESULT,
  // whose kind is always false-positive; no false-negative flag says the customer may be
  // missing. Flips when the flag (or a companion) is false-negative where another reading
  // finds accounts the answer lacks.
  test.fails('soundness with one observation whose time is misread [known gap D1: TIME_READING_CHANGES_RESULT is false-positive only]', async () => {
    await fc.assert(suite.property('soundness', { misread: true, observations: { min: 1, max: 1 } }), propertyRun('soundness (misread, 1 observation)', 150));
  });

  // Known gap D2 (and D1): every observation of a request written the same wrong way (the
  // GMT/BST and 12-hour failures) gives `none` with no flag at all, because the
  // sensitivity analysis re-reads one observation at a time while the others keep their
  // misreading. Flips when the readings are also tried on all observations together and
  // flagged false-negative.
  test.fails('soundness with 2–4 observations all misread the same way [known gap D2: readings tried one observation at a time]', async () => {
    await fc.assert(suite.property('soundness', { misread: true, observations: { min: 2, max: 4 } }), propertyRun('soundness (misread, 2–4 observations)', 150));
  });
});

describe('laws of resolution over an operator whose log gaps are all declared', () => {
  let suite: LawSuite;
  beforeAll(async () => {
    suite = await openLawSuite(sqliteSystem(), GAP_WORLDS);
  });
  afterAll(async () => {
    await suite.close();
  });

  for (const law of ['unique-correctness', 'exactness'] as const) {
    test(`${law}: ${LAWS[law]}`, async () => {
      await fc.assert(suite.property(law), propertyRun(`${law} (declared gaps)`, 60));
    });
  }

  // Known gaps D3 and D4 (report of issue 6): a declared gap loses the records that start
  // in it, but COVERAGE_GAP is raised only for gaps overlapping the observation window
  // (D3: a block or lease that started in an earlier gap and still held is missing
  // without a flag), and behind a NAT translation that found no allocation the
  // allocation source's gap is judged irrelevant (D4). Flips when both are flagged.
  test.fails('soundness [known gaps D3, D4: COVERAGE_GAP misses gaps before the window and allocation-source gaps behind NAT]', async () => {
    await fc.assert(suite.property('soundness'), propertyRun('soundness (declared gaps)', 150));
  });
});
