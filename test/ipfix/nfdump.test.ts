/**
 * ipar's decoder against an independent one: the same IPFIX and NetFlow v9 datagrams
 * (the simulator's NAT events, encoded by the test encoder) go over loopback to `ipar
 * collect` and to nfdump's `nfcapd`; every event nfdump prints with `-o json` must be a
 * start or a logged end of a record ipar stored, field by field, and the other way round.
 *
 * nfdump 1.7's IPFIX reader does not decode portRangeStart/End (its v9 reader does), so
 * IPFIX port blocks are compared without their ports. nfcapd runs on 127.0.0.1 in a
 * temporary folder and is killed at the end. Without nfcapd the test is skipped, saying
 * why, except in CI (`CI=true`), where `.ci/run` installs it and its absence fails.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { afterAll, describe, expect, it } from 'vitest';
import { simulate } from '../../nat/simulate.js';
import type { CanonicalRecord, CanonicalRecordInput } from '../../src/records.js';
import { startCollector } from '../../src/ingest/ipfix/collector.js';
import { profileNamed } from '../../src/ingest/ipfix/profiles.js';
import { openStore } from '../../src/store/open.js';
import { tempDir } from '../support/index.js';
import { BLOCK_FIELDS, eventsOf, IpfixExporter, SESSION_FIELDS, V9Exporter, type NatEvent, type TemplateDef } from './encoder.js';

const NFCAPD = '/usr/bin/nfcapd';
const NFDUMP = '/usr/bin/nfdump';
const present = existsSync(NFCAPD) && existsSync(NFDUMP);
const inCi = process.env['CI'] === 'true';
if (!present && !inCi)
  process.stderr.write(`nfdump comparison skipped: ${NFCAPD} or ${NFDUMP} is missing (apt-get install nfdump; .ci/run installs it in CI)\n`);

const SEED = 20260329;
const SESSION: TemplateDef = { id: 256, fields: SESSION_FIELDS };
const BLOCK: TemplateDef = { id: 257, fields: BLOCK_FIELDS };
const PER_MESSAGE = 15;

/** What both sides say about one event, as comparable text. */
type Tuple = string;

function natRecords(): CanonicalRecordInput[] {
  const out: CanonicalRecordInput[] = [];
  for (const r of simulate({ profile: 'mixed', subscribers: 60, days: 0.1, logs: { gaps: 0, missingStop: 0 }, requests: 0 }, SEED).records) {
    if (r.kind === 'nat-session' || r.kind === 'nat-block') out.push(r);
  }
  return out;
}

function encode(format: 'ipfix' | 'netflow9', events: { kind: 'session' | 'block'; event: NatEvent }[]): Buffer[] {
  const x = new IpfixExporter(1);
  const v = new V9Exporter(5, events[0]!.event.timeMs - 3_600_000);
  const out: Buffer[] = [];
  for (let i = 0; i < events.length; i += PER_MESSAGE) {
    const chunk = events.slice(i, i + PER_MESSAGE);
    const sessions = chunk.filter((e) => e.kind === 'session').map((e) => e.event);
    const blocks = chunk.filter((e) => e.kind === 'block').map((e) => e.event);
    const data = [
      ...(sessions.length > 0 ? [{ template: SESSION, events: sessions }] : []),
      ...(blocks.length > 0 ? [{ template: BLOCK, events: blocks }] : []),
    ];
    const exportMs = chunk[chunk.length - 1]!.event.timeMs + 1000;
    // Templates in every message: nfcapd and ipar time templates out differently.
    if (format === 'ipfix') out.push(x.message(Math.floor(exportMs / 1000), { templates: [SESSION, BLOCK], data }));
    else out.push(v.packet(exportMs, { templates: [SESSION, BLOCK], data }));
  }
  return out;
}

const PROTOCOLS: Readonly<Record<string, number>> = { icmp: 1, tcp: 6, udp: 17, gre: 47, esp: 50, icmpv6: 58, sctp: 132 };

/** The events a stored record stands for: its start, and its end when it was logged. */
function tuplesOfRecord(r: CanonicalRecord, format: 'ipfix' | 'netflow9'): Tuple[] {
  const times: [string, number][] = [['create', r.kind === 'coverage' ? 0 : (r as { start: number }).start]];
  const end = (r as { end: number | null }).end;
  if (end !== null && (r as { endInferred?: boolean }).endInferred !== true) times.push(['delete', end]);
  if (r.kind === 'nat-session') {
    return times.map(([what, t]) =>
      [
        'session',
        what,
        t,
        r.insideIp.text,
        r.insidePort,
        r.outsideIp.text,
        r.outsidePort,
        r.destinationIp?.text ?? '0.0.0.0',
        r.destinationPort ?? 0,
        PROTOCOLS[r.protocol],
      ].join(' '),
    );
  }
  if (r.kind === 'nat-block') {
    const ports = format === 'ipfix' ? '' : `${r.portFirst}-${r.portLast}`;
    return times.map(([what, t]) => ['block', what, t, r.insideIp.text, r.outsideIp.text, ports].join(' '));
  }
  return [];
}

