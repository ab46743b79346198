/**
 * One contract, two backends: records in, queries out, the same expected results from
 * the SQLite store (a fresh file per test) and the ClickHouse store (a fresh database
 * per test on the two shards of IPAR_CLICKHOUSE_URL). Without a reachable ClickHouse the
 * second backend's tests are skipped and stderr says so; with CI=true they fail.
 */
import { afterEach, describe, expect, test } from 'vitest';
import type { Store } from '../../src/store/open.js';
import type { AllocationQuery, NatQuery, StoreReader } from '../../src/store/types.js';
import { clickhouseUnderTest, freshClickHouseStore, reportUnreachable, addr, at, freshStore, records, backendsUnder, alloc, block } from '../support/index.js';

const clickhouse = await clickhouseUnderTest();
reportUnreachable(clickhouse, 'the store contract on ClickHouse');

const backends = backendsUnder(clickhouse);

const session = (inside: string, dst: string | null, start: string, end: string | null, extra: object = {}) => ({
  kind: 'nat-session',
  realm: 'cgn-s',
  insideIp: inside,
  insidePort: 5000,
  outsideIp: '203.0.113.70',
  outsidePort: 40001,
  ...(dst === null ? {} : { destinationIp: dst, destinationPort: 443 }),
  protocol: 'tcp',
  start,
  end,
  ...extra,
});
const win = (from: string, to: string) => ({ start: at(from), end: at(to) });
const T = (hms: string) => `2026-03-28T${hms}Z`;

