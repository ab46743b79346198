/** `ipar resolve`: NDJSON requests in, NDJSON results out, in order, streaming. */
import { estimateBatch, resolveBatch } from '../index.js';
import { readLines, openInputs, MAX_LINE_CHARS } from '../ingest/lines.js';
import { UnreadableRequest } from '../../matcher/plan.js';
import { Progress } from '../progress.js';
import { openStore } from '../store/open.js';
import { writeOut, type Io } from './io.js';
import { prettyHeader, prettyRow } from './pretty.js';

export interface ResolveCommand {
  readonly db: string;
  readonly file: string;
  readonly pretty: boolean;
  /** `estimate`: counts and flags only, no identities. */
  readonly estimate?: boolean;
}

/** Request values from NDJSON lines; unreadable lines become {@link UnreadableRequest}. */
async function* requestsFrom(lines: AsyncIterable<{ text: string; line: number }>, lineNumbers: number[]): AsyncGenerator<unknown> {
  for await (const { text, line } of lines) {
    if (text.trim() === '') continue;
    lineNumbers.push(line);
    if (text.length > MAX_LINE_CHARS) {
      yield new UnreadableRequest([{ field: '', reason: 'LINE_TOO_LONG', message: `line of ${text.length} characters exceeds the limit of ${MAX_LINE_CHARS}` }]);
      continue;
    }
    try {
      yield JSON.parse(text) as unknown;
    } catch (error) {
      yield new UnreadableRequest([{ field: '', reason: 'INVALID_JSON', message: `not JSON: ${(error as Error).message}` }]);
    }
  }
}

export async function runResolve(cmd: ResolveCommand, io: Io): Promise<number> {
  const [input] = await openInputs([cmd.file], io.stdin);
  const store = openStore(cmd.db, { readonly: true });
  const progress = new Progress('resolve requests', io.stderr);
  const lineNumbers: number[] = [];
  let done = 0;
  let invalid = 0;
  try {
    if (cmd.pretty) await writeOut(io, prettyHeader());
    const results = cmd.estimate === true ? estimateBatch(store, requestsFrom(readLines(input!), lineNumbers)) : resolveBatch(store, requestsFrom(readLines(input!), lineNumbers));
    for await (const result of results) {
      const line = lineNumbers[done]!;
      done++;
      if (result.status === 'invalid') {
        invalid++;
        for (const e of result.errors ?? []) io.stderr.write(`${input!.name}:${line}: ${e.field || '(line)'}: ${e.reason}: ${e.message}\n`);
      }
      await writeOut(io, cmd.pretty ? prettyRow(result) : JSON.stringify(result) + '\n');
      progress.tick(done);
    }
    lineNumbers.length = 0;
  } finally {
    progress.done();
    await store.close();
  }
  io.stderr.write(`${cmd.estimate === true ? 'estimate' : 'resolve'}: ${done} requests, ${invalid} invalid\n`);
  return invalid > 0 ? 1 : 0;
}
