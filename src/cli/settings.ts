/** `ipar settings`: the store settings risk analysis needs (retention horizon, clock errors). */
import { IANAZone } from 'luxon';
import { parseInstant } from '../time.js';
import { IparError } from '../problems.js';
import { resolve as resolvePath } from 'node:path';
import { readAuditKeySetting, writeAuditKeySetting } from '../store/sqlite/audit.js';
import { openSqliteStore } from '../store/sqlite/store.js';
import { readPrivateKey } from './audit.js';
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
}

export async function runSettings(cmd: SettingsCommand, io: Io): Promise<number> {
  const store = openSqliteStore(cmd.db);
  try {
    if (cmd.retentionHorizon !== undefined) {
      const r = parseInstant(cmd.retentionHorizon);
      if (!r.ok) throw new IparError('USAGE', `--retention-horizon: ${r.message}`);
      await store.setSetting('retentionHorizon', r.value.ms);
    }
    for (const spec of cmd.clockErrors) {
      const m = /^([^=]+)=(\d+(?:\.\d+)?)?$/.exec(spec);
      if (m === null) throw new IparError('USAGE', `--clock-error takes SOURCE=SECONDS, got ${JSON.stringify(spec)}`);
      await store.setSetting(`clockError.${m[1]!}`, m[2] === undefined ? null : Math.round(Number(m[2]) * 1000));
    }
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
      if (cmd.jurisdictionZone !== '' && !IANAZone.isValidZone(cmd.jurisdictionZone)) throw new IparError('USAGE', `--jurisdiction-zone: not an IANA time zone: ${JSON.stringify(cmd.jurisdictionZone)}`);
      await store.setSetting('jurisdictionZone', cmd.jurisdictionZone === '' ? null : cmd.jurisdictionZone);
    }
    if (cmd.auditKey !== undefined) {
      if (cmd.auditKey !== '') readPrivateKey(cmd.auditKey); // a key that cannot sign is refused now, not at the next resolve
      writeAuditKeySetting(cmd.db, cmd.auditKey === '' ? null : resolvePath(cmd.auditKey));
    }
    const s = await store.settings();
    const auditKey = readAuditKeySetting(cmd.db);
    io.stdout.write(
      JSON.stringify({
        retentionHorizon: s.retentionHorizon === null ? null : new Date(s.retentionHorizon).toISOString(),
        clockErrorSeconds: Object.fromEntries(Object.entries(s.clockErrorMs).map(([k, v]) => [k, v / 1000])),
        jurisdictionZone: s.jurisdictionZone,
        zoneChanges: Object.fromEntries(Object.entries(s.zoneChangeAt).map(([k, v]) => [k, new Date(v).toISOString()])),
        ...(auditKey === null ? {} : { auditKey }),
      }) + '\n',
    );
    return 0;
  } finally {
    store.close();
  }
}
