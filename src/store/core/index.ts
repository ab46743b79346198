/**
 * What every store backend shares: record ids, the row-to-record builders, look-back
 * bounds and prefix lengths, row limits and the canonical order of answers. Backends
 * (src/store/sqlite/, src/store/clickhouse/) hold only their driver code around it.
 */
export { BOUND_KEYS, lengthsFor, lookBackStart, storeSettings, type BoundTable } from './bounds.js';
export { allocationId, connectionId, coverageId, natBlockId, natDeterministicId, natSessionId } from './ids.js';
export { RowAllowance, SESSION_ROW_LIMIT } from './limits.js';
export {
  addressOrder,
  allocationOrder,
  connectionOrder,
  coverageOrder,
  inOrder,
  natBlockOrder,
  natDeterministicOrder,
  natSessionByStartOrder,
  natSessionOrder,
  textOrder,
} from './order.js';
export {
  addressSpaceRecord,
  allocationRecord,
  connectionRecord,
  coverageRecord,
  natBlockRecord,
  natDeterministicRecord,
  natSessionRecord,
  type AllocationFields,
  type ConnectionFields,
  type NatBlockFields,
  type NatSessionFields,
} from './records.js';
export {
  CoverageRecorder,
  GAP_EXPECTED_EVENTS,
  GAP_MIN_MS,
  coverageFromText,
  coverageListing,
  coverageToText,
  judgeSilence,
  mergeSourceCoverage,
} from './coverage.js';
