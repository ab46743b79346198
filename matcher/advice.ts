/**
 * Corroboration advice and the assessment line (issue 18; 9.24: the authorising
 * individual considers how corroborating evidence could mitigate a false positive or
 * negative, and the SPoC advises on a strategy). For a multi-customer or materially
 * flagged answer, which further data would settle it and by how much, read from the
 * records the match fetched — counts only, never identities, except the accounts under a
 * time reading where the disclosure policy would disclose them. Pure.
 */
import { IDENTIFIER_KINDS, type Advice, type IdentifierKind, type Risk } from '../src/request.js';
import { formatInstant } from '../src/time.js';
import type { MatchTrace, ObservationTrace } from './evaluate.js';
import type { ReadingOutcome } from './sensitivity.js';

/** What advice reads besides the trace. */
export interface AdviceInputs {
  readonly risks: readonly Risk[];
  readonly readings: { readonly perObservation: readonly (readonly ReadingOutcome[])[]; readonly joint: readonly ReadingOutcome[] } | null;
  /** Whether the disclosure policy would disclose this set of accounts (then a reading's accounts are named). */
  readonly discloses: (accounts: readonly string[]) => boolean;
}

const IDENTIFIER_NAMES: Readonly<Record<IdentifierKind, string>> = { imsi: 'IMSIs', msisdn: 'MSISDNs', imei: 'IMEIs', mac: 'MAC addresses' };

/** Accounts of the answer as this observation's supporting records hold them. */
function answerSupports(ot: ObservationTrace, candidates: ReadonlySet<string>) {
  return [...ot.matches.accounts].filter(([account]) => candidates.has(account));
}

/** Without a source port: how many inside hosts shared the address, and the most any one port reaches. */
function sourcePort(ot: ObservationTrace): Advice | null {
  const o = ot.observation;
  if (o.sourcePort !== null || ot.translations.length === 0) return null;
  const byHost = new Map<string, { first: number; last: number }[]>();
  for (const t of ot.translations) {
    const key = `${t.realm}|${t.inside.text}`;
    if (!byHost.has(key)) byHost.set(key, []);
    byHost.get(key)!.push({ first: t.portFirst, last: t.portLast });
  }
  if (byHost.size < 2) return null;
  // The most hosts any one port falls in: sweep the range edges.
  const edges: [number, number][] = [];
  for (const ranges of byHost.values()) {
    const merged = [...ranges]
      .sort((a, b) => a.first - b.first)
      .reduce<{ first: number; last: number }[]>((acc, r) => {
        const last = acc[acc.length - 1];
        if (last !== undefined && r.first <= last.last + 1) last.last = Math.max(last.last, r.last);
        else acc.push({ ...r });
        return acc;
      }, []);
    for (const r of merged) edges.push([r.first, 1], [r.last + 1, -1]);
  }
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let worstCase = 0;
  for (const [, d] of edges) worstCase = Math.max(worstCase, (open += d));
  const message =
    worstCase === 1
      ? `observation ${o.index}: the ${byHost.size} inside hosts' port ranges are disjoint: a source port would single out one of ${byHost.size}`
      : `observation ${o.index}: a source port would leave at most ${worstCase} of the ${byHost.size} inside hosts`;
  return { kind: 'source-port', observation: o.index, insideHosts: byHost.size, worstCase, message };
}

/** Without a destination: session records with a destination exist for this address over the window. */
function destination(f: MatchTrace['fetched'][number], ot: ObservationTrace): Advice | null {
  const o = ot.observation;
  if (o.destinationIp !== null) return null;
  const w = o.window;
  const sessions = f.sessions.filter((s) => s.destinationIp !== undefined && s.start < w.end && (s.end === null || s.end > w.start)).length;
  if (sessions === 0) return null;
  return {
    kind: 'destination',
    observation: o.index,
    sessions,
    message: `observation ${o.index}: ${sessions} session records with a destination cover the window: a destination ip:port would narrow the answer (9.22: processes connection records)`,
  };
}

/** When an account's hold on the observed address ends: its NAT records' latest end behind NAT, else its allocations' (`null`: still open). */
function holdEnd(supports: readonly { readonly kind: string; readonly end: number | null }[]): number | null {
  const nat = supports.filter((s) => s.kind !== 'allocation');
  const relevant = nat.length > 0 ? nat : supports;
  let end: number | null = 0;
  for (const s of relevant) end = end === null || s.end === null ? null : Math.max(end, s.end);
  return end;
}

/** The first instant at or after the window's start at which some candidate's hold on the address ends, and who still holds after it. */
function anotherObservation(trace: MatchTrace, candidates: ReadonlySet<string>): Advice | null {
  if (candidates.size < 2) return null;
  let best: Extract<Advice, { kind: 'another-observation' }> | null = null;
  for (const ot of trace.observations) {
    const ends = answerSupports(ot, candidates).map(([, supports]) => holdEnd(supports));
    const closed = ends.filter((e): e is number => e !== null && e >= ot.observation.window.start);
    if (closed.length === 0) continue;
    const after = Math.min(...closed);
    const remaining = ends.filter((e) => e === null || e > after).length;
    if (remaining === 0 || remaining >= candidates.size) continue;
    if (best === null || remaining < best.remaining) {
      best = {
        kind: 'another-observation',
        after: formatInstant(after),
        remaining,
        of: candidates.size,
        message: `the candidates' records diverge after ${formatInstant(after)}: another observation of the same device after then would leave at most ${remaining} of ${candidates.size}`,
      };
    }
  }
  return best;
}

