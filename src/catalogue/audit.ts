/** How `ipar audit verify` says the hash chain broke (src/audit/chain.ts). */
import { z } from 'zod';
import { codesOf, type Entry } from './entry.js';

export const AUDIT_VERDICTS = {
  CHANGED: { kind: 'audit-verdict', meaning: "an entry's content no longer matches its hash" },
  REMOVED: { kind: 'audit-verdict', meaning: 'entries are missing (a gap in `seq`, or the first entries gone)' },
  REORDERED: { kind: 'audit-verdict', meaning: 'an entry follows one written after it' },
  BROKEN_LINK: { kind: 'audit-verdict', meaning: 'an entry was changed *and* its hash recomputed, or entries were removed and the rest renumbered: the chain breaks after the entry named' },
  TRUNCATED: { kind: 'audit-verdict', meaning: 'the `--head` hash recorded earlier is no longer in the log' },
} as const satisfies Record<string, Entry>;

export const AuditVerdict = z.enum(codesOf(AUDIT_VERDICTS));
export type AuditVerdict = z.infer<typeof AuditVerdict>;
