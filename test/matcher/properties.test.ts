/**
 * Property tests of resolve() over random small operators. The reference is a plain loop
 * over the raw records implementing DESIGN.md's matching rules, not the matcher.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { planRequest, type PlannedRequest } from '../../matcher/plan.js';
import { matchPlans, resolveRequests } from '../../matcher/pipeline.js';
import { evaluate, type MatchTrace } from '../../matcher/evaluate.js';
import { alternativeReadings, sameRows, sensitivityWindows } from '../../matcher/sensitivity.js';
import { CanonicalRecord } from '../../src/records.js';
import type { RequestInput } from '../../src/request.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/store.js';
import { propertyRun } from '../support/index.js';

const T0 = Date.parse('2026-03-28T10:00:00Z');
type Raw = Record<string, unknown>;
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

const PUBLIC = ['198.51.100.1', '198.51.100.2', '198.51.100.3'];
const OUTSIDE = ['203.0.113.1', '203.0.113.2'];
const SERVER = '198.51.100.6';
const FOREIGN = '192.0.2.50';
const INSIDE = ['100.64.0.1', '100.64.0.2', '100.64.0.3'];
const REALMS = ['r1', 'r2'];
const ACCOUNTS = ['A', 'B', 'C', 'D', 'E'];
const IMSIS = ['234150000000001', '234150000000002'];
const DESTS = ['192.0.2.1', '192.0.2.2'];
const ROLE: Record<string, string> = {
  ...Object.fromEntries(PUBLIC.map((a) => [a, 'dynamic'])),
  ...Object.fromEntries(OUTSIDE.map((a) => [a, 'cgnat-outside'])),
  [SERVER]: 'server',
};
const SPACE = [
  { kind: 'address-space', prefix: '198.51.100.0/30', role: 'dynamic' },
  { kind: 'address-space', prefix: '198.51.100.3/32', role: 'dynamic' },
  { kind: 'address-space', prefix: '198.51.100.6/32', role: 'server' },
  { kind: 'address-space', prefix: '203.0.113.0/30', role: 'cgnat-outside', realm: 'r1' },
];

// Times on a coarse grid (whole minutes) so that edges coincide often: window ends on a
// record start, record ends on a window start, the longest record exactly reaching back.
const interval = fc
  .record({ k: fc.integer({ min: 0, max: 30 }), m: fc.option(fc.constantFrom(0, 1, 2, 5), { nil: null }) })
  .map(({ k, m }) => ({ s: k * 60, d: m === null ? null : m * 60 }));
const at = (i: { s: number; d: number | null }) => ({ start: iso(T0 + i.s * 1000), end: i.d === null ? null : iso(T0 + (i.s + i.d) * 1000) });

const allocation = fc
  .record({
    account: fc.constantFrom(...ACCOUNTS),
    i: interval,
    inside: fc.boolean(),
    pub: fc.constantFrom(...PUBLIC),
    ins: fc.constantFrom(...INSIDE),
    realm: fc.constantFrom(...REALMS),
    imsi: fc.option(fc.constantFrom(...IMSIS), { nil: undefined }),
  })
  .map((r) => ({
    kind: 'allocation',
    account: r.account,
    ip: r.inside ? r.ins : r.pub,
    ...(r.inside ? { realm: r.realm } : {}),
    ...at(r.i),
    source: 'x',
    ...(r.imsi === undefined ? {} : { imsi: r.imsi }),
  }));
const block = fc
  .record({
    out: fc.constantFrom(...OUTSIDE),
    first: fc.constantFrom(1024, 1536, 2048),
    ins: fc.constantFrom(...INSIDE),
    realm: fc.constantFrom(...REALMS),
    i: interval,
  })
  .map((r) => ({ kind: 'nat-block', realm: r.realm, insideIp: r.ins, outsideIp: r.out, portFirst: r.first, portLast: r.first + 511, ...at(r.i) }));
const session = fc
  .record({
    out: fc.constantFrom(...OUTSIDE),
    port: fc.constantFrom(40000, 40001),
    ins: fc.constantFrom(...INSIDE),
    realm: fc.constantFrom(...REALMS),
    dst: fc.constantFrom(...DESTS),
    i: interval,
  })
  .map((r) => ({
    kind: 'nat-session',
    realm: r.realm,
    insideIp: r.ins,
    insidePort: 5000,
    outsideIp: r.out,
    outsidePort: r.port,
    destinationIp: r.dst,
    destinationPort: 443,
    protocol: 'tcp',
    ...at(r.i),
  }));
/**
 * Background inside allocations: each inside address in each realm is held in five-minute
 * pieces (the longest random duration too, so the store's look-back bound is exercised),
 * alternating between two accounts, so most NAT chains end at someone.
 */
