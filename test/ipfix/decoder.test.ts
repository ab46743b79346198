import { describe, expect, it } from 'vitest';
import { FlowDecoder } from '../../src/ingest/ipfix/decoder.js';
import { FlowSession, type FlowOutput } from '../../src/ingest/ipfix/session.js';
import { profileNamed } from '../../src/ingest/ipfix/profiles.js';
import { ipfixFileMessages, pcapMessages } from '../../src/ingest/ipfix/files.js';
import { BLOCK_FIELDS, F, IpfixExporter, pcapOf, sampleEvent, SESSION_FIELDS, V9Exporter, varString, type NatEvent, type TemplateDef } from './encoder.js';

const T0 = Date.parse('2026-03-28T10:00:00Z');
const SESSION: TemplateDef = { id: 256, fields: SESSION_FIELDS };
const BLOCK: TemplateDef = { id: 257, fields: BLOCK_FIELDS };

const ev = (i: number, natEvent: number, dt = 0): NatEvent => sampleEvent(T0, i, natEvent, dt);

function session(profile = 'iana', format: 'ipfix' | 'netflow9' = 'ipfix', decoder = {}): FlowSession {
  return new FlowSession({ format, profile: profileNamed(profile)!, vendorOptions: { realm: 'cgn-a', reorderWindowSeconds: 0 }, decoder });
}

function run(
  s: FlowSession,
  messages: readonly Buffer[],
  transport: 'udp' | 'tcp' | 'file' = 'udp',
): { records: unknown[]; problems: FlowOutput['problems'][number][]; notes: FlowOutput['notes'][number][]; gaps: FlowOutput['gaps'][number][] } {
  const all = {
    records: [] as unknown[],
    problems: [] as FlowOutput['problems'][number][],
    notes: [] as FlowOutput['notes'][number][],
    gaps: [] as FlowOutput['gaps'][number][],
  };
  const add = (o: FlowOutput): void => {
    all.records.push(...o.records);
    all.problems.push(...o.problems);
    all.notes.push(...o.notes);
    all.gaps.push(...o.gaps);
  };
  messages.forEach((m, i) => add(s.message(m, '192.0.2.1', i + 1, transport)));
  add(s.end());
  return all;
}

const reasons = (ps: readonly { reason: string }[]): string[] => ps.map((p) => p.reason);

