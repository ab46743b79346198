/** Shared test helpers: fresh stores and parsed records. */
import { mkdtempSync } from 'node:fs';
import { Readable } from 'node:stream';
import type { Io } from '../src/cli/io.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAddress, type Address } from '../src/address.js';
import { CanonicalRecord } from '../src/records.js';
import { openSqliteStore, type SqliteStore } from '../src/store/sqlite/store.js';

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'ipar-test-'));
}

/** A fresh store in a new temporary file (real SQLite, no mocks). */
export function freshStore(): { store: SqliteStore; file: string } {
  const file = join(tempDir(), 'store.db');
  return { store: openSqliteStore(file), file };
}

export function addr(text: string): Address {
  const r = parseAddress(text, true);
  if (!r.ok) throw new Error(r.message);
  return r.value;
}

export function records(...inputs: object[]): CanonicalRecord[] {
  return inputs.map((i) => CanonicalRecord.parse(i));
}

export const at = (iso: string): number => Date.parse(iso);

/**
 * fast-check settings for a property: a fixed seed in CI (override with FC_SEED) that is
 * printed, so a failure can be replayed; fast-check prints the shrunk counterexample.
 */
export function propertyRun(law: string, numRuns = 150): { seed: number; numRuns: number } {
  const seed = Number(process.env['FC_SEED'] ?? 20_261_124);
  process.stdout.write(`property "${law}": seed ${seed}, ${numRuns} runs\n`);
  return { seed, numRuns };
}

/** Streams for a CLI run in a test: stdin from a string, stdout and stderr captured. */
export function captureIo(stdinText = ''): Io & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdin: Readable.from([stdinText]),
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    out: () => out,
    err: () => err,
  };
}
