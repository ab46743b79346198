/**
 * The README's examples run as pasted (issue 21): every NDJSON block is one JSON object a
 * line, and the request under "Requests", resolved against the demo store, gives exactly
 * the line under "Results".
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { main } from '../../src/cli.js';
import { packagePath } from '../../src/paths.js';
import { captureIo, tempDir } from '../support/index.js';

const README = readFileSync(packagePath('README.md'), 'utf8');

/** The code block after a marker comment (`<!-- example: NAME -->`). */
function example(name: string): string {
  const m = new RegExp(`<!-- example: ${name} -->\\n\`\`\`ndjson\\n([\\s\\S]*?)\\n\`\`\``).exec(README);
  if (m === null) throw new Error(`README has no example "${name}"`);
  return m[1]!;
}

let db = '';
/** The demo store with its connection records too (what `npm start`'s third part builds). */
let withConnections = '';
beforeAll(async () => {
  db = join(tempDir(), 'fixtures.db');
  expect(await main(['ingest', '--db', db, packagePath('fixtures', 'demo', 'records.ndjson')], captureIo())).toBe(0);
  withConnections = join(tempDir(), 'fixtures.db');
  const files = [packagePath('fixtures', 'demo', 'records.ndjson'), packagePath('fixtures', 'demo', 'connections.ndjson')];
  expect(await main(['ingest', '--db', withConnections, ...files], captureIo())).toBe(0);
});

describe('README examples', () => {
  test('every ndjson block is one JSON object a line', () => {
    const blocks = [...README.matchAll(/```ndjson\n([\s\S]*?)\n```/g)].map((m) => m[1]!);
    expect(blocks.length).toBeGreaterThanOrEqual(4);
    for (const block of blocks) {
      for (const line of block.split('\n')) {
        const value: unknown = JSON.parse(line);
        expect(typeof value === 'object' && value !== null && !Array.isArray(value), line).toBe(true);
      }
    }
    // No request or result is shown spread over lines as a json block any more.
    expect(README).not.toMatch(/```json\n\{"ref"/);
  });

  test('the request, resolved as pasted against the demo store, gives the result shown', async () => {
    const request = example('request');
    const result = example('result');
    expect(request.split('\n')).toHaveLength(1);
    expect(result.split('\n')).toHaveLength(1);
    const io = captureIo(request + '\n');
    expect(await main(['resolve', '--db', db, '--workers', '1'], io)).toBe(0);
    expect(io.out()).toBe(result + '\n');
  });

  test.each([
    ['service users', 'su'],
    ['connection records of a subject', 'cr'],
  ])('the %s example, resolved as pasted against the demo store with its connections, gives the result shown', async (_, name) => {
    const request = example(`${name}-request`);
    const result = example(`${name}-result`);
    expect([request.split('\n').length, result.split('\n').length]).toEqual([1, 1]);
    const io = captureIo(request + '\n');
    expect(await main(['resolve', '--db', withConnections, '--workers', '1'], io)).toBe(0);
    expect(io.out()).toBe(result + '\n');
  });
});
