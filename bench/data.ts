/**
 * Synthetic canonical records for benchmarks: a deterministic operator, in time order
 * (how exports arrive). Not the simulator: benchmarks need only a realistic shape, fast.
 *
 * Two generators share the same per-slot records:
 * - the legacy mix ({@link syntheticLine}, {@link writeSynthetic}, {@link syntheticRequest}):
 *   per one-second slot, a public DHCP lease, a CGNAT inside allocation and a port block;
 * - the operator ({@link operatorRecord}, {@link operatorLine}, {@link operatorRequest}):
 *   the legacy mix plus, per group of 8 slots, an IPv6 delegated prefix, a per-session
 *   NAT record with a destination, a port block on a pool with one holder per address at
 *   a time, and an inside allocation behind one deterministic NAT record. 24 of every 28
 *   records are the legacy mix, so record counts mean the same in both.
 *
 * Address plan (documentation ranges only, 100.64.0.0/10 inside):
 *
 * | range | what |
 * | --- | --- |
 * | 198.51.100.0/24 | public dynamic pool (DHCP leases of 200 s, each address reused every 256 s) |
 * | 2001:db8:8000::/40 | delegated /56 prefixes (two hours each) |
 * | 203.0.113.0/26 | CGNAT outside, port blocks of 512 ports, ~28 holders an address at a time |
 * | 203.0.113.64/26 | CGNAT outside, one port block an address at a time (a port-less observation resolves unique) |
 * | 203.0.113.128/26 | CGNAT outside, logged per session (with destination) |
 * | 192.0.2.0/26 | deterministic NAT outside (RFC 7422, 256 shares of 252 ports an address) |
 * | 192.0.2.128/25 | destinations (servers on the internet) |
 * | 100.64.0.0/16 | CGNAT inside (realm cgn-a), allocations of two hours |
 * | 100.65.0.0/18 | deterministic NAT inside (realm cgn-d), allocations of two hours |
 */
import { createWriteStream } from 'node:fs';
import { parseAddress, type Address } from '../src/address.js';
import { CanonicalRecord } from '../src/records.js';
import type { RequestInput } from '../src/request.js';

/**
 * Bump when any record or request the operator generator makes changes: cached stores
 * (bench/stores.ts) are keyed by it.
 */
export const OPERATOR_VERSION = 1;

const BASE = Date.parse('2026-03-01T00:00:00Z');
const SECOND = 1000;

function v4(base: number, i: number): string {
  const n = base + i;
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}
const PUBLIC = (198 << 24) | (51 << 16) | (100 << 8);
const OUTSIDE = (203 << 24) | (0 << 16) | (113 << 8);
const OUTSIDE_ONE_HOLDER = OUTSIDE + 64;
const OUTSIDE_SESSIONS = OUTSIDE + 128;
const DET_OUTSIDE = (192 << 24) | (0 << 16) | (2 << 8);
const DESTINATIONS = DET_OUTSIDE + 128;
const INSIDE = (100 << 24) | (64 << 16);
const DET_INSIDE = (100 << 24) | (65 << 16);
/** Deterministic NAT: 100.65.0.0/18 (16,384 inside) onto 192.0.2.0/26 (64 outside), 256 shares of 252 ports. */
const DET_SHARES = 256;
const DET_SHARE_PORTS = Math.floor(64512 / DET_SHARES);
const DET_INSIDE_COUNT = 16_384;

const pad = (n: number, width: number) => String(n).padStart(width, '0');
const slotStart = (slot: number) => BASE + slot * SECOND;
const mobile = (slot: number) => `MOB-${pad(slot % 100_000, 6)}`;
const residential = (n: number) => `ACC-${pad(n % 100_000, 6)}`;
const imsiOf = (slot: number) => `23415${pad(slot % 100_000, 10)}`;
const blockFirst = (slot: number) => 1024 + (slot % 126) * 512;

/**
 * A record before its times are written: the fields in the order they are written, with
 * `start` and `end` as epoch ms. {@link lineOf} and {@link recordOf} render it.
 */
type Spec = Record<string, string | number | boolean | null>;

// ---- the legacy mix: three records a slot ---------------------------------------------

