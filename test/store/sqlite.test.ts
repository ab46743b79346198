import { afterEach, describe, expect, test } from 'vitest';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/store.js';
import fc from 'fast-check';
import { addr, alloc, at, block, freshStore, propertyRun, records } from '../support/index.js';

let open: SqliteStore[] = [];
afterEach(() => {
  for (const s of open) s.close();
  open = [];
});
function store(): SqliteStore {
  const { store } = freshStore();
  open.push(store);
  return store;
}

describe('store: allocations overlapping a window', () => {
  const s0 = '2026-03-28T10:00:00Z';
  const s1 = '2026-03-28T11:00:00Z';
  const cases: [string, string, string, boolean][] = [
    ['window ends at the record start (end exclusive)', '2026-03-28T09:00:00Z', s0, false],
    ['window ends 1 ms after the record start', '2026-03-28T09:00:00Z', '2026-03-28T10:00:00.001Z', true],
    ['window starts at the record end', s1, '2026-03-28T12:00:00Z', false],
    ['window starts 1 ms before the record end', '2026-03-28T10:59:59.999Z', '2026-03-28T12:00:00Z', true],
    ['window inside the record', '2026-03-28T10:10:00Z', '2026-03-28T10:20:00Z', true],
    ['window around the record', '2026-03-28T09:00:00Z', '2026-03-28T12:00:00Z', true],
  ];
  test.each(cases)('%s', async (_name, from, to, expected) => {
    const s = store();
    s.write(records(alloc('198.51.100.7', 'A', s0, s1)));
    const [hits] = await s.allocations([{ address: addr('198.51.100.7'), realm: null, window: { start: at(from), end: at(to) } }]);
    expect(hits!.length > 0).toBe(expected);
  });

  test('an open record covers every window after its start, however long ago', async () => {
    const s = store();
    s.write(records(alloc('198.51.100.7', 'A', '2020-01-01T00:00:00Z', null), alloc('198.51.100.8', 'B', s0, s1)));
    const w = { start: at('2026-03-28T10:00:00Z'), end: at('2026-03-28T10:00:01Z') };
    const [hits, before] = await s.allocations([
      { address: addr('198.51.100.7'), realm: null, window: w },
      { address: addr('198.51.100.7'), realm: null, window: { start: at('2019-01-01T00:00:00Z'), end: at('2020-01-01T00:00:00Z') } },
    ]);
    expect(hits!.map((h) => h.account)).toEqual(['A']);
    expect(before).toEqual([]);
  });

  test('a long closed record is found through the longest-duration bound', async () => {
    const s = store();
    s.write(
      records(
        alloc('198.51.100.7', 'A', '2026-01-01T00:00:00Z', '2026-06-01T00:00:00Z'),
        alloc('198.51.100.7', 'B', '2025-01-01T00:00:00Z', '2025-01-01T01:00:00Z'),
      ),
    );
    const [hits] = await s.allocations([{ address: addr('198.51.100.7'), realm: null, window: { start: at(s0), end: at(s1) } }]);
    expect(hits!.map((h) => h.account)).toEqual(['A']);
  });

  test('the longest record, ending 1 ms into the window, is still found (look-back bound is inclusive)', async () => {
    const s = store();
    s.write(
      records(
        alloc('198.51.100.7', 'LONGEST', '2026-03-28T09:00:00Z', '2026-03-28T10:00:00Z'),
        alloc('198.51.100.9', 'SHORT', '2026-03-28T09:00:00Z', '2026-03-28T09:00:01Z'),
      ),
    );
    const [hits] = await s.allocations([
      { address: addr('198.51.100.7'), realm: null, window: { start: at('2026-03-28T09:59:59.999Z'), end: at('2026-03-28T10:00:01Z') } },
    ]);
    expect(hits!.map((h) => h.account)).toEqual(['LONGEST']);
  });

  test('an address inside a delegated IPv6 prefix finds the prefix', async () => {
    const s = store();
    s.write(
      records(
        alloc('2001:db8:1234:5600::/56', 'PD', s0, s1),
        alloc('2001:db8:1234:5700::/56', 'OTHER', s0, s1),
        alloc('2001:db8:1234:5600::1', 'HOST', s0, s1),
      ),
    );
    const w = { start: at(s0), end: at(s1) };
    const [inside, host, outside] = await s.allocations([
      { address: addr('2001:db8:1234:56ff:ffff:ffff:ffff:ffff'), realm: null, window: w },
      { address: addr('2001:db8:1234:5600::1'), realm: null, window: w },
      { address: addr('2001:db8:1234:5800::1'), realm: null, window: w },
    ]);
    expect(inside!.map((h) => [h.account, h.ip.text])).toEqual([['PD', '2001:db8:1234:5600::/56']]);
    expect(host!.map((h) => h.account).sort()).toEqual(['HOST', 'PD']);
    expect(outside).toEqual([]);
  });

  test('realms are kept apart: the same inside address in two realms never mixes', async () => {
    const s = store();
    s.write(
      records(
        alloc('100.64.0.1', 'IN-A', s0, s1, { realm: 'cgn-a' }),
        alloc('100.64.0.1', 'IN-B', s0, s1, { realm: 'cgn-b' }),
        alloc('100.64.0.1', 'PUBLIC', s0, s1),
      ),
    );
    const w = { start: at(s0), end: at(s1) };
    const answers = await s.allocations([
      { address: addr('100.64.0.1'), realm: 'cgn-a', window: w },
      { address: addr('100.64.0.1'), realm: 'cgn-b', window: w },
      { address: addr('100.64.0.1'), realm: null, window: w },
      { address: addr('100.64.0.1'), realm: 'cgn-unknown', window: w },
    ]);
    expect(answers.map((hits) => hits.map((h) => h.account))).toEqual([['IN-A'], ['IN-B'], ['PUBLIC'], []]);
  });

  test('identifiers and inferred ends come back as written', async () => {
    const s = store();
    const [written] = records(
      alloc('100.64.0.1', 'M', s0, s1, { realm: 'cgn-a', imsi: '234150000000001', imei: '35693803564001', endInferred: true, sessionId: 'x1' }),
    );
    s.write([written!]);
    const [hits] = await s.allocations([{ address: addr('100.64.0.1'), realm: 'cgn-a', window: { start: at(s0), end: at(s1) } }]);
    const { id, ...rest } = hits![0]!;
    expect(rest).toEqual(written);
    expect(id).toContain('100.64.0.1');
  });
});

