/**
 * Service-users (9.25, Condition D) and connection-records (9.7–9.13) requests: the
 * evidence paths (connection records with and without an account, NAT sessions with a
 * destination through the inside host's allocation), each guardrail refusal and flag by
 * name, and the disclosure of records (9.13).
 */
import { afterEach, describe, expect, test } from 'vitest';
import { estimateRequests, resolveRequests } from '../../matcher/pipeline.js';
import { auditDraft } from '../../src/audit/audited.js';
import type { SqliteStore } from '../../src/store/sqlite/store.js';
import { freshStore, records } from '../support/index.js';

const T = (hms: string) => `2026-03-28T${hms}Z`;
const D = { authorityType: 'national-crime-agency', condition: 'D', purpose: 'serious-crime' } as const;
const A = { authorityType: 'police', condition: 'A', purpose: 'serious-crime' } as const;

const conn = (extra: object) => ({ kind: 'connection', destinationPort: 443, protocol: 'tcp', start: T('10:00:00'), end: T('10:05:00'), ...extra });

/**
 * Three accounts on public addresses (A, B, C), one behind a session-logging CGNAT (N),
 * one behind a port-block CGNAT (P, no destination logged). Service X on 192.0.2.80,
 * service Y on 192.0.2.90, a shared hosting address 192.0.2.100 (two services).
 */
const WORLD = records(
  { kind: 'address-space', prefix: '198.51.100.0/24', role: 'dynamic' },
  { kind: 'address-space', prefix: '203.0.113.0/26', role: 'cgnat-outside', realm: 'cgn-s' },
  { kind: 'address-space', prefix: '203.0.113.64/26', role: 'cgnat-outside', realm: 'cgn-b' },
  { kind: 'allocation', account: 'A', ip: '198.51.100.1', start: T('00:00:00'), end: T('23:59:59'), source: 'dhcp' },
  { kind: 'allocation', account: 'B', ip: '198.51.100.2', start: T('00:00:00'), end: T('23:59:59'), source: 'dhcp' },
  { kind: 'allocation', account: 'C', ip: '198.51.100.3', start: T('00:00:00'), end: T('23:59:59'), source: 'dhcp' },
  { kind: 'allocation', account: 'N', ip: '100.64.0.9', realm: 'cgn-s', start: T('00:00:00'), end: T('23:59:59'), source: 'pgw' },
  { kind: 'allocation', account: 'P', ip: '100.64.1.9', realm: 'cgn-b', start: T('00:00:00'), end: T('23:59:59'), source: 'pgw' },
  {
    kind: 'nat-block',
    realm: 'cgn-b',
    insideIp: '100.64.1.9',
    outsideIp: '203.0.113.70',
    portFirst: 1024,
    portLast: 2047,
    start: T('00:00:00'),
    end: T('23:59:59'),
  },
  // A: X twice (with an account), Y once (attributed by source address).
  conn({ account: 'A', sourceIp: '198.51.100.1', sourcePort: 50000, destinationIp: '192.0.2.80', service: 'x' }),
  conn({ account: 'A', sourceIp: '198.51.100.1', sourcePort: 50001, destinationIp: '192.0.2.80', start: T('11:00:00'), end: T('11:01:00'), service: 'x' }),
  conn({
    sourceIp: '198.51.100.1',
    sourcePort: 50002,
    destinationIp: '192.0.2.90',
    start: T('12:00:00'),
    end: T('12:01:00'),
    service: 'y',
    bytesUp: 100,
    bytesDown: 2000,
  }),
  // B: X once; a travel site on the shared hosting address.
  conn({ account: 'B', sourceIp: '198.51.100.2', sourcePort: 40000, destinationIp: '192.0.2.80', service: 'x' }),
  conn({ account: 'B', sourceIp: '198.51.100.2', sourcePort: 40001, destinationIp: '192.0.2.100', service: 'travel' }),
  // C: Y only, and the shared address under another service.
  conn({ account: 'C', sourceIp: '198.51.100.3', sourcePort: 30000, destinationIp: '192.0.2.90', start: T('12:30:00'), end: T('12:31:00'), service: 'y' }),
  conn({ account: 'C', sourceIp: '198.51.100.3', sourcePort: 30001, destinationIp: '192.0.2.100', service: 'forum' }),
  // N: X and Y through NAT sessions that logged the destination.
  {
    kind: 'nat-session',
    realm: 'cgn-s',
    insideIp: '100.64.0.9',
    insidePort: 6000,
    outsideIp: '203.0.113.7',
    outsidePort: 41000,
    destinationIp: '192.0.2.80',
    destinationPort: 443,
    protocol: 'tcp',
    start: T('10:20:00'),
    end: T('10:21:00'),
  },
  {
    kind: 'nat-session',
    realm: 'cgn-s',
    insideIp: '100.64.0.9',
    insidePort: 6001,
    outsideIp: '203.0.113.7',
    outsidePort: 41001,
    destinationIp: '192.0.2.90',
    destinationPort: 443,
    protocol: 'tcp',
    start: T('12:10:00'),
    end: T('12:11:00'),
  },
);

