import type { Readable } from 'node:stream';

/** The streams a command uses; tests pass their own. */
export interface Io {
  readonly stdin: Readable;
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown; readonly isTTY?: boolean };
}

export const processIo: Io = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };
