/**
 * The catalogue of every stable code a user can see, as data: risk flags, refusals,
 * input and importer problem reasons, audit verdicts and `IparError` codes. The README
 * and docs tables are generated from it (`npm run docs`, src/catalogue/docs.ts).
 */
export type { Entry } from './entry.js';
export {
  READING_ENTRIES,
  RISK_CODES,
  RISK_KINDS,
  SEVERITIES,
  Risk,
  flag,
  rated,
  type ReadingCode,
  type RiskCode,
  type RiskDetail,
  type RiskKind,
  type RiskOf,
  type Severity,
  type UnratedOf,
  type UnratedRisk,
} from './risks.js';
export { BudgetDetail, REFUSALS, RefusalCode } from './refusals.js';
export { PROBLEMS, ProblemReason, isProblemReason, type ProblemScope } from './problems.js';
export { AUDIT_VERDICTS, AuditVerdict } from './audit.js';
export { ERRORS, ErrorCode, isErrorCode } from './errors.js';
