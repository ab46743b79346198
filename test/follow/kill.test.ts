/**
 * `ipar ingest --follow` killed with SIGKILL at random moments (seeded by FC_SEED) while a
 * writer appends to a log that rotates by rename, restarted each time: at the end the
 * store holds exactly the records of the same lines ingested at once (`ipar export`) —
 * none lost, none doubled — and a SIGTERM ends the last follower with exit 0. The
 * follower is the built CLI, in its own process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { srxLine } from '../../bench/follow.js';
import { Rng } from '../../nat/random.js';
import { pairingScope } from '../../src/ingest/ingest.js';
import { FC_SEED, builtCli, tempDir } from '../support/index.js';
import { atOnce, caughtUp, exported, until } from './support.js';

const LINES = 24_000;
/** Lines a file takes before it is renamed away (srx.log → srx.log.N) and a new one begun. */
const ROTATE_EVERY = 5000;
const KILLS = 6;
const SCOPE = pairingScope('juniper-srx', { realm: 'cgn-a' });

let cli = '';
beforeAll(() => {
  cli = builtCli();
});

function follower(db: string, dir: string): { child: ChildProcess; exit: Promise<{ code: number | null; signal: string | null }>; stderr: () => string } {
  const child = spawn(
    process.execPath,
    [cli, 'ingest', '--follow', '--db', db, '--format', 'juniper-srx', '--realm', 'cgn-a', '--flush-interval', '100', path.join(dir, 'srx.log*')],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, exit, stderr: () => err };
}

/** Every file of `dir` read to its end by the last commit. */
function caughtUpAll(db: string, dir: string): boolean {
  return caughtUp(
    db,
    SCOPE,
    fs
      .readdirSync(dir)
      .filter((n) => n.startsWith('srx.log'))
      .map((n) => path.join(dir, n)),
  );
}

describe('ingest --follow under kill -9', () => {
  it(`killed ${KILLS} times at random moments (seed ${FC_SEED}) during a rotating stream: the records of a clean run`, async () => {
    const rng = new Rng(FC_SEED);
    const dir = tempDir();
    const logs = path.join(dir, 'logs');
    fs.mkdirSync(logs);
    const db = path.join(dir, 'follow.db');
    const log = path.join(logs, 'srx.log');

    // The writer: chunks of lines every few ms, rotating by rename.
    let written = 0;
    let rotations = 0;
    const writing = (async () => {
      fs.writeFileSync(log, '');
      while (written < LINES) {
        const n = Math.min(150 + rng.int(300), LINES - written);
        let text = '';
        for (let i = 0; i < n; i++) text += srxLine(written + i) + '\n';
        fs.appendFileSync(log, text);
        written += n;
        if (Math.floor(written / ROTATE_EVERY) > rotations && written < LINES) {
          rotations++;
          fs.renameSync(log, path.join(logs, `srx.log.${rotations}`));
          fs.writeFileSync(log, '');
        }
        await new Promise((r) => setTimeout(r, 60 + rng.int(60)));
      }
    })();

    let kills = 0;
    for (; kills < KILLS; kills++) {
      const f = follower(db, logs);
      await new Promise((r) => setTimeout(r, 400 + rng.int(1200)));
      f.child.kill('SIGKILL');
      expect((await f.exit).signal).toBe('SIGKILL');
    }
    await writing;
    expect(rotations).toBe(Math.floor((LINES - 1) / ROTATE_EVERY));

    const last = follower(db, logs);
    await until('the last follower to catch up', () => caughtUpAll(db, logs), 60_000);
    last.child.kill('SIGTERM');
    const exit = await last.exit;
    expect(exit, last.stderr()).toEqual({ code: 0, signal: null });
    expect(last.stderr()).toMatch(/^ingest: \d+ lines/m);

    // The clean run: every line, in order, ingested at once.
    const expected = await atOnce(dir, Array.from({ length: LINES }, (_, i) => srxLine(i) + '\n').join(''));
    expect(expected.length).toBeGreaterThan(5000);
    expect(await exported(db)).toEqual(expected);
  }, 180_000);
});
