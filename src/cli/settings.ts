/** `ipar settings`: the store settings risk analysis needs (retention horizon, clock errors, zones), the audit key and the work budget. */
import { IANAZone } from 'luxon';
import { parseInstant } from '../time.js';
import { IparError } from '../problems.js';
import { resolve as resolvePath } from 'node:path';
import { readAuditKeySetting, writeAuditKeySetting } from '../store/sqlite/audit.js';
import { openSqliteStore } from '../store/sqlite/store.js';
import { readPrivateKey } from './audit.js';
import type { WorkBudget } from '../budget.js';
import type { SettingKey } from '../store/types.js';
import type { Io } from './io.js';

export interface SettingsCommand {
  readonly db: string;
  readonly retentionHorizon?: string;
  /** `SOURCE=SECONDS`, or `SOURCE=` to remove. */
  readonly clockErrors: readonly string[];
  /** `SOURCE=INSTANT`: the source changed its time-zone format then; `SOURCE=` removes it. */
  readonly zoneChanges?: readonly string[];
  /** The jurisdiction's IANA zone (severity of an hour either side); `""` restores the default. */
  readonly jurisdictionZone?: string;
  /** The audit key file resolve and estimate sign with by default; `""` removes it. */
  readonly auditKey?: string;
  /** Work budget limits (src/budget.ts), as given on the command line; `""` removes one (the default applies). */
  readonly budgetWindow?: string;
  readonly budgetReadings?: string;
  readonly budgetRows?: string;
  /** Seconds a service-users layer or a connection-records window may span; `""` removes the setting. */
  readonly maxLayerWindow?: string;
}

/** A budget option's value: `""` removes it; else a positive number (seconds for the window, whole numbers else). */
function budgetValue(option: string, text: string, integer: boolean): number | null {
  if (text === '') return null;
  const n = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || !(n > 0) || (integer && !Number.isInteger(n)) || !Number.isSafeInteger(Math.round(n))) {
    throw new IparError(
      'USAGE',
      `${option} takes a positive ${integer ? 'whole number' : 'number of seconds'} (or "" for the default), got ${JSON.stringify(text)}`,
    );
  }
  return n;
}

