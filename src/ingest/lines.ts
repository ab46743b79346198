/**
 * Line reading for every NDJSON and log input: files, several files, or stdin (`-`),
 * each line with its file name and number so every problem can point at it.
 */
import { createReadStream } from 'node:fs';
import { access, constants } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { IparError } from '../problems.js';

/** Lines longer than this are rejected whole rather than buffered without bound. */
export const MAX_LINE_CHARS = 1_048_576;

export interface Input {
  /** What problems call the input: the path, or `stdin`. */
  readonly name: string;
  readonly stream: () => Readable;
}

/** Inputs for the paths given (`-` is stdin); a missing or unreadable file is an IparError. */
export async function openInputs(paths: readonly string[], stdin: Readable = process.stdin): Promise<Input[]> {
  const inputs: Input[] = [];
  for (const path of paths) {
    if (path === '-') {
      inputs.push({ name: 'stdin', stream: () => stdin });
      continue;
    }
    try {
      await access(path, constants.R_OK);
    } catch {
      throw new IparError('INPUT_NOT_READABLE', `cannot read ${path}: no such file or permission denied`);
    }
    inputs.push({ name: path, stream: () => createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 }) });
  }
  return inputs;
}

/** The lines of an input with 1-based numbers; a trailing `\r` is dropped. */
export async function* readLines(input: Input): AsyncGenerator<{ text: string; line: number }> {
  const stream = input.stream();
  stream.setEncoding?.('utf8');
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  let line = 0;
  try {
    for await (const text of rl) {
      line++;
      yield { text, line };
    }
  } catch (cause) {
    throw new IparError('INPUT_READ_FAILED', `cannot read ${input.name} after line ${line}: ${(cause as Error).message}`, { cause });
  }
}
