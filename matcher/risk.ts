/**
 * Risk analysis (DESIGN.md "Risk catalogue"; code of practice 9.19–9.24): for every
 * result, how it could be a false positive or a false negative, each flag with a stable
 * code, its kind, the paragraph it serves and the values that raised it. Pure: the
 * store-dependent inputs (settings, coverage gaps, subscriber types, alternative time
 * readings) are fetched by the caller. Details carry counts and intervals, never the
 * identities of other customers.
 */
import { flag, type RiskCode } from '../src/catalogue/risks.js';
import type { Risk } from '../src/request.js';
import type { StoreSettings, StoredCoverage } from '../src/store/types.js';
import type { SubscriberType } from '../src/records.js';
import { formatInstant } from '../src/time.js';
import { processesConnectionRecords } from './guard.js';
import type { MatchTrace, ObservationTrace } from './resolve.js';
import type { ReadingOutcome } from './sensitivity.js';

/** What risk analysis consults besides the trace. */
export interface RiskInputs {
  readonly settings: StoreSettings;
  readonly subscriberTypes: ReadonlyMap<string, SubscriberType>;
  /**
   * Coverage gaps of any source overlapping each observation's window or the look-back
   * before it (records that started in a gap may still be held at the window).
   */
  readonly gaps: readonly (readonly StoredCoverage[])[];
  /** Alternative time readings: each observation's own, and the joint shifts. */
  readonly readings: { readonly perObservation: readonly (readonly ReadingOutcome[])[]; readonly joint: readonly ReadingOutcome[] };
}

/** Every code, its kind, paragraph and detail: the contract users group and count by (src/catalogue/risks.ts). */
export { RISK_CODES, type RiskCode } from '../src/catalogue/risks.js';

const SHARED_TYPES = new Set<SubscriberType>(['public-wifi', 'business', 'enterprise']);
const LIST_LIMIT = 10;

