import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, test } from 'vitest';
import { DOC_FILES, REGIONS, regionsIn, rewriteRegions } from '../src/catalogue/docs.js';
import { AUDIT_VERDICTS, ERRORS, flag, rated, PROBLEMS, REFUSALS, Risk, RISK_CODES, RISK_KINDS, type Entry } from '../src/catalogue/index.js';
import { main } from '../src/cli.js';
import { packagePath } from '../src/paths.js';
import { Refusal, Result } from '../src/request.js';
import { captureIo, tempDir } from './support/index.js';

const TABLES: [name: string, table: Readonly<Record<string, Entry>>][] = [
  ['risks', RISK_CODES],
  ['refusals', REFUSALS],
  ['problems', PROBLEMS],
  ['audit verdicts', AUDIT_VERDICTS],
  ['errors', ERRORS],
];

describe('the catalogue of codes', () => {
  test.each(TABLES)('every %s entry has a kind and a meaning', (_, table) => {
    const entries = Object.entries(table);
    expect(entries.length).toBeGreaterThan(0);
    for (const [code, entry] of entries) {
      expect(code, code).toMatch(/^[A-Z][A-Z0-9_]*$/);
      expect(entry.kind, code).toMatch(/\S/);
      expect(entry.meaning.length, code).toBeGreaterThan(10);
    }
  });

  test('every risk has a kind of RISK_KINDS, a paragraph and a detail schema', () => {
    for (const [code, entry] of Object.entries(RISK_CODES)) {
      expect(RISK_KINDS, code).toContain(entry.kind);
      // 9.x, or 2.74–2.80 for what an internet connection record is (issue 19).
      expect(entry.paragraph, code).toMatch(/^(9\.\d+|2\.(7[4-9]|80))$/);
      expect(typeof entry.detail.safeParse, code).toBe('function');
    }
  });

  test('every refusal names its paragraph; every error its exit status', () => {
    for (const entry of Object.values(REFUSALS)) expect(entry.paragraph).toMatch(/^(9\.\d+|Condition D)$/);
    for (const entry of Object.values(ERRORS)) expect(entry.exit).toBe(2);
  });

  test('a flag parses as a Risk, and a detail of another code does not', () => {
    const unrated = flag('PORT_REUSE', 'm', { observation: 0, sourceIp: '203.0.113.7', sourcePort: 1100, insideHosts: 2 });
    expect(unrated).toEqual({
      code: 'PORT_REUSE',
      kind: 'false-positive',
      paragraph: '9.24',
      message: 'm',
      detail: { observation: 0, sourceIp: '203.0.113.7', sourcePort: 1100, insideHosts: 2 },
    });
    expect(Risk.safeParse(unrated).success).toBe(false); // a flag is not a risk until its severity is rated
    const ok = rated(unrated, 'material');
    expect(Risk.safeParse(ok).success).toBe(true);
    expect(Risk.safeParse({ ...ok, severity: 'high' }).success).toBe(false);
    expect(Risk.safeParse({ ...ok, detail: { observations: 1 } }).success).toBe(false);
    expect(Risk.safeParse({ ...ok, kind: 'note' }).success).toBe(false);
    expect(Risk.safeParse({ ...ok, code: 'NOT_A_CODE' }).success).toBe(false);
  });

  test('results and refusals carry only catalogue codes', () => {
    expect(Refusal.safeParse({ code: 'LOCAL_AUTHORITY_ICR', paragraph: '9.14', message: 'm' }).success).toBe(true);
    expect(Refusal.safeParse({ code: 'SOMETHING_ELSE', paragraph: '9.14', message: 'm' }).success).toBe(false);
    const invalid = {
      ref: null,
      status: 'invalid',
      candidateCount: 0,
      withheld: false,
      candidates: [],
      observations: [],
      risks: [],
      assessment: 'invalid',
      advice: [],
      errors: [{ field: 'ref', reason: 'NO_SUCH_REASON', message: 'm' }],
    };
    expect(Result.safeParse(invalid).success).toBe(false);
    expect(Result.safeParse({ ...invalid, errors: [{ field: 'ref', reason: 'MISSING_FIELD', message: 'm' }] }).success).toBe(true);
  });
});

