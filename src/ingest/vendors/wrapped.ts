/**
 * Messages wrapped over several lines (a manual's layout, a relay that splits long
 * messages): lines are joined with a space until the message is complete, and a message
 * that never completes is reported once, at its first line. Used by the H3C and VPP
 * importers.
 *
 * @example
 * const w = new WrappedLines({ starts: (t) => t.startsWith('<'), complete: (t) => t.endsWith(']'), maxLines: 8,
 *   message: (text, line) => read(text, line), unterminated: (text, line, count) => report(text, line, count) });
 * for (const [i, t] of lines.entries()) w.push(t, i + 1);
 * w.flush();
 */
export interface WrappedOptions {
  /** The line begins a message. */
  readonly starts: (text: string) => boolean;
  /** The joined text so far is a whole message. */
  readonly complete: (text: string) => boolean;
  /** A starting line ends the pending message only when this says so (default: always). */
  readonly startEnds?: (pending: string) => boolean;
  /** A message longer than this many lines is not one. */
  readonly maxLines: number;
  readonly message: (text: string, line: number) => void;
  readonly unterminated: (text: string, line: number, count: number) => void;
}

export class WrappedLines {
  private pending: { text: string; line: number; count: number } | null = null;

  constructor(private readonly options: WrappedOptions) {}

  /** One input line: the first of a message is kept as given, later ones trimmed. */
  push(text: string, line: number): void {
    const o = this.options;
    const starts = o.starts(text);
    const p = this.pending;
    if (p !== null && !(starts && (o.startEnds?.(p.text) ?? true))) {
      p.text += ' ' + text.trim();
      p.count += 1;
    } else if (starts) {
      this.flush();
      this.pending = { text, line, count: 1 };
    } else {
      return;
    }
    const now = this.pending!;
    if (o.complete(now.text)) {
      this.pending = null;
      o.message(now.text, now.line);
    } else if (now.count >= o.maxLines) {
      this.flush();
    }
  }

  /** No message is half-read: a commit may cut here (`ipar ingest --follow`). */
  idle(): boolean {
    return this.pending === null;
  }

  /** End of input (or a new message): a pending message is reported unterminated. */
  flush(): void {
    const p = this.pending;
    if (p === null) return;
    this.pending = null;
    this.options.unterminated(p.text, p.line, p.count);
  }
}
