import { describe, expect, test } from 'vitest';
import { main } from '../../src/cli.js';
import { captureIo } from '../support/index.js';
import {
  AccuracyReport,
  causeOf,
  isSilentError,
  measureAccuracy,
  SCENARIOS,
  scoreBaseline,
  scoreEngine,
  sqliteSystem,
  worldSeed,
  type System,
  type Trial,
} from '../../src/harness/index.js';
import type { SimRequest, SimTruth } from '../../nat/simulate.js';
import type { Result, Risk } from '../../src/request.js';

const FP: Risk = { code: 'SINGLE_OBSERVATION', kind: 'false-positive', paragraph: '9.24', severity: 'note', message: '', detail: { observations: 1 } };
const FN: Risk = { code: 'COVERAGE_GAP', kind: 'false-negative', paragraph: '9.24', severity: 'material', message: '', detail: { observation: 0, gaps: [] } };

function trial(accounts: string[], risks: Risk[], over: { truth?: Partial<SimTruth>; time?: string; naive?: string | null } = {}): Trial {
  const status = accounts.length === 0 ? 'none' : accounts.length === 1 ? 'unique' : 'multiple';
  const result: Result = {
    ref: 'R',
    status,
    candidateCount: accounts.length,
    withheld: false,
    candidates: accounts.map((account) => ({ account, support: 1, of: 1, evidence: [] })),
    observations: [],
    risks,
    assessment: '',
    advice: [],
  };
  const request: SimRequest = { ref: 'R', observations: [{ sourceIp: '198.51.100.7', time: over.time ?? '2026-06-01T10:00:00Z' }], toleranceSeconds: 2 };
  const truth: SimTruth = {
    ref: 'R',
    account: 'A',
    profile: 'mixed',
    segment: 'dhcp',
    noise: { skewMs: 0, sourcePort: true, precision: 'ms', zone: 'utc', clock12h: false, destination: false, identifiers: false },
    observations: [
      { time: '2026-06-01T10:00:00.000Z', sourceIp: '198.51.100.7', sourcePort: 50000, protocol: 'tcp', allocation: 'logged', inGapWindow: false },
    ],
    logGap: 'none',
    missingStop: 'none',
    ...over.truth,
  };
  return { world: { name: 'w', seed: 1, config: { profile: 'mixed', subscribers: 1, days: 1 } }, request, truth, result, naive: over.naive ?? null };
}

describe('scoring a trial', () => {
  test.each([
    ['right and unique', false, trial(['A'], [])],
    ['right among several', false, trial(['A', 'B'], [])],
    ['wrong unique answer with a false-positive flag', false, trial(['B'], [FP])],
    ['wrong unique answer without one', true, trial(['B'], [FN])],
    ['a miss with a false-negative flag', false, trial([], [FN])],
    ['a miss with only a false-positive flag', true, trial([], [FP])],
    ['several, the truth not among them, no false-negative flag', true, trial(['B', 'C'], [FP])],
  ])('%s: silent %s', (_, silent, t) => {
    expect(isSilentError(t)).toBe(silent);
  });

  test.each([
    ['a record lost in an undeclared gap', trial([], [], { truth: { logGap: 'record-lost-silent' } }), 'log-lost-undeclared'],
    ['a record lost in a declared gap', trial([], [], { truth: { logGap: 'record-lost-declared' } }), 'log-lost-declared'],
    ['a time an hour off', trial([], [], { time: '2026-06-01T10:00:00+01:00' }), 'time-misread'],
    [
      'a clock 5 s off with a tolerance of 2 s',
      trial([], [], {
        truth: { noise: { skewMs: 5000, sourcePort: true, precision: 'ms', zone: 'utc', clock12h: false, destination: false, identifiers: false } },
      }),
      'skew-beyond-tolerance',
    ],
    ['nothing in the truth', trial([], []), 'unexplained'],
  ])('cause of %s', (_, t, cause) => {
    expect(causeOf(t)).toBe(cause);
  });

  test('figures: unique rate, precision of unique answers, recall, mean candidates, silent errors and the verdict', () => {
    const trials = [
      trial(['A'], [], { naive: 'A' }),
      trial(['B'], [FP], { naive: 'B' }),
      trial([], [], { naive: null }),
      trial(['A', 'B'], [], { naive: 'A' }),
    ];
    const scenario = SCENARIOS[0]!;
    const engine = scoreEngine(scenario, trials);
    expect(engine).toMatchObject({ trials: 4, uniqueRate: 0.5, precision: 0.5, recall: 0.5, meanCandidates: 1, silentErrors: 1, verdict: 'fail' });
    expect(engine.silentCauses.map((c) => [c.cause, c.count, c.detectable])).toEqual([['unexplained', 1, true]]);
    expect(scoreBaseline(scenario, trials)).toEqual({
      name: scenario.name,
      trials: 4,
      uniqueRate: 0.75,
      precision: 0.6667,
      recall: 0.5,
      meanCandidates: 0.75,
      silentErrors: 2,
    });
    expect(scoreEngine(scenario, [trial([], [], { truth: { logGap: 'record-lost-silent' } })]).verdict).toBe('undetectable');
    expect(scoreEngine(scenario, [trial([], [], { truth: { logGap: 'record-lost-declared' } })]).verdict).toBe('known-gap');
    expect(scoreEngine(scenario, [trial(['A'], [])]).verdict).toBe('pass');
  });

  test('world seeds differ by scenario and index, and repeat for the same run seed', () => {
    expect(worldSeed(1, 'clean', 0)).toBe(worldSeed(1, 'clean', 0));
    expect(new Set([worldSeed(1, 'clean', 0), worldSeed(1, 'clean', 1), worldSeed(1, 'port-unknown', 0), worldSeed(2, 'clean', 0)]).size).toBe(4);
  });
});

