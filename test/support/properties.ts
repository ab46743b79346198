/** fast-check settings shared by every property test: one seed, printed, overridable. */

/** The seed every property runs with in CI; `FC_SEED=N` replays another. */
export const FC_SEED = Number(process.env['FC_SEED'] ?? 20_261_124);

/**
 * fast-check settings for a property: a fixed seed in CI (override with FC_SEED) that is
 * printed, so a failure can be replayed; fast-check prints the shrunk counterexample.
 */
export function propertyRun(law: string, numRuns = 150): { seed: number; numRuns: number } {
  const seed = FC_SEED;
  process.stdout.write(`property "${law}": seed ${seed}, ${numRuns} runs\n`);
  return { seed, numRuns };
}
