/**
 * Service users (9.25, Condition D): which accounts connected to every layer's service in
 * its window. Each layer's connection evidence comes from connection records to the
 * service's destinations and from NAT sessions that logged such a destination (through the
 * allocation behind the inside address); accounts are kept by how many layers they meet,
 * and the answer says how each layer narrows the subjects — never anything of the
 * accounts' other connections.
 */
import { flag as unrated, rated, type RiskCode, type RiskDetail, type RiskOf, type Severity } from '../src/catalogue/risks.js';
import type { Address } from '../src/address.js';
import { problemsFromZod } from '../src/problems.js';
import type { Protocol } from '../src/records.js';
import {
  ServiceUsersRequest,
  type Authorisation,
  type Candidate,
  type LayerResult,
  type Refusal,
  type ReturnPolicy,
  type Risk,
  type Service,
} from '../src/request.js';
import { DEFAULT_MAX_LAYER_WINDOW_MS, type StoreReader, type StoreSettings, type StoredConnection, type StoredNatSession } from '../src/store/types.js';
import { formatInstant, type Window } from '../src/time.js';
import { authorisationRefusal, refusal } from './guard.js';
import { refOf, type Plan } from './plan.js';

/** The longest layer window a condition A, B or C request may give: a known event (9.6) is known to the hour. */
export const KNOWN_EVENT_MAX_SECONDS = 3600;

export interface PlannedService {
  readonly destinations: readonly Address[];
  readonly ports: ReadonlySet<number> | null;
  readonly protocol: Protocol | null;
}

export interface PlannedLayer {
  readonly index: number;
  readonly service: PlannedService;
  readonly window: Window;
}

export interface PlannedServiceUsers {
  readonly kind: 'service-users';
  readonly ref: string;
  readonly authorisation: Authorisation;
  readonly layers: readonly PlannedLayer[];
  readonly minLayers: number;
  readonly minConnections: number;
  readonly returnPolicy: ReturnPolicy;
  readonly maxCandidates: number;
}

export type ServicePlan = { readonly ok: true; readonly value: PlannedServiceUsers } | Extract<Plan, { ok: false }>;

export function planService(s: Service): PlannedService {
  return Object.freeze({ destinations: s.destinations, ports: s.ports === undefined ? null : new Set(s.ports), protocol: s.protocol ?? null });
}

/**
 * Validate a service-users request.
 *
 * @example
 * planServiceUsers({ ref: 'S1', kind: 'service-users', authorisation, layers: [{ service: { destinations: ['192.0.2.80'] }, window: { from, to } }] });
 */
export function planServiceUsers(input: unknown): ServicePlan {
  const parsed = ServiceUsersRequest.safeParse(input);
  if (!parsed.success) return { ok: false, ref: refOf(input), errors: problemsFromZod(parsed.error, input) };
  const r = parsed.data;
  return {
    ok: true,
    value: Object.freeze({
      kind: 'service-users',
      ref: r.ref,
      authorisation: r.authorisation,
      layers: r.layers.map((l, index) => Object.freeze({ index, service: planService(l.service), window: { start: l.window.from, end: l.window.to } })),
      minLayers: r.minLayers ?? r.layers.length,
      minConnections: r.minConnections,
      returnPolicy: r.returnPolicy,
      maxCandidates: r.maxCandidates,
    }),
  };
}

// ---- guardrails ------------------------------------------------------------------------

/** The bound every layer (and every connection-records window) must keep, from the store's settings. */
export const maxLayerWindowMs = (settings: StoreSettings): number => settings.maxLayerWindowMs ?? DEFAULT_MAX_LAYER_WINDOW_MS;

/**
 * Refusals common to every request that processes internet connection records: 9.14
 * (local authorities, any purpose) and Condition D's authorities and purposes.
 */
export function connectionRecordsRefusal(a: Authorisation): Refusal | null {
  return authorisationRefusal(
    a,
    true,
    `a local authority may not seek the processing of internet connection records for any purpose (condition ${a.condition})`,
  );
}

/**
 * The refusal for a service-users request, or `null`: the common ones, then a condition
 * other than D needs known events (each window at most {@link KNOWN_EVENT_MAX_SECONDS}),
 * and every layer's window is bounded by the store setting.
 *
 * @example
 * serviceUsersRefusal(plan, settings)?.code; // 'NOT_KNOWN_EVENT' for a week-long layer under condition A
 */
