/**
 * The contract every vendor importer meets (`ipar ingest --format NAME`). A parser turns
 * a vendor's lines into canonical records in their written form (strings for times and
 * addresses); the ingest pipeline validates them with the canonical schema like any
 * other record, so there is one validation path. Parsers are stateful per file because
 * they pair events (allocate/release, Start/Stop) into intervals.
 */
import type { CanonicalRecordInput } from '../../records.js';
import type { Problem } from '../../problems.js';

/** What the operator tells an importer that the lines do not say. */
export interface VendorOptions {
  /** IANA zone of the device's wall clock (`--tz`), for lines without an offset. */
  readonly timeZone?: string;
  /** Year for headers that omit it (`--year`); rollover is detected from month order. */
  readonly year?: number;
  /** CGNAT realm the records belong to (`--realm`). */
  readonly realm?: string;
  /** Close a session with no stop after this many seconds (marked `endInferred`). */
  readonly missingStopTimeoutSeconds?: number;
  /**
   * Zone abbreviations the operator pins (`{ PST: '+08:00' }` in Manila, `{ IST: '+05:30' }`),
   * read before the built-in table; values are offsets.
   */
  readonly zoneAbbreviations?: Readonly<Record<string, string>>;
  /** RADIUS interim interval when the records do not carry `Acct-Interim-Interval` (coverage gaps). */
  readonly interimIntervalSeconds?: number;
  /** Log time a closed interval waits for late (out-of-order) lines before it is emitted; default 10. */
  readonly reorderWindowSeconds?: number;
}

/** A problem with one input line (or a group of wrapped lines starting at `line`). */
export interface LineProblem extends Problem {
  readonly line: number;
}

export interface ParseOutput {
  readonly records: readonly CanonicalRecordInput[];
  readonly problems: readonly LineProblem[];
}

/**
 * A book's unfinished intervals as opaque JSON (pairing.ts `BookState`), handed from one
 * input to the next and, through the store, from one run to the next.
 */
export type PairingState = unknown;

/** What a session hands on at the end of an input (see `suspend`). */
export interface SuspendedSession {
  /** The records and problems the end of the input released (final records only). */
  readonly output: ParseOutput;
  /** The unfinished intervals, `null` when none. */
  readonly state: PairingState | null;
  /** The records those intervals stand for now (`lastSeen` set; `end: null` while open). */
  readonly provisional: readonly CanonicalRecordInput[];
  /** Ends inferred in this session, and the one that reached furthest past its evidence. */
  readonly inferred: InferredEndsSummary;
}

export interface InferredEndsSummary {
  readonly count: number;
  readonly longestMs: number;
  readonly longest: { readonly resource: string; readonly holder: string; readonly start: string; readonly end: string; readonly lastEvidence: string } | null;
}

/** One file's parse: feed every line in order, then call `end()` (or `suspend()`) once. */
export interface VendorSession {
  line(text: string, lineNumber: number): ParseOutput;
  /**
   * End of the input: the records it released, then one provisional record per interval
   * still unfinished (open ones with `end: null` and `lastSeen`). No end is inferred
   * because the input ended.
   */
  end(): ParseOutput;
  /**
   * End of an input that a later input or run continues: the unfinished intervals as
   * state for `resume`, not as records (absent: the format pairs nothing). `last`: no
   * later input of this run follows (stops whose start was never seen are reported then).
   */
  suspend?(last: boolean): SuspendedSession;
  /** Continue the intervals an earlier input or run left (before the first line). */
  resume?(state: PairingState): void;
  /**
   * True between records: no message begun on a line is waiting for the lines that finish
   * it (absent: every line is a record). A follower commits a checkpoint only here, so the
   * lines after it start a record.
   */
  idle?(): boolean;
}

export interface VendorParser {
  /** The `--format` name, e.g. `juniper-srx`. */
  readonly name: string;
  /** One sentence for `--help` and the README. */
  readonly description: string;
  /** True when these first lines of a file look like this format (`--format auto`). */
  sniff(firstLines: readonly string[]): boolean;
  session(options: VendorOptions): VendorSession;
}
