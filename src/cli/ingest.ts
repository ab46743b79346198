/** `ipar ingest`: a thin shell over {@link ingest}; exit 0 all stored, 1 some lines rejected. */
import { createWriteStream, type WriteStream } from 'node:fs';
import { follow, streamIngest, type FollowStatus, type StreamOptions } from '../ingest/follow.js';
import { ingest, type IngestOptions, type IngestSummary, type LineReport } from '../ingest/ingest.js';
import { openInputs } from '../ingest/lines.js';
import type { VendorOptions, VendorParser } from '../ingest/vendors/types.js';
import { IparError } from '../problems.js';
import { Progress } from '../progress.js';
import { openStore } from '../store/open.js';
import type { Io } from './io.js';

export interface IngestCommand {
  readonly db: string;
  readonly files: readonly string[];
  readonly rejects?: string;
  readonly format: 'canonical' | 'auto' | VendorParser;
  readonly parsers: readonly VendorParser[];
  readonly vendorOptions: VendorOptions;
  readonly json: boolean;
  /** Records per transaction (the library's default when absent). */
  readonly batchSize?: number;
  /** Follow the files (and names matching them) until SIGTERM or SIGINT. */
  readonly follow?: boolean;
  /** Longest a line waits to be committed, following or reading stdin (ms). */
  readonly flushIntervalMs?: number;
  /** How often following prints its status line (ms). */
  readonly statusIntervalMs?: number;
}

/** The status line of `--follow` (documented in README "Following live logs"). */
export function formatStatus(s: FollowStatus): string {
  const n = (v: number): string => v.toLocaleString('en');
  return `follow: ${n(s.lines)} lines (${n(s.linesPerSecond)}/s), records stored ${n(s.stored)}, open intervals ${n(s.open)}, files ${s.files}, behind ${n(s.behindBytes)} bytes, oldest uncommitted line ${(s.uncommittedMs / 1000).toFixed(1)} s`;
}

/** One line per problem: `file:line: field: REASON: message (value …)`. */
export function formatReport(report: LineReport): string[] {
  return report.problems.map(
    (p) =>
      `${report.file}:${report.line}: ${p.field === '' ? '(line)' : p.field}: ${p.reason}: ${p.message}` +
      ('value' in p ? ` (value ${JSON.stringify(p.value)})` : ''),
  );
}

export function formatSummary(s: IngestSummary): string {
  const parts = (counts: Readonly<Record<string, number>>): string =>
    Object.entries(counts)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ') || 'none';
  // Every line is accounted for: it gave records, was rejected, or gave none of its own.
  const other = Math.max(0, s.lines - s.rejectedLines - s.recordLines);
  const base =
    `ingest: ${s.lines} lines (${s.recordLines} gave records, ${s.rejectedLines} rejected, ${other} gave none of their own: blank, header, other events or paired with a later line); ` +
    `records stored ${parts(s.stored)}; unchanged ${parts(s.unchanged)}; rejected lines ${s.rejectedLines}`;
  // Overlaps (issue 16 item 6): two holders of the same ports or address at once, a fault of the source.
  const o = s.overlaps;
  const overlaps =
    o === undefined
      ? ''
      : `; overlaps ${o.count} (two holders at once, a fault of the source: ${o.first[0]!.resource} ${o.first[0]!.from}..${o.first[0]!.to ?? 'open'}, ${o.first[0]!.records.map((r) => r.holder).join(' and ')}; ipar coverage lists them)`;
  if (s.pairing === undefined) return base + overlaps;
  const { inferredEnds: e, open } = s.pairing;
  const longest =
    e.longest === null
      ? ''
      : ` (longest ${formatDuration(e.longestMs)} past its last evidence: ${e.longest.holder} on ${e.longest.resource} ${e.longest.start}..${e.longest.end}, last seen ${e.longest.lastEvidence})`;
  return `${base}; ends inferred ${e.count}${longest}; open at the end ${open}${overlaps}`;
}

