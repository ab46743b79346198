import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { RISK_CODES } from '../matcher/risk.js';
import { packagePath } from '../src/paths.js';

describe('README documents the contracts', () => {
  const readme = readFileSync(packagePath('README.md'), 'utf8');
  test.each(Object.entries(RISK_CODES))('risk code %s with its kind and paragraph', (code, { kind, paragraph }) => {
    expect(readme).toMatch(new RegExp(`\\| \`${code}\` \\| ${kind} \\| ${paragraph.replace('.', '\\.')} \\|`));
  });
  test('the quick start is the two commands CI runs', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm test');
    const ci = readFileSync(packagePath('.ci', 'run'), 'utf8');
    expect(ci).toMatch(/npm ci\nnpm start\nnpm test/);
  });
});
