/**
 * The hand-made operators the matcher's stage tests resolve against, and the helpers that
 * resolve through the whole pipeline (real SQLite, a fresh database for each test file).
 */
import { expect } from 'vitest';
import { resolveRequests } from '../../matcher/pipeline.js';
import { Result, type RequestInput } from '../../src/request.js';
import { CoverageRecorder } from '../../src/store/core/coverage.js';
import { SESSION_ROW_LIMIT } from '../../src/store/core/limits.js';
import type { SqliteStore } from '../../src/store/sqlite/store.js';
import { freshStore, records } from '../support/index.js';

export const T = (hms: string, day = '2026-03-28') => `${day}T${hms}Z`;

/** A small operator: public DHCP, a CGNAT realm with port blocks, one with sessions, one deterministic, IPv6 PD. */
export const SMALL_OPERATOR = [
  { kind: 'address-space', prefix: '198.51.100.0/25', role: 'dynamic' },
  { kind: 'address-space', prefix: '198.51.100.240/28', role: 'server' },
  { kind: 'address-space', prefix: '203.0.113.0/26', role: 'cgnat-outside', realm: 'cgn-a' },
  { kind: 'address-space', prefix: '203.0.113.64/27', role: 'cgnat-outside', realm: 'cgn-s' },
  { kind: 'address-space', prefix: '203.0.113.128/30', role: 'cgnat-outside', realm: 'cgn-d' },
  { kind: 'address-space', prefix: '2001:db8:1000::/36', role: 'dynamic' },
  { kind: 'allocation', account: 'DYN-A', ip: '198.51.100.7', start: T('08:00:00'), end: T('12:00:00'), source: 'dhcp' },
  { kind: 'allocation', account: 'DYN-B', ip: '198.51.100.7', start: T('12:00:00'), end: T('16:00:00'), source: 'dhcp' },
  { kind: 'allocation', account: 'OPEN', ip: '198.51.100.8', start: '2025-01-01T00:00:00Z', end: null, source: 'static' },
  { kind: 'allocation', account: 'PD', ip: '2001:db8:1234:5600::/56', start: T('00:00:00'), end: null, source: 'dhcpv6-pd' },
  {
    kind: 'allocation',
    account: 'MOB-1',
    ip: '100.64.0.12',
    realm: 'cgn-a',
    start: T('08:00:00'),
    end: T('10:00:00'),
    source: 'radius',
    imsi: '234150000000001',
  },
  {
    kind: 'allocation',
    account: 'MOB-1B',
    ip: '100.64.0.12',
    realm: 'cgn-a',
    start: T('10:00:00'),
    end: T('14:00:00'),
    source: 'radius',
    imsi: '234150000000011',
  },
  {
    kind: 'allocation',
    account: 'MOB-2',
    ip: '100.64.0.13',
    realm: 'cgn-a',
    start: T('08:00:00'),
    end: T('14:00:00'),
    source: 'radius',
    imsi: '234150000000002',
  },
  { kind: 'allocation', account: 'OTHER-REALM', ip: '100.64.0.12', realm: 'cgn-s', start: T('08:00:00'), end: T('14:00:00'), source: 'pgw' },
  { kind: 'allocation', account: 'SES-1', ip: '100.64.1.20', realm: 'cgn-s', start: T('07:00:00'), end: T('15:00:00'), source: 'pgw' },
  { kind: 'allocation', account: 'SES-2', ip: '100.64.1.21', realm: 'cgn-s', start: T('07:00:00'), end: T('15:00:00'), source: 'pgw' },
  { kind: 'allocation', account: 'DET-5', ip: '100.65.0.5', realm: 'cgn-d', start: T('00:00:00'), end: null, source: 'pgw' },
  { kind: 'allocation', account: 'DET-6', ip: '100.65.0.6', realm: 'cgn-d', start: T('00:00:00'), end: null, source: 'pgw' },
  {
    kind: 'nat-block',
    realm: 'cgn-a',
    insideIp: '100.64.0.12',
    outsideIp: '203.0.113.7',
    portFirst: 1024,
    portLast: 1535,
    start: T('09:00:00'),
    end: T('11:00:00'),
  },
  {
    kind: 'nat-block',
    realm: 'cgn-a',
    insideIp: '100.64.0.13',
    outsideIp: '203.0.113.7',
    portFirst: 1536,
    portLast: 2047,
    start: T('09:00:00'),
    end: T('11:00:00'),
  },
  {
    kind: 'nat-block',
    realm: 'cgn-a',
    insideIp: '100.64.0.13',
    outsideIp: '203.0.113.8',
    portFirst: 1024,
    portLast: 1535,
    protocol: 'udp',
    start: T('09:00:00'),
    end: T('11:00:00'),
  },
  {
    kind: 'nat-session',
    realm: 'cgn-s',
    insideIp: '100.64.1.20',
    insidePort: 50000,
    outsideIp: '203.0.113.70',
    outsidePort: 40001,
    destinationIp: '192.0.2.80',
    destinationPort: 443,
    protocol: 'tcp',
    start: T('09:59:30'),
    end: T('10:05:00'),
  },
  {
    kind: 'nat-session',
    realm: 'cgn-s',
    insideIp: '100.64.1.21',
    insidePort: 50001,
    outsideIp: '203.0.113.70',
    outsidePort: 40001,
    destinationIp: '192.0.2.99',
    destinationPort: 443,
    protocol: 'tcp',
    start: T('09:58:00'),
    end: T('10:02:00'),
  },
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
];

