/**
 * Why a request is refused (matcher/guard.ts): 9.14 and Condition D of the code of
 * practice, before any record is read; and the operator's work budget (src/budget.ts),
 * checked before any record is read for windows and readings, while reading for rows.
 */
import { z } from 'zod';
import { codesOf, type Entry } from './entry.js';

export const REFUSALS = {
  LOCAL_AUTHORITY_ICR: {
    kind: 'refusal',
    paragraph: '9.14',
    meaning: 'a local authority asks for anything that processes internet connection records (a destination counts, 9.22; so does Condition D)',
  },
  CONDITION_D_AUTHORITY: {
    kind: 'refusal',
    paragraph: 'Condition D',
    meaning: 'Condition D from anyone but the intelligence community or the National Crime Agency',
  },
  CONDITION_D_PURPOSE: {
    kind: 'refusal',
    paragraph: 'Condition D',
    meaning: 'Condition D for a purpose other than national security, economic well-being relevant to it, or serious crime',
  },
  WORK_BUDGET_EXCEEDED: {
    kind: 'refusal',
    paragraph: '9.24',
    meaning:
      'the request would cost more than the work budget allows (README "Limits"): a window longer than the longest allowed, more readings than allowed, or more candidate rows than allowed; `detail.exceeded` gives each limit passed and the measured value',
  },
  NOT_KNOWN_EVENT: {
    kind: 'refusal',
    paragraph: '9.6',
    meaning:
      'a service-users request under condition A, B or C with a layer window longer than a known event allows (`KNOWN_EVENT_MAX_SECONDS`, 3600 s): an unknown time of use is Condition D territory',
  },
  LAYER_WINDOW_TOO_LONG: {
    kind: 'refusal',
    paragraph: 'Condition D',
    meaning:
      "a layer of a service-users request spans more than the store's per-layer bound (`ipar settings --max-layer-window`, default one day): the period must be no longer than necessary",
  },
  RECORDS_WINDOW_TOO_LONG: {
    kind: 'refusal',
    paragraph: '9.8',
    meaning:
      "a connection-records request spans more than the store's window bound (the same setting): the period must be proportionate and no longer than necessary",
  },
} as const satisfies Record<string, Entry & { readonly paragraph: string }>;

export const RefusalCode = z.enum(codesOf(REFUSALS));
export type RefusalCode = z.infer<typeof RefusalCode>;

/** Which limit of the work budget (src/budget.ts) a request passed, as its detail names it. */
export const BUDGET_DETAIL_NAMES = ['windowSeconds', 'readings', 'rows'] as const;

/**
 * The `detail` of a `WORK_BUDGET_EXCEEDED` refusal: each limit passed, with the value
 * measured. `atLeast` is true for rows: reading stopped one row past the limit, so the full
 * answer has at least `value` rows.
 */
export const BudgetDetail = z.strictObject({
  exceeded: z.array(z.strictObject({ budget: z.enum(BUDGET_DETAIL_NAMES), limit: z.number().min(0), value: z.number().min(0), atLeast: z.boolean() })).min(1),
});
export type BudgetDetail = z.infer<typeof BudgetDetail>;