describe('store: port blocks and sessions', () => {
  const w = { start: at('2026-03-28T10:00:00Z'), end: at('2026-03-28T10:00:01Z') };

  test('the block holding a port, among mixed block sizes and layouts over time', async () => {
    const s = store();
    s.write(
      records(
        block('100.64.0.1', 1024, 1535, '2026-03-28T09:00:00Z', '2026-03-28T11:00:00Z'),
        block('100.64.0.2', 1536, 2047, '2026-03-28T09:00:00Z', '2026-03-28T11:00:00Z'),
        block('100.64.0.3', 1024, 1279, '2026-03-29T09:00:00Z', null), // a later layout with smaller blocks
        block('100.64.0.4', 1280, 1535, '2026-03-28T12:00:00Z', null),
      ),
    );
    const ask = (port: number | null) => s.natBlocks([{ outside: addr('203.0.113.7'), port, window: w }]).then(([h]) => h!.map((b) => b.insideIp.text).sort());
    expect(await ask(1300)).toEqual(['100.64.0.1']);
    expect(await ask(1535)).toEqual(['100.64.0.1']);
    expect(await ask(1536)).toEqual(['100.64.0.2']);
    expect(await ask(1023)).toEqual([]);
    expect(await ask(null)).toEqual(['100.64.0.1', '100.64.0.2']);
  });

  test('sessions on an outside address and port', async () => {
    const s = store();
    const session = (inside: string, dst: string, start: string, end: string | null) => ({
      kind: 'nat-session',
      realm: 'cgn-s',
      insideIp: inside,
      insidePort: 5000,
      outsideIp: '203.0.113.70',
      outsidePort: 40001,
      destinationIp: dst,
      destinationPort: 443,
      protocol: 'tcp',
      start,
      end,
    });
    s.write(
      records(
        session('100.64.1.1', '192.0.2.80', '2026-03-28T09:59:00Z', '2026-03-28T10:01:00Z'),
        session('100.64.1.2', '192.0.2.99', '2026-03-28T09:59:30Z', null),
        session('100.64.1.3', '192.0.2.80', '2026-03-28T11:00:00Z', null),
      ),
    );
    const [onPort] = await s.natSessions([{ outside: addr('203.0.113.70'), port: 40001, window: w }]);
    expect(onPort!.map((x) => [x.insideIp.text, x.destinationIp?.text]).sort()).toEqual([
      ['100.64.1.1', '192.0.2.80'],
      ['100.64.1.2', '192.0.2.99'],
    ]);
    const [otherPort] = await s.natSessions([{ outside: addr('203.0.113.70'), port: 40002, window: w }]);
    expect(otherPort).toEqual([]);
  });
});

