/**
 * Connection records of a subject (9.7–9.13): the connection records of an account, or of
 * the user of a source address at a time (resolved first, as an IP resolution), over a
 * window. Records of services other than those asked for are held back (9.13, excess
 * data) unless the request asks for all, and the answer says how many were.
 */
import type { Address } from '../src/address.js';
import { problemsFromZod } from '../src/problems.js';
import { ConnectionRecordsRequest, type Authorisation, type ConnectionResult, type Risk } from '../src/request.js';
import type { StoreReader, StoreSettings, StoredConnection, StoredNatSession } from '../src/store/types.js';
import { formatInstant, type Window } from '../src/time.js';
import { matchPlans } from './pipeline.js';
import { planRequest, refOf, type Plan, type PlannedRequest } from './plan.js';
import { refusal } from './guard.js';
import { connectionRecordsRefusal, fitsService, flag, inDestination, maxLayerWindowMs, planService, type PlannedService } from './services.js';
import type { Refusal } from '../src/request.js';

export interface PlannedConnectionRecords {
  readonly kind: 'connection-records';
  readonly ref: string;
  readonly authorisation: Authorisation;
  /** The subject: an account, or an IP resolution (one observation) that finds it. */
  readonly subject: { readonly account: string } | { readonly resolve: PlannedRequest };
  readonly window: Window;
  /** `null`: every service is of interest. */
  readonly services: readonly PlannedService[] | null;
  readonly all: boolean;
}

export type ConnectionPlan = { readonly ok: true; readonly value: PlannedConnectionRecords } | Extract<Plan, { ok: false }>;

/**
 * Validate a connection-records request; a subject given by address is planned as the
 * IP resolution that finds it.
 *
 * @example
 * planConnectionRecords({ ref: 'C1', kind: 'connection-records', authorisation, subject: { account: 'ACC-1' }, window: { from, to } });
 */
export function planConnectionRecords(input: unknown): ConnectionPlan {
  const parsed = ConnectionRecordsRequest.safeParse(input);
  if (!parsed.success) return { ok: false, ref: refOf(input), errors: problemsFromZod(parsed.error, input) };
  const r = parsed.data;
  let subject: PlannedConnectionRecords['subject'];
  if ('account' in r.subject) subject = { account: r.subject.account };
  else {
    const s = r.subject;
    const p = planRequest({
      ref: r.ref,
      observations: [{ sourceIp: s.sourceIp.text, ...(s.sourcePort === undefined ? {} : { sourcePort: s.sourcePort }), time: s.time }],
      toleranceSeconds: s.toleranceSeconds,
    });
    if (!p.ok) return { ok: false, ref: r.ref, errors: p.errors.map((e) => ({ ...e, field: e.field.replace(/^observations\.0\./, 'subject.') })) };
    subject = { resolve: p.value };
  }
  return {
    ok: true,
    value: Object.freeze({
      kind: 'connection-records',
      ref: r.ref,
      authorisation: r.authorisation,
      subject,
      window: { start: r.window.from, end: r.window.to },
      services: r.services === undefined ? null : r.services.map(planService),
      all: r.all,
    }),
  };
}

/** The refusal for a connection-records request, or `null`: 9.14, Condition D, and the window bound (9.8). */
export function connectionRecordsRequestRefusal(plan: PlannedConnectionRecords, settings: StoreSettings): Refusal | null {
  const common = connectionRecordsRefusal(plan.authorisation);
  if (common !== null) return common;
  const bound = maxLayerWindowMs(settings);
  const span = plan.window.end - plan.window.start;
  if (span > bound)
    return refusal(
      'RECORDS_WINDOW_TOO_LONG',
      `the window spans ${span / 1000} s, more than the store's bound of ${bound / 1000} s (9.8: no longer than necessary)`,
    );
  return null;
}

/** A record in the disclosed form (no account: the subject is the request's). */
export function connectionResult(r: StoredConnection | StoredNatSession): ConnectionResult {
  const out: Record<string, unknown> = { kind: r.kind, id: r.id, start: formatInstant(r.start), end: r.end === null ? null : formatInstant(r.end) };
  if (r.kind === 'connection') {
    out['sourceIp'] = r.sourceIp.text;
    if (r.sourcePort !== undefined) out['sourcePort'] = r.sourcePort;
  } else {
    out['sourceIp'] = r.outsideIp.text;
    out['sourcePort'] = r.outsidePort;
  }
  out['destinationIp'] = r.destinationIp!.text;
  if (r.destinationPort !== undefined) out['destinationPort'] = r.destinationPort;
  if (r.protocol !== undefined) out['protocol'] = r.protocol;
  if (r.kind === 'connection') {
    if (r.service !== undefined) out['service'] = r.service;
    if (r.bytesUp !== undefined) out['bytesUp'] = r.bytesUp;
    if (r.bytesDown !== undefined) out['bytesDown'] = r.bytesDown;
  }
  return out as ConnectionResult;
}

