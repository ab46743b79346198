/**
 * Look-back bounds: a closed record overlapping a window started at most the longest
 * closed record of its table before the window, so lookups search `start` in
 * `[window.start - longest, window.end)` and check `end` (DESIGN.md "Query shape").
 * Backends keep the bounds in their own meta tables under these keys.
 */
import type { Address } from '../../address.js';
import { BUDGET_NAMES, type BudgetName, type WorkBudget } from '../../budget.js';
import type { Window } from '../../time.js';
import type { StoreSettings } from '../types.js';

/** Tables whose closed records have a look-back bound. */
export type BoundTable = 'allocation' | 'nat_block' | 'nat_session' | 'connection';

/** Meta keys of the bounds: the longest closed record of a table, of a realm's allocations, the widest port block. */
export const BOUND_KEYS = {
  longest: (table: BoundTable): string => `maxDuration.${table}`,
  /** `realm` as the backend keys it (SQLite: its interned id; ClickHouse: the name). */
  longestAllocationOf: (realm: string | number): string => `maxDuration.allocation.${realm}`,
  widestBlock: 'maxSpan.nat_block',
  /** The realms whose NAT records carry no destination, as a JSON list (StoreSettings.realmsWithoutDestination). */
  realmsWithoutDestination: 'realms.noDestination',
} as const;

/** The earliest start a closed record overlapping `window` can have. */
export const lookBackStart = (window: Window, longest: number): number => window.start - longest;

/** Prefix lengths, in IPv6 terms, that can hold an address of this family. */
export function lengthsFor(address: Address, lengths: readonly number[]): number[] {
  return lengths.filter((l) => l <= address.length && (address.family === 6 || l >= 96));
}

/** The jurisdiction's zone when no `jurisdictionZone` setting says otherwise. */
export const DEFAULT_JURISDICTION_ZONE = 'Europe/London';

/**
 * The settings risk analysis reads, from a backend's stored settings (keys without their
 * `setting.` prefix; `''` is a removed value) and its bounds.
 *
 * @example
 * storeSettings([['clockError.dhcp', '2000']], [['maxDuration.allocation', 3600000]]);
 * // { retentionHorizon: null, clockErrorMs: { dhcp: 2000 }, longestRecordMs: 3600000, jurisdictionZone: 'Europe/London', zoneChangeAt: {} }
 */
export function storeSettings(
  settings: Iterable<readonly [string, string]>,
  bounds: Iterable<readonly [string, number]>,
  realmsWithoutDestination: readonly string[] = [],
): StoreSettings {
  let retentionHorizon: number | null = null;
  let jurisdictionZone = DEFAULT_JURISDICTION_ZONE;
  let maxLayerWindowMs: number | null = null;
  const clockErrorMs: Record<string, number> = {};
  const budget: { -readonly [K in keyof WorkBudget]?: number } = {};
  const zoneChangeAt: Record<string, number> = {};
  for (const [key, value] of settings) {
    if (value === '') continue;
    if (key === 'retentionHorizon') retentionHorizon = Number(value);
    else if (key === 'jurisdictionZone') jurisdictionZone = value;
    else if (key === 'maxLayerWindow') maxLayerWindowMs = Number(value);
    else if (key.startsWith('clockError.')) clockErrorMs[key.slice('clockError.'.length)] = Number(value);
    else if (key.startsWith('zoneChange.')) zoneChangeAt[key.slice('zoneChange.'.length)] = Number(value);
    else if (key.startsWith('budget.') && (BUDGET_NAMES as readonly string[]).includes(key.slice('budget.'.length)))
      budget[key.slice('budget.'.length) as BudgetName] = Number(value);
  }
  let longestRecordMs = 0;
  for (const [key, value] of bounds) if (key.startsWith('maxDuration.')) longestRecordMs = Math.max(longestRecordMs, value);
  return {
    retentionHorizon,
    clockErrorMs,
    longestRecordMs,
    jurisdictionZone,
    zoneChangeAt,
    ...(Object.keys(budget).length > 0 ? { budget } : {}),
    maxLayerWindowMs,
    realmsWithoutDestination: [...realmsWithoutDestination].sort(),
  };
}