describe('store: idempotence and updates', () => {
  test('writing the same records twice adds nothing', async () => {
    const s = store();
    const batch = records(
      { kind: 'address-space', prefix: '198.51.100.0/24', role: 'dynamic' },
      { kind: 'subscriber', account: 'A', type: 'residential' },
      alloc('198.51.100.7', 'A', '2026-03-28T10:00:00Z', null, { mac: '02:00:00:00:00:01' }),
      { kind: 'coverage', source: 'dhcp', start: '2026-03-28T10:00:00Z', end: '2026-03-28T11:00:00Z', status: 'gap' },
    );
    const first = s.write(batch);
    const countsAfterFirst = await s.counts();
    const second = s.write(batch);
    expect(Object.values(first.stored).reduce((a, b) => a + b, 0)).toBe(4);
    expect(second.stored).toEqual({});
    expect(await s.counts()).toEqual(countsAfterFirst);
  });

  test('a later export that closes an open record sets its end', async () => {
    const s = store();
    s.write(records(alloc('198.51.100.7', 'A', '2026-03-28T10:00:00Z', null)));
    s.write(records(alloc('198.51.100.7', 'A', '2026-03-28T10:00:00Z', '2026-03-28T11:00:00Z')));
    const [hits] = await s.allocations([
      { address: addr('198.51.100.7'), realm: null, window: { start: at('2026-03-28T12:00:00Z'), end: at('2026-03-28T13:00:00Z') } },
    ]);
    expect(hits).toEqual([]);
    expect((await s.counts()).allocation).toBe(1);
  });

  test('a reopened file sees what was written, read-only', async () => {
    const { store: s, file } = freshStore();
    s.write(records({ kind: 'address-space', prefix: '203.0.113.0/26', role: 'cgnat-outside', realm: 'cgn-a' }));
    s.close();
    const ro = openSqliteStore(file, { readonly: true });
    open.push(ro);
    const [cls, none] = await ro.classify([addr('203.0.113.7'), addr('192.0.2.1')]);
    expect(cls).toMatchObject({ role: 'cgnat-outside', realm: 'cgn-a', prefix: { text: '203.0.113.0/26' } });
    expect(none).toBeNull();
    expect(() => ro.write([])).toThrow(/read-only/);
  });

  test('the most specific address-space prefix wins', async () => {
    const s = store();
    s.write(
      records({ kind: 'address-space', prefix: '198.51.100.0/24', role: 'dynamic' }, { kind: 'address-space', prefix: '198.51.100.240/28', role: 'server' }),
    );
    const [a, b] = await s.classify([addr('198.51.100.241'), addr('198.51.100.7')]);
    expect([a?.role, b?.role]).toEqual(['server', 'dynamic']);
  });
});

