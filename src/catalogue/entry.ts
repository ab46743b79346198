/**
 * What every catalogue entry says: its kind, the paragraph of the code of practice it
 * serves (where one applies) and what it means. The tables are data, so the README's
 * tables are generated from them (`npm run docs`) and a test keeps the two equal.
 */

/** One code of the catalogue. */
export interface Entry {
  readonly kind: string;
  /** The code of practice paragraph the code serves (`9.24`, `Condition D`), if any. */
  readonly paragraph?: string;
  /** What the code means, as the README says it. */
  readonly meaning: string;
}

/**
 * The codes of a table, in declaration order, as a non-empty tuple for `z.enum`.
 *
 * @example
 * z.enum(codesOf({ A: { kind: 'x', meaning: 'a' } })); // z.enum(['A'])
 */
export function codesOf<T extends Readonly<Record<string, Entry>>>(table: T): [keyof T & string, ...(keyof T & string)[]] {
  return Object.keys(table) as [keyof T & string, ...(keyof T & string)[]];
}
