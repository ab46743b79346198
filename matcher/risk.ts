/**
 * Risk analysis (DESIGN.md "Risk catalogue"; code of practice 9.19–9.24): for every
 * result, how it could be a false positive or a false negative, each flag with a stable
 * code, its kind, the paragraph it serves and the values that raised it. Pure: the
 * store-dependent inputs (settings, coverage gaps, subscriber types, alternative time
 * readings) are fetched by the caller. Details carry counts and intervals, never the
 * identities of other customers.
 */
import { describeOverlap, OverlapFinder, overlapJson } from '../src/ingest/overlaps.js';
import { flag, rated, type RiskCode, type Severity, type UnratedRisk } from '../src/catalogue/risks.js';
import type { Risk } from '../src/request.js';
import { GAP_EXPECTED_EVENTS } from '../src/store/core/coverage.js';
import { SESSION_ROW_LIMIT } from '../src/store/core/limits.js';
import type { SourceCoverage, StoreSettings, StoredCoverage } from '../src/store/types.js';
import type { SubscriberType } from '../src/records.js';
import { formatInstant } from '../src/time.js';
import { processesConnectionRecords } from './guard.js';
import type { MatchTrace, ObservationTrace } from './evaluate.js';
import type { Support } from './identify.js';
import type { ReadingOutcome } from './sensitivity.js';
import { readingPlausibility, RECORD_READINGS, severityOf, SEVERITY, type RatingContext, type ReadingFacts, type SeverityRule } from './severity.js';

/** What risk analysis consults besides the trace. */
export interface RiskInputs {
  readonly settings: StoreSettings;
  readonly subscriberTypes: ReadonlyMap<string, SubscriberType>;
  /**
   * Coverage gaps of any source overlapping each observation's window or the look-back
   * before it (records that started in a gap may still be held at the window).
   */
  readonly gaps: readonly (readonly StoredCoverage[])[];
  /** What each source covered (spans, inferred gaps): read once per batch. */
  readonly coverage: readonly SourceCoverage[];
  /** Alternative time readings: each observation's own, and the joint shifts. */
  readonly readings: { readonly perObservation: readonly (readonly ReadingOutcome[])[]; readonly joint: readonly ReadingOutcome[] };
}

/** Every code, its kind, paragraph and detail: the contract users group and count by (src/catalogue/risks.ts). */
export { RISK_CODES, type RiskCode } from '../src/catalogue/risks.js';

const SHARED_TYPES = new Set<SubscriberType>(['public-wifi', 'business', 'enterprise']);
const LIST_LIMIT = 10;

/** What every rule reads: the match, the facts consulted beside it, and the answer's accounts. */
export interface RequestContext {
  readonly trace: MatchTrace;
  readonly inputs: RiskInputs;
  /** The accounts that fit every observation. */
  readonly candidates: ReadonlySet<string>;
  /** What deciding each observation's readings' plausibility reads (matcher/severity.ts). */
  readonly readingFacts: readonly ReadingFacts[];
}

/** What a rule over one observation reads: the request's context, the observation, and how messages name it. */
export interface ObservationContext extends RequestContext {
  readonly ot: ObservationTrace;
  /** The observation's position in the request. */
  readonly i: number;
  /** `observation i (address[:port] at time)`, the start of every message about it. */
  readonly where: string;
}

/**
 * One rule of the catalogue: the code it raises, the function that raises it, over one
 * observation (run for each observation in turn) or over the whole request, and its
 * severity (matcher/severity.ts): fixed, or decided from the flag and the request — a
 * required field, so every rule says when its flag is material.
 */
export type RiskRule =
  | { readonly code: RiskCode; readonly scope: 'observation'; readonly rule: (ctx: ObservationContext) => UnratedRisk[]; readonly severity: RuleSeverity }
  | { readonly code: RiskCode; readonly scope: 'request'; readonly rule: (ctx: RequestContext) => UnratedRisk[]; readonly severity: RuleSeverity };
/** A rule's severity as the table holds it: any code's {@link SeverityRule}. */
type RuleSeverity = Severity | ((flag: never, ctx: RatingContext) => Severity);

function serverAddress({ ot, i, where }: ObservationContext): UnratedRisk[] {
  const o = ot.observation;
  if (ot.addressClass !== 'server' && ot.addressClass !== 'infrastructure') return [];
  return [
    flag(
      'SERVER_ADDRESS',
      `${where}: ${o.sourceIp.text} is a ${ot.addressClass} address (${ot.addressSpace?.prefix.text ?? '?'}); 9.19 asks for a device's source address`,
      { observation: i, sourceIp: o.sourceIp.text, role: ot.addressClass },
    ),
  ];
}

function notOperatorAddress({ ot, i, where }: ObservationContext): UnratedRisk[] {
  const o = ot.observation;
  if (ot.outcome !== 'not-operator-address') return [];
  return [
    flag('NOT_OPERATOR_ADDRESS', `${where}: ${o.sourceIp.text} is in no address space the operator declared, and no record holds it`, {
      observation: i,
      sourceIp: o.sourceIp.text,
    }),
  ];
}

