/**
 * Requests and results (DESIGN.md, "Requests" and "Results"): the contract operators'
 * systems write and read. The zod schemas are the only source of these types.
 */
import { z } from 'zod';
import { BudgetDetail, RefusalCode } from './catalogue/refusals.js';
import { Risk, RISK_KINDS } from './catalogue/risks.js';
import { Problem } from './problems.js';
import { imei, imsi, instantMs, ipAddress, ipPrefix, mac, msisdn, port, protocol } from './records.js';

/** A risk flag: one schema per code, its detail typed (src/catalogue/risks.ts). */
export { Risk, RISK_KINDS };

/** An ISO instant with offset, kept as text here; matcher/time.ts reads it. */
const text = z.string().min(1).max(64);

/** A local wall-clock time in an IANA zone, e.g. what a device or a witness reports. */
export const LocalTime = z.strictObject({ local: text, timeZone: text });
/** A range; `from`/`to` are ISO instants, or wall-clock times when `timeZone` is given. */
export const TimeRange = z.strictObject({ from: text, to: text, timeZone: text.optional() });
export const ObservationTime = z.union([text, LocalTime, TimeRange]);
export type ObservationTime = z.infer<typeof ObservationTime>;

/**
 * How the authority's source writes times: `12h-ambiguous` is 12-hour without AM/PM;
 * `uncertain` says the zone or offset the time was written in is not known for sure
 * (an hour either side becomes a plausible reading); `date-ambiguous` says the date may be
 * miswritten (a year later, a day either side, day and month swapped).
 */
export const CLOCK_STYLES = ['24h', '12h-ambiguous', 'uncertain', 'date-ambiguous'] as const;
export type ClockStyle = (typeof CLOCK_STYLES)[number];

export const Observation = z.strictObject({
  sourceIp: ipAddress,
  sourcePort: port.optional(),
  time: ObservationTime,
  destinationIp: ipAddress.optional(),
  destinationPort: port.optional(),
  protocol: protocol.optional(),
  fqdn: z.string().min(1).max(253).optional(),
  clock: z.enum(CLOCK_STYLES).optional(),
});
export type Observation = z.infer<typeof Observation>;

export const Identifiers = z.strictObject({ imsi: imsi.optional(), msisdn: msisdn.optional(), imei: imei.optional(), mac: mac.optional() });
export type Identifiers = z.infer<typeof Identifiers>;
export const IDENTIFIER_KINDS = ['imsi', 'msisdn', 'imei', 'mac'] as const;
export type IdentifierKind = (typeof IDENTIFIER_KINDS)[number];

export const RETURN_POLICIES = ['single-only', 'allow-multiple'] as const;
export type ReturnPolicy = (typeof RETURN_POLICIES)[number];

/** Most observations one request may carry (each is a store query or several). */
export const MAX_OBSERVATIONS = 64;
/** Longest tolerance accepted: a day either side. */
export const MAX_TOLERANCE_SECONDS = 86_400;

/** Who asks, under which condition of section 62, for what (checked against 9.14 and Condition D). */
export const AUTHORITY_TYPES = ['police', 'national-crime-agency', 'intelligence-community', 'local-authority', 'other'] as const;
export const CONDITIONS = ['A', 'B', 'C', 'D'] as const;
export const PURPOSES = ['serious-crime', 'national-security', 'economic-well-being', 'crime', 'other'] as const;
export const Authorisation = z.strictObject({
  authorityType: z.enum(AUTHORITY_TYPES),
  condition: z.enum(CONDITIONS),
  purpose: z.enum(PURPOSES),
});
export type Authorisation = z.infer<typeof Authorisation>;

