/**
 * Stages 5 and 6: cross-correlate the per-observation account sets (their
 * intersection; per account, how many observations it fits), classify the answer
 * (unique, multiple, none) and apply the disclosure policy. Pure.
 */
import type { Candidate, ReturnPolicy, Status } from '../src/request.js';
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
      (accounts.get(account) ?? []).map((s) => ({ kind: s.kind, id: s.id, start: formatInstant(s.start), end: s.end === null ? null : formatInstant(s.end), observation })),
    );
    candidates.push({ account, support: k, of: n, evidence });
  }
  return { candidates, supportCounts, bestSupport };
}

export interface Disclosure {
  readonly status: Exclude<Status, 'invalid'>;
  readonly candidateCount: number;
  readonly withheld: boolean;
  readonly candidates: readonly Candidate[];
}

/**
 * Classify and apply the policy: `single-only` discloses only a unique answer;
 * `allow-multiple` discloses up to `maxCandidates`; otherwise identities are withheld
 * and only the count is given.
 */
export function disclose(candidates: readonly Candidate[], policy: ReturnPolicy, maxCandidates: number): Disclosure {
  const count = candidates.length;
  const status = count === 0 ? 'none' : count === 1 ? 'unique' : 'multiple';
  const withheld = count > maxCandidates || (policy === 'single-only' && count > 1);
  return { status, candidateCount: count, withheld, candidates: withheld ? [] : candidates };
}
