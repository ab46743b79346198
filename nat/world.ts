/**
 * The simulated operator (internal to nat/simulate.ts): a discrete-event loop over
 * subscribers that come online, get an address, have spells of activity, use NAT port
 * blocks, sessions or deterministic shares, and go offline. Every record is emitted when
 * its interval starts (its end is decided then), so the stream is in start order and
 * needs memory for the subscribers' current state only, never for the records.
 *
 * Three independent random streams: the world (who does what when), the logs (which
 * records a gap loses or whose stop is missing) and the requests (which events an
 * authority asks about and how it writes them). Changing request noise therefore never
 * changes the records.
 *
 * This file composes the run; each concern has its file: world-types.ts (settings and
 * output), world-plan.ts (address plan, pools, NAT devices), world-subscribers.ts (who is
 * who), world-gaps.ts (log gaps and record fates), world-context.ts (shared state),
 * world-allocations.ts (dynamic allocations), world-nat.ts (CGNAT realms and NAT records),
 * world-activity.ts (spells and activities), world-requests.ts (requests and their truth).
 */
import { createContext } from './world-context.js';
import { allocations } from './world-allocations.js';
import { activities } from './world-activity.js';
import { natRecords } from './world-nat.js';
import { MIN, PLAN, RHYTHM } from './world-plan.js';
import { ACTIVITY, DYNAMIC_SHARE, EXTRA_BLOCK, GAP, ONLINE, REQUEST_MARK, SPELL } from './world-queue.js';
import { requestDesk } from './world-requests.js';
import type { SimItem, WorldConfig } from './world-types.js';

export { PLAN } from './world-plan.js';
export { SEGMENTS } from './world-types.js';
export type {
  Holding,
  RecordFate,
  RequestNoise,
  Segment,
  SimItem,
  SimObservation,
  SimRequest,
  SimTruth,
  TruthObservation,
  WorldConfig,
} from './world-types.js';

/**
 * Run the world: yields header records, then records, holdings, requests and truths in
 * simulated time order.
 */
export function* runWorld(config: WorldConfig, seed: number): Generator<SimItem> {
  const ctx = createContext(config, seed);
  const { world, ask, S, END, N, iso, account, segment, present, typeOf, detInput, gaps, pending, requestSeeds, presentCodes, out, queue, schedule, record } =
    ctx;

  // ---- header -------------------------------------------------------------------------
  const space = (prefix: string, role: 'dynamic' | 'static' | 'cgnat-outside' | 'server' | 'infrastructure', realm?: string): void =>
    record(S, { kind: 'address-space', prefix, role, ...(realm === undefined ? {} : { realm }) });
  if (present('dhcp')) space(PLAN.dhcp.prefix, 'dynamic');
  if (present('pd')) space(PLAN.pd.prefix, 'dynamic');
  if (present('pba')) space(PLAN.pba.outside, 'cgnat-outside', PLAN.pba.realm);
  if (present('ses')) space(PLAN.ses.outside, 'cgnat-outside', PLAN.ses.realm);
  if (present('det')) space(PLAN.det.outside, 'cgnat-outside', PLAN.det.realm);
  if (present('wifi')) space(PLAN.wifi.outside, 'cgnat-outside', PLAN.wifi.realm);
  space(PLAN.server, 'server');
  space(PLAN.infrastructure, 'infrastructure');
  yield* out.splice(0);
  for (let i = 0; i < N; i++) yield { stream: 'record', at: S, value: { kind: 'subscriber', account: account(i), type: typeOf[i]! } };
  if (detInput !== null) yield { stream: 'record', at: S, value: detInput };

  // ---- initial events -----------------------------------------------------------------
  for (let i = 0; i < N; i++) {
    const r = RHYTHM[segment(i)];
    schedule(world.chance(r.initialOnline) ? S + world.float() * 5 * MIN : S + world.exponential(r.offline), i, ONLINE);
  }
  gaps.forEach((g, k) => {
    if (g.declared) schedule(g.start, k, GAP);
  });
  for (let k = 0; k < config.requests; k++) schedule(S + ask.float() * (END - S), 0, REQUEST_MARK);

  const { online } = allocations(ctx);
  const nat = natRecords(ctx);
  const { natBlock, dynamicAllocator } = nat;
  const desk = requestDesk(ctx);
  const { finish } = desk;
  const { spell, activity } = activities(ctx, nat, desk);

  // ---- the loop ---------------------------------------------------------------------
  while (queue.pop()) {
    const t = queue.t;
    const i = queue.sub;
    switch (queue.kind) {
      case ONLINE:
        online(t, i);
        break;
      case SPELL:
        spell(t, i);
        break;
      case ACTIVITY:
        activity(t, i);
        break;
      case EXTRA_BLOCK:
        natBlock(t, i, segment(i) === 'pba' ? ctx.pbaNat! : ctx.wifiNat!, segment(i) === 'pba' ? PLAN.pba.realm : PLAN.wifi.realm, false);
        break;
      case DYNAMIC_SHARE:
        natBlock(t, i, dynamicAllocator(ctx.detOutside[i]!), PLAN.det.realm, true);
        break;
      case GAP: {
        const g = gaps[i]!;
        record(t, { kind: 'coverage', source: g.source, start: iso(g.start), end: iso(g.end), status: 'gap' });
        break;
      }
      case REQUEST_MARK:
        requestSeeds[ask.pick(presentCodes)]!++;
        break;
    }
    if (out.length > 0) yield* out.splice(0);
  }
  for (const p of [...pending.values()]) finish(p, END);
  yield* out.splice(0);
}
