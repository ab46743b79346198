/**
 * The simulated operator's dynamic allocations (see world.ts): a subscriber comes online,
 * gets an address or prefix (a public one, or an inside one behind a CGNAT realm), and
 * the allocation record, its holding and (deterministic NAT) its fixed outside share.
 */
import { addToKey, keyToText } from '../src/address.js';
import { IparError } from '../src/problems.js';
import { forward } from './deterministic.js';
import type { WorldContext } from './world-context.js';
import { MIN, PLAN, RENUMBER, RHYTHM, address } from './world-plan.js';
import { ONLINE, SPELL } from './world-queue.js';
import { imeiOf, imsiOf, macOf, msisdnOf } from './world-subscribers.js';

/** The ONLINE event of each subscriber. */
export function allocations(ctx: WorldContext) {
  const { world, schedule, record, holding, iso, account, segment, fateOf, previous, onlineEnd, addrText, allocFate, detOutside, detFirst, detLast } = ctx;
  const { dhcpPool, pdPool, pbaPool, sesPool, wifiPool, dhcpBase, pdBase } = ctx;
  let pgwSession = 0;
  const insideText = (base: string, index: number): string => keyToText(addToKey(address(base).key, BigInt(index)));

  const online = (t: number, i: number): void => {
    const seg = segment(i);
    const r = RHYTHM[seg];
    const preferred = world.chance(RENUMBER[seg]) ? -1 : previous[i]!;
    const pool =
      seg === 'dhcp' ? dhcpPool : seg === 'pd' ? pdPool : seg === 'det' ? ctx.detPool! : seg === 'pba' ? pbaPool : seg === 'ses' ? sesPool : wifiPool;
    const index = pool.acquire(preferred, t);
    if (index < 0) {
      schedule(t + 10 * MIN + world.exponential(10 * MIN), i, ONLINE); // pool empty: try again later
      return;
    }
    const end = Math.floor(t + Math.max(MIN, world.exponential(r.online)));
    pool.release(index, end);
    previous[i] = index;
    onlineEnd[i] = end;
    let ip: string;
    let source: string;
    let realm: string | undefined;
    let ids: { imsi?: string; msisdn?: string; imei?: string; mac?: string; sessionId?: string };
    switch (seg) {
      case 'dhcp':
        ip = keyToText(addToKey(dhcpBase.key, BigInt(index)));
        source = PLAN.dhcp.source;
        ids = { mac: macOf(0, i) };
        break;
      case 'pd':
        ip = keyToText(addToKey(pdBase.key, BigInt(index) << BigInt(128 - PLAN.pd.delegated)), PLAN.pd.delegated);
        source = PLAN.pd.source;
        ids = { mac: macOf(0, i) };
        break;
      case 'det':
        ip = insideText(PLAN.det.inside, index);
        source = PLAN.det.source;
        realm = PLAN.det.realm;
        ids = { mac: macOf(0, i) };
        break;
      case 'wifi':
        ip = insideText(PLAN.wifi.inside, index);
        source = PLAN.wifi.source;
        realm = PLAN.wifi.realm;
        ids = { mac: macOf(1, i) };
        break;
      default:
        ip = insideText(seg === 'pba' ? PLAN.pba.inside : PLAN.ses.inside, index);
        source = PLAN.pba.source;
        realm = seg === 'pba' ? PLAN.pba.realm : PLAN.ses.realm;
        ids = { imsi: imsiOf(i), msisdn: msisdnOf(i), imei: imeiOf(i), sessionId: `pgw-${(pgwSession++).toString(16).padStart(8, '0')}` };
    }
    addrText[i] = ip;
    const f = fateOf(source, t, end);
    allocFate[i] = f.fate;
    if (!f.fate.startsWith('lost')) {
      record(t, {
        kind: 'allocation',
        account: account(i),
        ip,
        start: iso(t),
        end: f.end === null ? null : iso(f.end),
        source,
        ...(realm === undefined ? {} : { realm }),
        ...ids,
        ...(f.inferred ? { endInferred: true } : {}),
      });
    }
    if (seg === 'dhcp' || seg === 'pd') holding(t, { account: account(i), ip, start: iso(t), end: iso(end), via: seg === 'dhcp' ? 'dhcp' : 'dhcpv6-pd' });
    if (seg === 'det') {
      const fw = forward(ctx.detRecord!, address(ip));
      if (!fw.ok) throw new IparError('BAD_PLAN', fw.message);
      detOutside[i] = fw.value.outsideAddress.text;
      detFirst[i] = fw.value.portFirst;
      detLast[i] = fw.value.portLast;
      holding(t, {
        account: account(i),
        ip: fw.value.outsideAddress.text,
        portFirst: fw.value.portFirst,
        portLast: fw.value.portLast,
        start: iso(t),
        end: iso(end),
        via: 'nat-deterministic',
        realm: PLAN.det.realm,
      });
    }
    schedule(t + world.exponential(r.activity), i, SPELL, end);
    schedule(end + Math.max(MIN, world.exponential(r.offline)), i, ONLINE);
  };

  return { online };
}
