/**
 * From a {@link FlowSession}'s output to the store, the way `ingest` stores records: each
 * record validated by the canonical schema (fast path first), batches of `batchSize`
 * records one write each, and every problem handed to `onReject` with its input name and
 * message number (a {@link LineReport}, `line` being the message number).
 */
import { CanonicalRecord, RECORD_KINDS, type CanonicalRecordInput, type RecordKind } from '../../records.js';
import { problemsFromZod, type Problem } from '../../problems.js';
import type { StoreWriter, WriteOptions } from '../../store/types.js';
import { fastCanonicalRecord } from '../fast-record.js';
import { DEFAULT_BATCH_SIZE, type LineReport } from '../ingest.js';
import type { LineProblem } from '../vendors/types.js';
import type { FlowOutput } from './session.js';

export interface FlowSummary {
  readonly messages: number;
  readonly records: number;
  readonly stored: Readonly<Record<RecordKind, number>>;
  readonly unchanged: Readonly<Record<RecordKind, number>>;
  /** Messages with at least one rejected part. */
  readonly rejectedMessages: number;
  /** Records (or v9 packets) the sequence numbers say were lost. */
  readonly lost: number;
  readonly events: Readonly<Record<string, number>>;
}

export interface SinkOptions {
  readonly batchSize?: number;
  readonly onReject?: (report: LineReport) => void;
  /** Loss and restarts: stated, not rejections. */
  readonly onNote?: (report: LineReport) => void;
}

export class FlowSink {
  private batch: CanonicalRecord[] = [];
  readonly stored = zero();
  readonly unchanged = zero();
  rejectedMessages = 0;
  private readonly batchSize: number;

  constructor(
    private readonly store: StoreWriter,
    private readonly options: SinkOptions = {},
  ) {
    this.batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  }

  get pending(): number {
    return this.batch.length;
  }

  /** Take one output of input `name`; writes when a batch is full. */
  async take(out: FlowOutput, name: string): Promise<void> {
    this.report(out.problems, name, this.options.onReject, true);
    this.report(out.notes, name, this.options.onNote, false);
    this.validate(out.records, this.batch, name);
    if (this.batch.length >= this.batchSize) await this.flush();
  }

  /** Records validated onto `to` (fast path first); the rest reported as rejected. */
  validate(raws: readonly CanonicalRecordInput[], to: CanonicalRecord[], name: string): CanonicalRecord[] {
    for (const raw of raws) {
      const fast = fastCanonicalRecord(raw);
      if (fast !== undefined) {
        to.push(fast);
        continue;
      }
      const parsed = CanonicalRecord.safeParse(raw);
      if (parsed.success) to.push(parsed.data);
      else
        this.report(
          [{ line: 0, field: '', reason: 'INVALID_RECORD', message: 'a decoded record failed validation' }],
          name,
          this.options.onReject,
          true,
          problemsFromZod(parsed.error, raw),
        );
    }
    return to;
  }

  /** Write what is batched (call on a timer, and at the end; with `options`, even when nothing is). */
  async flush(options?: WriteOptions): Promise<void> {
    if (this.batch.length === 0 && options === undefined) return;
    const records = this.batch;
    this.batch = [];
    const summary = await this.store.write(records, options);
    for (const [kind, n] of Object.entries(summary.stored)) this.stored[kind as RecordKind] += n;
    for (const [kind, n] of Object.entries(summary.unchanged)) this.unchanged[kind as RecordKind] += n;
  }

  private report(problems: readonly LineProblem[], name: string, to: ((r: LineReport) => void) | undefined, rejects: boolean, detail?: Problem[]): void {
    if (problems.length === 0) return;
    const byMessage = new Map<number, Problem[]>();
    for (const p of problems) {
      const { line, ...problem } = p;
      const list = byMessage.get(line);
      if (list === undefined) byMessage.set(line, [...(detail ?? [problem])]);
      else list.push(problem);
    }
    for (const [line, list] of [...byMessage].sort((a, b) => a[0] - b[0])) {
      if (rejects) this.rejectedMessages++;
      to?.({ file: name, line, problems: list, input: `message ${line}` });
    }
  }
}

function zero(): Record<RecordKind, number> {
  return Object.fromEntries(RECORD_KINDS.map((k) => [k, 0])) as Record<RecordKind, number>;
}
