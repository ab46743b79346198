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

/**
 * `material`: a reading or a fact plausible for this request changes who would be
 * disclosed (or that someone would be); `note`: worth knowing, changes nobody (issue 18).
 */
export const SEVERITIES = ['material', 'note'] as const;
export type Severity = (typeof SEVERITIES)[number];

interface RiskEntry extends Entry {
  readonly kind: RiskKind;
  readonly paragraph: string;
  /** When the flag is material, and why that is plausible (the rule in matcher/severity.ts). */
  readonly material: string;
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
const reading = z.strictObject({
  reading: z.string(),
  window: isoWindow,
  candidateCount: count,
  missing: count,
  added: count,
  /** Whether the way the time was written allows this reading (matcher/severity.ts), and why. */
  plausible: z.boolean(),
  why: z.string(),
});
const readingDetail = detailOf({ observation: z.union([observation, z.literal('all')]), candidateCount: count, readings: z.array(reading) });

export const RISK_CODES = {
  SHARED_ADDRESS_NO_PORT: {
    kind: 'false-positive',
    paragraph: '9.20',
    material:
      'when the answer names more than one account: the shared address is why; a unique answer (one inside host, or cross-correlation) is not changed by it',
    meaning: 'the address is shared through CGNAT and no usable source port was given (none, or a port in a deterministic dynamic share)',
    detail: z.union([
      detailOf({ observation, sourceIp: z.string(), insideHosts: count, accounts: count }),
      detailOf({ observation, sourceIp: z.string(), sourcePort: count, reasons: z.array(z.string()) }),
    ]),
  },
  ALLOCATION_BOUNDARY: {
    kind: 'false-positive',
    paragraph: '9.24',
    material:
      'when the answer names more than one account; for a unique answer the tolerance edge is the `exact-instant` reading of TIME_READING_CHANGES_RESULT',
    meaning: 'the address or port block changed hands inside the window',
    detail: detailOf({
      observation,
      window: isoWindow,
      boundaries: z.array(z.strictObject({ kind: z.string(), edge: z.enum(['start', 'end']), at: z.string() })),
    }),
  },
  TIME_READING_CHANGES_RESULT: {
    kind: 'false-positive',
    paragraph: '9.24',
    material:
      'when a plausible reading (see "Severity") names accounts the answer lacks, or names nobody while the coverage of that observation is in doubt (a coverage gap, the retention horizon or an inferred end is flagged on it): traffic came from the address, so a reading under which nobody held it contradicts the observation unless records may be missing',
    meaning:
      "under another plausible reading of a time an account of the answer does not fit: the exact instant without tolerance, each instant of a DST fold, the other offset in a DST gap, an hour either side (GMT/BST), twelve hours apart for `12h-ambiguous` clocks — each observation alone and, with several, all shifted together; the detail gives each reading's counts",
    detail: readingDetail,
  },
  TIME_READING_FINDS_MORE: {
    kind: 'false-negative',
    paragraph: '9.24',
    material: 'when a plausible reading (see "Severity") finds accounts the answer lacks',
    meaning:
      'another plausible reading (the same ones, a minute beyond the tolerance either side, and — with several observations — each read any plausible way independently) finds accounts the answer lacks',
    detail: readingDetail,
  },
  SINGLE_OBSERVATION: {
    kind: 'false-positive',
    paragraph: '9.24',
    material: 'never: a structural note (what more would corroborate is in `advice`)',
    meaning: 'a unique answer rests on one observation (9.24 asks for cross-correlation)',
    detail: detailOf({ observations: count }),
  },
  SHARED_ACCOUNT: {
    kind: 'false-positive',
    paragraph: '9.24',
    material: 'never: the account is the one that held the address; who used it is a further question',
    meaning: 'a candidate is a public Wi-Fi, business or enterprise account: not one individual',
    detail: detailOf({ types: z.record(z.string(), count), candidates: count }),
  },
  INFERRED_END: {
    kind: 'false-positive',
    paragraph: '9.24',
    material: 'when an account of the answer rests, for this observation, only on records whose end was inferred',
    meaning: "a matched record's end was inferred (no stop logged)",
    detail: detailOf({ observation, records: z.array(z.strictObject({ kind: z.string(), start: z.string(), end: z.string().nullable() })) }),
  },
  PORT_REUSE: {
    kind: 'false-positive',
    paragraph: '9.24',
    material: 'when the answer names more than one account',
    meaning: 'the same public address and port was mapped for more than one inside host in the window',
    detail: detailOf({ observation, sourceIp: z.string(), sourcePort: count, insideHosts: count }),
  },
  LOW_TIME_PRECISION: {
    kind: 'false-positive',
    paragraph: '9.24',
    material: 'when the answer names more than one account (the minute is why)',
    meaning: 'a time was written to the minute',
    detail: detailOf({ observation, precision: z.string(), windowSeconds: z.number() }),
  },
  COVERAGE_GAP: {
    kind: 'false-negative',
    paragraph: '9.24',
    material: "when a gap overlaps the window, or when nothing matched: the true holder's record may be the one missing",
    meaning:
      'a declared coverage gap of a source the path needs (its NAT realm, its allocation sources; every source when nothing matched or a translation reached an inside host no allocation covers) overlaps the window, or lies before it within the longest record the store holds (a record that started in the gap may still be held)',
    // `relation` is `before-window` or `overlaps-window`.
    detail: detailOf({
      observation,
      gaps: z.array(z.strictObject({ source: z.string(), start: z.string(), end: z.string().nullable(), relation: z.string() })),
    }),
  },
  INFERRED_GAP: {
    kind: 'false-negative',
    paragraph: '9.24',
    material: 'when the inferred gap lies on the path at the window: a record lost in it could name someone the answer lacks',
    meaning:
      "a source the path needs fell silent for far longer than its own rates allow (an inferred gap: no coverage record declares it) over the window, or before it within the longest record the store holds; the detail gives each gap's rates before and after, the usual rate at that time of day and the events they expected",
    detail: detailOf({
      observation,
      gaps: z.array(
        z.strictObject({
          source: z.string(),
          start: z.string(),
          end: z.string(),
          relation: z.string(),
          rateBefore: z.number(),
          rateAfter: z.number(),
          usualRate: z.number(),
          expectedEvents: z.number(),
        }),
      ),
    }),
  },
  GAP_UNDETECTABLE: {
    kind: 'false-negative',
    paragraph: '9.24',
    material: 'always: it is raised only on an answer that found no one, where a record lost unseen would name someone',
    meaning:
      'nothing matched, and a source on the path logs too rarely for the inferred-gap detector to see a silence shorter than `horizonMinutes` (its mean rate expects fewer than GAP_EXPECTED_EVENTS (50) events in it): a record lost in such a gap would not show',
    detail: detailOf({ observation, sources: z.array(z.strictObject({ source: z.string(), meanRate: z.number(), horizonMinutes: z.number() })) }),
  },
  OUTSIDE_SOURCE_SPAN: {
    kind: 'false-negative',
    paragraph: '9.24',
    material: 'always: the store knows nothing of that time, so "no one" or the answer given may not be the truth',
    meaning:
      "the window lies outside the span of log time a source on the path covered (before its first event or after its last); when nothing on the path matched, outside every allocation source's span — the store knows nothing of that time",
    detail: detailOf({
      observation,
      window: isoWindow,
      sources: z.array(z.strictObject({ source: z.string(), first: z.string(), last: z.string(), relation: z.enum(['before', 'after']) })),
    }),
  },
  OPEN_PAST_EVIDENCE: {
    kind: 'false-positive',
    paragraph: '9.24',
    material:
      "when the answer names accounts and the window is past its source's last event by more than the source's own rates allow a silence (the time in which they expect 50 events: `pastHorizon` counts such records): its logs stopped, or the time is misdated, so the holder may have changed since; a sparse source quiet for a while is a note",
    meaning: "a matched record is open (no end exported) and the window is after its source's last evidence: held at that time, nothing known after",
    detail: detailOf({
      observation,
      records: z.array(z.strictObject({ kind: z.string(), source: z.string(), start: z.string(), heldAt: z.string(), sourceLast: z.string() })),
      /** Records whose source has been silent past the window for longer than its rates allow. */
      pastHorizon: count,
    }),
  },
  INSIDE_UNALLOCATED: {
    kind: 'false-negative',
    paragraph: '9.24',
    material: 'always: a missing allocation feed hides the customer behind the inside host',
    meaning:
      'a NAT record translated the address to an inside host that no allocation holds in that time (a missing allocation feed looks like no customer); the detail gives the inside addresses and realms',
    detail: detailOf({
      observation,
      insideHosts: count,
      hosts: z.array(z.strictObject({ realm: z.string(), insideIp: z.string(), kind: z.string(), start: z.string(), end: z.string() })),
    }),
  },
  SESSION_LOOKUP_CAPPED: {
    kind: 'false-negative',
    paragraph: '9.24',
    material: 'always: the sessions beyond the cap were not read, and one of them may name another account',
    meaning: 'a session lookup without a source port returned as many rows as the store gives (`SESSION_ROW_LIMIT`): the sessions beyond the cap were not read',
    detail: detailOf({ observation, sourceIp: z.string(), limit: count }),
  },
  PORT_OUTSIDE_NAT_RANGE: {
    kind: 'false-negative',
    paragraph: '9.24',
    material: 'always: a misread port means the answer was sought on the wrong port',
    meaning:
      "the source port is outside the NAT's port space (port 0, or outside the ports its deterministic or block records use — by default 1024–65535): the port was probably misread",
    detail: detailOf({ observation, sourceIp: z.string(), sourcePort: count, portFirst: count, portLast: count }),
  },
  BEYOND_RETENTION: {
    kind: 'false-negative',
    paragraph: '9.24',
    material: 'always: records from then were purged, so the holder may be missing',
    meaning: "the window is older than the store's retention horizon",
    detail: detailOf({ observation, windowStart: z.string(), retentionHorizon: z.string() }),
  },
  NOT_OPERATOR_ADDRESS: {
    kind: 'false-negative',
    paragraph: '9.19',
    material: 'never: no record of the operator holds the address under any reading',
    meaning: 'the address is in no declared address space and no record holds it',
    detail: detailOf({ observation, sourceIp: z.string() }),
  },
  SERVER_ADDRESS: {
    kind: 'false-negative',
    paragraph: '9.19',
    material: 'when an account would be disclosed: it holds a server, not a device',
    meaning: "the address is a server or infrastructure address (9.19 asks for a device's source address)",
    detail: detailOf({ observation, sourceIp: z.string(), role: z.enum(['server', 'infrastructure']) }),
  },
  CONTRADICTORY_OBSERVATIONS: {
    kind: 'false-negative',
    paragraph: '9.24',
    material: 'always: an account fitting all but one observation may be the one, with one time misread',
    meaning: 'each observation matched someone but no account fits them all; the detail gives the best partial support (k of n) as counts',
    detail: detailOf({ observations: count, bestSupport: count, supportCounts: z.array(z.strictObject({ support: count, of: count, accounts: count })) }),
  },
  EXCLUDED_BY_IDENTIFIER: {
    kind: 'false-negative',
    paragraph: '9.20',
    material: 'always: one differing identifier alone changes who is disclosed',
    meaning: 'an account held the address but was dropped only because one supplied identifier differed',
    detail: detailOf({ observation, identifier: z.string(), accounts: count }),
  },
  TOLERANCE_BELOW_CLOCK_ERROR: {
    kind: 'false-negative',
    paragraph: '9.24',
    material: 'when the `wider-tolerance` reading of that observation changes the answer',
    meaning: "the tolerance is below a source's declared clock error (`ipar settings --clock-error`)",
    detail: detailOf({ observation, source: z.string(), clockErrorSeconds: z.number(), toleranceSeconds: z.number() }),
  },
  CONNECTION_RECORDS_PROCESSED: {
    kind: 'note',
    paragraph: '9.22',
    material: 'never: a structural note (9.22)',
    meaning: 'a destination (IP, port or FQDN) means the request processes internet connection records',
    detail: detailOf({ observations: z.array(observation) }),
  },
  // Service-users and connection-records requests (issue 19; matcher/services.ts, matcher/connections.ts).
  SHARED_DESTINATION: {
    kind: 'false-positive',
    paragraph: '9.25',
    material: 'always: an account that connected to a shared address may have used another service on it, and be named for a service it never used',
    meaning:
      'a destination of a layer carries connections of several services (a CDN or hosting address): connecting to the address does not prove use of the service',
    detail: detailOf({ layer: count, destination: z.string(), services: count }),
  },
  NO_DESTINATION_LOGGED: {
    kind: 'false-negative',
    paragraph: '9.24',
    material: 'always: users behind such a realm cannot be found, so the answer may lack the accounts that used the service',
    meaning:
      'a NAT realm of the store logs no destination (port blocks, deterministic NAT, sessions without one, as RFC 6888 advises): connections through it cannot be found, so its users cannot be answered',
    detail: detailOf({ realms: z.array(z.string()) }),
  },
  BELOW_MIN_CONNECTIONS: {
    kind: 'false-negative',
    paragraph: '2.80',
    material: 'never: the request set the bar (`minConnections`); the accounts below it are left out by design, counted here',
    meaning:
      "accounts connected to a layer's service fewer than `minConnections` times (possibly automatic connections, 2.80) and were not counted for that layer",
    detail: detailOf({ layer: count, accounts: count, minConnections: count }),
  },
  SINGLE_CONNECTION: {
    kind: 'false-positive',
    paragraph: '2.80',
    material: 'always: a single connection may have been made automatically, so an account named for it may not have used the service',
    meaning:
      'an account of the answer meets a layer with a single connection: it may have been made automatically by a browser or device (2.80); `minConnections` raises the bar',
    detail: detailOf({ layer: count, candidates: count }),
  },
  CONNECTION_COVERAGE_GAP: {
    kind: 'false-negative',
    paragraph: '9.24',
    material: 'always: connections in the gap may be missing, and with them accounts the answer lacks',
    meaning: "a declared coverage gap overlaps a layer's (or the records') window: connections in it may be missing",
    detail: detailOf({ layer: count, gaps: z.array(z.strictObject({ source: z.string(), start: z.string(), end: z.string().nullable() })) }),
  },
  RECORD_READING_FINDS_MORE: {
    kind: 'false-negative',
    paragraph: '9.24',
    material:
      'when the answer is none, an observation that matched nobody has its coverage in doubt (a coverage gap before or over its window, an inferred or undetectable gap, outside what its sources covered, an inside host no allocation holds, the retention horizon), and a reading of the records around it (see "Severity") finds accounts',
    meaning:
      "where an observation matched nobody because its records may be lost, another reading of the records finds accounts: the address's last holder before the window (`held-before`: its record, or its successor, was lost), its first holder after (`held-after`), or the other observations without it (`without-observations`); the detail gives each reading's counts, the `confirm-records` advice the accounts where the policy allows",
    detail: readingDetail,
  },
  // Overlaps as data-quality findings (issue 16 item 6; src/ingest/overlaps.ts).
  SOURCE_OVERLAP: {
    kind: 'false-positive',
    paragraph: '9.24',
    material:
      'always: the source gave the same ports or address to two holders at once, so either holder may be the one, and neither record can be trusted alone',
    meaning:
      'two records the answer rests on hold the same thing at the same time — one outside port range (or overlapping blocks on one outside address) given to two inside hosts, or one address allocated to two accounts: a data-quality fault of the source (vendors have shipped such bugs), not two customers sharing; the detail names both records',
    detail: detailOf({
      observation,
      overlaps: z.array(
        z.strictObject({
          kind: z.string(),
          resource: z.string(),
          from: z.string(),
          to: z.string().nullable(),
          records: z.array(
            z.strictObject({
              id: z.string().optional(),
              holder: z.string(),
              held: z.string(),
              start: z.string(),
              end: z.string().nullable(),
              endInferred: z.boolean().optional(),
            }),
          ),
        }),
      ),
    }),
  },
} as const satisfies Record<string, RiskEntry>;

/**
 * The alternative readings of a time that risk analysis tries (matcher/sensitivity.ts)
 * and when each is plausible for a request (matcher/severity.ts decides it; a reading
 * that is not plausible never makes a flag material).
 */
export const READING_ENTRIES = {
  'exact-instant': { kind: 'tolerance', meaning: 'the time as written without the tolerance: always plausible' },
  'wider-tolerance': {
    kind: 'tolerance',
    meaning:
      "a minute beyond the tolerance either side: plausible when a source's declared clock error exceeds the tolerance, or the observation's clock is declared `uncertain`",
  },
  'fold-first': { kind: 'dst', meaning: 'the first instant of a wall-clock time in a DST fold: tried, and plausible, only in a fold' },
  'fold-second': { kind: 'dst', meaning: 'the second instant of a wall-clock time in a DST fold: tried, and plausible, only in a fold' },
  'gap-other-offset': { kind: 'dst', meaning: 'a wall-clock time in a DST gap read with the offset after the gap: tried, and plausible, only in a gap' },
  'minus-1h': {
    kind: 'zone',
    meaning:
      'an hour earlier (BST written as GMT): plausible when the jurisdiction zone (`ipar settings --jurisdiction-zone`, default Europe/London) is an hour ahead of the written offset at that date, the time was given as local time, the clock is declared `uncertain`, or a source changed its time-zone format before the time (`ipar settings --zone-change`)',
  },
  'plus-1h': {
    kind: 'zone',
    meaning:
      'an hour later (GMT written as BST): plausible when the jurisdiction zone is an hour behind the written offset at that date, the time was given as local time, the clock is declared `uncertain`, or a source changed its time-zone format before the time',
  },
  'minus-12h': { kind: '12h', meaning: 'twelve hours earlier: tried, and plausible, only for clocks declared `12h-ambiguous`' },
  'plus-12h': { kind: '12h', meaning: 'twelve hours later: tried, and plausible, only for clocks declared `12h-ambiguous`' },
  'minus-1d': {
    kind: 'date',
    meaning: 'the day before: plausible for clocks declared `date-ambiguous`, and where the answer is none and this reading would fill it',
  },
  'plus-1d': {
    kind: 'date',
    meaning: 'the day after: plausible for clocks declared `date-ambiguous`, and where the answer is none and this reading would fill it',
  },
  'minus-1y': {
    kind: 'date',
    meaning:
      'the year before (a SPoC chose 2019 for 2018): plausible for clocks declared `date-ambiguous`, and where the answer is none and this reading would fill it',
  },
  'day-month-swapped': {
    kind: 'date',
    meaning:
      'day and month swapped, for a date whose day and month are both below 13 and differ: plausible for clocks declared `date-ambiguous`, and where the answer is none and this reading would fill it',
  },
  'any-combination': {
    kind: 'joint',
    meaning:
      'each of several observations read any way tried, independently: plausible when some observation has a plausible reading other than the exact instant',
  },
  'held-before': {
    kind: 'record',
    meaning:
      "the address's last holder before the window still held it (its record's end, or its successor, was lost): tried where an observation of a none answer matched nobody, plausible where that observation's coverage is in doubt",
  },
  'held-after': {
    kind: 'record',
    meaning: "the address's first holder after the window already held it (its record's start was lost): tried and plausible as `held-before`",
  },
  'without-observations': {
    kind: 'record',
    meaning:
      'the accounts that fit the other observations, leaving out those that matched nobody: plausible where every observation left out has its coverage in doubt',
  },
} as const satisfies Record<string, Entry>;
export type ReadingCode = keyof typeof READING_ENTRIES;

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
    severity: z.enum(SEVERITIES),
    message: z.string(),
    detail: detail as Risks[C]['detail'],
  });
}
type RiskSchemas = { [C in RiskCode]: ReturnType<typeof riskSchema<C>> };
type AnyRiskSchema = RiskSchemas[RiskCode];

