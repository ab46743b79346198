/**
 * Issue 15 items 2 and 3 through the command line: `ipar coverage` (table, JSON,
 * timeline) over what `ipar ingest` recorded per source, and each flag for the edges of
 * knowledge raised by `ipar resolve` on a store built by `ipar ingest`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { main } from '../../src/cli.js';
import { Result, type RequestInput } from '../../src/request.js';
import { SESSION_ROW_LIMIT } from '../../src/store/core/limits.js';
import { captureIo, tempDir } from '../support/index.js';

const T = (hms: string, day = '2026-03-28') => `${day}T${hms}Z`;
const iso = (ms: number) => new Date(ms).toISOString();
const SILENT_FROM = Date.parse(T('09:00:00'));
const SILENT_TO = Date.parse(T('09:45:00'));

/** Sessions on 203.0.113.10 every 10 s from 08:00 to 12:00 (5 s each), silent 09:00–09:45. */
function sessions(from: number, to: number): object[] {
  const out: object[] = [];
  for (let t = from, k = 0; t < to; t += 10_000, k++) {
    if (t >= SILENT_FROM && t < SILENT_TO) continue;
    out.push({
      kind: 'nat-session',
      realm: 'cgn-x',
      insideIp: `100.64.5.${1 + (k % 4)}`,
      insidePort: 40000 + (k % 1000),
      outsideIp: '203.0.113.10',
      outsidePort: 20000 + (k % 20000),
      destinationIp: '192.0.2.80',
      destinationPort: 443,
      protocol: 'tcp',
      start: iso(t),
      end: iso(t + 5000),
    });
  }
  return out;
}

const BASE: object[] = [
  { kind: 'address-space', prefix: '198.51.100.0/25', role: 'dynamic' },
  { kind: 'address-space', prefix: '203.0.113.0/28', role: 'cgnat-outside', realm: 'cgn-x' },
  { kind: 'address-space', prefix: '203.0.113.16/28', role: 'cgnat-outside', realm: 'cgn-u' },
  // HOME's lease was open when exported; the dhcp feed's own events run 08:00–12:00.
  { kind: 'allocation', account: 'HOME', ip: '198.51.100.7', start: T('08:00:00'), end: null, source: 'dhcp' },
  { kind: 'allocation', account: 'OTHER', ip: '198.51.100.8', start: T('08:00:00'), end: T('12:00:00'), source: 'dhcp' },
  ...[1, 2, 3, 4].map((h) => ({
    kind: 'allocation',
    account: `MOB-${h}`,
    ip: `100.64.5.${h}`,
    realm: 'cgn-x',
    start: T('08:00:00'),
    end: T('12:00:00'),
    source: 'feed',
  })),
  // A port block to an inside host no allocation holds (realm cgn-u's feed is missing).
  {
    kind: 'nat-block',
    realm: 'cgn-u',
    insideIp: '100.64.6.1',
    outsideIp: '203.0.113.17',
    portFirst: 1024,
    portLast: 2047,
    start: T('08:00:00'),
    end: T('12:00:00'),
  },
];

const lines = (records: readonly object[]) => records.map((r) => JSON.stringify(r)).join('\n') + '\n';
let dir = '';
let db = '';

async function resolve(db: string, request: Omit<RequestInput, 'ref'>): Promise<Result> {
  const io = captureIo(JSON.stringify({ ref: 'R', toleranceSeconds: 1, ...request }) + '\n');
  expect(await main(['resolve', '--db', db, '-'], io)).toBe(0);
  return Result.parse(JSON.parse(io.out()));
}
const codes = (r: Result) => r.risks.map((k) => k.code);
const flagOf = (r: Result, code: string) => r.risks.find((k) => k.code === code);

beforeAll(async () => {
  dir = tempDir();
  db = join(dir, 'op.db');
  const file = join(dir, 'records.ndjson');
  writeFileSync(file, lines([...BASE, ...sessions(Date.parse(T('08:00:00')), Date.parse(T('12:00:00')))]));
  expect(await main(['ingest', '--db', db, file], captureIo())).toBe(0);
});

