import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fetchRiskFacts } from '../../matcher/fetch.js';
import { matchPlans } from '../../matcher/pipeline.js';
import { planRequest } from '../../matcher/plan.js';
import { analyseRisks, observationContext, requestContext, RISK_CODES, RISK_RULES, type RequestContext, type RiskRule } from '../../matcher/risk.js';
import type { UnratedRisk } from '../../src/catalogue/risks.js';
import { followUpReadings, withFollowUp } from '../../matcher/followup.js';
import { CONNECTION_RISK_CODES } from '../../matcher/services.js';
import { sensitivityWindows, timeSensitivity } from '../../matcher/sensitivity.js';
import type { RequestInput, Risk } from '../../src/request.js';
import type { SqliteStore } from '../../src/store/sqlite/store.js';
import { codes, resolveIn, risk, riskStore, T, type Obs } from './operators.js';

let store: SqliteStore;
beforeAll(() => {
  store = riskStore();
  // SESSION_LOOKUP_CAPPED's case reads more rows than the default work budget lets a request touch.
  store.setSetting('budget.rows', 1_000_000);
});
afterAll(() => store.close());
const resolve = (observations: Obs[], extra: Partial<RequestInput> = {}) => resolveIn(store, observations, extra);

/** For each code, a request that raises it and one that does not, on the risk operator. */
const cases: [code: keyof typeof RISK_CODES, raised: [Obs[], Partial<RequestInput>?], quiet: [Obs[], Partial<RequestInput>?]][] = [
  ['SHARED_ADDRESS_NO_PORT', [[{ sourceIp: '203.0.113.7', time: T('09:00:00') }]], [[{ sourceIp: '203.0.113.7', sourcePort: 1100, time: T('09:00:00') }]]],
  ['ALLOCATION_BOUNDARY', [[{ sourceIp: '198.51.100.8', time: T('11:59:59') }]], [[{ sourceIp: '198.51.100.8', time: T('11:00:00') }]]],
  [
    'SINGLE_OBSERVATION',
    [[{ sourceIp: '198.51.100.7', time: T('10:00:00') }]],
    [
      [
        { sourceIp: '198.51.100.7', time: T('10:00:00') },
        { sourceIp: '198.51.100.7', time: T('11:00:00') },
      ],
    ],
  ],
  ['SHARED_ACCOUNT', [[{ sourceIp: '198.51.100.9', time: T('10:00:00') }]], [[{ sourceIp: '198.51.100.7', time: T('10:00:00') }]]],
  ['INFERRED_END', [[{ sourceIp: '198.51.100.10', time: T('10:00:00') }]], [[{ sourceIp: '198.51.100.7', time: T('10:00:00') }]]],
  [
    'PORT_REUSE',
    [[{ sourceIp: '203.0.113.7', sourcePort: 1100, time: T('09:59:59') }]],
    [[{ sourceIp: '203.0.113.7', sourcePort: 1100, time: T('09:00:00') }]],
  ],
  ['LOW_TIME_PRECISION', [[{ sourceIp: '198.51.100.7', time: '2026-03-28T10:00Z' }]], [[{ sourceIp: '198.51.100.7', time: T('10:00:00') }]]],
  ['COVERAGE_GAP', [[{ sourceIp: '198.51.100.7', time: T('14:30:00') }]], [[{ sourceIp: '198.51.100.7', time: T('13:30:00') }]]],
  ['BEYOND_RETENTION', [[{ sourceIp: '198.51.100.7', time: '2025-12-31T23:00:00Z' }]], [[{ sourceIp: '198.51.100.7', time: T('10:00:00') }]]],
  ['NOT_OPERATOR_ADDRESS', [[{ sourceIp: '198.51.100.200', time: T('10:00:00') }]], [[{ sourceIp: '198.51.100.50', time: T('10:00:00') }]]],
  ['SERVER_ADDRESS', [[{ sourceIp: '198.51.100.241', time: T('10:00:00') }]], [[{ sourceIp: '198.51.100.7', time: T('10:00:00') }]]],
  [
    'CONTRADICTORY_OBSERVATIONS',
    [
      [
        { sourceIp: '198.51.100.7', time: T('10:00:00') },
        { sourceIp: '198.51.100.9', time: T('10:00:00') },
      ],
    ],
    [
      [
        { sourceIp: '198.51.100.7', time: T('10:00:00') },
        { sourceIp: '198.51.100.50', time: T('10:00:00') },
      ],
    ],
  ],
  [
    'EXCLUDED_BY_IDENTIFIER',
    [[{ sourceIp: '203.0.113.7', time: T('09:00:00') }], { identifiers: { imsi: '234150000000002' } }],
    [[{ sourceIp: '203.0.113.7', time: T('09:00:00') }]],
  ],
  [
    'TOLERANCE_BELOW_CLOCK_ERROR',
    [[{ sourceIp: '198.51.100.10', time: T('10:00:00') }], { toleranceSeconds: 2 }],
    [[{ sourceIp: '198.51.100.10', time: T('10:00:00') }], { toleranceSeconds: 5 }],
  ],
  ['TIME_READING_CHANGES_RESULT', [[{ sourceIp: '198.51.100.8', time: T('11:30:00') }]], [[{ sourceIp: '198.51.100.7', time: T('10:00:00') }]]],
  ['TIME_READING_FINDS_MORE', [[{ sourceIp: '198.51.100.8', time: T('05:30:00') }]], [[{ sourceIp: '198.51.100.7', time: T('10:00:00') }]]],
  ['INFERRED_GAP', [[{ sourceIp: '203.0.113.70', sourcePort: 1100, time: T('10:00:00') }]], [[{ sourceIp: '198.51.100.7', time: T('10:00:00') }]]],
  // 198.51.100.8 at 05:30 finds nobody, and dhcp logs a handful of events a day.
  ['GAP_UNDETECTABLE', [[{ sourceIp: '198.51.100.8', time: T('05:30:00') }]], [[{ sourceIp: '198.51.100.8', time: T('10:00:00') }]]],
  ['OUTSIDE_SOURCE_SPAN', [[{ sourceIp: '198.51.100.7', time: '2027-06-28T10:00:00Z' }]], [[{ sourceIp: '198.51.100.7', time: T('10:00:00') }]]],
  // 198.51.100.8 at 05:30 finds nobody where a gap would not show: A, its first holder after, is held-after's.
  ['RECORD_READING_FINDS_MORE', [[{ sourceIp: '198.51.100.8', time: T('05:30:00') }]], [[{ sourceIp: '198.51.100.7', time: T('10:00:00') }]]],
  ['OPEN_PAST_EVIDENCE', [[{ sourceIp: '198.51.100.9', time: '2027-06-28T10:00:00Z' }]], [[{ sourceIp: '198.51.100.9', time: T('10:00:00') }]]],
  [
    'INSIDE_UNALLOCATED',
    [[{ sourceIp: '203.0.113.71', sourcePort: 1100, time: T('10:00:00') }]],
    [[{ sourceIp: '203.0.113.70', sourcePort: 1100, time: T('10:00:00') }]],
  ],
  ['SESSION_LOOKUP_CAPPED', [[{ sourceIp: '203.0.113.72', time: T('10:00:30') }]], [[{ sourceIp: '203.0.113.72', sourcePort: 1100, time: T('10:00:30') }]]],
  [
    'PORT_OUTSIDE_NAT_RANGE',
    [[{ sourceIp: '203.0.113.70', sourcePort: 0, time: T('10:00:00') }]],
    [[{ sourceIp: '203.0.113.70', sourcePort: 1100, time: T('10:00:00') }]],
  ],
  [
    'SOURCE_OVERLAP',
    [[{ sourceIp: '203.0.113.73', sourcePort: 2100, time: T('10:00:00') }]],
    [[{ sourceIp: '203.0.113.73', sourcePort: 2100, time: T('08:30:00') }]],
  ],
  [
    'CONNECTION_RECORDS_PROCESSED',
    [[{ sourceIp: '203.0.113.7', sourcePort: 1100, destinationIp: '192.0.2.80', time: T('09:00:00') }]],
    [[{ sourceIp: '203.0.113.7', sourcePort: 1100, time: T('09:00:00') }]],
  ],
];

