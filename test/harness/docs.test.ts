import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { LAW_NAMES, SCENARIOS, SILENT_CAUSES } from '../../src/harness/index.js';
import { packagePath } from '../../src/paths.js';

describe('docs/accuracy.md documents the harness', () => {
  const doc = readFileSync(packagePath('docs', 'accuracy.md'), 'utf8');
  test('the recorded table has a row for every scenario, in order, with ipar and the baseline', () => {
    const rows = [...doc.matchAll(/^(\S+) +\d+ +ipar +.*$\n^ +baseline +\d/gm)].map((m) => m[1]);
    expect(rows).toEqual(SCENARIOS.map((s) => s.name));
  });
  test.each(Object.keys(SILENT_CAUSES))('the cause %s is explained', (cause) => {
    expect(doc).toContain(`| \`${cause}\` |`);
  });
  test.each([...LAW_NAMES])('the law %s is stated', (law) => {
    expect(doc).toContain(`| \`${law}\` |`);
  });
});