function legacySpec(slot: number, kind: number): Spec {
  const start = slotStart(slot);
  switch (kind) {
    case 0: {
      // A subscriber keeps its router (MAC) across leases, as in real DHCP logs.
      const sub = slot % 100_000;
      const mac = `02:00:5e:${[(sub >> 16) & 255, (sub >> 8) & 255, sub & 255].map((b) => b.toString(16).padStart(2, '0')).join(':')}`;
      return { kind: 'allocation', account: residential(sub), ip: v4(PUBLIC, slot % 256), start, end: start + 200_000, source: 'dhcp', mac };
    }
    case 1:
      return {
        kind: 'allocation',
        account: mobile(slot),
        ip: v4(INSIDE, slot % 65_536),
        realm: 'cgn-a',
        start,
        end: start + 7_200_000,
        source: 'radius',
        imsi: imsiOf(slot),
      };
    default: {
      const first = blockFirst(slot);
      return {
        kind: 'nat-block',
        realm: 'cgn-a',
        insideIp: v4(INSIDE, slot % 65_536),
        outsideIp: v4(OUTSIDE, slot % 64),
        portFirst: first,
        portLast: first + 511,
        start,
        end: start + 1_800_000,
      };
    }
  }
}

/** A spec as its NDJSON line (ISO instants in UTC). */
function lineOf(spec: Spec): string {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(spec)) {
    out[key] = (key === 'start' || key === 'end') && typeof value === 'number' ? new Date(value).toISOString() : value;
  }
  return JSON.stringify(out);
}

/** The i-th synthetic record as an NDJSON line. Every third is a port block. */
export function syntheticLine(i: number): string {
  return lineOf(legacySpec(Math.floor(i / 3), i % 3));
}

/** Write `rows` synthetic lines to `file`. */
export async function writeSynthetic(file: string, rows: number): Promise<void> {
  await writeLines(file, rows, syntheticLine);
}

async function writeLines(file: string, rows: number, line: (i: number) => string): Promise<void> {
  const out = createWriteStream(file);
  let chunk: string[] = [];
  for (let i = 0; i < rows; i++) {
    chunk.push(line(i));
    if (chunk.length === 10_000) {
      if (!out.write(chunk.join('\n') + '\n'))
        await new Promise<void>((r) => {
          out.once('drain', () => r());
        });
      chunk = [];
    }
  }
  out.write(chunk.length > 0 ? chunk.join('\n') + '\n' : '');
  await new Promise<void>((r) => {
    out.end(() => r());
  });
}

/**
 * A request aimed at the i-th synthetic slot: through a port block with its port (even i)
 * or at a dynamic address (odd i), one second after the record started.
 */
export function syntheticRequest(i: number, slots: number): string {
  const slot = (i * 7919) % slots;
  const at = new Date(BASE + slot * 1000 + 1000).toISOString();
  if (i % 2 === 0) {
    const first = 1024 + (slot % 126) * 512;
    return `{"ref":"B${i}","observations":[{"sourceIp":"${v4(OUTSIDE, slot % 64)}","sourcePort":${first + 100},"time":"${at}"}],"toleranceSeconds":1}`;
  }
  return `{"ref":"D${i}","observations":[{"sourceIp":"${v4(PUBLIC, slot % 256)}","time":"${at}"}],"toleranceSeconds":1}`;
}

/** Address-space records for the synthetic operator (so observations classify). */
export const SYNTHETIC_SPACE = [
  '{"kind":"address-space","prefix":"198.51.100.0/24","role":"dynamic"}',
  '{"kind":"address-space","prefix":"203.0.113.0/26","role":"cgnat-outside","realm":"cgn-a"}',
];

// ---- the operator: the legacy mix and four more paths ---------------------------------

const GROUP_SLOTS = 8;
/** Records in a group: three a slot, and one extra after each of the first four slots. */
const GROUP_RECORDS = GROUP_SLOTS * 3 + 4;

/** The /56 delegated to group g (65,536 prefixes in 2001:db8:8000::/40, reused after 6 days). */
function v6Prefix(g: number): { hi: string; lo: number } {
  const p = g % 65_536;
  return { hi: (0x8000 + (p >> 8)).toString(16), lo: (p & 255) << 8 };
}

const deterministicInside = (g: number) => g % DET_INSIDE_COUNT;

