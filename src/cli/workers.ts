/**
 * `ipar resolve --workers N`: batches resolved in N worker threads, results and audit
 * kept in input order on the main thread.
 *
 * The main thread reads lines and forms batches by the usual rule ({@link BATCH_SIZE}
 * requests or {@link MAX_BATCH_CHARS} of text), sends each batch's raw lines to the least
 * busy worker, and yields the answers in the order the batches were formed; the caller
 * audits each batch, then prints it. Each worker (src/cli/resolve-worker.ts) holds its own
 * read-only store connection, parses, resolves, renders and hashes. At most
 * {@link BATCHES_PER_WORKER} batches per worker are in flight: reading stops until the
 * oldest is answered, so memory stays bounded whatever the input.
 *
 * A worker that cannot open the store fails the start; one that faults on a batch, dies
 * or exits fails that batch, and with it the run once the batches before it are out —
 * nothing is dropped or reordered, nothing after the fault is printed or audited.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { batchesOf, BATCH_SIZE, MAX_BATCH_CHARS, type Action } from '../audit/audited.js';
import { readLines, type Input, type Line } from '../ingest/lines.js';
import { IparError } from '../problems.js';
import type { ErrorCode } from '../catalogue/errors.js';
import { isBlank, oneObjectALine, type BatchOutput } from './batch.js';

/** The compiled worker entry beside this module (`dist/src/cli/resolve-worker.js`). */
export const WORKER_SCRIPT = new URL('./resolve-worker.js', import.meta.url);

/** Workers used when `--workers` is not given: one per core, at most this many. */
export const MAX_DEFAULT_WORKERS = 4;

/** Batches sent to a worker and not yet printed, at most (one being resolved, one waiting). */
export const BATCHES_PER_WORKER = 2;

/**
 * A worker's young generation, MiB. A batch makes many short-lived objects; with V8's
 * default (48 MiB here) the scavenges cost the process about 16% more CPU on
 * bench/cli.ts's trial (1M records, 100k requests, 2 workers: 17.5 s instead of 20 s in
 * all threads), for no measurable difference in peak RSS.
 */
const YOUNG_GENERATION_MIB = 96;

/**
 * The `--workers` default: one per core up to {@link MAX_DEFAULT_WORKERS}; 1 (this
 * thread) on one core, or when running from the TypeScript sources, where there is no
 * compiled worker entry to start.
 *
 * @example
 * defaultWorkers(); // 2 on a two-core machine
 */
export function defaultWorkers(): number {
  if (!existsSync(fileURLToPath(WORKER_SCRIPT))) return 1;
  return Math.min(availableParallelism(), MAX_DEFAULT_WORKERS);
}

/** What a worker is started with. */
export interface WorkerSetup {
  /** The store spec (SQLite file or clickhouse:// URL), opened read-only by each worker. */
  readonly db: string;
  readonly action: Action;
  readonly pretty: boolean;
}

/** A fault as it crosses the thread boundary: an IparError's code, or `null` for a bug. */
export interface Fault {
  readonly code: ErrorCode | null;
  readonly message: string;
  readonly stack?: string;
}

/** Main thread to worker: a batch's raw lines (`cut`: `[index, full length]` of over-long ones), or close. */
export type ToWorker =
  | { readonly kind: 'batch'; readonly id: number; readonly texts: readonly string[]; readonly cut: readonly (readonly [number, number])[] }
  | { readonly kind: 'close' };

/** Worker to main thread. */
export type FromWorker =
  | { readonly kind: 'ready' }
  | { readonly kind: 'failed'; readonly fault: Fault }
  | { readonly kind: 'done'; readonly id: number; readonly output: BatchOutput }
  | { readonly kind: 'fault'; readonly id: number; readonly fault: Fault }
  | { readonly kind: 'closed' };

/** A request line on its way to a worker: its text, cut length, number, and the text it holds. */
export interface NumberedLine {
  readonly text: string;
  readonly length?: number;
  readonly line: number;
  readonly chars: number;
}

interface Waiting {
  readonly resolve: (output: BatchOutput) => void;
  readonly reject: (error: Error) => void;
}

interface Slot {
  readonly index: number;
  readonly worker: Worker;
  readonly waiting: Map<number, Waiting>;
  /** Set once the worker is of no more use (faulted, died, or closed). */
  stopped: Error | null;
  onReady: ((error: Error | null) => void) | null;
  onClosed: ((error: Error | null) => void) | null;
}

/** An IparError keeps its code (exit 2); anything else is a bug, reported as one (exit 3), as in this thread. */
function errorOf(fault: Fault): Error {
  if (fault.code !== null) return new IparError(fault.code, fault.message);
  const error = new Error(fault.message);
  if (fault.stack !== undefined) error.stack = fault.stack;
  return error;
}

