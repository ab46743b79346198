/**
 * What the follow tests share: a store's records as `ipar export` gives them, the same
 * lines ingested at once, whether a follower's last commit read files to their end, and
 * waiting for a condition.
 */
import fs from 'node:fs';
import path from 'node:path';
import { runExport } from '../../src/cli/export.js';
import { ingest } from '../../src/ingest/ingest.js';
import { fileInput } from '../../src/ingest/lines.js';
import { VENDOR_PARSERS } from '../../src/ingest/vendors/index.js';
import type { VendorOptions } from '../../src/ingest/vendors/types.js';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
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

/** The records of `text` ingested at once (one `ingest` of one file) into a fresh store in `dir`, exported. */
export async function atOnce(dir: string, text: string, format = 'juniper-srx', vendorOptions: VendorOptions = { realm: 'cgn-a' }): Promise<string[]> {
  const file = path.join(dir, `once-${Math.random().toString(36).slice(2)}.log`);
  fs.writeFileSync(file, text);
  const db = file + '.db';
  const store = openSqliteStore(db);
  await ingest(store, [fileInput(file)], { format: VENDOR_PARSERS.find((p) => p.name === format)!, vendorOptions });
  store.close();
  return exported(db);
}

/** True when the last commit in `db` for `scope` has each of `files` read to its end (false while the store is being created). */
export function caughtUp(db: string, scope: string, files: readonly string[]): boolean {
  if (!fs.existsSync(db)) return false;
  let store: ReturnType<typeof openSqliteStore> | undefined;
  try {
    store = openSqliteStore(db, { readonly: true });
    const marks = store.followCheckpoints(scope);
    return files.every((f) => {
      const st = fs.statSync(f, { bigint: true });
      return marks.some((k) => k.inode === String(st.ino) && k.offset === Number(st.size));
    });
  } catch {
    return false;
  } finally {
    store?.close();
  }
}