/** An operator built to raise each risk flag: leases that change hands, a café, a lost stop, a 12-hour trap, a DST fold, CGNAT and RFC 7422 shares, coverage gaps. */
export const RISK_OPERATOR = [
  { kind: 'address-space', prefix: '198.51.100.0/25', role: 'dynamic' },
  { kind: 'address-space', prefix: '198.51.100.240/28', role: 'server' },
  { kind: 'address-space', prefix: '192.0.2.0/28', role: 'infrastructure' },
  { kind: 'address-space', prefix: '203.0.113.0/26', role: 'cgnat-outside', realm: 'cgn-a' },
  { kind: 'address-space', prefix: '203.0.113.128/31', role: 'cgnat-outside', realm: 'cgn-d' },
  { kind: 'subscriber', account: 'HOME', type: 'residential' },
  { kind: 'subscriber', account: 'CAFE', type: 'public-wifi' },
  // 198.51.100.7: HOME all day. 198.51.100.8: A until 12:00, B after. 198.51.100.9: CAFE.
  { kind: 'allocation', account: 'HOME', ip: '198.51.100.7', start: T('00:00:00'), end: T('23:59:59'), source: 'dhcp', mac: '02:00:00:00:00:07' },
  { kind: 'allocation', account: 'A', ip: '198.51.100.8', start: T('06:00:00'), end: T('12:00:00'), source: 'dhcp', mac: '02:00:00:00:00:0a' },
  { kind: 'allocation', account: 'B', ip: '198.51.100.8', start: T('12:00:00'), end: T('18:00:00'), source: 'dhcp', mac: '02:00:00:00:00:0b' },
  { kind: 'allocation', account: 'CAFE', ip: '198.51.100.9', start: T('00:00:00'), end: null, source: 'dhcp' },
  { kind: 'allocation', account: 'LOST-STOP', ip: '198.51.100.10', start: T('09:00:00'), end: T('11:00:00'), source: 'radius', endInferred: true },
  // 12-hour trap: 198.51.100.11 is X in the morning, Y in the evening.
  { kind: 'allocation', account: 'X', ip: '198.51.100.11', start: T('00:00:00'), end: T('12:00:00'), source: 'dhcp' },
  { kind: 'allocation', account: 'Y', ip: '198.51.100.11', start: T('12:00:00'), end: T('23:59:59'), source: 'dhcp' },
  // DST, Europe/London, 25 October 2026: 01:00–02:00 BST happens, then 01:00–02:00 GMT again.
  { kind: 'allocation', account: 'FOLD-BST', ip: '198.51.100.12', start: T('00:00:00', '2026-10-25'), end: T('01:00:00', '2026-10-25'), source: 'dhcp' },
  { kind: 'allocation', account: 'FOLD-GMT', ip: '198.51.100.12', start: T('01:00:00', '2026-10-25'), end: T('02:00:00', '2026-10-25'), source: 'dhcp' },
  // CGNAT: two subscribers, blocks on 203.0.113.7; a port handed from one host to another at 10:00.
  { kind: 'allocation', account: 'M1', ip: '100.64.0.1', realm: 'cgn-a', start: T('00:00:00'), end: null, source: 'radius', imsi: '234150000000001' },
  { kind: 'allocation', account: 'M2', ip: '100.64.0.2', realm: 'cgn-a', start: T('00:00:00'), end: null, source: 'radius', imsi: '234150000000002' },
  {
    kind: 'nat-block',
    realm: 'cgn-a',
    insideIp: '100.64.0.1',
    outsideIp: '203.0.113.7',
    portFirst: 1024,
    portLast: 1535,
    start: T('08:00:00'),
    end: T('10:00:00'),
  },
  {
    kind: 'nat-block',
    realm: 'cgn-a',
    insideIp: '100.64.0.2',
    outsideIp: '203.0.113.7',
    portFirst: 1024,
    portLast: 1535,
    start: T('10:00:00'),
    end: T('12:00:00'),
  },
  {
    kind: 'nat-block',
    realm: 'cgn-a',
    insideIp: '100.64.0.2',
    outsideIp: '203.0.113.7',
    portFirst: 1536,
    portLast: 2047,
    start: T('08:00:00'),
    end: T('10:00:00'),
  },
  // Deterministic with RFC 7422 dynamic shares held back.
  { kind: 'allocation', account: 'D0', ip: '100.65.0.0', realm: 'cgn-d', start: T('00:00:00'), end: null, source: 'pgw' },
  {
    kind: 'nat-deterministic',
    realm: 'cgn-d',
    insidePrefix: '100.65.0.0/28',
    outsidePrefix: '203.0.113.128/31',
    portFirst: 1024,
    portLast: 65535,
    algorithm: 'rfc7422',
    ratio: 16,
    dynamicShares: 2,
    start: T('00:00:00'),
    end: null,
  },
  { kind: 'coverage', source: 'dhcp', start: T('14:00:00'), end: T('15:00:00'), status: 'gap' },
  { kind: 'coverage', source: 'cgn-a', start: T('16:00:00'), end: T('17:00:00'), status: 'gap' },
  // The edges of knowledge (issue 15): realm cgn-g, whose allocations come from the feed
  // `gfeed` (with an inferred gap, riskStore); a block to an inside host no allocation
  // holds; an address with more port-less sessions than a lookup returns.
  { kind: 'address-space', prefix: '203.0.113.64/28', role: 'cgnat-outside', realm: 'cgn-g' },
  { kind: 'allocation', account: 'G1', ip: '100.64.9.1', realm: 'cgn-g', start: T('08:00:00'), end: T('12:00:00'), source: 'gfeed' },
  {
    kind: 'nat-block',
    realm: 'cgn-g',
    insideIp: '100.64.9.1',
    outsideIp: '203.0.113.70',
    portFirst: 1024,
    portLast: 2047,
    start: T('08:00:00'),
    end: T('12:00:00'),
  },
  {
    kind: 'nat-block',
    realm: 'cgn-g',
    insideIp: '100.64.9.99',
    outsideIp: '203.0.113.71',
    portFirst: 1024,
    portLast: 2047,
    start: T('08:00:00'),
    end: T('12:00:00'),
  },
];

