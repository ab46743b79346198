/**
 * The ClickHouse server the tests run against: `IPAR_CLICKHOUSE_URL` (what
 * `.ci/clickhouse/start.sh` prints: two shards on loopback). Without a reachable
 * server the ClickHouse variants are skipped and say so on stderr; with `CI=true` they
 * fail instead, so CI never passes silently without them.
 */
import { test } from 'vitest';
import { parseClickHouseSpec, type ClickHouseSpec } from '../../src/store/clickhouse/url.js';
import { ClickHouseStore } from '../../src/store/clickhouse/store.js';

export interface ClickHouseUnderTest {
  /** The URL from the environment, or `null` when unset. */
  readonly url: string | null;
  readonly spec: ClickHouseSpec | null;
  readonly reachable: boolean;
  /** Why it is not reachable (for the skip message). */
  readonly reason: string;
}

async function ping(host: string, port: number): Promise<string | null> {
  try {
    const r = await fetch(`http://${host}:${port}/ping`, { signal: AbortSignal.timeout(3000) });
    const text = await r.text();
    return text.startsWith('Ok.') ? null : `http://${host}:${port}/ping answered ${JSON.stringify(text.slice(0, 40))}`;
  } catch (error) {
    return `http://${host}:${port}/ping: ${(error as Error).message}${(error as { cause?: Error }).cause === undefined ? '' : ` (${(error as { cause: Error }).cause.message})`}`;
  }
}

let probed: Promise<ClickHouseUnderTest> | null = null;

/** Probe the server named by IPAR_CLICKHOUSE_URL once per test file. */
export function clickhouseUnderTest(): Promise<ClickHouseUnderTest> {
  probed ??= (async () => {
    const url = process.env['IPAR_CLICKHOUSE_URL'] ?? null;
    if (url === null || url === '') return { url: null, spec: null, reachable: false, reason: 'IPAR_CLICKHOUSE_URL is unset' };
    let spec: ClickHouseSpec;
    try {
      spec = parseClickHouseSpec(url);
    } catch (error) {
      return { url, spec: null, reachable: false, reason: (error as Error).message };
    }
    for (const h of spec.hosts) {
      const problem = await ping(h.host, h.port);
      if (problem !== null) return { url, spec, reachable: false, reason: problem };
    }
    return { url, spec, reachable: true, reason: '' };
  })();
  return probed;
}

/**
 * Say clearly that the ClickHouse variants of `what` will not run — and, in CI, register
 * a failing test: the servers .ci/run starts must be there.
 */
export function reportUnreachable(ch: ClickHouseUnderTest, what: string): void {
  if (ch.reachable) return;
  const message = `ClickHouse tests skipped: no server at ${ch.url ?? '(IPAR_CLICKHOUSE_URL unset)'} — ${ch.reason}. Start two shards with .ci/clickhouse/start.sh and export IPAR_CLICKHOUSE_URL to run ${what}.`;
  process.stderr.write(`\n${message}\n\n`);
  if (process.env['CI'] === 'true') {
    test(`ClickHouse is reachable in CI (${what})`, () => {
      throw new Error(`CI=true but ${message}`);
    });
  }
}

let counter = 0;

/** A name no other test (or test file, or earlier run) uses. */
function freshName(): string {
  return `ipar_test_${process.pid}_${++counter}_${Math.floor(Math.random() * 1e9).toString(36)}`;
}

function auth(spec: ClickHouseSpec): Record<string, string> {
  return { Authorization: `Basic ${Buffer.from(`${spec.username}:${spec.password}`).toString('base64')}` };
}

/** POST a statement to every host (test set-up and clean-up only). */
async function onEveryHost(spec: ClickHouseSpec, sql: string): Promise<void> {
  for (const h of spec.hosts) {
    const r = await fetch(`http://${h.host}:${h.port}/`, { method: 'POST', body: sql, headers: auth(spec) });
    if (!r.ok) throw new Error(`${sql} on ${h.host}:${h.port}: ${await r.text()}`);
  }
}

/** The URL of a fresh database on the same servers. */
export function freshUrl(ch: ClickHouseUnderTest): { url: string; database: string; drop: () => Promise<void> } {
  const spec = ch.spec!;
  const database = freshName();
  const hosts = spec.hosts.map((h) => `${h.host}:${h.port}`).join(',');
  const auth = spec.username === 'default' && spec.password === '' ? '' : `${encodeURIComponent(spec.username)}:${encodeURIComponent(spec.password)}@`;
  const url = `clickhouse://${auth}${hosts}/${database}${spec.cluster === null ? '' : `?cluster=${spec.cluster}`}`;
  return { url, database, drop: () => onEveryHost(spec, `DROP DATABASE IF EXISTS ${database}`) };
}

/** A fresh, empty store in its own database; `done` closes it and drops the database. */
export function freshClickHouseStore(ch: ClickHouseUnderTest): { store: ClickHouseStore; url: string; done: () => Promise<void> } {
  const { url, drop } = freshUrl(ch);
  const store = new ClickHouseStore(url);
  return {
    store,
    url,
    done: async () => {
      await store.close();
      await drop();
    },
  };
}

/** Rows of a query on one host (for checks that look under the Distributed tables). */
export async function selectOn(ch: ClickHouseUnderTest, host: number, sql: string): Promise<string[][]> {
  const h = ch.spec!.hosts[host]!;
  const r = await fetch(`http://${h.host}:${h.port}/`, { method: 'POST', body: `${sql} FORMAT TabSeparated`, headers: auth(ch.spec!) });
  const text = await r.text();
  if (!r.ok) throw new Error(`${sql}: ${text}`);
  return text === ''
    ? []
    : text
        .trimEnd()
        .split('\n')
        .map((l) => l.split('\t'));
}
