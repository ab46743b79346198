/**
 * Risk analysis (DESIGN.md, "Risk catalogue"; code of practice 9.19–9.24): how each
 * result could be a false positive or a false negative, with the values that show it.
 */
import type { Risk } from '../src/request.js';
import type { MatchTrace, RiskContext } from './resolve.js';

/** Every flag for one match. */
export function analyseRisks(_trace: MatchTrace, _context: RiskContext): Risk[] {
  return [];
}
