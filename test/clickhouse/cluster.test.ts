/**
 * What only the ClickHouse store has: a cluster of two shards behind Distributed
 * tables, one request per batch, retention by partition drops (18.16 has no TTL), and
 * the faults of a network store.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { ClickHouseStore } from '../../src/store/clickhouse/store.js';
import type { AllocationQuery } from '../../src/store/types.js';
import { addr, at, records, clickhouseUnderTest, freshClickHouseStore, freshUrl, reportUnreachable, selectOn, alloc } from '../support/index.js';

const clickhouse = await clickhouseUnderTest();
reportUnreachable(clickhouse, 'the ClickHouse cluster tests');

const it = clickhouse.reachable ? test : test.skip;
let cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups) await c();
  cleanups = [];
});
function store(): ClickHouseStore {
  const { store, done } = freshClickHouseStore(clickhouse);
  cleanups.push(done);
  return store;
}

describe('ClickHouse store on a cluster of two shards', () => {
  it('records spread over both shards, every version of a record on one shard', async () => {
    const s = store();
    const batch = Array.from({ length: 200 }, (_, i) => alloc(`198.51.100.${i % 100}`, `A-${i}`, `2026-03-28T${String(i % 24).padStart(2, '0')}:00:00Z`, null));
    await s.write(records(...batch));
    // Close every record: the closing versions must land beside the open ones.
    await s.write(records(...batch.map((r) => ({ ...r, end: r.start.replace(':00:00Z', ':30:00Z') }))));
    const db = s.spec.database;
    const perShard = await Promise.all([0, 1].map((h) => selectOn(clickhouse, h, `SELECT count(), uniqExact(addr) FROM ${db}.allocation_local`)));
    const counts = perShard.map((rows) => Number(rows[0]![0]));
    expect(counts.every((n) => n > 0)).toBe(true);
    expect(counts[0]! + counts[1]!).toBe(200);
    const addresses = perShard.map((rows) => Number(rows[0]![1]));
    expect(addresses[0]! + addresses[1]!).toBe(100); // an address's records stay on one shard
    const open = await Promise.all(
      [0, 1].map((h) =>
        selectOn(
          clickhouse,
          h,
          `SELECT count() FROM ${db}.allocation_open_local AS o WHERE NOT has((SELECT groupArray(addr) FROM ${db}.allocation_local), o.addr)`,
        ),
      ),
    );
    expect(open.map((rows) => Number(rows[0]![0]))).toEqual([0, 0]);
    expect((await s.counts()).allocation).toBe(200);
  });

  it('a batch of 600 lookups is one lookup query on the entry server (and one version check), each answer in its place', async () => {
    const s = store();
    const hour = (i: number) => String(i % 24).padStart(2, '0');
    const inputs = Array.from({ length: 300 }, (_, i) =>
      alloc(`198.51.100.${i % 120}`, `A-${i}`, `2026-03-28T${hour(i)}:00:00Z`, `2026-03-28T${hour(i)}:59:00Z`),
    );
    await s.write(records(...inputs));
    const queries: AllocationQuery[] = Array.from({ length: 600 }, (_, i) => ({
      address: addr(`198.51.100.${i % 2 === 0 ? i % 120 : (i * 7) % 130}`),
      realm: null,
      window: { start: at(`2026-03-28T${hour(i)}:10:00Z`), end: at(`2026-03-28T${hour(i)}:10:01Z`) },
    }));
    // The reference model: a record answers a query on its address whose instant it covers.
    const expected = queries.map((q) =>
      inputs
        .filter((r) => r.ip === q.address.text && at(r.start) <= q.window.start && q.window.start < at(r.end!))
        .map((r) => r.account)
        .sort(),
    );
    await s.allocations(queries.slice(0, 1)); // opened, bounds read
    const queriesRun = async () => Number((await selectOn(clickhouse, 0, "SELECT value FROM system.events WHERE event = 'Query'"))[0]![0]);
    const before = await queriesRun();
    const answers = await s.allocations(queries);
    const after = await queriesRun();
    // Minus the counting query itself: the lookup, and the count of meta rows that tells the
    // store whether its bounds are still current (one per batch, shared by its calls).
    expect(after - before - 1).toBe(2);
    expect(answers.map((a) => a.map((r) => r.account).sort())).toEqual(expected);
    expect(expected.filter((e) => e.length > 0).length).toBeGreaterThan(100);
  });

  it('retention: purge drops the day partitions of records that all ended before the horizon, keeps open records, and records the horizon', async () => {
    const s = store();
    await s.write(
      records(
        alloc('198.51.100.1', 'OLD', '2026-03-01T10:00:00Z', '2026-03-01T11:00:00Z'),
        alloc('198.51.100.1', 'NEAR', '2026-03-09T23:30:00Z', '2026-03-10T00:30:00Z'),
        alloc('198.51.100.1', 'NEW', '2026-03-20T10:00:00Z', '2026-03-20T11:00:00Z'),
        alloc('198.51.100.2', 'STATIC', '2026-02-01T00:00:00Z', null),
      ),
    );
    const { partitions: dropped } = await s.purge(at('2026-03-10T00:00:00Z'));
    // 2026-03-09 stays: a record starting that day may run past the horizon (longest record: 1 h).
    expect(dropped.map((d) => `${d.table} ${d.partition}`).sort()).toEqual(['allocation 2026-03-01']);
    const ask = (ip: string, from: string, to: string) => ({ address: addr(ip), realm: null, window: { start: at(from), end: at(to) } });
    const [old, near, fresh, open] = await s.allocations([
      ask('198.51.100.1', '2026-03-01T10:30:00Z', '2026-03-01T10:30:01Z'),
      ask('198.51.100.1', '2026-03-09T23:45:00Z', '2026-03-09T23:45:01Z'),
      ask('198.51.100.1', '2026-03-20T10:30:00Z', '2026-03-20T10:30:01Z'),
      ask('198.51.100.2', '2026-03-20T10:30:00Z', '2026-03-20T10:30:01Z'),
    ]);
    expect([old, near, fresh, open].map((a) => a!.map((r) => r.account))).toEqual([[], ['NEAR'], ['NEW'], ['STATIC']]);
    expect((await s.settings()).retentionHorizon).toBe(at('2026-03-10T00:00:00Z'));
  });

  it('a read-only store needs the store to exist, and does not write', async () => {
    const { url, drop } = freshUrl(clickhouse);
    cleanups.push(drop);
    const ro = new ClickHouseStore(url, { readonly: true });
    cleanups.push(() => ro.close());
    await expect(ro.counts()).rejects.toMatchObject({ code: 'STORE_NOT_FOUND' });
    await expect(ro.write([])).rejects.toMatchObject({ code: 'STORE_READONLY' });
    const rw = new ClickHouseStore(url);
    cleanups.push(() => rw.close());
    await rw.write(records(alloc('198.51.100.7', 'A', '2026-03-28T10:00:00Z', null)));
    const reader = new ClickHouseStore(url, { readonly: true });
    cleanups.push(() => reader.close());
    expect((await reader.counts()).allocation).toBe(1);
  });

  it('a cluster URL must list every shard of the cluster', async () => {
    const { url, drop } = freshUrl(clickhouse);
    cleanups.push(drop);
    const oneHost = url.replace(/,[^/]+\//, '/');
    const s = new ClickHouseStore(oneHost);
    cleanups.push(() => s.close());
    await expect(s.write([])).rejects.toMatchObject({
      code: 'STORE_OPEN_FAILED',
      message: expect.stringMatching(/has 2 shards but the store URL lists 1 host/),
    });
  });
});
