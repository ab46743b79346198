/**
 * The work budget of one request (issue 20): how much a request may make the engine do
 * before it is answered `refused` with `WORK_BUDGET_EXCEEDED` (src/catalogue/refusals.ts)
 * and the rest of the batch goes on. Two limits are checked when the request is planned,
 * before any store read (matcher/guard.ts); the third while its rows are read
 * (matcher/fetch.ts, through the stores' row limits). README "Limits" documents them.
 */

/** What one request may cost. */
export interface WorkBudget {
  /** The longest observation window, `[t − τ, t + p + τ)` or `[from − τ, to + τ)`, in milliseconds. */
  readonly windowMs: number;
  /** The most readings evaluated: every observation's own window and each alternative reading of its time, and each joint shift once per observation it moves. */
  readonly readings: number;
  /** The most candidate rows read from the store: NAT rows, public allocations and inside hosts' allocations, over every window fetched. */
  readonly rows: number;
}

export const BUDGET_NAMES = ['windowMs', 'readings', 'rows'] as const satisfies readonly (keyof WorkBudget)[];
export type BudgetName = (typeof BUDGET_NAMES)[number];

const DAY = 86_400_000;

/**
 * The defaults, far above what legitimate requests need: on the demo operator the
 * simulator's default mix needs at most a 64-second window, 33 readings and 113 rows, and
 * `fixtures/demo` 5 s, 14 and 6 (bench/RESULTS.md, "work budget"); a request of 64 instants
 * with a tolerance needs 448 readings.
 */
export const DEFAULT_WORK_BUDGET: WorkBudget = Object.freeze({ windowMs: 31 * DAY, readings: 512, rows: 20_000 });

/**
 * The budget in force: the caller's `overrides` over the store's settings over the defaults.
 *
 * @example
 * workBudget({ rows: 5000 }, { readings: 64 }); // { windowMs: 31 days, readings: 64, rows: 5000 }
 */
export function workBudget(stored: Partial<WorkBudget> | undefined, overrides: Partial<WorkBudget> | undefined): WorkBudget {
  return { ...DEFAULT_WORK_BUDGET, ...stored, ...overrides };
}