const BACKGROUND: Raw[] = REALMS.flatMap((realm) =>
  INSIDE.flatMap((ip, i) =>
    Array.from({ length: 8 }, (_, k) => ({
      kind: 'allocation',
      account: `BG-${realm}-${i}-${k % 2}`,
      ip,
      realm,
      source: 'bg',
      start: iso(T0 + (k - 1) * 300_000),
      end: iso(T0 + k * 300_000),
    })),
  ),
);
const operator = fc.array(fc.oneof(allocation, allocation, block, session), { maxLength: 24 }).map((recs) => [...BACKGROUND, ...recs]);

const observation = fc
  .record({
    ip: fc.constantFrom(...PUBLIC, ...OUTSIDE, SERVER, FOREIGN),
    port: fc.option(fc.constantFrom(1100, 1600, 2100, 40000, 40001), { nil: undefined }),
    s: fc.tuple(fc.integer({ min: -1, max: 31 }), fc.constantFrom(-2, -1, 0, 1)).map(([k, d]) => k * 60 + d),
    dst: fc.option(fc.constantFrom(...DESTS), { nil: undefined }),
  })
  .map((r) => ({
    sourceIp: r.ip,
    time: iso(T0 + r.s * 1000),
    ...(r.port === undefined ? {} : { sourcePort: r.port }),
    ...(r.dst === undefined ? {} : { destinationIp: r.dst }),
  }));
type Obs = { sourceIp: string; time: string; sourcePort?: number; destinationIp?: string };

/** An observation aimed near a record (its start or end, a second or a minute either side), or anywhere. */
function aimedObservation(recs: Raw[]): fc.Arbitrary<Obs> {
  recs = recs.filter((r) => r['source'] !== 'bg');
  if (recs.length === 0) return observation;
  const aimed = fc
    .record({
      i: fc.nat({ max: recs.length - 1 }),
      edge: fc.constantFrom('start', 'end'),
      d: fc.constantFrom(-61, -60, -1, 0, 1, 59, 60),
      withPort: fc.boolean(),
      portDelta: fc.constantFrom(0, 300, 511, 512),
      dst: fc.option(fc.constantFrom(...DESTS), { nil: undefined }),
    })
    .map(({ i, edge, d, withPort, portDelta, dst }): Obs => {
      const r = recs[i]!;
      const base = ms(r[edge]) === Infinity ? ms(r['start']) + 600_000 : ms(r[edge]);
      const time = iso(base + d * 1000);
      if (r['kind'] === 'allocation') return { sourceIp: r['realm'] === undefined ? (r['ip'] as string) : OUTSIDE[0]!, time };
      const port = r['kind'] === 'nat-block' ? (r['portFirst'] as number) + portDelta : (r['outsidePort'] as number);
      return { sourceIp: r['outsideIp'] as string, time, ...(withPort ? { sourcePort: port } : {}), ...(dst === undefined ? {} : { destinationIp: dst }) };
    });
  return fc.oneof({ arbitrary: aimed, weight: 4 }, { arbitrary: observation, weight: 1 });
}
function partsFor(recs: Raw[]) {
  return fc.record({
    observations: fc.oneof(
      { arbitrary: fc.array(aimedObservation(recs), { minLength: 1, maxLength: 1 }), weight: 3 },
      { arbitrary: fc.array(aimedObservation(recs), { minLength: 2, maxLength: 3 }), weight: 1 },
    ),
    tolerance: fc.constantFrom(0, 0, 1, 2, 60),
    imsi: fc.option(fc.constantFrom(...IMSIS), { nil: undefined }),
  });
}

