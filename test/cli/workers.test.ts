/**
 * The worker pool of `ipar resolve --workers N` (src/cli/workers.ts): order, the bound
 * on batches in flight, and faults. The workers here are a scripted stand-in speaking
 * the same protocol (test/cli/fixtures/scripted-worker.mjs: vitest runs TypeScript, which
 * a worker thread cannot load); the real worker runs in test/cli/workers-cli.test.ts.
 */
import { Readable } from 'node:stream';
import { BroadcastChannel } from 'node:worker_threads';
import { describe, expect, test } from 'vitest';
import type { Input } from '../../src/ingest/lines.js';
import { main } from '../../src/cli.js';
import { IparError } from '../../src/problems.js';
import { defaultWorkers, inWorkers, ResolveWorkers, type AnsweredBatch } from '../../src/cli/workers.js';
import { captureIo } from '../support/index.js';

const SCRIPT = new URL('./fixtures/scripted-worker.mjs', import.meta.url);

/** `batches` batches of `size` lines ("L1", "L2", …), one chunk per batch; `reads` counts the chunks asked for. */
function numberedInput(batches: number, size: number): Input & { reads: () => number } {
  let reads = 0;
  let next = 1;
  const stream = new Readable({
    objectMode: true,
    highWaterMark: 1,
    read() {
      reads++;
      if (reads > batches) return void this.push(null);
      this.push(Array.from({ length: size }, () => `L${next++}\n`).join(''));
    },
  });
  return { name: 'requests', stream: () => stream, reads: () => reads };
}

const start = (db: string, count = 2) => ResolveWorkers.start({ db, action: 'resolve', pretty: false }, count, SCRIPT);

async function collect(batches: AsyncIterable<AnsweredBatch>): Promise<AnsweredBatch[]> {
  const out: AnsweredBatch[] = [];
  for await (const b of batches) out.push(b);
  return out;
}

describe('resolve workers: batches in input order', () => {
  test('the first batch answered last still comes out first; every line once, with its line number', async () => {
    const name = `order-${process.pid}`;
    const pool = await start(`echo:${name}`);
    try {
      const out = await collect(inWorkers(pool, numberedInput(6, 3), { batchSize: 3 }));
      expect(out.map((b) => b.lines)).toEqual([
        [1, 2, 3],
        [4, 5, 6],
        [7, 8, 9],
        [10, 11, 12],
        [13, 14, 15],
        [16, 17, 18],
      ]);
      expect(out.map((b) => b.output.text).join('')).toBe(Array.from({ length: 18 }, (_, i) => `L${i + 1}\n`).join(''));
    } finally {
      await pool.close();
    }
  });

  test('reading stops while 2 batches per worker are out: memory stays bounded', async () => {
    const name = `bound-${process.pid}`;
    const channel = new BroadcastChannel(name);
    const pool = await start(`hold:${name}`);
    const input = numberedInput(20, 5);
    let handed = 0;
    let mostAhead = 0;
    let received = 0;
    const watch = (): void => void (mostAhead = Math.max(mostAhead, input.reads() - handed));
    // The workers answer nothing until 4 batches (2 × 2 workers) are with them.
    channel.onmessage = () => {
      watch();
      if (++received === 4) channel.postMessage('release');
    };
    try {
      const out: AnsweredBatch[] = [];
      for await (const b of inWorkers(pool, input, { batchSize: 5 })) {
        watch();
        handed++;
        out.push(b);
      }
      expect(out.flatMap((b) => b.lines)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
      // Chunks read ahead of what was handed out: the 4 batches out, the one being
      // formed, and what the stream buffers (a read-everything reader reaches 20).
      expect(mostAhead).toBeGreaterThanOrEqual(4);
      expect(mostAhead).toBeLessThanOrEqual(4 + 3);
    } finally {
      channel.close();
      await pool.close();
    }
  });
});

describe('resolve workers: a fault fails the run at its batch, never later batches first', () => {
  test.each([
    ['a worker ends its thread', 'exit-at:2', { code: 'WORKER_FAILED', message: /resolve worker \d stopped \(exit code 7\)/ }],
    ['a worker throws outside a batch', 'throw-at:2', { code: 'WORKER_FAILED', message: /resolve worker \d failed: the worker broke/ }],
    ['the store fails under a worker', 'fault-at:2', { code: 'STORE_READ_FAILED', message: /disk I\/O error/ }],
  ])('%s: batches 0 and 1 come out, then the error; nothing after', async (_, script, expected) => {
    const pool = await start(script);
    const out: AnsweredBatch[] = [];
    let error: unknown = null;
    try {
      for await (const b of inWorkers(pool, numberedInput(8, 2), { batchSize: 2 })) out.push(b);
    } catch (e) {
      error = e;
    } finally {
      await pool.terminate();
    }
    expect(out.map((b) => b.lines)).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(error).toBeInstanceOf(IparError);
    expect(error).toMatchObject({ code: expected.code });
    expect((error as Error).message).toMatch(expected.message);
  });

  test('a worker that cannot open the store fails the start with its error', async () => {
    const error = await ResolveWorkers.start({ db: 'cannot-open', action: 'resolve', pretty: false }, 3, SCRIPT).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IparError);
    expect(error).toMatchObject({ code: 'STORE_NOT_FOUND', message: 'no store at /nowhere.db' });
  });

  test('after a fault, a new batch is refused at once', async () => {
    const pool = await start('exit-at:0', 1);
    try {
      await expect(pool.run([{ text: 'x', line: 1, chars: 1 }])).rejects.toMatchObject({ code: 'WORKER_FAILED' });
      await expect(pool.run([{ text: 'y', line: 2, chars: 1 }])).rejects.toMatchObject({ code: 'WORKER_FAILED' });
    } finally {
      await pool.terminate();
    }
  });
});

describe('resolve workers from the TypeScript sources (no compiled worker entry)', () => {
  test('the default is 1 (this thread), and --workers 2 is refused before anything is read (exit 2)', async () => {
    expect(defaultWorkers()).toBe(1);
    const io = captureIo('{"ref":"A"}\n');
    expect(await main(['resolve', '--db', 'unused.db', '--workers', '2'], io)).toBe(2);
    expect(io.err()).toMatch(/^ipar: WORKERS_UNAVAILABLE: no compiled worker entry at .*resolve-worker\.js \(run npm run build, or give --workers 1\)\n$/);
    expect(io.out()).toBe('');
  });
});