function observationFlags(ot: ObservationTrace, trace: MatchTrace, inputs: RiskInputs, i: number, candidates: ReadonlySet<string>): Risk[] {
  const o = ot.observation;
  const out: Risk[] = [];
  const w = o.window;
  const where = `observation ${i} (${o.sourceIp.text}${o.sourcePort === null ? '' : ':' + o.sourcePort} at ${formatInstant(o.reading.start)})`;

  if (ot.addressClass === 'server' || ot.addressClass === 'infrastructure') {
    out.push(flag('SERVER_ADDRESS', `${where}: ${o.sourceIp.text} is a ${ot.addressClass} address (${ot.addressSpace?.prefix.text ?? '?'}); 9.19 asks for a device's source address`, { observation: i, sourceIp: o.sourceIp.text, role: ot.addressClass }));
  }
  if (ot.outcome === 'not-operator-address') {
    out.push(flag('NOT_OPERATOR_ADDRESS', `${where}: ${o.sourceIp.text} is in no address space the operator declared, and no record holds it`, { observation: i, sourceIp: o.sourceIp.text }));
  }

  const insideHosts = new Set(ot.translations.map((t) => `${t.realm}|${t.inside.text}`));
  if (ot.translations.length > 0 || ot.addressClass === 'cgnat-outside') {
    const dynamicShare = ot.unresolved.filter((u) => u.reason === 'dynamic-share' || u.reason === 'unassigned');
    if (o.sourcePort === null) {
      out.push(flag('SHARED_ADDRESS_NO_PORT', `${where}: the address is shared through CGNAT and no source port was given; ${insideHosts.size} inside hosts and ${ot.matches.accounts.size} accounts fit`, { observation: i, sourceIp: o.sourceIp.text, insideHosts: insideHosts.size, accounts: ot.matches.accounts.size }));
    } else if (dynamicShare.length > 0) {
      out.push(flag('SHARED_ADDRESS_NO_PORT', `${where}: port ${o.sourcePort} is in no deterministic share (${dynamicShare.map((u) => u.reason).join(', ')}); only NAT logs could resolve it`, { observation: i, sourceIp: o.sourceIp.text, sourcePort: o.sourcePort, reasons: [...new Set(dynamicShare.map((u) => u.reason))] }));
    }
  }

  if (o.sourcePort !== null) {
    const holding = new Set(ot.translations.filter((t) => t.portFirst <= o.sourcePort! && o.sourcePort! <= t.portLast).map((t) => `${t.realm}|${t.inside.text}`));
    if (holding.size > 1) {
      out.push(flag('PORT_REUSE', `${where}: ${o.sourceIp.text}:${o.sourcePort} was mapped for ${holding.size} inside hosts within the window`, { observation: i, sourceIp: o.sourceIp.text, sourcePort: o.sourcePort, insideHosts: holding.size }));
    }
  }

  // Records behind the accounts that fit this observation.
  const supports = [...ot.matches.accounts.values()].flat();
  const boundaries: { kind: string; edge: 'start' | 'end'; at: string }[] = [];
  const seen = new Set<string>();
  for (const s of supports) {
    for (const [edge, at] of [['start', s.start], ['end', s.end]] as const) {
      if (at === null || at <= w.start || at >= w.end) continue;
      const key = `${s.kind}|${edge}|${at}`;
      if (seen.has(key)) continue;
      seen.add(key);
      boundaries.push({ kind: s.kind, edge, at: formatInstant(at) });
    }
  }
  if (boundaries.length > 0) {
    out.push(flag('ALLOCATION_BOUNDARY', `${where}: ${boundaries.length} record boundaries fall inside the window ${formatInstant(w.start)}–${formatInstant(w.end)} (first: ${boundaries[0]!.kind} ${boundaries[0]!.edge} at ${boundaries[0]!.at})`, { observation: i, window: { start: formatInstant(w.start), end: formatInstant(w.end) }, boundaries: boundaries.slice(0, LIST_LIMIT) }));
  }
  const inferred = supports.filter((s) => s.endInferred);
  if (inferred.length > 0) {
    out.push(flag('INFERRED_END', `${where}: ${inferred.length} matched records have an inferred end (no stop was logged)`, { observation: i, records: inferred.slice(0, LIST_LIMIT).map((s) => ({ kind: s.kind, start: formatInstant(s.start), end: s.end === null ? null : formatInstant(s.end) })) }));
  }

  if (o.reading.precision === 'min' && o.reading.form !== 'range') {
    out.push(flag('LOW_TIME_PRECISION', `${where}: the time was written to the minute, so the whole minute is searched`, { observation: i, precision: o.reading.precision, windowSeconds: (w.end - w.start) / 1000 }));
  }

  out.push(...readingFlags(inputs.readings.perObservation[i] ?? [], where, i, candidates.size));

  // Sources the path needed: NAT realms and allocation sources met. Every source, when
  // nothing was met, or when a translation reached an inside host no allocation covers
  // (then the allocation source that should have covered it is unknown).
  const realms = new Set<string>([...(ot.realm === null ? [] : [ot.realm]), ...ot.translations.map((t) => t.realm)]);
  const sources = new Set<string>(ot.matches.allocations.map((a) => a.source));
  const uncovered = ot.translations.some((t) => !ot.matches.allocations.some((a) => a.realm === t.realm && a.ip.key.equals(t.inside.key)));
  const everySource = uncovered || (realms.size === 0 && sources.size === 0);
  const gaps = (inputs.gaps[i] ?? []).filter((g) => everySource || realms.has(g.source) || sources.has(g.source));
  if (gaps.length > 0) {
    const described = gaps.slice(0, LIST_LIMIT).map((g) => ({
      source: g.source,
      start: formatInstant(g.start),
      end: g.end === null ? null : formatInstant(g.end),
      // A gap before the window: records that started in it may still have been held.
      relation: g.end !== null && g.end <= w.start ? 'before-window' : 'overlaps-window',
    }));
    out.push(flag('COVERAGE_GAP', `${where}: ${described.map((g) => `${g.source} has no records ${g.start}–${g.end ?? 'now'} (${g.relation})`).join('; ')}`, { observation: i, gaps: described }));
  }
  const horizon = inputs.settings.retentionHorizon;
  if (horizon !== null && w.start < horizon) {
    out.push(flag('BEYOND_RETENTION', `${where}: the window starts ${formatInstant(w.start)}, before the retention horizon ${formatInstant(horizon)}; records from then were purged`, { observation: i, windowStart: formatInstant(w.start), retentionHorizon: formatInstant(horizon) }));
  }

  const byKind = new Map<string, Set<string>>();
  for (const e of ot.matches.exclusions) {
    if (e.kinds.length !== 1 || candidates.has(e.account) || ot.matches.accounts.has(e.account)) continue;
    const kind = e.kinds[0]!;
    if (!byKind.has(kind)) byKind.set(kind, new Set());
    byKind.get(kind)!.add(e.account);
  }
  for (const [kind, accounts] of byKind) {
    out.push(flag('EXCLUDED_BY_IDENTIFIER', `${where}: ${accounts.size} accounts held the address but were dropped only because their ${kind} differed from the one supplied`, { observation: i, identifier: kind, accounts: accounts.size }));
  }

  const clockSources = new Set([...realms, ...sources]);
  for (const [source, errorMs] of Object.entries(inputs.settings.clockErrorMs)) {
    if (errorMs > trace.request.toleranceMs && (clockSources.has(source) || clockSources.size === 0)) {
      out.push(flag('TOLERANCE_BELOW_CLOCK_ERROR', `${where}: tolerance ${trace.request.toleranceMs / 1000} s is below ${source}'s declared clock error of ${errorMs / 1000} s`, { observation: i, source, clockErrorSeconds: errorMs / 1000, toleranceSeconds: trace.request.toleranceMs / 1000 }));
    }
  }
  return out;
}

