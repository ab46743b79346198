/**
 * Parsing in a worker thread beside the writer (src/ingest/parallel.ts) against parsing in
 * one thread. Law (equivalence): for any input, ingest through the parse worker stores the
 * same records and reports the same summary, the same rejected lines in the same order and
 * the same progress as ingest in one thread. The worker exists only in the built package
 * (its entry is a `.js` file): the test builds dist/ as the crash tests do and runs the
 * built ingest with `parseIn: 'worker'` beside the sources' ingest in this thread.
 */
import fc from 'fast-check';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, test } from 'vitest';
import { syntheticLine } from '../../bench/data.js';
import { ingest, type IngestOptions, type IngestSummary, type LineReport } from '../../src/ingest/ingest.js';
import { MAX_LINE_CHARS, openInputs } from '../../src/ingest/lines.js';
import { packagePath } from '../../src/paths.js';
import { IparError } from '../../src/problems.js';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import { propertyRun, tempDir, builtCli, storeDigest } from '../support/index.js';

type Ingest = typeof ingest;
type Built = { ingest: Ingest; openInputs: typeof openInputs; openSqliteStore: typeof openSqliteStore };
let built: Built;

beforeAll(async () => {
  builtCli();
  const load = async (path: string): Promise<unknown> => import(pathToFileURL(packagePath('dist', 'src', ...path.split('/'))).href);
  const [i, l, s] = (await Promise.all([load('ingest/ingest.js'), load('ingest/lines.js'), load('store/sqlite/store.js')])) as [
    { ingest: Ingest },
    { openInputs: typeof openInputs },
    { openSqliteStore: typeof openSqliteStore },
  ];
  built = { ingest: i.ingest, openInputs: l.openInputs, openSqliteStore: s.openSqliteStore };
}, 300_000);

interface Run {
  summary: IngestSummary;
  rejects: LineReport[];
  progress: number[];
  digest: ReturnType<typeof storeDigest>;
}

async function run(how: 'worker' | 'this-thread', files: readonly string[], batchSize: number): Promise<Run> {
  const { ingest: run, openInputs: open, openSqliteStore: openStore } = how === 'worker' ? built : { ingest, openInputs, openSqliteStore };
  const db = join(tempDir(), 'store.db');
  const store = openStore(db);
  const rejects: LineReport[] = [];
  const progress: number[] = [];
  const options: IngestOptions = { batchSize, parseIn: how, onReject: (r) => rejects.push(r), onProgress: (n) => progress.push(n) };
  const summary = await run(store, await open(files), options);
  store.close();
  return { summary, rejects, progress, digest: storeDigest(db) };
}

const T0 = '2026-03-28T10:00:00Z';
/** Lines of every sort ingest meets: records the fast path takes, records only zod takes, bad records, not records, blank lines. */
const aLine = fc.oneof(
  { weight: 6, arbitrary: fc.nat(3000).map(syntheticLine) },
  fc.constantFrom(
    '{"kind":"nat-session","realm":"cgn-s","insideIp":"100.64.1.1","insidePort":5000,"outsideIp":"203.0.113.70","outsidePort":40001,"destinationIp":"2001:db8::80","destinationPort":443,"protocol":"tcp","start":"2026-03-28T10:00:00+01:00","end":null,"endInferred":true}',
    '{"kind":"allocation","account":"A","ip":"2001:db8:12:3400::/56","start":"2026-03-28T10:00:00.5Z","end":"2026-03-31T10:00:00Z","source":"dhcpv6-pd","msisdn":"+447700900001"}',
    '{"kind":"nat-block","realm":"cgn-a","insideIp":"100.64.0.1","outsideIp":"203.0.113.7","portFirst":1024,"portLast":2047,"protocol":"udp","start":"2026-03-28T10:00:00Z","end":null}',
    '{"kind":"allocation","account":"B","ip":"203.0.113.0/28","realm":"biz","start":"2026-03-28T10:00:00Z","end":null,"source":"static","sessionId":"s-1"}',
    '{"kind":"subscriber","account":"ACC-000001","type":"business"}',
    '{"kind":"address-space","prefix":"198.51.100.0/24","role":"dynamic"}',
    `{"kind":"coverage","source":"dhcp","start":"${T0}","end":null,"status":"gap"}`,
    `{"kind":"allocation","account":"A","ip":"198.51.100.7","start":"2026-03-28T10:00:00","end":null,"source":"dhcp"}`,
    `{"kind":"nat-block","realm":"cgn-a","insideIp":"100.64.0.1","outsideIp":"203.0.113.7","portFirst":2000,"portLast":1000,"start":"${T0}","end":null}`,
    `{"kind":"lease","account":"A"}`,
    'not json at all',
    '{"kind":"allocation",',
    '42',
    '',
    '   ',
  ),
);