const layer = (destinations: string[], from: string, to: string, extra: object = {}) => ({
  service: { destinations, ...extra },
  window: { from: T(from), to: T(to) },
});
const X = (extra: object = {}) => layer(['192.0.2.80'], '09:00:00', '13:00:00', extra);
const Y = (extra: object = {}) => layer(['192.0.2.90'], '09:00:00', '13:00:00', extra);
const users = (layers: object[], extra: object = {}) => ({
  ref: 'S',
  kind: 'service-users',
  authorisation: D,
  layers,
  returnPolicy: 'allow-multiple',
  ...extra,
});

let store: SqliteStore;
afterEach(() => store?.close());
function world(extra: object[] = []): SqliteStore {
  store = freshStore().store;
  store.write([...WORLD, ...records(...extra)]);
  return store;
}
const codes = (r: { risks: readonly { code: string }[] }) => r.risks.map((x) => x.code);

describe('service-users: accounts that connected to every layer (9.25, Condition D)', () => {
  test('one layer: connection records with an account, and NAT sessions through the inside host', async () => {
    const [r] = await resolveRequests(world(), [users([X()])]);
    expect(r!.candidates.map((c) => c.account)).toEqual(['A', 'B', 'N']);
    expect(r!.layers).toEqual([{ index: 0, matched: 3, remaining: 3 }]);
    expect(r!.candidates[0]).toMatchObject({
      account: 'A',
      support: 1,
      of: 1,
      layers: [0],
      connections: 2,
      firstSeen: '2026-03-28T10:00:00.000Z',
      lastSeen: '2026-03-28T11:01:00.000Z',
    });
  });

  test('layers narrow the subjects, each layer counted alone and after the ones before it', async () => {
    const [r] = await resolveRequests(world(), [users([X(), Y()])]);
    expect(r!.candidates.map((c) => c.account)).toEqual(['A', 'N']);
    expect(r!.layers).toEqual([
      { index: 0, matched: 3, remaining: 3 },
      { index: 1, matched: 3, remaining: 2 },
    ]);
    expect(r!.status).toBe('multiple');
  });

  test('a record without an account is attributed through the allocation of its source address', async () => {
    const [r] = await resolveRequests(world(), [users([Y()])]);
    expect(r!.candidates.map((c) => c.account)).toEqual(['A', 'C', 'N']);
  });

  test('minLayers keeps accounts meeting k of n layers', async () => {
    const [r] = await resolveRequests(world(), [users([X(), Y()], { minLayers: 1 })]);
    expect(r!.candidates.map((c) => [c.account, c.support])).toEqual([
      ['A', 2],
      ['B', 1],
      ['C', 1],
      ['N', 2],
    ]);
  });

  test('ports and protocol narrow a service; a window outside the connections finds none', async () => {
    const [ports, udp, late] = await resolveRequests(world(), [
      users([X({ ports: [80] })]),
      users([X({ protocol: 'udp' })]),
      users([layer(['192.0.2.80'], '13:00:00', '14:00:00')]),
    ]);
    expect([ports!.status, udp!.status, late!.status]).toEqual(['none', 'none', 'none']);
  });

  test('a destination prefix covers every address in it', async () => {
    const [r] = await resolveRequests(world(), [users([layer(['192.0.2.64/26'], '09:00:00', '13:00:00')])]);
    expect(r!.candidates.map((c) => c.account)).toEqual(['A', 'B', 'C', 'N']);
  });

  test('single-only withholds several accounts; maxCandidates caps the disclosure', async () => {
    const [single, capped] = await resolveRequests(world(), [users([X()], { returnPolicy: 'single-only' }), users([X()], { maxCandidates: 2 })]);
    expect(single).toMatchObject({ status: 'multiple', candidateCount: 3, withheld: true, candidates: [] });
    expect(capped).toMatchObject({ status: 'multiple', candidateCount: 3, withheld: true, candidates: [] });
  });

  test("nothing of the accounts' other connections is returned", async () => {
    const [r] = await resolveRequests(world(), [users([X()])]);
    const text = JSON.stringify(r);
    expect(text).not.toMatch(/192\.0\.2\.(90|100)|travel|forum|198\.51\.100\./);
  });

  test('estimate: per-layer counts without identities', async () => {
    const [e] = await estimateRequests(world(), [users([X(), Y()])]);
    expect(e).toMatchObject({
      kind: 'service-users',
      candidateCount: 2,
      supportCounts: [2, 2],
      layers: [
        { index: 0, matched: 3, remaining: 3 },
        { index: 1, matched: 3, remaining: 2 },
      ],
    });
    expect(JSON.stringify(e)).not.toMatch(/"(A|B|C|N)"/);
  });

  test('an IP resolution that names its kind is resolved as before; an unknown field of a service-users request is invalid', async () => {
    const s = world();
    const ip = { ref: 'R', observations: [{ sourceIp: '198.51.100.1', time: T('10:00:00') }] };
    const [plain, named, bad] = await resolveRequests(s, [ip, { ...ip, kind: 'ip-resolution' }, { ...users([X()]), colour: 'red' }]);
    expect(named).toEqual(plain);
    expect(bad!.status).toBe('invalid');
    expect(JSON.stringify(bad!.errors)).toMatch(/colour/);
  });
});

