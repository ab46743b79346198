/**
 * Overlaps as data-quality findings (issue 16 item 6; src/ingest/overlaps.ts): the finder
 * on table cases, and the ingest summary that counts them with both records.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ingest } from '../../src/ingest/ingest.js';
import { OverlapFinder } from '../../src/ingest/overlaps.js';
import { VENDOR_PARSERS } from '../../src/ingest/vendors/index.js';
import { alloc, block, freshStore, records } from '../support/index.js';

const T = (hms: string) => `2026-03-28T${hms}Z`;

function overlapsOf(...rs: object[]): string[] {
  const f = new OverlapFinder();
  for (const r of records(...rs)) f.add(r);
  return f.overlaps().map((o) => `${o.kind} ${o.resource} ${o.a.holder} ${o.a.held} / ${o.b.holder} ${o.b.held}`);
}

describe('OverlapFinder: two holders of the same thing at the same time', () => {
  const cases: { name: string; records: object[]; want: string[] }[] = [
    {
      name: 'one port block given to two inside hosts at once',
      records: [block('100.64.0.1', 1024, 1535, T('08:00:00'), T('12:00:00')), block('100.64.0.2', 1024, 1535, T('11:00:00'), T('13:00:00'))],
      want: ['nat-block 203.0.113.7 cgn-a|100.64.0.1 1024-1535 / cgn-a|100.64.0.2 1024-1535'],
    },
    {
      name: 'overlapping blocks on one outside address',
      records: [block('100.64.0.1', 1024, 1535, T('08:00:00'), null), block('100.64.0.2', 1500, 2047, T('09:00:00'), null)],
      want: ['nat-block 203.0.113.7 cgn-a|100.64.0.1 1024-1535 / cgn-a|100.64.0.2 1500-2047'],
    },
    {
      name: 'adjacent blocks, blocks one after the other, the same host twice: none',
      records: [
        block('100.64.0.1', 1024, 1535, T('08:00:00'), T('10:00:00')),
        block('100.64.0.2', 1536, 2047, T('08:00:00'), T('10:00:00')),
        block('100.64.0.3', 1024, 1535, T('10:00:00'), T('11:00:00')),
        block('100.64.0.3', 1024, 1535, T('10:30:00'), T('12:00:00')),
      ],
      want: [],
    },
    {
      name: 'blocks of two protocols on the same ports: none; a block of every protocol meets both',
      records: [
        block('100.64.0.1', 1024, 1535, T('08:00:00'), T('10:00:00'), { protocol: 'tcp' }),
        block('100.64.0.2', 1024, 1535, T('08:00:00'), T('10:00:00'), { protocol: 'udp' }),
        block('100.64.0.3', 1024, 1024, T('09:00:00'), T('09:30:00')),
      ],
      want: [
        'nat-block 203.0.113.7 cgn-a|100.64.0.1 1024-1535/tcp / cgn-a|100.64.0.3 1024-1024',
        'nat-block 203.0.113.7 cgn-a|100.64.0.2 1024-1535/udp / cgn-a|100.64.0.3 1024-1024',
      ],
    },
    {
      name: 'one address allocated to two accounts at once; the same inside address in two realms is not one address',
      records: [
        alloc('198.51.100.7', 'A', T('08:00:00'), T('10:00:00')),
        alloc('198.51.100.7', 'B', T('09:59:59'), null),
        alloc('100.64.0.9', 'C', T('08:00:00'), null, { realm: 'cgn-a' }),
        alloc('100.64.0.9', 'D', T('08:00:00'), null, { realm: 'cgn-b' }),
      ],
      want: ['allocation 198.51.100.7 A 198.51.100.7 / B 198.51.100.7'],
    },
  ];
  it.each(cases)('$name', ({ records: rs, want }) => expect(overlapsOf(...rs)).toEqual(want));
});

describe('ingest: overlaps are counted in the summary with both records', () => {
  const text = (lines: object[]) => ({ name: 'in', stream: () => Readable.from([lines.map((l) => JSON.stringify(l)).join('\n') + '\n']) });

  it('canonical records: the overlap, both records, the interval both held', async () => {
    const { store } = freshStore();
    try {
      const summary = await ingest(store, [
        text([block('100.64.0.1', 1024, 1535, T('08:00:00'), T('12:00:00')), block('100.64.0.2', 1024, 1535, T('11:00:00'), T('13:00:00'))]),
      ]);
      expect(summary.overlaps).toEqual({
        count: 1,
        first: [
          {
            kind: 'nat-block',
            resource: '203.0.113.7',
            from: '2026-03-28T11:00:00.000Z',
            to: '2026-03-28T12:00:00.000Z',
            records: [
              { holder: 'cgn-a|100.64.0.1', held: '1024-1535', start: '2026-03-28T08:00:00.000Z', end: '2026-03-28T12:00:00.000Z' },
              { holder: 'cgn-a|100.64.0.2', held: '1024-1535', start: '2026-03-28T11:00:00.000Z', end: '2026-03-28T13:00:00.000Z' },
            ],
          },
        ],
      });
    } finally {
      store.close();
    }
  });

  it('no overlap: no field (the summary is as before)', async () => {
    const { store } = freshStore();
    try {
      const summary = await ingest(store, [text([block('100.64.0.1', 1024, 1535, T('08:00:00'), T('12:00:00'))])]);
      expect('overlaps' in summary).toBe(false);
    } finally {
      store.close();
    }
  });

  it('a vendor log whose device gave overlapping port blocks to two hosts (SRX PBA): the open blocks overlap', async () => {
    const pba = (time: string, inside: string, low = inside.endsWith('.1') ? 1024 : 1280) =>
      `<14>1 ${time} srx1 RT_NAT - RT_SRC_NAT_PBA_ALLOC [junos@2636.1.1.1.2.26 internal-ip="${inside}" block-used="1" block-max-per-host="4" ` +
      `block-port-low="${low}" block-port-high="${low + 511}" reflexive-ip="203.0.113.7" nat-pool-name="pool-a" logical-system-id="0" ` +
      `epoch-time-64="${(Date.parse(time) / 1000).toString(16)}"]`;
    const { store } = freshStore();
    try {
      const summary = await ingest(
        store,
        [
          {
            name: 'srx',
            stream: () => Readable.from([pba('2026-03-28T10:00:00.000Z', '100.64.0.1') + '\n' + pba('2026-03-28T10:00:00.000Z', '100.64.0.2') + '\n']),
          },
        ],
        { format: VENDOR_PARSERS.find((p) => p.name === 'juniper-srx')!, vendorOptions: { realm: 'cgn-a' } },
      );
      // Blocks 1024–1535 and 1280–1791 are two resources to the pairing: nothing ends either; the finder sees the shared ports.
      expect(summary.overlaps?.count).toBe(1);
      expect(summary.overlaps?.first[0]?.records.map((r) => r.holder)).toEqual(['cgn-a|100.64.0.1', 'cgn-a|100.64.0.2']);
    } finally {
      store.close();
    }
  });
});
