/** What the follow tests share: a store's records as `ipar export` gives them, and waiting for a condition. */
import { runExport } from '../../src/cli/export.js';
import { captureIo } from '../support/index.js';

/** Every record of the store as `ipar export` writes it (canonical NDJSON lines), sorted. */
export async function exported(file: string): Promise<string[]> {
  const io = captureIo();
  await runExport({ db: file, kinds: [] }, io);
  return io
    .out()
    .split('\n')
    .filter((l) => l !== '')
    .sort();
}

/** Resolve once `check` holds (polled), or fail after `ms` naming `what`. */
export async function until(what: string, check: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