describe('risk flags: each raised when its condition holds, and not otherwise', () => {
  test.each(cases)('%s', async (code, [raiseObs, raiseExtra], [quietObs, quietExtra]) => {
    const raised = await resolve(raiseObs, raiseExtra);
    const flagged = risk(raised, code);
    expect(flagged, `expected ${code} in ${codes(raised).join(',')}`).toBeDefined();
    expect(flagged).toMatchObject({ kind: RISK_CODES[code].kind, paragraph: RISK_CODES[code].paragraph });
    expect(flagged!.message.length).toBeGreaterThan(10);
    expect(codes(await resolve(quietObs, quietExtra))).not.toContain(code);
  });

  test('details carry the values that raised the flag', async () => {
    const r = await resolve([{ sourceIp: '203.0.113.7', sourcePort: 1100, time: T('09:59:59') }]);
    expect(risk(r, 'PORT_REUSE')!.detail).toEqual({ observation: 0, sourceIp: '203.0.113.7', sourcePort: 1100, insideHosts: 2 });
    const gap = await resolve([{ sourceIp: '198.51.100.7', time: T('14:30:00') }]);
    expect(risk(gap, 'COVERAGE_GAP')!.detail['gaps']).toEqual([
      { source: 'dhcp', start: '2026-03-28T14:00:00.000Z', end: '2026-03-28T15:00:00.000Z', relation: 'overlaps-window' },
    ]);
  });

  test('SOURCE_OVERLAP names both records and calls it a fault of the source, and it is material', async () => {
    const r = await resolve([{ sourceIp: '203.0.113.73', sourcePort: 2100, time: T('10:00:00') }]);
    const f = risk(r, 'SOURCE_OVERLAP')!;
    expect(f.severity).toBe('material');
    expect(f.message).toMatch(/data-quality fault of the source, not two customers/);
    expect(f.detail).toEqual({
      observation: 0,
      overlaps: [
        {
          kind: 'nat-block',
          resource: '203.0.113.73',
          from: '2026-03-28T09:00:00.000Z',
          to: '2026-03-28T11:00:00.000Z',
          records: [
            expect.objectContaining({ holder: 'cgn-g|100.64.9.2', held: '2048-2559', start: '2026-03-28T08:00:00.000Z', end: '2026-03-28T12:00:00.000Z' }),
            expect.objectContaining({ holder: 'cgn-g|100.64.9.3', held: '2048-2559', start: '2026-03-28T09:00:00.000Z', end: '2026-03-28T11:00:00.000Z' }),
          ],
        },
      ],
    });
    // Both records carry their store ids, so the operator can find them.
    for (const rec of (f.detail['overlaps'] as { records: { id?: string }[] }[])[0]!.records) expect(rec.id).toMatch(/.+/);
    expect(r.candidates.map((c) => c.account).sort()).toEqual([]);
    expect(r.candidateCount).toBe(2);
  });

  test('a coverage gap of a source the path does not need is not flagged', async () => {
    // cgn-a's gap at 16:00 does not concern a DHCP address (DHCP's own gap earlier that day does).
    const dhcp = risk(await resolve([{ sourceIp: '198.51.100.7', time: T('16:30:00') }]), 'COVERAGE_GAP');
    expect((dhcp?.detail['gaps'] as { source: string }[] | undefined)?.map((g) => g.source)).toEqual(['dhcp']);
    const nat = risk(await resolve([{ sourceIp: '203.0.113.7', time: T('16:30:00') }]), 'COVERAGE_GAP');
    expect((nat!.detail['gaps'] as { source: string }[]).map((g) => g.source)).toContain('cgn-a');
  });

  test('a gap before the window counts when a record that started in it could still be held', async () => {
    // HOME's lease runs all day: a lease that began in DHCP's 14:00-15:00 gap could be held at 15:30.
    const r = risk(await resolve([{ sourceIp: '198.51.100.7', time: T('15:30:00') }]), 'COVERAGE_GAP');
    expect(r!.detail['gaps']).toEqual([{ source: 'dhcp', start: '2026-03-28T14:00:00.000Z', end: '2026-03-28T15:00:00.000Z', relation: 'before-window' }]);
  });

  test('the edges of knowledge carry their values (issue 15)', async () => {
    const later = await resolve([{ sourceIp: '198.51.100.9', time: '2027-06-28T10:00:00Z' }]);
    expect(later.status).toBe('unique');
    expect(risk(later, 'OPEN_PAST_EVIDENCE')!.detail['records']).toEqual([
      { kind: 'allocation', source: 'dhcp', start: '2026-03-28T00:00:00.000Z', heldAt: '2026-03-28T00:00:00.000Z', sourceLast: '2026-10-25T02:00:00.000Z' },
    ]);
    expect((risk(later, 'OUTSIDE_SOURCE_SPAN')!.detail['sources'] as { source: string; relation: string }[]).map((s) => [s.source, s.relation])).toEqual([
      ['dhcp', 'after'],
    ]);
    // A missing allocation feed: the NAT step stays in the path, with its own outcome.
    const inside = await resolve([{ sourceIp: '203.0.113.71', sourcePort: 1100, time: T('10:00:00') }]);
    expect(inside.observations[0]).toMatchObject({ outcome: 'inside-unallocated', path: ['nat-block'] });
    expect(risk(inside, 'INSIDE_UNALLOCATED')!.detail).toMatchObject({
      insideHosts: 1,
      hosts: [{ realm: 'cgn-g', insideIp: '100.64.9.99', kind: 'nat-block' }],
    });
    const gap = risk(await resolve([{ sourceIp: '203.0.113.70', sourcePort: 1100, time: T('10:00:00') }]), 'INFERRED_GAP')!;
    expect(gap.detail['gaps']).toEqual([
      {
        source: 'gfeed',
        start: '2026-03-28T09:00:00.000Z',
        end: '2026-03-28T09:30:00.000Z',
        relation: 'before-window',
        rateBefore: 3,
        rateAfter: 3,
        usualRate: 3,
        expectedEvents: 90,
      },
    ]);
    expect(risk(await resolve([{ sourceIp: '203.0.113.70', sourcePort: 0, time: T('10:00:00') }]), 'PORT_OUTSIDE_NAT_RANGE')!.detail).toEqual({
      observation: 0,
      sourceIp: '203.0.113.70',
      sourcePort: 0,
      portFirst: 1024,
      portLast: 65535,
    });
  });

  test("a gap counts only on paths through its source: a NAS's gap is not flagged on a NAT realm with no translation", async () => {
    const r = await resolve([{ sourceIp: '203.0.113.5', sourcePort: 1100, time: T('16:30:00', '2026-03-29') }]);
    expect(codes(r)).not.toContain('INFERRED_GAP');
    expect((risk(r, 'COVERAGE_GAP')?.detail['gaps'] as { source: string }[] | undefined)?.map((g) => g.source) ?? []).not.toContain('dhcp');
  });

  test('a reading that finds someone the answer lacks is a false-negative flag', async () => {
    // 198.51.100.8 at 05:30 finds nobody; an hour later A held it.
    const r = await resolve([{ sourceIp: '198.51.100.8', time: T('05:30:00') }]);
    expect(r.status).toBe('none');
    const more = risk(r, 'TIME_READING_FINDS_MORE')!;
    expect(more.kind).toBe('false-negative');
    expect((more.detail['readings'] as { reading: string; added: number }[]).map((x) => [x.reading, x.added])).toEqual([['plus-1h', 1]]);
    expect(codes(r)).not.toContain('TIME_READING_CHANGES_RESULT');
  });

  test('a clock a little beyond the tolerance: the wider reading finds the record just outside the window', async () => {
    const r = await resolve([{ sourceIp: '198.51.100.8', time: T('05:59:30') }]);
    expect(r.status).toBe('none');
    const readings = risk(r, 'TIME_READING_FINDS_MORE')!.detail['readings'] as { reading: string }[];
    expect(readings.map((x) => x.reading)).toContain('wider-tolerance');
  });

  test('every time misread the same way: the joint shift is tried on all observations together', async () => {
    // B used 198.51.100.8 at 12:30 and 12:40, both written an hour early: the answer is A.
    // Shifting one observation alone meets the other unshifted one and finds nobody new;
    // only shifting both finds B.
    const r = await resolve([
      { sourceIp: '198.51.100.8', time: T('11:30:00') },
      { sourceIp: '198.51.100.8', time: T('11:40:00') },
    ]);
    expect(r.candidates.map((c) => c.account)).toEqual(['A']);
    const own = r.risks.filter((k) => k.code === 'TIME_READING_FINDS_MORE' && k.detail['observation'] !== 'all');
    expect(own).toEqual([]);
    const joint = r.risks.find((k) => k.code === 'TIME_READING_FINDS_MORE' && k.detail['observation'] === 'all');
    expect((joint!.detail['readings'] as { reading: string; added: number }[]).map((x) => [x.reading, x.added])).toEqual([
      ['plus-1h', 1],
      ['any-combination', 1],
    ]);
  });

  test('a port in an RFC 7422 dynamic share cannot be resolved by the configuration and is flagged', async () => {
    const r = await resolve([{ sourceIp: '203.0.113.128', sourcePort: 60000, time: T('10:00:00') }]);
    expect(r.status).toBe('none');
    expect(risk(r, 'SHARED_ADDRESS_NO_PORT')!.detail).toMatchObject({ sourcePort: 60000, reasons: ['dynamic-share'] });
  });

  test('contradictions give partial support as counts only', async () => {
    const r = await resolve([
      { sourceIp: '198.51.100.7', time: T('10:00:00') },
      { sourceIp: '198.51.100.9', time: T('10:00:00') },
      { sourceIp: '198.51.100.7', time: T('11:00:00') },
    ]);
    const detail = risk(r, 'CONTRADICTORY_OBSERVATIONS')!.detail;
    expect(detail).toEqual({
      observations: 3,
      bestSupport: 2,
      supportCounts: [
        { support: 1, of: 3, accounts: 1 },
        { support: 2, of: 3, accounts: 1 },
      ],
    });
    expect(JSON.stringify(r.risks)).not.toMatch(/HOME|CAFE/);
  });

  test('withheld results do not leak identities through flags', async () => {
    const r = await resolve([{ sourceIp: '203.0.113.7', time: T('09:00:00') }], { identifiers: { imsi: '234150000000002' } });
    const noId = await resolve([{ sourceIp: '203.0.113.7', time: T('09:00:00') }]);
    expect(noId.withheld).toBe(true);
    expect(JSON.stringify(noId)).not.toMatch(/"M1"|"M2"|100\.64\.0\.\d/);
    expect(JSON.stringify(r.risks)).not.toMatch(/"M1"|"M2"/);
  });
});

