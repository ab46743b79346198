/**
 * The simulated operator's requests and their truth (see world.ts): which activities an
 * authority asks about, how it writes them (the request noise), and what was true. Drawn
 * from the request stream only, so the records never depend on the requests.
 */
import { addToKey, keyToText } from '../src/address.js';
import type { Precision } from '../src/time.js';
import { misdate, writeTime, type DateError, type ZoneWriting } from './observe.js';
import type { Event, Pending, WorldContext } from './world-context.js';
import { MOBILE_SEGMENTS, PLAN, address } from './world-plan.js';
import { imeiOf, imsiOf, macOf, msisdnOf, pad } from './world-subscribers.js';
import type { RequestNoise, SimObservation, SimRequest, TruthObservation } from './world-types.js';

/** Observing an activity, drawing a request's noise, and writing the request and its truth. */
export function requestDesk(ctx: WorldContext) {
  const { config, ask, iso, account, segment, gapAt, allocFate, addrText, detOutside, detFirst, detLast, pending, out, destination, heldAt, sessionEvent } =
    ctx;
  let requestsMade = 0;

  /**
   * What an activity looked like from outside, for a request about it. Only per-session
   * NAT logs every activity (see {@link connect}); for the other segments this is worked
   * out when a request needs it, from the request stream, so that the records never
   * depend on how many requests are drawn.
   */
  const observe = (t: number, i: number): Event | null => {
    const seg = segment(i);
    const alloc = allocFate[i]!;
    switch (seg) {
      case 'dhcp':
      case 'pd': {
        const d = destination(ask, seg === 'pd');
        let ip = addrText[i]!;
        if (seg === 'pd') {
          const prefix = address(ip, true);
          const iid = (BigInt(ask.uint32()) << 32n) | BigInt(ask.uint32());
          ip = keyToText(addToKey(prefix.key, (BigInt(ask.int(256)) << 64n) | iid));
        }
        return {
          time: t,
          ip,
          port: ask.between(49152, 65535),
          protocol: d.protocol,
          destinationIp: d.ip,
          destinationPort: d.port,
          allocation: alloc,
          sources: [seg === 'dhcp' ? PLAN.dhcp.source : PLAN.pd.source],
        };
      }
      case 'det': {
        const d = destination(ask, false);
        const dyn = heldAt(i, t).filter((h) => h.dynamic);
        const use = dyn.length > 0 && ask.chance(0.5) ? dyn[0]! : null;
        const port = use === null ? ask.between(detFirst[i]!, detLast[i]!) : ask.between(use.first, use.last);
        return {
          time: t,
          ip: use === null ? detOutside[i]! : use.outside,
          port,
          protocol: d.protocol,
          destinationIp: d.ip,
          destinationPort: d.port,
          realm: PLAN.det.realm,
          allocation: alloc,
          ...(use === null ? {} : { nat: use.fate }),
          sources: use === null ? [PLAN.det.source] : [PLAN.det.source, PLAN.det.realm],
        };
      }
      case 'pba':
      case 'wifi': {
        const held = heldAt(i, t);
        if (held.length === 0) return null;
        const b = ask.pick(held);
        const d = destination(ask, false);
        const realm = seg === 'pba' ? PLAN.pba.realm : PLAN.wifi.realm;
        return {
          time: t,
          ip: b.outside,
          port: ask.between(b.first, b.last),
          protocol: d.protocol,
          destinationIp: d.ip,
          destinationPort: d.port,
          realm,
          allocation: alloc,
          nat: b.fate,
          sources: [seg === 'pba' ? PLAN.pba.source : PLAN.wifi.source, realm],
        };
      }
      case 'ses':
        return sessionEvent.get(i) ?? null;
    }
  };

  // ---- requests -------------------------------------------------------------------------
  const drawNoise = (): RequestNoise => {
    const n = config.noise;
    const skewMs = ask.chance(n.clockSkew) ? (ask.chance(0.5) ? 1 : -1) * ask.between(1000, Math.max(1000, Math.round(n.clockSkewMaxSeconds * 1000))) : 0;
    const sourcePort = !ask.chance(n.sourcePortAbsent);
    const u = ask.float();
    const precision: Precision = u < n.precisionMinute ? 'min' : u < n.precisionMinute + n.precisionSecond ? 's' : 'ms';
    const z = ask.float();
    const zone: ZoneWriting =
      z < n.zoneAsUtc
        ? 'as-utc'
        : z < n.zoneAsUtc + n.zoneOffsetOffByOne
          ? 'offset-off-by-one'
          : z < n.zoneAsUtc + n.zoneOffsetOffByOne + n.localTime
            ? 'local'
            : 'utc';
    const shift: 60 | -60 = ask.chance(0.5) ? 60 : -60;
    // Drawn only when asked for, so worlds without date errors keep their random stream.
    let date: DateError | undefined;
    const dateChance = n.wrongYear + n.wrongDay + n.dayMonthSwap;
    if (dateChance > 0) {
      const d = ask.float();
      if (d < n.wrongYear) date = 'wrong-year';
      else if (d < n.wrongYear + n.wrongDay) date = ask.chance(0.5) ? 'day-before' : 'day-after';
      else if (d < dateChance) date = 'day-month-swapped';
    }
    return {
      skewMs,
      sourcePort,
      precision,
      zone,
      ...(zone === 'offset-off-by-one' ? { offsetShiftMinutes: shift } : {}),
      clock12h: ask.chance(n.clock12h),
      ...(date === undefined ? {} : { date }),
      destination: ask.chance(n.destinationKnown),
      identifiers: ask.chance(n.identifiersKnown),
    };
  };

  const finish = (p: Pending, at: number): void => {
    pending.delete(p.sub);
    const ref = `REQ-${pad(++requestsMade, 6)}`;
    const n = p.noise;
    const observations: SimObservation[] = p.events.map((e) => {
      const written = writeTime(e.time + n.skewMs, {
        precision: n.precision,
        zone: n.zone,
        clock12h: n.clock12h,
        timeZone: config.noise.timeZone,
        ...(n.offsetShiftMinutes === undefined ? {} : { offsetShiftMinutes: n.offsetShiftMinutes }),
      });
      return {
        sourceIp: e.ip,
        ...(n.sourcePort ? { sourcePort: e.port } : {}),
        time: n.date === undefined ? written : misdate(written, n.date),
        ...(n.destination ? { destinationIp: e.destinationIp, destinationPort: e.destinationPort, protocol: e.protocol } : {}),
        ...(n.clock12h ? { clock: '12h-ambiguous' as const } : n.date !== undefined ? { clock: 'date-ambiguous' as const } : {}),
      };
    });
    const seg = segment(p.sub);
    let identifiers: SimRequest['identifiers'];
    if (n.identifiers) {
      if (MOBILE_SEGMENTS.has(seg)) {
        const kind = ask.int(3);
        identifiers = kind === 0 ? { imsi: imsiOf(p.sub) } : kind === 1 ? { msisdn: msisdnOf(p.sub) } : { imei: imeiOf(p.sub) };
      } else identifiers = { mac: macOf(seg === 'wifi' ? 1 : 0, p.sub) };
    }
    out.push({
      stream: 'request',
      at,
      value: { ref, observations, toleranceSeconds: config.toleranceSeconds, ...(identifiers === undefined ? {} : { identifiers }) },
    });
    const truthObs: TruthObservation[] = p.events.map((e) => ({
      time: iso(e.time),
      sourceIp: e.ip,
      sourcePort: e.port,
      protocol: e.protocol,
      ...(e.realm === undefined ? {} : { realm: e.realm }),
      allocation: e.allocation,
      ...(e.nat === undefined ? {} : { nat: e.nat }),
      inGapWindow: e.sources.some((s) => gapAt(s, e.time) !== undefined),
    }));
    const fates = p.events.flatMap((e) => (e.nat === undefined ? [e.allocation] : [e.allocation, e.nat]));
    const logGap = fates.includes('lost-silent')
      ? 'record-lost-silent'
      : fates.includes('lost-declared')
        ? 'record-lost-declared'
        : truthObs.some((o) => o.inGapWindow)
          ? 'window'
          : 'none';
    const missingStop = fates.includes('stop-open') ? 'open' : fates.includes('stop-inferred') ? 'inferred' : 'none';
    out.push({
      stream: 'truth',
      at,
      value: { ref, account: account(p.sub), profile: config.profile, segment: seg, noise: n, observations: truthObs, logGap, missingStop },
    });
  };

  return { observe, drawNoise, finish };
}
