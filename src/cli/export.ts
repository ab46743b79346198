/**
 * `ipar export`: a store's records as canonical NDJSON on stdout, kind by kind, as
 * `ipar ingest` reads them back — to inspect a store, check it against the devices'
 * lines, or move it to another backend (`ipar export --db a.db | ipar ingest --store
 * clickhouse://… -`).
 */
import { RECORD_KINDS, toWritten, type RecordKind } from '../records.js';
import { IparError } from '../problems.js';
import { Progress } from '../progress.js';
import { openStore } from '../store/open.js';
import type { StoredRecord } from '../store/types.js';
import { parseInstant } from '../time.js';
import { writeOut, type Io } from './io.js';

export interface ExportCommand {
  readonly db: string;
  /** Kinds to export (all when empty). */
  readonly kinds: readonly string[];
  readonly from?: string;
  readonly to?: string;
}

function instant(option: string, text: string | undefined, otherwise: number): number {
  if (text === undefined) return otherwise;
  const r = parseInstant(text);
  if (!r.ok) throw new IparError('USAGE', `${option}: ${r.message}`);
  return r.value.ms;
}

/** The record as written, without the store's id (ingest makes it again from the natural key). */
function line(record: StoredRecord): string {
  const { id: _id, ...rest } = record as StoredRecord & { id?: string };
  return JSON.stringify(toWritten(rest as never));
}

/** Exit 0; a store or output fault throws (exit 2). The count per kind goes to stderr. */
export async function runExport(cmd: ExportCommand, io: Io): Promise<number> {
  for (const k of cmd.kinds) {
    if (!(RECORD_KINDS as readonly string[]).includes(k))
      throw new IparError('USAGE', `--kind ${JSON.stringify(k)} is not a record kind; use one of: ${RECORD_KINDS.join(', ')}`);
  }
  const start = instant('--from', cmd.from, -Infinity);
  const end = instant('--to', cmd.to, Infinity);
  if (!(start < end)) throw new IparError('USAGE', `--from ${cmd.from} is not before --to ${cmd.to}`);
  const kinds = (cmd.kinds.length === 0 ? RECORD_KINDS : RECORD_KINDS.filter((k) => cmd.kinds.includes(k))) as readonly RecordKind[];
  const store = openStore(cmd.db, { readonly: true });
  const counts: Partial<Record<RecordKind, number>> = {};
  const progress = new Progress('export records', io.stderr);
  let total = 0;
  try {
    for await (const batch of store.exportRecords({ kinds, window: { start, end } })) {
      let text = '';
      for (const r of batch) {
        text += line(r) + '\n';
        counts[r.kind] = (counts[r.kind] ?? 0) + 1;
      }
      await writeOut(io, text);
      total += batch.length;
      progress.tick(total);
    }
  } finally {
    await store.close();
  }
  progress.done();
  io.stderr.write(
    `export: ${
      Object.entries(counts)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ') || 'no records'
    }\n`,
  );
  return 0;
}
