/**
 * Pairing state across runs (issue 15), the same on every backend: the refusal of a run
 * whose scope another run committed to since it read the state. Each run reads the
 * state with its generation and hands the generation back with its last write; a
 * different generation at that write means two runs of one scope overlapped, and the
 * later one's view of what is open is stale (it would retract records the other run
 * already replaced, or save over its state).
 */
import { IparError } from '../../problems.js';

/**
 * The error of a pairing write whose generation moved.
 *
 * @example
 * if (now !== pairing.generation) throw pairingConflict(pairing.scope, pairing.generation, now);
 */
export function pairingConflict(scope: string, read: number, now: number): IparError {
  return new IparError(
    'PAIRING_CONFLICT',
    `pairing state of scope "${scope}" was saved by another run while this one ran (generation ${read} when read, ${now} now): ` +
      `this run's open intervals and state were not saved; ingest its inputs again once the other run has finished`,
  );
}
