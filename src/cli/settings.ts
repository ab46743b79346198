/** `ipar settings`: the store settings risk analysis needs (retention horizon, clock errors). */
import { parseInstant } from '../time.js';
import { IparError } from '../problems.js';
import { openSqliteStore } from '../store/sqlite/store.js';
import type { Io } from './io.js';

export interface SettingsCommand {
  readonly db: string;
  readonly retentionHorizon?: string;
  /** `SOURCE=SECONDS`, or `SOURCE=` to remove. */
  readonly clockErrors: readonly string[];
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
    const s = await store.settings();
    io.stdout.write(
      JSON.stringify({
        retentionHorizon: s.retentionHorizon === null ? null : new Date(s.retentionHorizon).toISOString(),
        clockErrorSeconds: Object.fromEntries(Object.entries(s.clockErrorMs).map(([k, v]) => [k, v / 1000])),
      }) + '\n',
    );
    return 0;
  } finally {
    store.close();
  }
}
