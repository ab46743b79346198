/**
 * `npm run docs`: regenerate the tables of codes in README.md and docs/ from the
 * catalogue (docs.ts), and say on stderr which files changed.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { packagePath } from '../paths.js';
import { DOC_FILES, rewriteRegions } from './docs.js';

for (const file of DOC_FILES) {
  const path = packagePath(file);
  const before = readFileSync(path, 'utf8');
  const after = rewriteRegions(before);
  if (after !== before) writeFileSync(path, after);
  process.stderr.write(`${file}: ${after === before ? 'up to date' : 'rewritten'}\n`);
}