describe('ipar coverage', () => {
  test('--json: every source with its span and events, the inferred gap with its evidence, the retention horizon', async () => {
    const io = captureIo();
    expect(await main(['coverage', '--db', db, '--json'], io)).toBe(0);
    const listing = JSON.parse(io.out()) as {
      retentionHorizon: string | null;
      sources: { source: string; role: string; first: string; last: string; ingests: number }[];
      gaps: Record<string, unknown>[];
    };
    expect(listing.retentionHorizon).toBeNull();
    expect(listing.sources.map((s) => [s.source, s.role, s.first, s.last, s.ingests])).toEqual([
      ['cgn-u', 'nat', T('08:00:00.000'), T('12:00:00.000'), 1],
      ['cgn-x', 'nat', T('08:00:00.000'), T('11:59:55.000'), 1],
      ['dhcp', 'allocation', T('08:00:00.000'), T('12:00:00.000'), 1],
      ['feed', 'allocation', T('08:00:00.000'), T('12:00:00.000'), 1],
    ]);
    // The last session before the silence ended at 08:59:55; the first after began at 09:45.
    expect(listing.gaps).toEqual([
      {
        source: 'cgn-x',
        kind: 'inferred',
        start: T('08:59:55.000'),
        end: T('09:45:00.000'),
        rateBefore: 11.816,
        rateAfter: 12,
        usualRate: 3,
        expectedEvents: 135.25,
      },
    ]);
  });

  test('the table and the timeline show the same gap', async () => {
    const table = captureIo();
    expect(await main(['coverage', '--db', db], table)).toBe(0);
    expect(table.out()).toMatch(/cgn-x\s+inferred\s+2026-03-28T08:59:55.000Z\s+2026-03-28T09:45:00.000Z\s+11.816\/min before, 12\/min after/);
    expect(table.out()).toMatch(/retention horizon: none/);
    const timeline = captureIo();
    expect(await main(['coverage', '--db', db, '--timeline', '--width', '16'], timeline)).toBe(0);
    // 08:00–12:00 in 16 cells of 15 minutes: the gap covers cells 3 to 6.
    expect(timeline.out().split('\n')[1]).toBe('cgn-x  ███░░░░█████████');
  });

  test('hourly files ingested one run each: the span grows, runs add up, a missing hour is an inferred gap between runs', async () => {
    const rotated = join(dir, 'rotated.db');
    const hour = (h: number) => Date.parse(T(`${String(h).padStart(2, '0')}:00:00`));
    for (const h of [8, 10, 11]) {
      const file = join(dir, `hour-${h}.ndjson`);
      writeFileSync(file, lines([...(h === 8 ? BASE.slice(0, 3) : []), ...sessions(hour(h), hour(h + 1))]));
      expect(await main(['ingest', '--db', rotated, file], captureIo())).toBe(0);
    }
    const io = captureIo();
    expect(await main(['coverage', '--db', rotated, '--json'], io)).toBe(0);
    const listing = JSON.parse(io.out()) as {
      sources: { source: string; first: string; last: string; ingests: number }[];
      gaps: { source: string; start: string; end: string }[];
    };
    expect(listing.sources.find((s) => s.source === 'cgn-x')).toMatchObject({ first: T('08:00:00.000'), last: T('11:59:55.000'), ingests: 3 });
    expect(listing.gaps.map((g) => [g.source, g.start, g.end])).toEqual([['cgn-x', T('08:59:55.000'), T('10:00:00.000')]]);
  });
});