function sharedAddressNoPort({ ot, i, where }: ObservationContext): UnratedRisk[] {
  const o = ot.observation;
  if (ot.translations.length === 0 && ot.addressClass !== 'cgnat-outside') return [];
  const insideHosts = new Set(ot.translations.map((t) => `${t.realm}|${t.inside.text}`));
  const dynamicShare = ot.unresolved.filter((u) => u.reason === 'dynamic-share' || u.reason === 'unassigned');
  if (o.sourcePort === null) {
    return [
      flag(
        'SHARED_ADDRESS_NO_PORT',
        `${where}: the address is shared through CGNAT and no source port was given; ${insideHosts.size} inside hosts and ${ot.matches.accounts.size} accounts fit`,
        { observation: i, sourceIp: o.sourceIp.text, insideHosts: insideHosts.size, accounts: ot.matches.accounts.size },
      ),
    ];
  } else if (dynamicShare.length > 0) {
    return [
      flag(
        'SHARED_ADDRESS_NO_PORT',
        `${where}: port ${o.sourcePort} is in no deterministic share (${dynamicShare.map((u) => u.reason).join(', ')}); only NAT logs could resolve it`,
        { observation: i, sourceIp: o.sourceIp.text, sourcePort: o.sourcePort, reasons: [...new Set(dynamicShare.map((u) => u.reason))] },
      ),
    ];
  }
  return [];
}

function portReuse({ ot, i, where }: ObservationContext): UnratedRisk[] {
  const o = ot.observation;
  if (o.sourcePort === null) return [];
  const holding = new Set(ot.translations.filter((t) => t.portFirst <= o.sourcePort! && o.sourcePort! <= t.portLast).map((t) => `${t.realm}|${t.inside.text}`));
  if (holding.size <= 1) return [];
  return [
    flag('PORT_REUSE', `${where}: ${o.sourceIp.text}:${o.sourcePort} was mapped for ${holding.size} inside hosts within the window`, {
      observation: i,
      sourceIp: o.sourceIp.text,
      sourcePort: o.sourcePort,
      insideHosts: holding.size,
    }),
  ];
}

/** Records behind the accounts that fit this observation. */
function supportsOf(ot: ObservationTrace): Support[] {
  return [...ot.matches.accounts.values()].flat();
}

function allocationBoundary({ ot, i, where }: ObservationContext): UnratedRisk[] {
  const w = ot.observation.window;
  const boundaries: { kind: string; edge: 'start' | 'end'; at: string }[] = [];
  const seen = new Set<string>();
  for (const s of supportsOf(ot)) {
    for (const [edge, at] of [
      ['start', s.start],
      ['end', s.end],
    ] as const) {
      if (at === null || at <= w.start || at >= w.end) continue;
      const key = `${s.kind}|${edge}|${at}`;
      if (seen.has(key)) continue;
      seen.add(key);
      boundaries.push({ kind: s.kind, edge, at: formatInstant(at) });
    }
  }
  if (boundaries.length === 0) return [];
  return [
    flag(
      'ALLOCATION_BOUNDARY',
      `${where}: ${boundaries.length} record boundaries fall inside the window ${formatInstant(w.start)}–${formatInstant(w.end)} (first: ${boundaries[0]!.kind} ${boundaries[0]!.edge} at ${boundaries[0]!.at})`,
      { observation: i, window: { start: formatInstant(w.start), end: formatInstant(w.end) }, boundaries: boundaries.slice(0, LIST_LIMIT) },
    ),
  ];
}

function inferredEnd({ ot, i, where }: ObservationContext): UnratedRisk[] {
  const inferred = supportsOf(ot).filter((s) => s.endInferred);
  if (inferred.length === 0) return [];
  return [
    flag('INFERRED_END', `${where}: ${inferred.length} matched records have an inferred end (no stop was logged)`, {
      observation: i,
      records: inferred.slice(0, LIST_LIMIT).map((s) => ({ kind: s.kind, start: formatInstant(s.start), end: s.end === null ? null : formatInstant(s.end) })),
    }),
  ];
}

function lowTimePrecision({ ot, i, where }: ObservationContext): UnratedRisk[] {
  const o = ot.observation;
  const w = o.window;
  if (o.reading.precision !== 'min' || o.reading.form === 'range') return [];
  return [
    flag('LOW_TIME_PRECISION', `${where}: the time was written to the minute, so the whole minute is searched`, {
      observation: i,
      precision: o.reading.precision,
      windowSeconds: (w.end - w.start) / 1000,
    }),
  ];
}

function describeReading(ctx: RequestContext, r: ReadingOutcome) {
  const { plausible, why } = readingPlausibility(r.reading, r.observation, ctx.readingFacts, r);
  return {
    reading: r.reading,
    window: { start: formatInstant(r.window.start), end: formatInstant(r.window.end) },
    candidateCount: r.candidateCount,
    missing: r.missing,
    added: r.added,
    plausible,
    why,
  };
}

