/** Reading store and audit files directly: a logical digest, integrity, committed counts, audit entries. */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { AuditEntry } from '../../src/audit/types.js';
import { openAuditLog } from '../../src/store/sqlite/audit.js';

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
      nat_block:
        'SELECT hex(b.out_addr), b.port_first, b.start, r.name, hex(b.in_addr), b.protocol, b.port_last, b."end", b.end_inferred FROM nat_block b JOIN realm r ON r.id = b.realm',
      nat_session:
        'SELECT hex(n.out_addr), n.out_port, n.start, n.protocol, r.name, hex(n.in_addr), n.in_port, hex(n.dst_addr), n.dst_port, n."end", n.end_inferred FROM nat_session n JOIN realm r ON r.id = n.realm',
      nat_deterministic: 'SELECT hex(d.out_addr), d.plen, d.start, r.name, d."end", d.record FROM nat_deterministic d JOIN realm r ON r.id = d.realm',
      coverage: 'SELECT s.name, c.start, c.status, c."end" FROM coverage c JOIN source s ON s.id = c.source',
      device: 'SELECT imsi, msisdn, imei, mac FROM device WHERE id <> 0',
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
      const row = db
        .prepare('SELECT (SELECT count(*) FROM address_space) + (SELECT count(*) FROM allocation) + (SELECT count(*) FROM nat_block) AS n')
        .get() as { n: number };
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

/** An audit entry as the values of its `audit_log` row, in the column order of {@link SET_AUDIT_ROW} (to tamper with a log in a test). */
export const auditRow = (e: AuditEntry): unknown[] => [
  e.time,
  e.action,
  e.ref,
  e.status,
  e.candidateCount,
  e.disclosed,
  e.requestHash,
  e.resultHash,
  JSON.stringify(e.records),
  e.engine,
  e.prevHash,
  e.hash,
];

/** Overwrite the entry at `seq` (the last parameter) with {@link auditRow}'s values. */
export const SET_AUDIT_ROW =
  'UPDATE audit_log SET time=?, action=?, ref=?, status=?, candidate_count=?, disclosed=?, request_hash=?, result_hash=?, records=?, engine=?, prev_hash=?, hash=? WHERE seq=?';
