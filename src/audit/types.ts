/**
 * The audit log's types (issue 9): what a caller hands the log, and what it keeps. A
 * store backend may hold the log (src/store/sqlite/audit.ts); nothing here knows which.
 */

/** What an audit entry records: a resolution or an estimate (refusals included), or a purge. */
export type AuditAction = 'resolve' | 'estimate' | 'purge';

/** One audit entry as its caller knows it, before the log numbers, stamps and chains it. */
export interface AuditDraft {
  readonly action: AuditAction;
  /** The request's `ref` (`null` when the request had none, and for purges). */
  readonly ref: string | null;
  /** The result's status (`unique`, `none`, `invalid`, `refused`, …), or a purge's step. */
  readonly status: string;
  readonly candidateCount: number;
  /** How many identities the result disclosed (0 when withheld, and for estimates). */
  readonly disclosed: number;
  /** sha256 (hex) of the request (src/audit/hash.ts says of what exactly). */
  readonly requestHash: string;
  /** sha256 (hex) of the result. */
  readonly resultHash: string;
  /** Ids of the records consulted: the evidence the result carries. */
  readonly records: readonly string[];
  /** The engine that answered, `ipar@<package version>`. */
  readonly engine: string;
}

/** An entry as stored: numbered, stamped with the caller's clock, chained by hash. */
export interface AuditEntry extends AuditDraft {
  readonly seq: number;
  /** Epoch ms, from the clock passed in. */
  readonly time: number;
  /** The hash of the entry before (64 zeros for the first). */
  readonly prevHash: string;
  /** sha256 of this entry's fields, `prevHash` included (not `seq`: the chain is the order). */
  readonly hash: string;
}

/** An append-only, hash-chained audit log. */
export interface AuditLog {
  /** Append entries in one transaction after the current head; returns them as stored. */
  append(time: number, drafts: readonly AuditDraft[]): readonly AuditEntry[];
  /** Every entry in sequence order (streamed). */
  entries(): Iterable<AuditEntry>;
  /** The entries with this ref (or action), in sequence order. */
  find(filter: { readonly ref?: string; readonly action?: AuditAction }): AuditEntry[];
  /** The sequence number of the entry with this hash, or `null`. */
  seqOfHash(hash: string): number | null;
  close(): void;
}
