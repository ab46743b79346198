/**
 * Hostile input (issue 9): arbitrary bytes, truncated lines, huge numbers, deep JSON,
 * invalid UTF-8, NUL bytes and over-long lines, fed to the request parser, the `ipar
 * resolve` line path, the canonical ingest path and every registered vendor importer.
 * Laws: never an uncaught exception, never a hang, a structured error for the bad line,
 * the rest of the batch processed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { beforeAll, describe, expect, test } from 'vitest';
import { resolveRequests } from '../../matcher/pipeline.js';
import { planRequest } from '../../matcher/plan.js';
import { main } from '../../src/cli.js';
import { canonicalFormat, ingest, type LineReport } from '../../src/ingest/ingest.js';
import { MAX_LINE_CHARS } from '../../src/ingest/lines.js';
import { VENDOR_PARSERS } from '../../src/ingest/vendors/index.js';
import type { VendorParser } from '../../src/ingest/vendors/types.js';
import { packagePath } from '../../src/paths.js';
import { Result } from '../../src/request.js';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import { FC_SEED, propertyRun, tempDir, builtCli, captureIo, demoStore } from '../support/index.js';

/** Every importer `ingest` accepts: the canonical format and each registered vendor. */
const PARSERS: readonly VendorParser[] = [canonicalFormat, ...VENDOR_PARSERS];
const VENDOR_OPTIONS = { timeZone: 'UTC', year: 2026, realm: 'cgn-a' } as const;

const GOOD_REQUEST = '{"ref":"GOOD","observations":[{"sourceIp":"198.51.100.7","time":"2026-03-28T10:00:00Z"}],"toleranceSeconds":2}';
const GOOD_RECORD = '{"kind":"allocation","account":"ACC-GOOD","ip":"198.51.100.99","start":"2026-03-28T10:00:00Z","end":null,"source":"dhcp"}';
const NL = 0x0a;
const CR = 0x0d;

/** Sample lines of an importer's own format (fixtures/vendors/NAME/*), to mutate. */
function samplesOf(parser: VendorParser): string[] {
  if (parser === canonicalFormat)
    return readFileSync(packagePath('fixtures', 'demo', 'records.ndjson'), 'utf8')
      .split('\n')
      .filter((l) => l !== '');
  const dir = packagePath('fixtures', 'vendors', parser.name);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => !f.endsWith('.json'))
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split(/\r?\n/))
    .filter((l) => l.trim() !== '');
}

const HUGE = ['1e308', '-1e400', '123456789012345678901234567890', '9007199254740993', '-0', '0.000000000000000000001', '1e-400', '65536', '-1'];

/** A line as bytes, without line breaks (so the lines of a batch are known). */
function hostileLine(seeds: readonly string[]): fc.Arbitrary<Buffer> {
  const seed = seeds.length > 0 ? fc.constantFrom(...seeds) : fc.constant(GOOD_REQUEST);
  const text = fc.oneof(
    // arbitrary bytes: NUL, invalid UTF-8, control characters
    { weight: 3, arbitrary: fc.uint8Array({ maxLength: 120 }).map((b) => Buffer.from(b)) },
    // a line cut anywhere, even inside a UTF-8 sequence
    {
      weight: 3,
      arbitrary: fc.tuple(seed, fc.double({ min: 0, max: 1, noNaN: true })).map(([s, f]) => Buffer.from(s).subarray(0, Math.floor(Buffer.byteLength(s) * f))),
    },
    // every number made huge, tiny, negative or out of range
    { weight: 2, arbitrary: fc.tuple(seed, fc.constantFrom(...HUGE)).map(([s, n]) => Buffer.from(s.replace(/\d+/g, n))) },
    // a byte of a real line replaced by NUL, 0xff or a quote
    {
      weight: 2,
      arbitrary: fc.tuple(seed, fc.nat(), fc.constantFrom(0x00, 0xff, 0xc3, 0x22, 0x7b, 0x5c)).map(([s, i, b]) => {
        const x = Buffer.from(s);
        if (x.length > 0) x[i % x.length] = b;
        return x;
      }),
    },
    // JSON of every shape, with odd keys
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => Buffer.from(JSON.stringify(v) ?? 'null')) },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(
          '{"__proto__":{"ref":"x"},"constructor":1}',
          '{"ref":"\\ud800","observations":[{"sourceIp":"198.51.100.7\\u0000","time":"2026-03-28T10:00:00Z"}]}',
          '{"ref":"R","observations":[]}',
          'null',
          '[]',
          '""',
          '{}',
        )
        .map((s) => Buffer.from(s)),
    },
    // deep JSON, just past the limit and far past it
    { weight: 1, arbitrary: fc.constantFrom(65, 1000, 100_000).map((d) => Buffer.from(`{"ref":"D","observations":${'['.repeat(d)}${']'.repeat(d)}}`)) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(65, 100_000).map((d) => Buffer.from('{"kind":"allocation","account":' + '{"a":'.repeat(d) + '1' + '}'.repeat(d) + '}')),
    },
  );
  return text.map((b) => Buffer.from(b.map((x) => (x === NL || x === CR ? 0x20 : x))));
}

