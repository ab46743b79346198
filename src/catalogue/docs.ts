/**
 * The README's and docs' tables of codes, generated from the catalogue. Each table sits
 * between markers, `<!-- codes:NAME -->` and `<!-- /codes:NAME -->`; {@link rewriteRegions}
 * replaces what lies between them and leaves the prose around untouched.
 * `npm run docs` (write-docs.ts) rewrites the files; test/catalogue.test.ts fails when
 * a checked-in file differs from what this generates.
 */
import { AUDIT_VERDICTS } from './audit.js';
import type { Entry } from './entry.js';
import { ERRORS } from './errors.js';
import { PROBLEMS } from './problems.js';
import { REFUSALS } from './refusals.js';
import { READING_ENTRIES, RISK_CODES } from './risks.js';

type Column<E> = readonly [heading: string, cell: (code: string, entry: E) => string];

/** A Markdown table, one row per code, in the catalogue's order. */
function table<E extends Entry>(entries: Readonly<Record<string, E>>, columns: readonly Column<E>[], keep: (entry: E) => boolean = () => true): string {
  const row = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  const lines = [row(columns.map(([heading]) => heading)), row(columns.map(() => '---'))];
  for (const [code, entry] of Object.entries(entries)) if (keep(entry)) lines.push(row(columns.map(([, cell]) => cell(code, entry).replaceAll('|', '\\|'))));
  return lines.join('\n');
}

const code = <E>(heading: string): Column<E> => [heading, (c) => `\`${c}\``];
const meaning = <E extends Entry>(heading: string): Column<E> => [heading, (_, e) => e.meaning];

/** Every generated region by name. */
export const REGIONS: Readonly<Record<string, () => string>> = {
  risks: () =>
    table(RISK_CODES, [
      code('code'),
      ['kind', (_, e) => e.kind],
      ['paragraph', (_, e) => e.paragraph],
      meaning('raised when'),
      ['material', (_, e) => e.material],
    ]),
  readings: () => table(READING_ENTRIES, [code('reading'), meaning('plausible')]),
  refusals: () => table(REFUSALS, [code('code'), ['paragraph', (_, e) => e.paragraph], meaning('refused when')]),
  problems: () => table(PROBLEMS, [code('reason'), ['reported by', (_, e) => e.scope.join(', ')], meaning('meaning')]),
  'importer-problems': () => table(PROBLEMS, [code('reason'), meaning('meaning')], (e) => e.scope.some((s) => s === 'importers')),
  'flow-problems': () => table(PROBLEMS, [code('reason'), meaning('meaning')], (e) => e.scope.some((s) => s === 'flow')),
  audit: () => table(AUDIT_VERDICTS, [code('reason'), meaning('what was done to the log')]),
  errors: () => table(ERRORS, [code('code'), ['exit', (_, e) => String(e.exit)], meaning('meaning')]),
};

/** The files, relative to the package root, that hold generated regions. */
export const DOC_FILES = ['README.md', 'docs/importers.md'] as const;

const MARKER = /<!-- codes:([a-z-]+) -->\n[\s\S]*?<!-- \/codes:\1 -->/g;

/**
 * `text` with every region regenerated; an unknown region name is an error.
 *
 * @example
 * rewriteRegions('<!-- codes:refusals -->\nold\n<!-- /codes:refusals -->'); // the refusal table between the markers
 */
export function rewriteRegions(text: string): string {
  return text.replace(MARKER, (_, name: string) => {
    const render = REGIONS[name];
    if (render === undefined) throw new Error(`unknown codes region ${JSON.stringify(name)}; known: ${Object.keys(REGIONS).join(', ')}`);
    return `<!-- codes:${name} -->\n${render()}\n<!-- /codes:${name} -->`;
  });
}

/** The names of the regions `text` holds, in order. */
export function regionsIn(text: string): string[] {
  return [...text.matchAll(MARKER)].map((m) => m[1]!);
}
