import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { disclose } from '../../matcher/disclose.js';
import { estimateRequests, matchPlans } from '../../matcher/pipeline.js';
import { planRequest } from '../../matcher/plan.js';
import { asEstimate, asResult, renderEstimate, renderResult } from '../../matcher/render.js';
import { Estimate, Result, type Risk } from '../../src/request.js';
import type { SqliteStore } from '../../src/store/sqlite/store.js';
import { riskStore, T } from './operators.js';

let store: SqliteStore;
beforeAll(() => {
  store = riskStore();
});
afterAll(() => store.close());

describe('estimate', () => {
  test('counts per observation and combined, partial support, flags, and no identities', async () => {
    const [e] = await estimateRequests(store, [
      {
        ref: 'E',
        observations: [
          { sourceIp: '203.0.113.7', time: T('09:00:00') },
          { sourceIp: '198.51.100.7', time: T('10:00:00') },
        ],
      },
    ]);
    expect(Estimate.parse(e)).toMatchObject({ ref: 'E', status: 'none', candidateCount: 0, supportCounts: [3, 0] });
    expect(e!.observations.map((o) => o.candidateCount)).toEqual([2, 1]);
    expect(e!.risks.map((r) => r.code)).toContain('CONTRADICTORY_OBSERVATIONS');
    expect(JSON.stringify(e)).not.toMatch(/"M1"|"M2"|HOME/);
  });
});

describe('render: a trace in the pinned result and estimate formats', () => {
  async function traceOf(observations: object[]) {
    const p = planRequest({ ref: 'RND', observations, toleranceSeconds: 1, returnPolicy: 'allow-multiple' });
    if (!p.ok) throw new Error(JSON.stringify(p.errors));
    const [trace] = await matchPlans(store, [p.value]);
    return trace!;
  }
  const flagged: Risk[] = [
    {
      code: 'SINGLE_OBSERVATION',
      kind: 'false-positive',
      paragraph: '9.24',
      severity: 'note',
      message: 'a unique answer resting on one observation',
      detail: { observations: 1 },
    },
  ];

  test('a result: the disclosure as given, each observation with its window, path and count', async () => {
    const trace = await traceOf([{ sourceIp: '198.51.100.8', time: T('11:59:59') }]);
    const r = Result.parse(renderResult(trace, disclose(trace.correlation.candidates, 'allow-multiple', 50), flagged));
    expect(r).toMatchObject({ ref: 'RND', status: 'multiple', candidateCount: 2, withheld: false, risks: flagged });
    expect(r.candidates.map((c) => c.account)).toEqual(['A', 'B']);
    expect(r.observations).toEqual([
      {
        index: 0,
        sourceIp: '198.51.100.8',
        sourcePort: null,
        window: { start: '2026-03-28T11:59:58.000Z', end: '2026-03-28T12:00:01.000Z' },
        addressClass: 'dynamic',
        realm: null,
        path: ['allocation'],
        outcome: 'matched',
        candidateCount: 2,
      },
    ]);
    const held = renderResult(trace, disclose(trace.correlation.candidates, 'single-only', 50), []);
    expect(held).toMatchObject({ status: 'multiple', candidateCount: 2, withheld: true, candidates: [], risks: [] });
  });

  test('an estimate: the same counts and flags, support per k of n, and no identities', async () => {
    const trace = await traceOf([
      { sourceIp: '198.51.100.8', time: T('11:59:59') },
      { sourceIp: '198.51.100.8', time: T('11:00:00') },
    ]);
    const d = disclose(trace.correlation.candidates, 'allow-multiple', 50);
    const e = Estimate.parse(renderEstimate(trace, d, flagged));
    const r = renderResult(trace, d, flagged);
    expect(e).toEqual({
      ref: r.ref,
      status: r.status,
      candidateCount: 1,
      supportCounts: [1, 1],
      observations: r.observations,
      risks: flagged,
      assessment: r.assessment,
      advice: [],
    });
    expect(e.assessment).toBe('robust: unique under the time as written; no plausible reading or fact changes who would be disclosed');
    expect(JSON.stringify(e)).not.toMatch(/"A"|"B"/);
  });

  test.each([
    ['invalid', asResult.invalid('X', [{ field: 'observations', reason: 'OUT_OF_RANGE', message: 'at least one' }]), Result],
    ['refused', asResult.refused('X', { code: 'LOCAL_AUTHORITY_ICR', paragraph: '9.14', message: 'no' }), Result],
    ['invalid estimate', asEstimate.invalid('X', [{ field: 'observations', reason: 'OUT_OF_RANGE', message: 'at least one' }]), Estimate],
    ['refused estimate', asEstimate.refused('X', { code: 'LOCAL_AUTHORITY_ICR', paragraph: '9.14', message: 'no' }), Estimate],
  ] as const)('%s: nothing looked up, nothing counted, and the schema holds', (_name, rendered, schema) => {
    expect(schema.safeParse(rendered).success).toBe(true);
    expect(rendered).toMatchObject({ ref: 'X', candidateCount: 0, observations: [], risks: [] });
  });
});