describe('IPFIX decoding into NAT records', () => {
  it('pairs a NAT44 session create and delete into one nat-session with its destination', () => {
    const x = new IpfixExporter();
    const out = run(session(), [
      x.message(T0 / 1000, { templates: [SESSION], data: [{ template: SESSION, events: [ev(0, 4)] }] }),
      x.message(T0 / 1000 + 30, { data: [{ template: SESSION, events: [ev(0, 5, 30_000)] }] }),
    ]);
    expect(out.problems).toEqual([]);
    expect(out.records).toEqual([
      {
        kind: 'nat-session',
        realm: 'cgn-a',
        insideIp: '100.64.0.1',
        insidePort: 40000,
        outsideIp: '203.0.113.7',
        outsidePort: 1024,
        destinationIp: '198.51.100.80',
        destinationPort: 443,
        protocol: 'tcp',
        start: '2026-03-28T10:00:00.000Z',
        end: '2026-03-28T10:00:30.000Z',
      },
    ]);
  });

  it('reads port blocks (16/17) into nat-block and address bindings (14/15) as the whole port range', () => {
    const x = new IpfixExporter();
    const block = { ...ev(0, 16), portStart: 2048, portEnd: 2559, portStep: 1 };
    const binding = { ...ev(1, 14), portStart: 0, portEnd: 0 };
    const out = run(session(), [
      x.message(T0 / 1000, { templates: [BLOCK], data: [{ template: BLOCK, events: [block, binding] }] }),
      x.message(T0 / 1000 + 60, {
        data: [
          {
            template: BLOCK,
            events: [
              { ...block, natEvent: 17, timeMs: T0 + 60_000 },
              { ...binding, natEvent: 15, timeMs: T0 + 61_000 },
            ],
          },
        ],
      }),
    ]);
    expect(out.problems).toEqual([]);
    expect(out.records).toEqual([
      {
        kind: 'nat-block',
        realm: 'cgn-a',
        insideIp: '100.64.0.1',
        outsideIp: '203.0.113.7',
        portFirst: 2048,
        portLast: 2559,
        start: '2026-03-28T10:00:00.000Z',
        end: '2026-03-28T10:01:00.000Z',
      },
      {
        kind: 'nat-block',
        realm: 'cgn-a',
        insideIp: '100.64.0.2',
        outsideIp: '203.0.113.7',
        portFirst: 0,
        portLast: 65535,
        start: '2026-03-28T10:00:01.000Z',
        end: '2026-03-28T10:01:01.000Z',
      },
    ]);
  });

  it('holds data sets that arrive before their template and reads them when it comes', () => {
    const x = new IpfixExporter();
    const out = run(session(), [
      x.message(T0 / 1000, { data: [{ template: SESSION, events: [ev(0, 4)] }] }),
      x.message(T0 / 1000 + 1, { templates: [SESSION], data: [{ template: SESSION, events: [ev(1, 4)] }] }),
    ]);
    expect(out.problems).toEqual([]);
    expect(out.records.map((r) => (r as { insideIp: string }).insideIp).sort()).toEqual(['100.64.0.1', '100.64.0.2']);
  });

  it('reports data sets whose template never comes, or comes after the bounded wait', () => {
    const x = new IpfixExporter();
    const out = run(session('iana', 'ipfix', { pendingMs: 5000 }), [
      x.message(T0 / 1000, { data: [{ template: SESSION, events: [ev(0, 4)] }] }),
      x.message(T0 / 1000 + 10, { data: [{ template: BLOCK, events: [{ ...ev(1, 16), portStart: 1024, portEnd: 1535 }] }] }),
      x.message(T0 / 1000 + 11, { templates: [SESSION] }),
    ]);
    expect(out.records).toEqual([]);
    expect(out.problems.map((p) => [p.line, p.reason, p.field])).toEqual([
      [1, 'TEMPLATE_UNKNOWN', 'template 256'],
      [2, 'TEMPLATE_UNKNOWN', 'template 257'],
    ]);
    expect(out.problems[0]!.message).toContain('5 s');
  });

  it('gives up on a held set by the exporter\u2019s export time, even when later messages hold nothing', () => {
    const x = new IpfixExporter();
    const d = new FlowDecoder({ format: 'ipfix', transport: 'udp', pendingMs: 5000 });
    expect(d.decode(x.message(T0 / 1000, { data: [{ template: SESSION, events: [ev(0, 4)] }] }), 'e', 1).problems).toEqual([]);
    expect(d.decode(x.message(T0 / 1000 + 3, { templates: [BLOCK] }), 'e', 2).problems).toEqual([]);
    expect(d.decode(x.message(T0 / 1000 + 6, { templates: [BLOCK] }), 'e', 3).problems.map((p) => [p.line, p.reason])).toEqual([[1, 'TEMPLATE_UNKNOWN']]);
  });

  it('over TCP, templates end with their connection', () => {
    const x = new IpfixExporter();
    const d = new FlowDecoder({ format: 'ipfix', transport: 'tcp' });
    d.decode(x.message(T0 / 1000, { templates: [SESSION] }), 'e', 1);
    expect(d.decode(x.message(T0 / 1000 + 1, { data: [{ template: SESSION, events: [ev(0, 4)] }] }), 'e', 2).records).toHaveLength(1);
    d.closeSession('e');
    const y = new IpfixExporter();
    expect(d.decode(y.message(T0 / 1000 + 2, { data: [{ template: SESSION, events: [ev(1, 4)] }] }), 'e', 3).records).toEqual([]);
    expect(d.end().problems.map((p) => [p.line, p.reason])).toEqual([[3, 'TEMPLATE_UNKNOWN']]);
  });

  it('forgets a withdrawn template, and over UDP one not refreshed within the timeout', () => {
    const x = new IpfixExporter();
    const withdrawn = run(session(), [
      x.message(T0 / 1000, { templates: [SESSION] }),
      x.message(T0 / 1000 + 1, { withdraw: [256] }),
      x.message(T0 / 1000 + 2, { data: [{ template: SESSION, events: [ev(0, 4)] }] }),
    ]);
    expect(withdrawn.records).toEqual([]);
    expect(reasons(withdrawn.problems)).toEqual(['TEMPLATE_UNKNOWN']);

    const y = new IpfixExporter();
    const expired = run(session('iana', 'ipfix', { templateTimeoutMs: 60_000 }), [
      y.message(T0 / 1000, { templates: [SESSION] }),
      y.message(T0 / 1000 + 61, { data: [{ template: SESSION, events: [ev(0, 4)] }] }),
    ]);
    expect(reasons(expired.problems)).toEqual(['TEMPLATE_EXPIRED', 'TEMPLATE_UNKNOWN']);
    // A refresh within the timeout keeps it alive, and files have no timeout.
    const z = new IpfixExporter();
    const refreshed = run(session('iana', 'ipfix', { templateTimeoutMs: 60_000 }), [
      z.message(T0 / 1000, { templates: [SESSION] }),
      z.message(T0 / 1000 + 50, { templates: [SESSION] }),
      z.message(T0 / 1000 + 100, { data: [{ template: SESSION, events: [ev(0, 4)] }] }),
    ]);
    expect(refreshed.problems).toEqual([]);
    expect(refreshed.records).toHaveLength(1);
  });

  it('skips unknown variable-length and enterprise elements and reads Nokia aluNatSubString (637/93)', () => {
    const nokia: TemplateDef = {
      id: 300,
      fields: [F.flowId, F.postSrc4, F.dst4, F.srcPort, F.postSrcPort, F.dstPort, F.flowStart, F.proto, F.unknownVar, F.unknownEnterprise, F.nokiaSub],
    };
    const nokiaEnd: TemplateDef = {
      id: 301,
      fields: [F.flowId, F.postSrc4, F.dst4, F.srcPort, F.postSrcPort, F.dstPort, F.proto, F.flowEnd, F.unknownVar, F.nokiaSub],
    };
    const x = new IpfixExporter();
    const e = { ...ev(0, 0), flowId: 77n, subString: 'LSN-Host@100.64.9.9' };
    const out = run(session('nokia-lsn'), [
      x.message(T0 / 1000, { templates: [nokia, nokiaEnd], data: [{ template: nokia, events: [e] }] }),
      x.message(T0 / 1000 + 5, { data: [{ template: nokiaEnd, events: [{ ...e, timeMs: T0 + 5000 }] }] }),
    ]);
    expect(out.problems).toEqual([]);
    expect(out.records).toEqual([
      expect.objectContaining({
        kind: 'nat-session',
        insideIp: '100.64.9.9',
        insidePort: 40000,
        outsideIp: '203.0.113.7',
        outsidePort: 1024,
        destinationIp: '198.51.100.80',
        start: '2026-03-28T10:00:00.000Z',
        end: '2026-03-28T10:00:05.000Z',
      }),
    ]);
  });

  it('reads NAT64 sessions (IPv6 inside, IPv4 outside) and the 3-octet variable-length form', () => {
    const nat64: TemplateDef = {
      id: 330,
      fields: [
        F.time,
        F.natEvent,
        F.src6,
        F.postSrc4,
        F.proto,
        F.srcPort,
        F.postSrcPort,
        F.postDst4,
        F.postDstPort,
        F.unknownVar,
        { id: 84, length: 65535, write: () => varString('x'.repeat(300)) },
      ],
    };
    const x = new IpfixExporter();
    const e = { ...ev(0, 6), insideIp: '2001:db8:0:0:0:0:0:17' };
    const out = run(session(), [
      x.message(T0 / 1000, { templates: [nat64], data: [{ template: nat64, events: [e, { ...e, natEvent: 7, timeMs: T0 + 9000 }] }] }),
    ]);
    expect(out.problems).toEqual([]);
    expect(out.records).toEqual([
      expect.objectContaining({
        kind: 'nat-session',
        insideIp: '2001:db8::17',
        outsideIp: '203.0.113.7',
        destinationIp: '198.51.100.80',
        end: '2026-03-28T10:00:09.000Z',
      }),
    ]);
  });

  it('reads options templates and their records (counted in the sequence, no events)', () => {
    // Options template 400: scope observationDomainId (149, 4 octets), then exportedMessageTotalCount (41, 8).
    const optionsTemplate = Buffer.from([0x00, 0x03, 0x00, 0x12, 0x01, 0x90, 0x00, 0x02, 0x00, 0x01, 0x00, 0x95, 0x00, 0x04, 0x00, 0x29, 0x00, 0x08]);
    const optionsData = Buffer.concat([Buffer.from([0x01, 0x90, 0x00, 0x10]), Buffer.from([0, 0, 0, 1]), Buffer.alloc(8, 0)]);
    const x = new IpfixExporter();
    const first = x.message(T0 / 1000, { raw: [optionsTemplate, optionsData], templates: [SESSION], data: [{ template: SESSION, events: [ev(0, 4)] }] });
    x.seq += 1; // the options record counts too
    const second = x.message(T0 / 1000 + 1, { data: [{ template: SESSION, events: [ev(1, 4)] }] });
    // A file: gaps are final at once (UDP would hold them 16 messages for late datagrams).
    const d = new FlowDecoder({ format: 'ipfix', transport: 'file' });
    const a = d.decode(first, 'e', 1);
    expect([a.options, a.records.length, a.problems]).toEqual([1, 1, []]);
    const b = d.decode(second, 'e', 2);
    expect([b.records.length, b.problems, b.gaps]).toEqual([1, [], []]);
  });

  it('reports a malformed set, keeps the sets before it, and reads the next message', () => {
    const x = new IpfixExporter();
    const badLength = Buffer.from([0x01, 0x00, 0xff, 0xf0, 1, 2, 3, 4]);
    const badTemplate = Buffer.from([0x00, 0x02, 0x00, 0x0c, 0x01, 0x10, 0x00, 0x05, 0x00, 0x08, 0x00, 0x04]);
    const out = run(session(), [
      x.message(T0 / 1000, { templates: [SESSION], data: [{ template: SESSION, events: [ev(0, 4)] }], raw: [badLength] }),
      x.message(T0 / 1000 + 1, { raw: [badTemplate], data: [{ template: SESSION, events: [ev(1, 4)] }] }),
    ]);
    expect(out.problems.map((p) => [p.line, p.reason])).toEqual([
      [1, 'MALFORMED_SET'],
      [2, 'MALFORMED_TEMPLATE'],
    ]);
    expect(out.records).toHaveLength(2);
  });

  it('reports an element with a length its type cannot have, and never reads it', () => {
    const odd: TemplateDef = {
      id: 310,
      fields: [F.time, F.natEvent, { id: 8, length: 3, write: () => Buffer.from([100, 64, 0]) }, F.postSrc4, F.proto, F.srcPort, F.postSrcPort],
    };
    const x = new IpfixExporter();
    const out = run(session(), [x.message(T0 / 1000, { templates: [odd], data: [{ template: odd, events: [ev(0, 4)] }] })]);
    expect(reasons(out.problems)).toEqual(['ELEMENT_LENGTH', 'MISSING_FIELD']);
  });
});