/** The extra record after slot `8g + k` (k = 0…3). */
function extraSpec(g: number, k: number): Spec {
  const slot = g * GROUP_SLOTS + k;
  const start = slotStart(slot) + 500;
  switch (k) {
    case 0: {
      const { hi, lo } = v6Prefix(g);
      return { kind: 'allocation', account: residential(g), ip: `2001:db8:${hi}:${lo.toString(16)}::/56`, start, end: start + 7_200_000, source: 'dhcpv6-pd' };
    }
    case 1:
      return {
        kind: 'nat-session',
        realm: 'cgn-a',
        insideIp: v4(INSIDE, slot % 65_536),
        insidePort: 40_000 + (g % 20_000),
        outsideIp: v4(OUTSIDE_SESSIONS, g % 64),
        outsidePort: 1024 + (Math.floor(g / 64) % 64_512),
        destinationIp: v4(DESTINATIONS, g % 128),
        destinationPort: 443,
        protocol: 'tcp',
        start,
        end: start + 30_000,
      };
    case 2:
      // One holder an address at a time: 300 s blocks, each address reused every 512 s.
      return {
        kind: 'nat-block',
        realm: 'cgn-a',
        insideIp: v4(INSIDE, slot % 65_536),
        outsideIp: v4(OUTSIDE_ONE_HOLDER, g % 64),
        portFirst: 1024,
        portLast: 1535,
        start,
        end: start + 300_000,
      };
    default:
      return {
        kind: 'allocation',
        account: mobile(slot),
        ip: v4(DET_INSIDE, deterministicInside(g)),
        realm: 'cgn-d',
        start,
        end: start + 7_200_000,
        source: 'radius',
        imsi: imsiOf(slot),
      };
  }
}

/** Written before the timed records: the address plan and the deterministic NAT configuration. */
const PREAMBLE: readonly Spec[] = [
  { kind: 'address-space', prefix: '198.51.100.0/24', role: 'dynamic' },
  { kind: 'address-space', prefix: '2001:db8::/32', role: 'dynamic' },
  { kind: 'address-space', prefix: '203.0.113.0/26', role: 'cgnat-outside', realm: 'cgn-a' },
  { kind: 'address-space', prefix: '203.0.113.64/26', role: 'cgnat-outside', realm: 'cgn-a' },
  { kind: 'address-space', prefix: '203.0.113.128/26', role: 'cgnat-outside', realm: 'cgn-a' },
  { kind: 'address-space', prefix: '192.0.2.0/26', role: 'cgnat-outside', realm: 'cgn-d' },
  {
    kind: 'nat-deterministic',
    realm: 'cgn-d',
    insidePrefix: '100.65.0.0/18',
    outsidePrefix: '192.0.2.0/26',
    portFirst: 1024,
    portLast: 65535,
    algorithm: 'rfc7422',
    ratio: DET_SHARES,
    start: BASE - 86_400_000,
    end: null,
  },
];

function operatorSpec(i: number): Spec {
  if (i < PREAMBLE.length) return PREAMBLE[i]!;
  const n = i - PREAMBLE.length;
  const g = Math.floor(n / GROUP_RECORDS);
  const r = n % GROUP_RECORDS;
  if (r < 16) {
    const k = r >> 2;
    return (r & 3) < 3 ? legacySpec(g * GROUP_SLOTS + k, r & 3) : extraSpec(g, k);
  }
  return legacySpec(g * GROUP_SLOTS + 4 + Math.floor((r - 16) / 3), (r - 16) % 3);
}

/** The i-th record of the operator as an NDJSON line (the raw log a linear scan reads). */
export function operatorLine(i: number): string {
  return lineOf(operatorSpec(i));
}

const ADDRESS_FIELDS = new Set(['ip', 'insideIp', 'outsideIp', 'destinationIp', 'prefix', 'insidePrefix', 'outsidePrefix']);

function address(text: string): Address {
  const r = parseAddress(text, true);
  if (!r.ok) throw new Error(`bench data: ${r.message}`);
  return r.value;
}

/**
 * The i-th record of the operator, already parsed: what `CanonicalRecord.parse` makes of
 * {@link operatorLine}(i), built without JSON or zod (bench/stores.ts checks a sample
 * against the parse).
 */
export function operatorRecord(i: number): CanonicalRecord {
  const spec = operatorSpec(i);
  if (spec['kind'] === 'nat-deterministic') return CanonicalRecord.parse(JSON.parse(lineOf(spec)));
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(spec)) out[key] = ADDRESS_FIELDS.has(key) ? address(value as string) : value;
  return out as CanonicalRecord;
}

/** Write the operator's first `rows` records to `file` as NDJSON. */
export async function writeOperator(file: string, rows: number): Promise<void> {
  await writeLines(file, rows, operatorLine);
}

// ---- requests, one generator a path -----------------------------------------------------

/** The resolution paths benchmarked, each a request generator below. */
export const PATHS = [
  'dynamic',
  'ipv6-prefix',
  'port-block-with-port',
  'port-block-without-port',
  'session-with-destination',
  'deterministic',
  'four-observations',
] as const;
export type ResolvePath = (typeof PATHS)[number];

