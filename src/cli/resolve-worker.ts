/**
 * A worker thread of `ipar resolve --workers N` (and `estimate`): it opens its own
 * read-only connection to the store, resolves the batches the main thread sends, one at
 * a time in the order they came, and answers each with what to print and audit
 * (src/cli/batch.ts). It writes nothing — no output, no audit: the main thread does, in
 * input order (src/cli/workers.ts has the protocol).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { IparError } from '../problems.js';
import { openStore, type Store } from '../store/open.js';
import { resolveLines, type RequestLine } from './batch.js';
import type { Fault, FromWorker, ToWorker, WorkerSetup } from './workers.js';

function faultOf(error: unknown): Fault {
  if (error instanceof IparError) return { code: error.code, message: error.message };
  if (error instanceof Error) return { code: null, message: error.message, ...(error.stack === undefined ? {} : { stack: error.stack }) };
  return { code: null, message: String(error) };
}

function serve(port: NonNullable<typeof parentPort>, setup: WorkerSetup): void {
  const send = (message: FromWorker): void => port.postMessage(message);
  let store: Store;
  try {
    store = openStore(setup.db, { readonly: true });
  } catch (error) {
    send({ kind: 'failed', fault: faultOf(error) });
    return; // no listener: the thread ends
  }
  // One batch at a time: the store is one connection, and answers keep the order asked.
  let queue = Promise.resolve();
  port.on('message', (message: ToWorker) => {
    queue = queue.then(async () => {
      if (message.kind === 'close') {
        try {
          await store.close();
          send({ kind: 'closed' });
        } catch (error) {
          send({ kind: 'failed', fault: faultOf(error) });
        }
        port.close();
        return;
      }
      try {
        const lines: RequestLine[] = message.texts.map((text) => ({ text }));
        for (const [index, length] of message.cut) lines[index] = { text: message.texts[index]!, length };
        send({ kind: 'done', id: message.id, output: await resolveLines(store, setup.action, setup.pretty, lines) });
      } catch (error) {
        send({ kind: 'fault', id: message.id, fault: faultOf(error) });
      }
    });
  });
  send({ kind: 'ready' });
}

if (parentPort === null) throw new Error('src/cli/resolve-worker.ts runs in a worker thread (started by src/cli/workers.ts)');
serve(parentPort, workerData as WorkerSetup);