describe('NAT event numbering per profile', () => {
  const cases: { profile: string; natEvent: number; expect: string }[] = [
    { profile: 'iana', natEvent: 4, expect: 'nat-session' },
    { profile: 'iana', natEvent: 1, expect: 'nat-session' },
    { profile: 'iana', natEvent: 16, expect: 'nat-block' },
    { profile: 'juniper-ipfix', natEvent: 1, expect: 'nat-session' },
    { profile: 'juniper-ipfix', natEvent: 14, expect: 'nat-block' },
    { profile: 'juniper-ipfix', natEvent: 4, expect: 'EVENT_UNDEFINED' },
    { profile: 'cisco-nel', natEvent: 1, expect: 'nat-session' },
    { profile: 'cisco-nel', natEvent: 4, expect: 'EVENT_UNDEFINED' },
    { profile: 'juniper-v9', natEvent: 16, expect: 'EVENT_UNDEFINED' },
    { profile: 'vpp', natEvent: 4, expect: 'nat-session' },
    { profile: 'iana', natEvent: 99, expect: 'EVENT_UNDEFINED' },
    { profile: 'iana', natEvent: 3, expect: 'nothing' },
  ];
  const both: TemplateDef = { id: 320, fields: [...SESSION_FIELDS, F.portStart, F.portEnd] };
  for (const c of cases) {
    it(`${c.profile}: natEvent ${c.natEvent} → ${c.expect}`, () => {
      const x = new IpfixExporter();
      const out = run(session(c.profile), [
        x.message(T0 / 1000, { templates: [both], data: [{ template: both, events: [{ ...ev(0, c.natEvent), portStart: 1024, portEnd: 1535 }] }] }),
      ]);
      if (c.expect === 'EVENT_UNDEFINED') {
        expect(reasons(out.problems)).toEqual(['EVENT_UNDEFINED']);
        expect(out.records).toEqual([]);
      } else if (c.expect === 'nothing') {
        expect(out.problems).toEqual([]);
        expect(out.records).toEqual([]);
      } else {
        expect(out.problems).toEqual([]);
        expect(out.records.map((r) => (r as { kind: string }).kind)).toEqual([c.expect]);
      }
    });
  }
});

