/** Store specs and the faults that need no server (these run everywhere). */
import { describe, expect, test } from 'vitest';
import { ClickHouseStore } from '../../src/store/clickhouse/store.js';
import { isClickHouseSpec, parseClickHouseSpec, redactSpec } from '../../src/store/clickhouse/url.js';
import { openStore } from '../../src/store/open.js';
import { SqliteStore } from '../../src/store/sqlite/store.js';
import { tempDir } from '../support/index.js';
import { join } from 'node:path';

describe('store specs: clickhouse:// URLs', () => {
  test.each([
    [
      'one server, default port and database',
      'clickhouse://db1',
      { hosts: [{ host: 'db1', port: 8123 }], database: 'ipar', cluster: null, username: 'default', password: '' },
    ],
    [
      'a cluster of two shards',
      'clickhouse://127.0.0.1:18123,127.0.0.1:18124/ops?cluster=ipar',
      {
        hosts: [
          { host: '127.0.0.1', port: 18123 },
          { host: '127.0.0.1', port: 18124 },
        ],
        database: 'ops',
        cluster: 'ipar',
      },
    ],
    ['a user and password', 'clickhouse://ipar:s%40cret@[::1]:8123/ops', { hosts: [{ host: '[::1]', port: 8123 }], username: 'ipar', password: 's@cret' }],
  ])('%s', (_name, spec, expected) => {
    expect(parseClickHouseSpec(spec)).toMatchObject(expected);
  });

  test.each([
    ['a database name that is not a plain name', 'clickhouse://h:8123/ops-1', /database "ops-1"/],
    ['a port out of range', 'clickhouse://h:70000/ops', /port 70000/],
    ['several hosts without a cluster', 'clickhouse://a:1,b:2/ops', /need \?cluster=NAME/],
    ['an unknown parameter', 'clickhouse://h/ops?shards=2', /unknown parameter "shards"/],
  ])('refused: %s', (_name, spec, message) => {
    expect(() => parseClickHouseSpec(spec)).toThrow(message);
    try {
      parseClickHouseSpec(spec);
    } catch (error) {
      expect(error).toMatchObject({ code: 'STORE_SPEC_INVALID' });
    }
  });

  test('a password never appears in messages', () => {
    expect(redactSpec('clickhouse://ipar:hunter2@h:8123/ops')).toBe('clickhouse://ipar:***@h:8123/ops');
    expect(() => parseClickHouseSpec('clickhouse://ipar:hunter2@h:8123/bad-name')).toThrow(/^(?!.*hunter2)/);
  });

  test('openStore: a path is SQLite (the default, no server), a clickhouse:// URL is ClickHouse (no network until used)', async () => {
    expect(isClickHouseSpec('operator.db')).toBe(false);
    expect(isClickHouseSpec('CLICKHOUSE://h/ops')).toBe(true);
    const sqlite = openStore(join(tempDir(), 'op.db'));
    expect(sqlite).toBeInstanceOf(SqliteStore);
    await sqlite.close();
    const ch = openStore('clickhouse://127.0.0.1:1/ops', { readonly: true });
    expect(ch).toBeInstanceOf(ClickHouseStore);
    await ch.close();
  });

  test('no server at the address: STORE_UNREACHABLE, naming the URL', async () => {
    const store = openStore('clickhouse://127.0.0.1:1/ops');
    await expect(store.counts()).rejects.toMatchObject({
      code: 'STORE_UNREACHABLE',
      message: expect.stringMatching(/cannot reach ClickHouse \(clickhouse:\/\/127\.0\.0\.1:1\/ops\)/),
    });
    await store.close();
  });
});
