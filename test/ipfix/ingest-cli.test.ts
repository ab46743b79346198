/**
 * `ipar ingest --format ipfix|netflow9`: an IPFIX file and pcap captures replayed into a
 * store, with problems reported by message number and the usage errors of the options.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { openStore } from '../../src/store/open.js';
import { captureIo, tempDir } from '../support/index.js';
import { IpfixExporter, pcapOf, sampleEvent, SESSION_FIELDS, V9Exporter, type NatEvent, type TemplateDef } from './encoder.js';

const T0 = Date.parse('2026-03-28T10:00:00Z');
const SESSION: TemplateDef = { id: 256, fields: SESSION_FIELDS };
const ev = (i: number, natEvent: number, dt = 0): NatEvent => sampleEvent(T0, i, natEvent, dt, 17);

describe('ipar ingest --format ipfix|netflow9', () => {
  it('stores an IPFIX file, reports an undefined event by its message number, and exits 1', async () => {
    const dir = tempDir();
    const x = new IpfixExporter();
    const file = join(dir, 'nat.ipfix');
    writeFileSync(
      file,
      Buffer.concat([
        x.message(T0 / 1000, { templates: [SESSION], data: [{ template: SESSION, events: [ev(0, 4), ev(1, 4)] }] }),
        x.message(T0 / 1000 + 60, { data: [{ template: SESSION, events: [ev(0, 5, 60_000), ev(1, 5, 60_000)] }] }),
        x.message(T0 / 1000 + 61, { data: [{ template: SESSION, events: [ev(2, 99)] }] }),
      ]),
    );
    const db = join(dir, 'op.db');
    const io = captureIo();
    expect(await main(['ingest', '--format', 'ipfix', '--profile', 'iana', '--realm', 'cgn-a', '--db', db, '--json', file], io)).toBe(1);
    expect(io.err()).toContain(`${file}:3: natEvent: EVENT_UNDEFINED: natEvent 99 is not defined by the iana profile`);
    const summary = JSON.parse(io.out()) as { messages: number; records: number; stored: Record<string, number>; rejectedMessages: number };
    expect([summary.messages, summary.records, summary.stored['nat-session'], summary.rejectedMessages]).toEqual([3, 5, 2, 1]);
    const store = openStore(db, { readonly: true });
    try {
      expect((await store.counts())['nat-session']).toBe(2);
    } finally {
      await store.close();
    }
  });

  it('stores a pcap capture of NetFlow v9 (cisco-nel), exit 0', async () => {
    const dir = tempDir();
    const x = new V9Exporter(1, T0 - 60_000);
    const packets = [
      x.packet(T0 + 1000, { templates: [SESSION], data: [{ template: SESSION, events: [ev(0, 1)] }] }),
      x.packet(T0 + 9000, { data: [{ template: SESSION, events: [ev(0, 2, 8000)] }] }),
    ];
    const file = join(dir, 'nel.pcap');
    writeFileSync(file, pcapOf(packets));
    const io = captureIo();
    expect(await main(['ingest', '--format', 'netflow9', '--profile', 'cisco-nel', '--realm', 'cgn-a', '--db', join(dir, 'op.db'), '--json', file], io)).toBe(
      0,
    );
    expect((JSON.parse(io.out()) as { stored: Record<string, number> }).stored['nat-session']).toBe(1);
  });

  it('refuses a missing or unknown profile, a missing realm, and NetFlow v9 outside a capture', async () => {
    const dir = tempDir();
    const file = join(dir, 'x.bin');
    writeFileSync(file, Buffer.from([0, 9, 0, 0]));
    const db = join(dir, 'op.db');
    const cases: [string[], RegExp][] = [
      [['--format', 'ipfix', '--realm', 'r'], /need --profile.*iana, juniper-ipfix, juniper-v9, cisco-nel, nokia-lsn, vpp/],
      [['--format', 'ipfix', '--realm', 'r', '--profile', 'acme'], /--profile "acme" is not known/],
      [['--format', 'ipfix', '--profile', 'iana'], /needs realm/],
      [['--format', 'netflow9', '--profile', 'cisco-nel', '--realm', 'r'], /not a pcap capture/],
    ];
    for (const [args, message] of cases) {
      const io = captureIo();
      expect(await main(['ingest', ...args, '--db', db, file], io)).toBe(2);
      expect(io.err()).toMatch(message);
    }
  });
});