describe('service-users guardrails: refusals with their paragraph', () => {
  const refusal = async (request: object, setup?: (s: SqliteStore) => void) => {
    const s = world();
    setup?.(s);
    const [r] = await resolveRequests(s, [request]);
    expect(r!.status).toBe('refused');
    return r!.refusal!;
  };

  test('LOCAL_AUTHORITY_ICR (9.14): a local authority, whatever the condition', async () => {
    expect(await refusal(users([X()], { authorisation: { authorityType: 'local-authority', condition: 'A', purpose: 'crime' } }))).toMatchObject({
      code: 'LOCAL_AUTHORITY_ICR',
      paragraph: '9.14',
    });
    expect(
      await refusal({
        ref: 'C',
        kind: 'connection-records',
        authorisation: { authorityType: 'local-authority', condition: 'A', purpose: 'crime' },
        subject: { account: 'A' },
        window: { from: T('09:00:00'), to: T('13:00:00') },
      }),
    ).toMatchObject({ code: 'LOCAL_AUTHORITY_ICR' });
  });

  test('CONDITION_D_AUTHORITY and CONDITION_D_PURPOSE: only the intelligence community and the NCA, for the permitted purposes', async () => {
    expect(await refusal(users([X()], { authorisation: { ...D, authorityType: 'police' } }))).toMatchObject({
      code: 'CONDITION_D_AUTHORITY',
      paragraph: 'Condition D',
    });
    expect(await refusal(users([X()], { authorisation: { ...D, purpose: 'crime' } }))).toMatchObject({ code: 'CONDITION_D_PURPOSE', paragraph: 'Condition D' });
  });

  test('NOT_KNOWN_EVENT (9.6): condition A with a window longer than a known event', async () => {
    expect(await refusal(users([X()], { authorisation: A }))).toMatchObject({ code: 'NOT_KNOWN_EVENT', paragraph: '9.6' });
    const [ok] = await resolveRequests(world(), [users([layer(['192.0.2.80'], '10:00:00', '11:00:00')], { authorisation: A })]);
    expect(ok!.candidates.map((c) => c.account)).toEqual(['A', 'B', 'N']);
  });

  test('LAYER_WINDOW_TOO_LONG (Condition D): a layer above the store setting (default one day)', async () => {
    const week = { service: { destinations: ['192.0.2.80'] }, window: { from: '2026-03-21T00:00:00Z', to: '2026-03-28T00:00:00Z' } };
    expect(await refusal(users([week]))).toMatchObject({ code: 'LAYER_WINDOW_TOO_LONG', paragraph: 'Condition D' });
    expect(await refusal(users([X()]), (s) => s.setSetting('maxLayerWindow', 3_600_000))).toMatchObject({ code: 'LAYER_WINDOW_TOO_LONG' });
  });

  test('RECORDS_WINDOW_TOO_LONG (9.8): a connection-records window above the same bound', async () => {
    const request = {
      ref: 'C',
      kind: 'connection-records',
      authorisation: A,
      subject: { account: 'A' },
      window: { from: '2026-03-20T00:00:00Z', to: '2026-03-28T00:00:00Z' },
    };
    expect(await refusal(request)).toMatchObject({ code: 'RECORDS_WINDOW_TOO_LONG', paragraph: '9.8' });
  });
});