describe('measureAccuracy()', () => {
  test('is deterministic for a seed, valid against its schema, and scores the truth (clean requests are all found)', async () => {
    const options = { trials: 60, seed: 7, scenarios: ['clean', 'port-unknown'] };
    const a = await measureAccuracy(options);
    const b = await measureAccuracy(options);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    AccuracyReport.parse(a);
    expect(a.scenarios.map((s) => [s.name, s.trials])).toEqual([
      ['clean', 60],
      ['port-unknown', 60],
    ]);
    expect(a.baseline.scenarios.map((s) => s.name)).toEqual(['clean', 'port-unknown']);
    expect(a.scenarios[0]).toMatchObject({ recall: 1, silentErrors: 0, verdict: 'pass' });
    expect(a.scenarios[1]!.meanCandidates).toBeGreaterThanOrEqual(a.scenarios[0]!.meanCandidates);
  });

  test('finds the silent errors of a system that answers none without a flag', async () => {
    const base = sqliteSystem();
    const silent: System = {
      name: 'silent',
      async open(records) {
        const inner = await base.open(records);
        return {
          resolve: async (q) => (await inner.resolve(q)).map((r) => ({ ...r, status: 'none' as const, candidateCount: 0, candidates: [], risks: [] })),
          close: () => inner.close(),
        };
      },
    };
    const report = await measureAccuracy({ trials: 30, seed: 7, scenarios: ['clean'] }, silent);
    expect(report.scenarios[0]).toMatchObject({ recall: 0, silentErrors: 30, verdict: 'fail' });
    expect(report.system).toBe('silent');
  });
});

describe('ipar accuracy', () => {
  test('--json prints the report; the table names each scenario with ipar and the baseline', async () => {
    const io = captureIo();
    expect(await main(['accuracy', '--trials', '25', '--seed', '3', '--scenarios', 'clean', '--json'], io)).toBe(0);
    const report = AccuracyReport.parse(JSON.parse(io.out()));
    expect(report).toMatchObject({ seed: 3, profile: 'mixed', trialsPerScenario: 25 });
    const text = captureIo();
    expect(await main(['accuracy', '--trials', '25', '--seed', '3', '--scenarios', 'clean'], text)).toBe(0);
    expect(text.out()).toMatch(/^clean +25 +ipar +100\.0 %.*pass$/m);
    expect(text.out()).toMatch(/^ +baseline +\d/m);
  });

  test.each([
    [['--profile', 'nope'], /--profile/],
    [['--scenarios', 'clean,nope'], /--scenarios/],
    [['--trials', '0'], /--trials/],
  ])('usage error %j: exit 2, one line', async (args, message) => {
    const io = captureIo();
    expect(await main(['accuracy', ...args], io)).toBe(2);
    expect(io.err()).toMatch(message);
  });
});
