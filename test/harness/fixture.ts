/** A hand-made operator for the harness's table tests: one dynamic address, one CGNAT address with two blocks. */
import type { CanonicalRecordInput } from '../../src/records.js';

export const RECORDS: CanonicalRecordInput[] = [
  { kind: 'address-space', prefix: '198.51.100.0/24', role: 'dynamic' },
  { kind: 'address-space', prefix: '198.51.100.6/32', role: 'server' },
  { kind: 'address-space', prefix: '203.0.113.0/24', role: 'cgnat-outside', realm: 'r' },
  {
    kind: 'allocation',
    account: 'A',
    ip: '198.51.100.7',
    start: '2026-03-28T08:00:00Z',
    end: '2026-03-28T09:00:00Z',
    source: 'dhcp',
    mac: '02:00:00:00:00:0a',
  },
  { kind: 'allocation', account: 'B', ip: '198.51.100.7', start: '2026-03-28T09:30:00Z', end: null, source: 'dhcp', mac: '02:00:00:00:00:0b' },
  {
    kind: 'nat-block',
    realm: 'r',
    insideIp: '100.64.0.1',
    outsideIp: '203.0.113.7',
    portFirst: 1024,
    portLast: 1535,
    start: '2026-03-28T10:00:00Z',
    end: '2026-03-28T10:30:00Z',
  },
  {
    kind: 'nat-block',
    realm: 'r',
    insideIp: '100.64.0.2',
    outsideIp: '203.0.113.7',
    portFirst: 1536,
    portLast: 2047,
    start: '2026-03-28T10:10:00Z',
    end: '2026-03-28T11:00:00Z',
  },
  {
    kind: 'allocation',
    account: 'C',
    ip: '100.64.0.1',
    realm: 'r',
    start: '2026-03-28T09:00:00Z',
    end: '2026-03-28T10:20:00Z',
    source: 'pgw',
    imsi: '234150000000003',
  },
  { kind: 'allocation', account: 'D', ip: '100.64.0.1', realm: 'r', start: '2026-03-28T10:20:00Z', end: null, source: 'pgw', imsi: '234150000000004' },
  { kind: 'allocation', account: 'E', ip: '100.64.0.2', realm: 'r', start: '2026-03-28T09:00:00Z', end: null, source: 'pgw', imsi: '234150000000005' },
];

/** A one-observation request. */
export function ask(
  sourceIp: string,
  time: string | { local: string; timeZone: string },
  extra: { sourcePort?: number; toleranceSeconds?: number; imsi?: string } = {},
) {
  return {
    ref: 'T',
    observations: [{ sourceIp, time, ...(extra.sourcePort === undefined ? {} : { sourcePort: extra.sourcePort }) }],
    toleranceSeconds: extra.toleranceSeconds ?? 0,
    ...(extra.imsi === undefined ? {} : { identifiers: { imsi: extra.imsi } }),
  };
}
