/**
 * `ipar coverage`: what the store knows it holds (issue 15) — each source's span of log
 * time, its gaps (declared by coverage records, inferred from its own silences) and the
 * retention horizon; as a table (default), as JSON (`--json`), or as a timeline a person
 * reads in a terminal (`--timeline`).
 */
import { describeOverlap, OverlapFinder, overlapJson, type Overlap } from '../ingest/overlaps.js';
import { openStore, type Store } from '../store/open.js';
import type { CoverageListing, SourceCoverage } from '../store/types.js';
import { formatInstant } from '../time.js';
import type { Io } from './io.js';

export interface CoverageCommand {
  readonly db: string;
  readonly json: boolean;
  readonly timeline: boolean;
  /** Columns of the timeline bar. */
  readonly width?: number;
}

/** One gap as shown: declared or inferred, with the evidence of an inferred one. */
export interface ShownGap {
  readonly source: string;
  readonly kind: 'declared' | 'inferred';
  readonly start: string;
  readonly end: string | null;
  readonly rateBefore?: number;
  readonly rateAfter?: number;
  readonly usualRate?: number;
  readonly expectedEvents?: number;
}

/** The JSON `ipar coverage --json` prints (documented in README "ipar coverage"). */
export interface CoverageJson {
  readonly retentionHorizon: string | null;
  readonly sources: readonly {
    source: string;
    role: SourceCoverage['role'];
    first: string;
    last: string;
    events: number;
    ingests: number;
    inferredGaps: number;
    declaredGaps: number;
  }[];
  readonly gaps: readonly ShownGap[];
  /**
   * Overlaps among the stored port blocks and allocations (issue 16 item 6): the same ports
   * or address held by two at once, a fault of the source, with both records.
   */
  readonly overlaps: readonly ReturnType<typeof overlapJson>[];
}

