/**
 * What a report page shows, gathered as plain data (issue 21): for each result, the
 * request as received, each observation's window and the other readings of its time, and
 * the records around it — read through the store reader interface only, never the driver.
 * Accounts the result does not disclose are given letters (account A, B, …): the page
 * shows that someone else held the address, never who.
 */
import { hostPort, parseAddress } from '../address.js';
import { planRequest, type PlannedObservation } from '../../matcher/plan.js';
import { reverse } from '../../nat/deterministic.js';
import { alternativeReadings, type ReadingName } from '../../matcher/sensitivity.js';
import { Estimate, Result, type ObservationResult, type Risk } from '../request.js';
import type {
  SourceCoverage,
  StoreReader,
  StoredAllocation,
  StoredCoverage,
  StoredNatBlock,
  StoredNatDeterministic,
  StoredNatSession,
} from '../store/types.js';
import { parseInstant, type Window } from '../time.js';

/** A result line as read from the results file, and the request line it answers (when given). */
export interface ReportItem {
  /** The result line exactly as written (its sha256 is the audit's `resultHash`). */
  readonly line: string;
  readonly result: Result | Estimate;
  /** The request line exactly as received, when the requests were given. */
  readonly request: string | null;
}

/** `coverage`: a declared gap (a coverage record); `inferred-gap`: a silence the store judged a gap (issue 15). */
export type BarKind = 'allocation' | 'nat-block' | 'nat-session' | 'nat-deterministic' | 'coverage' | 'inferred-gap';

/** One record drawn on the timeline. */
export interface Bar {
  readonly kind: BarKind;
  readonly start: number;
  /** `null`: still open when exported. */
  readonly end: number | null;
  /** What the bar's tooltip and legend say (never an undisclosed identity). */
  readonly label: string;
  /** The record is evidence for a disclosed candidate. */
  readonly evidence: boolean;
  readonly endInferred: boolean;
}

/**
 * Where an observation window lies against a source's data (its first and last logged
 * event): `inside` it, `before` the first, `after` the last, `partial` across an edge, or
 * `unknown` when the store holds no span for the source (only a declared gap).
 */
export type SourceRelation = 'inside' | 'before' | 'after' | 'partial' | 'unknown';

/** What a `source` row draws besides its gaps: the span of the source's data (issue 15). */
export interface SourceSpan {
  readonly name: string;
  readonly role: SourceCoverage['role'] | null;
  /** First and last logged event; `null` when the store holds no span for the source. */
  readonly first: number | null;
  readonly last: number | null;
  readonly events: number;
  /** The observation window against the span. */
  readonly relation: SourceRelation;
  /** Which kinds of gap overlap the observation window. */
  readonly windowInGap: readonly ('declared' | 'inferred')[];
}

/** A timeline row: the window, one alternative reading, the records of one holder, or one source's data. */
export interface Row {
  readonly group: 'window' | 'reading' | 'nat' | 'allocation' | 'source';
  readonly label: string;
  /** For `window` and `reading` rows: the window drawn. */
  readonly window?: Window;
  /** For a `reading` row: whether this reading changed the answer (from the result's flags). */
  readonly changes?: 'drops' | 'adds' | 'both' | null;
  /** For a `source` row: the span of its data (its gaps are the row's bars). */
  readonly source?: SourceSpan;
  readonly bars: readonly Bar[];
}

/** How one observation's time was written, beside what it became. */
export interface AsReceived {
  /** The `time` value exactly as the request gave it (JSON text). */
  readonly timeText: string;
  readonly form: 'instant' | 'range' | 'local';
  /** The zone or offset the time was read in, in words. */
  readonly zone: string;
  readonly precision: string;
  readonly clock: string;
  readonly foldInstants: readonly number[] | null;
  readonly inGap: boolean;
}