function writeInput(dir: string, name: string, lines: readonly string[], separators: readonly string[]): string {
  const file = join(dir, name);
  writeFileSync(file, lines.map((l, i) => l + (separators[i % separators.length] ?? '\n')).join(''));
  return file;
}

describe('ingest with the parse worker', () => {
  test('equivalence: through the worker, the same store, summary, rejected lines (in order) and progress as in one thread', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(aLine, { maxLength: 80 }), { minLength: 1, maxLength: 3 }),
        fc.array(fc.constantFrom('\n', '\r\n', '\r'), { minLength: 1, maxLength: 3 }),
        fc.integer({ min: 1, max: 12 }),
        async (inputs, separators, batchSize) => {
          const dir = tempDir();
          const files = inputs.map((lines, i) => writeInput(dir, `part-${i}.ndjson`, lines, separators));
          const [inWorker, inThread] = [await run('worker', files, batchSize), await run('this-thread', files, batchSize)];
          expect(inWorker).toEqual(inThread);
        },
      ),
      propertyRun('ingest through the parse worker ≡ ingest in one thread', 40),
    );
  });

  test('a large input across many messages and batches: progress every 1024 lines, over-long, long and bad lines reported where they are', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 9000; i++) lines.push(i % 7 === 3 ? '' : syntheticLine(i));
    lines[4100] = 'x'.repeat(MAX_LINE_CHARS + 10);
    lines[6000] = '{"kind":"allocation"}';
    // 4.8 MB of text in twelve lines: a message closes on its characters, not its line count.
    for (let i = 0; i < 12; i++) lines[7000 + i] = 'y'.repeat(400_000);
    const file = writeInput(tempDir(), 'big.ndjson', lines, ['\n']);
    const [inWorker, inThread] = [await run('worker', [file], 1000), await run('this-thread', [file], 1000)];
    expect(inWorker).toEqual(inThread);
    expect(inWorker.progress).toEqual([1024, 2048, 3072, 4096, 5120, 6144, 7168, 8192]);
    expect(inWorker.rejects.map((r) => [r.line, r.problems[0]!.reason])).toEqual([
      [4101, 'LINE_TOO_LONG'],
      [6001, 'MISSING_FIELD'],
      ...Array.from({ length: 12 }, (_, i) => [7001 + i, 'INVALID_JSON']),
    ]);
    expect(inWorker.summary.stored.allocation + inWorker.summary.stored['nat-block']).toBeGreaterThan(7000);
  });
  test('bytes that are not UTF-8, NUL bytes, a lone CR and no final newline: the same reports', async () => {
    const file = join(tempDir(), 'bytes.ndjson');
    writeFileSync(
      file,
      Buffer.concat([
        Buffer.from(syntheticLine(0) + '\n'),
        Buffer.from([0x7b, 0xff, 0xfe, 0x7d, 0x0a]),
        Buffer.from('{"kind":"subscriber","account":"A\u0000","type":"business"}\r'), // a raw NUL in a JSON string: not JSON
        Buffer.from(syntheticLine(1) + '\r\n\r\n'),
        Buffer.from([0x00, 0x00, 0x0a]),
        Buffer.from(syntheticLine(2)),
      ]),
    );
    const [inWorker, inThread] = [await run('worker', [file], 2), await run('this-thread', [file], 2)];
    expect(inWorker).toEqual(inThread);
    expect(inWorker.rejects.map((r) => [r.line, r.problems[0]!.reason])).toEqual([
      [2, 'INVALID_JSON'],
      [3, 'INVALID_JSON'],
      [6, 'INVALID_JSON'],
    ]);
  });
});

describe('ingest from the TypeScript sources (no worker entry)', () => {
  test("parseIn 'auto' parses in this thread; 'worker' is refused with PARSE_WORKER_UNAVAILABLE", async () => {
    const file = writeInput(tempDir(), 'r.ndjson', [syntheticLine(0), syntheticLine(1)], ['\n']);
    const store = openSqliteStore(join(tempDir(), 'store.db'));
    const summary = await ingest(store, await openInputs([file]), { parseIn: 'auto' });
    expect(summary.lines).toBe(2);
    const refused = await ingest(store, await openInputs([file]), { parseIn: 'worker' }).catch((e: unknown) => e);
    store.close();
    expect(refused).toBeInstanceOf(IparError);
    expect((refused as IparError).code).toBe('PARSE_WORKER_UNAVAILABLE');
  });
});