describe('service-users flags', () => {
  test('SHARED_DESTINATION: an address carrying several services does not prove the service', async () => {
    const [shared, single] = await resolveRequests(world(), [users([layer(['192.0.2.100'], '09:00:00', '13:00:00')]), users([X()])]);
    expect(shared!.risks.find((r) => r.code === 'SHARED_DESTINATION')).toMatchObject({
      kind: 'false-positive',
      paragraph: '9.25',
      detail: { layer: 0, destination: '192.0.2.100', services: 2 },
    });
    expect(codes(single!)).not.toContain('SHARED_DESTINATION');
  });

  test('NO_DESTINATION_LOGGED: a realm logged by port blocks cannot answer, and says so', async () => {
    const [r] = await resolveRequests(world(), [users([X()])]);
    expect(r!.risks.find((x) => x.code === 'NO_DESTINATION_LOGGED')).toMatchObject({ kind: 'false-negative', detail: { realms: ['cgn-b'] } });
    const quiet = freshStore().store;
    quiet.write(WORLD.filter((x) => x.kind !== 'nat-block'));
    const [q] = await resolveRequests(quiet, [users([X()])]);
    quiet.close();
    expect(codes(q!)).not.toContain('NO_DESTINATION_LOGGED');
  });

  test('BELOW_MIN_CONNECTIONS and SINGLE_CONNECTION (2.80): automatic connections', async () => {
    const [strict, lax] = await resolveRequests(world(), [users([X()], { minConnections: 2 }), users([X()])]);
    expect(strict!.candidates.map((c) => c.account)).toEqual(['A']);
    expect(strict!.risks.find((r) => r.code === 'BELOW_MIN_CONNECTIONS')).toMatchObject({
      paragraph: '2.80',
      detail: { layer: 0, accounts: 2, minConnections: 2 },
    });
    expect(codes(strict!)).not.toContain('SINGLE_CONNECTION');
    expect(lax!.risks.find((r) => r.code === 'SINGLE_CONNECTION')).toMatchObject({ kind: 'false-positive', detail: { layer: 0, candidates: 2 } });
    expect(codes(lax!)).not.toContain('BELOW_MIN_CONNECTIONS');
  });

  test('CONNECTION_COVERAGE_GAP: a declared gap over a layer window', async () => {
    const [gap] = await resolveRequests(world([{ kind: 'coverage', source: 'icr', start: T('09:30:00'), end: T('09:45:00'), status: 'gap' }]), [
      users([X(), layer(['192.0.2.90'], '12:00:00', '13:00:00')]),
    ]);
    expect(gap!.risks.filter((r) => r.code === 'CONNECTION_COVERAGE_GAP').map((r) => r.detail)).toEqual([
      { layer: 0, gaps: [{ source: 'icr', start: '2026-03-28T09:30:00.000Z', end: '2026-03-28T09:45:00.000Z' }] },
    ]);
  });
});