/** nfdump prints `t_event` as local `YYYY-MM-DDThh:mm:ss.<ms without zero padding>` (run with TZ=UTC). */
function eventMs(text: string): number {
  const dot = text.lastIndexOf('.');
  return Date.parse(text.slice(0, dot) + 'Z') + Number(text.slice(dot + 1));
}

function tupleOfNfdump(j: Record<string, string | number>, format: 'ipfix' | 'netflow9'): Tuple {
  const event = Number(j['nat_event_id']);
  const t = eventMs(String(j['t_event']));
  if (event === 4 || event === 5) {
    return [
      'session',
      event === 4 ? 'create' : 'delete',
      t,
      j['src4_addr'],
      j['src_port'],
      j['src4_xlt_ip'],
      Number(j['src_xlt_port']),
      j['dst4_addr'],
      j['dst_port'],
      j['proto'],
    ].join(' ');
  }
  if (event === 16 || event === 17) {
    const ports = format === 'ipfix' ? '' : `${j['pblock_start']}-${j['pblock_end']}`;
    return ['block', event === 16 ? 'create' : 'delete', t, j['src4_addr'], j['src4_xlt_ip'], ports].join(' ');
  }
  return `unexpected nat_event ${event}`;
}

function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  return new Promise((resolve) => {
    s.bind(0, '127.0.0.1', () => {
      const port = s.address().port;
      s.close(() => resolve(port));
    });
  });
}

const children = new Set<ChildProcess>();
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

async function nfcapd(dir: string, port: number): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(NFCAPD, ['-b', '127.0.0.1', '-p', String(port), '-w', dir, '-t', '3600', '-B', '4194304'], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let text = '';
  child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  const until = Date.now() + 15_000;
  while (!text.includes('Startup')) {
    if (child.exitCode !== null || Date.now() > until) throw new Error(`nfcapd did not start: ${text}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { child, output: () => text };
}

describe.skipIf(!present && !inCi)('ipar collect against nfdump (nfcapd)', () => {
  for (const format of ['ipfix', 'netflow9'] as const) {
    it(`${format}: every NAT event nfdump decodes is a start or logged end ipar stored, field by field`, async () => {
      expect(present, `${NFCAPD} and ${NFDUMP} must be installed in CI (.ci/run installs nfdump)`).toBe(true);
      const records = natRecords();
      const events = eventsOf(records);
      expect(events.some((e) => e.kind === 'block') && events.some((e) => e.kind === 'session')).toBe(true);
      const datagrams = encode(format, events);
      const realm = (records[0] as { realm: string }).realm;
      const dir = tempDir();
      const nfPort = await freeUdpPort();
      const nf = await nfcapd(dir, nfPort);
      const store = openStore(join(dir, 'ipar.db'));
      const seen: CanonicalRecord[] = [];
      const rejected: unknown[] = [];
      try {
        const collector = await startCollector(
          { write: (rs) => (seen.push(...rs), store.write(rs)), recordCoverage: (c) => store.recordCoverage(c), close: () => undefined },
          { host: '127.0.0.1', port: 0, format, profile: profileNamed('iana')!, vendorOptions: { realm }, onReject: (r) => rejected.push(r) },
        );
        const socket = createSocket('udp4');
        for (const [i, d] of datagrams.entries()) {
          for (const port of [collector.ports.udp, nfPort])
            await new Promise<void>((resolve, reject) => socket.send(d, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
          if (i % 8 === 7) await new Promise((r) => setTimeout(r, 1));
        }
        socket.close();
        const until = Date.now() + 10_000;
        while (collector.received() < datagrams.length && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
        await collector.stop();
        await new Promise((r) => setTimeout(r, 300));
        nf.child.kill('SIGTERM');
        await once(nf.child, 'exit');
      } finally {
        await store.close();
        if (nf.child.exitCode === null) nf.child.kill('SIGKILL');
      }
      expect(rejected).toEqual([]);
      // nfcapd's own 'Flows:' tally leaves port-block events out; the JSON has every event.
      expect(nf.output()).toContain('Sequence Errors: 0');
      const files = readdirSync(dir).filter((f) => /^nfcapd\.\d+$/.test(f));
      expect(files.length).toBeGreaterThan(0);
      const nfEvents: Tuple[] = [];
      for (const f of files) {
        const json = execFileSync(NFDUMP, ['-r', join(dir, f), '-o', 'json'], { env: { ...process.env, TZ: 'UTC' }, maxBuffer: 64 * 1024 * 1024 }).toString();
        for (const j of JSON.parse(json) as Record<string, string | number>[]) nfEvents.push(tupleOfNfdump(j, format));
      }
      const ipar = seen.flatMap((r) => tuplesOfRecord(r, format));
      expect(nfEvents).toHaveLength(events.length);
      expect(ipar.sort()).toEqual(nfEvents.sort());
    });
  }
});