export function serviceUsersRefusal(plan: PlannedServiceUsers, settings: StoreSettings): Refusal | null {
  const common = connectionRecordsRefusal(plan.authorisation);
  if (common !== null) return common;
  const seconds = (w: Window): number => (w.end - w.start) / 1000;
  if (plan.authorisation.condition !== 'D') {
    const wide = plan.layers.find((l) => seconds(l.window) > KNOWN_EVENT_MAX_SECONDS);
    if (wide !== undefined) {
      return refusal(
        'NOT_KNOWN_EVENT',
        `layer ${wide.index} spans ${seconds(wide.window)} s: under condition ${plan.authorisation.condition} the time of use must be a known event (at most ${KNOWN_EVENT_MAX_SECONDS} s, 9.6); a specified period is Condition D`,
      );
    }
  }
  const bound = maxLayerWindowMs(settings);
  const tooLong = plan.layers.find((l) => l.window.end - l.window.start > bound);
  if (tooLong !== undefined) {
    return refusal(
      'LAYER_WINDOW_TOO_LONG',
      `layer ${tooLong.index} spans ${seconds(tooLong.window)} s, more than the store's bound of ${bound / 1000} s a layer`,
    );
  }
  return null;
}

// ---- connection evidence ---------------------------------------------------------------

/** One connection attributed (or not) to accounts: a connection record or a NAT session with a destination. */
export interface ConnectionEvidence {
  readonly record: StoredConnection | StoredNatSession;
  readonly start: number;
  readonly end: number | null;
  readonly accounts: readonly string[];
}

/** Whether a connection's destination port and protocol fit a service (its address is checked by the store). */
export function fitsService(service: PlannedService, destinationPort: number | undefined, protocol: string | undefined): boolean {
  if (service.ports !== null && (destinationPort === undefined || !service.ports.has(destinationPort))) return false;
  if (service.protocol !== null && protocol !== undefined && protocol !== service.protocol) return false;
  return service.protocol === null || protocol !== undefined;
}

/** Whether an address falls in a destination address or prefix. */
export function inDestination(destination: Address, address: Address): boolean {
  if (destination.family !== address.family) return false;
  const bits = destination.length;
  for (let bit = 0; bit < bits; bit++) {
    const m = 0x80 >> (bit & 7);
    if ((destination.key[bit >> 3]! & m) !== (address.key[bit >> 3]! & m)) return false;
  }
  return true;
}

const overlap = (w: Window, start: number, end: number | null): Window => ({ start: Math.max(w.start, start), end: Math.min(w.end, end ?? Infinity) });

/**
 * Attribute connection records and sessions to accounts, in one batched allocation read:
 * a record's own account; otherwise the allocations of its source (a session's inside
 * address, in its realm) over the part of `window` the connection held.
 */
export async function attribute(
  store: StoreReader,
  items: readonly { readonly record: StoredConnection | StoredNatSession; readonly window: Window }[],
): Promise<ConnectionEvidence[]> {
  const queries: { address: Address; realm: string | null; window: Window }[] = [];
  const at: number[] = [];
  for (const { record: r, window } of items) {
    if (r.kind === 'connection' && r.account !== undefined) {
      at.push(-1);
      continue;
    }
    at.push(queries.length);
    const w = overlap(window, r.start, r.end);
    queries.push(r.kind === 'connection' ? { address: r.sourceIp, realm: r.realm ?? null, window: w } : { address: r.insideIp, realm: r.realm, window: w });
  }
  const allocations = queries.length === 0 ? [] : await store.allocations(queries);
  return items.map(({ record: r }, i) => {
    const q = at[i]!;
    const accounts = q === -1 ? [(r as StoredConnection).account!] : [...new Set(allocations[q]!.map((a) => a.account))].sort();
    return { record: r, start: r.start, end: r.end, accounts };
  });
}

/** Every layer's connection evidence: one batched read of connections, one of sessions, one of allocations. */
export async function layerEvidence(store: StoreReader, layers: readonly PlannedLayer[]): Promise<ConnectionEvidence[][]> {
  const queries = layers.flatMap((l) => l.service.destinations.map((destination) => ({ layer: l.index, destination, window: l.window })));
  const [connections, sessions] = await Promise.all([store.connectionsTo(queries), store.natSessionsTo(queries)]);
  const items: { layer: number; record: StoredConnection | StoredNatSession; window: Window }[] = [];
  const seen = layers.map(() => new Set<string>());
  queries.forEach((q, k) => {
    const service = layers[q.layer]!.service;
    for (const r of [...connections[k]!, ...sessions[k]!]) {
      // Overlapping destinations in one layer (an address and its prefix) count a record once.
      if (seen[q.layer]!.has(r.id) || !fitsService(service, r.destinationPort, r.protocol)) continue;
      seen[q.layer]!.add(r.id);
      items.push({ layer: q.layer, record: r, window: q.window });
    }
  });
  const attributed = await attribute(store, items);
  const out: ConnectionEvidence[][] = layers.map(() => []);
  attributed.forEach((e, i) => out[items[i]!.layer]!.push(e));
  return out;
}

