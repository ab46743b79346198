/** `ipar accuracy`: the accuracy harness over simulated operators, as a table or JSON. */
import { AccuracyOptions, measureAccuracy, type AccuracyReport } from '../harness/accuracy.js';
import { commandSystem } from '../harness/command.js';
import { formatAccuracy } from '../harness/report.js';
import { IparError } from '../problems.js';
import { Progress } from '../progress.js';
import { writeOut, type Io } from './io.js';

export interface AccuracyCommand {
  readonly trials?: number;
  readonly seed?: number;
  /** A simulator profile name (checked here: an unknown one is a usage error). */
  readonly profile?: string;
  /** Scenario names (checked here). */
  readonly scenarios?: readonly string[];
  readonly json?: boolean;
  /** Run this resolver process per world instead of ipar (src/harness/command.ts). */
  readonly systemCommand?: string;
}

/**
 * Run the scenarios and print the report; progress goes to stderr. Exit code 0 when
 * every silent error is one the records cannot show, 1 when some could have been
 * flagged (a known gap or an unexplained failure).
 *
 * @example
 * process.exitCode = await runAccuracy({ trials: 1000, seed: 1, profile: 'mixed', json: true }, processIo);
 */
export async function runAccuracy(cmd: AccuracyCommand, io: Io): Promise<number> {
  const { json = false, systemCommand, ...input } = cmd;
  const parsed = AccuracyOptions.safeParse(input);
  if (!parsed.success) throw new IparError('USAGE', parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; '));
  const progress = new Progress('accuracy: trials', io.stderr);
  let report: AccuracyReport;
  try {
    const system = systemCommand === undefined ? undefined : commandSystem(systemCommand);
    report = await measureAccuracy(parsed.data, system, (p) =>
      progress.tick(p.index * p.of + p.trials, `scenario ${p.index + 1}/${p.scenarios} ${p.scenario}`),
    );
  } finally {
    progress.done();
  }
  await writeOut(io, json ? JSON.stringify(report) + '\n' : formatAccuracy(report));
  const flaggable = report.scenarios.filter((s) => s.verdict === 'known-gap' || s.verdict === 'fail');
  if (flaggable.length > 0)
    io.stderr.write(`accuracy: silent errors the records could show in ${flaggable.length} scenarios: ${flaggable.map((s) => s.name).join(', ')}\n`);
  return flaggable.length > 0 ? 1 : 0;
}
