/**
 * A test-side encoder of NAT events into IPFIX messages (RFC 7011) and NetFlow v9 packets
 * (RFC 3954), written from the RFCs independently of the decoder in src/ingest/ipfix
 * (it shares no code with it), so a round trip checks both against the text. It also
 * turns the simulator's canonical NAT records into the create/delete events an exporter
 * would have sent.
 */
import type { CanonicalRecordInput } from '../../src/records.js';

/** One field of a template: element id (enterprise number when set) and how to write it. */
export interface FieldDef {
  readonly id: number;
  readonly length: number;
  readonly pen?: number;
  readonly write: (e: NatEvent) => Buffer;
}

export interface NatEvent {
  readonly natEvent?: number;
  readonly timeMs: number;
  readonly insideIp: string;
  readonly insidePort?: number;
  readonly outsideIp: string;
  readonly outsidePort?: number;
  readonly destinationIp?: string;
  readonly destinationPort?: number;
  readonly protocol?: number;
  readonly portStart?: number;
  readonly portEnd?: number;
  readonly portStep?: number;
  readonly flowId?: bigint;
  readonly subString?: string;
  /** Nokia: which timestamp the record carries. */
  readonly ending?: boolean;
}

/** Session `i` of a small test stream: 100.64.0.(i+1):(40000+i) → 203.0.113.7:(1024+i) to 198.51.100.80:443, at `t0 + i` s. */
export function sampleEvent(t0: number, i: number, natEvent: number, dt = 0, protocol = 6): NatEvent {
  return {
    natEvent,
    timeMs: t0 + i * 1000 + dt,
    insideIp: `100.64.0.${i + 1}`,
    insidePort: 40000 + i,
    outsideIp: '203.0.113.7',
    outsidePort: 1024 + i,
    destinationIp: '198.51.100.80',
    destinationPort: 443,
    protocol,
  };
}

const u8 = (n: number): Buffer => Buffer.from([n & 0xff]);
const u16 = (n: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
};
const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};
const u64 = (n: number | bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
};
export function ipv4Bytes(text: string): Buffer {
  return Buffer.from(text.split('.').map(Number));
}
export function ipv6Bytes(text: string): Buffer {
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const h = head === '' ? [] : head!.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return Buffer.concat(groups.map((g) => u16(parseInt(g, 16))));
}
/** RFC 7011 §7 variable-length encoding. */
export function varString(text: string): Buffer {
  const s = Buffer.from(text, 'utf8');
  return s.length < 255 ? Buffer.concat([u8(s.length), s]) : Buffer.concat([u8(255), u16(s.length), s]);
}

export const F = {
  time: { id: 323, length: 8, write: (e: NatEvent) => u64(e.timeMs) },
  natEvent: { id: 230, length: 1, write: (e: NatEvent) => u8(e.natEvent ?? 0) },
  src4: { id: 8, length: 4, write: (e: NatEvent) => ipv4Bytes(e.insideIp) },
  src6: { id: 27, length: 16, write: (e: NatEvent) => ipv6Bytes(e.insideIp) },
  postSrc4: { id: 225, length: 4, write: (e: NatEvent) => ipv4Bytes(e.outsideIp) },
  srcPort: { id: 7, length: 2, write: (e: NatEvent) => u16(e.insidePort ?? 0) },
  postSrcPort: { id: 227, length: 2, write: (e: NatEvent) => u16(e.outsidePort ?? 0) },
  dst4: { id: 12, length: 4, write: (e: NatEvent) => ipv4Bytes(e.destinationIp ?? '0.0.0.0') },
  dstPort: { id: 11, length: 2, write: (e: NatEvent) => u16(e.destinationPort ?? 0) },
  postDst4: { id: 226, length: 4, write: (e: NatEvent) => ipv4Bytes(e.destinationIp ?? '0.0.0.0') },
  postDstPort: { id: 228, length: 2, write: (e: NatEvent) => u16(e.destinationPort ?? 0) },
  proto: { id: 4, length: 1, write: (e: NatEvent) => u8(e.protocol ?? 0) },
  vrf: { id: 234, length: 4, write: () => u32(0) },
  portStart: { id: 361, length: 2, write: (e: NatEvent) => u16(e.portStart ?? 0) },
  portEnd: { id: 362, length: 2, write: (e: NatEvent) => u16(e.portEnd ?? 0) },
  portStep: { id: 363, length: 2, write: (e: NatEvent) => u16(e.portStep ?? 1) },
  flowId: { id: 148, length: 8, write: (e: NatEvent) => u64(e.flowId ?? 0n) },
  flowStart: { id: 152, length: 8, write: (e: NatEvent) => u64(e.timeMs) },
  flowEnd: { id: 153, length: 8, write: (e: NatEvent) => u64(e.timeMs) },
  /** An element the decoder does not know, variable length: it must be skipped. */
  unknownVar: { id: 82, length: 65535, write: () => varString('eth0') },
  /** An enterprise element the decoder does not know. */
  unknownEnterprise: { id: 7, length: 4, pen: 9999, write: () => u32(0xdeadbeef) },
  nokiaSub: { id: 93, length: 65535, pen: 637, write: (e: NatEvent) => varString(e.subString ?? `sub@${e.insideIp}`) },
} satisfies Record<string, FieldDef>;

