/**
 * Laws of service-users requests over simulated connection worlds (nat/connections.ts),
 * against a brute-force reference computed from the simulator's truth of who visited
 * what — not from the records, and not by the matcher:
 * - exactness: the answer is exactly the accounts the truth says connected (at least
 *   minConnections times) to at least minLayers of the layers;
 * - soundness: every account returned met every layer it claims, in its window;
 * - narrowing: adding a layer never grows the set;
 * - the per-layer counts add up: matched sums to the layers met over all accounts,
 *   remaining never grows and ends at the answer, support counts sum to the accounts seen.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { estimateRequests, resolveRequests } from '../../matcher/pipeline.js';
import { DEFAULT_CONNECTION_WORLD, simulateConnections, type ConnectionWorld, type Visit } from '../../nat/connections.js';
import { CanonicalRecord } from '../../src/records.js';
import type { Result } from '../../src/request.js';
import type { SqliteStore } from '../../src/store/sqlite/store.js';
import { freshStore, propertyRun } from '../support/index.js';

const DAY = DEFAULT_CONNECTION_WORLD.start;
const HOUR = 3_600_000;
const AUTH = { authorityType: 'intelligence-community', condition: 'D', purpose: 'national-security' } as const;

interface LayerSpec {
  readonly destinations: readonly string[];
  readonly from: number;
  readonly hours: number;
  readonly https: boolean;
}

const layerArb = fc.record({
  // 192.0.2.10–22 and 110–121 hold services (some addresses have no visits; 192.0.2.200 none ever).
  destinations: fc.uniqueArray(
    fc.constantFrom(
      '192.0.2.10',
      '192.0.2.11',
      '192.0.2.12',
      '192.0.2.13',
      '192.0.2.14',
      '192.0.2.16',
      '192.0.2.19',
      '192.0.2.20',
      '192.0.2.21',
      '192.0.2.110',
      '192.0.2.113',
      '192.0.2.200',
      '192.0.2.16/30',
    ),
    { minLength: 1, maxLength: 3 },
  ),
  from: fc.integer({ min: 0, max: 23 }),
  hours: fc.integer({ min: 1, max: 12 }),
  https: fc.boolean(),
});

const inPrefix = (destination: string, ip: string): boolean => {
  if (!destination.includes('/')) return destination === ip;
  const [base, bits] = destination.split('/') as [string, string];
  const num = (a: string) => a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  const mask = 2 ** 32 - 2 ** (32 - Number(bits));
  return (num(base) & mask) === (num(ip) & mask);
};

/** The reference: per layer, each account's visits in its window to its destinations. */
function referenceLayer(visits: readonly Visit[], l: LayerSpec): Map<string, number> {
  const from = DAY + l.from * HOUR;
  const to = from + l.hours * HOUR;
  const out = new Map<string, number>();
  for (const v of visits) {
    if (v.end <= from || v.start >= to) continue;
    if (l.https && v.destinationPort !== 443) continue;
    if (!l.destinations.some((d) => inPrefix(d, v.destinationIp))) continue;
    out.set(v.account, (out.get(v.account) ?? 0) + 1);
  }
  return out;
}

function reference(visits: readonly Visit[], layers: readonly LayerSpec[], minLayers: number, minConnections: number): string[] {
  const met = new Map<string, number>();
  for (const l of layers) for (const [a, n] of referenceLayer(visits, l)) if (n >= minConnections) met.set(a, (met.get(a) ?? 0) + 1);
  return [...met]
    .filter(([, k]) => k >= minLayers)
    .map(([a]) => a)
    .sort();
}

const request = (layers: readonly LayerSpec[], minLayers?: number, minConnections = 1) => ({
  ref: 'LAW',
  kind: 'service-users',
  authorisation: AUTH,
  layers: layers.map((l) => ({
    service: { destinations: [...l.destinations], ...(l.https ? { ports: [443] } : {}) },
    window: { from: new Date(DAY + l.from * HOUR).toISOString(), to: new Date(DAY + (l.from + l.hours) * HOUR).toISOString() },
  })),
  ...(minLayers === undefined ? {} : { minLayers }),
  minConnections,
  returnPolicy: 'allow-multiple',
  maxCandidates: 10_000,
});

