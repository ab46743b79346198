/**
 * Stage 1: validate a request once at the boundary and turn each observation into the
 * plain data the later stages work on — address key, port, window in epoch ms, and how
 * the time was written.
 */
import type { Address } from '../src/address.js';
import { problemsFromZod, shortValue, type Problem } from '../src/problems.js';
import type { Protocol } from '../src/records.js';
import { Request, type Authorisation, type ClockStyle, type Identifiers, type ReturnPolicy } from '../src/request.js';
import type { Window } from '../src/time.js';
import { readTime, windowOf, type TimeReading } from './time.js';

export interface PlannedObservation {
  readonly index: number;
  readonly sourceIp: Address;
  readonly sourcePort: number | null;
  readonly destinationIp: Address | null;
  readonly destinationPort: number | null;
  readonly protocol: Protocol | null;
  readonly fqdn: string | null;
  readonly clock: ClockStyle;
  readonly reading: TimeReading;
  /** `[t − τ, t + p + τ)` (or `[from − τ, to + τ)`). */
  readonly window: Window;
}

export interface PlannedRequest {
  readonly ref: string;
  readonly observations: readonly PlannedObservation[];
  readonly toleranceMs: number;
  readonly identifiers: Identifiers;
  readonly returnPolicy: ReturnPolicy;
  readonly maxCandidates: number;
  readonly authorisation: Authorisation | null;
}

export type Plan =
  { readonly ok: true; readonly value: PlannedRequest } | { readonly ok: false; readonly ref: string | null; readonly errors: readonly Problem[] };

/** A request line that could not even be read as JSON; it resolves to `status: "invalid"`. */
export class UnreadableRequest {
  constructor(readonly problems: readonly Problem[]) {}
}

/** The `ref` of a request that may not be valid (for its invalid result), or `null`. */
export function refOf(input: unknown): string | null {
  if (typeof input === 'object' && input !== null && 'ref' in input) {
    const ref = (input as { ref: unknown }).ref;
    if (typeof ref === 'string') return ref.slice(0, 128);
  }
  return null;
}

/** `"timeZone"` written beside `"time"` instead of inside it: the error says where it goes. */
function zoneBesideTime(p: Problem, input: unknown): Problem {
  const m = /^observations\.(\d+)\.timeZone$/.exec(p.field);
  if (m === null || p.reason !== 'UNKNOWN_FIELD') return p;
  const o = (input as { observations?: { time?: unknown; timeZone?: unknown }[] }).observations?.[Number(m[1])];
  const local = typeof o?.time === 'string' ? o.time : '2026-03-28T10:00:00';
  const zone = typeof o?.timeZone === 'string' ? o.timeZone : 'Europe/London';
  return {
    ...p,
    message: shortValue(
      `${p.message}: a zone goes inside the time — write "time": ${JSON.stringify({ local, timeZone: zone })} (or {"from", "to", "timeZone"} for a range)`,
    ) as string,
  };
}

/**
 * Validate a request (any JSON value) and plan its observations.
 *
 * @example
 * const plan = planRequest({ ref: 'R1', observations: [{ sourceIp: '198.51.100.7', time: '2026-03-28T10:00:00Z' }] });
 * plan.ok && plan.value.observations[0].window; // { start: …T10:00:00.000Z, end: …T10:00:01.000Z }
 */
export function planRequest(input: unknown): Plan {
  if (input instanceof UnreadableRequest) return { ok: false, ref: null, errors: input.problems };
  const parsed = Request.safeParse(input);
  if (!parsed.success) return { ok: false, ref: refOf(input), errors: problemsFromZod(parsed.error, input).map((p) => zoneBesideTime(p, input)) };
  const request = parsed.data;
  const toleranceMs = Math.round(request.toleranceSeconds * 1000);
  const errors: Problem[] = [];
  const observations: PlannedObservation[] = [];
  request.observations.forEach((o, index) => {
    const reading = readTime(o.time, `observations.${index}.time`);
    if (!reading.ok) {
      errors.push(...reading.problems.map((p) => ({ ...p, value: shortValue(p.value) })));
      return;
    }
    observations.push(
      Object.freeze({
        index,
        sourceIp: o.sourceIp,
        sourcePort: o.sourcePort ?? null,
        destinationIp: o.destinationIp ?? null,
        destinationPort: o.destinationPort ?? null,
        protocol: o.protocol ?? null,
        fqdn: o.fqdn ?? null,
        clock: o.clock ?? '24h',
        reading: reading.value,
        window: windowOf(reading.value, toleranceMs),
      }),
    );
  });
  if (errors.length > 0) return { ok: false, ref: request.ref, errors };
  return {
    ok: true,
    value: Object.freeze({
      ref: request.ref,
      observations,
      toleranceMs,
      identifiers: request.identifiers ?? {},
      returnPolicy: request.returnPolicy,
      maxCandidates: request.maxCandidates,
      authorisation: request.authorisation ?? null,
    }),
  };
}