/** `1d 2h 3m 4s` (whole seconds; `0s` for none). */
function formatDuration(ms: number): string {
  let rest = Math.round(ms / 1000);
  const out: string[] = [];
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
  ] as const) {
    if (rest >= size) {
      out.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  if (rest > 0 || out.length === 0) out.push(`${rest}s`);
  return out.join(' ');
}

/**
 * Run `ipar ingest`. With `follow`, until SIGTERM or SIGINT (or `stopSignal`), then exit 0
 * after the last commit; stdin alone into SQLite is read as a stream (commits every flush
 * interval). Otherwise the files are read once.
 */
export async function runIngest(cmd: IngestCommand, io: Io, stopSignal?: AbortSignal): Promise<number> {
  if (cmd.follow === true && cmd.files.includes('-')) throw new IparError('USAGE', '--follow reads files, not stdin (- is read as a stream without --follow)');
  const inputs = cmd.follow === true ? [] : await openInputs(cmd.files, io.stdin);
  const store = openStore(cmd.db);
  let rejects: WriteStream | null = null;
  let rejectsFailed: Error | null = null;
  const finishRejects = async (): Promise<void> => {
    if (rejects === null) return;
    const file = rejects;
    rejects = null;
    await closeRejects(file);
    if (rejectsFailed !== null)
      throw new IparError(
        'REJECTS_WRITE_FAILED',
        `cannot write ${cmd.rejects}: ${(rejectsFailed as Error).message} (the records were stored; the rejected lines are on stderr)`,
      );
  };
  try {
    if (cmd.rejects !== undefined) {
      rejects = createWriteStream(cmd.rejects, { mode: 0o600 });
      await new Promise<void>((resolve, reject) => {
        rejects!.once('open', () => resolve());
        rejects!.once('error', (e) => reject(new IparError('REJECTS_NOT_WRITABLE', `cannot write ${cmd.rejects}: ${e.message}`)));
      });
      // A write that fails later (a full disk) is kept, and fails the run when the file closes.
      rejects.on('error', (e) => (rejectsFailed ??= e));
    }
    const onReject = (report: LineReport): void => {
      for (const line of formatReport(report)) io.stderr.write(line + '\n');
      rejects?.write(JSON.stringify(report) + '\n');
    };
    // stdin streams into a store that commits records with their read position (SQLite); into ClickHouse it is read as before.
    const streamed = cmd.follow === true || (inputs.length === 1 && inputs[0]!.path === undefined && store.followCheckpoints !== undefined);
    if (streamed) {
      const stop = new AbortController();
      const onSignal = (): void => stop.abort();
      stopSignal?.addEventListener('abort', onSignal, { once: true });
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
      let summary: IngestSummary;
      try {
        const options: StreamOptions = {
          format: cmd.format,
          parsers: cmd.parsers,
          vendorOptions: cmd.vendorOptions,
          ...(cmd.batchSize === undefined ? {} : { batchSize: cmd.batchSize }),
          ...(cmd.flushIntervalMs === undefined ? {} : { flushIntervalMs: cmd.flushIntervalMs }),
          ...(cmd.statusIntervalMs === undefined ? {} : { statusIntervalMs: cmd.statusIntervalMs }),
          onReject,
          onStatus: (s) => io.stderr.write(formatStatus(s) + '\n'),
          onNotice: (m) => io.stderr.write(`follow: ${m}\n`),
          signal: stop.signal,
        };
        summary = cmd.follow === true ? await follow(store, cmd.files, options) : await streamIngest(store, inputs[0]!, options);
      } finally {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        stopSignal?.removeEventListener('abort', onSignal);
      }
      io.stderr.write(formatSummary(summary) + '\n');
      await finishRejects();
      if (cmd.json) io.stdout.write(JSON.stringify(summary) + '\n');
      // A follower stops when told to: its rejected lines were reported as they came.
      return cmd.follow !== true && summary.rejectedLines > 0 ? 1 : 0;
    }
    const progress = new Progress('ingest lines', io.stderr);
    const options: IngestOptions = {
      ...(cmd.batchSize === undefined ? {} : { batchSize: cmd.batchSize }),
      format: cmd.format,
      parsers: cmd.parsers,
      vendorOptions: cmd.vendorOptions,
      onReject,
      onProgress: (lines) => progress.tick(lines),
    };
    const summary = await ingest(store, inputs, options);
    progress.done();
    io.stderr.write(formatSummary(summary) + '\n');
    await finishRejects();
    if (cmd.json) io.stdout.write(JSON.stringify(summary) + '\n');
    return summary.rejectedLines > 0 ? 1 : 0;
  } finally {
    await store.close();
    if (rejects !== null) await closeRejects(rejects);
  }
}

/** End the rejects file and wait until it is flushed or has failed (the error is kept by its listener). */
function closeRejects(file: WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (file.destroyed) return resolve();
    file.once('close', () => resolve());
    file.end();
  });
}
