/** Where the package's own files are, whether running from `src/` (tests) or `dist/src/`. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('ipar: cannot find the package root');
    dir = parent;
  }
  return dir;
}

/** The package root (the folder holding package.json). */
export const PACKAGE_ROOT = findRoot();

/** A path inside the package, e.g. `packagePath('fixtures', 'demo', 'records.ndjson')`. */
export function packagePath(...parts: string[]): string {
  return join(PACKAGE_ROOT, ...parts);
}