/** The listing as JSON values (instants as ISO strings). */
export function coverageJson(listing: CoverageListing, overlaps: readonly Overlap[] = []): CoverageJson {
  const declared = listing.declaredGaps.map((g): ShownGap => ({
    source: g.source,
    kind: 'declared',
    start: formatInstant(g.start),
    end: g.end === null ? null : formatInstant(g.end),
  }));
  const inferred = listing.sources.flatMap((s) =>
    s.inferredGaps.map((g): ShownGap => ({
      source: g.source,
      kind: 'inferred',
      start: formatInstant(g.start),
      end: formatInstant(g.end),
      rateBefore: g.rateBefore,
      rateAfter: g.rateAfter,
      usualRate: g.usualRate,
      expectedEvents: g.expectedEvents,
    })),
  );
  return {
    retentionHorizon: listing.retentionHorizon === null ? null : formatInstant(listing.retentionHorizon),
    sources: listing.sources.map((s) => ({
      source: s.source,
      role: s.role,
      first: formatInstant(s.first),
      last: formatInstant(s.last),
      events: s.events,
      ingests: s.ingests,
      inferredGaps: s.inferredGaps.length,
      declaredGaps: listing.declaredGaps.filter((g) => g.source === s.source).length,
    })),
    gaps: [...declared, ...inferred].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.source < b.source ? -1 : 1)),
    overlaps: overlaps.map(overlapJson),
  };
}

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return (
    rows
      .map((r) =>
        r
          .map((cell, c) => cell.padEnd(widths[c]!))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

/** The table: one row a source, then one row a gap, then the retention horizon. */
export function coverageTable(listing: CoverageListing, overlaps: readonly Overlap[] = []): string {
  const j = coverageJson(listing, overlaps);
  let out = table([
    ['source', 'role', 'first event', 'last event', 'events', 'ingests', 'inferred gaps', 'declared gaps'],
    ...j.sources.map((s) => [s.source, s.role, s.first, s.last, String(s.events), String(s.ingests), String(s.inferredGaps), String(s.declaredGaps)]),
  ]);
  out += '\n';
  out +=
    j.gaps.length === 0
      ? 'no gaps\n'
      : table([
          ['source', 'gap', 'start', 'end', 'evidence'],
          ...j.gaps.map((g) => [
            g.source,
            g.kind,
            g.start,
            g.end ?? 'open',
            g.kind === 'inferred'
              ? `${g.rateBefore}/min before, ${g.rateAfter}/min after, usual ${g.usualRate}/min, ${g.expectedEvents} events expected`
              : 'coverage record',
          ]),
        ]);
  out += `\nretention horizon: ${j.retentionHorizon ?? 'none (nothing purged)'}\n`;
  if (overlaps.length > 0) {
    out += `\n${overlaps.length} overlap${overlaps.length === 1 ? '' : 's'} (a fault of the source: two holders of the same ports or address at once):\n`;
    for (const o of overlaps) out += `  ${describeOverlap(o)}\n`;
  }
  return out;
}

/**
 * The timeline: one bar a source over the store's whole span, `█` where the source has
 * evidence, `·` outside its span, `░` in an inferred gap, `▒` in a declared gap, and `|`
 * at the retention horizon; the scale's ends under the bars.
 */
export function coverageTimeline(listing: CoverageListing, width = 60): string {
  if (listing.sources.length === 0) return 'no source coverage recorded (ingest records with ipar ingest)\n';
  const from = Math.min(...listing.sources.map((s) => s.first), ...listing.declaredGaps.map((g) => g.start));
  const to = Math.max(...listing.sources.map((s) => s.last), ...listing.declaredGaps.map((g) => g.end ?? g.start)) + 1;
  const cell = (to - from) / width;
  const name = Math.max(...listing.sources.map((s) => s.source.length));
  const lines = listing.sources.map((s) => {
    let bar = '';
    for (let k = 0; k < width; k++) {
      const a = from + k * cell;
      const b = a + cell;
      const over = (g: { start: number; end: number | null }) => g.start < b && (g.end === null || g.end > a);
      let c = b <= s.first || a > s.last ? '·' : '█';
      if (c === '█' && s.inferredGaps.some(over)) c = '░';
      if (listing.declaredGaps.some((g) => g.source === s.source && over(g))) c = '▒';
      const h = listing.retentionHorizon;
      if (h !== null && h >= a && h < b) c = '|';
      bar += c;
    }
    return `${s.source.padEnd(name)}  ${bar}`;
  });
  const left = formatInstant(from);
  const right = formatInstant(to);
  lines.push(`${''.padEnd(name)}  ${left}${right.padStart(Math.max(1, width - left.length))}`);
  lines.push(`${''.padEnd(name)}  █ events  · outside the span  ░ inferred gap  ▒ declared gap  | retention horizon`);
  return lines.join('\n') + '\n';
}

/**
 * The overlaps among a store's port blocks and allocations, found by reading them back out
 * (`exportRecords`, one batch in memory, every backend alike) through the finder ingest and
 * the resolver use: the same overlaps on SQLite and ClickHouse.
 */
export async function storedOverlaps(store: Pick<Store, 'exportRecords'>): Promise<Overlap[]> {
  const finder = new OverlapFinder();
  for await (const batch of store.exportRecords({ kinds: ['nat-block', 'allocation'], window: { start: -Infinity, end: Infinity } })) {
    for (const r of batch) finder.add(r);
  }
  return finder.overlaps();
}

export async function runCoverage(cmd: CoverageCommand, io: Io): Promise<number> {
  const store = openStore(cmd.db, { readonly: true });
  try {
    const listing = await store.coverage();
    if (cmd.json) io.stdout.write(JSON.stringify(coverageJson(listing, await storedOverlaps(store))) + '\n');
    else if (cmd.timeline) io.stdout.write(coverageTimeline(listing, cmd.width));
    else io.stdout.write(coverageTable(listing, await storedOverlaps(store)));
    return 0;
  } finally {
    await store.close();
  }
}
