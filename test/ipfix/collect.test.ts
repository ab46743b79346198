/**
 * `ipar collect` end to end over loopback: the simulator's NAT records, encoded as IPFIX
 * and NetFlow v9 by the test encoder, sent as UDP datagrams (and IPFIX over TCP) to the
 * collector, which stores them in a real SQLite store. The stored records must equal
 * the simulator's, requests resolved against the store built from IPFIX must answer as
 * against the simulator's own records (and find the true account as often), and a stream
 * with deliberate drops must end with coverage gaps whose counts equal the drops.
 */
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { once } from 'node:events';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { simulate, type SimRequest, type SimTruth } from '../../nat/simulate.js';
import { CanonicalRecord, type CanonicalRecordInput } from '../../src/records.js';
import { startCollector } from '../../src/ingest/ipfix/collector.js';
import { profileNamed } from '../../src/ingest/ipfix/profiles.js';
import { openStore, type Store } from '../../src/store/open.js';
import type { StoreWriter } from '../../src/store/types.js';
import { resolveBatch } from '../../src/index.js';
import { builtCli, tempDir } from '../support/index.js';
import { BLOCK_FIELDS, eventsOf, IpfixExporter, SESSION_FIELDS, V9Exporter, type NatEvent, type TemplateDef } from './encoder.js';

const SEED = 20260329;
const SESSION: TemplateDef = { id: 256, fields: SESSION_FIELDS };
const BLOCK: TemplateDef = { id: 257, fields: BLOCK_FIELDS };
const PER_MESSAGE = 20;
/** Templates go out every this many messages, and whenever this much export time has passed (an exporter's refresh rate). */
const TEMPLATE_EVERY = 25;
const TEMPLATE_REFRESH_MS = 600_000;

/** Whether message `n`, exported at `exportMs`, carries the templates. */
function refresher(): (n: number, exportMs: number) => boolean {
  let last = -Infinity;
  return (n, exportMs) => {
    if (n % TEMPLATE_EVERY !== 0 && exportMs - last < TEMPLATE_REFRESH_MS) return false;
    last = exportMs;
    return true;
  };
}

interface World {
  readonly records: CanonicalRecordInput[];
  readonly requests: SimRequest[];
  readonly truth: SimTruth[];
}

function world(profile: 'mobile-cgnat-sessions' | 'mobile-cgnat-blocks', subscribers: number, days: number): World {
  const out: World = { records: [], requests: [], truth: [] };
  for (const item of simulate({ profile, subscribers, days, logs: { gaps: 0, missingStop: 0 }, requests: 60 }, SEED).items()) {
    if (item.stream === 'record') out.records.push(item.value);
    else if (item.stream === 'request') out.requests.push(item.value);
    else if (item.stream === 'truth') out.truth.push(item.value);
  }
  return out;
}

const isNat = (r: CanonicalRecordInput): boolean => r.kind === 'nat-session' || r.kind === 'nat-block';

/** The datagrams an IPFIX exporter sends for these events: templates first and every few messages. */
function ipfixMessages(events: { kind: 'session' | 'block'; event: NatEvent }[], templatesInEvery = false): Buffer[] {
  const x = new IpfixExporter(1);
  const refresh = refresher();
  const withTemplates = (n: number, ms: number): boolean => templatesInEvery || refresh(n, ms);
  const out: Buffer[] = [];
  for (let i = 0; i < events.length; i += PER_MESSAGE) {
    const chunk = events.slice(i, i + PER_MESSAGE);
    const sessions = chunk.filter((e) => e.kind === 'session').map((e) => e.event);
    const blocks = chunk.filter((e) => e.kind === 'block').map((e) => e.event);
    const last = chunk[chunk.length - 1]!.event.timeMs;
    const n = i / PER_MESSAGE;
    const exportSec = Math.floor(last / 1000) + 1;
    out.push(
      x.message(exportSec, {
        templates: withTemplates(n, exportSec * 1000) ? [SESSION, BLOCK] : [],
        data: [...(sessions.length > 0 ? [{ template: SESSION, events: sessions }] : []), ...(blocks.length > 0 ? [{ template: BLOCK, events: blocks }] : [])],
      }),
    );
  }
  return out;
}

