/**
 * Canonical records (DESIGN.md, "Canonical records"): the NDJSON operators export into
 * and the store holds. Each zod schema is the only source of its type; parsing turns
 * addresses into {@link Address} keys and instants into UTC epoch milliseconds.
 */
import { z } from 'zod';
import type { ProblemReason } from './catalogue/problems.js';
import { parseAddress, type Address } from './address.js';
import { parseInstant } from './time.js';

function custom(ctx: z.core.$RefinementCtx<unknown>, input: unknown, reason: ProblemReason, message: string, path?: PropertyKey[]): void {
  ctx.issues.push({ code: 'custom', message, input, params: { reason }, ...(path === undefined ? {} : { path }) });
}

/** An ISO 8601 instant with `Z` or an offset, parsed to epoch ms. */
export const instantMs = z.string().transform((text, ctx) => {
  const r = parseInstant(text);
  if (!r.ok) {
    custom(ctx, text, r.reason, r.message);
    return z.NEVER;
  }
  return r.value.ms;
});

function addressSchema(allowPrefix: boolean) {
  return z.string().transform((text, ctx): Address => {
    const r = parseAddress(text, allowPrefix);
    if (!r.ok) {
      custom(ctx, text, r.reason, r.message);
      return z.NEVER;
    }
    return r.value;
  });
}

/** A single IPv4 or IPv6 address. */
export const ipAddress = addressSchema(false);
/** An address or a prefix (`2001:db8:12::/48`). */
export const ipPrefix = addressSchema(true);

export const port = z.int().min(0).max(65535);
/** What a realm may be; shared with the ingest fast path (ingest/fast-record.ts), as are the patterns below. */
export const REALM_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
export const realmName = z.string().regex(REALM_PATTERN, 'a realm is 1–64 letters, digits, . _ : -');
/** Bounds of a name (account, source, session id), in code points as zod counts them. */
export const NAME_MIN = 1;
export const NAME_MAX = 128;
const name = z.string().min(NAME_MIN).max(NAME_MAX);
/**
 * U+FFFD, what input bytes that are not UTF-8 are read as. Two account names that differ
 * only in such bytes would be read as one and their records merged (issue 20): an account
 * name holding it is refused, with reason `ACCOUNT_NOT_UTF8`.
 */
export const NOT_UTF8 = '\uFFFD';
const accountName = name.superRefine((text, ctx) => {
  if (text.includes(NOT_UTF8)) {
    custom(
      ctx,
      text,
      'ACCOUNT_NOT_UTF8',
      `account ${JSON.stringify(text.slice(0, 60))} holds bytes that are not UTF-8 (read as U+FFFD): accounts that differ only there would be taken for one`,
    );
  }
});

export const PROTOCOLS = ['tcp', 'udp', 'icmp', 'icmpv6', 'sctp', 'gre', 'esp'] as const;
export const protocol = z.enum(PROTOCOLS);
export type Protocol = z.infer<typeof protocol>;

export const ADDRESS_ROLES = ['dynamic', 'static', 'cgnat-outside', 'server', 'infrastructure'] as const;
export type AddressRole = (typeof ADDRESS_ROLES)[number];
export const SUBSCRIBER_TYPES = ['residential', 'business', 'mobile', 'public-wifi', 'enterprise'] as const;
export type SubscriberType = (typeof SUBSCRIBER_TYPES)[number];

/** Device identifiers, normalised: digits only for IMSI/MSISDN/IMEI, `aa:bb:cc:dd:ee:ff` for MAC. */
export const IMSI_PATTERN = /^\d{6,15}$/;
export const MSISDN_PATTERN = /^\+?\d{5,15}$/;
export const IMEI_PATTERN = /^\d{14,16}$/;
export const MAC_PATTERN = /^(?:[0-9A-Fa-f]{2}([:-]?)(?:[0-9A-Fa-f]{2}\1){4}[0-9A-Fa-f]{2}|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4})$/;
/** An MSISDN that matched {@link MSISDN_PATTERN}, without its `+`. */
export const normaliseMsisdn = (v: string): string => v.replace(/^\+/, '');
/** A MAC that matched {@link MAC_PATTERN}, as `aa:bb:cc:dd:ee:ff`. */
export const normaliseMac = (v: string): string =>
  v
    .replace(/[^0-9A-Fa-f]/g, '')
    .toLowerCase()
    .replace(/(..)(?!$)/g, '$1:');
