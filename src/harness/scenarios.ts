/**
 * The accuracy scenarios (issue 6): each is one way the authority's data or the
 * operator's logs differ from a quiet base, the simulator's noise kinds one at a time.
 * The base: the source port known, one to three observations of the same device, every
 * time written to the millisecond in UTC with no clock error, tolerance 2 s, complete
 * logs. Scenarios are data: a name, what it is, and the simulator settings it changes.
 */
import type { SimulationConfigInput } from '../../nat/simulate.js';

type Noise = NonNullable<SimulationConfigInput['noise']>;
type Logs = NonNullable<SimulationConfigInput['logs']>;

export interface Scenario {
  readonly name: string;
  readonly description: string;
  readonly noise?: Noise;
  readonly logs?: Logs;
  readonly observationsPerRequest?: { readonly min: number; readonly max: number };
  /** The records as hourly files, each ingested in a run of its own (src/harness/rotate.ts). */
  readonly rotated?: boolean;
  /** Every request's times moved outside the data's span: alternately this long before its start and after its end. */
  readonly outsideSpanMs?: { readonly before: number; readonly after: number };
  /** The allocation feed of part of each CGNAT realm is missing: allocations of inside hosts whose last octet is odd are not loaded. */
  readonly missingFeed?: boolean;
  /** Start from the simulator's default noise and logs (the mixed request mix), not the quiet base. */
  readonly defaults?: boolean;
  /** The instants the scenario's worlds start at, in turn, instead of the harness's two clock changes. */
  readonly starts?: readonly string[];
  /** The requests do not declare `"clock": "date-ambiguous"`: the date is misread without anyone saying it may be. */
  readonly undeclaredDate?: boolean;
}

/** Every request-noise kind of the simulator switched off. */
export const QUIET_NOISE: Readonly<Noise> = Object.freeze({
  clockSkew: 0,
  sourcePortAbsent: 0,
  precisionSecond: 0,
  precisionMinute: 0,
  zoneAsUtc: 0,
  zoneOffsetOffByOne: 0,
  localTime: 0,
  clock12h: 0,
  wrongYear: 0,
  wrongDay: 0,
  dayMonthSwap: 0,
  destinationKnown: 0,
  identifiersKnown: 0,
});

/** Complete logs: no gaps, every stop logged. */
export const COMPLETE_LOGS: Readonly<Logs> = Object.freeze({ gaps: 0, missingStop: 0 });

/** Log gaps a day in the gap scenarios (mean 45 min each, over the operator's sources). */
const GAPS_A_DAY = 24;
/** Share of records whose stop is missing in the missing-stop scenarios. */
const MISSING_STOPS = 0.25;

