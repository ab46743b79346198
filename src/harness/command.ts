/**
 * Any resolver as the system under test (issue 18, item 6): `ipar accuracy
 * --system-command 'CMD'` runs CMD once per simulated world through the shell, with the
 * world's canonical records in the NDJSON file the environment variable `IPAR_RECORDS`
 * names, the requests as NDJSON on its stdin, and its results as NDJSON on its stdout,
 * one per request in order (the pinned formats, DESIGN.md). Operators' disclosure systems
 * are often not TypeScript; the laws and the scenario table measure them as they measure
 * ipar. A result may leave out what ipar adds (`observations`, `risks`, `assessment`,
 * `advice`, `withheld`, a candidate's `support`, `of` and `evidence`): they default to
 * empty, so a resolver that raises no flags is scored as one.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { IparError } from '../problems.js';
import type { CanonicalRecordInput } from '../records.js';
import type { RequestInput, Result } from '../request.js';
import type { Instance, System } from './system.js';

/** What a foreign resolver must write for each request; the rest defaults to empty. */
const ForeignCandidate = z.looseObject({ account: z.string() }).transform((c) => ({ support: 1, of: 1, evidence: [], ...c }));
const ForeignResult = z
  .looseObject({ ref: z.string().nullable(), status: z.string(), candidates: z.array(ForeignCandidate).default([]) })
  .transform((r) => ({ withheld: false, observations: [], risks: [], assessment: '', advice: [], candidateCount: r.candidates.length, ...r }));

/** Run `command` through the shell with `input` on stdin; its stdout, or a typed error. */
function run(command: string, env: NodeJS.ProcessEnv, input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, { shell: true, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (cause) =>
      reject(new IparError('HARNESS_COMMAND_FAILED', `${JSON.stringify(command)} could not be started: ${cause.message}`, { cause })),
    );
    child.on('close', (code, signal) => {
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else
        reject(
          new IparError(
            'HARNESS_COMMAND_FAILED',
            `${JSON.stringify(command)} exited with ${signal ?? code}: ${Buffer.concat(err).toString('utf8').trim().slice(0, 500)}`,
          ),
        );
    });
    // A resolver that exits without reading its input closes the pipe: that is its exit status to report, not ours.
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}

/**
 * A system that runs `command` for each world.
 *
 * @example
 * const report = await measureAccuracy({ trials: 200 }, commandSystem('python3 test/harness/naive_resolver.py'));
 */
export function commandSystem(command: string): System {
  return {
    name: `command: ${command}`,
    open(records: Iterable<CanonicalRecordInput>): Promise<Instance> {
      const dir = mkdtempSync(join(tmpdir(), 'ipar-system-'));
      const file = join(dir, 'records.ndjson');
      const lines: string[] = [];
      for (const r of records) lines.push(JSON.stringify(r));
      writeFileSync(file, lines.join('\n') + '\n');
      const resolve = async (requests: readonly RequestInput[]) => {
        const stdout = await run(command, { ...process.env, IPAR_RECORDS: file }, requests.map((r) => JSON.stringify(r)).join('\n') + '\n');
        return stdout
          .split('\n')
          .filter((line) => line.trim() !== '')
          .map((line, i) => {
            let value: unknown;
            try {
              value = JSON.parse(line);
            } catch {
              throw new IparError('HARNESS_BAD_RESULT', `${JSON.stringify(command)}: stdout line ${i + 1} is not JSON: ${line.slice(0, 200)}`);
            }
            const parsed = ForeignResult.safeParse(value);
            if (!parsed.success)
              throw new IparError(
                'HARNESS_BAD_RESULT',
                `${JSON.stringify(command)}: stdout line ${i + 1} is not a result: ${parsed.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`,
              );
            // resolveChecked checks each value against Result at the boundary.
            return parsed.data as unknown as Result;
          });
      };
      return Promise.resolve({ resolve, close: () => rmSync(dir, { recursive: true, force: true }) });
    },
  };
}