function readingsChangingResult(
  ctx: RequestContext,
  readings: readonly ReadingOutcome[],
  where: string,
  observation: number | 'all',
  answer: number,
): UnratedRisk[] {
  const dropping = readings.filter((r) => r.missing > 0 && !RECORD_READINGS.has(r.reading));
  if (dropping.length === 0) return [];
  return [
    flag(
      'TIME_READING_CHANGES_RESULT',
      `${where}: ${dropping.map((r) => `under ${r.reading} ${r.missing} of the ${answer} accounts given do not fit (${r.candidateCount} would)`).join('; ')}`,
      {
        observation,
        candidateCount: answer,
        readings: dropping.map((r) => describeReading(ctx, r)),
      },
    ),
  ];
}

/**
 * The readings that find accounts the answer lacks, as one flag: readings of the time
 * (`TIME_READING_FINDS_MORE`) or of the records around a none answer (`RECORD_READING_FINDS_MORE`).
 */
function readingsFindingMore(
  ctx: RequestContext,
  code: 'TIME_READING_FINDS_MORE' | 'RECORD_READING_FINDS_MORE',
  readings: readonly ReadingOutcome[],
  where: string,
  observation: number | 'all',
  answer: number,
): UnratedRisk[] {
  const record = code === 'RECORD_READING_FINDS_MORE';
  const adding = readings.filter((r) => r.added > 0 && RECORD_READINGS.has(r.reading) === record);
  if (adding.length === 0) return [];
  return [
    flag(code, `${where}: ${record ? 'where records may be lost, ' : ''}${adding.map(underReading).join('; ')}`, {
      observation,
      candidateCount: answer,
      readings: adding.map((r) => describeReading(ctx, r)),
    }),
  ];
}

/** `under held-before 1 accounts would fit (1 the answer lacks)`: the reading and the accounts' count under it. */
function underReading(r: ReadingOutcome): string {
  return `under ${r.reading} ${r.candidateCount} accounts would fit (${r.added} the answer lacks)`;
}

function recordReadingFindsMore(ctx: ObservationContext): UnratedRisk[] {
  const { inputs, candidates, i, where } = ctx;
  return readingsFindingMore(ctx, 'RECORD_READING_FINDS_MORE', inputs.readings.perObservation[i] ?? [], where, i, candidates.size);
}

function jointRecordReadingFindsMore(ctx: RequestContext): UnratedRisk[] {
  const { trace, inputs, candidates } = ctx;
  return readingsFindingMore(
    ctx,
    'RECORD_READING_FINDS_MORE',
    inputs.readings.joint,
    `all ${trace.observations.length} observations read together`,
    'all',
    candidates.size,
  );
}

function timeReadingChangesResult(ctx: ObservationContext): UnratedRisk[] {
  const { inputs, candidates, i, where } = ctx;
  return readingsChangingResult(ctx, inputs.readings.perObservation[i] ?? [], where, i, candidates.size);
}

function timeReadingFindsMore(ctx: ObservationContext): UnratedRisk[] {
  const { inputs, candidates, i, where } = ctx;
  return readingsFindingMore(ctx, 'TIME_READING_FINDS_MORE', inputs.readings.perObservation[i] ?? [], where, i, candidates.size);
}

/**
 * The last time a line showed the record held: its end, or for an open record the
 * `lastSeen` pairing keeps (its start when a canonical export gave none).
 */
export function lastEvidenceOf(r: { readonly start: number; readonly end: number | null; readonly lastSeen?: number | undefined }): number {
  // An open record's last evidence is the last line that showed it held (issue 15's pairing keeps it).
  return r.end ?? r.lastSeen ?? r.start;
}

/** A source's family: `radius:192.0.2.10` (a NAS of RADIUS) belongs to `radius`. */
function familyOf(source: string): string {
  const colon = source.indexOf(':');
  return colon < 0 ? source : source.slice(0, colon);
}

/**
 * Sources the path needed: NAT realms and allocation sources met. When no allocation was
 * met — nothing matched on an address that uses allocations, or a translation reached an
 * inside host no allocation covers — the allocation source that should have covered it
 * is unknown, so every allocation source (`anyAllocationSource`); a NAT realm counts only
 * when the path went through it.
 */
function pathSources(ot: ObservationTrace): { realms: Set<string>; sources: Set<string>; anyAllocationSource: boolean } {
  const realms = new Set<string>([...(ot.realm === null ? [] : [ot.realm]), ...ot.translations.map((t) => t.realm)]);
  const sources = new Set<string>(ot.matches.allocations.map((a) => a.source));
  const uncovered = ot.unallocated.length > 0;
  return {
    realms,
    sources,
    anyAllocationSource: uncovered || (sources.size === 0 && ot.outcome !== 'server-address' && (realms.size === 0 || ot.translations.length > 0)),
  };
}

/** Whether a gap's source is on the path: its realm or allocation source, or (with none known) any allocation source. */
function onPath(source: string, path: ReturnType<typeof pathSources>, coverage: readonly SourceCoverage[]): boolean {
  const family = familyOf(source);
  if (path.realms.has(source) || path.sources.has(source) || path.sources.has(family)) return true;
  if (!path.anyAllocationSource) return false;
  const known = coverage.find((c) => c.source === source || c.source === family);
  // A store without coverage records (written before issue 15) cannot tell a realm from a source.
  return known === undefined ? !coverage.some((c) => c.role === 'nat' && c.source === source) : known.role === 'allocation';
}

