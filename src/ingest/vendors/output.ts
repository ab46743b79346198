/**
 * What one `line()` or `end()` call hands back, and the constant reasons of the problems
 * vendor importers report. Every problem carries the values in its message so a batch
 * report can group by reason and still show what was wrong.
 */
import type { z } from 'zod';
import type { ProblemReason } from '../../catalogue/problems.js';
import { shortValue } from '../../problems.js';
import type { AllocationRecord, CanonicalRecordInput, NatBlockRecord, NatSessionRecord } from '../../records.js';
import type { LineProblem, ParseOutput } from './types.js';

/**
 * Reasons a vendor line yields a problem (besides the time reasons in `clock.ts` and the
 * address reasons of `parseAddress`). The line is skipped; the import goes on.
 */
export const LINE_REASONS = {
  /** The line looks like an event this importer reads but does not have its shape. */
  MALFORMED_LINE: 'MALFORMED_LINE',
  /** A field the record needs is absent or empty. */
  MISSING_FIELD: 'MISSING_FIELD',
  /** A number, port or duration that is not one. */
  INVALID_NUMBER: 'INVALID_NUMBER',
  INVALID_PORT: 'INVALID_PORT',
  PORT_RANGE_REVERSED: 'PORT_RANGE_REVERSED',
  UNKNOWN_PROTOCOL: 'UNKNOWN_PROTOCOL',
  /** A CSV row before any header line. */
  HEADER_MISSING: 'HEADER_MISSING',
  /** A stop/release/close whose start is not in the file and cannot be derived. */
  STOP_WITHOUT_START: 'STOP_WITHOUT_START',
  /** A grant or update older than the log's clock by more than the reorder window: it opens nothing. */
  LATE_EVENT: 'LATE_EVENT',
  /** A stop of a holder whose interval the next holder's grant had already closed. */
  STOP_AFTER_REGRANT: 'STOP_AFTER_REGRANT',
  /** An end written before its start. */
  END_BEFORE_START: 'END_BEFORE_START',
  /** A message wrapped over several lines that never closed. */
  UNTERMINATED_MESSAGE: 'UNTERMINATED_MESSAGE',
  /** A line in a structured file (lease blocks, RADIUS detail) that fits nothing there. */
  UNRECOGNISED_LINE: 'UNRECOGNISED_LINE',
} as const satisfies Record<string, ProblemReason>;

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type Interval = 'start' | 'end' | 'endInferred';
export type AllocationInput = z.input<typeof AllocationRecord>;
export type NatBlockInput = z.input<typeof NatBlockRecord>;
export type NatSessionInput = z.input<typeof NatSessionRecord>;
/** A record without its interval: what an event says about the resource and its holder. */
export type RecordTemplate = DistributiveOmit<AllocationInput | NatBlockInput | NatSessionInput, Interval>;

const EMPTY: ParseOutput = Object.freeze({ records: Object.freeze([]), problems: Object.freeze([]) });

/** Collects the records and problems of one call, then hands them over. */
export class Collector {
  private records: CanonicalRecordInput[] = [];
  private problems: LineProblem[] = [];

  record(record: CanonicalRecordInput): void {
    this.records.push(record);
  }

  problem(line: number, field: string, reason: ProblemReason, message: string, value?: unknown): void {
    this.problems.push(value === undefined ? { line, field, reason, message } : { line, field, reason, message, value: shortValue(value) });
  }

  take(): ParseOutput {
    if (this.records.length === 0 && this.problems.length === 0) return EMPTY;
    const out = { records: this.records, problems: this.problems };
    this.records = [];
    this.problems = [];
    return out;
  }
}