export const Request = z.strictObject({
  ref: z.string().min(1).max(128),
  observations: z.array(Observation).min(1).max(MAX_OBSERVATIONS),
  toleranceSeconds: z.number().min(0).max(MAX_TOLERANCE_SECONDS).default(0),
  identifiers: Identifiers.optional(),
  returnPolicy: z.enum(RETURN_POLICIES).default('single-only'),
  maxCandidates: z.int().min(1).max(10_000).default(50),
  authorisation: Authorisation.optional(),
});
export type Request = z.infer<typeof Request>;
export type RequestInput = z.input<typeof Request>;

// ---- connection requests (issue 19) ---------------------------------------------------

/** Request kinds: IP resolution (absent or `ip-resolution`), service users (9.25, Condition D), connection records of a subject (9.7–9.13). */
export const REQUEST_KINDS = ['ip-resolution', 'service-users', 'connection-records'] as const;
export type RequestKind = (typeof REQUEST_KINDS)[number];

/** A service as the operator can see it: destination addresses or prefixes, optionally ports, a protocol, a name. */
export const Service = z.strictObject({
  destinations: z.array(ipPrefix).min(1).max(256),
  ports: z.array(port).min(1).max(64).optional(),
  protocol: protocol.optional(),
  /** The service's name as the authority knows it; the operator matches on addresses (an FQDN alone proves nothing, 2.76). */
  fqdn: z.string().min(1).max(253).optional(),
});
export type Service = z.infer<typeof Service>;

/** A half-open window `[from, to)` of ISO instants with offset. */
export const InstantWindow = z
  .strictObject({ from: instantMs, to: instantMs })
  .refine((w) => w.to > w.from, { message: 'to must be after from', path: ['to'], params: { reason: 'END_BEFORE_START' } });

/** Most layers one service-users request may carry. */
export const MAX_LAYERS = 16;

export const Layer = z.strictObject({ service: Service, window: InstantWindow });

export const ServiceUsersRequest = z
  .strictObject({
    ref: z.string().min(1).max(128),
    kind: z.literal('service-users'),
    authorisation: Authorisation,
    layers: z.array(Layer).min(1).max(MAX_LAYERS),
    /** Keep accounts that meet at least this many layers (default: all of them). */
    minLayers: z.int().min(1).max(MAX_LAYERS).optional(),
    /** A layer counts for an account only with at least this many connections to its service in its window (2.80: automatic connections). */
    minConnections: z.int().min(1).max(1_000_000).default(1),
    returnPolicy: z.enum(RETURN_POLICIES).default('single-only'),
    maxCandidates: z.int().min(1).max(10_000).default(50),
  })
  .refine((r) => r.minLayers === undefined || r.minLayers <= r.layers.length, {
    message: 'minLayers is more than the layers given',
    path: ['minLayers'],
    params: { reason: 'OUT_OF_RANGE' },
  });
export type ServiceUsersRequest = z.infer<typeof ServiceUsersRequest>;

/** Whose connection records: an account, or the user of a source address at a time (resolved first, as an IP resolution). */
export const Subject = z.union([
  z.strictObject({ account: z.string().min(1).max(128) }),
  z.strictObject({
    sourceIp: ipAddress,
    sourcePort: port.optional(),
    time: ObservationTime,
    toleranceSeconds: z.number().min(0).max(MAX_TOLERANCE_SECONDS).default(0),
  }),
]);
export type Subject = z.infer<typeof Subject>;

export const ConnectionRecordsRequest = z.strictObject({
  ref: z.string().min(1).max(128),
  kind: z.literal('connection-records'),
  authorisation: Authorisation,
  subject: Subject,
  window: InstantWindow,
  /** The services of interest; records of other services are held back (9.13) unless `all`. */
  services: z.array(Service).min(1).max(64).optional(),
  all: z.boolean().default(false),
});
export type ConnectionRecordsRequest = z.infer<typeof ConnectionRecordsRequest>;

// ---- results ------------------------------------------------------------------------

export const STATUSES = ['unique', 'multiple', 'none', 'invalid', 'refused'] as const;
export type Status = (typeof STATUSES)[number];

const IsoWindow = z.strictObject({ start: z.string(), end: z.string() });