function relationTo(g: { end: number | null }, w: { start: number }): string {
  // A gap before the window: records that started in it may still have been held.
  return g.end !== null && g.end <= w.start ? 'before-window' : 'overlaps-window';
}

function coverageGap({ ot, inputs, i, where }: ObservationContext): UnratedRisk[] {
  const w = ot.observation.window;
  const path = pathSources(ot);
  const gaps = (inputs.gaps[i] ?? []).filter((g) => onPath(g.source, path, inputs.coverage));
  if (gaps.length === 0) return [];
  const described = gaps.slice(0, LIST_LIMIT).map((g) => ({
    source: g.source,
    start: formatInstant(g.start),
    end: g.end === null ? null : formatInstant(g.end),
    relation: relationTo(g, w),
  }));
  return [
    flag('COVERAGE_GAP', `${where}: ${described.map((g) => `${g.source} has no records ${g.start}–${g.end ?? 'now'} (${g.relation})`).join('; ')}`, {
      observation: i,
      gaps: described,
    }),
  ];
}

function inferredGap({ ot, inputs, i, where }: ObservationContext): UnratedRisk[] {
  const w = ot.observation.window;
  const path = pathSources(ot);
  const from = w.start - inputs.settings.longestRecordMs;
  const gaps = inputs.coverage
    .filter((c) => onPath(c.source, path, inputs.coverage))
    .flatMap((c) => c.inferredGaps.filter((g) => g.start < w.end && g.end > from));
  if (gaps.length === 0) return [];
  const described = gaps.slice(0, LIST_LIMIT).map((g) => ({
    source: g.source,
    start: formatInstant(g.start),
    end: formatInstant(g.end),
    relation: relationTo(g, w),
    rateBefore: g.rateBefore,
    rateAfter: g.rateAfter,
    usualRate: g.usualRate,
    expectedEvents: g.expectedEvents,
  }));
  return [
    flag(
      'INFERRED_GAP',
      `${where}: ${described.map((g) => `${g.source} was silent ${g.start}–${g.end} (${g.relation}) though its rates (${g.rateBefore}/min before, ${g.rateAfter}/min after, ${g.usualRate}/min usual) expected ${g.expectedEvents} events`).join('; ')}`,
      { observation: i, gaps: described },
    ),
  ];
}

/** Silences shorter than this on a source the detector cannot see are worth a flag on a miss (syslog loss runs minutes to hours). */
export const UNDETECTABLE_HORIZON_MINUTES = 10;

function gapUndetectable({ ot, inputs, i, where }: ObservationContext): UnratedRisk[] {
  if (ot.matches.accounts.size > 0 || (ot.outcome !== 'no-record' && ot.outcome !== 'inside-unallocated')) return [];
  const path = pathSources(ot);
  const sources = inputs.coverage
    .filter((c) => onPath(c.source, path, inputs.coverage))
    .map((c) => {
      const meanRate = c.events / Math.max(1, (c.last - c.first) / 60_000);
      return { source: c.source, meanRate: Math.round(meanRate * 1000) / 1000, horizonMinutes: Math.round(GAP_EXPECTED_EVENTS / meanRate) };
    })
    .filter((c) => c.horizonMinutes >= UNDETECTABLE_HORIZON_MINUTES);
  if (sources.length === 0) return [];
  return [
    flag(
      'GAP_UNDETECTABLE',
      `${where}: nothing matched, and ${sources.map((c) => `${c.source} logs ${c.meanRate} events a minute, so a silence shorter than ${c.horizonMinutes} min would not show`).join('; ')}`,
      { observation: i, sources: sources.slice(0, LIST_LIMIT) },
    ),
  ];
}

function outsideSourceSpan({ ot, inputs, i, where }: ObservationContext): UnratedRisk[] {
  const w = ot.observation.window;
  if (ot.addressClass === 'server' || ot.addressClass === 'infrastructure' || ot.addressClass === 'not-operator' || inputs.coverage.length === 0) return [];
  const path = pathSources(ot);
  const span = (c: SourceCoverage) => ({
    source: c.source,
    first: formatInstant(c.first),
    last: formatInstant(c.last),
    relation: w.end <= c.first ? ('before' as const) : ('after' as const),
  });
  const outside = (c: SourceCoverage) => w.end <= c.first || w.start > c.last;
  const named = inputs.coverage.filter((c) => path.realms.has(c.source) || path.sources.has(c.source));
  const out = named.filter(outside);
  if (path.anyAllocationSource) {
    const allocationSources = inputs.coverage.filter((c) => c.role === 'allocation');
    if (allocationSources.length > 0 && allocationSources.every(outside)) out.push(...allocationSources.filter((c) => !out.includes(c)));
  }
  if (out.length === 0) return [];
  const sources = out.slice(0, LIST_LIMIT).map(span);
  return [
    flag(
      'OUTSIDE_SOURCE_SPAN',
      `${where}: the window ${formatInstant(w.start)}–${formatInstant(w.end)} is outside what ${sources.map((s) => `${s.source} covered (${s.first}–${s.last}, ${s.relation})`).join('; ')}`,
      {
        observation: i,
        window: { start: formatInstant(w.start), end: formatInstant(w.end) },
        sources,
      },
    ),
  ];
}

