/**
 * Line reading for every NDJSON and log input: files, several files, or stdin (`-`),
 * each line with its file name and number so every problem can point at it.
 */
import { createReadStream } from 'node:fs';
import { access, constants } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';
import { IparError, type Problem } from '../problems.js';

/**
 * Lines longer than this are rejected whole rather than buffered without bound: the
 * reader keeps the first `MAX_LINE_CHARS + 1` characters of a longer line, counts the
 * rest without keeping it, and yields the prefix (so `text.length > MAX_LINE_CHARS`).
 */
export const MAX_LINE_CHARS = 1_048_576;

/**
 * Deepest JSON nesting a line may have. A request nests four deep and a record one;
 * the limit keeps a hostile line from exhausting the stack of whatever walks the value.
 */
export const MAX_JSON_DEPTH = 64;

export interface Input {
  /** What problems call the input: the path, or `stdin`. */
  readonly name: string;
  readonly stream: () => Readable;
  /** The file's path, when the input is a file (another thread can open it too). */
  readonly path?: string;
}

/**
 * A file as an input (not checked: see {@link openInputs}).
 *
 * @example
 * for await (const l of readLines(fileInput('records.ndjson'))) console.log(l.line, l.text);
 */
export function fileInput(path: string): Input {
  return { name: path, path, stream: () => createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 }) };
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
    inputs.push(fileInput(path));
  }
  return inputs;
}

/** One line of an input. `length` is set when the line was longer than {@link MAX_LINE_CHARS}. */
export interface Line {
  readonly text: string;
  readonly line: number;
  /** The full length of an over-long line, of which `text` holds the first `MAX_LINE_CHARS + 1` characters. */
  readonly length?: number;
}

/**
 * The lines of an input with 1-based numbers. Lines end at `\n`, `\r\n` or a lone `\r`
 * (as node:readline splits them). Memory is bounded by {@link MAX_LINE_CHARS} whatever
 * the input: an over-long line is cut, not buffered.
 */
export async function* readLines(input: Input): AsyncGenerator<Line> {
  const stream = input.stream();
  stream.setEncoding?.('utf8');
  const decoder = new StringDecoder('utf8');
  let line = 0;
  let parts: string[] = [];
  let partChars = 0;
  let overLength = -1; // the length so far of an over-long line; -1 while within the limit
  let afterCR = false; // the previous chunk ended with \r: a leading \n belongs to it
  const add = (piece: string): void => {
    if (overLength >= 0) overLength += piece.length;
    else if (partChars + piece.length > MAX_LINE_CHARS) {
      parts = [(parts.join('') + piece).slice(0, MAX_LINE_CHARS + 1)];
      overLength = partChars + piece.length;
      partChars = MAX_LINE_CHARS + 1;
    } else {
      parts.push(piece);
      partChars += piece.length;
    }
  };
  const take = (): Line => {
    line++;
    const text = parts.length === 1 ? parts[0]! : parts.join('');
    const out: Line = overLength >= 0 ? { text, line, length: overLength } : { text, line };
    parts = [];
    partChars = 0;
    overLength = -1;
    return out;
  };
  try {
    for await (const chunk of stream as AsyncIterable<string | Uint8Array>) {
      const text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
      if (text.length === 0) continue;
      let at = 0;
      if (afterCR && text.charCodeAt(0) === 10) at = 1;
      afterCR = false;
      const hasCR = text.indexOf('\r', at) !== -1;
      let nl = text.indexOf('\n', at);
      let cr = hasCR ? text.indexOf('\r', at) : -1;
      for (;;) {
        let end: number;
        let next: number;
        if (cr !== -1 && (nl === -1 || cr < nl)) {
          end = cr;
          next = cr + 1;
          if (next === text.length) afterCR = true;
          else if (text.charCodeAt(next) === 10) next++;
        } else if (nl !== -1) {
          end = nl;
          next = nl + 1;
        } else break;
        if (parts.length === 0 && end - at <= MAX_LINE_CHARS) yield { text: text.slice(at, end), line: ++line };
        else {
          add(text.slice(at, end));
          yield take();
        }
        at = next;
        if (nl !== -1 && nl < at) nl = text.indexOf('\n', at);
        if (cr !== -1 && cr < at) cr = text.indexOf('\r', at);
      }
      if (at < text.length) add(at === 0 ? text : text.slice(at));
    }
    const rest = decoder.end();
    if (rest !== '') add(rest);
    if (partChars > 0) yield take();
  } catch (cause) {
    throw new IparError('INPUT_READ_FAILED', `cannot read ${input.name} after line ${line}: ${(cause as Error).message}`, { cause });
  }
}

/** A line read as JSON, or the problem that kept it from being read. */
export type JsonLine = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly problem: Problem };

/** How deep `text`, read as JSON, nests; stops counting past `limit`. Strings are skipped. */
function jsonDepth(text: string, limit: number): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123) {
      if (++depth > max && (max = depth) > limit) return max;
    } else if (c === 93 || c === 125) depth--;
  }
  return max;
}

/**
 * Read one line as JSON within the limits: {@link MAX_LINE_CHARS} (`LINE_TOO_LONG`),
 * {@link MAX_JSON_DEPTH} (`JSON_TOO_DEEP`), and valid JSON (`INVALID_JSON`).
 *
 * @example
 * parseJsonLine('{"ref":"R1"}'); // { ok: true, value: { ref: 'R1' } }
 * parseJsonLine('[[[[…'.repeat(100)); // { ok: false, problem: { reason: 'JSON_TOO_DEEP', … } }
 */
export function parseJsonLine(text: string, length = text.length): JsonLine {
  if (length > MAX_LINE_CHARS) {
    return { ok: false, problem: { field: '', reason: 'LINE_TOO_LONG', message: `line of ${length} characters exceeds the limit of ${MAX_LINE_CHARS}` } };
  }
  if (jsonDepth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    return { ok: false, problem: { field: '', reason: 'JSON_TOO_DEEP', message: `JSON nested more than ${MAX_JSON_DEPTH} levels deep` } };
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, problem: { field: '', reason: 'INVALID_JSON', message: `not JSON: ${(error as Error).message}` } };
  }
}