// ---- the answer --------------------------------------------------------------------------

interface Seen {
  count: number;
  first: number;
  last: number;
}

/** Per layer, each account's connections: count, first start and last end. */
export function perAccount(evidence: readonly ConnectionEvidence[]): Map<string, Seen> {
  const out = new Map<string, Seen>();
  for (const e of evidence) {
    for (const account of e.accounts) {
      const s = out.get(account);
      const last = e.end ?? e.start;
      if (s === undefined) out.set(account, { count: 1, first: e.start, last });
      else {
        s.count++;
        s.first = Math.min(s.first, e.start);
        s.last = Math.max(s.last, last);
      }
    }
  }
  return out;
}

export interface ServiceUsersAnswer {
  /** Accounts meeting at least `minLayers` layers, sorted, with their layers and counts. */
  readonly candidates: readonly Candidate[];
  readonly layers: readonly LayerResult[];
  /** For k = 1…n, how many accounts meet exactly k layers. */
  readonly supportCounts: readonly number[];
  /** Per layer: accounts that connected but fewer than `minConnections` times. */
  readonly belowMin: readonly number[];
  /** Per layer: candidates that meet it with a single connection. */
  readonly single: readonly number[];
}

/**
 * Combine the layers: an account meets a layer with at least `minConnections` of its
 * connections there; it is kept when it meets `minLayers` of them. Pure.
 *
 * @example
 * combineLayers([new Map([['A', seen]]), new Map([['A', seen], ['B', seen]])], 2, 1).layers; // [{index:0,matched:1,remaining:1},{index:1,matched:2,remaining:1}]
 */
export function combineLayers(perLayer: readonly ReadonlyMap<string, Seen>[], minLayers: number, minConnections: number): ServiceUsersAnswer {
  const n = perLayer.length;
  const met = new Map<string, number[]>();
  const belowMin = perLayer.map(() => 0);
  const layers: LayerResult[] = [];
  let remaining: Set<string> | null = null;
  perLayer.forEach((accounts, index) => {
    const matched = new Set<string>();
    for (const [account, s] of accounts) {
      if (s.count < minConnections) {
        belowMin[index]!++;
        continue;
      }
      matched.add(account);
      let m = met.get(account);
      if (m === undefined) met.set(account, (m = []));
      m.push(index);
    }
    remaining = remaining === null ? matched : new Set([...remaining].filter((a) => matched.has(a)));
    layers.push({ index, matched: matched.size, remaining: remaining.size });
  });
  const supportCounts = new Array<number>(n).fill(0);
  for (const m of met.values()) supportCounts[m.length - 1]!++;
  const single = perLayer.map(() => 0);
  const candidates: Candidate[] = [];
  for (const [account, m] of [...met].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
    if (m.length < minLayers) continue;
    let connections = 0;
    let first = Infinity;
    let last = -Infinity;
    for (const i of m) {
      const s = perLayer[i]!.get(account)!;
      connections += s.count;
      first = Math.min(first, s.first);
      last = Math.max(last, s.last);
      if (s.count === 1) single[i]!++;
    }
    candidates.push({
      account,
      support: m.length,
      of: n,
      evidence: [],
      layers: m,
      connections,
      firstSeen: formatInstant(first),
      lastSeen: formatInstant(last),
    });
  }
  return { candidates, layers, supportCounts, belowMin, single };
}

/** The codes the service-users and connection-records requests raise (IP resolution's are matcher/risk.ts's RISK_RULES). */
export const CONNECTION_RISK_CODES = [
  'SHARED_DESTINATION',
  'NO_DESTINATION_LOGGED',
  'BELOW_MIN_CONNECTIONS',
  'SINGLE_CONNECTION',
  'CONNECTION_COVERAGE_GAP',
] as const satisfies readonly RiskCode[];
type ConnectionRiskCode = (typeof CONNECTION_RISK_CODES)[number];

/**
 * Severity of the connection flags (issue 18), as data: each catalogue entry's `material`
 * text says why. Material when the fact can change who would be disclosed (a shared
 * address, a connection that may be automatic, a realm or a gap that hides users); the
 * request's own `minConnections` bar is a note.
 */
