/**
 * Risk flags (DESIGN.md "Risk catalogue"; code of practice 9.19–9.24): every code, its
 * kind, the paragraph it serves, what raises it and the zod schema of its `detail` — the
 * contract users group and count by. `Risk` is the union of one schema per code, so each
 * flag's detail is checked against its code when it is raised.
 */
import { z } from 'zod';
import { codesOf, type Entry } from './entry.js';

export const RISK_KINDS = ['false-positive', 'false-negative', 'note'] as const;
export type RiskKind = (typeof RISK_KINDS)[number];

interface RiskEntry extends Entry {
  readonly kind: RiskKind;
  readonly paragraph: string;
  readonly detail: z.ZodType<Readonly<Record<string, unknown>>>;
}

/**
 * A detail's schema: its known fields typed; loose, so a reader may index it by name
 * (`detail['gaps']`) whatever the code, as before the union.
 */
const detailOf = <S extends z.core.$ZodLooseShape>(shape: S) => z.looseObject(shape);

const count = z.int().min(0);
const observation = count;
const isoWindow = z.strictObject({ start: z.string(), end: z.string() });
/** One alternative reading of a time and what it would return (matcher/sensitivity.ts). */
const reading = z.strictObject({ reading: z.string(), window: isoWindow, candidateCount: count, missing: count, added: count });
const readingDetail = detailOf({ observation: z.union([observation, z.literal('all')]), candidateCount: count, readings: z.array(reading) });

export const RISK_CODES = {
  SHARED_ADDRESS_NO_PORT: {
    kind: 'false-positive',
    paragraph: '9.20',
    meaning: 'the address is shared through CGNAT and no usable source port was given (none, or a port in a deterministic dynamic share)',
    detail: z.union([
      detailOf({ observation, sourceIp: z.string(), insideHosts: count, accounts: count }),
      detailOf({ observation, sourceIp: z.string(), sourcePort: count, reasons: z.array(z.string()) }),
    ]),
  },
  ALLOCATION_BOUNDARY: {
    kind: 'false-positive',
    paragraph: '9.24',
    meaning: 'the address or port block changed hands inside the window',
    detail: detailOf({ observation, window: isoWindow, boundaries: z.array(z.strictObject({ kind: z.string(), edge: z.enum(['start', 'end']), at: z.string() })) }),
  },
  TIME_READING_CHANGES_RESULT: {
    kind: 'false-positive',
    paragraph: '9.24',
    meaning:
      'under another plausible reading of a time an account of the answer does not fit: the exact instant without tolerance, each instant of a DST fold, the other offset in a DST gap, an hour either side (GMT/BST), twelve hours apart for `12h-ambiguous` clocks — each observation alone and, with several, all shifted together; the detail gives each reading\'s counts',
    detail: readingDetail,
  },
  TIME_READING_FINDS_MORE: {
    kind: 'false-negative',
    paragraph: '9.24',
    meaning: 'another plausible reading (the same ones, a minute beyond the tolerance either side, and — with several observations — each read any plausible way independently) finds accounts the answer lacks',
    detail: readingDetail,
  },
  SINGLE_OBSERVATION: {
    kind: 'false-positive',
    paragraph: '9.24',
    meaning: 'a unique answer rests on one observation (9.24 asks for cross-correlation)',
    detail: detailOf({ observations: count }),
  },
  SHARED_ACCOUNT: {
    kind: 'false-positive',
    paragraph: '9.24',
    meaning: 'a candidate is a public Wi-Fi, business or enterprise account: not one individual',
    detail: detailOf({ types: z.record(z.string(), count), candidates: count }),
  },
  INFERRED_END: {
    kind: 'false-positive',
    paragraph: '9.24',
    meaning: "a matched record's end was inferred (no stop logged)",
    detail: detailOf({ observation, records: z.array(z.strictObject({ kind: z.string(), start: z.string(), end: z.string().nullable() })) }),
  },
  PORT_REUSE: {
    kind: 'false-positive',
    paragraph: '9.24',
    meaning: 'the same public address and port was mapped for more than one inside host in the window',
    detail: detailOf({ observation, sourceIp: z.string(), sourcePort: count, insideHosts: count }),
  },
  LOW_TIME_PRECISION: {
    kind: 'false-positive',
    paragraph: '9.24',
    meaning: 'a time was written to the minute',
    detail: detailOf({ observation, precision: z.string(), windowSeconds: z.number() }),
  },
  COVERAGE_GAP: {
    kind: 'false-negative',
    paragraph: '9.24',
    meaning:
      'a declared coverage gap of a source the path needs (its NAT realm, its allocation sources; every source when nothing matched or a translation reached an inside host no allocation covers) overlaps the window, or lies before it within the longest record the store holds (a record that started in the gap may still be held)',
    // `relation` is `before-window` or `overlaps-window`.
    detail: detailOf({ observation, gaps: z.array(z.strictObject({ source: z.string(), start: z.string(), end: z.string().nullable(), relation: z.string() })) }),
  },
  BEYOND_RETENTION: {
    kind: 'false-negative',
    paragraph: '9.24',
    meaning: "the window is older than the store's retention horizon",
    detail: detailOf({ observation, windowStart: z.string(), retentionHorizon: z.string() }),
  },
  NOT_OPERATOR_ADDRESS: {
    kind: 'false-negative',
    paragraph: '9.19',
    meaning: 'the address is in no declared address space and no record holds it',
    detail: detailOf({ observation, sourceIp: z.string() }),
  },
  SERVER_ADDRESS: {
    kind: 'false-negative',
    paragraph: '9.19',
    meaning: "the address is a server or infrastructure address (9.19 asks for a device's source address)",
    detail: detailOf({ observation, sourceIp: z.string(), role: z.enum(['server', 'infrastructure']) }),
  },
  CONTRADICTORY_OBSERVATIONS: {
    kind: 'false-negative',
    paragraph: '9.24',
    meaning: 'each observation matched someone but no account fits them all; the detail gives the best partial support (k of n) as counts',
    detail: detailOf({ observations: count, bestSupport: count, supportCounts: z.array(z.strictObject({ support: count, of: count, accounts: count })) }),
  },
  EXCLUDED_BY_IDENTIFIER: {
    kind: 'false-negative',
    paragraph: '9.20',
    meaning: 'an account held the address but was dropped only because one supplied identifier differed',
    detail: detailOf({ observation, identifier: z.string(), accounts: count }),
  },
  TOLERANCE_BELOW_CLOCK_ERROR: {
    kind: 'false-negative',
    paragraph: '9.24',
    meaning: "the tolerance is below a source's declared clock error (`ipar settings --clock-error`)",
    detail: detailOf({ observation, source: z.string(), clockErrorSeconds: z.number(), toleranceSeconds: z.number() }),
  },
  CONNECTION_RECORDS_PROCESSED: {
    kind: 'note',
    paragraph: '9.22',
    meaning: 'a destination (IP, port or FQDN) means the request processes internet connection records',
    detail: detailOf({ observations: z.array(observation) }),
  },
  // Service-users and connection-records requests (issue 19; matcher/services.ts, matcher/connections.ts).
  SHARED_DESTINATION: {
    kind: 'false-positive',
    paragraph: '9.25',
    meaning: 'a destination of a layer carries connections of several services (a CDN or hosting address): connecting to the address does not prove use of the service',
    detail: detailOf({ layer: count, destination: z.string(), services: count }),
  },
  NO_DESTINATION_LOGGED: {
    kind: 'false-negative',
    paragraph: '9.24',
    meaning: 'a NAT realm of the store logs no destination (port blocks, deterministic NAT, sessions without one, as RFC 6888 advises): connections through it cannot be found, so its users cannot be answered',
    detail: detailOf({ realms: z.array(z.string()) }),
  },
  BELOW_MIN_CONNECTIONS: {
    kind: 'false-negative',
    paragraph: '2.80',
    meaning: 'accounts connected to a layer\'s service fewer than `minConnections` times (possibly automatic connections, 2.80) and were not counted for that layer',
    detail: detailOf({ layer: count, accounts: count, minConnections: count }),
  },
  SINGLE_CONNECTION: {
    kind: 'false-positive',
    paragraph: '2.80',
    meaning: 'an account of the answer meets a layer with a single connection: it may have been made automatically by a browser or device (2.80); `minConnections` raises the bar',
    detail: detailOf({ layer: count, candidates: count }),
  },
  CONNECTION_COVERAGE_GAP: {
    kind: 'false-negative',
    paragraph: '9.24',
    meaning: 'a declared coverage gap overlaps a layer\'s (or the records\') window: connections in it may be missing',
    detail: detailOf({ layer: count, gaps: z.array(z.strictObject({ source: z.string(), start: z.string(), end: z.string().nullable() })) }),
  },
} as const satisfies Record<string, RiskEntry>;

