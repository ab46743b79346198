import type { Readable } from 'node:stream';
import { IparError } from '../problems.js';

/** The streams a command uses; tests pass their own. */
export interface Io {
  readonly stdin: Readable;
  readonly stdout: { write(text: string): unknown; once?(event: 'drain', listener: () => void): unknown };
  readonly stderr: { write(text: string): unknown; readonly isTTY?: boolean };
}

export const processIo: Io = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };

/** Write to stdout, waiting when the stream asks us to (memory stays flat on big batches). */
export async function writeOut(io: Io, text: string): Promise<void> {
  let flowing: unknown;
  try {
    flowing = io.stdout.write(text);
  } catch (cause) {
    // A file or device on stdout is written synchronously: a full disk throws here.
    throw outputFailed(cause);
  }
  if (flowing === false && io.stdout.once !== undefined) {
    await new Promise<void>((resolve) => io.stdout.once!('drain', resolve));
  }
}

/**
 * The error for output that could not be written (exit 2, one line): a full disk, a
 * closed device. (A reader that went away, EPIPE, is not an error: src/cli.ts.)
 */
export function outputFailed(cause: unknown): IparError {
  return new IparError('OUTPUT_WRITE_FAILED', `cannot write the output: ${(cause as Error).message}`, { cause });
}