export const CONNECTION_SEVERITY: Readonly<Record<ConnectionRiskCode, Severity>> = {
  SHARED_DESTINATION: 'material',
  NO_DESTINATION_LOGGED: 'material',
  BELOW_MIN_CONNECTIONS: 'note',
  SINGLE_CONNECTION: 'material',
  CONNECTION_COVERAGE_GAP: 'material',
};

/** A connection flag with its severity from {@link CONNECTION_SEVERITY}. */
export function flag<C extends ConnectionRiskCode>(code: C, message: string, detail: RiskDetail<C>): RiskOf<C> {
  return rated(unrated(code, message, detail), CONNECTION_SEVERITY[code]);
}

/** The flags of a service-users answer (counts only, never another account's identity). */
export function serviceUsersRisks(
  plan: PlannedServiceUsers,
  answer: ServiceUsersAnswer,
  evidence: readonly (readonly ConnectionEvidence[])[],
  settings: StoreSettings,
  gaps: readonly (readonly { source: string; start: number; end: number | null }[])[],
): Risk[] {
  const risks: Risk[] = [];
  plan.layers.forEach((layer, i) => {
    for (const destination of layer.service.destinations) {
      const services = new Set<string>();
      for (const e of evidence[i]!)
        if (e.record.kind === 'connection' && e.record.service !== undefined && inDestination(destination, e.record.destinationIp))
          services.add(e.record.service);
      if (services.size > 1) {
        risks.push(
          flag(
            'SHARED_DESTINATION',
            `layer ${i}: destination ${destination.text} carries connections of ${services.size} services: the address does not prove the service`,
            { layer: i, destination: destination.text, services: services.size },
          ),
        );
      }
    }
  });
  if (settings.realmsWithoutDestination.length > 0) {
    const realms = settings.realmsWithoutDestination;
    risks.push(
      flag(
        'NO_DESTINATION_LOGGED',
        `NAT realms ${realms.join(', ')} log no destination: their users' connections cannot be found, so they cannot be answered`,
        { realms: [...realms] },
      ),
    );
  }
  answer.belowMin.forEach((accounts, i) => {
    if (accounts > 0) {
      risks.push(
        flag(
          'BELOW_MIN_CONNECTIONS',
          `layer ${i}: ${accounts} accounts connected fewer than ${plan.minConnections} times and were not counted (automatic connections, 2.80)`,
          { layer: i, accounts, minConnections: plan.minConnections },
        ),
      );
    }
  });
  answer.single.forEach((candidates, i) => {
    if (candidates > 0)
      risks.push(
        flag('SINGLE_CONNECTION', `layer ${i}: ${candidates} accounts of the answer meet it with a single connection, which may be automatic (2.80)`, {
          layer: i,
          candidates,
        }),
      );
  });
  gaps.forEach((g, i) => {
    if (g.length > 0) {
      risks.push(
        flag('CONNECTION_COVERAGE_GAP', `layer ${i}: ${g.length} declared coverage gaps overlap its window`, {
          layer: i,
          gaps: g.slice(0, 10).map((x) => ({ source: x.source, start: formatInstant(x.start), end: x.end === null ? null : formatInstant(x.end) })),
        }),
      );
    }
  });
  return risks;
}

/** What the pipeline renders for a service-users request. */
export interface ServiceUsersOutcome {
  readonly plan: PlannedServiceUsers;
  readonly answer: ServiceUsersAnswer;
  readonly risks: readonly Risk[];
}

/**
 * Answer service-users requests (already planned and not refused), batching every store read.
 *
 * @example
 * const [outcome] = await matchServiceUsers(store, [plan], settings);
 * outcome.answer.layers; // [{ index: 0, matched: 12, remaining: 12 }, { index: 1, matched: 30, remaining: 3 }]
 */
export async function matchServiceUsers(store: StoreReader, plans: readonly PlannedServiceUsers[], settings: StoreSettings): Promise<ServiceUsersOutcome[]> {
  const out: ServiceUsersOutcome[] = [];
  for (const plan of plans) {
    const [evidence, gaps] = await Promise.all([
      layerEvidence(store, plan.layers),
      store.coverageGaps(plan.layers.map((l) => ({ source: null, window: l.window }))),
    ]);
    const answer = combineLayers(evidence.map(perAccount), plan.minLayers, plan.minConnections);
    out.push({ plan, answer, risks: serviceUsersRisks(plan, answer, evidence, settings, gaps) });
  }
  return out;
}