/** One flag: `{code, kind, paragraph, severity, message, detail}`, discriminated on `code`. */
export const Risk = z.discriminatedUnion('code', RISK_CODE_LIST.map((code) => riskSchema(code)) as [AnyRiskSchema, ...AnyRiskSchema[]]);
export type Risk = z.infer<typeof Risk>;
/** The flag with code `C`. */
export type RiskOf<C extends RiskCode> = Extract<Risk, { code: C }>;
/** A flag before its severity is rated (matcher/severity.ts rates every flag a rule raises). */
export type UnratedOf<C extends RiskCode> = Omit<RiskOf<C>, 'severity'>;
export type UnratedRisk = { [C in RiskCode]: UnratedOf<C> }[RiskCode];

/**
 * A flag with its kind and paragraph from the catalogue, not yet rated; `detail` is
 * checked against `code`.
 *
 * @example
 * flag('SINGLE_OBSERVATION', 'a unique answer resting on one observation', { observations: 1 });
 */
export function flag<C extends RiskCode>(code: C, message: string, detail: RiskDetail<C>): UnratedOf<C> {
  const { kind, paragraph } = RISK_CODES[code];
  return { code, kind, paragraph, message, detail } as unknown as UnratedOf<C>;
}

/**
 * A flag with its severity, `severity` placed after `paragraph` as results print it.
 *
 * @example
 * rated(flag('SINGLE_OBSERVATION', 'one observation', { observations: 1 }), 'note').severity; // 'note'
 */
export function rated<C extends RiskCode>(f: UnratedOf<C>, severity: Severity): RiskOf<C> {
  const { code, kind, paragraph, message, detail } = f as UnratedOf<RiskCode>;
  return { code, kind, paragraph, severity, message, detail } as unknown as RiskOf<C>;
}
