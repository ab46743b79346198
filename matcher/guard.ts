/**
 * Guardrails: refuse what the code of practice forbids, before any record is read.
 * - 9.14: local authorities may not seek the processing of internet connection records;
 *   a destination (or FQDN, or destination port) makes the operator process them (9.22).
 * - Condition D: only the intelligence community and the National Crime Agency, and only
 *   for national security (or economic well-being relevant to it) or serious crime.
 */
import { REFUSALS, type RefusalCode } from '../src/catalogue/refusals.js';
import type { Refusal } from '../src/request.js';
import type { PlannedRequest } from './plan.js';

/** True when resolving this request means processing internet connection records (9.22). */
export function processesConnectionRecords(plan: PlannedRequest): boolean {
  return plan.authorisation?.condition === 'D' || plan.observations.some((o) => o.destinationIp !== null || o.destinationPort !== null || o.fqdn !== null);
}

/** A refusal with its paragraph from the catalogue (src/catalogue/refusals.ts). */
export function refusal(code: RefusalCode, message: string): Refusal {
  return { code, paragraph: REFUSALS[code].paragraph, message };
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
  if (a.authorityType === 'local-authority' && processesConnectionRecords(plan)) {
    return refusal(
      'LOCAL_AUTHORITY_ICR',
      `a local authority may not seek the processing of internet connection records (condition ${a.condition}${a.condition === 'D' ? '' : '; a destination in the request means processing them, 9.22'})`,
    );
  }
  if (a.condition === 'D' && !CONDITION_D_AUTHORITIES.has(a.authorityType)) {
    return refusal('CONDITION_D_AUTHORITY', `Condition D is limited to the intelligence community and the National Crime Agency, not ${a.authorityType}`);
  }
  if (a.condition === 'D' && !CONDITION_D_PURPOSES.has(a.purpose)) {
    return refusal('CONDITION_D_PURPOSE', `Condition D is limited to national security, economic well-being relevant to it, and serious crime, not ${a.purpose}`);
  }
  return null;
}