describe('sequence numbers: loss becomes coverage, a restart does not', () => {
  function stream(drop: ReadonlySet<number>, n = 12, perMessage = 3): Buffer[] {
    const x = new IpfixExporter();
    const out: Buffer[] = [];
    for (let i = 0; i < n; i++) {
      const m = x.message(T0 / 1000 + i, {
        templates: i === 0 ? [SESSION] : [],
        data: [{ template: SESSION, events: Array.from({ length: perMessage }, (_, k) => ev(i * perMessage + k, 4)) }],
      });
      if (!drop.has(i)) out.push(m);
    }
    return out;
  }

  it('counts the records of dropped messages as lost, in coverage gaps over their export times', () => {
    const out = run(session(), stream(new Set([3, 4, 8])));
    expect(out.gaps.map((g) => g.lost)).toEqual([6, 3]);
    expect(out.gaps.reduce((s, g) => s + g.lost, 0)).toBe(9);
    const coverage = out.records.filter((r) => (r as { kind: string }).kind === 'coverage');
    expect(coverage).toEqual([
      { kind: 'coverage', source: 'cgn-a/ipfix/192.0.2.1/1', start: '2026-03-28T10:00:02.000Z', end: '2026-03-28T10:00:06.000Z', status: 'gap' },
      { kind: 'coverage', source: 'cgn-a/ipfix/192.0.2.1/1', start: '2026-03-28T10:00:07.000Z', end: '2026-03-28T10:00:10.000Z', status: 'gap' },
    ]);
    expect(reasons(out.notes)).toEqual(['RECORDS_LOST', 'RECORDS_LOST']);
    expect(out.problems).toEqual([]);
  });

  it('a late (reordered) datagram fills its gap instead of counting as lost', () => {
    const messages = stream(new Set());
    const reordered = [...messages.slice(0, 3), messages[4]!, messages[3]!, ...messages.slice(5)];
    const out = run(session(), reordered);
    expect(out.gaps).toEqual([]);
    expect(out.notes).toEqual([]);
  });

  it('an exporter restart (sequence back to 0) is a note, not loss', () => {
    const first = stream(new Set(), 4);
    const again = stream(new Set(), 3).map((m) => {
      const b = Buffer.from(m);
      b.writeUInt32BE(b.readUInt32BE(4) + 100, 4);
      return b;
    });
    const out = run(session(), [...first, ...again]);
    expect(out.gaps).toEqual([]);
    expect(reasons(out.notes)).toEqual(['EXPORTER_RESTARTED']);
  });

  it('VPP counts messages, not records', () => {
    const x = new IpfixExporter(1, true);
    const messages = Array.from({ length: 6 }, (_, i) =>
      x.message(T0 / 1000 + i, { templates: i === 0 ? [SESSION] : [], data: [{ template: SESSION, events: [ev(2 * i, 4), ev(2 * i + 1, 4)] }] }),
    );
    const out = run(session('vpp'), [...messages.slice(0, 2), ...messages.slice(4)]);
    expect(out.gaps.map((g) => [g.lost, g.unit])).toEqual([[2, 'messages']]);
  });
});

