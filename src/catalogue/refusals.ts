/**
 * Why a request is refused before any record is read (matcher/guard.ts): 9.14 and
 * Condition D of the code of practice.
 */
import { z } from 'zod';
import { codesOf, type Entry } from './entry.js';

export const REFUSALS = {
  LOCAL_AUTHORITY_ICR: { kind: 'refusal', paragraph: '9.14', meaning: 'a local authority asks for anything that processes internet connection records (a destination counts, 9.22; so does Condition D)' },
  CONDITION_D_AUTHORITY: { kind: 'refusal', paragraph: 'Condition D', meaning: 'Condition D from anyone but the intelligence community or the National Crime Agency' },
  CONDITION_D_PURPOSE: { kind: 'refusal', paragraph: 'Condition D', meaning: 'Condition D for a purpose other than national security, economic well-being relevant to it, or serious crime' },
} as const satisfies Record<string, Entry & { readonly paragraph: string }>;

export const RefusalCode = z.enum(codesOf(REFUSALS));
export type RefusalCode = z.infer<typeof RefusalCode>;
