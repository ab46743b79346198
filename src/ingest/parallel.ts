/**
 * Parsing beside the writer (issue #8): a worker thread (parse-worker.ts) reads and
 * parses a file of canonical records while this thread writes the batches before them to
 * the store, so the two halves of an ingest run on two cores. Only the built package has
 * the worker's `.js` entry; run from TypeScript sources (the tests), there is no worker
 * and ingest parses in its own thread.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { IparError } from '../problems.js';
import type { ErrorCode } from '../catalogue/errors.js';

/** What the writer thread asks of the worker. */
export type ToWorker =
  { readonly type: 'parse'; readonly path: string; readonly ahead: number } | { readonly type: 'ack'; readonly lines: number; readonly chars: number };

/** What the worker answers: lines in order (`values` in wire.ts's form, through line `last`, `chars` of text), then the end. */
export type FromWorker =
  | { readonly type: 'lines'; readonly values: unknown[]; readonly last: number; readonly chars: number }
  | { readonly type: 'end'; readonly last: number }
  | { readonly type: 'error'; readonly code: ErrorCode; readonly message: string };

/** Lines of a file parsed by the worker: entries through line `last`. */
export interface ParsedLines {
  readonly values: readonly unknown[];
  readonly last: number;
}

/** The worker's entry file, or `null` when this module is not the built `.js` (no worker to run). */
export function parseWorkerEntry(): URL | null {
  if (!import.meta.url.endsWith('.js')) return null;
  const entry = new URL('./parse-worker.js', import.meta.url);
  return existsSync(fileURLToPath(entry)) ? entry : null;
}

/**
 * A parse worker, one file at a time.
 *
 * @example
 * const worker = ParseWorker.start();
 * for await (const part of worker.parse('records.ndjson', 100_000)) { … }
 * await worker.close();
 */
export class ParseWorker {
  readonly #worker: Worker;
  /**
   * Where the worker's parsed lines arrive. Taken one message at a time, when wanted:
   * what the worker parsed ahead stays serialized in the port (outside the JS heap)
   * instead of being turned into objects all at once after each batch's write.
   */
  readonly #lines: MessagePort;
  #waiting: (() => void) | null = null;
  #failure: Error | null = null;

  private constructor(entry: URL) {
    const { port1, port2 } = new MessageChannel();
    this.#lines = port2;
    this.#worker = new Worker(entry, { workerData: { lines: port1 }, transferList: [port1] });
    this.#worker.on('error', (e) => this.#fail(new IparError('PARSE_WORKER_FAILED', `the parse worker failed: ${e.message}`, { cause: e })));
    this.#worker.on('exit', (code) => this.#fail(new IparError('PARSE_WORKER_FAILED', `the parse worker exited (code ${code})`)));
  }

  /** A started worker; `IparError` `PARSE_WORKER_UNAVAILABLE` when the build has none. */
  static start(): ParseWorker {
    const entry = parseWorkerEntry();
    if (entry === null) throw new IparError('PARSE_WORKER_UNAVAILABLE', 'no parse worker in this build (run from TypeScript sources?)');
    return new ParseWorker(entry);
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    this.#wake();
  }

  #wake(): void {
    const w = this.#waiting;
    this.#waiting = null;
    w?.();
  }

  async #next(): Promise<FromWorker> {
    for (;;) {
      const queued = receiveMessageOnPort(this.#lines);
      if (queued !== undefined) return queued.message as FromWorker;
      if (this.#failure !== null) throw this.#failure;
      // Nothing parsed yet: wait for one message (a listener starts the port; once it is
      // gone the port stops again and later messages wait in it).
      let arrived: FromWorker | undefined;
      const take = (m: FromWorker): void => {
        arrived = m;
        this.#wake();
      };
      this.#lines.once('message', take);
      await new Promise<void>((resolve) => (this.#waiting = resolve));
      this.#lines.off('message', take);
      if (arrived !== undefined) return arrived;
    }
  }

  /**
   * The file's lines, parsed, in order. The worker keeps at most `ahead` lines parsed
   * beyond what this generator's consumer has taken (each part is acknowledged when the
   * consumer asks for the next one).
   */
  async *parse(path: string, ahead: number): AsyncGenerator<ParsedLines> {
    this.#worker.postMessage({ type: 'parse', path, ahead } satisfies ToWorker);
    let through = 0;
    for (;;) {
      const m = await this.#next();
      if (m.type === 'error') throw new IparError(m.code, m.message);
      if (m.type === 'end') return;
      yield m;
      this.#worker.postMessage({ type: 'ack', lines: m.last - through, chars: m.chars } satisfies ToWorker);
      through = m.last;
    }
  }

  async close(): Promise<void> {
    this.#worker.removeAllListeners('exit');
    await this.#worker.terminate();
    this.#lines.close();
  }
}
