/**
 * The SQLite writer under bulk ingest (issue #8): what the batch writer caches (names,
 * devices, bounds gathered once a batch) must not change what is stored, however the
 * records are batched. Real SQLite, a fresh file each test.
 */
import fc from 'fast-check';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { CanonicalRecord } from '../../src/records.js';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import type { WriteSummary } from '../../src/store/types.js';
import { addr, at, propertyRun, tempDir, storeDigest } from '../support/index.js';

const T = (minute: number): string => new Date(Date.parse('2026-03-28T10:00:00Z') + minute * 60_000).toISOString();

describe('store writer: names and devices of a reopened store', () => {
  test('a reopened store finds the accounts and devices it holds: no duplicates, identifiers read back as written', async () => {
    const file = join(tempDir(), 'store.db');
    const alloc = (ip: string, start: number, extra: object) =>
      CanonicalRecord.parse({ kind: 'allocation', account: 'ACC-1', ip, start: T(start), end: T(start + 30), source: 'dhcp', ...extra });
    const first = [alloc('198.51.100.7', 0, { mac: '02:00:5e:00:00:01' }), alloc('100.64.0.1', 0, { realm: 'cgn-a', imsi: '234150000000001' })];
    const store = openSqliteStore(file);
    store.write(first);
    store.close();

    const again = openSqliteStore(file);
    const later = [alloc('198.51.100.7', 60, { mac: '02:00:5e:00:00:01' }), alloc('100.64.0.1', 60, { realm: 'cgn-a', imsi: '234150000000001' })];
    const summary = again.write([...first, ...later]);
    const [dhcp, mobile] = await again.allocations([
      { address: addr('198.51.100.7'), realm: null, window: { start: at(T(61)), end: at(T(62)) } },
      { address: addr('100.64.0.1'), realm: 'cgn-a', window: { start: at(T(61)), end: at(T(62)) } },
    ]);
    again.close();

    expect(summary).toEqual({ stored: { allocation: 2 }, unchanged: { allocation: 2 }, changed: new Uint8Array([0, 0, 1, 1]) });
    expect([dhcp!.map((a) => [a.account, a.mac]), mobile!.map((a) => [a.account, a.imsi])]).toEqual([
      [['ACC-1', '02:00:5e:00:00:01']],
      [['ACC-1', '234150000000001']],
    ]);
    expect(storeDigest(file).counts).toMatchObject({ account: 1, device: 2, allocation: 4 });
  });
});

/** Few addresses, ports, starts and names, so natural keys collide and later records meet earlier ones. */
const smallRecord: fc.Arbitrary<CanonicalRecord> = fc
  .oneof(
    fc.record({
      kind: fc.constant('allocation'),
      account: fc.constantFrom('A', 'A', 'B'),
      ip: fc.constantFrom('198.51.100.7', '198.51.100.8', '2001:db8:1::/56'),
      realm: fc.constantFrom(undefined, 'cgn-a'),
      start: fc.nat(1).map(T),
      end: fc.constantFrom(null, T(5), T(6), T(7)),
      source: fc.constantFrom('dhcp', 'radius'),
      mac: fc.constantFrom(undefined, '02:00:5e:00:00:01', '02:00:5e:00:00:02'),
      imsi: fc.constantFrom(undefined, '234150000000001'),
      endInferred: fc.constantFrom(undefined, true, false),
    }),
    fc.record({
      kind: fc.constant('nat-block'),
      realm: fc.constant('cgn-a'),
      insideIp: fc.constantFrom('100.64.0.1', '100.64.0.2'),
      outsideIp: fc.constantFrom('203.0.113.7', '203.0.113.9', '2001:db8::7'),
      portFirst: fc.constantFrom(1024, 2048),
      portLast: fc.constant(4095),
      start: fc.nat(1).map(T),
      end: fc.constantFrom(null, T(5), T(6), T(7)),
      endInferred: fc.constantFrom(undefined, true, false),
    }),
    fc.record({
      kind: fc.constant('nat-session'),
      realm: fc.constant('cgn-s'),
      insideIp: fc.constant('100.64.1.1'),
      insidePort: fc.constant(5000),
      outsideIp: fc.constantFrom('203.0.113.70', '203.0.113.71'),
      outsidePort: fc.constantFrom(40001, 40002),
      protocol: fc.constantFrom('tcp', 'udp'),
      start: fc.nat(1).map(T),
      end: fc.constantFrom(null, T(5), T(6)),
    }),
    fc.record({ kind: fc.constant('address-space'), prefix: fc.constantFrom('198.51.100.0/24', '203.0.113.0/24'), role: fc.constantFrom('dynamic', 'static') }),
    fc.record({ kind: fc.constant('subscriber'), account: fc.constantFrom('A', 'B', 'C'), type: fc.constantFrom('residential', 'business') }),
  )
  .map((input) => CanonicalRecord.parse(Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined))));

function tally(summaries: readonly WriteSummary[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of summaries) {
    for (const [kind, n] of Object.entries(s.stored)) out[`stored ${kind}`] = (out[`stored ${kind}`] ?? 0) + n;
    for (const [kind, n] of Object.entries(s.unchanged)) out[`unchanged ${kind}`] = (out[`unchanged ${kind}`] ?? 0) + n;
  }
  return out;
}

describe('store writer: batches', () => {
  test('batching law: a batch stores what its records written one at a time, in order, would', () => {
    fc.assert(
      fc.property(fc.array(smallRecord, { minLength: 1, maxLength: 40 }), fc.oneof(fc.constant(40), fc.integer({ min: 1, max: 40 })), (records, size) => {
        const dir = tempDir();
        const [batched, single] = [openSqliteStore(join(dir, 'batched.db')), openSqliteStore(join(dir, 'single.db'))];
        const batchedSummaries: WriteSummary[] = [];
        for (let i = 0; i < records.length; i += size) batchedSummaries.push(batched.write(records.slice(i, i + size)));
        const singleSummaries = records.map((r) => single.write([r]));
        batched.close();
        single.close();
        expect(tally(batchedSummaries)).toEqual(tally(singleSummaries));
        expect(storeDigest(join(dir, 'batched.db'))).toEqual(storeDigest(join(dir, 'single.db')));
      }),
      propertyRun('a batch stores what its records one at a time would', 100),
    );
  });

  test('in one batch, a later export that closes an open record sets its end, and the first closed end stays', async () => {
    const store = openSqliteStore(join(tempDir(), 'store.db'));
    const alloc = (ip: string, end: string | null) => CanonicalRecord.parse({ kind: 'allocation', account: 'A', ip, start: T(0), end, source: 'dhcp' });
    // Interleaved with other addresses (a writer that reordered the batch by key would move them).
    const summary = store.write([
      alloc('198.51.100.9', T(9)),
      alloc('198.51.100.7', null),
      alloc('198.51.100.1', T(9)),
      alloc('198.51.100.7', T(5)),
      alloc('198.51.100.7', T(7)),
    ]);
    const [hits] = await store.allocations([{ address: addr('198.51.100.7'), realm: null, window: { start: at(T(0)), end: at(T(10)) } }]);
    store.close();
    expect(hits!.map((h) => h.end)).toEqual([at(T(5))]);
    expect(summary).toEqual({ stored: { allocation: 4 }, unchanged: { allocation: 1 }, changed: new Uint8Array([1, 1, 1, 1, 0]) });
  });
});
