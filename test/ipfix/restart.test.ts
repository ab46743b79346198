/**
 * `ipar collect` across restarts: what is open when a collector stops is kept in the
 * store's pairing table (scope `ipfix|REALM`), as `ipar ingest` keeps it between runs, and
 * the next collector of the scope resumes it. A delete that arrives after a restart closes
 * the session its create opened before it: one record, start from the create, end from
 * the delete, not an open record beside a STOP_WITHOUT_START rejection.
 */
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startCollector } from '../../src/ingest/ipfix/collector.js';
import { profileNamed } from '../../src/ingest/ipfix/profiles.js';
import type { LineReport } from '../../src/ingest/ingest.js';
import { openStore, type Store } from '../../src/store/open.js';
import type { StoredRecord } from '../../src/store/types.js';
import { tempDir } from '../support/index.js';
import { BLOCK_FIELDS, IpfixExporter, sampleEvent, SESSION_FIELDS, type NatEvent, type TemplateDef } from './encoder.js';

const SESSION: TemplateDef = { id: 256, fields: SESSION_FIELDS };
const BLOCK: TemplateDef = { id: 257, fields: BLOCK_FIELDS };
const REALM = 'cgn-a';
const T0 = Date.parse('2026-03-28T10:00:00Z');
const iso = (ms: number): string => new Date(ms).toISOString();

/** Port block of 100.64.0.50 on 203.0.113.9, ports 1024–1535, allocated (16) or released (17) at `timeMs`. */
const block = (natEvent: 16 | 17, timeMs: number): NatEvent => ({
  natEvent,
  timeMs,
  insideIp: '100.64.0.50',
  outsideIp: '203.0.113.9',
  portStart: 1024,
  portEnd: 1535,
  portStep: 1,
});

/** One collector run: start on the store, send the events (templates in every message), stop. */
async function run(
  store: Store,
  exporter: IpfixExporter,
  sessions: readonly NatEvent[],
  blocks: readonly NatEvent[],
): Promise<{ rejects: LineReport[]; lost: number }> {
  const rejects: LineReport[] = [];
  const collector = await startCollector(store, {
    host: '127.0.0.1',
    port: 0,
    format: 'ipfix',
    profile: profileNamed('iana')!,
    vendorOptions: { realm: REALM },
    tcp: false,
    onReject: (r) => rejects.push(r),
  });
  const last = Math.max(...[...sessions, ...blocks].map((e) => e.timeMs));
  const message = exporter.message(Math.floor(last / 1000) + 1, {
    templates: [SESSION, BLOCK],
    data: [...(sessions.length > 0 ? [{ template: SESSION, events: sessions }] : []), ...(blocks.length > 0 ? [{ template: BLOCK, events: blocks }] : [])],
  });
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => socket.send(message, collector.ports.udp, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
  socket.close();
  for (const until = Date.now() + 10_000; collector.received() < 1 && Date.now() < until;) await new Promise((r) => setTimeout(r, 10));
  const summary = await collector.stop();
  return { rejects, lost: summary.lost };
}

async function stored(store: Store): Promise<{ sessions: StoredRecord[]; blocks: StoredRecord[] }> {
  const all: StoredRecord[] = [];
  for await (const batch of store.exportRecords({ kinds: ['nat-session', 'nat-block'], window: { start: 0, end: 4e12 } })) all.push(...batch);
  return { sessions: all.filter((r) => r.kind === 'nat-session'), blocks: all.filter((r) => r.kind === 'nat-block') };
}

/** What a test compares of a NAT record: whose, and when. */
function brief(r: StoredRecord): Record<string, unknown> {
  if (r.kind !== 'nat-session' && r.kind !== 'nat-block') throw new Error(`not a NAT record: ${r.kind}`);
  return {
    inside: r.insideIp.text,
    start: iso(r.start),
    end: r.end === null ? null : iso(r.end),
    endInferred: r.endInferred ?? false,
    lastSeen: r.lastSeen === undefined ? undefined : iso(r.lastSeen),
  };
}

describe('ipar collect across restarts (pairing state in the store)', () => {
  it('sessions and a port block opened before a restart are closed by the deletes after it, one record each', async () => {
    const store = openStore(join(tempDir(), 'restart.db'));
    try {
      const exporter = new IpfixExporter(1);
      // Run 1: three sessions and a port block open; the collector stops.
      const first = await run(
        store,
        exporter,
        [0, 1, 2].map((i) => sampleEvent(T0, i, 4)),
        [block(16, T0 + 500)],
      );
      expect(first.rejects).toEqual([]);
      let now = await stored(store);
      expect(now.sessions.map(brief)).toEqual(
        [0, 1, 2].map((i) => ({ inside: `100.64.0.${i + 1}`, start: iso(T0 + i * 1000), end: null, endInferred: false, lastSeen: iso(T0 + i * 1000) })),
      );
      expect(now.blocks.map(brief)).toEqual([{ inside: '100.64.0.50', start: iso(T0 + 500), end: null, endInferred: false, lastSeen: iso(T0 + 500) }]);
      expect(store.pairingState?.(`ipfix|${REALM}`)).not.toBeNull();

      // Run 2, a new collector on the same store: sessions 0 and 1 and the block end; session 2 stays open.
      const second = await run(
        store,
        exporter,
        [0, 1].map((i) => sampleEvent(T0, i, 5, 60_000)),
        [block(17, T0 + 90_000)],
      );
      expect(second.rejects).toEqual([]);
      expect(second.lost).toBe(0);
      now = await stored(store);
      expect(now.sessions.map(brief)).toEqual([
        { inside: '100.64.0.1', start: iso(T0), end: iso(T0 + 60_000), endInferred: false, lastSeen: undefined },
        { inside: '100.64.0.2', start: iso(T0 + 1000), end: iso(T0 + 61_000), endInferred: false, lastSeen: undefined },
        { inside: '100.64.0.3', start: iso(T0 + 2000), end: null, endInferred: false, lastSeen: iso(T0 + 2000) },
      ]);
      expect(now.blocks.map(brief)).toEqual([{ inside: '100.64.0.50', start: iso(T0 + 500), end: iso(T0 + 90_000), endInferred: false, lastSeen: undefined }]);

      // Run 3: the last session ends; nothing is left open. The state keeps only the closed
      // session still waiting out the reorder window for late events (stored as it stands).
      const third = await run(store, exporter, [sampleEvent(T0, 2, 5, 120_000)], []);
      expect(third.rejects).toEqual([]);
      now = await stored(store);
      expect(now.sessions.map(brief)[2]).toEqual({
        inside: '100.64.0.3',
        start: iso(T0 + 2000),
        end: iso(T0 + 122_000),
        endInferred: false,
        lastSeen: undefined,
      });
      expect(now.sessions).toHaveLength(3);
      const state = JSON.parse((await store.pairingState!(`ipfix|${REALM}`)).state!) as { provisional: { insideIp: string; end: string | null }[] };
      expect(state.provisional.map((r) => [r.insideIp, r.end])).toEqual([['100.64.0.3', iso(T0 + 122_000)]]);
    } finally {
      await store.close();
    }
  });
});
