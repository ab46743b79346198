/**
 * Hashes for the audit log: sha256 over canonical JSON, so a value hashes the same
 * whatever order its keys were written in and however it was spaced.
 */
import { createHash } from 'node:crypto';

/** sha256 of a text (UTF-8), hex. */
export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

type Frame =
  | { readonly array: readonly unknown[]; i: number }
  | { readonly object: Readonly<Record<string, unknown>>; readonly keys: readonly string[]; i: number; wrote: boolean };

function skipped(v: unknown): boolean {
  return v === undefined || typeof v === 'function' || typeof v === 'symbol';
}

/**
 * What `JSON.stringify` writes, with object keys sorted (by UTF-16 code units, as RFC
 * 8785 does). Iterative, so a value nested deeper than the stack still serialises
 * (hostile requests are audited too).
 *
 * @example
 * canonicalJson({ b: 1, a: [true, null] }); // '{"a":[true,null],"b":1}'
 */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  const stack: Frame[] = [];
  const open = (raw: unknown): void => {
    let v = raw;
    if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') v = (v as { toJSON: () => unknown }).toJSON();
    if (v === null || skipped(v)) out.push('null');
    else if (typeof v === 'number') out.push(Number.isFinite(v) ? String(v) : 'null');
    else if (typeof v === 'boolean') out.push(v ? 'true' : 'false');
    else if (typeof v === 'string') out.push(JSON.stringify(v));
    else if (typeof v === 'bigint') out.push(JSON.stringify(String(v)));
    else if (Array.isArray(v)) {
      out.push('[');
      stack.push({ array: v, i: 0 });
    } else {
      out.push('{');
      const object = v as Record<string, unknown>;
      stack.push({ object, keys: Object.keys(object).sort(), i: 0, wrote: false });
    }
  };
  open(value);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if ('array' in top) {
      if (top.i < top.array.length) {
        if (top.i > 0) out.push(',');
        open(top.array[top.i++]);
      } else {
        out.push(']');
        stack.pop();
      }
      continue;
    }
    let key: string | undefined;
    while (top.i < top.keys.length) {
      const k = top.keys[top.i++]!;
      if (!skipped(top.object[k])) {
        key = k;
        break;
      }
    }
    if (key === undefined) {
      out.push('}');
      stack.pop();
      continue;
    }
    if (top.wrote) out.push(',');
    top.wrote = true;
    out.push(JSON.stringify(key), ':');
    open(top.object[key]);
  }
  return out.join('');
}

/**
 * sha256 of a value's canonical JSON: the request and result hashes of the audit log.
 *
 * @example
 * hashJson({ ref: 'R1', observations: [] }) === hashJson(JSON.parse('{ "observations": [], "ref": "R1" }')); // true
 */
export function hashJson(value: unknown): string {
  return sha256(canonicalJson(value));
}
