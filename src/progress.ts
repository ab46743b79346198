/**
 * Progress on stderr for long work: silent for the first two seconds, then one line
 * every two seconds (rewritten in place on a terminal, appended otherwise), and cleared
 * at the end. The clock is passed in so the reporter itself stays testable.
 */
export interface ProgressSink {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

export class Progress {
  readonly #sink: ProgressSink;
  readonly #now: () => number;
  readonly #started: number;
  #last: number;
  #shown = false;

  constructor(
    readonly label: string,
    sink: ProgressSink = process.stderr,
    now: () => number = () => performance.now(),
    readonly intervalMs = 2000,
  ) {
    this.#sink = sink;
    this.#now = now;
    this.#started = now();
    this.#last = this.#started;
  }

  /** Report `done` units of work (and an optional detail); cheap to call often. */
  tick(done: number, detail = ''): void {
    const now = this.#now();
    if (now - this.#last < this.intervalMs) return;
    this.#last = now;
    const seconds = (now - this.#started) / 1000;
    const rate = Math.round(done / Math.max(seconds, 1e-3));
    const text = `${this.label}: ${done.toLocaleString('en')} (${rate.toLocaleString('en')}/s)${detail === '' ? '' : ', ' + detail}`;
    this.#sink.write(this.#sink.isTTY === true ? `\r${text}\x1b[K` : `${text}\n`);
    this.#shown = true;
  }

  /** Clear the in-place line, if one was drawn. */
  done(): void {
    if (this.#shown && this.#sink.isTTY === true) this.#sink.write('\r\x1b[K');
  }
}
