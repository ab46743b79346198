/** `npm start`: build the embedded demo operator, resolve the demo requests, show the table. */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ingest } from '../ingest/ingest.js';
import { openInputs } from '../ingest/lines.js';
import { packagePath } from '../paths.js';
import { openSqliteStore } from '../store/sqlite.js';
import { formatReport, formatSummary } from './ingest.js';
import type { Io } from './io.js';
import { runResolve } from './resolve.js';

export async function runDemo(opts: { db: string }, io: Io): Promise<number> {
  mkdirSync(dirname(opts.db), { recursive: true, mode: 0o700 });
  const store = openSqliteStore(opts.db);
  try {
    const summary = await ingest(store, await openInputs([packagePath('fixtures', 'demo', 'records.ndjson')]), {
      onReject: (r) => formatReport(r).forEach((l) => io.stderr.write(l + '\n')),
    });
    io.stderr.write(formatSummary(summary) + '\n');
    if (summary.rejectedLines > 0) return 1;
  } finally {
    store.close();
  }
  const requests = packagePath('fixtures', 'demo', 'requests.ndjson');
  io.stdout.write(`demo operator in ${opts.db}; resolving ${requests}\n\n`);
  const code = await runResolve({ db: opts.db, file: requests, pretty: true }, io);
  // The demo requests include one invalid request on purpose, to show how it is reported.
  return code === 1 ? 0 : code;
}
