/**
 * Pairing state across runs (issue 15), one contract on both backends: provisional
 * records carry `lastSeen` and are replaced or retracted by the next run, the pairing
 * state is saved per scope with a generation, and a run whose scope another run
 * committed to since it read the state is refused (PAIRING_CONFLICT) — tested with two
 * interleaved ingests. And coverage: ingesting the same lines again changes no count.
 */
import { Readable } from 'node:stream';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { ingest } from '../../src/ingest/ingest.js';
import type { Input } from '../../src/ingest/lines.js';
import { VENDOR_PARSERS } from '../../src/ingest/vendors/index.js';
import { IparError } from '../../src/problems.js';
import { ClickHouseStore } from '../../src/store/clickhouse/store.js';
import type { Store } from '../../src/store/open.js';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import type { StoredRecord } from '../../src/store/types.js';
import { addr, at, clickhouseUnderTest, freshClickHouseStore, records, reportUnreachable, tempDir, alloc } from '../support/index.js';

const clickhouse = await clickhouseUnderTest();
reportUnreachable(clickhouse, 'pairing state on ClickHouse');

/** A backend whose store can be opened twice (two runs, two connections). */
interface TwoHanded {
  readonly name: string;
  readonly available: boolean;
  readonly open: () => { first: Store; second: () => Store; done: () => Promise<void> | void };
}

const backends: readonly TwoHanded[] = [
  {
    name: 'SQLite',
    available: true,
    open: () => {
      const file = join(tempDir(), 'store.db');
      const opened: Store[] = [openSqliteStore(file)];
      return {
        first: opened[0]!,
        second: () => {
          const s = openSqliteStore(file);
          opened.push(s);
          return s;
        },
        done: () => opened.forEach((s) => s.close()),
      };
    },
  },
  {
    name: 'ClickHouse, two shards',
    available: clickhouse.reachable,
    open: () => {
      const { store, url, done } = freshClickHouseStore(clickhouse);
      const more: ClickHouseStore[] = [];
      return {
        first: store,
        second: () => {
          const s = new ClickHouseStore(url);
          more.push(s);
          return s;
        },
        done: async () => {
          for (const s of more) await s.close();
          await done();
        },
      };
    },
  },
];

const block = (inside: string, first: number, start: string, end: string | null, extra: object = {}) => ({
  kind: 'nat-block',
  realm: 'cgn-a',
  insideIp: inside,
  outsideIp: '203.0.113.7',
  portFirst: first,
  portLast: first + 511,
  start,
  end,
  ...extra,
});

/** Juniper SRX port-block lines (as test/ingest/pairing-split.test.ts writes them). */
const pba = (kind: 'ALLOC' | 'RELEASE', time: string, inside: string, low: number): string =>
  `<14>1 ${time} srx1 RT_NAT - RT_SRC_NAT_PBA_${kind} [junos@2636.1.1.1.2.26 internal-ip="${inside}" block-used="1" block-max-per-host="4" ` +
  `block-port-low="${low}" block-port-high="${low + 511}" reflexive-ip="203.0.113.7" nat-pool-name="pool-a" logical-system-id="0" ` +
  `epoch-time-64="${(Date.parse(time) / 1000).toString(16)}"]`;
const srx = VENDOR_PARSERS.find((p) => p.name === 'juniper-srx')!;
const lines = (name: string, texts: readonly string[]): Input => ({ name, stream: () => Readable.from([texts.join('\n') + '\n']) });

/** Every record a store holds, as written (for comparing whole stores). */
async function everything(s: Store): Promise<StoredRecord[]> {
  const out: StoredRecord[] = [];
  for await (const batch of s.exportRecords({ kinds: ['allocation', 'nat-block', 'nat-session'], window: { start: -Infinity, end: Infinity } }))
    out.push(...batch);
  return out;
}

