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

/** One file's parse: feed every line in order, then call `end()` once. */
export interface VendorSession {
  line(text: string, lineNumber: number): ParseOutput;
  /** Flush what is still open (unpaired starts become open or inferred-end records). */
  end(): ParseOutput;
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