function v9Packets(events: { kind: 'session' | 'block'; event: NatEvent }[]): Buffer[] {
  const first = events[0]!.event.timeMs;
  const x = new V9Exporter(3, first - 86_400_000);
  const v9Session: TemplateDef = { id: 300, fields: SESSION_FIELDS };
  const withTemplates = refresher();
  const out: Buffer[] = [];
  for (let i = 0; i < events.length; i += PER_MESSAGE) {
    const chunk = events.slice(i, i + PER_MESSAGE).map((e) => ({ ...e.event, natEvent: e.event.natEvent === 4 ? 1 : 2 }));
    const exportMs = chunk[chunk.length - 1]!.timeMs + 1000;
    out.push(x.packet(exportMs, { templates: withTemplates(i / PER_MESSAGE, exportMs) ? [v9Session] : [], data: [{ template: v9Session, events: chunk }] }));
  }
  return out;
}

/** Send datagrams to a port, yielding to the event loop so the receiver keeps up. */
async function sendUdp(port: number, datagrams: readonly Buffer[]): Promise<void> {
  const socket = createSocket('udp4');
  for (let i = 0; i < datagrams.length; i++) {
    await new Promise<void>((resolve, reject) => socket.send(datagrams[i]!, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
    if (i % 8 === 7) await new Promise((r) => setTimeout(r, 1));
  }
  socket.close();
}

/** A store that keeps what it is given as well as storing it (the real store; nothing stubbed). */
function recording(store: Store): { writer: StoreWriter; seen: CanonicalRecord[] } {
  const seen: CanonicalRecord[] = [];
  return {
    seen,
    writer: {
      recordCoverage: (seen) => store.recordCoverage(seen),
      write: (records) => {
        seen.push(...records);
        return store.write(records);
      },
      close: () => undefined,
    },
  };
}

/**
 * A record still open when the simulation ended (`end: null`) has no delete event: the
 * collector stores it open too, with `lastSeen` at its create (the end of a stream ends
 * nothing). Compared without `lastSeen`, which the simulator does not write.
 */
function asOpen(r: CanonicalRecord): CanonicalRecord {
  if (!('lastSeen' in r) || r.lastSeen === undefined) return r;
  const { lastSeen: _seen, ...rest } = r;
  return rest as CanonicalRecord;
}

const byKey = (r: CanonicalRecord): string =>
  JSON.stringify(r, (_k, v: unknown) => (v !== null && typeof v === 'object' && 'text' in v ? (v as { text: string }).text : v));
const sortRecords = (rs: readonly CanonicalRecord[]): string[] => rs.map((r) => byKey(asOpen(r))).sort();

async function resolveAll(
  store: Store,
  requests: readonly SimRequest[],
  withRisks = false,
): Promise<{ ref: string; status: string; accounts: string[]; risks?: string[] }[]> {
  const out: { ref: string; status: string; accounts: string[]; risks?: string[] }[] = [];
  for await (const r of resolveBatch(store, requests, { returnPolicy: 'allow-multiple' } as never)) {
    out.push({
      ref: r.ref ?? '',
      status: r.status,
      accounts: r.candidates.map((c) => c.account).sort(),
      ...(withRisks ? { risks: r.risks.map((k) => k.code) } : {}),
    });
  }
  return out;
}

describe('ipar collect over loopback, against the simulator', () => {
  it('IPFIX over UDP: stores exactly the simulated NAT sessions, and resolves as the simulator\u2019s own records do', async () => {
    const w = world('mobile-cgnat-sessions', 25, 0.25);
    const nat = w.records.filter(isNat);
    const realm = (nat[0] as { realm: string }).realm;
    expect(nat.length).toBeGreaterThan(200);
    const messages = ipfixMessages(eventsOf(nat));

    const dir = tempDir();
    const fromIpfix = openStore(join(dir, 'ipfix.db'));
    const direct = openStore(join(dir, 'direct.db'));
    try {
      await direct.write(w.records.map((r) => CanonicalRecord.parse(r)));
      await fromIpfix.write(w.records.filter((r) => !isNat(r)).map((r) => CanonicalRecord.parse(r)));
      const { writer, seen } = recording(fromIpfix);
      const rejected: unknown[] = [];
      const collector = await startCollector(writer, {
        host: '127.0.0.1',
        port: 0,
        format: 'ipfix',
        profile: profileNamed('iana')!,
        vendorOptions: { realm },
        onReject: (r) => rejected.push(r),
        flushIntervalMs: 50,
      });
      await sendUdp(collector.ports.udp, messages);
      await waitFor(() => collector.received() === messages.length);
      const summary = await collector.stop();
      expect(rejected).toEqual([]);
      expect(summary.lost).toBe(0);
      expect(summary.messages).toBe(messages.length);
      expect(sortRecords(seen)).toEqual(sortRecords(nat.map((r) => CanonicalRecord.parse(r))));

      // Requests after the last event may differ (open records carry no end), no others.
      const lastEvent = Math.max(...nat.map((r) => Date.parse((r as { end: string | null }).end ?? (r as { start: string }).start)));
      const late = new Set(w.truth.filter((t) => t.observations.some((o) => Date.parse(o.time) > lastEvent)).map((t) => t.ref));
      expect(late.size).toBeLessThan(w.requests.length / 4);
      const a = (await resolveAll(direct, w.requests)).filter((r) => !late.has(r.ref));
      const b = (await resolveAll(fromIpfix, w.requests)).filter((r) => !late.has(r.ref));
      expect(b).toEqual(a);
      const truth = new Map(w.truth.map((t) => [t.ref, t.account]));
      const found = b.filter((r) => r.accounts.includes(truth.get(r.ref)!)).length;
      // Most requests find their true account (noise makes some miss); the same ones as from the records.
      expect(found).toBeGreaterThan(b.length / 2);
    } finally {
      await fromIpfix.close();
      await direct.close();
    }
  });

  it('a stream with deliberate drops ends with coverage gaps whose counts equal the records dropped', async () => {
    const w = world('mobile-cgnat-blocks', 30, 0.5);
    const nat = w.records.filter(isNat);
    const realm = (nat[0] as { realm: string }).realm;
    // Templates in every message (an exporter may do so): a dropped message loses only its records.
    const messages = ipfixMessages(eventsOf(nat), true);
    expect(messages.length).toBeGreaterThan(30);
    // Drop every 9th message, and count its data records.
    const dropped = new Set<number>();
    let droppedRecords = 0;
    messages.forEach((m, i) => {
      if (i % 9 === 4) {
        dropped.add(i);
        droppedRecords += recordsIn(m);
      }
    });
    const store = openStore(join(tempDir(), 'drops.db'));
    try {
      const notes: { reason: string; value?: unknown }[] = [];
      const collector = await startCollector(store, {
        host: '127.0.0.1',
        port: 0,
        format: 'ipfix',
        profile: profileNamed('iana')!,
        vendorOptions: { realm },
        onNote: (r) => notes.push(...r.problems),
      });
      const sent = messages.filter((_, i) => !dropped.has(i));
      await sendUdp(collector.ports.udp, sent);
      await waitFor(() => collector.received() === sent.length);
      const summary = await collector.stop();
      expect(summary.lost).toBe(droppedRecords);
      const lost = notes.filter((n) => n.reason === 'RECORDS_LOST');
      expect(lost).toHaveLength(dropped.size);
      expect(lost.reduce((s, n) => s + (n.value as number), 0)).toBe(droppedRecords);
      const [gaps] = await store.coverageGaps([{ source: null, window: { start: 0, end: 4e12 } }]);
      expect(gaps!.length).toBe(dropped.size);
      expect(new Set(gaps!.map((g) => g.source))).toEqual(new Set([`${realm}/ipfix/127.0.0.1/1`]));
      // A request inside a gap is told its answer may be missing a customer.
      const g = gaps![0]!;
      const [result] = await resolveAll(
        store,
        [
          {
            ref: 'IN-GAP',
            observations: [{ sourceIp: '192.0.2.1', sourcePort: 1100, time: new Date((g.start + (g.end ?? g.start)) / 2).toISOString() }],
          } as unknown as SimRequest,
        ],
        true,
      );
      expect(result!.risks).toContain('COVERAGE_GAP');
    } finally {
      await store.close();
    }
  });

  it('NetFlow v9 over UDP and IPFIX over TCP store the same sessions', async () => {
    const w = world('mobile-cgnat-sessions', 8, 0.1);
    const nat = w.records.filter((r) => r.kind === 'nat-session');
    const realm = (nat[0] as { realm: string }).realm;
    const expected = sortRecords(nat.map((r) => CanonicalRecord.parse(r)));

    const v9Store = openStore(join(tempDir(), 'v9.db'));
    const tcpStore = openStore(join(tempDir(), 'tcp.db'));
    try {
      const v9 = recording(v9Store);
      const c1 = await startCollector(v9.writer, {
        host: '127.0.0.1',
        port: 0,
        format: 'netflow9',
        profile: profileNamed('cisco-nel')!,
        vendorOptions: { realm },
      });
      const packets = v9Packets(eventsOf(nat));
      await sendUdp(c1.ports.udp, packets);
      await waitFor(() => c1.received() === packets.length);
      const s1 = await c1.stop();
      expect([s1.rejectedMessages, s1.lost]).toEqual([0, 0]);
      expect(sortRecords(v9.seen)).toEqual(expected);

      const tcp = recording(tcpStore);
      const c2 = await startCollector(tcp.writer, { host: '127.0.0.1', port: 0, format: 'ipfix', profile: profileNamed('iana')!, vendorOptions: { realm } });
      const messages = ipfixMessages(eventsOf(nat));
      const socket = connect(c2.ports.tcp!, '127.0.0.1');
      await once(socket, 'connect');
      // Written in odd-sized pieces: the collector must find message boundaries itself.
      const stream = Buffer.concat(messages);
      for (let at = 0; at < stream.length; at += 333) socket.write(stream.subarray(at, at + 333));
      socket.end();
      await once(socket, 'close');
      await waitFor(() => c2.received() === messages.length);
      const s2 = await c2.stop();
      expect([s2.rejectedMessages, s2.lost]).toEqual([0, 0]);
      expect(sortRecords(tcp.seen)).toEqual(expected);
    } finally {
      await v9Store.close();
      await tcpStore.close();
    }
  });

  it('the CLI: `ipar collect` stores until SIGTERM, then drains and prints its summary', async () => {
    const cli = builtCli();
    const w = world('mobile-cgnat-sessions', 5, 0.05);
    const nat = w.records.filter(isNat);
    const realm = (nat[0] as { realm: string }).realm;
    const messages = ipfixMessages(eventsOf(nat));
    const db = join(tempDir(), 'cli.db');
    const child = spawn(
      process.execPath,
      [cli, 'collect', '--format', 'ipfix', '--listen', '127.0.0.1:0', '--db', db, '--profile', 'iana', '--realm', realm, '--json'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    try {
      await waitFor(() => /listening on udp 127\.0\.0\.1:(\d+)/.test(stderr), 30_000);
      const port = Number(/listening on udp 127\.0\.0\.1:(\d+)/.exec(stderr)![1]);
      await sendUdp(port, messages);
      await new Promise((r) => setTimeout(r, 300));
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number];
      expect(stderr).toContain('collect: ');
      expect(code).toBe(0);
      const summary = JSON.parse(stdout) as { messages: number; stored: Record<string, number> };
      expect(summary.messages).toBe(messages.length);
      expect(summary.stored['nat-session']).toBe(nat.length);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});

/** Data records in an IPFIX message made by the test encoder (its sets of templates 256/257). */
function recordsIn(m: Buffer): number {
  let n = 0;
  for (let at = 16; at + 4 <= m.length;) {
    const id = m.readUInt16BE(at);
    const len = m.readUInt16BE(at + 2);
    if (id === 256) n += (len - 4) / SESSION_FIELDS.reduce((s, f) => s + f.length, 0);
    if (id === 257) n += (len - 4) / BLOCK_FIELDS.reduce((s, f) => s + f.length, 0);
    at += len;
  }
  return n;
}

async function waitFor(ok: () => boolean, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}
