/**
 * A simulated operator's internet connection records (issue 19), with the truth of who
 * visited what. Pure and deterministic (its own {@link Rng} streams), documentation ranges
 * only: accounts on public addresses in 198.51.100.0/24 (each address changes hands once,
 * at the middle of the period, so records without an account must be attributed through
 * the allocation) and behind a session-logging CGNAT in 100.64.0.0/10 (their connections
 * are NAT sessions with a destination, outside address 203.0.113.0/26); services on
 * addresses of 192.0.2.0/24, a few of them shared hosting addresses carrying two services.
 * The truth comes from the generator's own bookkeeping, never from the matcher.
 */
import type { CanonicalRecordInput } from '../src/records.js';
import { Rng } from './random.js';

export interface ConnectionWorldConfig {
  /** Accounts on public addresses (at most 254: one /24). */
  readonly publicAccounts: number;
  /** Accounts behind the CGNAT realm `sim-icr` (connections logged as NAT sessions). */
  readonly natAccounts: number;
  /** Services, each on one or two addresses of 192.0.2.0/24. */
  readonly services: number;
  /** Services that share their address with another service (hosting, CDN). */
  readonly sharedServices: number;
  /** Visits per account over the period (each to one service, a few minutes long). */
  readonly visitsPerAccount: number;
  /** The period's start (epoch ms) and length. */
  readonly start: number;
  readonly hours: number;
}

/** Who visited what, and when: one line of the truth. */
export interface Visit {
  readonly account: string;
  readonly service: string;
  readonly destinationIp: string;
  readonly destinationPort: number;
  readonly start: number;
  readonly end: number;
}

export interface ConnectionWorld {
  readonly records: CanonicalRecordInput[];
  readonly visits: Visit[];
  /** Each service's addresses (a shared address appears under two services). */
  readonly services: ReadonlyMap<string, readonly string[]>;
}

export const DEFAULT_CONNECTION_WORLD: ConnectionWorldConfig = {
  publicAccounts: 40,
  natAccounts: 20,
  services: 12,
  sharedServices: 2,
  visitsPerAccount: 12,
  start: Date.parse('2026-03-28T00:00:00Z'),
  hours: 24,
};

const iso = (ms: number): string => new Date(ms).toISOString();
const MINUTE = 60_000;

/**
 * Simulate a period of connections.
 *
 * @example
 * const { records, visits } = simulateConnections(DEFAULT_CONNECTION_WORLD, 7);
 * visits.filter((v) => v.service === 'svc-01').map((v) => v.account); // who used svc-01
 */
export function simulateConnections(config: ConnectionWorldConfig, seed: number): ConnectionWorld {
  const rng = new Rng(seed, 19);
  const { start, hours } = config;
  const end = start + hours * 3_600_000;
  const half = start + Math.floor((end - start) / 2 / MINUTE) * MINUTE;
  const records: CanonicalRecordInput[] = [
    { kind: 'address-space', prefix: '198.51.100.0/24', role: 'dynamic' },
    { kind: 'address-space', prefix: '203.0.113.0/26', role: 'cgnat-outside', realm: 'sim-icr' },
    { kind: 'address-space', prefix: '192.0.2.0/24', role: 'server' },
  ];
  // Services: svc-00 … on 192.0.2.10+i; a shared service sits on the address of the service before it.
  const services = new Map<string, string[]>();
  for (let i = 0; i < config.services; i++) {
    const name = `svc-${String(i).padStart(2, '0')}`;
    const shared = i > 0 && i >= config.services - config.sharedServices;
    services.set(name, shared ? [`192.0.2.${10 + i - 1}`] : i % 3 === 0 ? [`192.0.2.${10 + i}`, `192.0.2.${110 + i}`] : [`192.0.2.${10 + i}`]);
  }
  const names = [...services.keys()];
  const n = config.publicAccounts;
  const accounts: { name: string; nat: boolean; index: number }[] = [];
  for (let i = 0; i < n; i++) accounts.push({ name: `ICR-P${String(i).padStart(4, '0')}`, nat: false, index: i });
  for (let i = 0; i < config.natAccounts; i++) accounts.push({ name: `ICR-N${String(i).padStart(4, '0')}`, nat: true, index: i });
  // Public account i holds 198.51.100.(1+i) before the middle, 198.51.100.(1+(i+1) mod n) after.
  const publicIp = (i: number, t: number): string => `198.51.100.${1 + (t < half ? i : (i + 1) % n)}`;
  for (const a of accounts) {
    records.push({ kind: 'subscriber', account: a.name, type: a.nat ? 'mobile' : 'residential' });
    if (a.nat) {
      records.push({
        kind: 'allocation',
        account: a.name,
        ip: `100.64.${a.index >> 8}.${a.index & 255}`,
        realm: 'sim-icr',
        start: iso(start),
        end: iso(end),
        source: 'pgw',
      });
    } else {
      records.push({ kind: 'allocation', account: a.name, ip: publicIp(a.index, start), start: iso(start), end: iso(half), source: 'dhcp' });
      records.push({ kind: 'allocation', account: a.name, ip: publicIp(a.index, half), start: iso(half), end: iso(end), source: 'dhcp' });
    }
  }
  const visits: Visit[] = [];
  let natPort = 1024;
  for (const a of accounts) {
    // Each account favours a few services.
    const favourites = [names[rng.int(names.length)]!, names[rng.int(names.length)]!, names[rng.int(names.length)]!];
    for (let v = 0; v < config.visitsPerAccount; v++) {
      const service = favourites[rng.int(favourites.length)]!;
      const addresses = services.get(service)!;
      const destinationIp = addresses[rng.int(addresses.length)]!;
      const destinationPort = rng.chance(0.8) ? 443 : 80;
      let s = start + rng.int((end - start) / MINUTE - 10) * MINUTE + rng.int(60) * 1000;
      const length = (1 + rng.int(5)) * MINUTE;
      // No visit spans the middle, where public addresses change hands.
      if (s < half && s + length > half) s = half;
      const e = s + length;
      visits.push({ account: a.name, service, destinationIp, destinationPort, start: s, end: e });
      if (a.nat) {
        natPort = natPort >= 65000 ? 1024 : natPort + 1;
        records.push({
          kind: 'nat-session',
          realm: 'sim-icr',
          insideIp: `100.64.${a.index >> 8}.${a.index & 255}`,
          insidePort: 40000 + v,
          outsideIp: `203.0.113.${1 + (a.index % 60)}`,
          outsidePort: natPort,
          destinationIp,
          destinationPort,
          protocol: 'tcp',
          start: iso(s),
          end: iso(e),
        });
      } else {
        const withAccount = rng.chance(0.5);
        records.push({
          kind: 'connection',
          ...(withAccount ? { account: a.name } : {}),
          sourceIp: publicIp(a.index, s),
          sourcePort: 20000 + v * 7 + (a.index % 7),
          destinationIp,
          destinationPort,
          protocol: 'tcp',
          start: iso(s),
          end: iso(e),
          bytesUp: rng.int(10_000),
          bytesDown: rng.int(1_000_000),
          // The operator names the service only where it can tell (shared addresses carry both names).
          ...(rng.chance(0.7) ? { service } : {}),
        });
      }
    }
  }
  return { records, visits, services };
}
