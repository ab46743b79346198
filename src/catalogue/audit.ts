/** How `ipar audit verify` says the hash chain broke (src/audit/chain.ts). */
import { z } from 'zod';
import { codesOf, type Entry } from './entry.js';

export const AUDIT_VERDICTS = {
  CHANGED: { kind: 'audit-verdict', meaning: "an entry's content no longer matches its hash" },
  REMOVED: { kind: 'audit-verdict', meaning: 'entries are missing (a gap in `seq`, or the first entries gone)' },
  REORDERED: { kind: 'audit-verdict', meaning: 'an entry follows one written after it' },
  BROKEN_LINK: {
    kind: 'audit-verdict',
    meaning: 'an entry was changed *and* its hash recomputed, or entries were removed and the rest renumbered: the chain breaks after the entry named',
  },
  TRUNCATED: {
    kind: 'audit-verdict',
    meaning:
      'the `--head` recorded earlier is no longer in the log (entries after it were removed), or another entry stands at its number (the log was cut back and written again)',
  },
  UNREADABLE: { kind: 'audit-verdict', meaning: 'a stored column cannot be read back (e.g. `records` is not a JSON array): the entry was changed in the file' },
  UNSIGNED: { kind: 'audit-verdict', meaning: 'with `--public-key`: the entry carries no signature (written without the key, or its signature removed)' },
  BAD_SIGNATURE: {
    kind: 'audit-verdict',
    meaning: "with `--public-key`: the signature is not the key's over this entry (forged, or changed with its hash recomputed)",
  },
  NOT_SEALED: {
    kind: 'audit-verdict',
    meaning: '`audit check-result`: the result line carries no `"audit"` seal at its end (it was printed without `--sign-results`)',
  },
} as const satisfies Record<string, Entry>;

export const AuditVerdict = z.enum(codesOf(AUDIT_VERDICTS));
export type AuditVerdict = z.infer<typeof AuditVerdict>;