describe('ipar resolve: flags for the edges of knowledge', () => {
  test('OUTSIDE_SOURCE_SPAN: a time before any record of the store is no longer silent', async () => {
    const r = await resolve(db, { observations: [{ sourceIp: '198.51.100.7', time: T('10:00:00', '2026-03-27') }] });
    expect(r.status).toBe('none');
    expect((flagOf(r, 'OUTSIDE_SOURCE_SPAN')!.detail['sources'] as { source: string; relation: string }[]).map((s) => [s.source, s.relation])).toEqual([
      ['dhcp', 'before'],
      ['feed', 'before'],
    ]);
  });

  test('OUTSIDE_SOURCE_SPAN and OPEN_PAST_EVIDENCE: fifteen months after the last export, an open allocation is held at T, nothing known after', async () => {
    const r = await resolve(db, { observations: [{ sourceIp: '198.51.100.7', time: T('10:00:00', '2027-06-28') }] });
    expect(r.status).toBe('unique');
    expect(flagOf(r, 'OPEN_PAST_EVIDENCE')).toMatchObject({
      kind: 'false-positive',
      detail: { records: [{ kind: 'allocation', source: 'dhcp', heldAt: T('08:00:00.000'), sourceLast: T('12:00:00.000') }] },
    });
    expect(flagOf(r, 'OUTSIDE_SOURCE_SPAN')).toMatchObject({ kind: 'false-negative', detail: { sources: [{ source: 'dhcp', relation: 'after' }] } });
    // The same address inside the span: neither flag.
    expect(codes(await resolve(db, { observations: [{ sourceIp: '198.51.100.7', time: T('10:00:00') }] }))).not.toEqual(
      expect.arrayContaining(['OPEN_PAST_EVIDENCE']),
    );
  });

  test('OUTSIDE_SOURCE_SPAN: a CGNAT address at such a time', async () => {
    const r = await resolve(db, { observations: [{ sourceIp: '203.0.113.10', sourcePort: 20001, time: T('10:00:00', '2027-06-28') }] });
    expect(r.status).toBe('none');
    expect(flagOf(r, 'OUTSIDE_SOURCE_SPAN')!.detail['sources']).toEqual([
      { source: 'cgn-x', first: T('08:00:00.000'), last: T('11:59:55.000'), relation: 'after' },
    ]);
  });

  test('INSIDE_UNALLOCATED: a translation to an inside host no allocation holds keeps the NAT step, with its own outcome', async () => {
    const r = await resolve(db, { observations: [{ sourceIp: '203.0.113.17', sourcePort: 1500, time: T('10:00:00') }] });
    expect(r.status).toBe('none');
    expect(r.observations[0]).toMatchObject({ outcome: 'inside-unallocated', path: ['nat-block'] });
    expect(flagOf(r, 'INSIDE_UNALLOCATED')).toMatchObject({
      kind: 'false-negative',
      detail: { insideHosts: 1, hosts: [{ realm: 'cgn-u', insideIp: '100.64.6.1', kind: 'nat-block' }] },
    });
  });

  test('INFERRED_GAP: a request in the silence, and one after it that a record begun in it could concern', async () => {
    const inGap = await resolve(db, { observations: [{ sourceIp: '203.0.113.10', sourcePort: 20400, time: T('09:20:00') }] });
    expect(inGap.status).toBe('none');
    expect(flagOf(inGap, 'INFERRED_GAP')!.detail['gaps']).toEqual([
      {
        source: 'cgn-x',
        start: T('08:59:55.000'),
        end: T('09:45:00.000'),
        relation: 'overlaps-window',
        rateBefore: 11.816,
        rateAfter: 12,
        usualRate: 3,
        expectedEvents: 135.25,
      },
    ]);
    // Before the silence nothing is flagged: the gap lies after the window.
    expect(codes(await resolve(db, { observations: [{ sourceIp: '203.0.113.10', sourcePort: 20001, time: T('08:00:12') }] }))).not.toContain('INFERRED_GAP');
    // A DHCP address does not go through cgn-x: its gap is not on the path.
    expect(codes(await resolve(db, { observations: [{ sourceIp: '198.51.100.8', time: T('09:20:00') }] }))).not.toContain('INFERRED_GAP');
  });

  test('PORT_OUTSIDE_NAT_RANGE: source port 0 on a CGNAT address', async () => {
    const r = await resolve(db, { observations: [{ sourceIp: '203.0.113.10', sourcePort: 0, time: T('10:00:00') }] });
    expect(r.status).toBe('none');
    expect(flagOf(r, 'PORT_OUTSIDE_NAT_RANGE')).toMatchObject({ kind: 'false-negative', detail: { sourcePort: 0, portFirst: 1024, portLast: 65535 } });
  });

  test('SESSION_LOOKUP_CAPPED: a port-less session lookup cut at SESSION_ROW_LIMIT', async () => {
    const capped = join(dir, 'capped.db');
    const file = join(dir, 'capped.ndjson');
    const start = Date.parse(T('10:00:00'));
    const rows = Array.from({ length: SESSION_ROW_LIMIT + 1 }, (_, k) =>
      JSON.stringify({
        kind: 'nat-session',
        realm: 'cgn-x',
        insideIp: '100.64.7.1',
        insidePort: 1024 + (k % 60000),
        outsideIp: '203.0.113.11',
        outsidePort: 1024 + (k % 64000),
        destinationIp: '192.0.2.80',
        destinationPort: 443,
        protocol: 'tcp',
        start: iso(start + (k % 1000)),
        end: iso(start + 60_000 + k),
      }),
    );
    writeFileSync(file, lines(BASE.slice(0, 3)) + rows.join('\n') + '\n');
    expect(await main(['ingest', '--db', capped, file], captureIo())).toBe(0);
    // The default work budget (20,000 rows) refuses such a lookup first; an operator who raised it meets the cap.
    expect(await main(['settings', '--db', capped, '--budget-rows', String(4 * SESSION_ROW_LIMIT)], captureIo())).toBe(0);
    const r = await resolve(capped, { observations: [{ sourceIp: '203.0.113.11', time: T('10:00:30') }] });
    expect(flagOf(r, 'SESSION_LOOKUP_CAPPED')).toMatchObject({ kind: 'false-negative', detail: { sourceIp: '203.0.113.11', limit: SESSION_ROW_LIMIT } });
    expect(codes(await resolve(capped, { observations: [{ sourceIp: '203.0.113.11', sourcePort: 1100, time: T('10:00:30') }] }))).not.toContain(
      'SESSION_LOOKUP_CAPPED',
    );
  }, 120_000);
});

