import { describe, expect, test } from 'vitest';
import { problemsFromZod } from '../src/problems.js';
import { CanonicalRecord, toWritten } from '../src/records.js';

const T0 = '2026-03-28T10:00:00Z';
const T1 = '2026-03-28T11:00:00Z';

const valid: Record<string, object> = {
  'address-space with realm': { kind: 'address-space', prefix: '203.0.113.0/24', role: 'cgnat-outside', realm: 'cgn-a' },
  'address-space IPv6': { kind: 'address-space', prefix: '2001:db8::/32', role: 'dynamic' },
  subscriber: { kind: 'subscriber', account: 'ACC-000001', type: 'public-wifi' },
  'allocation open': { kind: 'allocation', account: 'A', ip: '198.51.100.7', start: T0, end: null, source: 'dhcp' },
  'allocation delegated prefix': { kind: 'allocation', account: 'A', ip: '2001:db8:12:3400::/56', start: T0, end: T1, source: 'dhcpv6-pd' },
  'allocation with identifiers': {
    kind: 'allocation',
    account: 'A',
    ip: '100.64.0.1',
    realm: 'cgn-a',
    start: '2026-03-28T11:00:00+01:00',
    end: T1,
    source: 'pgw',
    imsi: '234150000000001',
    msisdn: '+447700900001',
    imei: '35693803564001',
    mac: '02-00-5E-10-00-01',
    sessionId: 's1',
    endInferred: true,
  },
  'nat-block': {
    kind: 'nat-block',
    realm: 'cgn-a',
    insideIp: '100.64.0.12',
    outsideIp: '203.0.113.7',
    portFirst: 1024,
    portLast: 1535,
    protocol: 'tcp',
    start: T0,
    end: null,
  },
  'nat-block single port': {
    kind: 'nat-block',
    realm: 'cgn-a',
    insideIp: '100.64.0.12',
    outsideIp: '203.0.113.7',
    portFirst: 80,
    portLast: 80,
    start: T0,
    end: T0,
  },
  'nat-session': {
    kind: 'nat-session',
    realm: 'cgn-s',
    insideIp: '100.64.1.1',
    insidePort: 5000,
    outsideIp: '203.0.113.70',
    outsidePort: 40001,
    destinationIp: '192.0.2.80',
    destinationPort: 443,
    protocol: 'tcp',
    start: T0,
    end: T1,
  },
  'nat-session IPv6 inside (DS-Lite)': {
    kind: 'nat-session',
    realm: 'b4',
    insideIp: '2001:db8::1',
    insidePort: 5000,
    outsideIp: '203.0.113.70',
    outsidePort: 40001,
    protocol: 'udp',
    start: T0,
    end: T1,
  },
  'nat-deterministic rfc7422': {
    kind: 'nat-deterministic',
    realm: 'cgn-d',
    insidePrefix: '100.64.0.0/28',
    outsidePrefix: '203.0.113.1/32',
    portFirst: 1024,
    portLast: 65535,
    algorithm: 'rfc7422',
    ratio: 16,
    dynamicShares: 2,
    start: T0,
    end: null,
  },
  'nat-deterministic vpp-det44': {
    kind: 'nat-deterministic',
    realm: 'cgn-d',
    insidePrefix: '198.18.0.0/15',
    outsidePrefix: '203.0.113.128/25',
    portFirst: 1024,
    portLast: 65535,
    algorithm: 'vpp-det44',
    start: T0,
    end: null,
  },
  coverage: { kind: 'coverage', source: 'cgn-a', start: T0, end: T1, status: 'gap' },
};