/**
 * How long a source may plausibly stay silent after its last event: the time in which its
 * mean rate expects the silence detector's {@link GAP_EXPECTED_EVENTS} events. Past it, its
 * logs have stopped rather than gone quiet. A source with fewer events than that has no
 * rate to judge by: no horizon.
 */
export function silenceHorizonMs(c: SourceCoverage): number {
  // Fewer events than the detector needs establish no rate: such a source may stay silent indefinitely.
  if (c.events < GAP_EXPECTED_EVENTS) return Infinity;
  const meanRate = c.events / Math.max(1, (c.last - c.first) / 60_000);
  return (GAP_EXPECTED_EVENTS / Math.max(meanRate, Number.MIN_VALUE)) * 60_000;
}

function openPastEvidence({ ot, inputs, candidates, i, where }: ObservationContext): UnratedRisk[] {
  const w = ot.observation.window;
  const lastOf = new Map(inputs.coverage.map((c) => [c.source, c.last]));
  const horizonOf = new Map(inputs.coverage.map((c) => [c.source, silenceHorizonMs(c)]));
  const records: { kind: string; source: string; start: string; heldAt: string; sourceLast: string }[] = [];
  const seen = new Set<string>();
  const consider = (id: string, kind: string, source: string, r: { start: number; end: number | null }): void => {
    const last = lastOf.get(source);
    if (r.end !== null || last === undefined || w.start <= last || seen.has(id)) return;
    seen.add(id);
    records.push({ kind, source, start: formatInstant(r.start), heldAt: formatInstant(lastEvidenceOf(r)), sourceLast: formatInstant(last) });
  };
  const accounts = new Set(ot.matches.accounts.keys());
  for (const a of ot.matches.allocations)
    if (accounts.has(a.account) && (candidates.size === 0 || candidates.has(a.account))) consider(a.id, 'allocation', a.source, a);
  const unallocated = new Set(ot.unallocated);
  for (const t of ot.translations) if (!unallocated.has(t)) consider(t.record.id, t.record.kind, t.realm, t.record);
  if (records.length === 0) return [];
  // Records whose source has been silent past the window for longer than its own rates allow: its logs stopped.
  const pastHorizon = records.filter((r) => w.start - Date.parse(r.sourceLast) > (horizonOf.get(r.source) ?? 0)).length;
  return [
    flag(
      'OPEN_PAST_EVIDENCE',
      `${where}: ${records.length} matched records are open past their source's last evidence (first: ${records[0]!.kind} of ${records[0]!.source}, held at ${records[0]!.heldAt}, the source's last event ${records[0]!.sourceLast}; nothing known after)`,
      {
        observation: i,
        records: records.slice(0, LIST_LIMIT),
        pastHorizon,
      },
    ),
  ];
}

function insideUnallocated({ ot, i, where }: ObservationContext): UnratedRisk[] {
  if (ot.unallocated.length === 0) return [];
  const hosts = new Map<string, (typeof ot.unallocated)[number]>();
  for (const t of ot.unallocated) if (!hosts.has(`${t.realm}|${t.inside.text}`)) hosts.set(`${t.realm}|${t.inside.text}`, t);
  const listed = [...hosts.values()]
    .slice(0, LIST_LIMIT)
    .map((t) => ({ realm: t.realm, insideIp: t.inside.text, kind: t.record.kind, start: formatInstant(t.window.start), end: formatInstant(t.window.end) }));
  return [
    flag(
      'INSIDE_UNALLOCATED',
      `${where}: ${hosts.size} inside hosts the NAT translated to are held by no allocation then (first: ${listed[0]!.insideIp} in ${listed[0]!.realm}); an allocation feed of that realm may be missing`,
      { observation: i, insideHosts: hosts.size, hosts: listed },
    ),
  ];
}

function sessionLookupCapped({ ot, i, where }: ObservationContext): UnratedRisk[] {
  if (!ot.sessionsCapped) return [];
  return [
    flag('SESSION_LOOKUP_CAPPED', `${where}: the session lookup without a source port was cut at ${SESSION_ROW_LIMIT} rows; sessions beyond were not read`, {
      observation: i,
      sourceIp: ot.observation.sourceIp.text,
      limit: SESSION_ROW_LIMIT,
    }),
  ];
}

/** The port space a NAT allocates from, unless its records say otherwise. */
const NAT_PORT_SPACE = { portFirst: 1024, portLast: 65535 } as const;