/** What the pipeline renders for a connection-records request. */
export interface ConnectionRecordsOutcome {
  readonly plan: PlannedConnectionRecords;
  /** How many accounts the subject resolved to (1 for an account; 0 or several: nothing is disclosed). */
  readonly subjects: number;
  /** The subject's account when it is one. */
  readonly account: string | null;
  /** The records of the services of interest, by start. */
  readonly records: readonly ConnectionResult[];
  readonly heldBack: number;
  readonly risks: readonly Risk[];
}

const within = (w: Window, start: number, end: number | null): Window | null => {
  const s = Math.max(w.start, start);
  const e = Math.min(w.end, end ?? Infinity);
  return e > s ? { start: s, end: e } : null;
};

/**
 * Answer connection-records requests (already planned and not refused).
 *
 * @example
 * const [o] = await matchConnectionRecords(store, [plan], settings);
 * o.records.length; o.heldBack; // records disclosed, records of other services held back
 */
export async function matchConnectionRecords(
  store: StoreReader,
  plans: readonly PlannedConnectionRecords[],
  settings: StoreSettings,
): Promise<ConnectionRecordsOutcome[]> {
  const out: ConnectionRecordsOutcome[] = [];
  for (const plan of plans) {
    let account: string | null = null;
    let subjects = 1;
    // The addresses the subject held in the window, when found through a resolution.
    const held: { address: Address; realm: string | null; window: Window }[] = [];
    if ('account' in plan.subject) account = plan.subject.account;
    else {
      const [trace] = await matchPlans(store, [plan.subject.resolve]);
      const candidates = trace!.correlation.candidates;
      subjects = candidates.length;
      if (subjects === 1) {
        account = candidates[0]!.account;
        for (const a of trace!.observations[0]!.matches.allocations) {
          const w = a.account === account ? within(plan.window, a.start, a.end) : null;
          if (w !== null) held.push({ address: a.ip, realm: a.realm ?? null, window: w });
        }
      }
    }
    if (account === null) {
      out.push({ plan, subjects, account: null, records: [], heldBack: 0, risks: [] });
      continue;
    }
    const behindNat = held.filter((h) => h.realm !== null);
    const [byAccount, bySource, sessions, gaps] = await Promise.all([
      store.connectionsFrom([{ account, window: plan.window }]),
      store.connectionsFrom(held.map((h) => ({ source: h.address, realm: h.realm, window: h.window }))),
      store.natSessionsFrom(behindNat.map((h) => ({ source: h.address, realm: h.realm, window: h.window }))),
      store.coverageGaps([{ source: null, window: plan.window }]),
    ]);
    const seen = new Set<string>();
    const all: (StoredConnection | StoredNatSession)[] = [];
    for (const r of [...byAccount.flat(), ...bySource.flat(), ...sessions.flat()]) {
      // A session without a destination says nothing of a service; records of another account on a shared source are not the subject's.
      if (r.kind === 'nat-session' && r.destinationIp === undefined) continue;
      if (r.kind === 'connection' && r.account !== undefined && r.account !== account) continue;
      if (seen.has(r.id)) continue;
      seen.add(r.id);
      all.push(r);
    }
    all.sort((a, b) => a.start - b.start || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const ofInterest = (r: StoredConnection | StoredNatSession): boolean =>
      plan.services === null ||
      plan.services.some((s) => s.destinations.some((d) => inDestination(d, r.destinationIp!)) && fitsService(s, r.destinationPort, r.protocol));
    const kept = plan.all ? all : all.filter(ofInterest);
    const risks: Risk[] = [];
    if (gaps[0]!.length > 0) {
      const g = gaps[0]!;
      risks.push(
        flag('CONNECTION_COVERAGE_GAP', `${g.length} declared coverage gaps overlap the window`, {
          layer: 0,
          gaps: g.slice(0, 10).map((x) => ({ source: x.source, start: formatInstant(x.start), end: x.end === null ? null : formatInstant(x.end) })),
        }),
      );
    }
    if (settings.realmsWithoutDestination.length > 0 && behindNat.some((h) => settings.realmsWithoutDestination.includes(h.realm!))) {
      const realms = [...new Set(behindNat.map((h) => h.realm!).filter((r) => settings.realmsWithoutDestination.includes(r)))].sort();
      risks.push(
        flag(
          'NO_DESTINATION_LOGGED',
          `the subject is behind NAT realms ${realms.join(', ')}, whose logs carry no destination: its connections through them cannot be listed`,
          { realms },
        ),
      );
    }
    out.push({ plan, subjects, account, records: kept.map(connectionResult), heldBack: all.length - kept.length, risks });
  }
  return out;
}