describe('store: every lookup goes through an index, never a table scan', () => {
  const expected: Record<string, RegExp> = {
    classify: /SEARCH address_space USING PRIMARY KEY \(addr=\? AND plen=\?\)/,
    allocationsClosed: /SEARCH allocation USING PRIMARY KEY \(realm=\? AND addr=\? AND plen=\? AND start>\? AND start<\?\)/,
    allocationsOpen: /SEARCH allocation USING INDEX allocation_open \(realm=\? AND addr=\? AND plen=\? AND start<\?\)/,
    blockFirstPort: /SEARCH nat_block USING PRIMARY KEY \(out_addr=\? AND port_first>\? AND port_first<\?\)/,
    blocksClosed: /SEARCH nat_block USING PRIMARY KEY \(out_addr=\? AND port_first=\? AND start>\? AND start<\?\)/,
    blocksOpen: /SEARCH nat_block USING INDEX nat_block_open \(out_addr=\? AND port_first=\? AND start<\?\)/,
    blockNextFirstPort: /SEARCH nat_block USING PRIMARY KEY \(out_addr=\? AND port_first>\?\)/,
    blocksOnAddressOpen: /SEARCH nat_block USING INDEX nat_block_open \(out_addr=\?\)/,
    sessionsClosed: /SEARCH nat_session USING PRIMARY KEY \(out_addr=\? AND out_port=\? AND start>\? AND start<\?\)/,
    sessionsOpen: /SEARCH nat_session USING INDEX nat_session_open \(out_addr=\? AND out_port=\? AND start<\?\)/,
    sessionsOnAddressClosed: /SEARCH nat_session USING INDEX nat_session_by_start \(out_addr=\? AND start>\? AND start<\?\)/,
    sessionsOnAddressOpen: /SEARCH nat_session USING INDEX nat_session_open \(out_addr=\?\)/,
    deterministic: /SEARCH nat_deterministic USING PRIMARY KEY \(out_addr=\? AND plen=\? AND start<\?\)/,
    coverageOfSource: /SEARCH coverage USING PRIMARY KEY \(source=\? AND start<\?\)/,
    // Coverage gaps are declared, not logged: a handful of rows, read whole on purpose.
    coverageAny: /SCAN coverage/,
    // Connection evidence (issue 19): by destination and start, by source, by account; sessions by destination and inside address.
    connectionFirstDestination: /SEARCH connection USING PRIMARY KEY \(dst_addr>\? AND dst_addr<\?\)/,
    connectionNextDestination: /SEARCH connection USING PRIMARY KEY \(dst_addr>\? AND dst_addr<\?\)/,
    connectionsTo: /SEARCH connection USING PRIMARY KEY \(dst_addr=\? AND start>\? AND start<\?\)/,
    connectionsFromSource: /SEARCH connection USING INDEX connection_by_source \(realm=\? AND src_addr=\? AND start>\? AND start<\?\)/,
    connectionsOfAccount: /SEARCH connection USING INDEX connection_by_account \(account=\? AND start>\? AND start<\?\)/,
    sessionFirstDestination: /SEARCH nat_session USING COVERING INDEX nat_session_by_destination \(dst_addr>\? AND dst_addr<\?\)/,
    sessionNextDestination: /SEARCH nat_session USING COVERING INDEX nat_session_by_destination \(dst_addr>\? AND dst_addr<\?\)/,
    sessionsToClosed: /SEARCH nat_session USING INDEX nat_session_by_destination \(dst_addr=\? AND start>\? AND start<\?\)/,
    sessionsToOpen: /SEARCH nat_session USING INDEX nat_session_destination_open \(dst_addr=\? AND start<\?\)/,
    sessionsFromClosed: /SEARCH nat_session USING INDEX nat_session_by_inside \(realm=\? AND in_addr=\? AND start>\? AND start<\?\)/,
    sessionsFromOpen: /SEARCH nat_session USING INDEX nat_session_inside_open \(realm=\? AND in_addr=\? AND start<\?\)/,
    // Many keys in one statement: the list is scanned, each key sought in the primary key.
    blocksOnAddressClosed: /SEARCH nat_block USING PRIMARY KEY \(out_addr=\? AND port_first=\? AND start>\? AND start<\?\)/,
    allocationsOfHostsClosed: /SEARCH allocation USING PRIMARY KEY \(realm=\? AND addr=\? AND plen=\? AND start>\? AND start<\?\)/,
    allocationsOfHostsOpen: /SEARCH allocation USING INDEX allocation_open \(realm=\? AND addr=\? AND plen=\? AND start<\?\)/,
  };
  test.each(Object.entries(expected))('%s', (name, plan) => {
    const s = store();
    const plans = s.lookupPlans() as Record<string, string[]>;
    expect(plans[name]!.join(' | ')).toMatch(plan);
    // The key lists (json_each) are scanned; the tables never.
    if (name !== 'coverageAny') expect(plans[name]!.join(' | ')).not.toMatch(/\bSCAN (?!json_each)/);
  });
  test('every lookup has an expected plan', () => {
    expect(Object.keys(store().lookupPlans()).sort()).toEqual(Object.keys(expected).sort());
  });
});