function portOutsideNatRange({ ot, trace, i, where }: ObservationContext): UnratedRisk[] {
  const o = ot.observation;
  if (o.sourcePort === null || ot.addressClass !== 'cgnat-outside') return [];
  const f = trace.fetched[i]!;
  const ranges = f.deterministic.length > 0 ? f.deterministic.map((d) => ({ portFirst: d.portFirst, portLast: d.portLast })) : [NAT_PORT_SPACE];
  const blocks = f.blocks.map((b) => ({ portFirst: b.portFirst, portLast: b.portLast }));
  if ([...ranges, ...blocks].some((r) => r.portFirst <= o.sourcePort! && o.sourcePort! <= r.portLast) && o.sourcePort !== 0) return [];
  const space = { portFirst: Math.min(...ranges.map((r) => r.portFirst)), portLast: Math.max(...ranges.map((r) => r.portLast)) };
  return [
    flag(
      'PORT_OUTSIDE_NAT_RANGE',
      `${where}: source port ${o.sourcePort} is outside the NAT's port space ${space.portFirst}–${space.portLast}; the port was probably misread`,
      { observation: i, sourceIp: o.sourceIp.text, sourcePort: o.sourcePort, ...space },
    ),
  ];
}

function beyondRetention({ ot, inputs, i, where }: ObservationContext): UnratedRisk[] {
  const w = ot.observation.window;
  const horizon = inputs.settings.retentionHorizon;
  if (horizon === null || w.start >= horizon) return [];
  return [
    flag(
      'BEYOND_RETENTION',
      `${where}: the window starts ${formatInstant(w.start)}, before the retention horizon ${formatInstant(horizon)}; records from then were purged`,
      { observation: i, windowStart: formatInstant(w.start), retentionHorizon: formatInstant(horizon) },
    ),
  ];
}

function excludedByIdentifier({ ot, candidates, i, where }: ObservationContext): UnratedRisk[] {
  const byKind = new Map<string, Set<string>>();
  for (const e of ot.matches.exclusions) {
    if (e.kinds.length !== 1 || candidates.has(e.account) || ot.matches.accounts.has(e.account)) continue;
    const kind = e.kinds[0]!;
    if (!byKind.has(kind)) byKind.set(kind, new Set());
    byKind.get(kind)!.add(e.account);
  }
  return [...byKind].map(([kind, accounts]) =>
    flag(
      'EXCLUDED_BY_IDENTIFIER',
      `${where}: ${accounts.size} accounts held the address but were dropped only because their ${kind} differed from the one supplied`,
      { observation: i, identifier: kind, accounts: accounts.size },
    ),
  );
}

function toleranceBelowClockError({ ot, trace, inputs, i, where }: ObservationContext): UnratedRisk[] {
  const { realms, sources } = pathSources(ot);
  const clockSources = new Set([...realms, ...sources]);
  const out: UnratedRisk[] = [];
  for (const [source, errorMs] of Object.entries(inputs.settings.clockErrorMs)) {
    if (errorMs > trace.request.toleranceMs && (clockSources.has(source) || clockSources.size === 0)) {
      out.push(
        flag(
          'TOLERANCE_BELOW_CLOCK_ERROR',
          `${where}: tolerance ${trace.request.toleranceMs / 1000} s is below ${source}'s declared clock error of ${errorMs / 1000} s`,
          { observation: i, source, clockErrorSeconds: errorMs / 1000, toleranceSeconds: trace.request.toleranceMs / 1000 },
        ),
      );
    }
  }
  return out;
}

function jointTimeReadingChangesResult(ctx: RequestContext): UnratedRisk[] {
  const { trace, inputs, candidates } = ctx;
  return readingsChangingResult(ctx, inputs.readings.joint, `all ${trace.observations.length} observations shifted together`, 'all', candidates.size);
}

function jointTimeReadingFindsMore(ctx: RequestContext): UnratedRisk[] {
  const { trace, inputs, candidates } = ctx;
  return readingsFindingMore(
    ctx,
    'TIME_READING_FINDS_MORE',
    inputs.readings.joint,
    `all ${trace.observations.length} observations shifted together`,
    'all',
    candidates.size,
  );
}

function singleObservation({ trace, candidates }: RequestContext): UnratedRisk[] {
  if (candidates.size !== 1 || trace.observations.length !== 1) return [];
  return [flag('SINGLE_OBSERVATION', 'a unique answer resting on one observation; 9.24 asks for more IP/time pairs to cross-correlate', { observations: 1 })];
}

function contradictoryObservations({ trace, candidates }: RequestContext): UnratedRisk[] {
  const n = trace.observations.length;
  if (n <= 1 || candidates.size !== 0 || !trace.observations.every((ot) => ot.matches.accounts.size > 0)) return [];
  const { supportCounts, bestSupport } = trace.correlation;
  return [
    flag('CONTRADICTORY_OBSERVATIONS', `each of the ${n} observations matched someone, but no account fits all of them; the best fits ${bestSupport} of ${n}`, {
      observations: n,
      bestSupport,
      supportCounts: supportCounts.map((accounts, k) => ({ support: k + 1, of: n, accounts })).filter((s) => s.accounts > 0),
    }),
  ];
}

function sharedAccount({ inputs, candidates }: RequestContext): UnratedRisk[] {
  const sharedTypes = new Map<string, number>();
  for (const account of candidates) {
    const type = inputs.subscriberTypes.get(account);
    if (type !== undefined && SHARED_TYPES.has(type)) sharedTypes.set(type, (sharedTypes.get(type) ?? 0) + 1);
  }
  if (sharedTypes.size === 0) return [];
  return [
    flag('SHARED_ACCOUNT', `${[...sharedTypes].map(([t, k]) => `${k} ${t}`).join(', ')} account(s) among the candidates: not one individual`, {
      types: Object.fromEntries(sharedTypes),
      candidates: candidates.size,
    }),
  ];
}

