/**
 * Readers and writers that cannot be stale (issue 15 item 4), with the built CLI in child
 * processes: two ingests into a new store at once (the migration race, the longest-record
 * bound one of them would lower), and a long-running resolve that must find records an
 * ingest beside it stored after it opened, whose bounds (longest record, prefix length,
 * realm) it had not seen.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { tempDir, builtCli } from '../support/index.js';

interface Exit {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(cli: string, args: readonly string[]): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const DAY = 86_400_000;
const T0 = Date.parse('2026-03-01T00:00:00Z');
const iso = (ms: number): string => new Date(ms).toISOString();

/** Many one-hour DHCP allocations on 198.51.100.0/24, written in many small batches. */
function shortLeases(n: number): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const start = T0 + Math.floor(i / 200) * 3_600_000;
    lines.push(
      JSON.stringify({
        kind: 'allocation',
        account: `ACC-S${i % 97}`,
        ip: `198.51.100.${i % 200}`,
        start: iso(start),
        end: iso(start + 3_600_000),
        source: 'dhcp',
      }),
    );
  }
  return lines.join('\n') + '\n';
}

/** One allocation of 40 days: the longest record of the store. */
function longLease(ip: string, account: string, extra: object = {}): string {
  return JSON.stringify({ kind: 'allocation', account, ip, start: iso(T0), end: iso(T0 + 40 * DAY), source: 'static-ish', ...extra }) + '\n';
}

function request(ref: string, ip: string, time: number): string {
  return JSON.stringify({ ref, observations: [{ sourceIp: ip, time: iso(time) }], returnPolicy: 'allow-multiple' }) + '\n';
}

const BATCH = 512;

/** A resolve that keeps running: requests written one at a time, each result awaited. */
class LiveResolve {
  readonly #child: ChildProcessWithoutNullStreams;
  #buffer = '';
  #waiting: ((line: string) => void)[] = [];
  #lines: string[] = [];
  stderr = '';

  constructor(cli: string, db: string) {
    this.#child = spawn(process.execPath, [cli, 'resolve', '--db', db, '-']);
    this.#child.stdout.on('data', (d: Buffer) => {
      this.#buffer += d.toString();
      for (let nl = this.#buffer.indexOf('\n'); nl >= 0; nl = this.#buffer.indexOf('\n')) {
        const line = this.#buffer.slice(0, nl);
        this.#buffer = this.#buffer.slice(nl + 1);
        const w = this.#waiting.shift();
        if (w !== undefined) w(line);
        else this.#lines.push(line);
      }
    });
    this.#child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
  }

  #next(): Promise<string> {
    const ready = this.#lines.shift();
    return ready !== undefined ? Promise.resolve(ready) : new Promise<string>((r) => this.#waiting.push(r));
  }

  /** The request as one whole batch (resolve closes a batch at 512 requests, BATCH_SIZE in src/audit/audited.ts), its first result. */
  async ask(text: string): Promise<Record<string, unknown>> {
    this.#child.stdin.write(text.repeat(BATCH));
    const lines: string[] = [];
    for (let i = 0; i < BATCH; i++) lines.push(await this.#next());
    expect(new Set(lines.map((l) => (JSON.parse(l) as { status: string }).status)).size).toBe(1);
    return JSON.parse(lines[0]!) as Record<string, unknown>;
  }

  end(): Promise<number | null> {
    return new Promise((resolve) => {
      this.#child.on('close', (code) => resolve(code));
      this.#child.stdin.end();
    });
  }
}