// ---- the reference: plain loops over the raw records ------------------------------------
const ms = (v: unknown) => (v === null ? Infinity : Date.parse(v as string));
function overlap(r: Raw, w: [number, number]): [number, number] | null {
  const s = Math.max(ms(r['start']), w[0]);
  const e = Math.min(ms(r['end']), w[1]);
  return ms(r['start']) < w[1] && ms(r['end']) > w[0] ? [s, e] : null;
}
function referenceAccounts(recs: Raw[], o: Obs, toleranceS: number, imsi: string | undefined): Set<string> {
  const t = Date.parse(o.time);
  const w: [number, number] = [t - toleranceS * 1000, t + 1000 + toleranceS * 1000];
  const role = ROLE[o.sourceIp];
  const out = new Set<string>();
  if (role === 'server') return out;
  const addAllocations = (ip: string, realm: string | undefined, win: [number, number]) => {
    for (const a of recs) {
      if (a['kind'] !== 'allocation' || a['ip'] !== ip || a['realm'] !== realm) continue;
      if (overlap(a, win) === null) continue;
      if (imsi !== undefined && a['imsi'] !== undefined && a['imsi'] !== imsi) continue;
      out.add(a['account'] as string);
    }
  };
  if (role === 'dynamic' || role === undefined) addAllocations(o.sourceIp, undefined, w);
  if (role === 'cgnat-outside' || role === undefined) {
    for (const b of recs) {
      if (b['outsideIp'] !== o.sourceIp) continue;
      let sub: [number, number] | null = null;
      if (
        b['kind'] === 'nat-block' &&
        (o.sourcePort === undefined || ((b['portFirst'] as number) <= o.sourcePort && o.sourcePort <= (b['portLast'] as number)))
      )
        sub = overlap(b, w);
      if (
        b['kind'] === 'nat-session' &&
        (o.sourcePort === undefined || b['outsidePort'] === o.sourcePort) &&
        (o.destinationIp === undefined || b['destinationIp'] === o.destinationIp)
      )
        sub = overlap(b, w);
      if (sub !== null) addAllocations(b['insideIp'] as string, b['realm'] as string, sub);
    }
  }
  return out;
}
function reference(recs: Raw[], obs: Obs[], toleranceS: number, imsi: string | undefined): string[] {
  const sets = obs.map((o) => referenceAccounts(recs, o, toleranceS, imsi));
  return [...sets[0]!].filter((a) => sets.every((s) => s.has(a))).sort();
}

// ---- the system --------------------------------------------------------------------------
async function engine(recs: Raw[], requests: RequestInput[]): Promise<string[][]> {
  const store = openSqliteStore(':memory:');
  try {
    store.write([...SPACE, ...recs].map((r) => CanonicalRecord.parse(r)));
    const results = await resolveRequests(store, requests);
    return results.map((r) => {
      expect(r.status).not.toBe('invalid');
      return r.candidates.map((c) => c.account);
    });
  } finally {
    store.close();
  }
}
function request(observations: Obs[], tolerance: number, imsi: string | undefined): RequestInput {
  return {
    ref: 'P',
    observations,
    toleranceSeconds: tolerance,
    returnPolicy: 'allow-multiple',
    maxCandidates: 10_000,
    ...(imsi === undefined ? {} : { identifiers: { imsi } }),
  };
}

/** A random operator and a request aimed at its records. */
const scenario = operator.chain((recs) => partsFor(recs).map((p) => [recs, p] as const));

