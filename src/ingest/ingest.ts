/**
 * `ipar ingest`: lines in (canonical NDJSON or a vendor format), records validated with
 * the canonical schema, stored in batches of one transaction each. A bad line never
 * stops the import: it is reported with file, line, field, value and reason, and every
 * good line is stored all the same.
 */
import { OverlapFinder, overlapJson } from './overlaps.js';
import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { CanonicalRecord, RECORD_KINDS, type RecordKind } from '../records.js';
import { IparError, problemsFromZod, shortValue, type Problem } from '../problems.js';
import { CoverageRecorder } from '../store/core/coverage.js';
import type { StoreWriter, WriteOptions } from '../store/types.js';
import { fastCanonicalRecord } from './fast-record.js';
import { MAX_LINE_CHARS, readLines, type Input } from './lines.js';
import { ParseWorker, parseWorkerEntry } from './parallel.js';
import { WireReader } from './wire.js';
import type { CanonicalRecordInput } from '../records.js';
import type { InferredEndsSummary, PairingState, ParseOutput, VendorOptions, VendorParser, VendorSession } from './vendors/types.js';

/** A problem with one line of one input. */
export interface LineReport {
  readonly file: string;
  readonly line: number;
  readonly problems: readonly Problem[];
  /** The line as read, shortened (for `--rejects`). */
  readonly input: string;
}

export interface IngestSummary {
  readonly lines: number;
  readonly stored: Readonly<Record<RecordKind, number>>;
  readonly unchanged: Readonly<Record<RecordKind, number>>;
  readonly rejectedLines: number;
  /**
   * Lines that gave records themselves (a vendor line that ends an interval gives the
   * record its start began). The rest of `lines` — neither this nor rejected — gave none
   * of their own: blank lines, headers, events of other kinds, or events paired later.
   */
  readonly recordLines: number;
  /** Vendor formats only: what pairing inferred and left open (absent for canonical records). */
  readonly pairing?: PairingSummary;
  /**
   * Overlaps among the run's port blocks and allocations (issue 16 item 6): two holders of
   * the same ports or address at once, a fault of the source. Absent when there are none;
   * `records` lists the first {@link OVERLAPS_LISTED} with both records.
   */
  readonly overlaps?: { readonly count: number; readonly first: readonly ReturnType<typeof overlapJson>[] };
}

/** Overlaps an ingest summary lists (all are counted; `ipar coverage` lists every one). */
export const OVERLAPS_LISTED = 20;

/** What the run's pairing did: ends it inferred (missing stops) and intervals it left open. */
export interface PairingSummary {
  /** Ends inferred (timeout, next holder, restart, deletion), and the one that reached furthest past its last evidence. */
  readonly inferredEnds: InferredEndsSummary;
  /** Intervals still unfinished at the end of the run, stored provisionally (`lastSeen` set) and handed to the next run. */
  readonly open: number;
}

/** The pairing state a run stores per scope: the book's state and the provisional records it stood for (`ipar collect` stores the same). */
export interface SavedPairing {
  readonly book: PairingState;
  readonly provisional: readonly CanonicalRecordInput[];
}

/** The store's key for an importer's pairing state: its format and realm (files of one source, fed in log order). */
export function pairingScope(format: string, options: VendorOptions): string {
  return `${format}|${options.realm ?? ''}`;
}

export interface IngestOptions {
  /** `canonical` (the default), a vendor parser, or `auto` to sniff each input. */
  readonly format?: 'canonical' | 'auto' | VendorParser;
  readonly vendorOptions?: VendorOptions;
  /** Parsers `auto` chooses among. */
  readonly parsers?: readonly VendorParser[];
  /** Records a store write (one transaction) takes; {@link DEFAULT_BATCH_SIZE} unless given. */
  readonly batchSize?: number;
  readonly onReject?: (report: LineReport) => void;
  readonly onProgress?: (lines: number) => void;
  /**
   * Where files of canonical records are parsed: `auto` (the default) in a worker thread
   * beside the writer when the build has one, there are two cores and the file holds many
   * batches (parallel.ts); `worker` always there (an `IparError` when the build has none);
   * `this-thread` never. Vendor formats, `auto` format and stdin parse in this thread.
   */
  readonly parseIn?: 'auto' | 'worker' | 'this-thread';
}

/** Lines `--format auto` reads before it chooses an importer. */
export const SNIFF_LINES = 20;