/** A batch: hostile lines with known-good lines among them; returns the bytes and where the good ones are. */
function batch(seeds: readonly string[], good: string): fc.Arbitrary<{ bytes: Buffer; lines: Buffer[]; good: Set<number> }> {
  return fc.array(fc.tuple(hostileLine(seeds), fc.boolean()), { minLength: 1, maxLength: 25 }).map((items) => {
    const lines: Buffer[] = [];
    const goodAt = new Set<number>();
    for (const [line, addGood] of items) {
      lines.push(line);
      if (addGood) {
        goodAt.add(lines.length);
        lines.push(Buffer.from(good));
      }
    }
    goodAt.add(lines.length);
    lines.push(Buffer.from(good));
    return { bytes: Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])), lines, good: goodAt };
  });
}

const decoded = (b: Buffer): string => new TextDecoder().decode(b);
const isBlank = (b: Buffer): boolean => decoded(b).trim() === '';

/** Over-long and pathological lines, for the child-process runs (no hang, bounded work). */
function pathological(samples: readonly string[]): string[] {
  const s = samples[0] ?? GOOD_REQUEST;
  return [
    'x'.repeat(MAX_LINE_CHARS + 10),
    ' '.repeat(MAX_LINE_CHARS - 10) + 'x',
    'a'.repeat(500_000),
    '1'.repeat(500_000),
    '=,'.repeat(250_000),
    ': '.repeat(250_000),
    s + ' ' + s.repeat(Math.floor(400_000 / Math.max(s.length, 1))),
    s.replace(/ /g, ' '.repeat(20_000)),
    '{"kind":' + '['.repeat(400_000),
    '"'.repeat(500_000),
  ];
}

let db = '';
let cli = '';
beforeAll(async () => {
  db = await demoStore();
  cli = builtCli();
}, 300_000);