describe('NetFlow v9 decoding', () => {
  it('reads templates and data, counts lost packets, and tells an uptime reset from loss', () => {
    const x = new V9Exporter(7, T0 - 3_600_000);
    const v9Session: TemplateDef = { id: 260, fields: SESSION_FIELDS };
    const packets = Array.from({ length: 8 }, (_, i) =>
      x.packet(T0 + i * 1000, { templates: i % 4 === 0 ? [v9Session] : [], data: [{ template: v9Session, events: [ev(i, 1)] }] }),
    );
    x.bootMs = T0 + 7500; // reboot: uptime starts again
    x.seq = 0;
    const after = x.packet(T0 + 9000, { templates: [v9Session], data: [{ template: v9Session, events: [ev(20, 1)] }] });
    const out = run(session('cisco-nel', 'netflow9'), [...packets.slice(0, 2), ...packets.slice(5), after]);
    expect(out.problems).toEqual([]);
    expect(out.gaps.map((g) => [g.lost, g.unit, g.domain])).toEqual([[3, 'messages', 7]]);
    expect(reasons(out.notes)).toEqual(['RECORDS_LOST', 'EXPORTER_RESTARTED']);
    expect(out.records.filter((r) => (r as { kind: string }).kind === 'nat-session')).toHaveLength(6);
  });
});