function connectionRecordsProcessed({ trace }: RequestContext): UnratedRisk[] {
  if (!processesConnectionRecords(trace.request)) return [];
  const withDestination = trace.observations
    .filter((ot) => ot.observation.destinationIp !== null || ot.observation.destinationPort !== null || ot.observation.fqdn !== null)
    .map((ot) => ot.observation.index);
  return [
    flag(
      'CONNECTION_RECORDS_PROCESSED',
      `observations ${withDestination.join(', ')} give a destination: resolving them processes internet connection records (condition A, 9.22)`,
      { observations: withDestination },
    ),
  ];
}

/**
 * Records of this observation's path that hold the same thing at the same time for two
 * holders (src/ingest/overlaps.ts, the finder ingest and `ipar coverage` use): the port
 * blocks behind its translations, and the allocations of the address or inside hosts it
 * reached, each overlap within the observation window.
 */
function sourceOverlap({ trace, i, where }: ObservationContext): UnratedRisk[] {
  const f = trace.fetched[i];
  if (f === undefined) return [];
  const w = f.observation.window;
  const touching = (r: { start: number; end: number | null }) => r.start < w.end && (r.end === null || r.end > w.start);
  const finder = new OverlapFinder();
  for (const b of f.blocks) if (touching(b)) finder.addBlock(b);
  for (const a of f.publicAllocations) if (touching(a)) finder.addAllocation(a);
  for (const list of f.inside.values()) for (const a of list) if (touching(a)) finder.addAllocation(a);
  const found = finder.overlaps().filter((o) => o.from < w.end && (o.to === null || o.to > w.start));
  if (found.length === 0) return [];
  return [
    flag(
      'SOURCE_OVERLAP',
      `${where}: the source's records overlap — ${describeOverlap(found[0]!)}${found.length > 1 ? ` (and ${found.length - 1} more)` : ''}; a data-quality fault of the source, not two customers sharing`,
      { observation: i, overlaps: found.slice(0, LIST_LIMIT).map(overlapJson) },
    ),
  ];
}

/**
 * Every rule, in the order its flags appear in a result: the observation rules for each
 * observation in turn, then the request rules. Each rule raises only its own code.
 */
export const RISK_RULES: readonly RiskRule[] = [
  { code: 'SERVER_ADDRESS', scope: 'observation', rule: serverAddress, severity: SEVERITY.serverAddress },
  { code: 'NOT_OPERATOR_ADDRESS', scope: 'observation', rule: notOperatorAddress, severity: 'note' },
  { code: 'SHARED_ADDRESS_NO_PORT', scope: 'observation', rule: sharedAddressNoPort, severity: SEVERITY.whenSeveral },
  { code: 'PORT_REUSE', scope: 'observation', rule: portReuse, severity: SEVERITY.whenSeveral },
  { code: 'ALLOCATION_BOUNDARY', scope: 'observation', rule: allocationBoundary, severity: SEVERITY.whenSeveral },
  { code: 'INFERRED_END', scope: 'observation', rule: inferredEnd, severity: SEVERITY.inferredEnd },
  { code: 'LOW_TIME_PRECISION', scope: 'observation', rule: lowTimePrecision, severity: SEVERITY.whenSeveral },
  { code: 'TIME_READING_CHANGES_RESULT', scope: 'observation', rule: timeReadingChangesResult, severity: SEVERITY.readingChanges },
  { code: 'TIME_READING_FINDS_MORE', scope: 'observation', rule: timeReadingFindsMore, severity: SEVERITY.readingFindsMore },
  { code: 'COVERAGE_GAP', scope: 'observation', rule: coverageGap, severity: SEVERITY.coverageGap },
  { code: 'INFERRED_GAP', scope: 'observation', rule: inferredGap, severity: SEVERITY.coverageGap },
  { code: 'GAP_UNDETECTABLE', scope: 'observation', rule: gapUndetectable, severity: 'material' },
  { code: 'OUTSIDE_SOURCE_SPAN', scope: 'observation', rule: outsideSourceSpan, severity: 'material' },
  { code: 'OPEN_PAST_EVIDENCE', scope: 'observation', rule: openPastEvidence, severity: SEVERITY.openPastEvidence },
  { code: 'INSIDE_UNALLOCATED', scope: 'observation', rule: insideUnallocated, severity: 'material' },
  { code: 'SESSION_LOOKUP_CAPPED', scope: 'observation', rule: sessionLookupCapped, severity: 'material' },
  { code: 'PORT_OUTSIDE_NAT_RANGE', scope: 'observation', rule: portOutsideNatRange, severity: 'material' },
  { code: 'BEYOND_RETENTION', scope: 'observation', rule: beyondRetention, severity: 'material' },
  { code: 'EXCLUDED_BY_IDENTIFIER', scope: 'observation', rule: excludedByIdentifier, severity: 'material' },
  { code: 'TOLERANCE_BELOW_CLOCK_ERROR', scope: 'observation', rule: toleranceBelowClockError, severity: SEVERITY.toleranceBelowClockError },
  { code: 'TIME_READING_CHANGES_RESULT', scope: 'request', rule: jointTimeReadingChangesResult, severity: SEVERITY.readingChanges },
  { code: 'TIME_READING_FINDS_MORE', scope: 'request', rule: jointTimeReadingFindsMore, severity: SEVERITY.readingFindsMore },
  { code: 'SINGLE_OBSERVATION', scope: 'request', rule: singleObservation, severity: 'note' },
  { code: 'CONTRADICTORY_OBSERVATIONS', scope: 'request', rule: contradictoryObservations, severity: 'material' },
  { code: 'SHARED_ACCOUNT', scope: 'request', rule: sharedAccount, severity: 'note' },
  { code: 'CONNECTION_RECORDS_PROCESSED', scope: 'request', rule: connectionRecordsProcessed, severity: 'note' },
  { code: 'RECORD_READING_FINDS_MORE', scope: 'observation', rule: recordReadingFindsMore, severity: SEVERITY.readingFindsMore },
  { code: 'RECORD_READING_FINDS_MORE', scope: 'request', rule: jointRecordReadingFindsMore, severity: SEVERITY.readingFindsMore },
  { code: 'SOURCE_OVERLAP', scope: 'observation', rule: sourceOverlap, severity: 'material' },
];