describe('no hang: each importer and ipar resolve finish a file of hostile and pathological lines (child process, 60 s limit)', () => {
  const hung = new Set<string>();
  const corpus = (parser: VendorParser | null): string => {
    const seeds = parser === null ? [GOOD_REQUEST] : samplesOf(parser);
    const lines = fc.sample(hostileLine(seeds), { seed: FC_SEED, numRuns: 300 }).map(decoded);
    const file = join(tempDir(), 'hostile.txt');
    writeFileSync(file, [...lines, ...pathological(seeds), parser === null ? GOOD_REQUEST : (seeds.at(-1) ?? '')].join('\n') + '\n');
    return file;
  };

  test.each(PARSERS.map((p) => [p.name, p] as const))('ipar ingest --format %s', (name, parser) => {
    const file = corpus(parser);
    const started = performance.now();
    const run = spawnSync(
      process.execPath,
      [cli, 'ingest', '--db', join(tempDir(), 'h.db'), '--format', name, '--tz', 'UTC', '--year', '2026', '--realm', 'cgn-a', file],
      { encoding: 'utf8', timeout: 60_000, maxBuffer: 1 << 28 },
    );
    if (run.error !== undefined) hung.add(name);
    expect(run.error, `${name} did not finish in 60 s`).toBeUndefined();
    expect(run.stderr).not.toMatch(/internal error/);
    expect([0, 1]).toContain(run.status);
    expect(performance.now() - started).toBeLessThan(60_000);
  });

  test('ipar resolve', () => {
    const file = corpus(null);
    const run = spawnSync(process.execPath, [cli, 'resolve', '--db', db, '--audit', join(tempDir(), 'a.db'), file], {
      encoding: 'utf8',
      timeout: 60_000,
      maxBuffer: 1 << 28,
    });
    expect(run.error).toBeUndefined();
    expect(run.stderr).not.toMatch(/internal error/);
    expect(run.status).toBe(1);
    const results = run.stdout
      .trim()
      .split('\n')
      .map((l) => Result.parse(JSON.parse(l)));
    expect(results.at(-1)).toMatchObject({ ref: 'GOOD', status: 'unique' });
    expect(run.stderr).toMatch(/LINE_TOO_LONG: line of 1048586 characters exceeds the limit of 1048576/);
    expect(run.stderr).toMatch(/JSON_TOO_DEEP/);
  });

  describe('in process (importers that hung above are skipped here so the suite cannot stall)', () => {
    test('law (robustness): planRequest and resolveRequests take any value: never a throw, one structured result each', async () => {
      const store = openSqliteStore(db, { readonly: true });
      const value = fc.oneof(
        fc.anything({
          maxDepth: 4,
          withBoxedValues: true,
          withMap: true,
          withSet: true,
          withObjectString: true,
          withNullPrototype: true,
          withBigInt: true,
          withDate: true,
          withTypedArray: true,
          withSparseArray: true,
        }),
        fc.jsonValue({ maxDepth: 6 }).map((v) => ({ ref: 'J', observations: [v] })),
        fc.record(
          {
            ref: fc.string(),
            observations: fc.array(
              fc.record(
                { sourceIp: fc.string(), time: fc.oneof(fc.string(), fc.jsonValue({ maxDepth: 2 })), sourcePort: fc.oneof(fc.integer(), fc.double()) },
                { requiredKeys: [] },
              ),
            ),
            toleranceSeconds: fc.double(),
          },
          { requiredKeys: [] },
        ),
        fc.constantFrom(100_000).map((d) => JSON.parse(`{"ref":"D","observations":${'['.repeat(d)}${']'.repeat(d)}}`) as unknown),
      );
      try {
        await fc.assert(
          fc.asyncProperty(fc.array(value, { maxLength: 8 }), async (values) => {
            for (const v of values) {
              const plan = planRequest(v);
              if (!plan.ok) for (const e of plan.errors) expect([typeof e.field, typeof e.reason, typeof e.message]).toEqual(['string', 'string', 'string']);
            }
            const results = await resolveRequests(store, [...values, JSON.parse(GOOD_REQUEST)]);
            expect(results).toHaveLength(values.length + 1);
            for (const r of results) Result.parse(JSON.parse(JSON.stringify(r)));
            expect(results.at(-1)).toMatchObject({ ref: 'GOOD', status: 'unique' });
          }),
          { ...propertyRun('planRequest and resolveRequests never throw', 200), timeout: 10_000 },
        );
      } finally {
        store.close();
      }
    });

    test('law (robustness): ipar resolve over hostile lines gives one structured result per non-blank line, exit 0 or 1, the good lines resolved', async () => {
      const audit = join(tempDir(), 'audit.db');
      await fc.assert(
        fc.asyncProperty(batch([GOOD_REQUEST], GOOD_REQUEST), fc.integer({ min: 1, max: 64 }), async ({ bytes, lines, good }, chunk) => {
          // stdin arrives in chunks of any size: lines and UTF-8 sequences split anywhere
          const chunks: Buffer[] = [];
          for (let i = 0; i < bytes.length; i += chunk) chunks.push(bytes.subarray(i, i + chunk));
          const io = captureIo(chunks);
          const code = await main(['resolve', '--db', db, '--audit', audit], io);
          expect(io.err()).not.toMatch(/internal error/);
          expect([0, 1]).toContain(code);
          const expected = lines.map((l, i) => ({ i, blank: isBlank(l) })).filter((l) => !l.blank);
          const results = io
            .out()
            .trim()
            .split('\n')
            .map((l) => Result.parse(JSON.parse(l)));
          expect(results).toHaveLength(expected.length);
          results.forEach((r, k) => {
            const i = expected[k]!.i;
            if (good.has(i)) expect([r.ref, r.status]).toEqual(['GOOD', 'unique']);
            if (r.status === 'invalid') expect(r.errors!.length).toBeGreaterThan(0);
          });
        }),
        { ...propertyRun('ipar resolve line path never throws and goes on', 100), timeout: 20_000 },
      );
    });

    test.each(PARSERS.map((p) => [p.name, p] as const))(
      'law (robustness): ingest --format %s over hostile lines never throws; every problem is structured and points at a line of the batch',
      async (name, parser) => {
        if (hung.has(name)) return;
        const store = openSqliteStore(join(tempDir(), 'h.db'));
        const seeds = samplesOf(parser);
        const good = parser === canonicalFormat ? GOOD_RECORD : (seeds.at(-1) ?? GOOD_RECORD);
        try {
          await fc.assert(
            fc.asyncProperty(batch(seeds, good), async ({ bytes, lines, good: goodAt }) => {
              const reports: LineReport[] = [];
              const summary = await ingest(store, [{ name: 'hostile', stream: () => Readable.from([bytes]) }], {
                format: parser,
                vendorOptions: VENDOR_OPTIONS,
                onReject: (r) => reports.push(r),
              });
              expect(summary.lines).toBe(lines.length);
              for (const r of reports) {
                expect(r.line).toBeGreaterThanOrEqual(1);
                expect(r.line).toBeLessThanOrEqual(lines.length);
                expect(r.input.length).toBeLessThanOrEqual(201);
                expect(r.problems.length).toBeGreaterThan(0);
                for (const p of r.problems) expect([typeof p.field, typeof p.reason, typeof p.message]).toEqual(['string', 'string', 'string']);
              }
              expect(new Set(reports.map((r) => r.line)).size).toBe(reports.length);
              if (parser === canonicalFormat) {
                // canonical: each non-blank line is a record stored, unchanged, or rejected — and the good ones are not rejected
                const kept = Object.values(summary.stored).reduce((a, b) => a + b, 0) + Object.values(summary.unchanged).reduce((a, b) => a + b, 0);
                expect(kept + summary.rejectedLines).toBe(lines.filter((l) => !isBlank(l)).length);
                for (const r of reports) expect(goodAt.has(r.line - 1)).toBe(false);
              }
            }),
            { ...propertyRun(`ingest --format ${name} never throws`, parser === canonicalFormat ? 150 : 60), timeout: 20_000 },
          );
        } finally {
          store.close();
        }
      },
    );
  });
});
