/**
 * Live ingestion (issue 16): `ipar ingest --follow` over files, globs or a directory, and
 * stdin as a stream. Lines are fed to one importer session as they arrive; every flush
 * interval one store transaction commits the records closed since the last one, the
 * pairing state with the records of the intervals still open (replacing the last
 * commit's), and — when following files — each file's read position. A restart after a
 * crash loads the state and the positions of the last commit and goes on from there, so
 * no line is lost or read twice.
 *
 * Files are watched by polling (`fstat` on the open descriptor, `stat` on the names), as
 * `tail -F` does: a rename is seen as the name leading to another inode (the old file is
 * read to its end, then closed), a truncation as a size below the read position, a new
 * file as a new name matching the pattern. Polling sees every change on every file system
 * (inotify misses NFS, and a rename between two events), and costs a few system calls per
 * file per interval.
 */
import { createHash } from 'node:crypto';
import { readdir, stat, open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import picomatch from 'picomatch';
import type { CanonicalRecord, RecordKind } from '../records.js';
import { RECORD_KINDS } from '../records.js';
import { IparError, shortValue, type Problem } from '../problems.js';
import type { FollowCheckpoint, StoreWriter, WriteOptions } from '../store/types.js';
import {
  DEFAULT_BATCH_SIZE,
  SNIFF_LINES,
  chooseParser,
  feedLine,
  lineTooLong,
  pairingScope,
  pushRecord,
  type IngestSummary,
  type LineReport,
  type SavedPairing,
} from './ingest.js';
import { MAX_LINE_CHARS, readLines, type Input } from './lines.js';
import type { InferredEndsSummary, ParseOutput, VendorOptions, VendorParser, VendorSession } from './vendors/types.js';

/** Longest time a line waits to be committed (queryable), by default: `--flush-interval`. */
export const DEFAULT_FLUSH_INTERVAL_MS = 2000;
/** How often files are polled for growth, renames and new names. */
export const DEFAULT_POLL_INTERVAL_MS = 200;
/** How often the status line is given. */
export const DEFAULT_STATUS_INTERVAL_MS = 10_000;
/** A renamed or removed file is read on until it has not grown for this long (its writer's last lines). */
export const ROTATED_GRACE_MS = 2000;
/** A file that has not grown for this long is closed (its position kept) and reopened when it grows. */
export const DORMANT_AFTER_MS = 60_000;
/** Polls of the open files per listing of the names (new files, renames). */
const DISCOVER_POLLS = 5;
/** Bytes read from a file at a time. */
const CHUNK_BYTES = 1 << 20;
/** The first bytes of a file whose digest tells it from another that got its inode number. */
const HEAD_BYTES = 256;
/** Bytes of a line without its end kept before it is taken as over-long (4 bytes a character at most). */
const MAX_LINE_BYTES = 4 * MAX_LINE_CHARS;

export interface StreamOptions {
  /** A named format (`auto` only for stdin: a follower's files pair as one stream of one format). */
  readonly format: 'canonical' | 'auto' | VendorParser;
  readonly parsers?: readonly VendorParser[];
  readonly vendorOptions?: VendorOptions;
  /** Longest a read line waits before its commit; {@link DEFAULT_FLUSH_INTERVAL_MS}. */
  readonly flushIntervalMs?: number;
  /** Records that make a commit before the interval is up; {@link DEFAULT_BATCH_SIZE}. */
  readonly batchSize?: number;
  readonly pollIntervalMs?: number;
  readonly statusIntervalMs?: number;
  readonly onReject?: (report: LineReport) => void;
  /** The periodic status (see {@link FollowStatus}). */
  readonly onStatus?: (status: FollowStatus) => void;
  /** A file picked up, rotated, truncated, finished. */
  readonly onNotice?: (message: string) => void;
  /** Stop: commit what was read and return. */
  readonly signal?: AbortSignal;
  /** Wall clock, ms (status and intervals); `Date.now` unless given. */
  readonly now?: () => number;
}

/** What the status line says. */
export interface FollowStatus {
  readonly lines: number;
  /** Lines a second since the last status. */
  readonly linesPerSecond: number;
  /** Records written (new or changed) since the start. */
  readonly stored: number;
  /** Intervals open at the last commit (stored with `end: null`). */
  readonly open: number;
  /** Bytes written to the files and not read yet: how far reading is behind the newest line. */
  readonly behindBytes: number;
  /** How long the oldest line read and not yet committed has waited, ms (0: none waits). */
  readonly uncommittedMs: number;
  readonly files: number;
}

function zeroCounts(): Record<RecordKind, number> {
  return Object.fromEntries(RECORD_KINDS.map((k) => [k, 0])) as Record<RecordKind, number>;
}

/**
 * One importer session and its commits: lines in, and on `commit` one store write with the
 * closed records, the pairing state, the open intervals (as a change from the last commit)
 * and the caller's checkpoints.
 */
class Committer {
  session: VendorSession | null = null;
  scope = '';
  batch: CanonicalRecord[] = [];
  readonly stored = zeroCounts();
  readonly unchanged = zeroCounts();
  lines = 0;
  rejectedLines = 0;
  recordLines = 0;
  storedTotal = 0;
  open = 0;
  inferred: InferredEndsSummary = { count: 0, longestMs: 0, longest: null };
  /** Lines fed since the last commit, and when the first of them was. */
  uncommitted = 0;
  uncommittedSince = 0;
  lastCommit: number;
  /** The open intervals' records as the last commit stored them, by their JSON. */
  #provisional = new Map<string, CanonicalRecord>();
  #lastInput = '';
  #pairs = false;
  /** The scope's pairing generation as this follower last committed it (or read it at start). */
  #generation = 0;

  constructor(
    readonly store: StoreWriter,
    readonly options: StreamOptions,
    readonly now: () => number,
  ) {
    this.lastCommit = now();
  }

  /** Open the session for `parser`, resumed from what the store kept for its scope. */
  async start(parser: VendorParser): Promise<void> {
    const vendorOptions = this.options.vendorOptions ?? {};
    this.scope = pairingScope(parser.name, vendorOptions);
    const session = parser.session(vendorOptions);
    this.#pairs = session.suspend !== undefined && session.resume !== undefined;
    if (this.#pairs) {
      const snapshot = await this.store.pairingState!(this.scope);
      this.#generation = snapshot.generation;
      const loaded = snapshot.state === null ? null : (JSON.parse(snapshot.state) as SavedPairing);
      if (loaded !== null) {
        session.resume!(loaded.book);
        for (const raw of loaded.provisional) {
          const list: CanonicalRecord[] = [];
          pushRecord(list, raw, () => undefined);
          if (list[0] !== undefined) this.#provisional.set(JSON.stringify(raw), list[0]);
        }
      }
    }
    this.session = session;
  }

  /** True when a commit may cut here: a session exists and holds no half-read record. */
  idle(): boolean {
    return this.session !== null && (this.session.idle?.() ?? true);
  }

  feed(text: string, line: number, inputName: string, length = text.length): void {
    this.lines++;
    if (this.uncommitted++ === 0) this.uncommittedSince = this.now();
    this.#lastInput = inputName;
    if (length > MAX_LINE_CHARS) {
      this.#report(inputName, line, [lineTooLong(length)], text.slice(0, 200));
      return;
    }
    this.take(feedLine(this.session!, text, line, inputName), inputName, line, text);
  }

  /** Records onto the batch, problems reported per line; `line`'s own records count it as a record line. */
  take(out: ParseOutput, inputName: string, line: number, text: string | undefined): void {
    const before = this.batch.length;
    if (out.problems.length === 0) {
      // The common case, kept cheap: records and no problems.
      let problems: Problem[] | null = null;
      for (const raw of out.records) pushRecord(this.batch, raw, (found) => (problems ??= []).push(...found));
      if (problems !== null) this.#report(inputName, line, problems, text);
      else if (text !== undefined && this.batch.length > before) this.recordLines++;
      return;
    }
    let own = false;
    const byLine = new Map<number, Problem[]>();
    for (const p of out.problems) byLine.set(p.line, [...(byLine.get(p.line) ?? []), p]);
    for (const raw of out.records) pushRecord(this.batch, raw, (problems) => byLine.set(line, [...(byLine.get(line) ?? []), ...problems]));
    for (const [l, problems] of [...byLine].sort((a, b) => a[0] - b[0])) {
      if (l === line) own = true;
      this.#report(inputName, l, problems, l === line ? text : undefined);
    }
    if (text !== undefined && this.batch.length > before && !own) this.recordLines++;
  }

  #report(file: string, line: number, problems: readonly Problem[], text: string | undefined): void {
    this.rejectedLines++;
    this.options.onReject?.({ file, line, problems, input: String(shortValue(text ?? '')) });
  }

  /** Whether the flush interval (or the batch size) asks for a commit. */
  due(): boolean {
    if (this.uncommitted === 0 && this.batch.length === 0) return false;
    return (
      this.batch.length >= (this.options.batchSize ?? DEFAULT_BATCH_SIZE) ||
      this.now() - this.lastCommit >= (this.options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS)
    );
  }

  /**
   * One transaction: the batch, the pairing state and open intervals, `checkpoints`. The
   * snapshot is taken before the first await, so lines fed meanwhile belong to the next.
   * `final`: the stream ended (stdin): what is open is stored as at the end of a file.
   */
  async commit(final: boolean, checkpoints?: WriteOptions['checkpoints']): Promise<void> {
    const session = this.session;
    let pairing: WriteOptions['pairing'];
    let next: Map<string, CanonicalRecord> | undefined;
    if (session !== null && this.#pairs) {
      const out = session.suspend!(final);
      this.take(out.output, this.#lastInput, 0, undefined);
      next = new Map();
      for (const raw of out.provisional) {
        const list: CanonicalRecord[] = [];
        pushRecord(list, raw, (problems) => this.#report(this.#lastInput, 0, problems, undefined));
        if (list[0] !== undefined) next.set(JSON.stringify(raw), list[0]);
      }
      const saved: SavedPairing | null = out.state === null ? null : { book: out.state, provisional: out.provisional };
      pairing = {
        scope: this.scope,
        state: saved === null ? null : JSON.stringify(saved),
        provisional: [...next].filter(([k]) => !this.#provisional.has(k)).map(([, r]) => r),
        retract: [...this.#provisional].filter(([k]) => !next!.has(k)).map(([, r]) => r),
        // Another run of the scope (a second follower, an ingest) since the last commit is refused: PAIRING_CONFLICT.
        generation: this.#generation,
      };
      this.inferred = out.inferred;
      this.open = out.provisional.length;
    } else if (session !== null && final) this.take(session.end(), this.#lastInput, 0, undefined);
    const records = this.batch;
    this.batch = [];
    const options: WriteOptions = {
      ...(pairing === undefined ? {} : { pairing }),
      ...(checkpoints === undefined ? {} : { checkpoints }),
      coverage: true,
    };
    this.uncommitted = 0;
    this.lastCommit = this.now();
    // SQLite writes before the promise: the next commit's change is from this one's state.
    const written = this.store.write(records, options);
    if (next !== undefined) this.#provisional = next;
    const summary = await written;
    if (pairing !== undefined) this.#generation++;
    for (const [kind, n] of Object.entries(summary.stored)) {
      this.stored[kind as RecordKind] += n;
      this.storedTotal += n;
    }
    for (const [kind, n] of Object.entries(summary.unchanged)) this.unchanged[kind as RecordKind] += n;
  }

  summary(): IngestSummary {
    const base = { lines: this.lines, stored: this.stored, unchanged: this.unchanged, rejectedLines: this.rejectedLines, recordLines: this.recordLines };
    return this.#pairs ? { ...base, pairing: { inferredEnds: this.inferred, open: this.open } } : base;
  }
}

/** The store must commit records, pairing state and checkpoints together (SQLite). */
function requireTransactions(store: StoreWriter, what: string): void {
  if (store.pairingState === undefined || store.followCheckpoints === undefined) {
    throw new IparError(
      'FOLLOW_NOT_SUPPORTED',
      `${what} needs a store that commits records with its read position in one transaction (SQLite, --db); this store has no transactions (see docs/deployment.md)`,
    );
  }
}

/**
 * Ingest a stream (stdin, a pipe from a collector or rsyslog's `omprog`) as it arrives:
 * intervals are stored as they close, and every flush interval one commit stores them
 * with the pairing state and the intervals still open. At the end of the stream what is
 * open is stored as at the end of a file (provisional, handed to the next run).
 *
 * @example
 * const summary = await streamIngest(store, { name: 'stdin', stream: () => process.stdin }, { format: juniperSrx, vendorOptions: { realm: 'cgn-a' } });
 */
export async function streamIngest(store: StoreWriter, input: Input, options: StreamOptions): Promise<IngestSummary> {
  requireTransactions(store, 'ingesting a stream');
  const now = options.now ?? Date.now;
  const c = new Committer(store, options, now);
  const pending: { text: string; line: number; length?: number }[] = [];
  let failure: unknown = null;
  let busy = 0;
  const commit = async (final: boolean): Promise<void> => {
    busy++;
    try {
      await c.commit(final);
    } finally {
      busy--;
    }
  };
  // Between chunks the loop waits on the stream: the timer commits then, so a quiet
  // stream's lines are stored within the interval, not when the next line comes.
  const timer = setInterval(
    () => {
      if (busy === 0 && c.idle() && c.due()) commit(false).catch((e: unknown) => (failure ??= e));
    },
    Math.min(options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS, options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS),
  );
  const choose = async (): Promise<void> => {
    await c.start(
      chooseParser(
        options,
        pending.map((p) => p.text),
        input.name,
      ),
    );
    for (const p of pending.splice(0)) c.feed(p.text, p.line, input.name, p.length);
  };
  // Stopped (SIGTERM): the stream is let go, what was read is committed and handed on as state.
  const stream = input.stream();
  const stop = (): void => void stream.destroy();
  options.signal?.addEventListener('abort', stop, { once: true });
  const stopped = (): boolean => options.signal?.aborted === true;
  try {
    for await (const read of readLines({ ...input, stream: () => stream })) {
      if (failure !== null) throw failure;
      if (c.session === null) {
        pending.push(read);
        if (options.format !== 'auto' || pending.length >= SNIFF_LINES) await choose();
        continue;
      }
      c.feed(read.text, read.line, input.name, read.length);
      if (c.batch.length >= (options.batchSize ?? DEFAULT_BATCH_SIZE) && c.idle()) await commit(false);
    }
  } catch (error) {
    if (!stopped()) throw error;
  } finally {
    clearInterval(timer);
    options.signal?.removeEventListener('abort', stop);
  }
  if (c.session === null) await choose();
  while (busy > 0) await new Promise((resolve) => setTimeout(resolve, 5));
  if (failure !== null) throw failure;
  if (!stopped()) await commit(true);
  else if (c.idle()) await commit(false);
  return c.summary();
}

/** One followed file. */
interface Tracked {
  path: string;
  readonly device: string;
  readonly inode: string;
  handle: FileHandle | null;
  /** Bytes and lines of the complete lines fed. */
  offset: number;
  line: number;
  /** Bytes read (`offset` plus the start of a line without its end). */
  readPos: number;
  partial: Buffer[];
  partialBytes: number;
  /** Over-long line being skipped: its length so far and first characters (-1: none). */
  skipping: number;
  skipSample: string;
  head: string;
  headBytes: number;
  /** Size and modification time (ms) at the last look. */
  size: number;
  mtime: number;
  lastGrowth: number;
  /** Its name leads elsewhere or nowhere: read to the end, then finished. */
  gone: boolean;
  /** Changed since the last commit. */
  dirty: boolean;
}

/** The names a pattern stands for now: a directory's files, a glob's matches (in its last part), or the path itself. */
async function expand(pattern: string): Promise<{ dir: string; paths: string[] }> {
  const st = await stat(pattern).catch(() => null);
  if (st?.isDirectory() === true) {
    const names = await readdir(pattern).catch(() => [] as string[]);
    return { dir: pattern, paths: names.filter((n) => !n.startsWith('.')).map((n) => path.join(pattern, n)) };
  }
  const dir = path.dirname(pattern);
  const base = path.basename(pattern);
  if (picomatch.scan(base).isGlob) {
    const match = picomatch(base, { dot: false });
    const names = await readdir(dir).catch(() => [] as string[]);
    return { dir, paths: names.filter((n) => match(n)).map((n) => path.join(dir, n)) };
  }
  return { dir, paths: [pattern] };
}

const keyOf = (device: string, inode: string): string => `${device}:${inode}`;

async function headOf(handle: FileHandle, bytes: number): Promise<string> {
  const buf = Buffer.alloc(bytes);
  const { bytesRead } = bytes === 0 ? { bytesRead: 0 } : await handle.read(buf, 0, bytes, 0);
  return createHash('sha256').update(buf.subarray(0, bytesRead)).digest('hex');
}

/**
 * Follow files until `options.signal` aborts: what they hold, then what is appended,
 * through renames, truncations and new names matching the patterns (`tail -F`). Resumes
 * where the store's last commit for this format and realm left each file. Returns the
 * tallies after the last commit.
 *
 * @example
 * const stop = new AbortController();
 * process.once('SIGTERM', () => stop.abort());
 * await follow(store, ['/var/log/ipar/srx-*.log'], { format: juniperSrx, vendorOptions: { realm: 'cgn-a' }, signal: stop.signal });
 */
export async function follow(store: StoreWriter, patterns: readonly string[], options: StreamOptions): Promise<IngestSummary> {
  requireTransactions(store, '--follow');
  if (options.format === 'auto')
    throw new IparError(
      'USAGE',
      '--follow needs a named --format (canonical or a vendor format), not auto: the files of a follower pair as one stream of one format',
    );
  const now = options.now ?? Date.now;
  const poll = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  const notice = options.onNotice ?? (() => undefined);
  const c = new Committer(store, options, now);
  await c.start(chooseParser(options, [], patterns[0] ?? ''));
  const checkpoints = new Map((await store.followCheckpoints!(c.scope)).map((k) => [keyOf(k.device, k.inode), k]));
  const tracked = new Map<string, Tracked>();
  /** Checkpoints of files finished (or gone) since the last commit. */
  let drop: { device: string; inode: string }[] = [];
  let cutWanted = false;
  const signal = options.signal;
  const stopped = (): boolean => signal?.aborted === true;

  const track = async (p: string, gone: boolean): Promise<Tracked | null> => {
    let handle: FileHandle;
    try {
      handle = await open(p, 'r');
    } catch {
      return null;
    }
    const st = await handle.stat({ bigint: true });
    if (!st.isFile()) {
      await handle.close();
      return null;
    }
    const device = String(st.dev);
    const inode = String(st.ino);
    const key = keyOf(device, inode);
    const known = tracked.get(key);
    if (known !== undefined) {
      await handle.close();
      return known;
    }
    const size = Number(st.size);
    const headBytes = Math.min(size, HEAD_BYTES);
    const t: Tracked = {
      path: p,
      device,
      inode,
      handle,
      offset: 0,
      line: 0,
      readPos: 0,
      partial: [],
      partialBytes: 0,
      skipping: -1,
      skipSample: '',
      head: await headOf(handle, headBytes),
      headBytes,
      size,
      mtime: Number(st.mtimeMs),
      lastGrowth: now(),
      gone,
      dirty: true,
    };
    const saved = checkpoints.get(key);
    if (saved !== undefined) {
      checkpoints.delete(key);
      const same = saved.headBytes <= size && saved.offset <= size && (await headOf(handle, saved.headBytes)) === saved.head;
      if (same) {
        t.offset = t.readPos = saved.offset;
        t.line = saved.line;
        if (saved.offset > 0) notice(`${p}: resuming at line ${saved.line + 1} (byte ${saved.offset})`);
      } else notice(`${p}: not the file last read under this inode (truncated or replaced): reading it from the start`);
    } else notice(`${p}: following from its start`);
    tracked.set(key, t);
    return t;
  };

  const discover = async (first: boolean): Promise<void> => {
    const seen = new Set<string>();
    const dirs = new Set<string>();
    const names = new Set<string>();
    for (const pattern of patterns) {
      const { dir, paths } = await expand(pattern);
      dirs.add(dir);
      for (const p of paths) names.add(p);
    }
    for (const p of [...names].sort()) {
      const st = await stat(p, { bigint: true }).catch(() => null);
      if (st === null || !st.isFile()) continue;
      const key = keyOf(String(st.dev), String(st.ino));
      seen.add(key);
      const t = tracked.get(key);
      if (t === undefined) await track(p, false);
      else {
        if (t.path !== p) notice(`${t.path}: renamed to ${p}, still followed`);
        t.path = p;
        t.size = Number(st.size);
        t.mtime = Number(st.mtimeMs);
      }
    }
    if (first) {
      // A file rotated away (renamed) after the last commit still holds the lines after its
      // checkpoint: found by inode among its neighbours, it is read to its end first.
      for (const dir of dirs) {
        if (checkpoints.size === 0) break;
        for (const name of await readdir(dir).catch(() => [] as string[])) {
          const p = path.join(dir, name);
          const st = await stat(p, { bigint: true }).catch(() => null);
          if (st === null || !st.isFile() || !checkpoints.has(keyOf(String(st.dev), String(st.ino)))) continue;
          const t = await track(p, true);
          if (t !== null) seen.add(keyOf(t.device, t.inode));
        }
      }
      // The rest are of files that are gone: nothing more to read in them.
      for (const k of checkpoints.values()) drop.push({ device: k.device, inode: k.inode });
      checkpoints.clear();
    }
    for (const [key, t] of tracked) {
      if (!seen.has(key) && !t.gone) {
        t.gone = true;
        t.lastGrowth = now();
        notice(`${t.path}: renamed away or removed: reading it to its end`);
      }
    }
  };

  /** Feed the complete lines of `text` (bytes from `t.offset`); stops early at an idle line when a commit waits. */
  const feedText = (t: Tracked, text: string, bytes: number): boolean => {
    let pos = 0;
    while (pos <= text.length) {
      let end = text.indexOf('\n', pos);
      if (end === -1) end = text.length;
      let line = text.slice(pos, end);
      if (line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1);
      t.line++;
      if (t.skipping >= 0 && pos === 0) {
        t.offset += t.skipping;
        c.feed(t.skipSample, t.line, t.path, t.skipping + line.length);
        t.skipping = -1;
        t.skipSample = '';
      } else c.feed(line, t.line, t.path);
      pos = end + 1;
      if (cutWanted && pos <= text.length && c.idle()) {
        // The rest is read again after the commit.
        t.offset += Buffer.byteLength(text.slice(0, pos));
        t.readPos = t.offset;
        t.partial = [];
        t.partialBytes = 0;
        return true;
      }
    }
    t.offset += bytes;
    return false;
  };

  /** Read what `t` holds past its position, a chunk at a time; commits when due between chunks. */
  const readFile = async (t: Tracked): Promise<number> => {
    if (t.handle === null) {
      if (t.size <= t.readPos && t.size >= t.offset) return 0;
      try {
        t.handle = await open(t.path, 'r');
      } catch {
        return 0;
      }
      const st = await t.handle.stat({ bigint: true });
      if (String(st.ino) !== t.inode || String(st.dev) !== t.device) {
        await t.handle.close();
        t.handle = null;
        return 0;
      }
    }
    let total = 0;
    for (;;) {
      if (stopped()) return total;
      tick();
      const st = await t.handle.stat();
      const size = st.size;
      t.mtime = st.mtimeMs;
      if (size < t.offset) {
        notice(`${t.path}: truncated to ${size} bytes (was read to ${t.offset}): reading it from the start`);
        Object.assign(t, { offset: 0, line: 0, readPos: 0, partial: [], partialBytes: 0, skipping: -1, skipSample: '', dirty: true });
        t.headBytes = Math.min(size, HEAD_BYTES);
        t.head = await headOf(t.handle, t.headBytes);
      }
      t.size = size;
      if (size <= t.readPos) return total;
      const buf = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, size - t.readPos));
      const { bytesRead } = await t.handle.read(buf, 0, buf.length, t.readPos);
      if (bytesRead === 0) return total;
      total += bytesRead;
      t.readPos += bytesRead;
      t.lastGrowth = now();
      t.dirty = true;
      if (t.headBytes < HEAD_BYTES && t.readPos > t.headBytes) {
        t.headBytes = Math.min(t.readPos, HEAD_BYTES);
        t.head = await headOf(t.handle, t.headBytes);
      }
      const chunk = buf.subarray(0, bytesRead);
      const last = chunk.lastIndexOf(10);
      if (last === -1) keepPartial(t, chunk);
      else {
        const complete = t.partialBytes === 0 ? chunk.subarray(0, last) : Buffer.concat([...t.partial, chunk.subarray(0, last)]);
        const bytes = complete.length + 1;
        t.partial = [];
        t.partialBytes = 0;
        const cut = feedText(t, complete.toString('utf8'), bytes);
        if (!cut && last + 1 < chunk.length) keepPartial(t, Buffer.from(chunk.subarray(last + 1)));
      }
      if (c.due()) {
        if (c.idle()) await commitNow();
        else cutWanted = true;
      }
    }
  };

  const keepPartial = (t: Tracked, bytes: Buffer): void => {
    if (t.skipping >= 0) {
      t.skipping += bytes.length;
      return;
    }
    t.partial.push(bytes);
    t.partialBytes += bytes.length;
    if (t.partialBytes > MAX_LINE_BYTES) {
      // Over-long: keep its first characters for the report, count the rest.
      const all = Buffer.concat(t.partial);
      t.skipSample = all.subarray(0, 200).toString('utf8');
      t.skipping = all.length;
      t.partial = [];
      t.partialBytes = 0;
    }
  };

  /** A gone file that stopped growing: its last line without an end is a line, then it is closed. */
  const finish = async (t: Tracked): Promise<void> => {
    if (t.partialBytes > 0 || t.skipping >= 0) {
      const rest = Buffer.concat(t.partial);
      t.partial = [];
      t.partialBytes = 0;
      t.line++;
      if (t.skipping >= 0) c.feed(t.skipSample, t.line, t.path, t.skipping + rest.length);
      else c.feed(rest.toString('utf8'), t.line, t.path);
      t.offset += rest.length + Math.max(0, t.skipping);
      t.skipping = -1;
    }
    await t.handle?.close();
    t.handle = null;
    tracked.delete(keyOf(t.device, t.inode));
    drop.push({ device: t.device, inode: t.inode });
    notice(`${t.path}: finished at line ${t.line}`);
  };

  const commitNow = async (): Promise<void> => {
    cutWanted = false;
    const set: FollowCheckpoint[] = [];
    for (const t of tracked.values()) {
      if (!t.dirty) continue;
      t.dirty = false;
      set.push({ device: t.device, inode: t.inode, path: t.path, offset: t.offset, line: t.line, head: t.head, headBytes: t.headBytes });
    }
    const dropped = drop;
    drop = [];
    await c.commit(false, { scope: c.scope, set, drop: dropped });
  };

  const status = (): FollowStatus => {
    let behind = 0;
    for (const t of tracked.values()) behind += Math.max(0, t.size - t.readPos);
    return {
      lines: c.lines,
      linesPerSecond: 0,
      stored: c.storedTotal,
      open: c.open,
      behindBytes: behind,
      uncommittedMs: c.uncommitted === 0 ? 0 : now() - c.uncommittedSince,
      files: tracked.size,
    };
  };

  const statusEvery = options.statusIntervalMs ?? DEFAULT_STATUS_INTERVAL_MS;
  let lastStatus = now();
  let linesAtStatus = 0;
  const tick = (): void => {
    const at = now();
    if (options.onStatus === undefined || at - lastStatus < statusEvery) return;
    const s = status();
    options.onStatus({ ...s, linesPerSecond: Math.round(((s.lines - linesAtStatus) * 1000) / Math.max(1, at - lastStatus)) });
    lastStatus = at;
    linesAtStatus = s.lines;
  };
  let lastDiscover = 0;
  try {
    await discover(true);
    lastDiscover = now();
    while (!stopped()) {
      let read = 0;
      // Older lines first: files whose names moved on, then by last modification, then by name.
      const order = [...tracked.values()].sort(
        (a, b) => Number(b.gone) - Number(a.gone) || a.mtime - b.mtime || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0),
      );
      for (const t of order) {
        if (stopped()) break;
        read += await readFile(t);
        if (t.gone && t.readPos >= t.size && now() - t.lastGrowth >= ROTATED_GRACE_MS) await finish(t);
        else if (!t.gone && t.handle !== null && now() - t.lastGrowth >= DORMANT_AFTER_MS) {
          await t.handle.close();
          t.handle = null;
        }
      }
      if (c.due() && c.idle()) await commitNow();
      else if (drop.length > 0 && c.idle() && c.uncommitted === 0) await commitNow();
      tick();
      // Names are listed less often than open files are polled: a directory may hold many.
      if (now() - lastDiscover >= DISCOVER_POLLS * poll) {
        await discover(false);
        lastDiscover = now();
      }
      if (read === 0 && !stopped()) await sleep(poll, signal);
    }
    // Stopped: commit what was read, unless a record spanning lines is half read — then
    // the last commit stands, and its lines are read again at the next start.
    if (c.idle()) await commitNow();
    else notice('stopped inside a record spanning lines: the lines after the last commit are read again at the next start');
  } finally {
    for (const t of tracked.values()) await t.handle?.close();
  }
  return c.summary();
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
