import { execFileSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { main } from '../../src/cli.js';
import { commandSystem, measureAccuracy } from '../../src/harness/index.js';
import { IparError } from '../../src/problems.js';
import { packagePath } from '../../src/paths.js';
import { captureIo } from '../support/index.js';

/** The hand-written join as a Python process (test/harness/naive_resolver.py). */
const PYTHON = (() => {
  try {
    execFileSync('python3', ['-c', 'import zoneinfo'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!PYTHON && process.env['CI'] === 'true') throw new Error('python3 (with zoneinfo) is required in CI for the --system-command tests');
const NAIVE = `python3 ${JSON.stringify(packagePath('test', 'harness', 'naive_resolver.py'))}`;

describe.skipIf(!PYTHON)('ipar accuracy --system-command: any resolver as a process per world', () => {
  test('the Python join (last lease before the instant, no tolerance, no NAT chaining) is measured, and its silent errors shown', async () => {
    const report = await measureAccuracy({ trials: 60, seed: 1, scenarios: ['clean', 'port-unknown'] }, commandSystem(NAIVE));
    expect(report.system).toBe(`command: ${NAIVE}`);
    const clean = report.scenarios.find((s) => s.name === 'clean')!;
    // It cannot follow CGNAT, so addresses behind NAT come back "none" with no flag: silent misses.
    expect(clean.silentErrors).toBeGreaterThan(0);
    expect(clean.recall).toBeLessThan(report.baseline.scenarios[0]!.recall);
    expect(clean.silentCauses.reduce((n, c) => n + c.count, 0)).toBe(clean.silentErrors);
    expect(clean.silentCauses[0]!.example.result.risks).toEqual([]);
  });

  test('the CLI: the same report, the system named, exit 1 for silent errors the records could show', async () => {
    const io = captureIo();
    expect(await main(['accuracy', '--trials', '20', '--scenarios', 'clean', '--json', '--system-command', NAIVE], io)).toBe(1);
    const report = JSON.parse(io.out()) as { system: string; scenarios: { silentErrors: number }[] };
    expect(report.system).toMatch(/^command: python3 /);
    expect(report.scenarios[0]!.silentErrors).toBeGreaterThan(0);
  });
});

describe('commandSystem: a resolver that breaks the contract is a fault, not a measurement', () => {
  test.each([
    ['exits with a failure', 'exit 3', 'HARNESS_COMMAND_FAILED', /exited with 3/],
    ['writes something that is not JSON', 'echo nonsense', 'HARNESS_BAD_RESULT', /stdout line 1 is not JSON/],
    ['writes a line that is not a result', `echo '{"ref":"R"}'`, 'HARNESS_BAD_RESULT', /stdout line 1 is not a result: status/],
  ])('%s', async (_name, command, code, message) => {
    const instance = await commandSystem(command).open([]);
    try {
      const error = await instance.resolve([{ ref: 'R', observations: [{ sourceIp: '198.51.100.7', time: '2026-03-28T10:00:00Z' }] }]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(IparError);
      expect((error as IparError).code).toBe(code);
      expect((error as IparError).message).toMatch(message);
    } finally {
      await instance.close();
    }
  });
});