export const imsi = z.string().regex(IMSI_PATTERN, 'an IMSI is 6–15 digits');
export const msisdn = z.string().regex(MSISDN_PATTERN, 'an MSISDN is 5–15 digits, optionally after +').transform(normaliseMsisdn);
export const imei = z.string().regex(IMEI_PATTERN, 'an IMEI or IMEISV is 14–16 digits');
export const mac = z.string().regex(MAC_PATTERN, 'a MAC is six hex octets').transform(normaliseMac);

const interval = { start: instantMs, end: instantMs.nullable() };

/**
 * The last time a line showed the interval held, while the importer's pairing still owns
 * it (issue 15): on a record open when exported (`end: null`) it says how far the
 * evidence goes — held then, nothing known after; absent once the record is final.
 */
const lastSeenField = { lastSeen: instantMs.optional() };

function checkInterval(v: { start: number; end: number | null }, ctx: z.core.$RefinementCtx<unknown>): void {
  if (v.end !== null && v.end < v.start) {
    custom(ctx, v.end, 'END_BEFORE_START', `end ${new Date(v.end).toISOString()} is before start ${new Date(v.start).toISOString()}`, ['end']);
  }
}

function checkPorts(v: { portFirst: number; portLast: number }, ctx: z.core.$RefinementCtx<unknown>): void {
  if (v.portFirst > v.portLast) {
    custom(ctx, v.portFirst, 'PORT_RANGE_REVERSED', `portFirst ${v.portFirst} is greater than portLast ${v.portLast}`, ['portFirst']);
  }
}

export const AddressSpaceRecord = z
  .strictObject({ kind: z.literal('address-space'), prefix: ipPrefix, role: z.enum(ADDRESS_ROLES), realm: realmName.optional() })
  .superRefine((v, ctx) => {
    if (v.role === 'cgnat-outside' && v.realm === undefined) custom(ctx, undefined, 'MISSING_FIELD', 'realm is required for role cgnat-outside', ['realm']);
  });

export const SubscriberRecord = z.strictObject({ kind: z.literal('subscriber'), account: accountName, type: z.enum(SUBSCRIBER_TYPES) });

export const AllocationRecord = z
  .strictObject({
    kind: z.literal('allocation'),
    account: accountName,
    ip: ipPrefix,
    ...interval,
    source: name,
    realm: realmName.optional(),
    imsi: imsi.optional(),
    msisdn: msisdn.optional(),
    imei: imei.optional(),
    mac: mac.optional(),
    sessionId: name.optional(),
    /** The end was not logged but inferred (missing stop closed by timeout or the next allocation). */
    endInferred: z.boolean().optional(),
    ...lastSeenField,
  })
  .superRefine(checkInterval);

export const NatBlockRecord = z
  .strictObject({
    kind: z.literal('nat-block'),
    realm: realmName,
    insideIp: ipAddress,
    outsideIp: ipAddress,
    portFirst: port,
    portLast: port,
    protocol: protocol.optional(),
    ...interval,
    endInferred: z.boolean().optional(),
    ...lastSeenField,
  })
  .superRefine((v, ctx) => {
    checkInterval(v, ctx);
    checkPorts(v, ctx);
  });

export const NatSessionRecord = z
  .strictObject({
    kind: z.literal('nat-session'),
    realm: realmName,
    insideIp: ipAddress,
    insidePort: port,
    outsideIp: ipAddress,
    outsidePort: port,
    destinationIp: ipAddress.optional(),
    destinationPort: port.optional(),
    protocol,
    ...interval,
    endInferred: z.boolean().optional(),
    ...lastSeenField,
  })
  .superRefine(checkInterval);

const deterministicCommon = {
  kind: z.literal('nat-deterministic'),
  realm: realmName,
  insidePrefix: ipPrefix,
  outsidePrefix: ipPrefix,
  portFirst: port,
  portLast: port,
  ...interval,
};