describe('resolve() properties over random small operators', () => {
  test('exactness: candidates equal a brute-force reference over the raw records', async () => {
    let nonEmpty = 0;
    await fc.assert(
      fc.asyncProperty(scenario, async ([recs, p]) => {
        const [got] = await engine(recs, [request(p.observations, p.tolerance, p.imsi)]);
        const ref = reference(recs, p.observations, p.tolerance, p.imsi);
        nonEmpty += ref.length > 0 ? 1 : 0;
        expect(got).toEqual(ref);
      }),
      propertyRun('exactness against the reference', 300),
    );
    // The law is only worth something if the reference often finds someone.
    expect(nonEmpty).toBeGreaterThan(50);
  });

  test('exactness per observation: each observation has exactly the reference accounts', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ([recs, p]) => {
        const store = openSqliteStore(':memory:');
        try {
          store.write([...SPACE, ...recs].map((r) => CanonicalRecord.parse(r)));
          const plan = planRequest(request(p.observations, p.tolerance, p.imsi));
          if (!plan.ok) throw new Error('invalid request');
          const [trace] = await matchPlans(store, [plan.value]);
          trace!.observations.forEach((t, i) => {
            expect([...t.matches.accounts.keys()].sort()).toEqual([...referenceAccounts(recs, p.observations[i]!, p.tolerance, p.imsi)].sort());
          });
        } finally {
          store.close();
        }
      }),
      propertyRun('per-observation exactness', 300),
    );
  });

  /** A store of `recs`, the scenario's request with every clock 12h-ambiguous, fetched for every reading. */
  async function withReadings(
    recs: Raw[],
    p: { observations: Obs[]; tolerance: number; imsi: string | undefined },
    check: (store: SqliteStore, plan: PlannedRequest, trace: MatchTrace) => void | Promise<void>,
  ): Promise<void> {
    const store = openSqliteStore(':memory:');
    try {
      store.write([...SPACE, ...recs].map((r) => CanonicalRecord.parse(r)));
      const plan = planRequest(
        request(
          p.observations.map((o) => ({ ...o, clock: '12h-ambiguous' as const })),
          p.tolerance,
          p.imsi,
        ),
      );
      if (!plan.ok) throw new Error('invalid request');
      const [trace] = await matchPlans(store, [plan.value], sensitivityWindows);
      await check(store, plan.value, trace!);
    } finally {
      store.close();
    }
  }

  test('reading equivalence: a reading evaluated on the widened rows equals a fresh match for that window', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, ([recs, p]) =>
        withReadings(recs, p, async (store, plan, trace) => {
          for (const f of trace.fetched) {
            for (const alt of alternativeReadings(f.observation, plan.toleranceMs)) {
              const inMemory = [...evaluate(f, alt.window).matches.accounts.keys()].sort();
              const [fresh] = await matchPlans(store, [{ ...plan, observations: [{ ...f.observation, window: alt.window }] }]);
              expect(inMemory, alt.reading).toEqual([...fresh!.observations[0]!.matches.accounts.keys()].sort());
            }
          }
        }),
      ),
      propertyRun('reading equivalence', 150),
    );
  });

  test('same rows, same accounts: two readings that meet the same fetched rows find the same accounts', async () => {
    // The law time-sensitivity relies on to skip evaluating a reading (Helly in one dimension).
    let skipped = 0;
    await fc.assert(
      fc.asyncProperty(scenario, ([recs, p]) =>
        withReadings(recs, p, (_store, plan, trace) => {
          for (const f of trace.fetched) {
            const windows = [f.observation.window, ...alternativeReadings(f.observation, plan.toleranceMs).map((a) => a.window)];
            for (const a of windows) {
              for (const b of windows) {
                if (a === b || !sameRows(f, a, b)) continue;
                skipped++;
                expect([...evaluate(f, a).matches.accounts.keys()].sort()).toEqual([...evaluate(f, b).matches.accounts.keys()].sort());
              }
            }
          }
        }),
      ),
      propertyRun('same rows, same accounts', 150),
    );
    expect(skipped).toBeGreaterThan(0);
  });

  test('narrowing: adding an observation never grows the combined set', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, observation, async ([recs, p], extra) => {
        const [before, after] = await engine(recs, [request(p.observations, p.tolerance, p.imsi), request([...p.observations, extra], p.tolerance, p.imsi)]);
        for (const a of after!) expect(before).toContain(a);
      }),
      propertyRun('narrowing'),
    );
  });

  test('order independence: the order of observations does not change the result', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, fc.integer({ min: 0, max: 2 }), async ([recs, p], k) => {
        const rotated = [...p.observations.slice(k % p.observations.length), ...p.observations.slice(0, k % p.observations.length)];
        const [a, b] = await engine(recs, [request(p.observations, p.tolerance, p.imsi), request(rotated, p.tolerance, p.imsi)]);
        expect(b).toEqual(a);
      }),
      propertyRun('order independence'),
    );
  });

  test('offset equivalence: the same instant written with another offset gives the same result', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, fc.integer({ min: -14 * 4, max: 14 * 4 }), async ([recs, p], quarters) => {
        const offsetMin = quarters * 15;
        const shifted = p.observations.map((o) => {
          const local = new Date(Date.parse(o.time) + offsetMin * 60_000).toISOString().slice(0, 19);
          const sign = offsetMin < 0 ? '-' : '+';
          const abs = Math.abs(offsetMin);
          return { ...o, time: `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}` };
        });
        const [a, b] = await engine(recs, [request(p.observations, p.tolerance, p.imsi), request(shifted, p.tolerance, p.imsi)]);
        expect(b).toEqual(a);
      }),
      propertyRun('offset equivalence'),
    );
  });
});