/** Sessions on 203.0.113.72 between 10:00 and 10:01 (of one inside host no allocation holds), one more than a port-less lookup returns. */
export function cappedSessions(): object[] {
  const start = Date.parse(T('10:00:00'));
  return Array.from({ length: SESSION_ROW_LIMIT + 1 }, (_, k) => ({
    kind: 'nat-session',
    realm: 'cgn-g',
    insideIp: '100.64.9.200',
    insidePort: 1024 + (k % 60000),
    outsideIp: '203.0.113.72',
    outsidePort: 1024 + (k % 64000),
    destinationIp: '192.0.2.80',
    destinationPort: 443,
    protocol: 'tcp',
    start: new Date(start + (k % 1000)).toISOString(),
    end: new Date(start + 60_000 + k).toISOString(),
  }));
}

/** The inferred gap riskStore gives `gfeed`: silent 09:00–09:30 though it logged 3 events a minute either side. */
export const GFEED_GAP = {
  source: 'gfeed',
  start: Date.parse(T('09:00:00')),
  end: Date.parse(T('09:30:00')),
  rateBefore: 3,
  rateAfter: 3,
  usualRate: 3,
  expectedEvents: 90,
};

/** A fresh store holding `operator`. */
export function operatorStore(operator: readonly object[]): SqliteStore {
  const store = freshStore().store;
  store.write(records(...operator));
  return store;
}

