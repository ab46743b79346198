import type { Readable } from 'node:stream';

/** The streams a command uses; tests pass their own. */
export interface Io {
  readonly stdin: Readable;
  readonly stdout: { write(text: string): unknown; once?(event: 'drain', listener: () => void): unknown };
  readonly stderr: { write(text: string): unknown; readonly isTTY?: boolean };
}

export const processIo: Io = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };

/** Write to stdout, waiting when the stream asks us to (memory stays flat on big batches). */
export async function writeOut(io: Io, text: string): Promise<void> {
  if (io.stdout.write(text) === false && io.stdout.once !== undefined) {
    await new Promise<void>((resolve) => io.stdout.once!('drain', resolve));
  }
}