export interface ObservationView {
  readonly result: ObservationResult;
  readonly window: Window;
  readonly asReceived: AsReceived | null;
  /** The span the timeline draws (every reading, with a margin). */
  readonly span: Window;
  readonly rows: readonly Row[];
  /** Records in the span not drawn (beyond the per-row cap). */
  readonly omitted: number;
  /** Sources not drawn (beyond {@link MAX_SOURCE_ROWS}). */
  readonly sourcesOmitted: number;
}

export interface PageData {
  readonly item: ReportItem;
  /** `resolve` results carry candidates; `estimate` results counts only. */
  readonly action: 'resolve' | 'estimate';
  /** The request as parsed from its line, `null` when not given or not JSON. */
  readonly request: Record<string, unknown> | null;
  readonly observations: readonly ObservationView[];
}

/** Most records drawn in one row, and most holders (rows) per observation. */
export const MAX_BARS_PER_ROW = 60;
export const MAX_HOLDER_ROWS = 24;

/**
 * Fields a result may carry that its schema does not name (a signature, corroboration of
 * other tools): the page shows them when present, and they do not make a line unreadable.
 * Severity, assessment and advice are in the schema now (issue 18) and are checked.
 */
const LATER_RISK_FIELDS = ['corroboration'] as const;
const LATER_RESULT_FIELDS = ['corroboration', 'signature'] as const;

function withoutLaterFields(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const v = { ...(value as Record<string, unknown>) };
  for (const k of LATER_RESULT_FIELDS) delete v[k];
  if (Array.isArray(v['risks'])) {
    v['risks'] = (v['risks'] as unknown[]).map((r) => {
      if (typeof r !== 'object' || r === null) return r;
      const c = { ...(r as Record<string, unknown>) };
      for (const k of LATER_RISK_FIELDS) delete c[k];
      return c;
    });
  }
  return v;
}

/**
 * Read one line of a results file: a resolve result or an estimate, by its schema (the
 * value as written is kept, with any of the later fields it carries).
 *
 * @example
 * readResultLine('{"ref":"R1","status":"none",…}'); // { ok: true, result, action: 'resolve' }
 */
export function readResultLine(line: string): { ok: true; result: Result | Estimate; action: 'resolve' | 'estimate' } | { ok: false; message: string } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return { ok: false, message: `not JSON: ${(error as Error).message}` };
  }
  const checked = withoutLaterFields(value);
  // Checked against the schema; the value itself (schema-shaped, plus later fields) is what the page reads.
  const r = Result.safeParse(checked);
  if (r.success) return { ok: true, result: value as Result, action: 'resolve' };
  const e = Estimate.safeParse(checked);
  if (e.success) return { ok: true, result: value as Estimate, action: 'estimate' };
  const issue = r.error.issues[0];
  return { ok: false, message: `neither a result nor an estimate (${issue === undefined ? '?' : `${issue.path.join('.') || '(line)'}: ${issue.message}`})` };
}

function ms(iso: string): number {
  const r = parseInstant(iso);
  if (!r.ok) throw new TypeError(`result instant ${JSON.stringify(iso)}: ${r.message}`);
  return r.value.ms;
}