/** The rules whose flag on an observation that matched nobody puts its coverage in doubt: its records may be lost. */
const DOUBT_RULES: readonly ((ctx: ObservationContext) => UnratedRisk[])[] = [
  coverageGap,
  inferredGap,
  gapUndetectable,
  outsideSourceSpan,
  insideUnallocated,
  beyondRetention,
];

const OBSERVATION_RULES = RISK_RULES.filter((r) => r.scope === 'observation');
const REQUEST_RULES = RISK_RULES.filter((r) => r.scope === 'request');

/** The context every rule of a request reads. */
export function requestContext(trace: MatchTrace, inputs: RiskInputs): RequestContext {
  const candidates = new Set(trace.correlation.candidates.map((c) => c.account));
  const facts = (doubts: readonly (string | null)[]): ReadingFacts[] =>
    trace.request.observations.map((observation, i) => ({
      observation,
      settings: inputs.settings,
      toleranceMs: trace.request.toleranceMs,
      answer: candidates.size,
      matched: trace.observations[i]?.matches.accounts.size ?? 0,
      doubt: doubts[i] ?? null,
    }));
  const bare: RequestContext = { trace, inputs, candidates, readingFacts: facts([]) };
  // Whether each observation that matched nobody may have lost its records: the codes of the doubt flags on it.
  const doubts = trace.observations.map((ot, i) => {
    if (ot.matches.accounts.size > 0) return null;
    const oc = observationContext(bare, i);
    const codes = [...new Set(DOUBT_RULES.flatMap((rule) => rule(oc).map((f) => f.code)))];
    return codes.length === 0 ? null : codes.join(', ');
  });
  return { ...bare, readingFacts: facts(doubts) };
}

/** The context of observation `i` of a request. */
export function observationContext(ctx: RequestContext, i: number): ObservationContext {
  const ot = ctx.trace.observations[i]!;
  const o = ot.observation;
  const where = `observation ${i} (${o.sourceIp.text}${o.sourcePort === null ? '' : ':' + o.sourcePort} at ${formatInstant(o.reading.start)})`;
  return { ...ctx, ot, i, where };
}

/**
 * Every flag for one match: each rule of {@link RISK_RULES} in turn.
 *
 * @example
 * analyseRisks(trace, inputs).map((r) => r.code); // ['SHARED_ADDRESS_NO_PORT', 'SINGLE_OBSERVATION']
 */
export function analyseRisks(trace: MatchTrace, inputs: RiskInputs): Risk[] {
  const ctx = requestContext(trace, inputs);
  const raised: { flag: UnratedRisk; severity: RuleSeverity }[] = [];
  trace.observations.forEach((_, i) => {
    const oc = observationContext(ctx, i);
    for (const r of OBSERVATION_RULES) if (r.scope === 'observation') for (const f of r.rule(oc)) raised.push({ flag: f, severity: r.severity });
  });
  for (const r of REQUEST_RULES) if (r.scope === 'request') for (const f of r.rule(ctx)) raised.push({ flag: f, severity: r.severity });
  const rating: RatingContext = {
    candidates: ctx.candidates,
    flags: raised.map((x) => x.flag),
    readings: inputs.readings,
    inferredOnly: trace.observations.map((ot) => inferredOnly(ot, ctx.candidates)),
  };
  return raised.map(({ flag: f, severity }) => rated(f, severityOf(severity as SeverityRule, f, rating)));
}

/** How many accounts of the answer rest, for this observation, only on records whose end was inferred. */
function inferredOnly(ot: ObservationTrace, candidates: ReadonlySet<string>): number {
  let n = 0;
  for (const [account, supports] of ot.matches.accounts) if (candidates.has(account) && supports.length > 0 && supports.every((s) => s.endInferred)) n++;
  return n;
}
