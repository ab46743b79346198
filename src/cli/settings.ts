/** `ipar settings`: the store settings risk analysis needs (retention horizon, clock errors). */
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
  /** The audit key file resolve and estimate sign with by default; `""` removes it. */
  readonly auditKey?: string;
  /** Seconds a service-users layer or a connection-records window may span; `""` removes the setting. */
  readonly maxLayerWindow?: string;
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
    if (cmd.maxLayerWindow !== undefined) {
      if (cmd.maxLayerWindow !== '' && !/^\d+$/.test(cmd.maxLayerWindow)) throw new IparError('USAGE', `--max-layer-window takes whole seconds, got ${JSON.stringify(cmd.maxLayerWindow)}`);
      await store.setSetting('maxLayerWindow', cmd.maxLayerWindow === '' ? null : Number(cmd.maxLayerWindow) * 1000);
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
        ...(s.maxLayerWindowMs === null ? {} : { maxLayerWindowSeconds: s.maxLayerWindowMs / 1000 }),
        ...(auditKey === null ? {} : { auditKey }),
      }) + '\n',
    );
    return 0;
  } finally {
    store.close();
  }
}