describe('ipar ingest and ipar coverage: overlaps as data-quality findings (issue 16 item 6)', () => {
  test('two inside hosts given the same ports at once: ingest counts it, coverage lists both records, resolve flags SOURCE_OVERLAP', async () => {
    const store = join(tempDir(), 'overlap.db');
    const file = join(tempDir(), 'overlap.ndjson');
    const block = (inside: string, first: number, start: string, end: string) => ({
      kind: 'nat-block',
      realm: 'cgn-o',
      insideIp: inside,
      outsideIp: '203.0.113.90',
      portFirst: first,
      portLast: first + 511,
      start: T(start),
      end: T(end),
    });
    writeFileSync(
      file,
      [
        { kind: 'address-space', prefix: '203.0.113.90/32', role: 'cgnat-outside', realm: 'cgn-o' },
        { kind: 'allocation', account: 'O1', ip: '100.64.7.1', realm: 'cgn-o', start: T('08:00:00'), end: T('12:00:00'), source: 'radius' },
        { kind: 'allocation', account: 'O2', ip: '100.64.7.2', realm: 'cgn-o', start: T('08:00:00'), end: T('12:00:00'), source: 'radius' },
        block('100.64.7.1', 1024, '08:00:00', '11:00:00'),
        block('100.64.7.2', 1280, '10:00:00', '12:00:00'),
      ]
        .map((r) => JSON.stringify(r))
        .join('\n') + '\n',
    );
    const ingested = captureIo();
    expect(await main(['ingest', '--db', store, file], ingested)).toBe(0);
    expect(ingested.err()).toMatch(/overlaps 1 \(two holders at once, a fault of the source: 203\.0\.113\.90 .*cgn-o\|100\.64\.7\.1 and cgn-o\|100\.64\.7\.2/);

    const io = captureIo();
    expect(await main(['coverage', '--db', store, '--json'], io)).toBe(0);
    const listing = JSON.parse(io.out()) as { overlaps: { kind: string; from: string; to: string; records: { holder: string; held: string }[] }[] };
    expect(listing.overlaps.map((o) => [o.kind, o.from, o.to, o.records.map((r) => `${r.holder} ${r.held}`)])).toEqual([
      ['nat-block', T('10:00:00.000'), T('11:00:00.000'), ['cgn-o|100.64.7.1 1024-1535', 'cgn-o|100.64.7.2 1280-1791']],
    ]);
    const table = captureIo();
    expect(await main(['coverage', '--db', store], table)).toBe(0);
    expect(table.out()).toMatch(/1 overlap \(a fault of the source/);

    const r = await resolve(store, { observations: [{ sourceIp: '203.0.113.90', sourcePort: 1300, time: T('10:30:00') }] });
    expect(flagOf(r, 'SOURCE_OVERLAP')).toMatchObject({ kind: 'false-positive', severity: 'material' });
    // Before the second block, no overlap touches the request.
    expect(
      flagOf(await resolve(store, { observations: [{ sourceIp: '203.0.113.90', sourcePort: 1300, time: T('09:00:00') }] }), 'SOURCE_OVERLAP'),
    ).toBeUndefined();
  });
});