describe.each(backends)('store contract: $name', (backend) => {
  const it = backend.available ? test : test.skip;
  let cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups) await c();
    cleanups = [];
  });
  const store = (): Store => {
    const { store, done } = backend.open();
    cleanups.push(done);
    return store;
  };
  const accounts = (hits: readonly (readonly { account: string }[])[]) => hits.map((h) => h.map((a) => a.account));

  describe('allocations overlapping a window', () => {
    it('half-open intervals, every edge in one batch (one answer per query, in order)', async () => {
      const s = store();
      await s.write(records(alloc('198.51.100.7', 'A', T('10:00:00'), T('11:00:00'))));
      const cases: [string, string, boolean][] = [
        [T('09:00:00'), T('10:00:00'), false], // window ends at the record start (end exclusive)
        [T('09:00:00'), '2026-03-28T10:00:00.001Z', true],
        [T('11:00:00'), T('12:00:00'), false], // window starts at the record end
        ['2026-03-28T10:59:59.999Z', T('12:00:00'), true],
        [T('10:10:00'), T('10:20:00'), true],
        [T('09:00:00'), T('12:00:00'), true],
      ];
      const hits = await s.allocations(cases.map(([from, to]) => ({ address: addr('198.51.100.7'), realm: null, window: win(from, to) })));
      expect(hits.map((h) => h.length > 0)).toEqual(cases.map((c) => c[2]));
    });

    it('an open record covers every window after its start, however long ago', async () => {
      const s = store();
      await s.write(records(alloc('198.51.100.7', 'A', '2020-01-01T00:00:00Z', null), alloc('198.51.100.8', 'B', T('10:00:00'), T('11:00:00'))));
      const hits = await s.allocations([
        { address: addr('198.51.100.7'), realm: null, window: win(T('10:00:00'), T('10:00:01')) },
        { address: addr('198.51.100.7'), realm: null, window: win('2019-01-01T00:00:00Z', '2020-01-01T00:00:00Z') },
        { address: addr('198.51.100.8'), realm: null, window: win(T('10:30:00'), T('10:30:01')) },
      ]);
      expect(accounts(hits)).toEqual([['A'], [], ['B']]);
      expect(hits[0]![0]!.end).toBeNull();
    });

    it('a long closed record is found through the longest-duration bound', async () => {
      const s = store();
      await s.write(
        records(
          alloc('198.51.100.7', 'A', '2026-01-01T00:00:00Z', '2026-06-01T00:00:00Z'),
          alloc('198.51.100.7', 'B', '2025-01-01T00:00:00Z', '2025-01-01T01:00:00Z'),
        ),
      );
      expect(accounts(await s.allocations([{ address: addr('198.51.100.7'), realm: null, window: win(T('10:00:00'), T('11:00:00')) }]))).toEqual([['A']]);
    });

    it('the longest record, ending 1 ms into the window, is still found (look-back bound is inclusive)', async () => {
      const s = store();
      await s.write(records(alloc('198.51.100.7', 'LONGEST', T('09:00:00'), T('10:00:00')), alloc('198.51.100.9', 'SHORT', T('09:00:00'), T('09:00:01'))));
      expect(accounts(await s.allocations([{ address: addr('198.51.100.7'), realm: null, window: win('2026-03-28T09:59:59.999Z', T('10:00:01')) }]))).toEqual([
        ['LONGEST'],
      ]);
    });

    it('an address inside a delegated IPv6 prefix finds the prefix', async () => {
      const s = store();
      const [a, b] = [T('10:00:00'), T('11:00:00')];
      await s.write(
        records(alloc('2001:db8:1234:5600::/56', 'PD', a, b), alloc('2001:db8:1234:5700::/56', 'OTHER', a, b), alloc('2001:db8:1234:5600::1', 'HOST', a, b)),
      );
      const w = win(a, b);
      const [inside, host, outside] = await s.allocations([
        { address: addr('2001:db8:1234:56ff:ffff:ffff:ffff:ffff'), realm: null, window: w },
        { address: addr('2001:db8:1234:5600::1'), realm: null, window: w },
        { address: addr('2001:db8:1234:5800::1'), realm: null, window: w },
      ]);
      expect(inside!.map((h) => [h.account, h.ip.text])).toEqual([['PD', '2001:db8:1234:5600::/56']]);
      expect(host!.map((h) => h.account)).toEqual(['HOST', 'PD']); // most specific prefix first
      expect(outside).toEqual([]);
    });

    it('a batch out of key order is answered in input order (the store may visit it sorted)', async () => {
      const s = store();
      const [a, b] = [T('10:00:00'), T('11:00:00')];
      const addresses = ['203.0.113.9', '2001:db8::9', '198.51.100.200', '2001:db8::1', '198.51.100.3', '203.0.113.9'];
      await s.write(records(...[...new Set(addresses)].map((ip) => alloc(ip, `ACC-${ip}`, a, b))));
      const answers = await s.allocations(addresses.map((ip) => ({ address: addr(ip), realm: null, window: win(a, b) })));
      expect(accounts(answers)).toEqual(addresses.map((ip) => [`ACC-${ip}`]));
    });

    it('realms are kept apart: the same inside address in two realms never mixes', async () => {
      const s = store();
      const [a, b] = [T('10:00:00'), T('11:00:00')];
      await s.write(
        records(
          alloc('100.64.0.1', 'IN-A', a, b, { realm: 'cgn-a' }),
          alloc('100.64.0.1', 'IN-B', a, b, { realm: 'cgn-b' }),
          alloc('100.64.0.1', 'PUBLIC', a, b),
        ),
      );
      const w = win(a, b);
      const answers = await s.allocations(['cgn-a', 'cgn-b', null, 'cgn-unknown'].map((realm) => ({ address: addr('100.64.0.1'), realm, window: w })));
      expect(accounts(answers)).toEqual([['IN-A'], ['IN-B'], ['PUBLIC'], []]);
    });

    it('identifiers and inferred ends come back as written, with an id from the natural key', async () => {
      const s = store();
      const [written] = records(
        alloc('100.64.0.1', 'M', T('10:00:00'), T('11:00:00'), {
          realm: 'cgn-a',
          imsi: '234150000000001',
          imei: '35693803564001',
          msisdn: '447700900001',
          mac: '02:00:5e:10:00:01',
          endInferred: true,
          sessionId: 'x1',
        }),
      );
      await s.write([written!]);
      const [hits] = await s.allocations([{ address: addr('100.64.0.1'), realm: 'cgn-a', window: win(T('10:00:00'), T('11:00:00')) }]);
      const { id, ...rest } = hits![0]!;
      expect(rest).toEqual(written);
      expect(id).toBe(`allocation:cgn-a:100.64.0.1:${at(T('10:00:00'))}:M`);
    });
  });

  describe('port blocks and sessions', () => {
    const w = win(T('10:00:00'), T('10:00:01'));

    it('the block holding a port, among mixed block sizes and layouts over time', async () => {
      const s = store();
      await s.write(
        records(
          block('100.64.0.1', 1024, 1535, T('09:00:00'), T('11:00:00')),
          block('100.64.0.2', 1536, 2047, T('09:00:00'), T('11:00:00'), { protocol: 'udp' }),
          block('100.64.0.3', 1024, 1279, '2026-03-29T09:00:00Z', null), // a later layout with smaller blocks
          block('100.64.0.4', 1280, 1535, T('12:00:00'), null),
          block('100.64.0.5', 1024, 1279, T('08:00:00'), null, { endInferred: true }),
        ),
      );
      const ports = [1300, 1535, 1536, 1023, 1100, null];
      const hits = await s.natBlocks(ports.map((port) => ({ outside: addr('203.0.113.7'), port, window: w })));
      expect(hits.map((h) => h.map((b) => b.insideIp.text))).toEqual([
        ['100.64.0.1'],
        ['100.64.0.1'],
        ['100.64.0.2'],
        [],
        ['100.64.0.1', '100.64.0.5'],
        ['100.64.0.1', '100.64.0.2', '100.64.0.5'],
      ]);
      const udp = hits[2]![0]!;
      expect(udp).toMatchObject({ protocol: 'udp', portFirst: 1536, portLast: 2047, realm: 'cgn-a' });
      expect(udp.id).toBe(`nat-block:cgn-a:203.0.113.7:1536:${at(T('09:00:00'))}:100.64.0.2:udp`);
      expect(hits[4]![1]).toMatchObject({ end: null, endInferred: true });
    });

    it('sessions on an outside address and port, and on the address alone', async () => {
      const s = store();
      await s.write(
        records(
          session('100.64.1.1', '192.0.2.80', T('09:59:00'), T('10:01:00')),
          session('100.64.1.2', '192.0.2.99', T('09:59:30'), null),
          session('100.64.1.3', '192.0.2.80', T('11:00:00'), null),
          session('100.64.1.4', null, T('09:59:59'), T('10:00:30'), { outsidePort: 40002, protocol: 'udp' }),
        ),
      );
      const [onPort, otherPort, anyPort, later] = await s.natSessions([
        { outside: addr('203.0.113.70'), port: 40001, window: w },
        { outside: addr('203.0.113.70'), port: 40003, window: w },
        { outside: addr('203.0.113.70'), port: null, window: w },
        { outside: addr('203.0.113.70'), port: 40001, window: win(T('12:00:00'), T('12:00:01')) },
      ]);
      expect(onPort!.map((x) => [x.insideIp.text, x.destinationIp?.text])).toEqual([
        ['100.64.1.1', '192.0.2.80'],
        ['100.64.1.2', '192.0.2.99'],
      ]);
      expect(otherPort).toEqual([]);
      expect(anyPort!.map((x) => x.insideIp.text)).toEqual(['100.64.1.1', '100.64.1.4', '100.64.1.2']);
      const noDst = anyPort![1]!;
      expect(noDst.destinationIp).toBeUndefined();
      expect(noDst.destinationPort).toBeUndefined();
      expect(noDst.id).toBe(`nat-session:cgn-s:203.0.113.70:40002:udp:${at(T('09:59:59'))}:100.64.1.4:5000::-1`);
      expect(later!.map((x) => x.insideIp.text)).toEqual(['100.64.1.2', '100.64.1.3']);
    });
  });

  describe('the canonical order of an answer (src/store/core/order.ts)', () => {
    const w = win(T('10:00:00'), T('10:00:05'));

    it('records that tie on all but a name come back in name order, whatever was written first', async () => {
      const s = store();
      await s.write(
        records(
          alloc('198.51.100.9', 'ZED', T('09:00:00'), T('11:00:00')),
          alloc('198.51.100.9', 'ALPHA', T('09:00:00'), T('11:00:00')),
          block('100.64.9.1', 1024, 1535, T('09:00:00'), T('11:00:00'), { realm: 'cgn-z' }),
          block('100.64.9.1', 1024, 1535, T('09:00:00'), T('11:00:00'), { realm: 'cgn-b' }),
          { kind: 'coverage', source: 'radius', start: T('09:00:00'), end: null, status: 'gap' },
          { kind: 'coverage', source: 'cgn-a', start: T('09:30:00'), end: null, status: 'gap' },
        ),
      );
      const [allocations] = await s.allocations([{ address: addr('198.51.100.9'), realm: null, window: w }]);
      const [blocks] = await s.natBlocks([{ outside: addr('203.0.113.7'), port: null, window: w }]);
      const [gaps] = await s.coverageGaps([{ source: null, window: w }]);
      expect([allocations!.map((a) => a.account), blocks!.map((b) => b.realm), gaps!.map((g) => g.source)]).toEqual([
        ['ALPHA', 'ZED'],
        ['cgn-b', 'cgn-z'],
        ['cgn-a', 'radius'],
      ]);
    });

    it('sessions on an address alone: closed ones by start then port, then open ones by port then start', async () => {
      const s = store();
      await s.write(
        records(
          session('100.64.9.1', null, T('10:00:01'), T('10:01:00'), { outsidePort: 40001 }),
          session('100.64.9.2', null, T('10:00:00'), T('10:01:00'), { outsidePort: 40002 }),
          session('100.64.9.3', null, T('09:00:00'), null, { outsidePort: 40002 }),
          session('100.64.9.4', null, T('09:30:00'), null, { outsidePort: 40001 }),
        ),
      );
      const [sessions] = await s.natSessions([{ outside: addr('203.0.113.70'), port: null, window: w }]);
      expect(sessions!.map((x) => x.insideIp.text)).toEqual(['100.64.9.2', '100.64.9.1', '100.64.9.4', '100.64.9.3']);
    });

    it('port blocks for a port: first ports from the highest down, each closed then open', async () => {
      const s = store();
      await s.write(
        records(
          block('100.64.9.1', 1024, 2047, T('09:00:00'), null),
          block('100.64.9.2', 1024, 2047, T('08:00:00'), T('11:00:00')),
          block('100.64.9.3', 1536, 2047, T('09:30:00'), T('11:00:00')),
          block('100.64.9.4', 1536, 2047, T('07:00:00'), null),
        ),
      );
      const [blocks] = await s.natBlocks([{ outside: addr('203.0.113.7'), port: 1600, window: w }]);
      expect(blocks!.map((b) => b.insideIp.text)).toEqual(['100.64.9.3', '100.64.9.4', '100.64.9.2', '100.64.9.1']);
    });
  });

  describe('deterministic NAT, coverage gaps, subscribers, address space', () => {
    it('a deterministic configuration is found by any address of its outside prefix while it holds', async () => {
      const s = store();
      const det = {
        kind: 'nat-deterministic',
        realm: 'cgn-d',
        insidePrefix: '100.65.0.0/24',
        outsidePrefix: '203.0.113.128/30',
        portFirst: 1024,
        portLast: 65535,
        algorithm: 'vpp-det44',
      };
      await s.write(
        records({ ...det, start: '2026-01-01T00:00:00Z', end: '2026-03-01T00:00:00Z' }, { ...det, realm: 'cgn-e', start: '2026-03-01T00:00:00Z', end: null }),
      );
      const [now, before, outside] = await s.natDeterministic([
        { outside: addr('203.0.113.130'), window: win(T('10:00:00'), T('10:00:01')) },
        { outside: addr('203.0.113.128'), window: win('2026-02-01T00:00:00Z', '2026-02-01T00:00:01Z') },
        { outside: addr('203.0.113.132'), window: win(T('10:00:00'), T('10:00:01')) },
      ]);
      expect(now!.map((d) => [d.realm, d.end, d.id])).toEqual([['cgn-e', null, `nat-deterministic:cgn-e:203.0.113.128/30:${at('2026-03-01T00:00:00Z')}`]]);
      expect(before!.map((d) => d.realm)).toEqual(['cgn-d']);
      expect(outside).toEqual([]);
      expect(now![0]).toMatchObject({ algorithm: 'vpp-det44', portFirst: 1024, insidePrefix: { text: '100.65.0.0/24' } });
    });

    it('coverage gaps of one source or of any, overlapping the window; a later end replaces the earlier', async () => {
      const s = store();
      await s.write(
        records(
          { kind: 'coverage', source: 'dhcp', start: T('10:00:00'), end: T('11:00:00'), status: 'gap' },
          { kind: 'coverage', source: 'cgn-a', start: T('10:30:00'), end: null, status: 'gap' },
        ),
      );
      await s.write(records({ kind: 'coverage', source: 'dhcp', start: T('10:00:00'), end: T('10:20:00'), status: 'gap' }));
      const [dhcp, any, none, late] = await s.coverageGaps([
        { source: 'dhcp', window: win(T('10:10:00'), T('10:40:00')) },
        { source: null, window: win(T('10:10:00'), T('10:40:00')) },
        { source: 'radius', window: win(T('10:10:00'), T('10:40:00')) },
        { source: 'dhcp', window: win(T('10:30:00'), T('10:40:00')) },
      ]);
      expect(dhcp!.map((g) => [g.source, g.end, g.id])).toEqual([['dhcp', at(T('10:20:00')), `coverage:dhcp:${at(T('10:00:00'))}`]]);
      expect(any!.map((g) => g.source)).toEqual(['cgn-a', 'dhcp']); // canonical order: by source name, whatever was written first
      expect(none).toEqual([]);
      expect(late).toEqual([]);
    });

    it('subscriber types: the latest type of each account that has a subscriber record', async () => {
      const s = store();
      await s.write(
        records(
          { kind: 'subscriber', account: 'A', type: 'residential' },
          { kind: 'subscriber', account: 'B', type: 'public-wifi' },
          alloc('198.51.100.7', 'C', T('10:00:00'), null),
        ),
      );
      await s.write(records({ kind: 'subscriber', account: 'A', type: 'business' }));
      const types = await s.subscriberTypes(['A', 'B', 'C', 'A', 'nobody']);
      expect(Object.fromEntries(types)).toEqual({ A: 'business', B: 'public-wifi' });
      expect(await s.subscriberTypes([])).toEqual(new Map());
    });

    it('classification follows writes on the same connection (nothing stale is kept)', async () => {
      const s = store();
      expect(await s.classify([addr('198.51.100.7')])).toEqual([null]);
      await s.write(records({ kind: 'address-space', prefix: '198.51.100.0/24', role: 'dynamic' }));
      expect((await s.classify([addr('198.51.100.7')]))[0]?.role).toBe('dynamic');
      await s.write(records({ kind: 'address-space', prefix: '198.51.100.0/24', role: 'static' }));
      expect((await s.classify([addr('198.51.100.7'), addr('198.51.100.7')])).map((c) => c?.role)).toEqual(['static', 'static']);
    });

    it('the most specific address-space prefix wins; a re-declared role replaces the old one', async () => {
      const s = store();
      await s.write(
        records(
          { kind: 'address-space', prefix: '198.51.100.0/24', role: 'dynamic' },
          { kind: 'address-space', prefix: '198.51.100.240/28', role: 'server' },
          { kind: 'address-space', prefix: '203.0.113.0/26', role: 'cgnat-outside', realm: 'cgn-a' },
          { kind: 'address-space', prefix: '2001:db8:1000::/36', role: 'dynamic' },
        ),
      );
      const summary = await s.write(records({ kind: 'address-space', prefix: '198.51.100.240/28', role: 'infrastructure' }));
      expect(summary.stored).toEqual({ 'address-space': 1 });
      const got = await s.classify([
        addr('198.51.100.241'),
        addr('198.51.100.7'),
        addr('203.0.113.7'),
        addr('192.0.2.1'),
        addr('2001:db8:1fff::1'),
        addr('::ffff:198.51.100.7'),
      ]);
      expect(got.map((c) => (c === null ? null : [c.role, c.realm ?? null, c.prefix.text]))).toEqual([
        ['infrastructure', null, '198.51.100.240/28'],
        ['dynamic', null, '198.51.100.0/24'],
        ['cgnat-outside', 'cgn-a', '203.0.113.0/26'],
        null,
        ['dynamic', null, '2001:db8:1000::/36'],
        ['dynamic', null, '198.51.100.0/24'], // an IPv4-mapped address is the IPv4 address (one key form)
      ]);
    });
  });

  describe('row limits: queries sharing a RowLimit get exactly min(n, limit + 1) rows together', () => {
    // 203.0.113.7: ten closed blocks (ports 1024…, an hour each) and two open ones;
    // 203.0.113.70: six closed sessions and one open; 198.51.100.7: five allocations.
    const history = () =>
      records(
        ...Array.from({ length: 10 }, (_, i) => block(`100.64.0.${i + 1}`, 1024 + 512 * i, 1535 + 512 * i, T('08:00:00'), T('09:00:00'))),
        block('100.64.0.50', 1024, 1535, T('09:00:00'), null),
        block('100.64.0.51', 1536, 2047, T('09:00:00'), null),
        ...Array.from({ length: 6 }, (_, i) => session(`100.64.1.${i + 1}`, '192.0.2.80', T(`0${i}:00:00`), T(`0${i}:30:00`))),
        session('100.64.1.9', null, T('07:00:00'), null),
        ...Array.from({ length: 5 }, (_, i) => alloc('198.51.100.7', `A${i}`, T(`0${i}:00:00`), T(`0${i}:30:00`))),
      );
    const day = win(T('00:00:00'), T('23:00:00'));
    const total = (answers: readonly (readonly unknown[])[]) => answers.reduce((n, a) => n + a.length, 0);

    it('blocks on an address without a port: every row within the limit, limit + 1 past it', async () => {
      const s = store();
      await s.write(history());
      const q = (limit: number): NatQuery => ({ outside: addr('203.0.113.7'), port: null, window: day, rows: { limit } });
      expect(total(await s.natBlocks([q(12)]))).toBe(12);
      expect(total(await s.natBlocks([q(100)]))).toBe(12);
      expect(total(await s.natBlocks([q(4)]))).toBe(5);
      expect(total(await s.natBlocks([q(0)]))).toBe(1);
      // Without a limit, as before.
      expect(total(await s.natBlocks([{ outside: addr('203.0.113.7'), port: null, window: day }]))).toBe(12);
    });

    it('one limit shared by several queries counts them together; another limit is its own', async () => {
      const s = store();
      await s.write(history());
      const shared = { limit: 15 };
      const mine = { limit: 100 };
      const q = (rows: { limit: number }): NatQuery => ({ outside: addr('203.0.113.7'), port: null, window: day, rows });
      const answers = await s.natBlocks([q(shared), q(shared), q(mine)]);
      expect(answers[0]!.length + answers[1]!.length).toBe(16);
      expect(answers[2]!.length).toBe(12);
    });

    it('sessions, allocations and deterministic NAT honour the limit too', async () => {
      const s = store();
      await s.write(history());
      const sessions = (limit: number) => s.natSessions([{ outside: addr('203.0.113.70'), port: null, window: day, rows: { limit } }]);
      expect(total(await sessions(3))).toBe(4);
      expect(total(await sessions(7))).toBe(7);
      const withPort = { limit: 2 };
      expect(total(await s.natSessions([{ outside: addr('203.0.113.70'), port: 40001, window: day, rows: withPort }]))).toBe(3);
      const allocations = (limit: number) => s.allocations([{ address: addr('198.51.100.7'), realm: null, window: day, rows: { limit } }]);
      expect(total(await allocations(2))).toBe(3);
      expect(total(await allocations(5))).toBe(5);
      expect(total(await s.natDeterministic([{ outside: addr('203.0.113.7'), window: day, rows: { limit: 0 } }]))).toBe(0);
    });

    it('a port given: blocks ending below the port do not use up the limit', async () => {
      const s = store();
      await s.write(history());
      // Port 1300 is held by the closed block of 100.64.0.1 and the open one of 100.64.0.50.
      const answer = async (limit: number) => (await s.natBlocks([{ outside: addr('203.0.113.7'), port: 1300, window: day, rows: { limit } }]))[0]!;
      expect((await answer(2)).map((b) => b.insideIp.text).sort()).toEqual(['100.64.0.1', '100.64.0.50']);
      expect((await answer(1)).length).toBe(2);
      expect((await answer(0)).length).toBe(1);
    });
  });

  // Connection evidence (issue 19).
  describe('connection evidence: by destination, by source and account, sessions with a destination', () => {
    const conn = (extra: object) => ({
      kind: 'connection',
      sourceIp: '198.51.100.7',
      destinationIp: '192.0.2.80',
      destinationPort: 443,
      protocol: 'tcp',
      start: T('10:00:00'),
      end: T('10:05:00'),
      ...extra,
    });
    const ids = (hits: readonly (readonly { id: string }[])[]) => hits.map((h) => h.map((r) => r.id));

    it('connections to an address or a prefix overlapping a window (half-open), in canonical order; from an account or a source', async () => {
      const s = store();
      const batch = records(
        conn({ account: 'A', sourcePort: 1, start: T('10:00:00'), end: T('10:05:00'), service: 'x', bytesUp: 1, bytesDown: 2 }),
        conn({ account: 'A', sourcePort: 2, start: T('09:00:00'), end: T('10:00:00') }),
        conn({ sourcePort: 3, destinationIp: '192.0.2.81', start: T('10:01:00'), end: T('10:02:00') }),
        conn({ account: 'B', sourceIp: '100.64.0.9', realm: 'cgn-s', sourcePort: 4, destinationIp: '2001:db8::80', start: T('10:03:00'), end: T('10:04:00') }),
      );
      expect((await s.write(batch)).stored).toEqual({ connection: 4 });
      expect((await s.write(batch)).unchanged).toEqual({ connection: 4 });
      const w = win(T('10:00:00'), T('11:00:00'));
      const to = await s.connectionsTo([
        { destination: addr('192.0.2.80'), window: w },
        { destination: addr('192.0.2.80/31'), window: w },
        { destination: addr('192.0.2.80'), window: win(T('09:59:59'), T('10:00:00')) },
        { destination: addr('2001:db8::/64'), window: w },
        { destination: addr('192.0.2.82'), window: w },
      ]);
      expect(to.map((h) => h.map((r) => r.sourcePort))).toEqual([[1], [1, 3], [2], [4], []]);
      expect(to[0]![0]).toMatchObject({ kind: 'connection', account: 'A', service: 'x', bytesUp: 1, bytesDown: 2, destinationPort: 443, protocol: 'tcp' });
      expect(to[1]![1]).not.toHaveProperty('account');
      const from = await s.connectionsFrom([
        { account: 'A', window: win(T('09:00:00'), T('11:00:00')) },
        { source: addr('198.51.100.7'), realm: null, window: w },
        { source: addr('100.64.0.9'), realm: 'cgn-s', window: w },
        { source: addr('100.64.0.9'), realm: null, window: w },
        { account: 'NOBODY', window: w },
      ]);
      expect(from.map((h) => h.map((r) => r.sourcePort))).toEqual([[2, 1], [1, 3], [4], [], []]);
      expect((await s.counts()).connection).toBe(4);
      expect((await s.settings()).longestRecordMs).toBe(3_600_000);
    });

    it('sessions by destination (closed and open) and by inside address; realms whose records carry no destination', async () => {
      const s = store();
      await s.write(
        records(
          session('100.64.1.1', '192.0.2.80', T('09:59:00'), T('10:01:00')),
          session('100.64.1.2', '192.0.2.80', T('08:00:00'), null, { outsidePort: 40002 }),
          session('100.64.1.3', null, T('09:59:00'), T('10:01:00'), { outsidePort: 40003 }),
          block('100.64.0.1', 1024, 1535, T('09:00:00'), T('11:00:00')),
        ),
      );
      const w = win(T('10:00:00'), T('11:00:00'));
      const to = await s.natSessionsTo([
        { destination: addr('192.0.2.80'), window: w },
        { destination: addr('192.0.2.0/24'), window: w },
        { destination: addr('192.0.2.80'), window: win(T('07:00:00'), T('08:00:00')) },
      ]);
      expect(to.map((h) => h.map((r) => r.insideIp.text))).toEqual([['100.64.1.2', '100.64.1.1'], ['100.64.1.2', '100.64.1.1'], []]);
      const from = await s.natSessionsFrom([
        { source: addr('100.64.1.2'), realm: 'cgn-s', window: w },
        { source: addr('100.64.1.3'), realm: 'cgn-s', window: w },
        { source: addr('100.64.1.2'), realm: 'cgn-a', window: w },
      ]);
      expect(ids(from).map((h) => h.length)).toEqual([1, 1, 0]);
      expect((await s.settings()).realmsWithoutDestination).toEqual(['cgn-a', 'cgn-s']);
    });

    it('purge removes closed connections (SQLite: each record; ClickHouse: the day partitions that ended before the horizon)', async () => {
      const s = store();
      await s.write(
        records(
          conn({ account: 'A', sourcePort: 1, start: T('09:00:00'), end: T('09:30:00') }),
          conn({ account: 'A', sourcePort: 2, start: T('11:00:00'), end: T('11:30:00') }),
        ),
      );
      const sqlite = backend.name === 'SQLite';
      // ClickHouse drops whole days: a horizon of the next day removes both.
      const { deleted } = await s.purge(sqlite ? at(T('10:00:00')) : at('2026-03-30T00:00:00Z'));
      if (sqlite) expect(deleted.connection).toBe(1);
      const [left] = await s.connectionsFrom([{ account: 'A', window: win(T('00:00:00'), T('23:00:00')) }]);
      expect(left!.map((r) => r.sourcePort)).toEqual(sqlite ? [2] : []);
    });
  });

  describe('idempotence, updates and settings', () => {
    it('writing the same records twice adds nothing', async () => {
      const s = store();
      const batch = records(
        { kind: 'address-space', prefix: '198.51.100.0/24', role: 'dynamic' },
        { kind: 'subscriber', account: 'A', type: 'residential' },
        alloc('198.51.100.7', 'A', T('10:00:00'), null, { mac: '02:00:00:00:00:01' }),
        block('100.64.0.1', 1024, 1535, T('09:00:00'), T('11:00:00')),
        session('100.64.1.1', '192.0.2.80', T('09:59:00'), T('10:01:00')),
        {
          kind: 'nat-deterministic',
          realm: 'cgn-d',
          insidePrefix: '100.65.0.0/24',
          outsidePrefix: '203.0.113.128/30',
          portFirst: 1024,
          portLast: 65535,
          algorithm: 'vpp-det44',
          start: '2026-01-01T00:00:00Z',
          end: null,
        },
        { kind: 'coverage', source: 'dhcp', start: T('10:00:00'), end: T('11:00:00'), status: 'gap' },
      );
      const first = await s.write(batch);
      const countsAfterFirst = await s.counts();
      const second = await s.write(batch);
      expect(Object.values(first.stored).reduce((a, b) => a + b, 0)).toBe(7);
      expect(second.stored).toEqual({});
      expect(Object.values(second.unchanged).reduce((a, b) => a + b, 0)).toBe(7);
      expect(await s.counts()).toEqual(countsAfterFirst);
      expect(countsAfterFirst).toEqual({
        'address-space': 1,
        subscriber: 1,
        allocation: 1,
        'nat-block': 1,
        'nat-session': 1,
        'nat-deterministic': 1,
        coverage: 1,
        connection: 0,
      });
    });

    it('a later export that closes an open record sets its end; a logged end replaces an inferred one, never the reverse', async () => {
      const s = store();
      const at10 = T('10:00:00');
      await s.write(records(alloc('198.51.100.7', 'A', at10, null), block('100.64.0.1', 1024, 1535, at10, null), session('100.64.1.1', null, at10, null)));
      const closing = await s.write(
        records(
          alloc('198.51.100.7', 'A', at10, T('11:00:00'), { endInferred: true }),
          block('100.64.0.1', 1024, 1535, at10, T('11:00:00')),
          session('100.64.1.1', null, at10, T('10:05:00')),
        ),
      );
      expect(closing.stored).toEqual({ allocation: 1, 'nat-block': 1, 'nat-session': 1 });
      // An open export again changes nothing; a logged end replaces the inferred one; an inferred one then does not.
      expect((await s.write(records(alloc('198.51.100.7', 'A', at10, null)))).stored).toEqual({});
      expect((await s.write(records(alloc('198.51.100.7', 'A', at10, T('10:30:00'))))).stored).toEqual({ allocation: 1 });
      expect((await s.write(records(alloc('198.51.100.7', 'A', at10, T('12:00:00'), { endInferred: true })))).stored).toEqual({});
      const [after, during] = await s.allocations([
        { address: addr('198.51.100.7'), realm: null, window: win(T('10:30:00'), T('13:00:00')) },
        { address: addr('198.51.100.7'), realm: null, window: win(T('10:29:00'), T('10:29:01')) },
      ]);
      expect(after).toEqual([]);
      expect(during!.map((a) => [a.end, a.endInferred])).toEqual([[at(T('10:30:00')), undefined]]);
      const [blocks] = await s.natBlocks([{ outside: addr('203.0.113.7'), port: 1100, window: win(T('11:30:00'), T('11:30:01')) }]);
      const [sessions] = await s.natSessions([{ outside: addr('203.0.113.70'), port: null, window: win(T('10:06:00'), T('10:06:01')) }]);
      expect([blocks, sessions]).toEqual([[], []]);
      expect(await s.counts()).toMatchObject({ allocation: 1, 'nat-block': 1, 'nat-session': 1 });
    });

    it('the same record twice in one batch: counted once as new, then as the update it is', async () => {
      const s = store();
      const summary = await s.write(
        records(
          alloc('198.51.100.7', 'A', T('10:00:00'), null),
          alloc('198.51.100.7', 'A', T('10:00:00'), T('11:00:00')),
          alloc('198.51.100.7', 'A', T('10:00:00'), T('11:00:00')),
        ),
      );
      expect(summary).toEqual({ stored: { allocation: 2 }, unchanged: { allocation: 1 }, changed: new Uint8Array([1, 1, 0]) });
      const [hits] = await s.allocations([{ address: addr('198.51.100.7'), realm: null, window: win(T('10:00:00'), T('12:00:00')) }]);
      expect(hits!.map((a) => a.end)).toEqual([at(T('11:00:00'))]);
      expect((await s.counts()).allocation).toBe(1);
    });

    it('settings: retention horizon and clock errors, set and removed', async () => {
      const s = store();
      await s.write([]);
      expect(await s.settings()).toEqual({
        retentionHorizon: null,
        clockErrorMs: {},
        longestRecordMs: 0,
        jurisdictionZone: 'Europe/London',
        zoneChangeAt: {},
        maxLayerWindowMs: null,
        realmsWithoutDestination: [],
      });
      await s.setSetting('retentionHorizon', at('2026-01-01T00:00:00Z'));
      await s.setSetting('clockError.dhcp', 2000);
      await s.setSetting('clockError.cgn-a', 500);
      await s.setSetting('clockError.cgn-a', null);
      await s.setSetting('jurisdictionZone', 'Europe/Dublin');
      await s.setSetting('zoneChange.radius', at('2026-03-01T00:00:00Z'));
      expect(await s.settings()).toEqual({
        retentionHorizon: at('2026-01-01T00:00:00Z'),
        clockErrorMs: { dhcp: 2000 },
        longestRecordMs: 0,
        jurisdictionZone: 'Europe/Dublin',
        zoneChangeAt: { radius: at('2026-03-01T00:00:00Z') },
        maxLayerWindowMs: null,
        realmsWithoutDestination: [],
      });
      await s.setSetting('jurisdictionZone', null);
      await s.setSetting('zoneChange.radius', null);
      expect(await s.settings()).toMatchObject({ jurisdictionZone: 'Europe/London', zoneChangeAt: {} });
      await s.write(records(alloc('198.51.100.7', 'A', T('10:00:00'), T('12:00:00')), alloc('198.51.100.8', 'B', T('10:00:00'), T('10:30:00'))));
      expect((await s.settings()).longestRecordMs).toBe(2 * 3_600_000);
    });

    it('an empty batch of any question is an empty answer', async () => {
      const s = store();
      await s.write(records(alloc('198.51.100.7', 'A', T('10:00:00'), null)));
      const r: StoreReader = s;
      expect(await Promise.all([r.classify([]), r.allocations([]), r.natBlocks([]), r.natSessions([]), r.natDeterministic([]), r.coverageGaps([])])).toEqual([
        [],
        [],
        [],
        [],
        [],
        [],
      ]);
    });
  });
});