export async function runSettings(cmd: SettingsCommand, io: Io): Promise<number> {
  // Every option is checked before anything is set: a refused one leaves the store as it was.
  let horizon: number | undefined;
  if (cmd.retentionHorizon !== undefined) {
    const r = parseInstant(cmd.retentionHorizon);
    if (!r.ok) throw new IparError('USAGE', `--retention-horizon: ${r.message}`);
    horizon = r.value.ms;
  }
  const clockErrors = cmd.clockErrors.map((spec) => {
    const m = /^([^=]+)=(\d+(?:\.\d+)?)?$/.exec(spec);
    if (m === null) throw new IparError('USAGE', `--clock-error takes SOURCE=SECONDS, got ${JSON.stringify(spec)}`);
    return { source: m[1]!, ms: m[2] === undefined ? null : Math.round(Number(m[2]) * 1000) };
  });
  const budget: [SettingKey, number | null][] = [];
  if (cmd.budgetWindow !== undefined) {
    const seconds = budgetValue('--budget-window', cmd.budgetWindow, false);
    budget.push(['budget.windowMs', seconds === null ? null : Math.round(seconds * 1000)]);
  }
  if (cmd.budgetReadings !== undefined) budget.push(['budget.readings', budgetValue('--budget-readings', cmd.budgetReadings, true)]);
  if (cmd.budgetRows !== undefined) budget.push(['budget.rows', budgetValue('--budget-rows', cmd.budgetRows, true)]);
  if (cmd.maxLayerWindow !== undefined && cmd.maxLayerWindow !== '' && !/^\d+$/.test(cmd.maxLayerWindow))
    throw new IparError('USAGE', `--max-layer-window takes whole seconds, got ${JSON.stringify(cmd.maxLayerWindow)}`);
  // Read-only unless something is set, and never created: a mistyped path is an error.
  openSqliteStore(cmd.db, { readonly: true }).close();
  const store = openSqliteStore(cmd.db, {
    readonly:
      horizon === undefined &&
      clockErrors.length === 0 &&
      budget.length === 0 &&
      (cmd.zoneChanges ?? []).length === 0 &&
      cmd.jurisdictionZone === undefined &&
      cmd.maxLayerWindow === undefined,
  });
  try {
    const known = store.knownSources();
    for (const { source, ms } of clockErrors) {
      // A typo would declare an error no record ever meets; removing one stays possible.
      if (ms !== null && !known.includes(source)) {
        throw new IparError(
          'USAGE',
          `--clock-error: the store has no records from source or realm ${JSON.stringify(source)}; it knows ${known.length === 0 ? 'none yet (ingest first)' : known.join(', ')}`,
        );
      }
    }
    for (const [key, value] of budget) await store.setSetting(key, value);
    for (const spec of cmd.zoneChanges ?? []) {
      const m = /^([^=]+)=(.*)$/.exec(spec);
      if (m === null) throw new IparError('USAGE', `--zone-change takes SOURCE=INSTANT, got ${JSON.stringify(spec)}`);
      if (m[2] === '') {
        await store.setSetting(`zoneChange.${m[1]!}`, null);
        continue;
      }
      const at = parseInstant(m[2]!);
      if (!at.ok) throw new IparError('USAGE', `--zone-change ${m[1]!}: ${at.message}`);
      await store.setSetting(`zoneChange.${m[1]!}`, at.value.ms);
    }
    if (cmd.jurisdictionZone !== undefined) {
      if (cmd.jurisdictionZone !== '' && !IANAZone.isValidZone(cmd.jurisdictionZone))
        throw new IparError('USAGE', `--jurisdiction-zone: not an IANA time zone: ${JSON.stringify(cmd.jurisdictionZone)}`);
      await store.setSetting('jurisdictionZone', cmd.jurisdictionZone === '' ? null : cmd.jurisdictionZone);
    }
    if (cmd.maxLayerWindow !== undefined) {
      await store.setSetting('maxLayerWindow', cmd.maxLayerWindow === '' ? null : Number(cmd.maxLayerWindow) * 1000);
    }
    if (cmd.auditKey !== undefined) {
      if (cmd.auditKey !== '') readPrivateKey(cmd.auditKey); // a key that cannot sign is refused now, not at the next resolve
      writeAuditKeySetting(cmd.db, cmd.auditKey === '' ? null : resolvePath(cmd.auditKey));
    }
    if (horizon !== undefined) await store.setSetting('retentionHorizon', horizon);
    for (const { source, ms } of clockErrors) await store.setSetting(`clockError.${source}`, ms);
    const s = await store.settings();
    const auditKey = readAuditKeySetting(cmd.db);
    io.stdout.write(
      JSON.stringify({
        retentionHorizon: s.retentionHorizon === null ? null : new Date(s.retentionHorizon).toISOString(),
        clockErrorSeconds: Object.fromEntries(Object.entries(s.clockErrorMs).map(([k, v]) => [k, v / 1000])),
        jurisdictionZone: s.jurisdictionZone,
        zoneChanges: Object.fromEntries(Object.entries(s.zoneChangeAt).map(([k, v]) => [k, new Date(v).toISOString()])),
        ...(s.maxLayerWindowMs === null ? {} : { maxLayerWindowSeconds: s.maxLayerWindowMs / 1000 }),
        ...(auditKey === null ? {} : { auditKey }),
        ...(s.budget === undefined ? {} : { budget: budgetSettings(s.budget) }),
      }) + '\n',
    );
    return 0;
  } finally {
    store.close();
  }
}

/** The budget limits set on a store, as `ipar settings` prints them (the window in seconds). */
function budgetSettings(b: Partial<WorkBudget>): Record<string, number> {
  return {
    ...(b.windowMs === undefined ? {} : { windowSeconds: b.windowMs / 1000 }),
    ...(b.readings === undefined ? {} : { readings: b.readings }),
    ...(b.rows === undefined ? {} : { rows: b.rows }),
  };
}
