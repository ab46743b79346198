import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { MAX_JSON_DEPTH, MAX_LINE_CHARS, parseJsonLine, readLines, type Line } from '../../src/ingest/lines.js';
import { propertyRun } from '../support/index.js';

async function collect(chunks: readonly (string | Buffer)[]): Promise<Line[]> {
  const out: Line[] = [];
  for await (const l of readLines({ name: 'test', stream: () => Readable.from(chunks) })) out.push(l);
  return out;
}

async function viaReadline(text: string): Promise<string[]> {
  const out: string[] = [];
  for await (const l of createInterface({ input: Readable.from([text]), crlfDelay: Infinity })) out.push(l);
  return out;
}

/** Cut a text into chunks at the given fractions (chunk boundaries anywhere, mid-\r\n too). */
function cut(text: string, points: readonly number[]): string[] {
  const at = [...new Set(points.map((p) => Math.floor(p * text.length)))].sort((a, b) => a - b);
  const out: string[] = [];
  let from = 0;
  for (const a of at) {
    out.push(text.slice(from, a));
    from = a;
  }
  out.push(text.slice(from));
  return out;
}

describe('readLines: bounded line reading', () => {
  test('law (equivalence): the same lines as node:readline, however the input is cut into chunks', async () => {
    const text = fc.array(fc.constantFrom('a', 'b', '\n', '\r', '\r\n', ' ', 'é', '\u0000', '{"k":1}'), { maxLength: 60 }).map((p) => p.join(''));
    await fc.assert(
      fc.asyncProperty(text, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 }), async (t, points) => {
        const got = await collect(cut(t, points));
        expect(got.map((l) => l.text)).toEqual(await viaReadline(t));
        expect(got.map((l) => l.line)).toEqual(got.map((_, i) => i + 1));
      }),
      propertyRun('readLines splits as readline does'),
    );
  });

  test('bytes split inside a UTF-8 sequence decode whole; invalid bytes become U+FFFD; NUL is kept', async () => {
    const bytes = Buffer.from('é€\n\u0000x\n', 'utf8');
    const lines = await collect([bytes.subarray(0, 1), bytes.subarray(1, 3), bytes.subarray(3), Buffer.from([0xff, 0xfe, 0x0a])]);
    expect(lines.map((l) => l.text)).toEqual(['é€', '\u0000x', '\ufffd\ufffd']);
  });

  test('a 100 MB line is cut, not buffered: live heap stays far below the line and the line after it is read', async () => {
    setFlagsFromString('--expose_gc');
    const gc = runInNewContext('gc') as () => void;
    let peak = 0;
    gc();
    const base = process.memoryUsage().heapUsed;
    async function* source(): AsyncGenerator<string> {
      for (let i = 0; i < 100; i++) {
        if (i % 5 === 0) {
          gc();
          peak = Math.max(peak, process.memoryUsage().heapUsed - base);
        }
        yield String.fromCharCode(97 + (i % 26)).repeat(1 << 20); // distinct chunks, as from a file
      }
      yield '\n{"next":true}\n';
    }
    const lines: Line[] = [];
    for await (const l of readLines({ name: 'big', stream: () => Readable.from(source()) }))
      lines.push({ ...l, text: l.text.length > 100 ? `(${l.text.length} chars)` : l.text });
    expect(lines).toEqual([
      { text: `(${MAX_LINE_CHARS + 1} chars)`, line: 1, length: 100 * (1 << 20) },
      { text: '{"next":true}', line: 2 },
    ]);
    // node:readline keeps the whole pending line (~100 MB here); the bounded reader ~1 MiB.
    expect(peak).toBeLessThan(40 * (1 << 20));
  });
});

describe('parseJsonLine: the limits of a JSON line', () => {
  test.each([
    ['valid JSON', '{"ref":"R","a":[1,{"b":"[[[["}]}', 'ok'],
    ['not JSON', '{broken', 'INVALID_JSON'],
    ['nested just at the limit', '['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH), 'ok'],
    ['nested one past the limit', '['.repeat(MAX_JSON_DEPTH + 1) + ']'.repeat(MAX_JSON_DEPTH + 1), 'JSON_TOO_DEEP'],
    ['nested 100 000 deep', '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000), 'JSON_TOO_DEEP'],
    ['brackets inside strings do not count', JSON.stringify({ s: '['.repeat(1000) + '\\"{' }), 'ok'],
    ['over-long', 'x'.repeat(MAX_LINE_CHARS + 1), 'LINE_TOO_LONG'],
  ])('%s', (_, text, expected) => {
    const r = parseJsonLine(text);
    expect(r.ok ? 'ok' : r.problem.reason).toBe(expected);
  });

  test('the length a reader reports for a cut line is what the message gives', () => {
    const r = parseJsonLine('x'.repeat(MAX_LINE_CHARS + 1), 104_857_600);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problem.message).toBe(`line of 104857600 characters exceeds the limit of ${MAX_LINE_CHARS}`);
  });
});
