/** `npm start`: build the embedded demo operator and show what it holds. */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ingest } from '../ingest/ingest.js';
import { openInputs } from '../ingest/lines.js';
import { packagePath } from '../paths.js';
import { openSqliteStore } from '../store/sqlite.js';
import { formatReport, formatSummary } from './ingest.js';
import type { Io } from './io.js';

export async function runDemo(opts: { db: string }, io: Io): Promise<number> {
  mkdirSync(dirname(opts.db), { recursive: true, mode: 0o700 });
  const store = openSqliteStore(opts.db);
  try {
    const summary = await ingest(store, await openInputs([packagePath('fixtures', 'demo', 'records.ndjson')]), {
      onReject: (r) => formatReport(r).forEach((l) => io.stderr.write(l + '\n')),
    });
    io.stderr.write(formatSummary(summary) + '\n');
    const counts = await store.counts();
    io.stdout.write(`demo store ${opts.db}\n`);
    for (const [kind, n] of Object.entries(counts)) io.stdout.write(`  ${kind.padEnd(18)} ${String(n).padStart(8)}\n`);
    return summary.rejectedLines > 0 ? 1 : 0;
  } finally {
    store.close();
  }
}
