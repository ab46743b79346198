/**
 * Store specs: `clickhouse://[user[:password]@]host[:port][,host[:port]…]/database[?cluster=NAME]`.
 *
 * The first host is where queries and inserts go (its Distributed tables spread them over
 * the cluster); with `cluster`, every listed host is a shard on which the store creates
 * its local tables when opened for writing. Ports are ClickHouse HTTP ports (8123 by
 * default). Anything else — a path — is a SQLite file.
 */
import { IparError } from '../../problems.js';

export interface ClickHouseHost {
  readonly host: string;
  readonly port: number;
}

export interface ClickHouseSpec {
  /** The first is the entry point; with a cluster, every host is one of its shards. */
  readonly hosts: readonly ClickHouseHost[];
  readonly database: string;
  /** `remote_servers` cluster name for Distributed tables; `null` for one server. */
  readonly cluster: string | null;
  readonly username: string;
  readonly password: string;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** True when a store spec names a ClickHouse server rather than a SQLite file. */
export function isClickHouseSpec(spec: string): boolean {
  return /^clickhouse:\/\//i.test(spec);
}

/**
 * A text with the password of every URL in it (`scheme://user:password@host…`, and a
 * `password=` parameter) replaced by `***`. The password runs to the last `@` before
 * the next space: one written unencoded with `/`, `@` or `:` in it is still hidden
 * whole (issue 20).
 *
 * @example
 * redactCredentials('cannot open clickhouse://ipar:hun/ter@2@h/ops'); // 'cannot open clickhouse://ipar:***@h/ops'
 */
export function redactCredentials(text: string): string {
  return text
    .replace(/\b([a-z][a-z0-9+.-]*:\/\/)([^\s:/@]*):(?:[^\s@]*@)*[^\s@]*@/gi, '$1$2:***@')
    .replace(/([?&;](?:password|passwd|pwd)=)[^&#\s]*/gi, '$1***');
}

/** The spec without its password, for messages. */
export function redactSpec(spec: string): string {
  return redactCredentials(spec);
}

function invalid(spec: string, why: string): IparError {
  return new IparError('STORE_SPEC_INVALID', `${redactSpec(spec)}: ${why} (expected clickhouse://host:port[,host:port…]/database[?cluster=NAME])`);
}

/**
 * Parse a `clickhouse://` store spec.
 *
 * @example
 * parseClickHouseSpec('clickhouse://127.0.0.1:18123,127.0.0.1:18124/ipar?cluster=ipar');
 * // { hosts: [{host:'127.0.0.1',port:18123},{host:'127.0.0.1',port:18124}], database: 'ipar', cluster: 'ipar', … }
 */
export function parseClickHouseSpec(spec: string): ClickHouseSpec {
  const m = /^clickhouse:\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/?#]+)(?:\/([^?#]*))?(?:\?([^#]*))?$/i.exec(spec);
  if (m === null) throw invalid(spec, 'not a ClickHouse store URL');
  const [, user, password, hostList, db, query] = m;
  const hosts = hostList!.split(',').map((text): ClickHouseHost => {
    const hm = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::(\d{1,5}))?$/.exec(text.trim());
    if (hm === null) throw invalid(spec, `host ${JSON.stringify(text)} is not host[:port]`);
    const port = hm[2] === undefined ? 8123 : Number(hm[2]);
    if (port < 1 || port > 65535) throw invalid(spec, `port ${port} is out of range`);
    return { host: hm[1]!, port };
  });
  const database = db === undefined || db === '' ? 'ipar' : decodeURIComponent(db);
  if (!NAME.test(database)) throw invalid(spec, `database ${JSON.stringify(database)} is not a plain name (letters, digits, _)`);
  let cluster: string | null = null;
  for (const [key, value] of new URLSearchParams(query ?? '')) {
    if (key === 'cluster') {
      if (!NAME.test(value)) throw invalid(spec, `cluster ${JSON.stringify(value)} is not a plain name`);
      cluster = value;
    } else {
      throw invalid(spec, `unknown parameter ${JSON.stringify(key)}`);
    }
  }
  if (cluster === null && hosts.length > 1) throw invalid(spec, 'several hosts need ?cluster=NAME (the remote_servers cluster they form)');
  return {
    hosts,
    database,
    cluster,
    username: user === undefined || user === '' ? 'default' : decodeURIComponent(user),
    password: password === undefined ? '' : decodeURIComponent(password),
  };
}