/** A request aimed at stored records, and the one account it must resolve to. */
export interface AimedRequest {
  readonly request: RequestInput;
  readonly account: string;
}

/** Groups kept clear at the end of the store: the four-observation request spans 1,790 s. */
const MARGIN_GROUPS = 300;

/** Complete groups in a store of `records` operator records. */
export function operatorGroups(records: number): number {
  return Math.floor(Math.max(0, records - PREAMBLE.length) / GROUP_RECORDS);
}

/** The smallest store the request generators can aim into. */
export const MIN_OPERATOR_RECORDS = PREAMBLE.length + (2 * MARGIN_GROUPS + 1) * GROUP_RECORDS;

const at = (ms: number) => new Date(ms).toISOString();

/**
 * The k-th request of a path, against a store of `records` operator records: aimed at a
 * stored record picked across the store's whole time span, so it resolves `unique` to
 * `account` (bench/resolve.ts checks that it does).
 *
 * @example
 * operatorRequest('port-block-with-port', 0, 1_000_000).request.observations[0];
 * // { sourceIp: '203.0.113.5', sourcePort: 3684, time: '2026-03-01T00:00:06.000Z' }
 */
export function operatorRequest(path: ResolvePath, k: number, records: number): AimedRequest {
  const groups = operatorGroups(records) - MARGIN_GROUPS;
  if (groups < 1) throw new Error(`bench data: ${records} records are too few to aim requests at (${MIN_OPERATOR_RECORDS} at least)`);
  // A multiplicative walk over the groups: spread across time, deterministic, no repeats for k < groups.
  const g = Number((BigInt(k) * 2_654_435_761n) % BigInt(groups));
  const ref = `${path}-${k}`;
  const one = (observation: RequestInput['observations'][number], account: string): AimedRequest => ({
    request: { ref, observations: [observation], toleranceSeconds: 1 },
    account,
  });
  switch (path) {
    case 'dynamic': {
      const slot = g * GROUP_SLOTS + 4;
      return one({ sourceIp: v4(PUBLIC, slot % 256), time: at(slotStart(slot) + SECOND) }, residential(slot % 100_000));
    }
    case 'ipv6-prefix': {
      const { hi, lo } = v6Prefix(g);
      return one({ sourceIp: `2001:db8:${hi}:${(lo | 0x2a).toString(16)}:1234::5`, time: at(slotStart(g * GROUP_SLOTS) + 1500) }, residential(g));
    }
    case 'port-block-with-port': {
      const slot = g * GROUP_SLOTS + 5;
      return one({ sourceIp: v4(OUTSIDE, slot % 64), sourcePort: blockFirst(slot) + 100, time: at(slotStart(slot) + SECOND) }, mobile(slot));
    }
    case 'port-block-without-port': {
      const slot = g * GROUP_SLOTS + 2;
      return one({ sourceIp: v4(OUTSIDE_ONE_HOLDER, g % 64), time: at(slotStart(slot) + 1500) }, mobile(slot));
    }
    case 'session-with-destination': {
      const slot = g * GROUP_SLOTS + 1;
      return one(
        {
          sourceIp: v4(OUTSIDE_SESSIONS, g % 64),
          sourcePort: 1024 + (Math.floor(g / 64) % 64_512),
          destinationIp: v4(DESTINATIONS, g % 128),
          destinationPort: 443,
          protocol: 'tcp',
          time: at(slotStart(slot) + 1500),
        },
        mobile(slot),
      );
    }
    case 'deterministic': {
      const slot = g * GROUP_SLOTS + 3;
      const i = deterministicInside(g);
      const port = 1024 + (i % DET_SHARES) * DET_SHARE_PORTS + 7;
      return one({ sourceIp: v4(DET_OUTSIDE, Math.floor(i / DET_SHARES)), sourcePort: port, time: at(slotStart(slot) + 1500) }, mobile(slot));
    }
    case 'four-observations': {
      // Four port-less sightings of one shared outside address over 30 minutes: each alone
      // fits the ~28 subscribers holding a block on it; only one held a block throughout.
      const slot = g * GROUP_SLOTS + 6;
      const ip = v4(OUTSIDE, slot % 64);
      const t = slotStart(slot);
      return {
        request: { ref, observations: [1, 600, 1200, 1790].map((s) => ({ sourceIp: ip, time: at(t + s * SECOND) })), toleranceSeconds: 1 },
        account: mobile(slot),
      };
    }
  }
}
