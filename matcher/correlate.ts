/**
 * Stage 5: cross-correlate the per-observation account sets (their intersection; per
 * account, how many observations it fits). Pure.
 */
import type { Candidate } from '../src/request.js';
import { formatInstant } from '../src/time.js';
import type { Support } from './identify.js';

export interface Correlation {
  /** Accounts that fit every observation, sorted, with their evidence. */
  readonly candidates: readonly Candidate[];
  /** For each k from 1 to n, how many accounts fit exactly k observations (counts only). */
  readonly supportCounts: readonly number[];
  /** The best support any account reached. */
  readonly bestSupport: number;
}

/**
 * Intersect per-observation account sets.
 *
 * @example
 * correlate([new Map([['A', []], ['B', []]]), new Map([['B', []]])]).candidates.map((c) => c.account); // ['B']
 */
export function correlate(perObservation: readonly ReadonlyMap<string, readonly Support[]>[]): Correlation {
  const n = perObservation.length;
  const support = new Map<string, number>();
  for (const accounts of perObservation) for (const account of accounts.keys()) support.set(account, (support.get(account) ?? 0) + 1);
  const supportCounts = new Array<number>(n).fill(0);
  let bestSupport = 0;
  for (const k of support.values()) {
    supportCounts[k - 1]!++;
    bestSupport = Math.max(bestSupport, k);
  }
  const candidates: Candidate[] = [];
  for (const [account, k] of [...support].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
    if (k !== n) continue;
    const evidence = perObservation.flatMap((accounts, observation) =>
      (accounts.get(account) ?? []).map((s) => ({
        kind: s.kind,
        id: s.id,
        start: formatInstant(s.start),
        end: s.end === null ? null : formatInstant(s.end),
        observation,
      })),
    );
    candidates.push({ account, support: k, of: n, evidence });
  }
  return { candidates, supportCounts, bestSupport };
}