describe('saved inputs', () => {
  it('an IPFIX file (RFC 5655) and a pcap of the same messages give the same messages', () => {
    const x = new IpfixExporter();
    const messages = [
      x.message(T0 / 1000, { templates: [SESSION], data: [{ template: SESSION, events: [ev(0, 4)] }] }),
      x.message(T0 / 1000 + 1, { data: [{ template: SESSION, events: [ev(1, 4)] }] }),
    ];
    const skipped: unknown[] = [];
    const fromFile = [...ipfixFileMessages(Buffer.concat(messages), 'f.ipfix', (s) => skipped.push(s))].map((m) => m.data);
    expect(fromFile).toEqual(messages);
    const fromPcap = [...pcapMessages(pcapOf(messages), (s) => skipped.push(s))];
    expect(fromPcap.map((m) => m.data)).toEqual(messages);
    expect(fromPcap.map((m) => m.exporter)).toEqual(['192.0.2.1', '192.0.2.1']);
    expect(skipped).toEqual([]);
    const cut = [...ipfixFileMessages(Buffer.concat(messages).subarray(0, messages[0]!.length + 10), 'f.ipfix', (s) => skipped.push(s))];
    expect(cut).toHaveLength(1);
    expect(skipped).toEqual([expect.objectContaining({ reason: 'FILE_TRUNCATED', number: 2 })]);
  });

  it('the decoder alone: one record per data record, problems numbered by message', () => {
    const d = new FlowDecoder({ format: 'ipfix', transport: 'file' });
    const x = new IpfixExporter();
    const out = d.decode(x.message(T0 / 1000, { templates: [SESSION], data: [{ template: SESSION, events: [ev(0, 4), ev(1, 4)] }] }), 'e', 5);
    expect(out.records.map((r) => [r.message, r.values.natEvent, r.values.sourceIp, r.values.observationMs])).toEqual([
      [5, 4, '100.64.0.1', T0],
      [5, 4, '100.64.0.2', T0 + 1000],
    ]);
    expect(d.decode(Buffer.from([0, 9, 0, 0]), 'e', 6).problems.map((p) => [p.line, p.reason])).toEqual([[6, 'WRONG_VERSION']]);
  });
});
