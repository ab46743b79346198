/** The built CLI for child-process tests, the demo store, and who a child runs as. */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../src/cli.js';
import { packagePath, PACKAGE_ROOT } from '../../src/paths.js';
import { captureIo } from './io.js';
import { tempDir } from './stores.js';

/** The demo operator's records, ingested into a fresh store; returns its path. */
export async function demoStore(dir = tempDir()): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const db = join(dir, 'store.db');
  const code = await main(['ingest', '--db', db, packagePath('fixtures', 'demo', 'records.ndjson')], captureIo());
  if (code !== 0) throw new Error(`demo ingest exited ${code}`);
  return db;
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * The built CLI (`dist/src/cli.js`), rebuilt with `tsc -p tsconfig.build.json` when a
 * source is newer than the last build. Test files run in parallel processes: a lock
 * directory makes one build at a time.
 */
export function builtCli(): string {
  const dist = packagePath('dist');
  const cli = join(dist, 'src', 'cli.js');
  const stamp = join(dist, '.tests-built');
  const lock = join(dist, '.build-lock');
  mkdirSync(dist, { recursive: true });
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A build takes seconds; a lock older than three minutes was left by a killed run.
      const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 180_000) rmSync(lock, { recursive: true, force: true });
      else sleepMs(100);
    }
  }
  try {
    const newest = Math.max(...['src', 'matcher', 'nat', 'bench'].map((d) => newestSource(packagePath(d))), statSync(packagePath('tsconfig.json')).mtimeMs);
    if (!existsSync(cli) || !existsSync(stamp) || statSync(stamp).mtimeMs < newest) {
      execFileSync(process.execPath, [packagePath('node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], {
        cwd: PACKAGE_ROOT,
        stdio: 'pipe',
      });
      writeFileSync(stamp, new Date().toISOString() + '\n');
    }
  } finally {
    rmdirSync(lock);
  }
  return cli;
}

/** Why a file-mode test cannot be made in this checkout (see {@link otherUser}). */
export const NO_OTHER_USER =
  'running as root, and the unprivileged user cannot run the built CLI from this checkout (a parent directory only root may enter, as mktemp -d makes): file modes cannot bind here';

/**
 * Spawn options under which file modes bind a child `ipar`: as root (who ignores modes),
 * run it as nobody (65534); as anyone else, as themselves. `null` when root and nobody
 * cannot run the built CLI here (the checkout sits below a directory only root may
 * enter): a test of file modes then has nothing to show and should skip, saying why.
 */
export function otherUser(cli: string): { uid?: number; gid?: number } | null {
  if (process.getuid?.() !== 0) return {};
  const nobody = { uid: 65534, gid: 65534 };
  return spawnSync(process.execPath, [cli, '--help'], { ...nobody, stdio: 'ignore' }).status === 0 ? nobody : null;
}