/** Every `.ts` file under the folders the code base emits codes from. */
function sources(): { file: string; text: string }[] {
  const out: { file: string; text: string }[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts') && !path.includes(join('src', 'catalogue')))
        out.push({ file: relative(packagePath(), path), text: readFileSync(path, 'utf8') });
    }
  };
  for (const dir of ['src', 'matcher', 'nat']) walk(packagePath(dir));
  return out;
}

const literals = (text: string): string[] => [...text.matchAll(/'([A-Z][A-Z0-9_]+)'/g)].map((m) => m[1]!);

describe('every code the code base can emit is in the catalogue', () => {
  // The union types make this a compile-time check; this reads the sources as well, so a
  // code smuggled past the types (a cast, a string from outside) still fails here.
  const files = sources();
  const found = (pattern: RegExp): { file: string; code: string }[] =>
    files.flatMap(({ file, text }) => [...text.matchAll(pattern)].flatMap((m) => literals(m[1]!).map((code) => ({ file, code }))));

  test.each([
    ['IparError codes', /new IparError\(\s*([^`]*?),\s*[`'"]/g, ERRORS],
    // A `reason:` is a problem reason, or in the audit's own checks (src/audit/signing.ts) a verdict.
    ['problem reasons', /(?:reason: |timeFailure\(|reason: \{ reason: )([^,}]+)/g, { ...PROBLEMS, ...AUDIT_VERDICTS }],
    ['risk codes', /flag\(\s*('[A-Z_]+')/g, RISK_CODES],
    ['refusal codes', /refusal\(\s*('[A-Z_]+')/g, REFUSALS],
    ['audit verdicts', /broken\([^,]+,\s*('[A-Z_]+')/g, AUDIT_VERDICTS],
  ] as const)('%s', (_, pattern, table) => {
    const uses = found(pattern);
    expect(uses.length).toBeGreaterThan(0);
    expect(uses.filter(({ code }) => !Object.hasOwn(table, code))).toEqual([]);
  });

  test('the vendor line reasons are catalogue reasons', async () => {
    const { LINE_REASONS } = await import('../src/ingest/vendors/output.js');
    for (const reason of Object.values(LINE_REASONS)) expect(Object.hasOwn(PROBLEMS, reason), reason).toBe(true);
  });
});

describe('README and docs tables are generated from the catalogue', () => {
  test.each(DOC_FILES)('%s is what npm run docs writes', (file) => {
    const text = readFileSync(packagePath(file), 'utf8');
    expect(regionsIn(text).length).toBeGreaterThan(0);
    expect(rewriteRegions(text)).toBe(text);
  });

  test('every region is in some file, once', () => {
    const all = DOC_FILES.flatMap((file) => regionsIn(readFileSync(packagePath(file), 'utf8')));
    expect([...all].sort()).toEqual(Object.keys(REGIONS).sort());
  });

  test('a drifted table is rewritten, the prose around it kept', () => {
    const drifted = 'before\n<!-- codes:refusals -->\n| code |\n| `OLD` |\n<!-- /codes:refusals -->\nafter\n';
    const fixed = rewriteRegions(drifted);
    expect(fixed).not.toBe(drifted);
    expect(fixed.startsWith('before\n<!-- codes:refusals -->\n| code | paragraph | refused when |\n')).toBe(true);
    expect(fixed.endsWith('\n<!-- /codes:refusals -->\nafter\n')).toBe(true);
    expect(fixed).toContain('| `CONDITION_D_PURPOSE` | Condition D |');
    expect(() => rewriteRegions('<!-- codes:nope -->\n<!-- /codes:nope -->')).toThrow(/unknown codes region "nope"/);
  });
});

describe('the CLI names the error code', () => {
  test('an IparError is printed as ipar: CODE: message, with its exit status', async () => {
    const io = captureIo();
    const missing = join(tempDir(), 'none.db');
    const code = await main(['purge', '--db', missing, '--before', '2020-01-01T00:00:00Z'], io);
    expect(code).toBe(ERRORS.STORE_NOT_FOUND.exit);
    expect(io.err()).toBe(`ipar: STORE_NOT_FOUND: no store at ${missing}\n`);
  });
});