describe("connection-records: a subject's records in a window (9.7–9.13)", () => {
  const window = { from: T('09:00:00'), to: T('13:00:00') };
  const records_ = (subject: object, extra: object = {}) => ({ ref: 'C', kind: 'connection-records', authorisation: A, subject, window, ...extra });

  test('by account: the records of the services asked for; others held back and counted (9.13)', async () => {
    const [r] = await resolveRequests(world(), [records_({ account: 'B' }, { services: [{ destinations: ['192.0.2.80'] }] })]);
    expect(r).toMatchObject({ kind: 'connection-records', status: 'unique', candidateCount: 1, heldBack: 1 });
    expect(r!.connections!.map((c) => c.destinationIp)).toEqual(['192.0.2.80']);
    expect(JSON.stringify(r)).not.toMatch(/192\.0\.2\.100|travel/);
  });

  test('the audit entry names the records disclosed', async () => {
    const request = records_({ account: 'B' }, { services: [{ destinations: ['192.0.2.80'] }] });
    const [r] = await resolveRequests(world(), [request]);
    expect(auditDraft('resolve', { request }, r!).records).toEqual(r!.connections!.map((c) => c.id));
    expect(r!.connections!.length).toBe(1);
  });

  test('all: every record of the subject, none held back', async () => {
    const [r] = await resolveRequests(world(), [records_({ account: 'B' }, { all: true })]);
    expect(r!.connections!.map((c) => c.service)).toEqual(['x', 'travel']);
    expect(r!.heldBack).toBe(0);
  });

  test('no services named: every record of the subject is of interest, none held back', async () => {
    const [r] = await resolveRequests(world(), [records_({ account: 'B' })]);
    expect(r!.connections!.map((c) => c.service)).toEqual(['x', 'travel']);
    expect(r!.heldBack).toBe(0);
  });

  test('by source address and time: resolved first, then its records with and without an account', async () => {
    const [r] = await resolveRequests(world(), [records_({ sourceIp: '198.51.100.1', time: T('10:00:00') }, { all: true })]);
    expect(r!.candidates.map((c) => c.account)).toEqual(['A']);
    expect(r!.connections!.map((c) => [c.destinationIp, c.start])).toEqual([
      ['192.0.2.80', '2026-03-28T10:00:00.000Z'],
      ['192.0.2.80', '2026-03-28T11:00:00.000Z'],
      ['192.0.2.90', '2026-03-28T12:00:00.000Z'],
    ]);
    expect(r!.connections![2]).toMatchObject({ bytesUp: 100, bytesDown: 2000, service: 'y' });
  });

  test("behind a session-logging CGNAT: the inside host's sessions with a destination", async () => {
    const [r] = await resolveRequests(world(), [records_({ sourceIp: '203.0.113.7', sourcePort: 41000, time: T('10:20:30') }, { all: true })]);
    expect(r!.candidates.map((c) => c.account)).toEqual(['N']);
    expect(r!.connections!.map((c) => [c.kind, c.destinationIp])).toEqual([
      ['nat-session', '192.0.2.80'],
      ['nat-session', '192.0.2.90'],
    ]);
  });

  test('behind a port-block CGNAT: nothing to list, NO_DESTINATION_LOGGED says why', async () => {
    const [r] = await resolveRequests(world(), [records_({ sourceIp: '203.0.113.70', sourcePort: 1500, time: T('10:20:30') }, { all: true })]);
    expect(r!.candidates.map((c) => c.account)).toEqual(['P']);
    expect(r!.connections).toEqual([]);
    expect(codes(r!)).toContain('NO_DESTINATION_LOGGED');
  });

  test('a subject address shared by several accounts discloses no record', async () => {
    const second = [
      { kind: 'allocation', account: 'Q', ip: '100.64.1.10', realm: 'cgn-b', start: T('00:00:00'), end: T('23:59:59'), source: 'pgw' },
      {
        kind: 'nat-block',
        realm: 'cgn-b',
        insideIp: '100.64.1.10',
        outsideIp: '203.0.113.70',
        portFirst: 2048,
        portLast: 3071,
        start: T('00:00:00'),
        end: T('23:59:59'),
      },
    ];
    const [r] = await resolveRequests(world(second), [records_({ sourceIp: '203.0.113.70', time: T('10:20:30') }, { all: true })]);
    expect(r).toMatchObject({ status: 'multiple', candidateCount: 2, withheld: true, candidates: [] });
    expect(r!.connections).toEqual([]);
  });

  test('estimate: how many records, how many held back, no records', async () => {
    const [e] = await estimateRequests(world(), [records_({ account: 'B' }, { services: [{ destinations: ['192.0.2.80'] }] })]);
    expect(e).toMatchObject({ kind: 'connection-records', connectionCount: 1, heldBack: 1 });
    expect(JSON.stringify(e)).not.toMatch(/192\.0\.2\.(80|100)|"B"/);
  });
});
