/**
 * `ipar convert`: what an import would store, without a store. The lines go through the
 * same reading, importers and validation as `ipar ingest` (src/ingest/ingest.ts); the
 * records come out as canonical NDJSON on stdout, the problems on stderr.
 */
import { ingest, type IngestOptions } from '../ingest/ingest.js';
import { openInputs } from '../ingest/lines.js';
import type { VendorOptions, VendorParser } from '../ingest/vendors/types.js';
import { Progress } from '../progress.js';
import { toWritten, type CanonicalRecord, type RecordKind } from '../records.js';
import type { StoreWriter, WriteSummary } from '../store/types.js';
import { formatReport } from './ingest.js';
import { writeOut, type Io } from './io.js';

export interface ConvertCommand {
  readonly files: readonly string[];
  readonly format: 'canonical' | 'auto' | VendorParser;
  readonly parsers: readonly VendorParser[];
  readonly vendorOptions: VendorOptions;
}

/**
 * A "store" that prints: each batch the ingest would write becomes NDJSON lines, in the
 * order the importer made them (a store would then merge repeats by natural key).
 */
function printer(io: Io, counts: Record<string, number>): StoreWriter {
  return {
    // No store: what the sources covered is the store's to keep, and there is none here.
    recordCoverage: () => undefined,
    async write(records: readonly CanonicalRecord[]): Promise<WriteSummary> {
      let text = '';
      for (const r of records) {
        text += JSON.stringify(toWritten(r)) + '\n';
        counts[r.kind] = (counts[r.kind] ?? 0) + 1;
        if (text.length >= 1 << 16) {
          await writeOut(io, text);
          text = '';
        }
      }
      if (text !== '') await writeOut(io, text);
      return { stored: {}, unchanged: {}, changed: new Uint8Array(records.length) };
    },
    close() {},
  };
}

/** Exit 0 when every line was read, 1 when some were rejected (they are on stderr). */
export async function runConvert(cmd: ConvertCommand, io: Io): Promise<number> {
  const inputs = await openInputs(cmd.files, io.stdin);
  const counts: Partial<Record<RecordKind, number>> = {};
  const progress = new Progress('convert lines', io.stderr);
  const options: IngestOptions = {
    format: cmd.format,
    parsers: cmd.parsers,
    vendorOptions: cmd.vendorOptions,
    // Records go out as they are made, a batch at a time (memory stays flat).
    batchSize: 4096,
    onReject: (report) => {
      for (const line of formatReport(report)) io.stderr.write(line + '\n');
    },
    onProgress: (lines) => progress.tick(lines),
  };
  const summary = await ingest(printer(io, counts), inputs, options);
  progress.done();
  const made =
    Object.entries(counts)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ') || 'none';
  io.stderr.write(`convert: ${summary.lines} lines; records ${made}; rejected lines ${summary.rejectedLines}\n`);
  return summary.rejectedLines > 0 ? 1 : 0;
}