/**
 * A source's fault (issue 16 item 6): ports 2048–2559 of 203.0.113.73 given to two inside
 * hosts at once, 09:00–11:00 (the first holds them 08:00–12:00), each host allocated.
 */
export const OVERLAPPING_BLOCKS: readonly object[] = [
  { kind: 'allocation', account: 'G2', ip: '100.64.9.2', realm: 'cgn-g', start: T('08:00:00'), end: T('12:00:00'), source: 'gfeed' },
  { kind: 'allocation', account: 'G3', ip: '100.64.9.3', realm: 'cgn-g', start: T('08:00:00'), end: T('12:00:00'), source: 'gfeed' },
  {
    kind: 'nat-block',
    realm: 'cgn-g',
    insideIp: '100.64.9.2',
    outsideIp: '203.0.113.73',
    portFirst: 2048,
    portLast: 2559,
    start: T('08:00:00'),
    end: T('12:00:00'),
  },
  {
    kind: 'nat-block',
    realm: 'cgn-g',
    insideIp: '100.64.9.3',
    outsideIp: '203.0.113.73',
    portFirst: 2048,
    portLast: 2559,
    start: T('09:00:00'),
    end: T('11:00:00'),
  },
];

/** A fresh store holding the risk operator, with radius's clock error and a retention horizon. */
export function riskStore(): SqliteStore {
  const store = operatorStore(RISK_OPERATOR);
  store.write(records(...cappedSessions()));
  store.write(records(...OVERLAPPING_BLOCKS));
  // What each source covered, as an ingest records it, and gfeed's inferred gap.
  const recorder = new CoverageRecorder();
  recorder.observe(records(...RISK_OPERATOR));
  store.recordCoverage(recorder.report().map((c) => (c.source === 'gfeed' ? { ...c, inferredGaps: [GFEED_GAP] } : c)));
  store.setSetting('clockError.radius', 5000);
  store.setSetting('retentionHorizon', Date.parse('2026-01-01T00:00:00Z'));
  return store;
}

export type Obs = RequestInput['observations'][number];

/** Resolve one request allowing every candidate to be disclosed: its status, accounts and result. */
export async function accountsIn(
  store: SqliteStore,
  observations: Obs[],
  extra: Partial<RequestInput> = {},
): Promise<{ status: string; accounts: string[]; result: Result }> {
  const [result] = await resolveRequests(store, [{ ref: 'T', observations, returnPolicy: 'allow-multiple', maxCandidates: 1000, ...extra }]);
  expect(Result.safeParse(result).success).toBe(true);
  return { status: result!.status, accounts: result!.candidates.map((c) => c.account), result: result! };
}

/** Resolve one request with a second of tolerance, under the default policy. */
export async function resolveIn(store: SqliteStore, observations: Obs[], extra: Partial<RequestInput> = {}): Promise<Result> {
  const [r] = await resolveRequests(store, [{ ref: 'R', observations, toleranceSeconds: 1, ...extra }]);
  expect(Result.safeParse(r).success).toBe(true);
  return r!;
}

export const codes = (r: Result) => r.risks.map((k) => k.code);
export const risk = (r: Result, code: string) => r.risks.find((k) => k.code === code);