/**
 * Batches a file must hold (at 160 bytes a record, short for a canonical line) before
 * `parseIn: 'auto'` parses it in a worker. The worker parses the first batch while the
 * writer waits, and the records cost the writer ~0.5 µs each to take over, so it pays
 * only over many batches: 1M synthetic records (10 batches) ran about as fast either way
 * at load 2-3 on two cores, 300k slower (65k against 75-79k records/s), 2M 35 % faster
 * (151-157k against 110-118k), for ~240 MiB more peak RSS.
 */
const WORKER_MIN_BATCHES = 8;

/** Lines the parse worker may run ahead of the writer: a batch and a quarter, so it parses the next batch while one is written. */
function workerAhead(batchSize: number): number {
  return batchSize + Math.ceil(batchSize / 4) + 64;
}

function parseInWorker(options: IngestOptions, path: string): boolean {
  if (options.format !== undefined && options.format !== 'canonical') return false;
  switch (options.parseIn ?? 'auto') {
    case 'this-thread':
      return false;
    case 'worker':
      return true;
    case 'auto':
      return (
        parseWorkerEntry() !== null &&
        availableParallelism() >= 2 &&
        (statSync(path, { throwIfNoEntry: false })?.size ?? 0) >= WORKER_MIN_BATCHES * (options.batchSize ?? DEFAULT_BATCH_SIZE) * 160
      );
  }
}

/**
 * Records per store write. A write is one transaction; a time-ordered export touches
 * pages all over the address-keyed tables, and SQLite writes every page a transaction
 * dirtied to the WAL once per commit, so larger transactions write each page for more
 * records: 1M synthetic records ingested at 48k records/s in batches of 10,000 and 75k/s
 * in batches of 100,000 (one thread, load 5-7; bench/ingest.ts has both as trials). The
 * records of a batch outlive V8's young generation, so peak RSS is higher than with small
 * batches while what is retained is not. ClickHouse wants large inserts too (each is a
 * part to merge).
 */
export const DEFAULT_BATCH_SIZE = 100_000;