describe('store: many hosts of one realm and window in one statement (issue 22)', () => {
  // Inside hosts 100.64.0.0–15 in realm cgn-a: closed and open allocations, some long, some
  // outside the window; a /30 prefix allocation too (answered for each host it holds).
  const hour = 3_600_000;
  const base = at('2026-03-28T00:00:00Z');
  const iso = (ms: number) => new Date(ms).toISOString();
  const arbRows = fc.array(
    fc.record({
      host: fc.integer({ min: 0, max: 15 }),
      start: fc.integer({ min: 0, max: 48 }),
      hours: fc.option(fc.integer({ min: 1, max: 30 }), { nil: null }),
    }),
    { minLength: 1, maxLength: 40 },
  );
  test('law: the answer for each host is the answer it gets asked alone; under a row limit, min(n, limit + 1) rows in all', async () => {
    await fc.assert(
      fc.asyncProperty(arbRows, fc.integer({ min: 0, max: 48 }), fc.integer({ min: 0, max: 60 }), async (rows, from, limit) => {
        const s = store();
        s.write(
          records(
            { kind: 'allocation', account: 'P', ip: '100.64.0.4/30', realm: 'cgn-a', start: iso(base), end: iso(base + 20 * hour), source: 'radius' },
            ...rows.map((r, k) =>
              alloc(`100.64.0.${r.host}`, `A${k}`, iso(base + r.start * hour + k), r.hours === null ? null : iso(base + (r.start + r.hours) * hour), {
                realm: 'cgn-a',
              }),
            ),
          ),
        );
        const window = { start: base + from * hour, end: base + (from + 2) * hour };
        const hosts = Array.from({ length: 16 }, (_, h) => ({ address: addr(`100.64.0.${h}`), realm: 'cgn-a', window }));
        const together = await s.allocations(hosts);
        const alone = await Promise.all(hosts.map(async (q) => (await s.allocations([q]))[0]!));
        expect(together).toEqual(alone);
        const rowLimit = { limit };
        const limited = await s.allocations(hosts.map((q) => ({ ...q, rows: rowLimit })));
        const n = alone.reduce((a, r) => a + r.length, 0);
        expect(limited.reduce((a, r) => a + r.length, 0)).toBe(Math.min(n, limit + 1));
      }),
      propertyRun('allocations of many hosts together = each alone', 60),
    );
  });
});
