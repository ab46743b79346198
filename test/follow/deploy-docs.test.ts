/**
 * docs/deployment.md shows the deployment files the tests run (docs/deploy/), each as it
 * is: a code block whose text is the file's.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { packagePath } from '../../src/paths.js';

const page = fs.readFileSync(packagePath('docs', 'deployment.md'), 'utf8');
const blocks = [...page.matchAll(/^```\n([\s\S]*?)^```$/gm)].map((m) => m[1]);

describe('docs/deployment.md and docs/deploy/', () => {
  it.each(fs.readdirSync(packagePath('docs', 'deploy')).sort())('%s is shown verbatim', (name) => {
    expect(blocks).toContain(fs.readFileSync(packagePath('docs', 'deploy', name), 'utf8'));
  });
});