/** Kinds of record that can support a candidate (matcher/identify.ts, matcher/translate.ts). */
export const EVIDENCE_KINDS = ['allocation', 'nat-block', 'nat-session', 'nat-deterministic', 'connection'] as const;
export type EvidenceKind = (typeof EVIDENCE_KINDS)[number];

/** One record that supports a candidate: what it is, its id, its interval, which observation. */
export const Evidence = z.strictObject({
  kind: z.enum(EVIDENCE_KINDS),
  id: z.string(),
  start: z.string(),
  end: z.string().nullable(),
  observation: z.int().min(0),
});
export type Evidence = z.infer<typeof Evidence>;

export const Candidate = z.strictObject({
  account: z.string(),
  /** How many observations this account fits, `of` how many were made. */
  support: z.int().min(0),
  of: z.int().min(1),
  evidence: z.array(Evidence),
  /** Service users: the layers this account meets (indices), its connections to them, first and last seen. */
  layers: z.array(z.int().min(0)).optional(),
  connections: z.int().min(0).optional(),
  firstSeen: z.string().optional(),
  lastSeen: z.string().optional(),
});
export type Candidate = z.infer<typeof Candidate>;

/** How an observation's source address is held by the operator. */
export const ADDRESS_CLASSES = ['dynamic', 'static', 'cgnat-outside', 'server', 'infrastructure', 'not-operator'] as const;
export type AddressClass = (typeof ADDRESS_CLASSES)[number];

export const OBSERVATION_OUTCOMES = ['matched', 'no-record', 'inside-unallocated', 'server-address', 'not-operator-address', 'unresolvable-port'] as const;
export type ObservationOutcome = (typeof OBSERVATION_OUTCOMES)[number];

/** Each observation's own outcome and path — counts only, never identities. */
export const ObservationResult = z.strictObject({
  index: z.int().min(0),
  sourceIp: z.string(),
  sourcePort: port.nullable(),
  /** The window searched, `[t − τ, t + p + τ)`, in UTC. */
  window: IsoWindow,
  addressClass: z.enum(ADDRESS_CLASSES),
  realm: z.string().nullable(),
  /** Record kinds the resolution went through, in order (e.g. nat-block, allocation). */
  path: z.array(z.string()),
  outcome: z.enum(OBSERVATION_OUTCOMES),
  candidateCount: z.int().min(0),
});
export type ObservationResult = z.infer<typeof ObservationResult>;

/** How one layer narrows a service-users answer: the accounts it alone matches, and those left after it and every layer before it. */
export const LayerResult = z.strictObject({ index: z.int().min(0), matched: z.int().min(0), remaining: z.int().min(0) });
export type LayerResult = z.infer<typeof LayerResult>;

/** One connection record disclosed by a connection-records request (2.76–2.77), or a NAT session that logged a destination. */
export const ConnectionResult = z.strictObject({
  kind: z.enum(['connection', 'nat-session']),
  id: z.string(),
  start: z.string(),
  end: z.string().nullable(),
  sourceIp: z.string(),
  sourcePort: port.optional(),
  destinationIp: z.string(),
  destinationPort: port.optional(),
  protocol: z.string().optional(),
  service: z.string().optional(),
  bytesUp: z.int().min(0).optional(),
  bytesDown: z.int().min(0).optional(),
});
export type ConnectionResult = z.infer<typeof ConnectionResult>;

/** An invalid request's problems: the {@link Problem} schema. */
export const ResultError = Problem;

/** Why a request was refused, and the paragraph that forbids it (and, past the work budget, the numbers). */
export const Refusal = z.strictObject({ code: RefusalCode, paragraph: z.string(), message: z.string(), detail: BudgetDetail.optional() });
export type Refusal = z.infer<typeof Refusal>;

