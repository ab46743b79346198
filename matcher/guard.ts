/**
 * Guardrails: refuse what the code of practice forbids, and what the work budget does not
 * allow (src/budget.ts), before any record is read.
 * - 9.14: local authorities may not seek the processing of internet connection records;
 *   a destination (or FQDN, or destination port) makes the operator process them (9.22).
 * - Condition D: only the intelligence community and the National Crime Agency, and only
 *   for national security (or economic well-being relevant to it) or serious crime.
 */
import type { WorkBudget } from '../src/budget.js';
import { REFUSALS, type BudgetDetail, type RefusalCode } from '../src/catalogue/refusals.js';
import type { Authorisation, Refusal } from '../src/request.js';
import type { PlannedRequest } from './plan.js';
import { alternativeReadings } from './sensitivity.js';

/** True when resolving this request means processing internet connection records (9.22). */
export function processesConnectionRecords(plan: PlannedRequest): boolean {
  return plan.authorisation?.condition === 'D' || plan.observations.some((o) => o.destinationIp !== null || o.destinationPort !== null || o.fqdn !== null);
}

/** A refusal with its paragraph from the catalogue (src/catalogue/refusals.ts). */
export function refusal(code: RefusalCode, message: string, detail?: BudgetDetail): Refusal {
  return { code, paragraph: REFUSALS[code].paragraph, message, ...(detail === undefined ? {} : { detail }) };
}

export const CONDITION_D_AUTHORITIES: ReadonlySet<string> = new Set(['intelligence-community', 'national-crime-agency']);
export const CONDITION_D_PURPOSES: ReadonlySet<string> = new Set(['serious-crime', 'national-security', 'economic-well-being']);

/**
 * The refusal for a request, or `null` when it may proceed.
 *
 * @example
 * refusalFor(plan)?.code; // 'LOCAL_AUTHORITY_ICR' for a local authority that gives a destination
 */
export function refusalFor(plan: PlannedRequest): Refusal | null {
  const a = plan.authorisation;
  if (a === null) return null;
  return authorisationRefusal(
    a,
    processesConnectionRecords(plan),
    `a local authority may not seek the processing of internet connection records (condition ${a.condition}${a.condition === 'D' ? '' : '; a destination in the request means processing them, 9.22'})`,
  );
}

/**
 * The guardrails on who asks: 9.14 (a local authority, when the request processes internet
 * connection records: `localMessage` says how) and Condition D's authorities and purposes.
 *
 * @example
 * authorisationRefusal({ authorityType: 'police', condition: 'D', purpose: 'serious-crime' }, true, '…')?.code; // 'CONDITION_D_AUTHORITY'
 */
export function authorisationRefusal(a: Authorisation, processesIcr: boolean, localMessage: string): Refusal | null {
  if (a.authorityType === 'local-authority' && processesIcr) return refusal('LOCAL_AUTHORITY_ICR', localMessage);
  if (a.condition === 'D' && !CONDITION_D_AUTHORITIES.has(a.authorityType)) {
    return refusal('CONDITION_D_AUTHORITY', `Condition D is limited to the intelligence community and the National Crime Agency, not ${a.authorityType}`);
  }
  if (a.condition === 'D' && !CONDITION_D_PURPOSES.has(a.purpose)) {
    return refusal(
      'CONDITION_D_PURPOSE',
      `Condition D is limited to national security, economic well-being relevant to it, and serious crime, not ${a.purpose}`,
    );
  }
  return null;
}

/**
 * How many readings resolving a request evaluates: each observation's own window, and with
 * risk analysis each alternative reading of its time (matcher/sensitivity.ts) and each
 * joint shift once for every observation it moves.
 *
 * @example
 * readingsOf(plan, true); // 5 for one instant with a tolerance: itself, exact, wider, ±1 h
 */
export function readingsOf(plan: PlannedRequest, analyse: boolean): number {
  if (!analyse) return plan.observations.length;
  let n = 0;
  for (const o of plan.observations) n += 1 + alternativeReadings(o, plan.toleranceMs).length;
  // The joint shifts of sensitivity.ts's JOINT: an hour either side moves every
  // observation, twelve hours either side the `12h-ambiguous` ones; each is tried when it
  // moves two or more.
  const all = plan.observations.length;
  const twelve = plan.observations.filter((o) => o.clock === '12h-ambiguous').length;
  return n + (all >= 2 ? 2 * all : 0) + (twelve >= 2 && all >= 2 ? 2 * twelve : 0);
}

/** The longest observation window of a request, in ms. */
export function longestWindowMs(plan: PlannedRequest): number {
  return Math.max(0, ...plan.observations.map((o) => o.window.end - o.window.start));
}

/** `WORK_BUDGET_EXCEEDED` with the limits passed, as the refusal says it. */
export function budgetRefusal(exceeded: BudgetDetail['exceeded']): Refusal {
  const says = exceeded.map((e) => `${e.budget} ${e.atLeast ? 'at least ' : ''}${e.value} > ${e.limit}`).join(', ');
  return refusal(
    'WORK_BUDGET_EXCEEDED',
    `the request would cost more than the work budget allows (${says}); nothing was disclosed: narrow the request, or ask the operator to raise the limit`,
    { exceeded },
  );
}

/**
 * The refusal of a request whose windows or readings pass the work budget, or `null`.
 * Checked when the request is planned, before any record is read; the row limit is
 * checked while its rows are read (matcher/fetch.ts).
 *
 * @example
 * planBudgetRefusal(plan, { ...DEFAULT_WORK_BUDGET, windowMs: 86_400_000 }, true)?.detail?.exceeded; // [{ budget: 'windowSeconds', … }]
 */
export function planBudgetRefusal(plan: PlannedRequest, budget: WorkBudget, analyse: boolean): Refusal | null {
  const exceeded: BudgetDetail['exceeded'] = [];
  const window = longestWindowMs(plan);
  if (window > budget.windowMs) exceeded.push({ budget: 'windowSeconds', limit: budget.windowMs / 1000, value: window / 1000, atLeast: false });
  const readings = readingsOf(plan, analyse);
  if (readings > budget.readings) exceeded.push({ budget: 'readings', limit: budget.readings, value: readings, atLeast: false });
  return exceeded.length === 0 ? null : budgetRefusal(exceeded);
}
