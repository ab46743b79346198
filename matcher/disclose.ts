/**
 * Stage 6: classify the answer (unique, multiple, none) and apply the disclosure policy
 * the authorising individual chose (9.23): identities only for a unique answer, or up to
 * a number of candidates; otherwise the count alone. Pure.
 */
import type { Candidate, ReturnPolicy, Status } from '../src/request.js';

export interface Disclosure {
  readonly status: Exclude<Status, 'invalid'>;
  readonly candidateCount: number;
  readonly withheld: boolean;
  readonly candidates: readonly Candidate[];
}

/**
 * What an answer of `count` accounts is: none, unique or multiple.
 *
 * @example
 * statusOf(2); // 'multiple'
 */
export function statusOf(count: number): 'none' | 'unique' | 'multiple' {
  return count === 0 ? 'none' : count === 1 ? 'unique' : 'multiple';
}

/**
 * Classify and apply the policy: `single-only` discloses only a unique answer;
 * `allow-multiple` discloses up to `maxCandidates`; otherwise identities are withheld
 * and only the count is given.
 *
 * @example
 * disclose(candidates, 'single-only', 50); // two candidates: { status: 'multiple', candidateCount: 2, withheld: true, candidates: [] }
 */
export function disclose(candidates: readonly Candidate[], policy: ReturnPolicy, maxCandidates: number): Disclosure {
  const count = candidates.length;
  const status = statusOf(count);
  const withheld = count > maxCandidates || (policy === 'single-only' && count > 1);
  return { status, candidateCount: count, withheld, candidates: withheld ? [] : candidates };
}
