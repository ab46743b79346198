/**
 * The simulated operator's logs (see world.ts): gaps in each source's logging, declared or
 * silent, and what the logs make of each record (lost, stop missing, open at export).
 */
import type { Rng } from './random.js';
import { MIN, PLAN } from './world-plan.js';
import type { RecordFate, Segment, WorldConfig } from './world-types.js';

/** A stretch in which one source logged nothing. */
export interface Gap {
  readonly source: string;
  readonly start: number;
  readonly end: number;
  readonly declared: boolean;
}

/** The gaps (drawn from `logs`), and each record's fate. */
export function logPlan(config: WorldConfig, present: (seg: Segment) => boolean, logs: Rng, S: number, END: number) {
  const sources: string[] = [];
  if (present('dhcp')) sources.push(PLAN.dhcp.source);
  if (present('pd')) sources.push(PLAN.pd.source);
  if (present('det') || present('wifi')) sources.push('radius');
  if (present('pba') || present('ses')) sources.push(PLAN.pba.source);
  if (present('pba')) sources.push(PLAN.pba.realm);
  if (present('ses')) sources.push(PLAN.ses.realm);
  if (present('wifi')) sources.push(PLAN.wifi.realm);
  if (present('det') && config.nat.deterministic === 'rfc7422' && config.nat.dynamicShares > 0) sources.push(PLAN.det.realm);
  const gaps: Gap[] = [];
  for (let g = 0; g < config.logs.gaps; g++) {
    const length = Math.max(MIN, Math.round(logs.exponential(config.logs.gapMeanMinutes * MIN)));
    const start = S + Math.floor(logs.float() * Math.max(1, END - S - length));
    gaps.push({ source: logs.pick(sources), start, end: Math.min(END, start + length), declared: logs.chance(config.logs.gapDeclared) });
  }
  gaps.sort((a, b) => a.start - b.start || a.source.localeCompare(b.source));
  const gapAt = (source: string, t: number): Gap | undefined => gaps.find((g) => g.source === source && t >= g.start && t < g.end);

  /** Decide what the logs make of a record with true interval [start, end). */
  const fateOf = (source: string, start: number, end: number): { fate: RecordFate; end: number | null; inferred: boolean } => {
    const lost = gapAt(source, start);
    if (lost !== undefined) return { fate: lost.declared ? 'lost-declared' : 'lost-silent', end: null, inferred: false };
    const randomMiss = logs.chance(config.logs.missingStop);
    if (end >= END) return { fate: 'open-at-export', end: null, inferred: false };
    if (!randomMiss && gapAt(source, end) === undefined) return { fate: 'logged', end, inferred: false };
    const mode = config.logs.missingStopMode === 'mixed' ? (logs.chance(0.5) ? 'inferred' : 'open') : config.logs.missingStopMode;
    if (mode === 'open') return { fate: 'stop-open', end: null, inferred: false };
    const step = config.logs.inferredTimeoutSeconds * 1000;
    const inferred = start + Math.max(1, Math.ceil((end - start) / step)) * step;
    return inferred >= END ? { fate: 'stop-open', end: null, inferred: false } : { fate: 'stop-inferred', end: inferred, inferred: true };
  };

  return { gaps, gapAt, fateOf };
}