/** The canonical format as a "parser": JSON objects pass through to validation. */
export const canonicalFormat: VendorParser = {
  name: 'canonical',
  description: 'ipar canonical records, one JSON object a line (DESIGN.md)',
  sniff: (lines) => lines.some((l) => /^\s*\{\s*"kind"\s*:/.test(l)),
  session: (): VendorSession => ({
    line(text, line): ParseOutput {
      if (text.trim() === '') return { records: [], problems: [] };
      try {
        return { records: [JSON.parse(text) as never], problems: [] };
      } catch (error) {
        return { records: [], problems: [{ line, field: '', reason: 'INVALID_JSON', message: `not JSON: ${(error as Error).message}` }] };
      }
    },
    end: () => ({ records: [], problems: [] }),
  }),
};

function zeroCounts(): Record<RecordKind, number> {
  return Object.fromEntries(RECORD_KINDS.map((k) => [k, 0])) as Record<RecordKind, number>;
}

/**
 * Ingest inputs into a store. Returns the tallies; bad lines go to `onReject`.
 *
 * @example
 * const summary = await ingest(store, await openInputs(['records.ndjson']), { onReject: console.error });
 */
/** Line problems that one option, given once, cures on every line (issue 21: a usage error, not every line rejected). */
const CURED_BY_OPTION: Readonly<Record<string, { option: 'timeZone' | 'year'; flag: string }>> = {
  ZONE_UNKNOWN: { option: 'timeZone', flag: '--tz ZONE' },
  YEAR_UNKNOWN: { option: 'year', flag: '--year YYYY' },
};

/**
 * Lines rejected for want of the same option, before any record, that stop a run: its
 * first lines all need `--tz` (or `--year`), so every line like them would be rejected.
 * A trap line or two among good ones (a relay's header without a zone) does not.
 */
export const MISSING_OPTION_LINES = 8;

export async function ingest(store: StoreWriter, inputs: readonly Input[], options: IngestOptions = {}): Promise<IngestSummary> {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const stored = zeroCounts();
  const unchanged = zeroCounts();
  let lines = 0;
  let rejectedLines = 0;
  let recordLines = 0;
  let batch: CanonicalRecord[] = [];
  const vendorOptions = options.vendorOptions ?? {};
  /**
   * Until the run gives a record or a line is rejected for another reason, its rejections
   * are held and counted by the option that would cure them: {@link MISSING_OPTION_LINES}
   * of one stop the run with a usage error (nothing stored), else they are reported as usual.
   */
  let held: LineReport[] | null = [];
  const wanting = new Map<string, number>();
  const release = (): void => {
    const reports = held ?? [];
    held = null;
    for (const r of reports) options.onReject?.(r);
  };
  const emit = (r: LineReport): void => {
    if (held === null) return options.onReject?.(r);
    held.push(r);
    const cures = new Set(r.problems.map((p) => CURED_BY_OPTION[p.reason]));
    const [cure] = cures;
    if (cures.size !== 1 || cure === undefined || vendorOptions[cure.option] !== undefined) return release();
    const n = (wanting.get(cure.flag) ?? 0) + 1;
    wanting.set(cure.flag, n);
    if (n >= MISSING_OPTION_LINES) {
      const first = held[0]!;
      throw new IparError(
        'MISSING_OPTION',
        `${first.file}:${first.line}: ${first.problems[0]!.message}: the first ${n} lines rejected all need ${cure.flag}, and every line like them would be without it; nothing was stored`,
      );
    }
  };
  /** Per pairing scope: the state loaded at its first input (to retract), and what the last input handed on. */
  const scopes = new Map<
    string,
    {
      parser: VendorParser;
      loaded: SavedPairing | null;
      /** The generation read with the state: the run's last write fails if another run moved it since. */
      generation: number;
      carried: PairingState | null;
      inferred: InferredEndsSummary;
      file: string;
    }
  >();
  // What each source covered (issue 15): noted per stored batch, folded into the store at the end.
  const coverage = new CoverageRecorder();
  // Overlaps among what this run stores (issue 16 item 6): blocks and allocations only.
  const overlaps = new OverlapFinder();

  const flush = async (writeOptions?: WriteOptions): Promise<void> => {
    if (batch.length === 0 && writeOptions === undefined) return;
    const records = batch;
    batch = [];
    const summary = await store.write(records, writeOptions);
    // Only what this write stored counts as new events (a re-ingest adds none).
    coverage.observe(records, summary.changed);
    for (const r of records) if (r.kind === 'nat-block' || r.kind === 'allocation') overlaps.add(r);
    for (const [kind, n] of Object.entries(summary.stored)) stored[kind as RecordKind] += n;
    for (const [kind, n] of Object.entries(summary.unchanged)) unchanged[kind as RecordKind] += n;
  };

  let worker: ParseWorker | null = null;
  let pairing: PairingSummary | undefined;
  try {
    for (const input of inputs) {
      const rejected = new Map<number, Problem[]>();
      const texts = new Map<number, string>();
      const reject = (line: number, problems: readonly Problem[], text: string | undefined): void => {
        const list = rejected.get(line);
        if (list === undefined) {
          rejected.set(line, [...problems]);
          if (text !== undefined) texts.set(line, text);
        } else list.push(...problems);
      };
      const take = (out: ParseOutput, line: number, text: string | undefined, own = true): void => {
        const before = batch.length;
        for (const p of out.problems) reject(p.line, [p], p.line === line ? text : undefined);
        for (const raw of out.records) keep(batch, raw, (problems) => reject(line, problems, text));
        if (own && batch.length > before && !rejected.has(line)) recordLines++;
      };
      const report = (): void => {
        for (const [line, problems] of [...rejected].sort((a, b) => a[0] - b[0])) {
          rejectedLines++;
          emit({ file: input.name, line, problems, input: String(shortValue(texts.get(line) ?? '')) });
        }
        rejected.clear();
        texts.clear();
      };

      let session: VendorSession | null = null;
      const pending: { text: string; line: number; length?: number }[] = [];
      let scope: string | null = null;
      const chooseSession = async (): Promise<VendorSession> => {
        const parser = chooseParser(
          options,
          pending.map((p) => p.text),
          input.name,
        );
        const s = parser.session(vendorOptions);
        if (s.suspend === undefined || s.resume === undefined) return s;
        // Inputs of one scope pair as one stream: this one continues what the last left,
        // or, for the first, what the store kept from the last run.
        scope = pairingScope(parser.name, vendorOptions);
        let known = scopes.get(scope);
        if (known === undefined) {
          const snapshot = (await store.pairingState?.(scope)) ?? { state: null, generation: 0 };
          const loaded = snapshot.state === null ? null : (JSON.parse(snapshot.state) as SavedPairing);
          known = {
            parser,
            loaded,
            generation: snapshot.generation,
            carried: loaded?.book ?? null,
            inferred: { count: 0, longestMs: 0, longest: null },
            file: input.name,
          };
          scopes.set(scope, known);
        }
        known.file = input.name;
        if (known.carried !== null) s.resume(known.carried);
        return s;
      };
      const feed = (s: VendorSession, text: string, line: number, length = text.length): void => {
        if (length > MAX_LINE_CHARS) reject(line, [lineTooLong(length)], text.slice(0, 200));
        else take(feedLine(s, text, line, input.name), line, text);
        if (rejected.size > 0 && !rejected.has(line)) report();
      };

      if (input.path !== undefined && parseInWorker(options, input.path)) {
        // The worker sends the fast path's records ready-made and every other line as its
        // text, which is read here like any line: the same problems, reports and counts.
        worker ??= ParseWorker.start();
        const canonical = canonicalFormat.session({});
        let seen = 0;
        const advance = (line: number): void => {
          const before = lines;
          lines += line - seen;
          seen = line;
          if (options.onProgress !== undefined) for (let p = (Math.floor(before / 1024) + 1) * 1024; p <= lines; p += 1024) options.onProgress(p);
        };
        for await (const part of worker.parse(input.path, workerAhead(batchSize))) {
          for (const entry = new WireReader(part.values); entry.next();) {
            advance(entry.line);
            if (entry.record === null) feed(canonical, entry.text, entry.line, entry.length);
            else {
              batch.push(entry.record);
              release();
              recordLines++;
              if (rejected.size > 0) report();
            }
            if (batch.length >= batchSize) await flush();
          }
          advance(part.last);
        }
        report();
        continue;
      }

      let lastLine = 0;
      for await (const read of readLines(input)) {
        lines++;
        lastLine = read.line;
        if ((lines & 0x3ff) === 0) options.onProgress?.(lines);
        if (session === null) {
          pending.push(read);
          if (options.format === 'auto' && pending.length < SNIFF_LINES) continue;
          session = await chooseSession();
          for (const p of pending.splice(0)) feed(session, p.text, p.line, p.length);
          if (batch.length >= batchSize) await flush();
          continue;
        }
        feed(session, read.text, read.line, read.length);
        if (batch.length >= batchSize) await flush();
      }
      if (session === null) {
        session = await chooseSession();
        for (const p of pending.splice(0)) feed(session, p.text, p.line, p.length);
      }
      const known = scope === null ? undefined : scopes.get(scope);
      if (known !== undefined && session.suspend !== undefined) {
        // The end of a file ends nothing: its open intervals go on to the next input.
        const out = session.suspend(false);
        take(out.output, lastLine, undefined, false);
        known.carried = out.state;
        known.inferred = addInferred(known.inferred, out.inferred);
      } else take(session.end(), lastLine, undefined, false);
      report();
    }
    // The inputs are read: fewer lines than stop a run wanted an option; report them as usual.
    release();
    for (const [scope, known] of scopes) {
      // The run's end: what is still unfinished is stored as it stands (provisional records,
      // `lastSeen` set) with the state, in the last write; stops whose start never came are reported.
      const s = known.parser.session(vendorOptions);
      if (known.carried !== null) s.resume!(known.carried);
      const out = s.suspend!(true);
      const problems = new Map<number, Problem[]>();
      for (const p of out.output.problems) problems.set(p.line, [...(problems.get(p.line) ?? []), p]);
      const rejectAtEnd = (problem: Problem[]): void => void problems.set(0, [...(problems.get(0) ?? []), ...problem]);
      for (const raw of out.output.records) keep(batch, raw, rejectAtEnd);
      // A backend that keeps no pairing state stores them as they stand, final.
      const provisional: CanonicalRecord[] = store.pairingState === undefined ? batch : [];
      for (const raw of out.provisional) keep(provisional, raw, rejectAtEnd);
      if (provisional !== batch) for (const r of provisional) if (r.kind === 'nat-block' || r.kind === 'allocation') overlaps.add(r);
      for (const [line, list] of [...problems].sort((a, b) => a[0] - b[0])) {
        rejectedLines++;
        emit({ file: known.file, line, problems: list, input: '' });
      }
      const saved: SavedPairing | null = out.state === null ? null : { book: out.state, provisional: out.provisional };
      const retract: CanonicalRecord[] = [];
      for (const raw of known.loaded?.provisional ?? []) {
        const parsed = CanonicalRecord.safeParse(raw);
        if (parsed.success) retract.push(parsed.data);
      }
      if (store.pairingState !== undefined)
        await flush({ pairing: { scope, state: saved === null ? null : JSON.stringify(saved), provisional, retract, generation: known.generation } });
      const inferred = addInferred(known.inferred, out.inferred);
      pairing = {
        inferredEnds: pairing === undefined ? inferred : addInferred(pairing.inferredEnds, inferred),
        open: (pairing?.open ?? 0) + out.provisional.length,
      };
    }
    await flush();
    await store.recordCoverage(coverage.report());
  } finally {
    await worker?.close();
  }
  const found = overlaps.overlaps();
  return {
    lines,
    stored,
    unchanged,
    rejectedLines,
    recordLines,
    ...(pairing === undefined ? {} : { pairing }),
    ...(found.length === 0 ? {} : { overlaps: { count: found.length, first: found.slice(0, OVERLAPS_LISTED).map(overlapJson) } }),
  };

  /** A record validated onto `to` ({@link pushRecord}), releasing the rejections held back for a missing option; or its problems to `reject`. */
  function keep(to: CanonicalRecord[], raw: CanonicalRecordInput, reject: (problems: Problem[]) => void): void {
    const before = to.length;
    pushRecord(to, raw, reject);
    if (to.length > before) release();
  }
}

/** A record validated onto `to`, or its problems to `reject`. */
export function pushRecord(to: CanonicalRecord[], raw: CanonicalRecordInput, reject: (problems: Problem[]) => void): void {
  // The common shapes are checked by hand; zod sees the rest and explains every refusal.
  const fast = fastCanonicalRecord(raw);
  if (fast !== undefined) {
    to.push(fast);
    return;
  }
  const parsed = CanonicalRecord.safeParse(raw);
  if (parsed.success) to.push(parsed.data);
  else reject(problemsFromZod(parsed.error, raw));
}

/** The problem of a line longer than {@link MAX_LINE_CHARS} (its `length` characters). */
export function lineTooLong(length: number): Problem {
  return { field: '', reason: 'LINE_TOO_LONG', message: `line of ${length} characters exceeds the limit of ${MAX_LINE_CHARS}` };
}

/** One line through a session; an importer's bug on it is that line's problem (`PARSER_FAILED`), never the end of the input. */
export function feedLine(session: VendorSession, text: string, line: number, inputName: string): ParseOutput {
  try {
    return session.line(text, line);
  } catch (error) {
    return {
      records: [],
      problems: [{ line, field: '', reason: 'PARSER_FAILED', message: `the ${inputName} importer failed on this line: ${(error as Error).message}` }],
    };
  }
}

/**
 * The parser `options.format` names, or for `auto` the one whose sniff knows these first
 * lines of `inputName` (canonical for an input of blank lines); `FORMAT_NOT_RECOGNISED` when none does.
 */
export function chooseParser(options: Pick<IngestOptions, 'format' | 'parsers'>, first: readonly string[], inputName: string): VendorParser {
  if (options.format === 'auto') {
    const candidates = [canonicalFormat, ...(options.parsers ?? [])];
    const found = candidates.find((p) => p.sniff(first));
    // Read as canonical, every line of a log would be INVALID_JSON: say so once instead.
    if (found === undefined && first.some((t) => t.trim() !== '')) {
      throw new IparError(
        'FORMAT_NOT_RECOGNISED',
        `${inputName}: --format auto recognises no format in its first ${first.length} lines; supported formats: ${candidates.map((p) => p.name).join(', ')} (name one with --format)`,
      );
    }
    return found ?? canonicalFormat;
  }
  return options.format !== undefined && options.format !== 'canonical' ? options.format : canonicalFormat;
}

/** Two tallies of inferred ends as one. */
function addInferred(a: InferredEndsSummary, b: InferredEndsSummary): InferredEndsSummary {
  const longest = b.longest !== null && (a.longest === null || b.longestMs > a.longestMs) ? b : a;
  return { count: a.count + b.count, longestMs: longest.longestMs, longest: longest.longest };
}