/** Identifier kinds the request did not give that the candidates' records carry. */
function deviceIdentifiers(trace: MatchTrace, candidates: ReadonlySet<string>): Advice[] {
  if (candidates.size === 0) return [];
  const given = trace.request.identifiers;
  const carriers = new Map<IdentifierKind, Set<string>>();
  for (const ot of trace.observations) {
    for (const a of ot.matches.allocations) {
      if (!candidates.has(a.account)) continue;
      for (const kind of IDENTIFIER_KINDS) {
        if (a[kind] === undefined || given[kind] !== undefined) continue;
        if (!carriers.has(kind)) carriers.set(kind, new Set());
        carriers.get(kind)!.add(a.account);
      }
    }
  }
  return IDENTIFIER_KINDS.flatMap((kind): Advice[] => {
    const carried = carriers.get(kind)?.size ?? 0;
    if (carried === 0) return [];
    return [
      {
        kind: 'device-identifier',
        identifier: kind,
        carried,
        of: candidates.size,
        message: `the records carry ${IDENTIFIER_NAMES[kind]} for ${carried} of ${candidates.size} candidates: the device's ${kind} would confirm or exclude them`,
      },
    ];
  });
}

/** The plausible readings that material time flags name, with what each would return. */
function confirmTimeZone(inputs: AdviceInputs): Advice | null {
  if (inputs.readings === null) return null;
  const named = new Set<string>();
  for (const r of inputs.risks) {
    if (r.severity !== 'material' || (r.code !== 'TIME_READING_CHANGES_RESULT' && r.code !== 'TIME_READING_FINDS_MORE')) continue;
    for (const x of r.detail.readings) if (x.plausible) named.add(`${String(r.detail.observation)}|${x.reading}`);
  }
  if (named.size === 0) return null;
  const outcomes = [...inputs.readings.perObservation.flat(), ...inputs.readings.joint];
  const readings = outcomes
    .filter((o) => named.has(`${o.observation === null ? 'all' : String(o.observation)}|${o.reading}`))
    .map((o) => {
      const accounts = [...o.accounts].sort();
      return {
        reading: o.reading,
        observation: o.observation ?? ('all' as const),
        candidateCount: o.candidateCount,
        ...(inputs.discloses(accounts) ? { accounts } : {}),
      };
    });
  if (readings.length === 0) return null;
  return {
    kind: 'confirm-time-zone',
    readings,
    message: `confirm how the time was written: ${readings.map((r) => `under ${r.reading}${r.observation === 'all' ? ' (all observations)' : ` (observation ${r.observation})`} ${r.candidateCount} accounts would fit`).join('; ')}`,
  };
}

/**
 * Advice for a matched request: given when the answer names several accounts or carries
 * a material flag; empty for a robust unique answer.
 *
 * @example
 * advise(trace, { risks, readings, discloses: () => false }).map((a) => a.kind); // ['source-port', 'device-identifier']
 */
export function advise(trace: MatchTrace, inputs: AdviceInputs): Advice[] {
  const candidates = new Set(trace.correlation.candidates.map((c) => c.account));
  const material = inputs.risks.some((r) => r.severity === 'material');
  if (candidates.size <= 1 && !material) return [];
  const out: Advice[] = [];
  if (candidates.size > 1) {
    trace.observations.forEach((ot, i) => {
      const port = sourcePort(ot);
      if (port !== null) out.push(port);
      const dest = destination(trace.fetched[i]!, ot);
      if (dest !== null) out.push(dest);
    });
    const later = anotherObservation(trace, candidates);
    if (later !== null) out.push(later);
    out.push(...deviceIdentifiers(trace, candidates));
  }
  const zone = confirmTimeZone(inputs);
  if (zone !== null) out.push(zone);
  return out;
}

const SHORT: Readonly<Record<string, string>> = {
  'minus-1h': 'an hour earlier (BST read as GMT)',
  'plus-1h': 'an hour later (GMT read as BST)',
  'minus-12h': 'twelve hours earlier',
  'plus-12h': 'twelve hours later',
};

/** What one material flag says could make the answer wrong, in a phrase. */
function threat(r: Risk): string {
  if (r.code === 'TIME_READING_CHANGES_RESULT' || r.code === 'TIME_READING_FINDS_MORE') {
    const plausible = r.detail.readings.filter((y) => y.plausible);
    const x = plausible.find((y) => y.added > 0) ?? plausible[0];
    if (x !== undefined) {
      const who =
        x.candidateCount === 0
          ? 'nobody would fit'
          : x.added > 0 && x.missing > 0
            ? `${x.candidateCount} other account(s) would fit`
            : `${x.candidateCount} account(s) would fit`;
      return `under ${SHORT[x.reading] ?? x.reading}${r.detail.observation === 'all' ? ' for all observations' : ` for observation ${r.detail.observation}`} ${who}`;
    }
  }
  return `${r.code} (${r.message})`;
}

/**
 * One line a person can act on: robust (no material flag), or what could make it wrong,
 * with the counts.
 *
 * @example
 * assess('unique', 1, []); // 'robust: unique under the time as written; no plausible reading or fact changes who would be disclosed'
 * assess('multiple', 3, [], '3 accounts met the layers'); // 'robust: 3 accounts met the layers; no plausible reading or fact changes who would be disclosed'
 */
export function assess(status: 'unique' | 'multiple' | 'none' | 'refused', candidateCount: number, risks: readonly Risk[], answer?: string): string {
  if (status === 'refused') return 'refused: nothing was looked up; see refusal';
  const head =
    answer !== undefined
      ? answer
      : status === 'unique'
        ? 'unique under the time as written'
        : status === 'multiple'
          ? `${candidateCount} accounts fit the time as written`
          : 'no account fits the time as written';
  const material = risks.filter((r) => r.severity === 'material');
  if (material.length === 0) return `robust: ${head}; no plausible reading or fact changes who would be disclosed`;
  return `${head}; could be wrong: ${[...new Set(material.map(threat))].join('; ')}`;
}
