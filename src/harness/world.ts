/**
 * A simulated operator held in memory: its records, the authority's requests, the ground
 * truth and who held what when (nat/simulate.ts owns all of it). The harness scores a
 * system against this truth; it never asks the matcher what the truth is.
 */
import { simulate, type Holding, type SimRequest, type SimTruth, type SimulationConfigInput } from '../../nat/simulate.js';
import type { CanonicalRecordInput } from '../records.js';
import type { RequestInput } from '../request.js';

export interface WorldSpec {
  /** A short name for reports and counterexamples. */
  readonly name: string;
  readonly config: SimulationConfigInput;
  readonly seed: number;
}

export interface World extends WorldSpec {
  readonly records: readonly CanonicalRecordInput[];
  /** Requests and their truths, same order, same refs. */
  readonly requests: readonly SimRequest[];
  readonly truth: readonly SimTruth[];
  readonly holdings: readonly Holding[];
}

/**
 * Run a simulation once and keep every stream (small operators only: it is all in memory).
 *
 * @example
 * const world = buildWorld({ name: 'w', config: { profile: 'mixed', subscribers: 100, days: 1 }, seed: 7 });
 * world.truth[0].account; // 'ACC-000042'
 */
export function buildWorld(spec: WorldSpec): World {
  const records: CanonicalRecordInput[] = [];
  const requests: SimRequest[] = [];
  const truth: SimTruth[] = [];
  const holdings: Holding[] = [];
  for (const item of simulate(spec.config, spec.seed).items()) {
    if (item.stream === 'record') records.push(item.value);
    else if (item.stream === 'request') requests.push(item.value);
    else if (item.stream === 'truth') truth.push(item.value);
    else holdings.push(item.value);
  }
  return { ...spec, records, requests, truth, holdings };
}

/**
 * A simulated request as a request to resolve, returning every candidate (the harness
 * scores the whole set, so nothing may be withheld).
 *
 * @example
 * asRequest(world.requests[0]); // { ref: 'REQ-000001', …, returnPolicy: 'allow-multiple', maxCandidates: 10000 }
 */
export function asRequest(r: SimRequest): RequestInput {
  return { ...r, observations: [...r.observations], returnPolicy: 'allow-multiple', maxCandidates: MAX_CANDIDATES };
}

/** The most candidates a request may ask for. */
export const MAX_CANDIDATES = 10_000;