const accountsOf = (r: Result): string[] => r.candidates.map((c) => c.account);

describe("service-users laws against the simulator's truth", () => {
  let store: SqliteStore;
  let world: ConnectionWorld;
  beforeAll(() => {
    world = simulateConnections({ ...DEFAULT_CONNECTION_WORLD, publicAccounts: 60, natAccounts: 30, visitsPerAccount: 20 }, 20_261_124);
    store = freshStore().store;
    store.write(world.records.map((r) => CanonicalRecord.parse(r)));
  });
  afterAll(() => store.close());

  test('the simulated world holds shared addresses, records without an account and NAT sessions', () => {
    const kinds = new Set(world.records.map((r) => r.kind + ('account' in r && r.kind === 'connection' ? '+account' : '')));
    expect([...kinds].sort()).toEqual(['address-space', 'allocation', 'connection', 'connection+account', 'nat-session', 'subscriber']);
    const addresses = [...world.services.values()].flat();
    expect(new Set(addresses).size).toBeLessThan(addresses.length);
  });

  test('exactness and soundness: the answer is the reference, every account met what it claims', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(layerArb, { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 3 }),
        async (layers, k, minConnections) => {
          const minLayers = Math.min(k, layers.length);
          const [r] = await resolveRequests(store, [request(layers, minLayers, minConnections)]);
          expect(accountsOf(r!)).toEqual(reference(world.visits, layers, minLayers, minConnections));
          for (const c of r!.candidates) {
            expect(c.layers!.length).toBeGreaterThanOrEqual(minLayers);
            for (const i of c.layers!) expect(referenceLayer(world.visits, layers[i]!).get(c.account) ?? 0).toBeGreaterThanOrEqual(minConnections);
          }
        },
      ),
      propertyRun('service-users exactness and soundness', 60),
    );
  });

  test('narrowing: adding a layer never grows the set', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(layerArb, { minLength: 1, maxLength: 3 }), layerArb, async (layers, extra) => {
        const [before, after] = await resolveRequests(store, [request(layers), request([...layers, extra])]);
        const kept = new Set(accountsOf(before!));
        expect(accountsOf(after!).filter((a) => !kept.has(a))).toEqual([]);
      }),
      propertyRun('service-users narrowing', 40),
    );
  });

  test('the per-layer counts add up, in the result and the estimate alike', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(layerArb, { minLength: 1, maxLength: 4 }), async (layers) => {
        const [r] = await resolveRequests(store, [request(layers, 1)]);
        const [e] = await estimateRequests(store, [request(layers, 1)]);
        const matched = r!.layers!.map((l) => l.matched);
        const remaining = r!.layers!.map((l) => l.remaining);
        // matched[i] is the reference's count for layer i alone.
        expect(matched).toEqual(layers.map((l) => referenceLayer(world.visits, l).size));
        expect(remaining[0]).toBe(matched[0]);
        for (let i = 1; i < remaining.length; i++) expect(remaining[i]).toBeLessThanOrEqual(Math.min(remaining[i - 1]!, matched[i]!));
        // Every account met k layers: the support counts weigh up to the matched counts, and sum to the accounts seen.
        const counts = e!.supportCounts;
        expect(counts.reduce((s, n, i) => s + n * (i + 1), 0)).toBe(matched.reduce((s, n) => s + n, 0));
        expect(counts.reduce((s, n) => s + n, 0)).toBe(r!.candidateCount);
        // With all layers required, what remains after the last is the answer.
        const [all] = await resolveRequests(store, [request(layers)]);
        expect(all!.candidateCount).toBe(remaining.at(-1));
        expect(e!.layers).toEqual(r!.layers);
      }),
      propertyRun('service-users counts add up', 40),
    );
  });
});