/**
 * Ids, records and their order identical across backends: the same operator written to
 * both, a battery of every question at every record's address and times, each answer
 * printed as a line and the lines compared byte for byte (records are evidence in
 * results, in the order the store gives them, and results are hashed into the audit log).
 * The operator has ties the canonical order breaks by name where SQLite's indexes hold
 * interned ids: accounts, realms and sources first written out of name order.
 */
describe.skipIf(!clickhouse.reachable)('store contract: SQLite and ClickHouse give identical answers', () => {
  const OPERATOR = records(
    { kind: 'address-space', prefix: '198.51.100.0/25', role: 'dynamic' },
    { kind: 'address-space', prefix: '203.0.113.0/26', role: 'cgnat-outside', realm: 'cgn-a' },
    { kind: 'address-space', prefix: '2001:db8:1000::/36', role: 'dynamic' },
    ...Array.from({ length: 40 }, (_, i) =>
      alloc(
        `198.51.100.${i % 8}`,
        `DYN-${i}`,
        `2026-03-28T${String(i % 24).padStart(2, '0')}:00:00Z`,
        i % 5 === 0 ? null : `2026-03-28T${String(i % 24).padStart(2, '0')}:45:00Z`,
        i % 3 === 0 ? { mac: `02:00:5e:10:00:${String(i).padStart(2, '0')}` } : {},
      ),
    ),
    ...Array.from({ length: 40 }, (_, i) =>
      alloc(
        `100.64.0.${i % 10}`,
        `MOB-${i}`,
        `2026-03-28T${String(i % 12).padStart(2, '0')}:30:00Z`,
        `2026-03-28T${String((i % 12) + 2).padStart(2, '0')}:30:00Z`,
        { realm: i % 2 === 0 ? 'cgn-a' : 'cgn-b', imsi: `2341500000000${String(i).padStart(2, '0')}` },
      ),
    ),
    ...Array.from({ length: 30 }, (_, i) =>
      block(
        `100.64.0.${i % 10}`,
        1024 + (i % 6) * 512,
        1024 + (i % 6) * 512 + 511,
        `2026-03-28T${String(i % 12).padStart(2, '0')}:00:00Z`,
        i % 7 === 0 ? null : `2026-03-28T${String((i % 12) + 3).padStart(2, '0')}:00:00Z`,
        { outsideIp: `203.0.113.${i % 4}` },
      ),
    ),
    ...Array.from({ length: 30 }, (_, i) =>
      session(
        `100.64.1.${i % 9}`,
        i % 4 === 0 ? null : `192.0.2.${i % 5}`,
        `2026-03-28T10:${String(i).padStart(2, '0')}:00Z`,
        i % 6 === 0 ? null : `2026-03-28T10:${String(i + 3).padStart(2, '0')}:00Z`,
        { outsidePort: 40000 + (i % 3) },
      ),
    ),
    // Ties on everything but a name, first written in reverse name order.
    alloc('198.51.100.9', 'ZED', T('10:00:00'), T('11:00:00')),
    alloc('198.51.100.9', 'ALPHA', T('10:00:00'), T('11:00:00')),
    block('100.64.9.1', 1024, 1535, T('09:00:00'), T('11:00:00'), { realm: 'cgn-z', outsideIp: '203.0.113.0' }),
    block('100.64.9.1', 1024, 1535, T('09:00:00'), T('11:00:00'), { realm: 'cgn-b', outsideIp: '203.0.113.0' }),
    session('100.64.9.2', null, T('10:00:00'), null, { realm: 'cgn-z', outsidePort: 40000 }),
    session('100.64.9.2', null, T('10:00:00'), null, { realm: 'cgn-b', outsidePort: 40000 }),
    { kind: 'coverage', source: 'radius', start: T('10:00:00'), end: T('12:00:00'), status: 'gap' },
    { kind: 'coverage', source: 'dhcp', start: T('10:30:00'), end: null, status: 'gap' },
    { kind: 'coverage', source: 'cgn-a', start: T('09:00:00'), end: T('10:45:00'), status: 'gap' },
    { kind: 'coverage', source: 'dhcp', start: T('08:00:00'), end: T('09:00:00'), status: 'gap' },
    {
      kind: 'nat-deterministic',
      realm: 'cgn-z',
      insidePrefix: '100.65.0.0/24',
      outsidePrefix: '203.0.113.128/30',
      portFirst: 1024,
      portLast: 65535,
      algorithm: 'vpp-det44',
      start: '2026-03-01T00:00:00Z',
      end: null,
    },
    {
      kind: 'nat-deterministic',
      realm: 'cgn-d',
      insidePrefix: '100.65.1.0/24',
      outsidePrefix: '203.0.113.128/29',
      portFirst: 1024,
      portLast: 65535,
      algorithm: 'vpp-det44',
      start: '2026-03-01T00:00:00Z',
      end: null,
    },
    {
      kind: 'nat-deterministic',
      realm: 'cgn-b',
      insidePrefix: '100.65.2.0/24',
      outsidePrefix: '203.0.113.128/30',
      portFirst: 1024,
      portLast: 65535,
      algorithm: 'vpp-det44',
      start: '2026-03-01T00:00:00Z',
      end: null,
    },
  );
  /** Each answer as the line it prints as. */
  const printed = (answers: readonly unknown[]): string[] => answers.map((a) => JSON.stringify(a));
  let sqlite: Store;
  let ch: Store;
  const cleanups: (() => Promise<void> | void)[] = [];
  test('the same answers to a battery of every question', async () => {
    ({ store: sqlite } = { store: freshStore().store });
    cleanups.push(() => sqlite.close());
    const c = freshClickHouseStore(clickhouse);
    ch = c.store;
    cleanups.push(c.done);
    try {
      expect(await ch.write(OPERATOR)).toEqual(sqlite.write(OPERATOR));
      const windows = ['09:59:59', '10:00:00', '10:30:00', '11:44:59', '12:45:00', '23:59:00'].map((t) => win(T(t), T(t).replace('Z', '.500Z')));
      const wide = win(T('00:00:00'), T('23:59:59'));
      const allocQs: AllocationQuery[] = [];
      const natQs: NatQuery[] = [];
      for (const w of [...windows, wide]) {
        for (let i = 0; i < 10; i++) {
          allocQs.push({ address: addr(`198.51.100.${i}`), realm: null, window: w });
          for (const realm of ['cgn-a', 'cgn-b']) allocQs.push({ address: addr(`100.64.0.${i}`), realm, window: w });
        }
        for (let o = 0; o < 4; o++) for (const port of [null, 1024, 1600, 2047, 2048, 4000]) natQs.push({ outside: addr(`203.0.113.${o}`), port, window: w });
        for (const port of [null, 40000, 40001, 40002]) natQs.push({ outside: addr('203.0.113.70'), port, window: w });
      }
      const detQs = [...windows, wide].flatMap((window) =>
        ['203.0.113.128', '203.0.113.131', '203.0.113.134', '203.0.113.7'].map((a) => ({ outside: addr(a), window })),
      );
      const coverageQs = [...windows, wide].flatMap((window) => [null, 'dhcp', 'radius', 'cgn-a', 'none'].map((source) => ({ source, window })));
      const answers = async (s: Store) => ({
        allocations: printed(await s.allocations(allocQs)),
        natBlocks: printed(await s.natBlocks(natQs)),
        natSessions: printed(await s.natSessions(natQs)),
        natDeterministic: printed(await s.natDeterministic(detQs)),
        coverageGaps: printed(await s.coverageGaps(coverageQs)),
      });
      const [fromSqlite, fromClickHouse] = [await answers(sqlite), await answers(ch)];
      expect(fromClickHouse).toEqual(fromSqlite);
      // The battery reaches the ties, and more than one record per answer.
      expect(fromSqlite.allocations.some((l) => l.includes('"ALPHA"') && l.includes('"ZED"'))).toBe(true);
      expect(fromSqlite.coverageGaps.some((l) => l.includes('"cgn-a"') && l.includes('"radius"'))).toBe(true);
      expect(fromSqlite.natDeterministic.some((l) => l.includes('"cgn-b"') && l.includes('"cgn-z"'))).toBe(true);
      const addresses = [...allocQs.map((q) => q.address), ...natQs.map((q) => q.outside), addr('2001:db8:1234::1'), addr('192.0.2.1')];
      expect(printed(await ch.classify(addresses))).toEqual(printed(await sqlite.classify(addresses)));
      expect(await ch.counts()).toEqual(await sqlite.counts());
    } finally {
      for (const c of cleanups) await c();
    }
  });
});