const invalid: [string, object, string, string][] = [
  [
    'instant without offset',
    { kind: 'allocation', account: 'A', ip: '198.51.100.7', start: '2026-03-28T10:00:00', end: null, source: 'dhcp' },
    'start',
    'INSTANT_WITHOUT_OFFSET',
  ],
  [
    'no such date',
    { kind: 'allocation', account: 'A', ip: '198.51.100.7', start: '2026-02-30T10:00:00Z', end: null, source: 'dhcp' },
    'start',
    'INVALID_INSTANT',
  ],
  ['end before start', { kind: 'allocation', account: 'A', ip: '198.51.100.7', start: T1, end: T0, source: 'dhcp' }, 'end', 'END_BEFORE_START'],
  ['bad address', { kind: 'allocation', account: 'A', ip: '198.51.100.300', start: T0, end: null, source: 'dhcp' }, 'ip', 'INVALID_ADDRESS'],
  ['prefix with host bits', { kind: 'address-space', prefix: '203.0.113.7/24', role: 'dynamic' }, 'prefix', 'HOST_BITS_SET'],
  ['prefix where an address is needed', { ...valid['nat-block'], insideIp: '100.64.0.0/24' }, 'insideIp', 'INVALID_ADDRESS'],
  ['port above 65535', { ...valid['nat-block'], portLast: 65536 }, 'portLast', 'OUT_OF_RANGE'],
  ['negative port', { ...valid['nat-session'], outsidePort: -1 }, 'outsidePort', 'OUT_OF_RANGE'],
  ['portFirst > portLast', { ...valid['nat-block'], portFirst: 2000, portLast: 1999 }, 'portFirst', 'PORT_RANGE_REVERSED'],
  ['unknown kind', { kind: 'lease', account: 'A' }, 'kind', 'UNKNOWN_VALUE'],
  ['unknown role', { kind: 'address-space', prefix: '203.0.113.0/24', role: 'pool' }, 'role', 'UNKNOWN_VALUE'],
  ['unknown subscriber type', { kind: 'subscriber', account: 'A', type: 'vip' }, 'type', 'UNKNOWN_VALUE'],
  ['unknown field', { ...valid['subscriber'], colour: 'red' }, 'colour', 'UNKNOWN_FIELD'],
  ['missing end', { kind: 'coverage', source: 'x', start: T0, status: 'gap' }, 'end', 'MISSING_FIELD'],
  ['cgnat-outside without realm', { kind: 'address-space', prefix: '203.0.113.0/24', role: 'cgnat-outside' }, 'realm', 'MISSING_FIELD'],
  ['port as string', { ...valid['nat-block'], portFirst: '1024' }, 'portFirst', 'WRONG_TYPE'],
  ['bad IMSI', { ...valid['allocation open'], imsi: '12ab' }, 'imsi', 'INVALID_FORMAT'],
  ['unknown algorithm', { ...valid['nat-deterministic vpp-det44'], algorithm: 'magic' }, 'algorithm', 'UNKNOWN_VALUE'],
  ['rfc7422 without ratio', { ...valid['nat-deterministic vpp-det44'], algorithm: 'rfc7422' }, 'ratio', 'MISSING_FIELD'],
  ['rfc7422 all shares dynamic', { ...valid['nat-deterministic rfc7422'], dynamicShares: 16 }, 'dynamicShares', 'OUT_OF_RANGE'],
];

describe('canonical records: valid', () => {
  test.each(Object.entries(valid))('%s', (_name, input) => {
    const r = CanonicalRecord.safeParse(input);
    expect(r.success ? [] : problemsFromZod(r.error, input)).toEqual([]);
  });

  test('times become UTC epoch ms whatever the offset', () => {
    const r = CanonicalRecord.parse(valid['allocation with identifiers']);
    expect(r.kind === 'allocation' && r.start).toBe(Date.parse('2026-03-28T10:00:00Z'));
  });

  test('identifiers are normalised', () => {
    const r = CanonicalRecord.parse(valid['allocation with identifiers']);
    expect(r.kind === 'allocation' && [r.mac, r.msisdn]).toEqual(['02:00:5e:10:00:01', '447700900001']);
  });

  test.each(Object.entries(valid))('%s survives toWritten and parse again', (_name, input) => {
    const once = CanonicalRecord.parse(input);
    expect(CanonicalRecord.parse(toWritten(once))).toEqual(once);
  });
});

describe('canonical records: rejected with the field named', () => {
  test.each(invalid)('%s', (_name, input, field, reason) => {
    const r = CanonicalRecord.safeParse(input);
    expect(r.success).toBe(false);
    if (r.success) return;
    const problems = problemsFromZod(r.error, input);
    expect(problems.map((p) => [p.field, p.reason])).toContainEqual([field, reason]);
  });
});