describe('concurrent ingests and a long-running resolve (child processes, the built CLI)', () => {
  test('two ingests into a new store at once: both succeed, and the longest record stays findable', { timeout: 120_000 }, async () => {
    const cli = builtCli();
    for (let round = 0; round < 3; round++) {
      const dir = tempDir();
      const db = join(dir, 'new.db');
      const many = join(dir, 'many.ndjson');
      const one = join(dir, 'one.ndjson');
      writeFileSync(many, shortLeases(6000));
      writeFileSync(one, longLease('192.0.2.77', 'ACC-LONG'));
      // The big one opens first and writes 60 batches; the long record commits among them.
      const [a, b] = await Promise.all([run(cli, ['ingest', '--db', db, '--batch-size', '100', many]), run(cli, ['ingest', '--db', db, one])]);
      expect(a.stderr).not.toMatch(/already exists|SQLITE_BUSY|locked/);
      expect(b.stderr).not.toMatch(/already exists|SQLITE_BUSY|locked/);
      expect([a.code, b.code]).toEqual([0, 0]);
      const reqs = join(dir, 'req.ndjson');
      // 30 days into a 40-day allocation: found only when the store's look-back bound is its length.
      writeFileSync(reqs, request('LONG', '192.0.2.77', T0 + 30 * DAY) + request('SHORT', '198.51.100.5', T0 + 5 * 3_600_000 + 60_000));
      const r = await run(cli, ['resolve', '--db', db, reqs]);
      expect(r.code).toBe(0);
      const results = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { ref: string; status: string; candidates: { account: string }[] });
      expect(results.map((x) => [x.ref, x.status])).toEqual([
        ['LONG', 'unique'],
        ['SHORT', 'unique'],
      ]);
      expect(results[0]!.candidates[0]!.account).toBe('ACC-LONG');
    }
  });

  test('a resolve running beside an ingest finds what was stored after it opened (bounds, prefix lengths, realms)', { timeout: 120_000 }, async () => {
    const cli = builtCli();
    const dir = tempDir();
    const db = join(dir, 'store.db');
    const first = join(dir, 'first.ndjson');
    writeFileSync(first, shortLeases(50));
    expect((await run(cli, ['ingest', '--db', db, first])).code).toBe(0);

    const live = new LiveResolve(cli, db);
    const before = await live.ask(request('BEFORE', '198.51.100.5', T0 + 60_000));
    expect(before['status']).toBe('unique');
    const missing = await live.ask(request('NOT-YET', '192.0.2.77', T0 + 30 * DAY));
    expect(missing['status']).toBe('none');

    // Widen every bound the resolver read at open: a 40-day record, a /56 delegated
    // prefix (a new prefix length), an inside address in a realm it has not seen.
    const later = join(dir, 'later.ndjson');
    writeFileSync(
      later,
      longLease('192.0.2.77', 'ACC-LONG') +
        longLease('2001:db8:77::/56', 'ACC-PD', { source: 'dhcpv6-pd' }) +
        JSON.stringify({ kind: 'address-space', prefix: '203.0.113.0/24', role: 'cgnat-outside', realm: 'cgn-new' }) +
        '\n' +
        JSON.stringify({
          kind: 'nat-block',
          realm: 'cgn-new',
          insideIp: '100.64.9.9',
          outsideIp: '203.0.113.9',
          portFirst: 1024,
          portLast: 2047,
          start: iso(T0),
          end: iso(T0 + 40 * DAY),
        }) +
        '\n' +
        longLease('100.64.9.9', 'ACC-CGN', { realm: 'cgn-new', source: 'radius' }),
    );
    const ing = await run(cli, ['ingest', '--db', db, later]);
    expect(ing.code).toBe(0);

    const long = await live.ask(request('LONG', '192.0.2.77', T0 + 30 * DAY));
    const pd = await live.ask(request('PD', '2001:db8:77:0:1::5', T0 + 30 * DAY));
    const cgn = await live.ask(JSON.stringify({ ref: 'CGN', observations: [{ sourceIp: '203.0.113.9', sourcePort: 1500, time: iso(T0 + 30 * DAY) }] }) + '\n');
    expect([long['status'], pd['status'], cgn['status']]).toEqual(['unique', 'unique', 'unique']);
    expect((long['candidates'] as { account: string }[])[0]!.account).toBe('ACC-LONG');
    expect((pd['candidates'] as { account: string }[])[0]!.account).toBe('ACC-PD');
    expect((cgn['candidates'] as { account: string }[])[0]!.account).toBe('ACC-CGN');
    expect(await live.end()).toBe(0);
  });
});
