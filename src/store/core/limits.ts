/** Row limits every backend applies the same way (so answers do not depend on the backend). */

/** Rows a single no-port session query returns at most (the matcher treats it as "too many"). */
export const SESSION_ROW_LIMIT = 100_000;

/** What {@link RowAllowance} needs of a query: the row limit it shares, if any. */
interface Limited {
  readonly rows?: { readonly limit: number } | undefined;
}

/**
 * One call's accounting of row limits (`RowLimit` in ../types.ts), shared by every backend
 * so that each answers exactly `min(n, limit + 1)` rows for the queries sharing a limit.
 *
 * @example
 * const allowance = new RowAllowance();
 * const cap = allowance.left(q);            // rows this query may still return (Infinity: no limit)
 * allowance.took(q, rows.length);
 */
export class RowAllowance {
  readonly #used = new Map<object, number>();

  /** Rows the queries sharing `q`'s limit may still return, `limit + 1` in all (`Infinity` without a limit). */
  left(q: Limited): number {
    if (q.rows === undefined) return Infinity;
    return Math.max(0, q.rows.limit + 1 - (this.#used.get(q.rows) ?? 0));
  }

  /** Note `n` rows returned for `q`. */
  took(q: Limited, n: number): void {
    if (q.rows !== undefined) this.#used.set(q.rows, (this.#used.get(q.rows) ?? 0) + n);
  }

  /** `rows` cut to what `q` may still return, noted (for a backend that cannot stop a read part way). */
  cut<R>(q: Limited, rows: R[]): R[] {
    const left = this.left(q);
    const kept = rows.length > left ? rows.slice(0, left) : rows;
    this.took(q, kept.length);
    return kept;
  }
}