export type RiskCode = keyof typeof RISK_CODES;
export const RISK_CODE_LIST = codesOf(RISK_CODES);

type Risks = typeof RISK_CODES;

/** The `detail` of a flag with code `C`. */
export type RiskDetail<C extends RiskCode> = z.infer<Risks[C]['detail']>;

function riskSchema<C extends RiskCode>(code: C) {
  const { kind, paragraph, detail } = RISK_CODES[code];
  return z.strictObject({
    code: z.literal(code),
    kind: z.literal(kind as Risks[C]['kind']),
    paragraph: z.literal(paragraph as Risks[C]['paragraph']),
    message: z.string(),
    detail: detail as Risks[C]['detail'],
  });
}
type RiskSchemas = { [C in RiskCode]: ReturnType<typeof riskSchema<C>> };
type AnyRiskSchema = RiskSchemas[RiskCode];

/** One flag: `{code, kind, paragraph, message, detail}`, discriminated on `code`. */
export const Risk = z.discriminatedUnion('code', RISK_CODE_LIST.map((code) => riskSchema(code)) as [AnyRiskSchema, ...AnyRiskSchema[]]);
export type Risk = z.infer<typeof Risk>;
/** The flag with code `C`. */
export type RiskOf<C extends RiskCode> = Extract<Risk, { code: C }>;

/**
 * A flag with its kind and paragraph from the catalogue; `detail` is checked against `code`.
 *
 * @example
 * flag('SINGLE_OBSERVATION', 'a unique answer resting on one observation', { observations: 1 });
 */
export function flag<C extends RiskCode>(code: C, message: string, detail: RiskDetail<C>): RiskOf<C> {
  const { kind, paragraph } = RISK_CODES[code];
  return { code, kind, paragraph, message, detail } as RiskOf<C>;
}
