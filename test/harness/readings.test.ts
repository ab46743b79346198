import { describe, expect, test } from 'vitest';
import { AccuracyOptions, foundWithReadings, runScenario, SCENARIOS, sqliteSystem, type Trial } from '../../src/harness/index.js';
import type { Advice, Result } from '../../src/request.js';

/** A trial whose truth is `A`, with this answer and advice. */
function trial(accounts: string[], advice: Advice[]): Trial {
  const result: Result = {
    ref: 'R',
    status: accounts.length === 0 ? 'none' : accounts.length === 1 ? 'unique' : 'multiple',
    candidateCount: accounts.length,
    withheld: false,
    candidates: accounts.map((account) => ({ account, support: 1, of: 1, evidence: [] })),
    observations: [],
    risks: [],
    assessment: '',
    advice,
  };
  return { result, truth: { account: 'A' } } as unknown as Trial;
}
const reading = (accounts?: string[]) => ({ reading: 'held-before', observation: 0, candidateCount: accounts?.length ?? 1, ...(accounts ? { accounts } : {}) });

describe('recall with readings: the truth in the answer, or among the accounts of a reading the advice names', () => {
  test.each([
    ['in the answer', trial(['A'], []), true],
    ['not in the answer, no advice', trial(['B'], []), false],
    ['under a time reading', trial([], [{ kind: 'confirm-time-zone', readings: [reading(['A'])], message: '' }]), true],
    ['under a reading of the records', trial([], [{ kind: 'confirm-records', readings: [reading(['B', 'A'])], message: '' }]), true],
    ['a reading naming others', trial([], [{ kind: 'confirm-records', readings: [reading(['B'])], message: '' }]), false],
    ['a reading whose accounts the policy withheld (counts only)', trial([], [{ kind: 'confirm-records', readings: [reading()], message: '' }]), false],
    ['other advice does not count', trial([], [{ kind: 'another-observation', after: '2026-03-28T10:00:00.000Z', remaining: 1, of: 2, message: '' }]), false],
  ] as const)('%s', (_name, t, found) => {
    expect(foundWithReadings(t)).toBe(found);
  });
});

/**
 * On the harness's own requests: every material reading flag's message names each
 * plausible reading of its detail and the accounts' count under it (`under R n accounts
 * would fit`, or for an account dropped `under R m of the k accounts given do not fit (n
 * would)`).
 */
describe('every material reading flag names the reading and the count under it', () => {
  const names = ['zone-as-utc-summer', 'wrong-year', 'clock-12h', 'gaps-declared', 'missing-feed', 'outside-span'];
  test.each(names)('%s', async (name) => {
    const scenario = SCENARIOS.find((s) => s.name === name)!;
    const trials = await runScenario(scenario, AccuracyOptions.parse({ trials: 40, seed: 1 }), sqliteSystem());
    let checked = 0;
    for (const t of trials) {
      for (const r of t.result.risks) {
        if (r.severity !== 'material' || !('readings' in r.detail)) continue;
        const readings = r.detail['readings'] as { reading: string; candidateCount: number; plausible: boolean }[];
        for (const x of readings.filter((y) => y.plausible)) {
          const named = new RegExp(
            `under ${x.reading} (${x.candidateCount} accounts would fit|\\d+ of the \\d+ accounts given do not fit \\(${x.candidateCount} would\\))`,
          );
          expect(r.message, `${t.request.ref} ${r.code}`).toMatch(named);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(0);
  });
});