export const SESSION_FIELDS: readonly FieldDef[] = [
  F.time,
  F.natEvent,
  F.src4,
  F.postSrc4,
  F.proto,
  F.srcPort,
  F.postSrcPort,
  F.dst4,
  F.dstPort,
  F.postDst4,
  F.postDstPort,
  F.vrf,
];
export const BLOCK_FIELDS: readonly FieldDef[] = [F.time, F.natEvent, F.src4, F.postSrc4, F.portStart, F.portEnd, F.portStep, F.vrf];

export interface TemplateDef {
  readonly id: number;
  readonly fields: readonly FieldDef[];
}

function templateRecord(t: TemplateDef, v9: boolean): Buffer {
  const parts = [u16(t.id), u16(t.fields.length)];
  for (const f of t.fields) {
    if (v9) parts.push(u16(f.id), u16(f.length));
    else if (f.pen !== undefined) parts.push(u16(f.id | 0x8000), u16(f.length), u32(f.pen));
    else parts.push(u16(f.id), u16(f.length));
  }
  return Buffer.concat(parts);
}

function set(id: number, body: Buffer, align = false): Buffer {
  const pad = align ? (4 - ((body.length + 4) % 4)) % 4 : 0;
  return Buffer.concat([u16(id), u16(body.length + 4 + pad), body, Buffer.alloc(pad)]);
}

export function dataRecord(t: TemplateDef, e: NatEvent): Buffer {
  return Buffer.concat(t.fields.map((f) => f.write(e)));
}

export interface MessageParts {
  readonly templates?: readonly TemplateDef[];
  /** Withdraw these template ids (IPFIX field count 0). */
  readonly withdraw?: readonly number[];
  readonly data?: readonly { readonly template: TemplateDef; readonly events: readonly NatEvent[] }[];
  /** Raw sets appended as they are (malformed input). */
  readonly raw?: readonly Buffer[];
}

/** An IPFIX exporter: one observation domain, sequence numbers counting data records. */
export class IpfixExporter {
  seq = 0;
  constructor(
    readonly domain = 1,
    readonly countMessages = false,
  ) {}

  message(exportSec: number, parts: MessageParts): Buffer {
    const sets: Buffer[] = [];
    if (parts.templates !== undefined && parts.templates.length > 0) sets.push(set(2, Buffer.concat(parts.templates.map((t) => templateRecord(t, false)))));
    if (parts.withdraw !== undefined && parts.withdraw.length > 0)
      sets.push(set(2, Buffer.concat(parts.withdraw.map((id) => Buffer.concat([u16(id), u16(0)])))));
    let records = 0;
    for (const d of parts.data ?? []) {
      sets.push(set(d.template.id, Buffer.concat(d.events.map((e) => dataRecord(d.template, e)))));
      records += d.events.length;
    }
    sets.push(...(parts.raw ?? []));
    const body = Buffer.concat(sets);
    const header = Buffer.concat([u16(10), u16(16 + body.length), u32(exportSec), u32(this.seq), u32(this.domain)]);
    this.seq = (this.seq + (this.countMessages ? 1 : records)) >>> 0;
    return Buffer.concat([header, body]);
  }
}

/** A NetFlow v9 exporter: sequence numbers counting packets, uptime from `bootMs`. */
export class V9Exporter {
  seq = 0;
  constructor(
    readonly sourceId = 1,
    public bootMs = 0,
  ) {}