describe.each(backends)('store contract, what each source covered (issue 15): $name', (backend) => {
  const it = backend.available ? test : test.skip;
  const seen = (source: string, first: string, last: string, gaps: [string, string][] = []) => ({
    source,
    role: 'nat' as const,
    first: at(first),
    last: at(last),
    events: 100,
    ingests: 1,
    rateAtFirst: 2,
    rateAtLast: 2,
    inferredGaps: gaps.map(([s, e]) => ({ source, start: at(s), end: at(e), rateBefore: 2, rateAfter: 2, usualRate: 2, expectedEvents: 60 })),
  });

  it('each ingest folds into the stored coverage: spans widen, events add up, a later input with events in a gap cuts it back, coverage() lists it with the declared gaps', async () => {
    const { store: s, done } = backend.open();
    try {
      expect(await s.sourceCoverage()).toEqual([]);
      await s.write(records({ kind: 'coverage', source: 'dhcp', start: T('01:00:00'), end: T('02:00:00'), status: 'gap' }));
      await s.recordCoverage([seen('cgn-a', T('08:00:00'), T('12:00:00'), [[T('09:00:00'), T('10:00:00')]])]);
      await s.recordCoverage([seen('cgn-a', T('09:30:00'), T('13:00:00')), seen('cgn-b', T('00:00:00'), T('01:00:00'))]);
      const coverage = await s.sourceCoverage();
      expect(coverage.map((c) => [c.source, c.first, c.last, c.events, c.ingests])).toEqual([
        ['cgn-a', at(T('08:00:00')), at(T('13:00:00')), 200, 2],
        ['cgn-b', at(T('00:00:00')), at(T('01:00:00')), 100, 1],
      ]);
      expect(coverage[0]!.inferredGaps.map((g) => [g.start, g.end])).toEqual([[at(T('09:00:00')), at(T('09:30:00'))]]);
      await s.setSetting('retentionHorizon', at(T('00:30:00')));
      const listing = await s.coverage();
      expect(listing.sources).toEqual(coverage);
      expect(listing.declaredGaps.map((g) => [g.source, g.start, g.end])).toEqual([['dhcp', at(T('01:00:00')), at(T('02:00:00'))]]);
      expect(listing.retentionHorizon).toBe(at(T('00:30:00')));
    } finally {
      await done();
    }
  });
});