/**
 * N worker threads, each with its own read-only store connection.
 *
 * @example
 * const pool = await ResolveWorkers.start({ db: 'operator.db', action: 'resolve', pretty: false }, 2);
 * const { text, drafts } = await pool.run([{ text: '{"ref":"R1",…}', line: 1, chars: 20 }]);
 * await pool.close();
 */
export class ResolveWorkers {
  readonly #slots: Slot[];
  #nextId = 0;
  #closing = false;

  private constructor(setup: WorkerSetup, count: number, script: URL) {
    this.#slots = Array.from({ length: count }, (_, index) => this.#spawn(setup, index, script));
  }

  /**
   * Start `count` workers and wait until each has opened the store; if one cannot, stop
   * them all and throw its error (the lowest-numbered worker's, so the message is stable).
   * Throws `WORKERS_UNAVAILABLE` when the worker entry is not built (running from the sources).
   * `script` is the worker entry (another entry speaking the same protocol, in tests).
   */
  static async start(setup: WorkerSetup, count: number, script: URL = WORKER_SCRIPT): Promise<ResolveWorkers> {
    if (script.protocol === 'file:' && !existsSync(fileURLToPath(script))) {
      throw new IparError('WORKERS_UNAVAILABLE', `no compiled worker entry at ${fileURLToPath(script)} (run npm run build, or give --workers 1)`);
    }
    const pool = new ResolveWorkers(setup, count, script);
    const started = await Promise.allSettled(
      pool.#slots.map((slot) => new Promise<void>((resolve, reject) => (slot.onReady = (error) => (error === null ? resolve() : reject(error))))),
    );
    const failure = started.find((s) => s.status === 'rejected');
    if (failure !== undefined) {
      await pool.terminate();
      throw failure.reason;
    }
    return pool;
  }

  /** How many workers. */
  get size(): number {
    return this.#slots.length;
  }

  #spawn(setup: WorkerSetup, index: number, script: URL): Slot {
    const slot: Slot = {
      index,
      worker: new Worker(script, { workerData: setup, resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MIB } }),
      waiting: new Map(),
      stopped: null,
      onReady: null,
      onClosed: null,
    };
    const { worker } = slot;
    worker.on('message', (message: FromWorker) => {
      switch (message.kind) {
        case 'ready':
          slot.onReady?.(null);
          slot.onReady = null;
          return;
        case 'failed':
          this.#stop(slot, errorOf(message.fault));
          return;
        case 'closed':
          this.#stop(slot, null);
          return;
        case 'done':
        case 'fault': {
          const waiting = slot.waiting.get(message.id);
          slot.waiting.delete(message.id);
          if (message.kind === 'done') waiting?.resolve(message.output);
          else waiting?.reject(errorOf(message.fault));
          return;
        }
      }
    });
    worker.on('error', (error) => this.#stop(slot, new IparError('WORKER_FAILED', `resolve worker ${index + 1} failed: ${error.message}`, { cause: error })));
    worker.on('messageerror', (error) =>
      this.#stop(slot, new IparError('WORKER_FAILED', `resolve worker ${index + 1} sent a message that could not be read: ${error.message}`, { cause: error })),
    );
    worker.on('exit', (code) =>
      this.#stop(
        slot,
        new IparError(
          'WORKER_FAILED',
          `resolve worker ${index + 1} stopped (exit code ${code})${slot.waiting.size > 0 ? ` with ${slot.waiting.size} batch(es) unanswered` : ''}`,
        ),
      ),
    );
    return slot;
  }

  /** The worker is done: everything it still owes fails with `error` (`null`: closed as asked). */
  #stop(slot: Slot, error: Error | null): void {
    if (slot.stopped !== null) return;
    const reason = error ?? new IparError('WORKER_FAILED', `resolve worker ${slot.index + 1} was closed`);
    slot.stopped = reason;
    for (const waiting of slot.waiting.values()) waiting.reject(reason);
    slot.waiting.clear();
    slot.onReady?.(reason);
    slot.onReady = null;
    slot.onClosed?.(error);
    slot.onClosed = null;
  }

  /**
   * Resolve a batch on the least busy worker. Rejects when that worker faults or dies
   * before answering, or at once when a worker has already failed (the run is over).
   */
  run(lines: readonly NumberedLine[]): Promise<BatchOutput> {
    const failed = this.#slots.find((s) => s.stopped !== null);
    if (failed !== undefined || this.#closing) return Promise.reject(failed?.stopped ?? new IparError('WORKER_FAILED', 'the resolve workers are closed'));
    let slot = this.#slots[0]!;
    for (const s of this.#slots) if (s.waiting.size < slot.waiting.size) slot = s;
    const id = this.#nextId++;
    const texts = lines.map((l) => l.text);
    const cut = lines.flatMap((l, i) => (l.length === undefined ? [] : [[i, l.length] as const]));
    return new Promise<BatchOutput>((resolve, reject) => {
      slot.waiting.set(id, { resolve, reject });
      slot.worker.postMessage({ kind: 'batch', id, texts, cut } satisfies ToWorker);
    });
  }

  /** Ask each worker to close its store and wait until all have; then stop the threads. */
  async close(): Promise<void> {
    this.#closing = true;
    const closed = await Promise.allSettled(
      this.#slots.map((slot) => {
        if (slot.stopped !== null) return Promise.resolve();
        return new Promise<void>((resolve, reject) => {
          slot.onClosed = (error) => (error === null ? resolve() : reject(error));
          slot.worker.postMessage({ kind: 'close' } satisfies ToWorker);
        });
      }),
    );
    await this.terminate();
    const failure = closed.find((c) => c.status === 'rejected');
    if (failure !== undefined) throw failure.reason;
  }

  /** Stop every thread now (after a fault: nothing more is asked of them). */
  async terminate(): Promise<void> {
    this.#closing = true;
    await Promise.all(this.#slots.map((slot) => slot.worker.terminate()));
  }
}