export const SCENARIOS: readonly Scenario[] = Object.freeze([
  { name: 'clean', description: 'the quiet base: source port known, clock skew 0 s, 1–3 observations, complete logs' },
  { name: 'port-unknown', description: 'no source port given', noise: { sourcePortAbsent: 1 } },
  { name: 'observations-1', description: 'one observation a request', observationsPerRequest: { min: 1, max: 1 } },
  { name: 'observations-2', description: 'two observations of the same device', observationsPerRequest: { min: 2, max: 2 } },
  { name: 'observations-3', description: 'three observations of the same device', observationsPerRequest: { min: 3, max: 3 } },
  { name: 'observations-4', description: 'four observations of the same device', observationsPerRequest: { min: 4, max: 4 } },
  { name: 'skew-1s', description: "the authority's clock 1 s fast or slow (tolerance 2 s)", noise: { clockSkew: 1, clockSkewMaxSeconds: 1 } },
  { name: 'skew-5s', description: "the authority's clock 1–5 s fast or slow (tolerance 2 s)", noise: { clockSkew: 1, clockSkewMaxSeconds: 5 } },
  { name: 'precision-second', description: 'times written to the second', noise: { precisionSecond: 1 } },
  { name: 'precision-minute', description: 'times written to the minute', noise: { precisionMinute: 1 } },
  { name: 'zone-as-utc', description: 'UK wall-clock time labelled UTC (an hour late in BST)', noise: { zoneAsUtc: 1 } },
  { name: 'zone-offset-off-by-one', description: 'wall-clock time with an offset one hour off (GMT/BST confusion)', noise: { zoneOffsetOffByOne: 1 } },
  { name: 'local-time', description: 'correct wall-clock time with its zone, {local, timeZone}', noise: { localTime: 1 } },
  {
    name: 'zone-as-utc-winter',
    description: 'UK wall-clock time labelled UTC, in January (GMT: nothing to misread)',
    noise: { zoneAsUtc: 1 },
    starts: ['2026-01-15T00:00:00Z'],
  },
  {
    name: 'zone-as-utc-summer',
    description: 'UK wall-clock time labelled UTC, in July (BST: an hour late)',
    noise: { zoneAsUtc: 1 },
    starts: ['2026-07-01T00:00:00Z'],
  },
  { name: 'wrong-year', description: 'the year written one later (a SPoC chose 2019 for 2018), declared "date-ambiguous"', noise: { wrongYear: 1 } },
  { name: 'wrong-day', description: 'the day written one off either way, declared "date-ambiguous"', noise: { wrongDay: 1 } },
  {
    name: 'day-month-swapped',
    description: 'day and month swapped on dates where both are below 13, declared "date-ambiguous"',
    noise: { dayMonthSwap: 1 },
    starts: ['2026-03-05T12:00:00Z', '2026-10-06T12:00:00Z'],
  },
  { name: 'clock-12h', description: 'a 12-hour clock without AM/PM, declared as "12h-ambiguous"', noise: { clock12h: 1 } },
  { name: 'destination-known', description: 'destination address, port and protocol given', noise: { destinationKnown: 1 } },
  { name: 'identifiers-known', description: 'a device identifier given (IMSI, MSISDN, IMEI or MAC)', noise: { identifiersKnown: 1 } },
  { name: 'gaps-declared', description: `${GAPS_A_DAY} log gaps a day, each declared by a coverage record`, logs: { gaps: GAPS_A_DAY, gapDeclared: 1 } },
  { name: 'gaps-undeclared', description: `${GAPS_A_DAY} log gaps a day, none declared`, logs: { gaps: GAPS_A_DAY, gapDeclared: 0 } },
  {
    name: 'missing-stop-inferred',
    description: `${MISSING_STOPS * 100} % of stops missing, ends inferred at the next timeout step`,
    logs: { missingStop: MISSING_STOPS, missingStopMode: 'inferred' },
  },
  { name: 'default-mix', description: "the simulator's default request mix: every kind of noise at its default rate, its default logs", defaults: true },
  {
    name: 'missing-stop-open',
    description: `${MISSING_STOPS * 100} % of stops missing, records left open (end null)`,
    logs: { missingStop: MISSING_STOPS, missingStopMode: 'open' },
  },
  {
    name: 'rotated-hourly',
    description: 'the records as hourly files, each ingested in a run of its own (intervals crossing an hour open in one file, closed in a later one)',
    rotated: true,
  },
  {
    name: 'outside-span',
    description: 'every request time moved outside the data: two days before its first record, or fifteen months after the last',
    outsideSpanMs: { before: 2 * 86_400_000, after: 456 * 86_400_000 },
  },
  { name: 'missing-feed', description: "the allocation feed of half of each CGNAT realm's inside hosts is missing (NAT records kept)", missingFeed: true },
  {
    name: 'wrong-year-undeclared',
    description: 'the year written one later, not declared: the date readings are considered only where the answer is none',
    noise: { wrongYear: 1 },
    undeclaredDate: true,
  },
  {
    name: 'wrong-day-undeclared',
    description: 'the day written one off either way, not declared',
    noise: { wrongDay: 1 },
    undeclaredDate: true,
  },
  {
    name: 'day-month-swapped-undeclared',
    description: 'day and month swapped (both below 13), not declared',
    noise: { dayMonthSwap: 1 },
    starts: ['2026-03-05T12:00:00Z', '2026-10-06T12:00:00Z'],
    undeclaredDate: true,
  },
]);

export const SCENARIO_NAMES = SCENARIOS.map((s) => s.name);