describe('RISK_RULES: the table of rules, each tested alone', () => {
  async function contextOf(observations: Obs[], extra: Partial<RequestInput> = {}): Promise<RequestContext> {
    const p = planRequest({ ref: 'R', observations, toleranceSeconds: 1, ...extra });
    if (!p.ok) throw new Error(JSON.stringify(p.errors));
    const traces = await matchPlans(store, [p.value], sensitivityWindows);
    const facts = await fetchRiskFacts(store, traces);
    const [readings] = timeSensitivity(traces);
    const [more] = await followUpReadings(store, traces, facts, 1_000_000);
    const trace = traces[0]!;
    return requestContext(trace, { ...facts[0]!, readings: withFollowUp(readings!, more ?? null) });
  }
  function alone(r: RiskRule, ctx: RequestContext): UnratedRisk[] {
    return r.scope === 'request' ? r.rule(ctx) : ctx.trace.observations.flatMap((_, i) => r.rule(observationContext(ctx, i)));
  }

  test('the table covers the catalogue: every code has a rule, every rule a code of the catalogue', () => {
    // The codes of service-users and connection-records requests are raised by matcher/services.ts (test/matcher/services.test.ts), none by this table.
    const rules = [...new Set(RISK_RULES.map((r) => r.code))];
    expect(rules.filter((c) => (CONNECTION_RISK_CODES as readonly string[]).includes(c))).toEqual([]);
    expect([...rules, ...CONNECTION_RISK_CODES].sort()).toEqual(Object.keys(RISK_CODES).sort());
  });

  test.each(RISK_RULES.map((r) => [`${r.code} (${r.scope})`, r] as const))(
    '%s raises its own code alone, and nothing on the quiet request',
    async (_name, r) => {
      const [, [raiseObs, raiseExtra], [quietObs, quietExtra]] = cases.find(([code]) => code === r.code)!;
      // The joint time readings need several observations moved together.
      // The joint record reading leaves out an observation that matched nobody beside one that matched.
      const raising: Obs[] =
        r.scope === 'request' && r.code.startsWith('TIME_READING')
          ? [raiseObs[0]!, { ...raiseObs[0]!, time: T('11:40:00') }]
          : r.scope === 'request' && r.code === 'RECORD_READING_FINDS_MORE'
            ? [raiseObs[0]!, { sourceIp: '198.51.100.7', time: T('10:00:00') }]
            : raiseObs;
      const raised = alone(r, await contextOf(raising, raiseExtra));
      expect(raised.length).toBeGreaterThan(0);
      expect(raised.map((k) => k.code)).toEqual(raised.map(() => r.code));
      expect(alone(r, await contextOf(quietObs, quietExtra))).toEqual([]);
    },
  );

  // Observation 0 (a shared address, a port handed over at 10:00), observation 1 (a lease
  // boundary inside a minute), then the request's own flag: the order results have always carried.
  // (radius's last event is LOST-STOP's start at 09:00: M1 and M2, open since 00:00, are
  // past it at 09:59:59, so that observation is outside radius's span and open past it.)
  const ORDER = [
    '0 SHARED_ADDRESS_NO_PORT',
    '0 ALLOCATION_BOUNDARY',
    '0 OUTSIDE_SOURCE_SPAN',
    '0 OPEN_PAST_EVIDENCE',
    '0 TOLERANCE_BELOW_CLOCK_ERROR',
    '1 ALLOCATION_BOUNDARY',
    '1 LOW_TIME_PRECISION',
    '- CONTRADICTORY_OBSERVATIONS',
  ];
  test('analyseRisks: the observation rules in table order for each observation in turn, then the request rules', async () => {
    const ctx = await contextOf([
      { sourceIp: '203.0.113.7', time: T('09:59:59') },
      { sourceIp: '198.51.100.8', time: '2026-03-28T11:59Z' },
    ]);
    const byObservation = ctx.trace.observations.flatMap((_, i) =>
      RISK_RULES.flatMap((r) => (r.scope === 'observation' ? r.rule(observationContext(ctx, i)) : [])),
    );
    const byRequest = RISK_RULES.flatMap((r) => (r.scope === 'request' ? r.rule(ctx) : []));
    const risks = analyseRisks(ctx.trace, ctx.inputs);
    expect(risks.map(({ severity: _, ...unrated }) => unrated)).toEqual([...byObservation, ...byRequest]);
    expect(risks.every((k) => k.severity === 'material' || k.severity === 'note')).toBe(true);
    expect(risks.map((k) => `${String(k.detail['observation'] ?? '-')} ${k.code}`)).toEqual(ORDER);
  });
});