/** The request lines of an input: blank lines skipped, each line counting its text toward the batch limit. */
async function* requestLines(lines: AsyncIterable<Line>): AsyncGenerator<NumberedLine> {
  for await (const { text, line, length } of lines) {
    if (isBlank(text)) continue;
    // The text is held until a worker reads it, so every line counts, readable or not.
    yield length === undefined ? { text, line, chars: text.length } : { text, line, length, chars: text.length };
  }
}

/** A batch answered, with the input line numbers of its requests. */
export interface AnsweredBatch {
  readonly lines: readonly number[];
  readonly output: BatchOutput;
}

export interface InWorkersOptions {
  readonly batchSize?: number;
  readonly maxBatchChars?: number;
  /** Batches sent and not yet handed out, at most (default: {@link BATCHES_PER_WORKER} per worker). */
  readonly inFlight?: number;
}

/**
 * The requests of an input resolved by the workers, batch by batch, handed out in input
 * order: a batch comes out only after every batch before it, whichever worker answers
 * first, and as soon as it is answered — without waiting for more input, so a client
 * that waits for its answers before sending more is served. Reading pauses while
 * `inFlight` batches are out. A batch that failed throws when its turn comes (the
 * batches before it have come out, none after it will); a read error, after every batch
 * read before it. When the caller stops early, the input is closed.
 *
 * @example
 * for await (const { lines, output } of inWorkers(pool, input)) { audit.append(Date.now(), output.drafts); write(output.text); }
 */
export async function* inWorkers(pool: ResolveWorkers, input: Input, options: InWorkersOptions = {}): AsyncGenerator<AnsweredBatch> {
  const limit = Math.max(1, options.inFlight ?? pool.size * BATCHES_PER_WORKER);
  const stream = input.stream();
  const sent: { readonly lines: number[]; readonly output: Promise<BatchOutput> }[] = [];
  let reading = true;
  let readFailure: { readonly error: unknown } | null = null;
  let stopped = false;
  let sentOrRead: (() => void) | null = null; // wakes the hand-out loop: a batch was sent, or reading ended
  let room: (() => void) | null = null; // wakes the reader: a batch was handed out, or the caller stopped
  const wake = (waiting: (() => void) | null): null => (waiting?.(), null);

  // The reader runs beside the hand-out loop below (both on this thread).
  void (async () => {
    try {
      const lines = readLines({ name: input.name, stream: () => stream });
      for await (const batch of batchesOf(
        requestLines(oneObjectALine(input.name, lines)),
        options.batchSize ?? BATCH_SIZE,
        options.maxBatchChars ?? MAX_BATCH_CHARS,
      )) {
        if (stopped) return;
        const output = pool.run(batch);
        output.catch(() => undefined); // handled when its turn comes (or never, after a stop)
        sent.push({ lines: batch.map((l) => l.line), output });
        sentOrRead = wake(sentOrRead);
        while (sent.length >= limit && !stopped) await new Promise<void>((resolve) => (room = resolve));
        if (stopped) return;
      }
    } catch (error) {
      readFailure = { error };
    } finally {
      reading = false;
      sentOrRead = wake(sentOrRead);
    }
  })();

  try {
    for (;;) {
      const oldest = sent[0];
      if (oldest !== undefined) {
        const output = await oldest.output;
        sent.shift();
        room = wake(room);
        yield { lines: oldest.lines, output };
      } else if (reading) {
        await new Promise<void>((resolve) => (sentOrRead = resolve));
      } else {
        if (readFailure !== null) throw (readFailure as { error: unknown }).error;
        return;
      }
    }
  } finally {
    stopped = true;
    room = wake(room);
    // The reader may be waiting for input that will never be asked for: close it.
    if (reading) stream.destroy();
  }
}
