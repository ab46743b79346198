/**
 * A real syslog daemon in front of the follower (issue 16 item 3): rsyslogd, run
 * unprivileged with docs/deploy/rsyslog.conf (its paths and port replaced by a temp
 * directory and a free loopback port), receives SRX lines over UDP and then TCP and
 * writes them to hourly files (by the lines' own time); `ipar ingest --follow`, started
 * with the ExecStart of docs/deploy/ipar-follow.service, reads the files while they are
 * written and rotated. The stored records equal those of the same lines ingested at
 * once, and the files hold exactly the lines sent. Without rsyslogd the test skips
 * saying why, except in CI (`CI=true`), where `.ci/run` installs it and it must run.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { srxLine, type SrxShape } from '../../bench/follow.js';
import { pairingScope } from '../../src/ingest/ingest.js';
import { packagePath } from '../../src/paths.js';
import { builtCli, tempDir } from '../support/index.js';
import { atOnce, caughtUp, exported, until } from './support.js';

const RSYSLOGD = ['/usr/sbin/rsyslogd', '/usr/bin/rsyslogd'].find((p) => fs.existsSync(p)) ?? null;
const MISSING = 'rsyslogd is not installed (Debian package rsyslog; .ci/run installs it in CI)';
if (RSYSLOGD === null && process.env['CI'] === 'true') throw new Error(`CI: ${MISSING}`);
if (RSYSLOGD === null) console.warn(`skipping the rsyslog test: ${MISSING}`);

/** About 3.3 hours of log time in 1800 lines: four hourly files. */
const SHAPE: SrxShape = { stepMs: 20_000, openSessions: 50, openBlocks: 20 };
const LINES = 1800;
const lines = Array.from({ length: LINES }, (_, i) => srxLine(i, SHAPE));

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

let cli = '';
beforeAll(() => {
  if (RSYSLOGD !== null) cli = builtCli();
});

/** A loopback port free for both UDP and TCP just now. */
async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
      s.once('error', reject);
    });
    const udp = dgram.createSocket('udp4');
    const ok = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false));
      udp.bind(port, '127.0.0.1', () => resolve(true));
    });
    await new Promise<void>((resolve) => udp.close(() => resolve()));
    if (ok) return port;
  }
}

/** The words of a systemd ExecStart line (double quotes group, as systemd splits it). */
function words(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

function lineCount(dir: string): number {
  return fs
    .readdirSync(dir)
    .filter((n) => n.endsWith('.log'))
    .reduce((n, f) => n + fs.readFileSync(path.join(dir, f), 'utf8').split('\n').length - 1, 0);
}

describe.skipIf(RSYSLOGD === null)('rsyslog writes hourly files, ingest --follow reads them as they grow', () => {
  it('UDP then TCP lines, through rsyslogd and its rotated files: the records of the same lines ingested at once', async () => {
    const root = tempDir();
    fs.chmodSync(root, 0o755);
    const work = path.join(root, 'rsyslog');
    const logs = path.join(root, 'log');
    const state = path.join(root, 'lib');
    for (const d of [work, logs, state]) fs.mkdirSync(d, { mode: 0o777 });
    for (const d of [work, logs]) fs.chmodSync(d, 0o777); // rsyslogd runs as nobody when the tests run as root
    const port = await freePort();
    const conf = path.join(root, 'rsyslog.conf');
    const docConf = fs.readFileSync(packagePath('docs', 'deploy', 'rsyslog.conf'), 'utf8');
    expect(docConf).toContain('/var/lib/rsyslog-ipar');
    fs.writeFileSync(conf, docConf.replaceAll('/var/lib/rsyslog-ipar', work).replaceAll('/var/log/ipar', logs).replaceAll('"5514"', `"${port}"`), {
      mode: 0o644,
    });
    const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const check = spawnSync(RSYSLOGD!, ['-N1', '-f', conf], { encoding: 'utf8', ...asNobody });
    expect(check.status, check.stderr + check.stdout).toBe(0);
    const rsyslog = spawn(RSYSLOGD!, ['-n', '-f', conf, '-i', path.join(work, 'rsyslogd.pid')], { stdio: ['ignore', 'pipe', 'pipe'], ...asNobody });
    children.push(rsyslog);
    let rsyslogOut = '';
    rsyslog.stdout!.on('data', (d: Buffer) => (rsyslogOut += d.toString()));
    rsyslog.stderr!.on('data', (d: Buffer) => (rsyslogOut += d.toString()));
    await until(
      'rsyslogd listening on TCP',
      () =>
        new Promise<boolean>((resolve) => {
          const s = net.connect(port, '127.0.0.1', () => (s.destroy(), resolve(true)));
          s.once('error', () => resolve(false));
        }),
    );

    // The follower, as the systemd unit starts it.
    const unit = fs.readFileSync(packagePath('docs', 'deploy', 'ipar-follow.service'), 'utf8');
    const exec = /^ExecStart=(.*)$/m.exec(unit)![1]!;
    const argv = words(exec).map((w) => w.replaceAll('/var/lib/ipar', state).replaceAll('/var/log/ipar', logs));
    expect(argv[0]).toBe('/usr/bin/ipar');
    const follower = spawn(process.execPath, [cli, ...argv.slice(1)], { stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(follower);
    let followErr = '';
    follower.stderr!.on('data', (d: Buffer) => (followErr += d.toString()));
    const followed = new Promise<number | null>((resolve) => follower.once('exit', (code) => resolve(code)));

    // The first half over UDP, paced (loopback does not drop at this rate), then the rest over TCP.
    const half = LINES / 2;
    const udp = dgram.createSocket('udp4');
    for (let i = 0; i < half; i++) {
      await new Promise<void>((resolve, reject) => udp.send(lines[i]!, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
      if (i % 50 === 49) await new Promise((r) => setTimeout(r, 5));
    }
    udp.close();
    await until('rsyslogd to write the UDP lines', () => lineCount(logs) === half);
    const tcp = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => tcp.once('connect', () => resolve()));
    for (let i = half; i < LINES; i += 100) {
      tcp.write(
        lines
          .slice(i, i + 100)
          .map((l) => l + '\n')
          .join(''),
      );
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise<void>((resolve) => tcp.end(() => resolve()));
    await until('rsyslogd to write the TCP lines', () => lineCount(logs) === LINES);

    // Rotated: one file per hour of log time, and together exactly the lines sent.
    const files = fs
      .readdirSync(logs)
      .filter((n) => n.endsWith('.log'))
      .sort();
    expect(files.length).toBeGreaterThanOrEqual(4);
    expect(files.flatMap((f) => fs.readFileSync(path.join(logs, f), 'utf8').split('\n').slice(0, -1))).toEqual(lines);

    const db = path.join(state, 'ipar.db');
    const scope = pairingScope('juniper-srx', { realm: 'cgn-a' });
    await until('the follower to read every file to its end', () =>
      caughtUp(
        db,
        scope,
        files.map((f) => path.join(logs, f)),
      ),
    );
    follower.kill('SIGTERM');
    expect(await followed, followErr).toBe(0);
    rsyslog.kill('SIGTERM');
    await new Promise((resolve) => rsyslog.once('exit', resolve));
    expect(rsyslogOut).not.toMatch(/error/i);

    const expected = await atOnce(root, lines.map((l) => l + '\n').join(''));
    expect(expected.length).toBeGreaterThan(500);
    expect(await exported(db)).toEqual(expected);
  }, 120_000);
});