describe.each(backends)('pairing state and provisional records: $name', (backend) => {
  const it = backend.available ? test : test.skip;
  let cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups) await c();
    cleanups = [];
  });
  const open = () => {
    const opened = backend.open();
    cleanups.push(opened.done);
    return opened;
  };
  const store = (): Store => open().first;
  const q = (ip: string) => [{ address: addr(ip), realm: null, window: { start: at('2026-03-28T12:00:00Z'), end: at('2026-03-28T12:00:01Z') } }];

  it('an open record stored with its pairing state keeps lastSeen; the next run closes it and saves no state', async () => {
    const s = store();
    expect(await s.pairingState!('kea-legal|')).toEqual({ state: null, generation: 0 });
    const open = records(alloc('198.51.100.7', 'A', '2026-03-28T10:00:00Z', null, { lastSeen: '2026-03-28T11:00:00Z' }));
    await s.write([], { pairing: { scope: 'kea-legal|', state: '{"v":1}', provisional: open, retract: [] } });
    expect(await s.pairingState!('kea-legal|')).toEqual({ state: '{"v":1}', generation: 1 });
    const [before] = await s.allocations(q('198.51.100.7'));
    expect(before!.map((r) => [r.end, r.lastSeen])).toEqual([[null, at('2026-03-28T11:00:00Z')]]);

    await s.write(records(alloc('198.51.100.7', 'A', '2026-03-28T10:00:00Z', '2026-03-28T13:00:00Z')), {
      pairing: { scope: 'kea-legal|', state: null, provisional: [], retract: open },
    });
    // Nothing left open, and the generation still counts the runs.
    expect(await s.pairingState!('kea-legal|')).toEqual({ state: null, generation: 2 });
    const [after] = await s.allocations(q('198.51.100.7'));
    expect(after!.map((r) => [r.end, r.lastSeen])).toEqual([[at('2026-03-28T13:00:00Z'), undefined]]);
    expect((await s.counts()).allocation).toBe(1);
  });

  it('a provisional record is replaced by what a later run says, even a shorter inferred end; a final one is not retracted', async () => {
    const s = store();
    const lease = records(alloc('198.51.100.9', 'B', '2026-03-28T10:00:00Z', '2026-03-28T14:00:00Z'));
    await s.write([], { pairing: { scope: 'x|', state: '{}', provisional: lease, retract: [] } });
    const capped = records(alloc('198.51.100.9', 'B', '2026-03-28T10:00:00Z', '2026-03-28T12:30:00Z', { endInferred: true }));
    await s.write(capped, { pairing: { scope: 'x|', state: null, provisional: [], retract: lease } });
    const [hits] = await s.allocations(q('198.51.100.9'));
    expect(hits!.map((r) => [r.end, r.endInferred === true])).toEqual([[at('2026-03-28T12:30:00Z'), true]]);
    // Final now: the same record again changes nothing, and is no longer taken back by a retraction.
    expect((await s.write(capped)).unchanged).toEqual({ allocation: 1 });
    await s.write([], { pairing: { scope: 'x|', state: null, provisional: [], retract: capped } });
    const [again] = await s.allocations(q('198.51.100.9'));
    expect(again!.map((r) => r.end)).toEqual([at('2026-03-28T12:30:00Z')]);
  });

  it('a provisional record whose start moved is retracted, not left beside the new one (lookups, export and counts)', async () => {
    const s = store();
    const first = records(alloc('198.51.100.10', 'C', '2026-03-28T10:00:00Z', null, { lastSeen: '2026-03-28T10:00:00Z' }));
    await s.write([], { pairing: { scope: 'y|', state: '{}', provisional: first, retract: [] } });
    const moved = records(alloc('198.51.100.10', 'C', '2026-03-28T09:00:00Z', null, { lastSeen: '2026-03-28T11:00:00Z' }));
    await s.write([], { pairing: { scope: 'y|', state: '{}', provisional: moved, retract: first } });
    const [hits] = await s.allocations(q('198.51.100.10'));
    expect(hits!.map((r) => r.start)).toEqual([at('2026-03-28T09:00:00Z')]);
    expect((await everything(s)).map((r) => [r.kind, 'start' in r ? r.start : null, 'lastSeen' in r ? r.lastSeen : null])).toEqual([
      ['allocation', at('2026-03-28T09:00:00Z'), at('2026-03-28T11:00:00Z')],
    ]);
    expect((await s.counts()).allocation).toBe(1);
  });

  it('port blocks: a provisional closed block reopened by the next run, then retracted: gone from lookups and counts', async () => {
    const s = store();
    const waiting = records(block('100.64.0.10', 1024, '2026-03-28T10:00:00Z', '2026-03-28T13:00:00Z'));
    await s.write([], { pairing: { scope: 'srx|cgn-a', state: '{}', provisional: waiting, retract: [] } });
    const reopened = records(block('100.64.0.10', 1024, '2026-03-28T10:00:00Z', null, { lastSeen: '2026-03-28T12:30:00Z' }));
    await s.write([], { pairing: { scope: 'srx|cgn-a', state: '{}', provisional: reopened, retract: waiting } });
    const ask = [{ outside: addr('203.0.113.7'), port: 1100, window: { start: at('2026-03-28T14:00:00Z'), end: at('2026-03-28T14:00:01Z') } }];
    const [open] = await s.natBlocks(ask);
    expect(open!.map((b) => [b.end, b.lastSeen])).toEqual([[null, at('2026-03-28T12:30:00Z')]]);
    expect((await s.counts())['nat-block']).toBe(1);
    await s.write([], { pairing: { scope: 'srx|cgn-a', state: null, provisional: [], retract: reopened } });
    expect(await s.natBlocks(ask)).toEqual([[]]);
    expect((await s.counts())['nat-block']).toBe(0);
    expect(await everything(s)).toEqual([]);
  });

  it('a write whose generation another run moved is refused (PAIRING_CONFLICT, naming the scope) and stores nothing', async () => {
    const { first, second } = open();
    const other = second();
    const a = await first.pairingState!('kea|');
    const b = await other.pairingState!('kea|');
    expect([a, b]).toEqual([
      { state: null, generation: 0 },
      { state: null, generation: 0 },
    ]);
    await other.write([], {
      pairing: {
        scope: 'kea|',
        state: '{"b":1}',
        provisional: records(alloc('198.51.100.20', 'B', '2026-03-28T10:00:00Z', null)),
        retract: [],
        generation: b.generation,
      },
    });
    // (SQLite's write throws at once, ClickHouse's rejects: both as a rejected promise here.)
    const refused = (async () =>
      first.write(records(alloc('198.51.100.21', 'A', '2026-03-28T10:00:00Z', '2026-03-28T11:00:00Z')), {
        pairing: { scope: 'kea|', state: '{"a":1}', provisional: [], retract: [], generation: a.generation },
      }))();
    await expect(refused).rejects.toThrow(IparError);
    await expect(refused).rejects.toMatchObject({ code: 'PAIRING_CONFLICT', message: expect.stringContaining('"kea|"') });
    expect(await first.pairingState!('kea|')).toEqual({ state: '{"b":1}', generation: 1 });
    expect((await everything(first)).map((r) => (r.kind === 'allocation' ? r.account : r.kind))).toEqual(['B']);
    // Another scope is not held up.
    await first.write([], { pairing: { scope: 'other|', state: '{}', provisional: [], retract: [], generation: 0 } });
    expect((await first.pairingState!('other|')).generation).toBe(1);
  });

  it('two interleaved ingests of one scope: the one that finishes second is refused; a later run pairs with what the first left', async () => {
    const { first, second } = open();
    let release!: () => void;
    const otherDone = new Promise<void>((resolve) => (release = resolve));
    let reading!: () => void;
    const started = new Promise<void>((resolve) => (reading = resolve));
    // Run A reads the scope's state at its first line, then waits while run B ingests the whole of its file.
    const slow: Input = {
      name: 'srx-a.log',
      stream: () =>
        Readable.from(
          (async function* () {
            yield pba('ALLOC', '2025-03-01T10:30:00.000Z', '100.64.0.10', 1024) + '\n';
            reading();
            await otherDone;
            yield pba('ALLOC', '2025-03-01T10:40:00.000Z', '100.64.0.11', 1536) + '\n';
          })(),
        ),
    };
    const options = { format: srx, vendorOptions: { realm: 'cgn-a' } };
    const runA = ingest(first, [slow], options);
    await started;
    const b = await ingest(second(), [lines('srx-b.log', [pba('ALLOC', '2025-03-01T10:50:00.000Z', '100.64.0.12', 2048)])], options);
    expect(b.pairing?.open).toBe(1);
    release();
    await expect(runA).rejects.toMatchObject({ code: 'PAIRING_CONFLICT', message: expect.stringContaining('juniper-srx|cgn-a') });
    // B's open block is what the scope holds; a later run's release of it pairs (no STOP_WITHOUT_START).
    const rejected: string[] = [];
    const later = await ingest(first, [lines('srx-c.log', [pba('RELEASE', '2025-03-01T11:20:00.000Z', '100.64.0.12', 2048)])], {
      ...options,
      onReject: (r) => rejected.push(...r.problems.map((p) => p.reason)),
    });
    expect(rejected).toEqual([]);
    expect(later.stored['nat-block'] ?? 0).toBeGreaterThan(0);
    const blocks = (await everything(first)).filter((r) => r.kind === 'nat-block');
    expect(blocks.map((r) => [r.portFirst, r.end])).toEqual([[2048, at('2025-03-01T11:20:00.000Z')]]);
  });

  it('ingesting the same lines again changes no source coverage count (issue 15)', async () => {
    const s = store();
    const file = [
      pba('ALLOC', '2025-03-01T10:30:00.000Z', '100.64.0.10', 1024),
      pba('RELEASE', '2025-03-01T10:45:00.000Z', '100.64.0.10', 1024),
      pba('ALLOC', '2025-03-01T10:50:00.000Z', '100.64.0.11', 1536),
      pba('RELEASE', '2025-03-01T10:55:00.000Z', '100.64.0.11', 1536),
    ];
    const canonical = [
      JSON.stringify(alloc('198.51.100.7', 'A', '2026-03-28T10:00:00Z', '2026-03-28T11:00:00Z')),
      JSON.stringify(alloc('198.51.100.8', 'B', '2026-03-28T10:10:00Z', '2026-03-28T11:30:00Z')),
    ];
    await ingest(s, [lines('srx.log', file)], { format: srx, vendorOptions: { realm: 'cgn-a' } });
    await ingest(s, [lines('records.ndjson', canonical)]);
    const once = await s.sourceCoverage();
    // The last block's release waits for late lines (provisional): only the first block's two events count yet.
    expect(once.map((c) => [c.source, c.events, c.ingests])).toEqual([
      ['cgn-a', 2, 1],
      ['dhcp', 4, 1],
    ]);
    await ingest(s, [lines('srx.log', file)], { format: srx, vendorOptions: { realm: 'cgn-a' } });
    await ingest(s, [lines('records.ndjson', canonical)]);
    expect(await s.sourceCoverage()).toEqual(once);
    // One new record among the repeats adds its own events, and only them.
    await ingest(s, [lines('records.ndjson', [...canonical, JSON.stringify(alloc('198.51.100.9', 'C', '2026-03-28T11:00:00Z', '2026-03-28T11:40:00Z'))])]);
    expect((await s.sourceCoverage()).map((c) => [c.source, c.events, c.ingests])).toEqual([
      ['cgn-a', 2, 1],
      ['dhcp', 6, 2],
    ]);
  });
});
