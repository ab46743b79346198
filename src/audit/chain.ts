/**
 * The audit log's hash chain: each entry's hash covers its fields and the hash of the
 * entry before, so changing, removing or reordering an entry breaks the chain where it
 * happened. Pure: the store module stores the entries, this module hashes and checks.
 */
import type { AuditVerdict } from '../catalogue/audit.js';
import type { AuditEntry } from './types.js';
import { hashJson } from './hash.js';

/** The `prevHash` of the first entry. */
export const GENESIS = '0'.repeat(64);

/**
 * The hash of an entry: sha256 of the canonical JSON of every field but `seq` and `hash`
 * (the chain, not the number, fixes the order).
 *
 * @example
 * entryHash({ ...draft, time: 1774692000000, prevHash: GENESIS });
 */
export function entryHash(e: Omit<AuditEntry, 'seq' | 'hash'>): string {
  return hashJson({
    action: e.action,
    candidateCount: e.candidateCount,
    disclosed: e.disclosed,
    engine: e.engine,
    prevHash: e.prevHash,
    records: e.records,
    ref: e.ref,
    requestHash: e.requestHash,
    resultHash: e.resultHash,
    status: e.status,
    time: e.time,
  });
}

/** How the chain broke: a verdict of the catalogue (src/catalogue/audit.ts). */
export type ChainBreak = AuditVerdict;

/** A head recorded earlier: its hash, and (from `ipar audit head`) its sequence number. */
export interface RecordedHead {
  readonly hash: string;
  readonly seq?: number;
}

/** A further check of each entry (its signature): `null` when it passes. */
export type EntryCheck = (e: AuditEntry) => { readonly reason: ChainBreak; readonly message: string } | null;

export type ChainReport =
  | { readonly intact: true; readonly entries: number; readonly head: string | null; readonly lastSeq: number }
  | { readonly intact: false; readonly entries: number; readonly seq: number; readonly reason: ChainBreak; readonly message: string };

/**
 * Check a chain, entries in sequence order. `seqOfHash` finds an entry by hash (to tell
 * a moved entry from a removed one); `head`, a hash recorded earlier outside the log,
 * must still be in it (entries removed from the end leave no other trace until the next
 * entry is appended).
 *
 * @example
 * const report = verifyChain(log.entries(), (h) => log.seqOfHash(h));
 * if (!report.intact) console.error(`entry ${report.seq}: ${report.reason}`);
 */
export function verifyChain(
  entries: Iterable<AuditEntry>,
  seqOfHash: (hash: string) => number | null,
  recorded?: string | RecordedHead,
  check?: EntryCheck,
): ChainReport {
  const head = typeof recorded === 'string' ? { hash: recorded } : recorded;
  let prevHash = GENESIS;
  let prevSeq = 0;
  let count = 0;
  let headSeen = head === undefined;
  const broken = (seq: number, reason: ChainBreak, message: string): ChainReport => ({ intact: false, entries: count, seq, reason, message });
  for (const e of entries) {
    count++;
    const unreadable = (e as { readonly unreadable?: string }).unreadable;
    if (unreadable !== undefined) return broken(e.seq, 'UNREADABLE', `entry ${e.seq} cannot be read: ${unreadable}`);
    if (entryHash(e) !== e.hash) return broken(e.seq, 'CHANGED', `entry ${e.seq} does not match its hash: it was changed after it was written`);
    const failed = check?.(e) ?? null;
    if (failed !== null) return broken(e.seq, failed.reason, failed.message);
    if (e.prevHash !== prevHash) {
      const followed = seqOfHash(e.prevHash);
      if (followed !== null && followed > e.seq) {
        return broken(e.seq, 'REORDERED', `entry ${e.seq} is out of order: it was written after entry ${followed}`);
      }
      if (e.seq !== prevSeq + 1) {
        return broken(prevSeq + 1, 'REMOVED', `entries ${prevSeq + 1}–${e.seq - 1} were removed (entry ${e.seq} does not follow entry ${prevSeq})`);
      }
      // Either entry prevSeq was changed and its hash recomputed, or entries after it were
      // removed and the rest renumbered: name the earlier, from where the log is in doubt.
      return prevSeq === 0
        ? broken(e.seq, 'BROKEN_LINK', `entry ${e.seq} is first but does not start the chain: the entries before it were removed`)
        : broken(
            prevSeq,
            'BROKEN_LINK',
            `the chain breaks after entry ${prevSeq}: it was changed (and its hash recomputed), or the entries after it were removed and the rest renumbered (entry ${e.seq} follows an entry that is not in the log)`,
          );
    }
    if (e.seq !== prevSeq + 1) {
      return broken(prevSeq + 1, 'REMOVED', `entries ${prevSeq + 1}–${e.seq - 1} were removed from the end of the log before entry ${e.seq} was written`);
    }
    if (head !== undefined && head.seq === e.seq && e.hash !== head.hash) {
      return broken(
        e.seq,
        'TRUNCATED',
        `entry ${e.seq} is not the recorded head ${head.hash.slice(0, 12)}…: the log was cut back to entry ${e.seq - 1} and written again from there`,
      );
    }
    if (e.hash === head?.hash) headSeen = true;
    prevHash = e.hash;
    prevSeq = e.seq;
  }
  if (!headSeen) {
    const which = head!.seq === undefined ? '' : ` (entry ${head!.seq})`;
    return broken(prevSeq + 1, 'TRUNCATED', `the recorded head ${head!.hash.slice(0, 12)}…${which} is not in the log: entries after ${prevSeq} were removed`);
  }
  return { intact: true, entries: count, head: count === 0 ? null : prevHash, lastSeq: prevSeq };
}
