/**
 * Problems found in input: one shape for every bad line, bad request and bad record,
 * with a constant `reason` (for grouping a batch report) and a message carrying the
 * values (STYLE.md item 2).
 */
import { z } from 'zod';
import type { ErrorCode } from './catalogue/errors.js';
import { isProblemReason, ProblemReason } from './catalogue/problems.js';

/** One thing wrong with one input, named precisely enough to fix it. */
export const Problem = z.strictObject({
  /** Dotted path of the field, `""` for the whole line. */
  field: z.string(),
  /** Constant code from the catalogue: `WRONG_TYPE`, `MISSING_FIELD`, `INSTANT_WITHOUT_OFFSET`, … */
  reason: ProblemReason,
  /** Human sentence with the values. */
  message: z.string(),
  /** The offending value, shortened when long; absent when the field was missing. */
  value: z.unknown().optional(),
});
export type Problem = Readonly<z.infer<typeof Problem>>;

/** A fault of the program or its infrastructure, with a stable code (not a bad input). */
export class IparError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'IparError';
  }
}

const MAX_VALUE_CHARS = 200;

/** Shorten a value for a report: errors must not echo whole records. */
export function shortValue(value: unknown): unknown {
  if (typeof value === 'string') return value.length > MAX_VALUE_CHARS ? value.slice(0, MAX_VALUE_CHARS) + '…' : value;
  // A library caller may pass values JSON cannot hold; results must still serialise.
  if (typeof value === 'bigint' || typeof value === 'symbol' || typeof value === 'function') return shortValue(String(value));
  if (value === null || typeof value !== 'object') return value;
  let text: string;
  try {
    text = JSON.stringify(value);
  } catch {
    // Nested past the stack (hostile input) or not JSON at all: say so, never throw.
    return '(not shown: nested too deeply to print)';
  }
  return text.length > MAX_VALUE_CHARS ? text.slice(0, MAX_VALUE_CHARS) + '…' : value;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): { found: boolean; value: unknown } {
  let current: unknown = input;
  for (const key of path) {
    if (current === null || typeof current !== 'object' || !(key in (current as object))) return { found: false, value: undefined };
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return { found: true, value: current };
}

function reasonOf(issue: z.core.$ZodIssue, found: boolean): ProblemReason {
  switch (issue.code) {
    case 'invalid_type':
      return found ? 'WRONG_TYPE' : 'MISSING_FIELD';
    case 'too_big':
    case 'too_small':
      return 'OUT_OF_RANGE';
    case 'invalid_value':
      return 'UNKNOWN_VALUE';
    case 'invalid_union':
      return 'UNKNOWN_VALUE';
    case 'unrecognized_keys':
      return 'UNKNOWN_FIELD';
    case 'invalid_format':
      return 'INVALID_FORMAT';
    case 'custom': {
      const reason = issue.params?.['reason'];
      return isProblemReason(reason) ? reason : 'INVALID';
    }
    default:
      return 'INVALID';
  }
}

/** Field paths and messages are capped like values: they can carry the input's own text. */
const short = (text: string): string => shortValue(text) as string;

/** Turn zod issues into {@link Problem}s, with the offending value taken from the input. */
export function problemsFromZod(error: z.core.$ZodError, input: unknown, prefix = ''): Problem[] {
  const out: Problem[] = [];
  for (const issue of error.issues) {
    const path = issue.path;
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const field = [prefix, ...path.map(String), key].filter((p) => p !== '').join('.');
        out.push({ field: short(field), reason: 'UNKNOWN_FIELD', message: short(`unknown field ${JSON.stringify(key)}`) });
      }
      continue;
    }
    const { found, value } = valueAt(input, path);
    const field = [prefix, ...path.map(String)].filter((p) => p !== '').join('.');
    const reason = reasonOf(issue, found);
    // The field is printed before the message (`field: REASON: message`): not again in it.
    const message = short(reason === 'MISSING_FIELD' ? `${JSON.stringify(String(path[path.length - 1] ?? field))} is required` : issue.message);
    out.push(found ? { field: short(field), reason, message, value: shortValue(value) } : { field: short(field), reason, message });
  }
  return out;
}
