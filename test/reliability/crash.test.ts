/**
 * Crash safety (issue 9): an ingest killed at any moment (SIGKILL, no chance to clean
 * up) leaves the store consistent, and running the same ingest again ends with exactly
 * the records of a clean run — none lost, none doubled. The child is the built CLI.
 */
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { SYNTHETIC_SPACE, syntheticLine } from '../../bench/data.js';
import { tempDir, builtCli, committedRecords, integrity, storeDigest } from '../support/index.js';

/** Records in the input (plus the address space), written in transactions of 10 000 (`--batch-size`). */
const RECORDS = 60_000;
const BATCH = 10_000;

let cli = '';
let input = '';
let clean: ReturnType<typeof storeDigest>;

function ingestArgs(db: string): string[] {
  return [cli, 'ingest', '--db', db, '--batch-size', String(BATCH), input];
}

/** Run an ingest to the end. */
function ingestToEnd(db: string): void {
  const run = spawnSync(process.execPath, ingestArgs(db), { encoding: 'utf8' });
  expect(run.status, run.stderr).toBe(0);
}

/**
 * Start an ingest and SIGKILL it once `records` are committed (read from the store by
 * another connection) and `afterMs` more have passed: a moment inside a chosen batch.
 */
function ingestKilledAt(db: string, records: number, afterMs: number): Promise<{ killed: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ingestArgs(db), { stdio: 'ignore' });
    let timer: NodeJS.Timeout | undefined;
    const poll = setInterval(() => {
      if (committedRecords(db) >= records) {
        clearInterval(poll);
        timer = setTimeout(() => child.kill('SIGKILL'), afterMs);
      }
    }, 5);
    child.once('error', reject);
    child.once('exit', (_code, signal) => {
      clearInterval(poll);
      clearTimeout(timer);
      resolve({ killed: signal === 'SIGKILL' });
    });
  });
}

/** Start an ingest and SIGKILL it after `ms` (for the first moments: startup, schema creation). */
function ingestKilledAfter(db: string, ms: number): Promise<{ killed: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ingestArgs(db), { stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.once('error', reject);
    child.once('exit', (_code, signal) => {
      clearTimeout(timer);
      resolve({ killed: signal === 'SIGKILL' });
    });
  });
}

const total = (counts: Record<string, number>): number => (counts['address_space'] ?? 0) + (counts['allocation'] ?? 0) + (counts['nat_block'] ?? 0);

beforeAll(() => {
  cli = builtCli();
  const dir = tempDir();
  input = join(dir, 'records.ndjson');
  const lines = [...SYNTHETIC_SPACE];
  for (let i = 0; i < RECORDS; i++) lines.push(syntheticLine(i));
  writeFileSync(input, lines.join('\n') + '\n');
  const db = join(dir, 'clean.db');
  ingestToEnd(db);
  clean = storeDigest(db);
  expect(total(clean.counts)).toBe(RECORDS + SYNTHETIC_SPACE.length);
}, 300_000);

describe('ingest killed with SIGKILL, then run again', () => {
  const partial: number[] = [];

  /** [name, when]: before anything is written, then at moments inside each batch, then during the final close. */
  const moments: [string, (db: string) => Promise<{ killed: boolean }>][] = [
    ['during startup', (db) => ingestKilledAfter(db, 60)],
    ['as the schema is created', (db) => ingestKilledAt(db, 0, 0)],
    ['in the first batch', (db) => ingestKilledAt(db, 0, 40)],
    ['in batch 2', (db) => ingestKilledAt(db, BATCH, 0)],
    ['in batch 3', (db) => ingestKilledAt(db, 2 * BATCH, 15)],
    ['in batch 4', (db) => ingestKilledAt(db, 3 * BATCH, 30)],
    ['in batch 5', (db) => ingestKilledAt(db, 4 * BATCH, 60)],
    ['in the last batch', (db) => ingestKilledAt(db, 5 * BATCH, 5)],
    ['after the last commit, while closing', (db) => ingestKilledAt(db, RECORDS + SYNTHETIC_SPACE.length, 0)],
  ];

  test.each(moments)('killed %s: consistent, whole batches only, and the re-run equals a clean run', async (_, kill) => {
    const db = join(tempDir(), 'store.db');
    const { killed } = await kill(db);
    if (killed && committedRecords(db) >= 0) {
      expect(integrity(db)).toEqual(['ok']);
      const stored = total(storeDigest(db).counts);
      // each write is one transaction: a kill leaves whole batches, never part of one
      expect(stored % BATCH === 0 || stored === RECORDS + SYNTHETIC_SPACE.length).toBe(true);
      expect(stored).toBeLessThanOrEqual(RECORDS + SYNTHETIC_SPACE.length);
      if (stored > 0 && stored < RECORDS) partial.push(stored);
    }
    ingestToEnd(db);
    expect(integrity(db)).toEqual(['ok']);
    expect(storeDigest(db)).toEqual(clean);
  });

  test('killed twice in a row (the re-run killed too), then run to the end: equal to a clean run', async () => {
    const db = join(tempDir(), 'store.db');
    await ingestKilledAt(db, 2 * BATCH, 10);
    await ingestKilledAt(db, 4 * BATCH, 10);
    expect(integrity(db)).toEqual(['ok']);
    ingestToEnd(db);
    expect(storeDigest(db)).toEqual(clean);
  });

  test('the kills above landed mid-ingest (the test is not vacuous)', () => {
    expect(partial.length).toBeGreaterThanOrEqual(4);
  });
});