/** Deterministic NAT algorithms and their parameters (nat/deterministic.ts implements them). */
export const NatDeterministicRecord = z
  .discriminatedUnion('algorithm', [
    z.strictObject({
      ...deterministicCommon,
      algorithm: z.literal('rfc7422'),
      /** Shares per outside address (RFC 7422 §2: the sharing ratio). */
      ratio: z.int().min(1).max(65536),
      /** Shares at the top of the range held back for dynamic allocation (logged, not computed). */
      dynamicShares: z.int().min(0).max(65535).default(0),
    }),
    z.strictObject({ ...deterministicCommon, algorithm: z.literal('vpp-det44') }),
    z.strictObject({
      ...deterministicCommon,
      algorithm: z.literal('juniper-deterministic'),
      blockSize: z.int().min(1).max(65536).optional(),
      includeBoundaryAddresses: z.boolean().default(false),
    }),
  ])
  .superRefine((v, ctx) => {
    checkInterval(v, ctx);
    checkPorts(v, ctx);
    if (v.algorithm === 'rfc7422' && v.dynamicShares >= v.ratio) {
      custom(ctx, v.dynamicShares, 'OUT_OF_RANGE', `dynamicShares ${v.dynamicShares} leaves no share of ${v.ratio} for subscribers`, ['dynamicShares']);
    }
  });

/**
 * An internet connection record (2.74–2.77): what an operator under a retention notice
 * keeps of one connection — who (an account, or the source address and port, inside a
 * realm when behind a CGNAT), where to (destination address and port), when (start and
 * end: a connection is an event, so both are required), volumes and the service name
 * when the operator attributes one. A record without `account` is attributed through the
 * allocation of its source address (in its realm) during the connection.
 */
export const ConnectionRecord = z
  .strictObject({
    kind: z.literal('connection'),
    account: accountName.optional(),
    sourceIp: ipAddress,
    sourcePort: port.optional(),
    realm: realmName.optional(),
    destinationIp: ipAddress,
    destinationPort: port.optional(),
    protocol: protocol.optional(),
    start: instantMs,
    end: instantMs,
    bytesUp: z.int().min(0).optional(),
    bytesDown: z.int().min(0).optional(),
    service: name.optional(),
  })
  .superRefine(checkInterval);

export const COVERAGE_STATUSES = ['gap'] as const;
export const CoverageRecord = z
  .strictObject({ kind: z.literal('coverage'), source: name, ...interval, status: z.enum(COVERAGE_STATUSES) })
  .superRefine(checkInterval);

export const RECORD_KINDS = ['address-space', 'subscriber', 'allocation', 'nat-block', 'nat-session', 'nat-deterministic', 'coverage', 'connection'] as const;
export type RecordKind = (typeof RECORD_KINDS)[number];

/** Any canonical record; `kind` selects the schema. */
export const CanonicalRecord = z.discriminatedUnion('kind', [
  AddressSpaceRecord,
  SubscriberRecord,
  AllocationRecord,
  NatBlockRecord,
  NatSessionRecord,
  NatDeterministicRecord,
  CoverageRecord,
  ConnectionRecord,
]);

export type CanonicalRecord = z.infer<typeof CanonicalRecord>;
/** A record as written in NDJSON (strings for times and addresses). */
export type CanonicalRecordInput = z.input<typeof CanonicalRecord>;
export type AddressSpaceRecord = z.infer<typeof AddressSpaceRecord>;
export type SubscriberRecord = z.infer<typeof SubscriberRecord>;
export type AllocationRecord = z.infer<typeof AllocationRecord>;
export type NatBlockRecord = z.infer<typeof NatBlockRecord>;
export type NatSessionRecord = z.infer<typeof NatSessionRecord>;
export type NatDeterministicRecord = z.infer<typeof NatDeterministicRecord>;
export type CoverageRecord = z.infer<typeof CoverageRecord>;
export type ConnectionRecord = z.infer<typeof ConnectionRecord>;

function isAddress(value: unknown): value is Address {
  return typeof value === 'object' && value !== null && Buffer.isBuffer((value as Address).key) && typeof (value as Address).text === 'string';
}

/**
 * A parsed record back in its written form (ISO instants in UTC, canonical address text):
 * what `ipar` writes when it exports records, and the inverse of `CanonicalRecord.parse`
 * up to normalisation.
 *
 * @example
 * toWritten(CanonicalRecord.parse(line)); // {"kind":"allocation","ip":"198.51.100.7","start":"2026-03-28T09:00:00.000Z",…}
 */
export function toWritten(record: CanonicalRecord): CanonicalRecordInput {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) {
    if (value === undefined) continue;
    if (key === 'start' || key === 'end' || key === 'lastSeen') out[key] = value === null ? null : new Date(value as number).toISOString();
    else if (isAddress(value)) out[key] = value.text;
    else out[key] = value;
  }
  return out as CanonicalRecordInput;
}
