/**
 * Helpers for the reliability tests: captured CLI streams (text or raw bytes), a built
 * CLI for child-process tests, and a logical digest of a store's contents.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import Database from 'better-sqlite3';
import { main } from '../../src/cli.js';
import type { Io } from '../../src/cli/io.js';
import { packagePath, PACKAGE_ROOT } from '../../src/paths.js';
import { openAuditLog } from '../../src/store/sqlite/audit.js';
import type { AuditEntry } from '../../src/audit/types.js';
import { tempDir } from '../helpers.js';

export type CapturedIo = Io & { out: () => string; err: () => string };

/** Streams for `main`: stdin from text or bytes (one chunk, or several), stdout/stderr captured. */
export function captureIo(stdin: string | Buffer | readonly (string | Buffer)[] = ''): CapturedIo {
  let out = '';
  let err = '';
  const chunks = Array.isArray(stdin) ? [...stdin] : [stdin];
  return {
    stdin: Readable.from(chunks.filter((c) => c.length > 0)),
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    out: () => out,
    err: () => err,
  };
}

/** The demo operator's records, ingested into a fresh store; returns its path. */
export async function demoStore(dir = tempDir()): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const db = join(dir, 'store.db');
  const code = await main(['ingest', '--db', db, packagePath('fixtures', 'demo', 'records.ndjson')], captureIo());
  if (code !== 0) throw new Error(`demo ingest exited ${code}`);
  return db;
}

/** NDJSON output as values. */
export function ndjson<T = Record<string, unknown>>(text: string): T[] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as T);
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
      execFileSync(process.execPath, [packagePath('node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: PACKAGE_ROOT, stdio: 'pipe' });
      writeFileSync(stamp, new Date().toISOString() + '\n');
    }
  } finally {
    rmdirSync(lock);
  }
  return cli;
}

/**
 * A digest of everything a store holds, by value (names, not interned ids): two stores
 * with the same records, bounds and settings have the same digest, whatever order or
 * how many runs wrote them. Also the per-table row counts.
 */
export function storeDigest(file: string): { digest: string; counts: Record<string, number> } {
  const db = new Database(file, { readonly: true });
  try {
    const queries: Record<string, string> = {
      meta: 'SELECT key, value FROM meta',
      address_space: 'SELECT hex(s.addr), s.plen, s.role, r.name FROM address_space s JOIN realm r ON r.id = s.realm',
      account: 'SELECT name, type FROM account',
      allocation: `SELECT r.name, hex(a.addr), a.plen, a.start, c.name, a."end", s.name, a.end_inferred, d.imsi, d.msisdn, d.imei, d.mac, a.session_id
        FROM allocation a JOIN realm r ON r.id = a.realm JOIN account c ON c.id = a.account JOIN source s ON s.id = a.source JOIN device d ON d.id = a.device`,
      nat_block: 'SELECT hex(b.out_addr), b.port_first, b.start, r.name, hex(b.in_addr), b.protocol, b.port_last, b."end", b.end_inferred FROM nat_block b JOIN realm r ON r.id = b.realm',
      nat_session: 'SELECT hex(n.out_addr), n.out_port, n.start, n.protocol, r.name, hex(n.in_addr), n.in_port, hex(n.dst_addr), n.dst_port, n."end", n.end_inferred FROM nat_session n JOIN realm r ON r.id = n.realm',
      nat_deterministic: 'SELECT hex(d.out_addr), d.plen, d.start, r.name, d."end", d.record FROM nat_deterministic d JOIN realm r ON r.id = d.realm',
      coverage: 'SELECT s.name, c.start, c.status, c."end" FROM coverage c JOIN source s ON s.id = c.source',
      device: "SELECT imsi, msisdn, imei, mac FROM device WHERE id <> 0",
    };
    const hash = createHash('sha256');
    const counts: Record<string, number> = {};
    for (const [table, sql] of Object.entries(queries)) {
      const rows = (db.prepare(sql).raw().all() as unknown[][]).map((r) => JSON.stringify(r)).sort();
      counts[table] = rows.length;
      hash.update(`${table}\n${rows.join('\n')}\n`);
    }
    return { digest: hash.digest('hex'), counts };
  } finally {
    db.close();
  }
}

/** `PRAGMA integrity_check` of a store file: `['ok']` when sound. */
export function integrity(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return (db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check);
  } finally {
    db.close();
  }
}

/** Run SQL on a database file directly (to tamper with an audit log in a test). */
export function withDatabase<T>(file: string, fn: (db: Database.Database) => T): T {
  const db = new Database(file);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** Records committed so far in a store another process is writing; `-1` while it is not readable yet. */
export function committedRecords(file: string): number {
  if (!existsSync(file)) return -1;
  try {
    const db = new Database(file, { readonly: true, timeout: 0 });
    try {
      const row = db.prepare('SELECT (SELECT count(*) FROM address_space) + (SELECT count(*) FROM allocation) + (SELECT count(*) FROM nat_block) AS n').get() as { n: number };
      return row.n;
    } finally {
      db.close();
    }
  } catch {
    return -1; // not a database yet, no tables yet, or busy: ask again
  }
}

/** Every entry of an audit log file, oldest first. */
export function entriesOf(file: string): AuditEntry[] {
  const log = openAuditLog(file, { readonly: true });
  try {
    return [...log.entries()];
  } finally {
    log.close();
  }
}

/** Why a file-mode test cannot be made in this checkout (see {@link otherUser}). */
export const NO_OTHER_USER = 'running as root, and the unprivileged user cannot run the built CLI from this checkout (a parent directory only root may enter, as mktemp -d makes): file modes cannot bind here';

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
