/** Streams for a CLI run in a test (stdin from text or bytes, stdout and stderr captured), and NDJSON output read back. */
import { Readable } from 'node:stream';
import type { Io } from '../../src/cli/io.js';

export type CapturedIo = Io & { out: () => string; err: () => string };

/** Streams for `main`: stdin from text or bytes (one chunk, or several), stdout/stderr captured. */
export function captureIo(stdin: string | Buffer | readonly (string | Buffer)[] = ''): CapturedIo {
  let out = '';
  let err = '';
  const chunks = Array.isArray(stdin) ? [...stdin] : [stdin];
  return {
    stdin: Readable.from(chunks.filter((c) => c.length > 0)),
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    out: () => out,
    err: () => err,
  };
}

/** NDJSON output as values. */
export function ndjson<T = Record<string, unknown>>(text: string): T[] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as T);
}
