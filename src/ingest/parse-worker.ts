/**
 * The parse worker (issue #8), run by parallel.ts in a worker thread: reads a file of
 * canonical NDJSON, parses each line and puts it through the fast path, and sends the
 * writer thread, in line order, the records as plain values (wire.ts) and every other
 * line (not JSON, not a record the fast path takes, over-long) as its text, which the
 * writer reads as it reads any line, so every problem is still reported by the same code.
 *
 * Flow control: at most `ahead` lines, and {@link AHEAD_CHARS} characters of them, sent
 * and not yet acknowledged, so memory is bounded whatever the file's size or its lines'.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { IparError } from '../problems.js';
import { fastCanonicalRecord } from './fast-record.js';
import { fileInput, readLines } from './lines.js';
import { encodeRecord, encodeText } from './wire.js';
import type { FromWorker, ToWorker } from './parallel.js';

/** Characters of line text sent and not yet taken by the writer, at most (about as many bytes again once parsed). */
const AHEAD_CHARS = 64 << 20;
/** Characters of line text a message covers, at most. */
const MESSAGE_CHARS = 4 << 20;

/**
 * Lines a message covers: 2048 (each message costs a structured clone and an event), or
 * an eighth of `ahead` when that is less, so a small look-ahead still flows.
 */
function linesPerMessage(ahead: number): number {
  return Math.max(1, Math.min(2048, Math.floor(ahead / 8)));
}

const port = parentPort;
if (port === null) throw new Error('parse-worker.js runs in a worker thread');
/** Where parsed lines go (the writer takes them when it wants them); requests come on `port`. */
const lines = (workerData as { lines: MessagePort }).lines;

let inFlightLines = 0;
let inFlightChars = 0;
let wake: (() => void) | null = null;

function send(message: FromWorker): void {
  lines.postMessage(message);
}

async function parse(path: string, ahead: number): Promise<void> {
  let values: unknown[] = [];
  let sentThrough = 0;
  let last = 0;
  let chars = 0;
  const perMessage = linesPerMessage(ahead);
  const flush = (): void => {
    send({ type: 'lines', values, last, chars });
    inFlightLines += last - sentThrough;
    inFlightChars += chars;
    sentThrough = last;
    values = [];
    chars = 0;
  };
  try {
    for await (const { text, line, length } of readLines(fileInput(path))) {
      last = line;
      // An over-long line is only reported, with the first 200 characters: send no more.
      if (length !== undefined) encodeText(values, line, text.slice(0, 200), length);
      else if (text.trim() !== '') {
        let raw: unknown;
        let parsed = true;
        try {
          raw = JSON.parse(text);
        } catch {
          parsed = false;
        }
        const record = parsed ? fastCanonicalRecord(raw) : undefined;
        if (record !== undefined) encodeRecord(values, line, record);
        else encodeText(values, line, text, undefined);
      }
      chars += length === undefined ? text.length : 200;
      if (line - sentThrough >= perMessage || chars >= MESSAGE_CHARS) {
        flush();
        while (inFlightLines >= ahead || inFlightChars >= AHEAD_CHARS) await new Promise<void>((resolve) => (wake = resolve));
      }
    }
    flush();
    send({ type: 'end', last });
  } catch (error) {
    send({ type: 'error', code: error instanceof IparError ? error.code : 'INPUT_READ_FAILED', message: (error as Error).message });
  }
}

port.on('message', (message: ToWorker) => {
  if (message.type === 'ack') {
    inFlightLines -= message.lines;
    inFlightChars -= message.chars;
    const w = wake;
    wake = null;
    w?.();
  } else {
    inFlightLines = 0;
    inFlightChars = 0;
    void parse(message.path, message.ahead);
  }
});