/** One reading named in `confirm-time-zone` advice: what the request would return under it. */
export const AdviceReading = z.strictObject({
  reading: z.string(),
  /** The observation re-read, or `all` for a shift applied to every observation. */
  observation: z.union([z.int().min(0), z.literal('all')]),
  candidateCount: z.int().min(0),
  /** The accounts under this reading, only in a result and only where the disclosure policy would disclose them. */
  accounts: z.array(z.string()).optional(),
});

/**
 * Corroboration advice (9.24, the SPoC's strategy; matcher/advice.ts): which further data
 * would settle a multi-customer or materially flagged answer, and by how much — counts
 * read from the records, never identities (except a reading's accounts, as above).
 */
export const Advice = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('source-port'),
    observation: z.int().min(0),
    /** Inside hosts the address was shared by in the window. */
    insideHosts: z.int().min(0),
    /** The most hosts any one port was mapped for: 1 when their port ranges are disjoint. */
    worstCase: z.int().min(0),
    message: z.string(),
  }),
  z.strictObject({
    kind: z.literal('destination'),
    observation: z.int().min(0),
    /** Session records with a destination held over the window for this address. */
    sessions: z.int().min(1),
    message: z.string(),
  }),
  z.strictObject({
    kind: z.literal('another-observation'),
    /** After this instant the candidates' records diverge. */
    after: z.string(),
    /** Candidates whose records still hold after it (at most this many would fit). */
    remaining: z.int().min(0),
    of: z.int().min(0),
    message: z.string(),
  }),
  z.strictObject({
    kind: z.literal('device-identifier'),
    identifier: z.enum(IDENTIFIER_KINDS),
    /** Candidates whose records carry this identifier. */
    carried: z.int().min(1),
    of: z.int().min(1),
    message: z.string(),
  }),
  z.strictObject({
    kind: z.literal('confirm-time-zone'),
    readings: z.array(AdviceReading).min(1),
    message: z.string(),
  }),
]);
export type Advice = z.infer<typeof Advice>;
export const ADVICE_KINDS = ['source-port', 'destination', 'another-observation', 'device-identifier', 'confirm-time-zone'] as const;

export const Result = z.strictObject({
  ref: z.string().nullable(),
  status: z.enum(STATUSES),
  candidateCount: z.int().min(0),
  withheld: z.boolean(),
  candidates: z.array(Candidate),
  observations: z.array(ObservationResult),
  risks: z.array(Risk),
  /** One line a person can act on: robust, or what could make the answer wrong (matcher/advice.ts). */
  assessment: z.string(),
  advice: z.array(Advice),
  errors: z.array(ResultError).optional(),
  refusal: Refusal.optional(),
  /** Set for the request kinds beyond IP resolution. */
  kind: z.enum(['service-users', 'connection-records']).optional(),
  /** Service users: how each layer narrows the subjects. */
  layers: z.array(LayerResult).optional(),
  /** Connection records: the subject's records disclosed, and how many of other services were held back (9.13). */
  connections: z.array(ConnectionResult).optional(),
  heldBack: z.int().min(0).optional(),
});
export type Result = z.infer<typeof Result>;

/** `ipar estimate`: how much a request would return — counts and flags, never identities. */
export const Estimate = z.strictObject({
  ref: z.string().nullable(),
  status: z.enum(STATUSES),
  candidateCount: z.int().min(0),
  /** For k = 1…n, how many accounts fit exactly k of the n observations. */
  supportCounts: z.array(z.int().min(0)),
  observations: z.array(ObservationResult),
  risks: z.array(Risk),
  assessment: z.string(),
  /** As in a result, without any reading's accounts. */
  advice: z.array(Advice),
  errors: z.array(ResultError).optional(),
  refusal: Refusal.optional(),
  kind: z.enum(['service-users', 'connection-records']).optional(),
  layers: z.array(LayerResult).optional(),
  /** Connection records: how many records would be disclosed and how many held back. */
  connectionCount: z.int().min(0).optional(),
  heldBack: z.int().min(0).optional(),
});
export type Estimate = z.infer<typeof Estimate>;