function readingFlags(readings: readonly ReadingOutcome[], where: string, observation: number | 'all', answer: number): Risk[] {
  const out: Risk[] = [];
  const describe = (r: ReadingOutcome) => ({ reading: r.reading, window: { start: formatInstant(r.window.start), end: formatInstant(r.window.end) }, candidateCount: r.candidateCount, missing: r.missing, added: r.added });
  const dropping = readings.filter((r) => r.missing > 0);
  if (dropping.length > 0) {
    out.push(
      flag('TIME_READING_CHANGES_RESULT', `${where}: under ${dropping.map((r) => `${r.reading} ${r.missing} of the ${answer} accounts given do not fit (${r.candidateCount} would)`).join('; ')}`, {
        observation,
        candidateCount: answer,
        readings: dropping.map(describe),
      }),
    );
  }
  const adding = readings.filter((r) => r.added > 0);
  if (adding.length > 0) {
    out.push(
      flag('TIME_READING_FINDS_MORE', `${where}: ${adding.map((r) => `${r.reading} finds ${r.added} accounts the answer lacks`).join('; ')}`, {
        observation,
        candidateCount: answer,
        readings: adding.map(describe),
      }),
    );
  }
  return out;
}

/**
 * Every flag for one match.
 *
 * @example
 * analyseRisks(trace, inputs).map((r) => r.code); // ['SHARED_ADDRESS_NO_PORT', 'SINGLE_OBSERVATION']
 */
export function analyseRisks(trace: MatchTrace, inputs: RiskInputs): Risk[] {
  const n = trace.observations.length;
  const candidates = new Set(trace.correlation.candidates.map((c) => c.account));
  const out: Risk[] = trace.observations.flatMap((ot, i) => observationFlags(ot, trace, inputs, i, candidates));

  out.push(...readingFlags(inputs.readings.joint, `all ${n} observations shifted together`, 'all', candidates.size));
  if (candidates.size === 1 && n === 1) {
    out.push(flag('SINGLE_OBSERVATION', 'a unique answer resting on one observation; 9.24 asks for more IP/time pairs to cross-correlate', { observations: 1 }));
  }
  if (n > 1 && candidates.size === 0 && trace.observations.every((ot) => ot.matches.accounts.size > 0)) {
    const { supportCounts, bestSupport } = trace.correlation;
    out.push(
      flag('CONTRADICTORY_OBSERVATIONS', `each of the ${n} observations matched someone, but no account fits all of them; the best fits ${bestSupport} of ${n}`, {
        observations: n,
        bestSupport,
        supportCounts: supportCounts.map((accounts, k) => ({ support: k + 1, of: n, accounts })).filter((s) => s.accounts > 0),
      }),
    );
  }
  const sharedTypes = new Map<string, number>();
  for (const account of candidates) {
    const type = inputs.subscriberTypes.get(account);
    if (type !== undefined && SHARED_TYPES.has(type)) sharedTypes.set(type, (sharedTypes.get(type) ?? 0) + 1);
  }
  if (sharedTypes.size > 0) {
    out.push(flag('SHARED_ACCOUNT', `${[...sharedTypes].map(([t, k]) => `${k} ${t}`).join(', ')} account(s) among the candidates: not one individual`, { types: Object.fromEntries(sharedTypes), candidates: candidates.size }));
  }
  if (processesConnectionRecords(trace.request)) {
    const withDestination = trace.observations.filter((ot) => ot.observation.destinationIp !== null || ot.observation.destinationPort !== null || ot.observation.fqdn !== null).map((ot) => ot.observation.index);
    out.push(flag('CONNECTION_RECORDS_PROCESSED', `observations ${withDestination.join(', ')} give a destination: resolving them processes internet connection records (condition A, 9.22)`, { observations: withDestination }));
  }
  return out;
}