function offsetText(minutes: number): string {
  const a = Math.abs(minutes);
  return `${minutes < 0 ? '−' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

function zoneWords(o: PlannedObservation, time: unknown): string {
  const r = o.reading;
  if (r.timeZone !== null) {
    // The offset the zone had at that wall-clock time (one reading; a fold lists both below).
    const local = typeof time === 'object' && time !== null ? (time as { local?: unknown }).local : undefined;
    const wall = typeof local === 'string' ? parseInstant(local + 'Z') : null;
    const inForce =
      wall !== null && wall.ok && r.foldInstants === null && !r.inGap ? `, offset in force ${offsetText(Math.round((wall.value.ms - r.start) / 60_000))}` : '';
    return `wall-clock time in ${r.timeZone}${inForce}`;
  }
  if (r.offsetMinutes === null) return 'instants with their own offsets';
  if (r.offsetMinutes === 0) return 'UTC (offset Z or +00:00)';
  return `offset ${offsetText(r.offsetMinutes)}`;
}

const PRECISION_WORDS = { ms: 'to the millisecond', s: 'to the second', min: 'to the minute' } as const;

/** Which readings a result's time flags name, per observation (`all`: the joint shifts). */
function flaggedReadings(risks: readonly Risk[]): Map<string, 'drops' | 'adds' | 'both'> {
  const out = new Map<string, 'drops' | 'adds' | 'both'>();
  for (const risk of risks) {
    const effect = risk.code === 'TIME_READING_CHANGES_RESULT' ? 'drops' : risk.code === 'TIME_READING_FINDS_MORE' ? 'adds' : null;
    if (effect === null) continue;
    const readings = risk.detail['readings'];
    if (!Array.isArray(readings)) continue;
    for (const r of readings as { reading?: unknown }[]) {
      const key = `${String(risk.detail['observation'])}|${String(r.reading)}`;
      const had = out.get(key);
      out.set(key, had === undefined || had === effect ? effect : 'both');
    }
  }
  return out;
}

/** Account labels: disclosed accounts by name, every other account by a letter, in order met. */
class Accounts {
  readonly #letters = new Map<string, string>();
  constructor(readonly disclosed: ReadonlySet<string>) {}
  label(account: string): string {
    if (this.disclosed.has(account)) return account;
    let l = this.#letters.get(account);
    if (l === undefined) {
      const n = this.#letters.size;
      l = `account ${n < 26 ? String.fromCharCode(65 + n) : `#${n + 1}`} (not disclosed)`;
      this.#letters.set(account, l);
    }
    return l;
  }
}

interface Fetched {
  blocks: readonly StoredNatBlock[];
  sessions: readonly StoredNatSession[];
  deterministic: readonly StoredNatDeterministic[];
  publicAllocations: readonly StoredAllocation[];
  inside: Map<string, readonly StoredAllocation[]>;
  gaps: readonly StoredCoverage[];
}

const MARGIN_MIN_MS = 30_000;

function spanOf(windows: readonly Window[]): Window {
  const start = Math.min(...windows.map((w) => w.start));
  const end = Math.max(...windows.map((w) => w.end));
  const margin = Math.max(MARGIN_MIN_MS, (end - start) * 0.1);
  return { start: start - margin, end: end + margin };
}

async function fetchAround(store: StoreReader, o: ObservationResult, span: Window): Promise<Fetched> {
  const parsed = parseAddress(o.sourceIp);
  const empty: Fetched = { blocks: [], sessions: [], deterministic: [], publicAllocations: [], inside: new Map(), gaps: [] };
  const [gaps] = await store.coverageGaps([{ source: null, window: span }]);
  empty.gaps = gaps ?? [];
  if (!parsed.ok) return empty;
  const address = parsed.value;
  const nat = o.addressClass === 'cgnat-outside' || o.addressClass === 'not-operator';
  const direct = o.addressClass === 'dynamic' || o.addressClass === 'static' || o.addressClass === 'not-operator';
  const q = { outside: address, port: o.sourcePort, window: span };
  const [blocks, sessions, deterministic, publicAllocations] = await Promise.all([
    nat ? store.natBlocks([q]).then((r) => r[0] ?? []) : [],
    nat ? store.natSessions([q]).then((r) => r[0] ?? []) : [],
    nat ? store.natDeterministic([{ outside: address, window: span }]).then((r) => r[0] ?? []) : [],
    direct ? store.allocations([{ address, realm: null, window: span }]).then((r) => r[0] ?? []) : [],
  ]);
  const hosts = new Map<string, { realm: string; ip: string }>();
  for (const t of [...blocks, ...sessions])
    if (hosts.size < MAX_HOLDER_ROWS) hosts.set(`${t.realm}|${t.insideIp.text}`, { realm: t.realm, ip: t.insideIp.text });
  // Deterministic NAT logs nothing per host: the configuration says who held the port.
  if (o.sourcePort !== null) {
    for (const d of deterministic) {
      const r = reverse(d, address, o.sourcePort);
      if (r.ok && hosts.size < MAX_HOLDER_ROWS) hosts.set(`${d.realm}|${r.value.insideAddress.text}`, { realm: d.realm, ip: r.value.insideAddress.text });
    }
  }
  const keys = [...hosts.keys()];
  const queries = keys.flatMap((k) => {
    const h = hosts.get(k)!;
    const a = parseAddress(h.ip);
    return a.ok ? [{ address: a.value, realm: h.realm, window: span }] : [];
  });
  const insideRows = queries.length === 0 ? [] : await store.allocations(queries);
  const inside = new Map<string, readonly StoredAllocation[]>();
  keys.forEach((k, i) => inside.set(k, insideRows[i] ?? []));
  return { blocks, sessions, deterministic, publicAllocations, inside, gaps: empty.gaps };
}

function capped<T>(rows: readonly T[], cap: number): { shown: T[]; omitted: number } {
  return { shown: rows.slice(0, cap), omitted: Math.max(0, rows.length - cap) };
}

function recordRows(f: Fetched, accounts: Accounts, evidence: ReadonlySet<string>): { rows: Row[]; omitted: number } {
  const rows: Row[] = [];
  let omitted = 0;
  const natRow = (label: string, bars: Bar[]) => {
    const c = capped(bars, MAX_BARS_PER_ROW);
    omitted += c.omitted;
    rows.push({ group: 'nat', label, bars: c.shown });
  };
  // Port blocks and sessions on the public address (and port), one row per block range or port.
  const byBlock = new Map<string, Bar[]>();
  for (const b of f.blocks) {
    const key = `port block ${b.portFirst}–${b.portLast}${b.protocol === undefined ? '' : ' ' + b.protocol}`;
    if (!byBlock.has(key)) byBlock.set(key, []);
    byBlock.get(key)!.push({
      kind: 'nat-block',
      start: b.start,
      end: b.end,
      label: `${b.outsideIp.text} ports ${b.portFirst}–${b.portLast} → ${b.insideIp.text} (${b.realm})`,
      evidence: evidence.has(b.id),
      endInferred: b.endInferred === true,
    });
  }
  for (const [label, bars] of byBlock) natRow(label, bars);
  const byPort = new Map<string, Bar[]>();
  for (const s of f.sessions) {
    const key = `sessions on ${hostPort(s.outsideIp.text, s.outsidePort)}`;
    if (!byPort.has(key)) byPort.set(key, []);
    const to = s.destinationIp === undefined ? '' : ` to ${hostPort(s.destinationIp.text, s.destinationPort ?? null)}`;
    byPort.get(key)!.push({
      kind: 'nat-session',
      start: s.start,
      end: s.end,
      label: `${hostPort(s.outsideIp.text, s.outsidePort)} → ${hostPort(s.insideIp.text, s.insidePort)} (${s.realm})${to}`,
      evidence: evidence.has(s.id),
      endInferred: false,
    });
  }
  for (const [label, bars] of byPort) natRow(label, bars);
  for (const d of f.deterministic) {
    natRow(`deterministic NAT ${d.outsidePrefix.text}`, [
      {
        kind: 'nat-deterministic',
        start: d.start,
        end: d.end,
        label: `${d.insidePrefix.text} → ${d.outsidePrefix.text} ports ${d.portFirst}–${d.portLast} (${d.realm})`,
        evidence: evidence.has(d.id),
        endInferred: false,
      },
    ]);
  }
  // Allocations, one row per account: who held the address (or the inside host) when.
  const byAccount = new Map<string, Bar[]>();
  const allocations = [...f.publicAllocations, ...[...f.inside.values()].flat()].sort((a, b) => a.start - b.start);
  for (const a of allocations) {
    const label = accounts.label(a.account);
    if (!byAccount.has(label)) byAccount.set(label, []);
    byAccount.get(label)!.push({
      kind: 'allocation',
      start: a.start,
      end: a.end,
      label: `${a.ip.text}${a.realm === undefined ? '' : ` (${a.realm})`} from ${a.source}`,
      evidence: evidence.has(a.id),
      endInferred: a.endInferred === true,
    });
  }
  const holders = [...byAccount];
  const shownHolders = holders.slice(0, MAX_HOLDER_ROWS);
  for (const [, bars] of holders.slice(MAX_HOLDER_ROWS)) omitted += bars.length;
  for (const [label, bars] of shownHolders) {
    const c = capped(bars, MAX_BARS_PER_ROW);
    omitted += c.omitted;
    rows.push({ group: 'allocation', label, bars: c.shown });
  }
  return { rows, omitted };
}

/** Where a window lies against a source's first and last event. */
export function relationOf(window: Window, first: number | null, last: number | null): SourceRelation {
  if (first === null || last === null) return 'unknown';
  if (window.end <= first) return 'before';
  if (window.start > last) return 'after';
  return window.start >= first && window.end <= last ? 'inside' : 'partial';
}

/** Sources a result's flags name for an observation (OUTSIDE_SOURCE_SPAN, COVERAGE_GAP, INFERRED_GAP, GAP_UNDETECTABLE…). */
function flaggedSources(risks: readonly Risk[], index: number): Set<string> {
  const out = new Set<string>();
  for (const risk of risks) {
    if (risk.detail['observation'] !== index) continue;
    for (const key of ['sources', 'gaps']) {
      const list = risk.detail[key];
      if (!Array.isArray(list)) continue;
      for (const x of list as { source?: unknown }[]) if (typeof x?.source === 'string') out.add(x.source);
    }
  }
  return out;
}

/** Most source rows per observation. */
export const MAX_SOURCE_ROWS = 16;

/**
 * The sources an observation's answer rests on, one row each with the span of its data
 * and its gaps: the sources of the records drawn (an allocation's source, a NAT realm),
 * those the result's flags name, those with a declared gap in the view, and — when no
 * allocation was found on an address that uses them — every allocation source (which one
 * should have logged it cannot be known), and the observation's realm.
 */
function sourceRows(
  o: ObservationResult,
  f: Fetched,
  coverage: readonly SourceCoverage[],
  risks: readonly Risk[],
  window: Window,
): { rows: Row[]; omitted: number; sourcesOmitted: number } {
  const names = new Set<string>();
  const allocations = [...f.publicAllocations, ...[...f.inside.values()].flat()];
  for (const a of allocations) names.add(a.source);
  for (const t of [...f.blocks, ...f.sessions, ...f.deterministic]) names.add(t.realm);
  if (o.realm !== null) names.add(o.realm);
  for (const s of flaggedSources(risks, o.index)) names.add(s);
  for (const g of f.gaps) names.add(g.source);
  const usesAllocations = o.addressClass !== 'server' && o.addressClass !== 'infrastructure';
  if (usesAllocations && allocations.length === 0) for (const c of coverage) if (c.role === 'allocation') names.add(c.source);
  const byName = new Map(coverage.map((c) => [c.source, c]));
  const sorted = [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const rows: Row[] = [];
  let omitted = 0;
  for (const name of sorted.slice(0, MAX_SOURCE_ROWS)) {
    const c = byName.get(name);
    const declared = f.gaps.filter((g) => g.source === name);
    const inferred = c?.inferredGaps ?? [];
    if (c === undefined && declared.length === 0) continue; // a realm or source the store has no coverage of
    const overlaps = (g: { start: number; end: number | null }) => g.start < window.end && (g.end === null || g.end > window.start);
    const bars: Bar[] = [
      ...declared.map((g) => ({
        kind: 'coverage' as const,
        start: g.start,
        end: g.end,
        label: `${name}: no records (declared gap)`,
        evidence: false,
        endInferred: false,
      })),
      ...inferred.map((g) => ({
        kind: 'inferred-gap' as const,
        start: g.start,
        end: g.end,
        label: `${name}: silent though its rates (${g.rateBefore}/min before, ${g.rateAfter}/min after, ${g.usualRate}/min usual) expected ${g.expectedEvents} events (inferred gap)`,
        evidence: false,
        endInferred: false,
      })),
    ];
    const shown = capped(bars, MAX_BARS_PER_ROW);
    omitted += shown.omitted;
    const windowInGap = [...(declared.some(overlaps) ? (['declared'] as const) : []), ...(inferred.some(overlaps) ? (['inferred'] as const) : [])];
    rows.push({
      group: 'source',
      label: `source ${name}`,
      source: {
        name,
        role: c?.role ?? null,
        first: c?.first ?? null,
        last: c?.last ?? null,
        events: c?.events ?? 0,
        relation: relationOf(window, c?.first ?? null, c?.last ?? null),
        windowInGap,
      },
      bars: shown.shown,
    });
  }
  return { rows, omitted, sourcesOmitted: Math.max(0, sorted.length - MAX_SOURCE_ROWS) };
}

/**
 * Gather one page: read the request, plan it (to know how each time was read and its
 * other readings), and fetch the records around each observation's window.
 *
 * @example
 * const page = await gatherPage(store, { line, result, request: requestLine }, 'resolve');
 * page.observations[0].rows.filter((r) => r.group === 'allocation').length; // holders drawn
 */
export async function gatherPage(
  store: StoreReader,
  item: ReportItem,
  action: 'resolve' | 'estimate',
  coverage?: readonly SourceCoverage[],
): Promise<PageData> {
  const sources = coverage ?? (await store.sourceCoverage());
  let request: Record<string, unknown> | null = null;
  if (item.request !== null) {
    try {
      const v: unknown = JSON.parse(item.request);
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) request = v as Record<string, unknown>;
    } catch {
      request = null;
    }
  }
  const plan = request === null ? null : planRequest(request);
  const planned = plan !== null && plan.ok ? plan.value : null;
  const result = item.result;
  const disclosed = new Set('candidates' in result ? result.candidates.map((c) => c.account) : []);
  const evidence = new Set('candidates' in result ? result.candidates.flatMap((c) => c.evidence.map((e) => e.id)) : []);
  const accounts = new Accounts(disclosed);
  const flagged = flaggedReadings(result.risks);
  const rawObservations = Array.isArray(request?.['observations']) ? (request['observations'] as unknown[]) : [];

  const observations: ObservationView[] = [];
  for (const o of result.observations) {
    const window = { start: ms(o.window.start), end: ms(o.window.end) };
    const p = planned?.observations[o.index] ?? null;
    const readings: { reading: ReadingName; window: Window }[] = p === null || planned === null ? [] : alternativeReadings(p, planned.toleranceMs);
    const span = spanOf([window, ...readings.map((r) => r.window)]);
    const rows: Row[] = [{ group: 'window', label: 'observation window', window, bars: [] }];
    for (const r of readings) {
      const changes = flagged.get(`${o.index}|${r.reading}`) ?? flagged.get(`all|${r.reading}`) ?? null;
      rows.push({ group: 'reading', label: `reading: ${r.reading}`, window: r.window, changes, bars: [] });
    }
    const f = await fetchAround(store, o, span);
    const records = recordRows(f, accounts, evidence);
    rows.push(...records.rows);
    const limits = sourceRows(o, f, sources, result.risks, window);
    rows.push(...limits.rows);
    const raw = rawObservations[o.index] as { time?: unknown } | undefined;
    const asReceived: AsReceived | null =
      p === null
        ? null
        : {
            timeText: JSON.stringify(raw?.time ?? null),
            form: p.reading.form,
            zone: zoneWords(p, raw?.time),
            precision: PRECISION_WORDS[p.reading.precision],
            clock: p.clock === '12h-ambiguous' ? '12-hour without AM/PM' : '24-hour',
            foldInstants: p.reading.foldInstants,
            inGap: p.reading.inGap,
          };
    observations.push({ result: o, window, asReceived, span, rows, omitted: records.omitted + limits.omitted, sourcesOmitted: limits.sourcesOmitted });
  }
  return { item, action, request, observations };
}