describe.each(backends)('store contract, overlaps as data-quality findings (issue 16 item 6): $name', (backend) => {
  const it = backend.available ? test : test.skip;
  it('the overlaps read back out of the store (ipar coverage): blocks of two inside hosts, an address of two accounts, each with both records', async () => {
    const { storedOverlaps } = await import('../../src/cli/coverage.js');
    const { store: s, done } = backend.open();
    try {
      await s.write(
        records(
          block('100.64.0.1', 1024, 1535, T('08:00:00'), T('12:00:00')),
          block('100.64.0.2', 1536, 2047, T('08:00:00'), T('12:00:00')), // other ports: fine
          block('100.64.0.3', 1500, 1600, T('10:00:00'), null), // overlaps both blocks' ports, from 10:00
          block('100.64.0.1', 1024, 1535, T('12:00:00'), T('13:00:00')), // the same host again: fine
          alloc('198.51.100.7', 'A', T('08:00:00'), T('10:00:00')),
          alloc('198.51.100.7', 'B', T('10:00:00'), T('11:00:00')), // touching, half-open: fine
          alloc('198.51.100.7', 'C', T('10:30:00'), T('10:45:00')),
        ),
      );
      const found = (await storedOverlaps(s)).map((o) => [o.kind, o.resource, o.a.holder, o.b.holder, o.from, o.to]);
      expect(found).toEqual([
        ['allocation', '198.51.100.7', 'B', 'C', at(T('10:30:00')), at(T('10:45:00'))],
        ['nat-block', '203.0.113.7', 'cgn-a|100.64.0.1', 'cgn-a|100.64.0.3', at(T('10:00:00')), at(T('12:00:00'))],
        ['nat-block', '203.0.113.7', 'cgn-a|100.64.0.2', 'cgn-a|100.64.0.3', at(T('10:00:00')), at(T('12:00:00'))],
        // The open block still holds ports 1500–1535 when 100.64.0.1 gets its block again.
        ['nat-block', '203.0.113.7', 'cgn-a|100.64.0.3', 'cgn-a|100.64.0.1', at(T('12:00:00')), at(T('13:00:00'))],
      ]);
    } finally {
      await done();
    }
  });
});