  packet(exportMs: number, parts: MessageParts): Buffer {
    const sets: Buffer[] = [];
    let count = 0;
    if (parts.templates !== undefined && parts.templates.length > 0) {
      sets.push(set(0, Buffer.concat(parts.templates.map((t) => templateRecord(t, true))), true));
      count += parts.templates.length;
    }
    for (const d of parts.data ?? []) {
      sets.push(set(d.template.id, Buffer.concat(d.events.map((e) => dataRecord(d.template, e))), true));
      count += d.events.length;
    }
    sets.push(...(parts.raw ?? []));
    const header = Buffer.concat([u16(9), u16(count), u32(exportMs - this.bootMs), u32(Math.floor(exportMs / 1000)), u32(this.seq), u32(this.sourceId)]);
    this.seq = (this.seq + 1) >>> 0;
    return Buffer.concat([header, ...sets]);
  }
}

const PROTOCOL_NUMBERS: Readonly<Record<string, number>> = { icmp: 1, tcp: 6, udp: 17, gre: 47, esp: 50, icmpv6: 58, sctp: 132 };

type NatRecord = Extract<CanonicalRecordInput, { kind: 'nat-session' | 'nat-block' }>;

/**
 * The events an exporter would have sent for the simulator's NAT records: a create at
 * each start and a delete at each end (IANA numbering: 4/5 sessions, 16/17 blocks), in
 * time order (deletes before creates at the same instant, as a port is freed first).
 */
export function eventsOf(records: Iterable<CanonicalRecordInput>): { kind: 'session' | 'block'; event: NatEvent }[] {
  const out: { kind: 'session' | 'block'; event: NatEvent; order: number }[] = [];
  for (const r of records) {
    if (r.kind !== 'nat-session' && r.kind !== 'nat-block') continue;
    const n = r as NatRecord;
    const start = Date.parse(n.start as string);
    const end = n.end === null || n.end === undefined ? null : Date.parse(n.end as string);
    if (n.kind === 'nat-session') {
      const base = {
        timeMs: start,
        insideIp: n.insideIp as string,
        insidePort: n.insidePort,
        outsideIp: n.outsideIp as string,
        outsidePort: n.outsidePort,
        protocol: PROTOCOL_NUMBERS[n.protocol as string]!,
        ...(n.destinationIp === undefined ? {} : { destinationIp: n.destinationIp as string, destinationPort: n.destinationPort ?? 0 }),
      };
      out.push({ kind: 'session', event: { ...base, natEvent: 4 }, order: 1 });
      if (end !== null) out.push({ kind: 'session', event: { ...base, timeMs: end, natEvent: 5 }, order: 0 });
    } else {
      const base = {
        timeMs: start,
        insideIp: n.insideIp as string,
        outsideIp: n.outsideIp as string,
        portStart: n.portFirst,
        portEnd: n.portLast,
        portStep: 1,
      };
      out.push({ kind: 'block', event: { ...base, natEvent: 16 }, order: 1 });
      if (end !== null) out.push({ kind: 'block', event: { ...base, timeMs: end, natEvent: 17 }, order: 0 });
    }
  }
  out.sort((a, b) => a.event.timeMs - b.event.timeMs || a.order - b.order);
  return out.map(({ kind, event }) => ({ kind, event }));
}

/** A pcap (Ethernet, IPv4, UDP from 192.0.2.1 to 127.0.0.1:4739) of these payloads. */
export function pcapOf(payloads: readonly Buffer[]): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(1, 20);
  const packets = payloads.map((p, i) => {
    const eth = Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00]);
    const ip = Buffer.alloc(20);
    ip[0] = 0x45;
    ip.writeUInt16BE(20 + 8 + p.length, 2);
    ip[8] = 64;
    ip[9] = 17;
    Buffer.from([192, 0, 2, 1]).copy(ip, 12);
    Buffer.from([127, 0, 0, 1]).copy(ip, 16);
    const udp = Buffer.alloc(8);
    udp.writeUInt16BE(50000, 0);
    udp.writeUInt16BE(4739, 2);
    udp.writeUInt16BE(8 + p.length, 4);
    const frame = Buffer.concat([eth, ip, udp, p]);
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(1_774_692_000 + i, 0);
    rec.writeUInt32LE(frame.length, 8);
    rec.writeUInt32LE(frame.length, 12);
    return Buffer.concat([rec, frame]);
  });
  return Buffer.concat([header, ...packets]);
}
