/**
 * The simulated operator's spells and activities (see world.ts): a subscriber online has
 * spells of activity (each may take NAT port blocks), and each activity may open a
 * session and be what a request asks about.
 */
import type { WorldContext } from './world-context.js';
import type { natRecords } from './world-nat.js';
import { BLOCK_IDLE_MS, BURST, DAY, HOUR, MIN, PLAN, RHYTHM } from './world-plan.js';
import { ACTIVITY, DYNAMIC_SHARE, EXTRA_BLOCK, SPELL } from './world-queue.js';
import type { Pending } from './world-context.js';
import type { requestDesk } from './world-requests.js';

/** The SPELL and ACTIVITY events of each subscriber. */
export function activities(ctx: WorldContext, nat: ReturnType<typeof natRecords>, desk: ReturnType<typeof requestDesk>) {
  const { config, world, ask, schedule, segment, segOf, onlineEnd, spellEnd, holdEnd, pending, requestSeeds } = ctx;
  const { natBlock, connect } = nat;
  const { observe, drawNoise, finish } = desk;

  const spell = (t: number, i: number): void => {
    const seg = segment(i);
    const r = RHYTHM[seg];
    const end = Math.min(Math.floor(t + Math.max(MIN, world.exponential(r.spell))), onlineEnd[i]!);
    spellEnd[i] = end;
    holdEnd[i] = Math.min(end + BLOCK_IDLE_MS, onlineEnd[i]!);
    if (seg === 'pba' || seg === 'wifi') {
      const nat = seg === 'pba' ? ctx.pbaNat! : ctx.wifiNat!;
      natBlock(t, i, nat, seg === 'pba' ? PLAN.pba.realm : PLAN.wifi.realm, false);
      if (nat.maxBlocksPerSubscriber > 1 && world.chance(BURST[seg])) {
        const extra = world.between(1, nat.maxBlocksPerSubscriber - 1);
        for (let k = 0; k < extra; k++) schedule(t + world.float() * (end - t), i, EXTRA_BLOCK, end);
      }
    } else if (seg === 'det' && ctx.detLayout !== null && ctx.detLayout.totalShares > ctx.detLayout.sharesPerAddress && world.chance(BURST.det)) {
      schedule(t + world.float() * (end - t), i, DYNAMIC_SHARE, end);
    }
    activity(t, i);
  };

  const activity = (t: number, i: number): void => {
    if (segment(i) === 'ses') connect(t, i);
    const p = pending.get(i);
    if (p !== undefined) {
      const seen = t >= p.deadline || t < p.nextAfter ? null : observe(t, i);
      if (t >= p.deadline) finish(p, t);
      else if (seen !== null) {
        p.events.push(seen);
        if (p.events.length >= p.want) finish(p, t);
        else p.nextAfter = t + 5 * MIN + ask.exponential(HOUR);
      }
    } else if (requestSeeds[segOf[i]!]! > 0) {
      const seen = observe(t, i);
      if (seen === null) return next(t, i);
      requestSeeds[segOf[i]!]!--;
      const o = config.observationsPerRequest;
      const want = ask.between(o.min, o.max);
      const fresh: Pending = { sub: i, noise: drawNoise(), want, deadline: t + DAY, events: [seen], nextAfter: t + 5 * MIN + ask.exponential(HOUR) };
      if (want <= 1) finish(fresh, t);
      else pending.set(i, fresh);
    }
    next(t, i);
  };

  /** Schedule the subscriber's next activity, or its next spell after this one. */
  const next = (t: number, i: number): void => {
    const r = RHYTHM[segment(i)];
    const next = t + Math.max(1000, world.exponential(r.activity));
    if (next < spellEnd[i]!) schedule(next, i, ACTIVITY);
    else {
      const rest = segment(i) === 'ses' ? spellEnd[i]! : holdEnd[i]!;
      schedule(rest + world.exponential(r.idle), i, SPELL, onlineEnd[i]!);
    }
  };

  return { spell, activity };
}
