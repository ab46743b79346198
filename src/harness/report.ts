/**
 * The accuracy report for people: per scenario, the engine and the naive baseline on
 * two lines, then what the silent errors were put down to.
 */
import type { AccuracyReport, Figures } from './accuracy.js';

const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)} %`);
const pad = (s: string, n: number) => s.padEnd(n);
const left = (s: string, n: number) => s.padStart(n);

const HEAD = [
  'scenario',
  'trials',
  'system',
  'unique',
  'precision',
  'recall',
  'mean cand.',
  'silent',
  'gap det.',
  'false al.',
  'clean',
  'any-flag',
  'wrong-clean',
  'mat. prec.',
  'recall+r',
  'verdict',
];
const WIDTH = [24, 6, 8, 8, 9, 8, 10, 6, 8, 9, 8, 8, 11, 10, 8, 0];

function row(cells: readonly string[]): string {
  return cells
    .map((c, i) => (i === 0 || i === 2 || i === 15 ? pad(c, WIDTH[i]!) : left(c, WIDTH[i]!)))
    .join('  ')
    .trimEnd();
}

function figureCells(f: Figures): string[] {
  return [pct(f.uniqueRate), pct(f.precision), pct(f.recall), f.meanCandidates.toFixed(2), String(f.silentErrors)];
}

/**
 * Format a report as text tables.
 *
 * @example
 * io.stdout.write(formatAccuracy(await measureAccuracy({ trials: 100 })));
 */
export function formatAccuracy(report: AccuracyReport): string {
  const w = report.world;
  const lines = [
    `ipar accuracy: ${report.system}; profile ${report.profile}, seed ${report.seed}, ${report.trialsPerScenario} trials a scenario`,
    `(simulated operators of ${w.subscribers} subscribers over ${w.days} day, starting ${w.starts.join(' or ')}; tolerance ${w.toleranceSeconds} s)`,
    '',
    row(HEAD),
    row(HEAD.map((h, i) => '-'.repeat(Math.max(h.length, WIDTH[i]!)))),
  ];
  const label = report.system.startsWith('ipar') ? 'ipar' : 'tested';
  report.scenarios.forEach((s, i) => {
    const b = report.baseline.scenarios[i]!;
    const g = s.guidance;
    lines.push(
      row([
        s.name,
        String(s.trials),
        label,
        ...figureCells(s),
        pct(s.inferredGapDetection),
        pct(s.inferredGapFalseAlarm),
        pct(g.clean),
        pct(g.cleanAnyFlag),
        String(g.wrongClean),
        pct(g.materialPrecision),
        pct(g.recallWithReadings),
        s.verdict,
      ]),
    );
    lines.push(row(['', '', 'baseline', ...figureCells(b), '', '', '', '', '', '', '', '']));
  });
  lines.push('', `baseline: ${report.baseline.description}.`);
  const silent = report.scenarios.filter((s) => s.silentCauses.length > 0);
  if (silent.length > 0) {
    lines.push('', `Silent errors of ${label === 'ipar' ? 'ipar' : report.system}, by cause:`);
    for (const s of silent) {
      lines.push(`  ${s.name} (${s.description}): ${s.silentErrors}, ${s.verdict}`);
      for (const c of s.silentCauses) {
        const e = c.example;
        lines.push(`    ${c.count} × ${c.cause} (${c.detectable ? 'the records could show it' : 'undetectable'}): ${c.explanation}`);
        lines.push(
          `      e.g. ${String(e.request['ref'])} of world ${e.world.name} (seed ${e.world.seed}): true account ${String(e.truth['account'])}, result ${e.result.status} [${e.result.risks.map((r) => `${r.code}/${r.kind}`).join(', ') || 'no flags'}]`,
        );
      }
    }
  }
  lines.push(
    '',
    'unique: share answered with one account; precision: share of unique answers that are right; recall: share with the true account among the candidates;',
    'mean cand.: mean candidate count; silent: wrong unique answers without a false-positive flag plus misses without a false-negative flag;',
    'gap det.: of the requests whose true record was lost in an undeclared gap, the share flagged INFERRED_GAP; false al.: of the requests whose truth touches no gap, the share flagged INFERRED_GAP.',
    'clean: share of right unique answers without a material false-positive flag (any-flag: without any false-positive flag, as before severity);',
    'wrong-clean: wrong unique answers without a material false-positive flag (must be 0); mat. prec.: share of unique answers with a material false-positive flag that were wrong;',
    'recall+r: share with the true account among the candidates or among the accounts of a plausible reading the advice names.',
  );
  return lines.join('\n') + '\n';
}
