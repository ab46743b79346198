/**
 * The simulated operator's CGNAT realms (see world.ts): port blocks of the mobile and
 * venue realms, dynamic shares of deterministic NAT, and per-session NAT connections,
 * each with its record, its holding and what it looked like from outside.
 */
import { PortBlockAllocator } from './portblock.js';
import { mappingEnd } from './session.js';
import type { WorldContext } from './world-context.js';
import { PLAN, address } from './world-plan.js';

/** Port blocks, dynamic shares and sessions. */
export function natRecords(ctx: WorldContext) {
  const { world, record, holding, iso, account, fateOf, addrText, allocFate, onlineEnd, holdEnd, blocks, destination, sessionEvent } = ctx;
  const { detDynamic, quarantineMs } = ctx;
  const natBlock = (t: number, i: number, allocator: PortBlockAllocator, realm: string, dynamic: boolean): void => {
    const got = allocator.allocate(addrText[i]!, t);
    if (!got.ok) return; // the CGN refuses the connection; nothing is logged
    const end = holdEnd[i]!;
    allocator.release(got.value.id, end);
    const b = got.value;
    const f = fateOf(realm, t, end);
    if (!f.fate.startsWith('lost')) {
      record(t, {
        kind: 'nat-block',
        realm,
        insideIp: addrText[i]!,
        outsideIp: b.outsideAddress.text,
        portFirst: b.portFirst,
        portLast: b.portLast,
        start: iso(t),
        end: f.end === null ? null : iso(f.end),
        ...(f.inferred ? { endInferred: true } : {}),
      });
    }
    holding(t, {
      account: account(i),
      ip: b.outsideAddress.text,
      portFirst: b.portFirst,
      portLast: b.portLast,
      start: iso(t),
      end: iso(end),
      via: dynamic ? 'dynamic-share' : 'nat-block',
      realm,
    });
    const list = (blocks.get(i) ?? []).filter((h) => h.end > t);
    list.push({ outside: b.outsideAddress.text, first: b.portFirst, last: b.portLast, start: t, end, fate: f.fate, dynamic });
    blocks.set(i, list);
  };

  const dynamicAllocator = (outside: string): PortBlockAllocator => {
    let a = detDynamic.get(outside);
    if (a === undefined) {
      const lay = ctx.detLayout!;
      const first = lay.portFirst + lay.sharesPerAddress * lay.shareSize;
      a = new PortBlockAllocator({
        outside: [address(outside)],
        portFirst: first,
        portLast: lay.portFirst + lay.totalShares * lay.shareSize - 1,
        blockSize: lay.shareSize,
        quarantineMs,
      });
      detDynamic.set(outside, a);
    }
    return a;
  };

  /** A per-session NAT subscriber opens a connection: a mapping, a record, a holding. */
  const connect = (t: number, i: number): void => {
    const alloc = allocFate[i]!;
    const d = destination(world, false);
    const opened = ctx.sesNat!.open(addrText[i]!, d.protocol, t);
    if (!opened.ok) {
      sessionEvent.delete(i);
      return;
    }
    const duration = Math.floor(world.exponential(d.protocol === 'tcp' ? 45_000 : 15_000));
    const last = Math.min(t + duration, onlineEnd[i]! - 1);
    const end = Math.max(t + 1, Math.min(mappingEnd(d.protocol, last, d.protocol === 'tcp' && world.chance(0.9)), onlineEnd[i]!));
    ctx.sesNat!.close(opened.value.id, end);
    const m = opened.value;
    const f = fateOf(PLAN.ses.realm, t, end);
    if (!f.fate.startsWith('lost')) {
      record(t, {
        kind: 'nat-session',
        realm: PLAN.ses.realm,
        insideIp: addrText[i]!,
        insidePort: world.between(32768, 60999),
        outsideIp: m.outsideAddress.text,
        outsidePort: m.outsidePort,
        destinationIp: d.ip,
        destinationPort: d.port,
        protocol: d.protocol,
        start: iso(t),
        end: f.end === null ? null : iso(f.end),
        ...(f.inferred ? { endInferred: true } : {}),
      });
    }
    holding(t, {
      account: account(i),
      ip: m.outsideAddress.text,
      portFirst: m.outsidePort,
      portLast: m.outsidePort,
      protocol: d.protocol,
      start: iso(t),
      end: iso(end),
      via: 'nat-session',
      realm: PLAN.ses.realm,
    });
    sessionEvent.set(i, {
      time: t + Math.floor(world.float() * (last - t + 1)),
      ip: m.outsideAddress.text,
      port: m.outsidePort,
      protocol: d.protocol,
      destinationIp: d.ip,
      destinationPort: d.port,
      realm: PLAN.ses.realm,
      allocation: alloc,
      nat: f.fate,
      sources: [PLAN.ses.source, PLAN.ses.realm],
    });
  };

  return { natBlock, dynamicAllocator, connect };
}
