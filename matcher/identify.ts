/**
 * Stage 4: address to customer. The allocations that cover the (sub-)window give the
 * accounts; device identifiers in the request narrow the allocations that carry them.
 * Pure over the rows the store returned.
 */
import { IDENTIFIER_KINDS, type EvidenceKind, type IdentifierKind, type Identifiers } from '../src/request.js';
import type { StoredAllocation } from '../src/store/types.js';
import { intersect, type Window } from '../src/time.js';
import type { NatEvidence } from './translate.js';

/** A record supporting an account for one observation (becomes result evidence). */
export interface Support {
  readonly kind: EvidenceKind;
  readonly id: string;
  readonly start: number;
  readonly end: number | null;
  readonly endInferred: boolean;
}

/** An allocation dropped because an identifier it carries differs from the request's. */
export interface IdentifierExclusion {
  readonly account: string;
  readonly allocationId: string;
  /** The identifier kinds that disagreed (one kind alone means "dropped only by one identifier"). */
  readonly kinds: readonly IdentifierKind[];
  readonly requested: Readonly<Partial<Record<IdentifierKind, string>>>;
  readonly recorded: Readonly<Partial<Record<IdentifierKind, string>>>;
}

/** Accounts found for one observation, each with the records behind it. */
export interface AccountMatches {
  readonly accounts: Map<string, Support[]>;
  readonly exclusions: IdentifierExclusion[];
  /** Every allocation that covered the window (kept or not), for risk analysis. */
  readonly allocations: StoredAllocation[];
}

export function emptyMatches(): AccountMatches {
  return { accounts: new Map(), exclusions: [], allocations: [] };
}

/** Identifier kinds on which the allocation disagrees with the request. */
export function disagreeingIdentifiers(a: StoredAllocation, wanted: Identifiers): IdentifierKind[] {
  const out: IdentifierKind[] = [];
  for (const kind of IDENTIFIER_KINDS) {
    const w = wanted[kind];
    const r = a[kind];
    if (w !== undefined && r !== undefined && w !== r) out.push(kind);
  }
  return out;
}

/**
 * Add the allocations covering `window` to `into`; `via` is the NAT record the address
 * came through, if any (it becomes evidence too).
 */
export function identify(into: AccountMatches, allocations: readonly StoredAllocation[], window: Window, wanted: Identifiers, via: NatEvidence | null): void {
  for (const a of allocations) {
    if (intersect(a, window) === null) continue;
    into.allocations.push(a);
    const kinds = disagreeingIdentifiers(a, wanted);
    if (kinds.length > 0) {
      const requested: Partial<Record<IdentifierKind, string>> = {};
      const recorded: Partial<Record<IdentifierKind, string>> = {};
      for (const k of kinds) {
        requested[k] = wanted[k]!;
        recorded[k] = a[k]!;
      }
      into.exclusions.push({ account: a.account, allocationId: a.id, kinds, requested, recorded });
      continue;
    }
    let list = into.accounts.get(a.account);
    if (list === undefined) {
      list = [];
      into.accounts.set(a.account, list);
    }
    if (via !== null && !list.some((s) => s.id === via.id)) list.push(via);
    if (!list.some((s) => s.id === a.id)) list.push({ kind: 'allocation', id: a.id, start: a.start, end: a.end, endInferred: a.endInferred === true });
  }
}
