import { describe, expect, it } from 'vitest';
import { propertyRun } from '../support/index.js';
import fc from 'fast-check';
import { NatDeterministicRecord } from '../../src/records.js';
import { addToKey, keyToText, parseAddress, type Address } from '../../src/address.js';
import { deterministicLayout, forward, reverse } from '../../nat/deterministic.js';

function addr(text: string): Address {
  const r = parseAddress(text);
  if (!r.ok) throw new Error(r.message);
  return r.value;
}

function record(input: Record<string, unknown>): NatDeterministicRecord {
  return NatDeterministicRecord.parse({
    kind: 'nat-deterministic',
    realm: 'cgn-a',
    portFirst: 1024,
    portLast: 65535,
    start: '2026-03-01T00:00:00Z',
    end: null,
    ...input,
  });
}

describe('forward() and reverse(), rfc7422 test vector', () => {
  // One outside address shared 1:16: 14 subscribers, 2 shares held back for dynamic use.
  const r = record({ algorithm: 'rfc7422', insidePrefix: '100.64.0.0/28', outsidePrefix: '203.0.113.5/32', ratio: 16, dynamicShares: 2 });

  it('gives shares of (65536 − 1024) / 16 = 4032 ports, the first subscriber 1024–5055', () => {
    const f = forward(r, addr('100.64.0.0'));
    expect(f).toMatchObject({ ok: true, value: { portFirst: 1024, portLast: 5055 } });
    if (f.ok) expect(f.value.outsideAddress.text).toBe('203.0.113.5');
    expect(forward(r, addr('100.64.0.13'))).toMatchObject({ ok: true, value: { portFirst: 1024 + 13 * 4032, portLast: 1024 + 14 * 4032 - 1 } });
  });

  it('reports the dynamic pool 57472–65535 as dynamic-share', () => {
    for (const port of [57472, 60000, 65535]) expect(reverse(r, addr('203.0.113.5'), port)).toMatchObject({ ok: false, reason: 'dynamic-share' });
    expect(reverse(r, addr('203.0.113.5'), 57471)).toMatchObject({ ok: true, value: { portFirst: 53440, portLast: 57471 } });
  });

  it('gives the 15th and 16th inside addresses no share', () => {
    expect(forward(r, addr('100.64.0.14'))).toMatchObject({ ok: false, reason: 'no-share' });
    expect(forward(r, addr('100.64.0.15'))).toMatchObject({ ok: false, reason: 'no-share' });
  });

  it('reports reserved ports and foreign addresses', () => {
    expect(reverse(r, addr('203.0.113.5'), 1023)).toMatchObject({ ok: false, reason: 'reserved-port' });
    expect(reverse(r, addr('203.0.113.6'), 2000)).toMatchObject({ ok: false, reason: 'outside-prefix' });
    expect(forward(r, addr('100.64.0.16'))).toMatchObject({ ok: false, reason: 'outside-prefix' });
  });
});

describe('forward() and reverse(), vpp-det44 test vector', () => {
  const r = record({ algorithm: 'vpp-det44', insidePrefix: '198.18.0.0/15', outsidePrefix: '203.0.113.128/25' });

  it('has sharing ratio 1024 and 63 ports per host', () => {
    const l = deterministicLayout(r);
    expect(l).toMatchObject({ ok: true, value: { sharesPerAddress: 1024, shareSize: 63 } });
  });

  it('reverses 203.0.113.130 port 5000 to 198.18.8.63, block 4993–5055', () => {
    const rv = reverse(r, addr('203.0.113.130'), 5000);
    expect(rv).toMatchObject({ ok: true, value: { portFirst: 4993, portLast: 5055 } });
    if (rv.ok) expect(rv.value.insideAddress.text).toBe('198.18.8.63');
    const fw = forward(r, addr('198.18.8.63'));
    expect(fw).toMatchObject({ ok: true, value: { portFirst: 4993, portLast: 5055 } });
    if (fw.ok) expect(fw.value.outsideAddress.text).toBe('203.0.113.130');
  });

  it('at ratio 2048 (31 ports per host) says ports 64512–65535 belong to nobody', () => {
    // /16 inside over /27 outside: 65536 / 32 = 2048.
    const r2048 = record({ algorithm: 'vpp-det44', insidePrefix: '100.64.0.0/16', outsidePrefix: '203.0.113.0/27' });
    expect(deterministicLayout(r2048)).toMatchObject({ ok: true, value: { sharesPerAddress: 2048, shareSize: 31 } });
    expect(reverse(r2048, addr('203.0.113.0'), 64511)).toMatchObject({ ok: true, value: { portFirst: 64481, portLast: 64511 } });
    for (const port of [64512, 65000, 65535]) {
      // VPP's snat_det_reverse would answer (65000 − 1024) / 31 = 2063, a host of the next group.
      expect(reverse(r2048, addr('203.0.113.0'), port)).toMatchObject({ ok: false, reason: 'unassigned' });
    }
  });

  it('refuses an inside prefix smaller than the outside prefix', () => {
    const bad = record({ algorithm: 'vpp-det44', insidePrefix: '100.64.0.0/30', outsidePrefix: '203.0.113.0/28' });
    expect(forward(bad, addr('100.64.0.1'))).toMatchObject({ ok: false, reason: 'unusable-config' });
  });
});

describe('forward() and reverse(), juniper-deterministic', () => {
  it('computes the block size as int(64512 / ceil(inside / outside)) and skips network and broadcast', () => {
    // 256 − 2 usable inside addresses over 4 outside addresses: ceil(254 / 4) = 64, block 1008.
    const r = record({ algorithm: 'juniper-deterministic', insidePrefix: '100.64.1.0/24', outsidePrefix: '203.0.113.16/30' });
    expect(deterministicLayout(r)).toMatchObject({ ok: true, value: { shareSize: 1008, sharesPerAddress: 64, insideCount: 254n } });
    expect(forward(r, addr('100.64.1.0'))).toMatchObject({ ok: false, reason: 'boundary-address' });
    expect(forward(r, addr('100.64.1.255'))).toMatchObject({ ok: false, reason: 'boundary-address' });
    const first = forward(r, addr('100.64.1.1'));
    expect(first).toMatchObject({ ok: true, value: { portFirst: 1024, portLast: 2031 } });
    if (first.ok) expect(first.value.outsideAddress.text).toBe('203.0.113.16');
    const sixtyFifth = forward(r, addr('100.64.1.65'));
    expect(sixtyFifth).toMatchObject({ ok: true, value: { portFirst: 1024 } });
    if (sixtyFifth.ok) expect(sixtyFifth.value.outsideAddress.text).toBe('203.0.113.17');
    // The last outside address holds only 254 − 192 = 62 subscribers: its last two blocks are nobody's.
    expect(reverse(r, addr('203.0.113.19'), 1024 + 62 * 1008)).toMatchObject({ ok: false, reason: 'unassigned' });
  });

  it('translates the boundary addresses when includeBoundaryAddresses', () => {
    const r = record({
      algorithm: 'juniper-deterministic',
      insidePrefix: '100.64.1.0/24',
      outsidePrefix: '203.0.113.16/30',
      includeBoundaryAddresses: true,
      blockSize: 1000,
    });
    expect(forward(r, addr('100.64.1.0'))).toMatchObject({ ok: true, value: { portFirst: 1024, portLast: 2023 } });
    // 64 blocks of 1000 fit in 64512 ports; 65024–65535 are left over.
    expect(reverse(r, addr('203.0.113.16'), 65024)).toMatchObject({ ok: false, reason: 'unassigned' });
  });
});

/** A configuration small enough to enumerate, as fast-check draws it. */
const arbRecord = fc
  .record({
    algorithm: fc.constantFrom('rfc7422', 'vpp-det44', 'juniper-deterministic'),
    insideLen: fc.integer({ min: 20, max: 30 }),
    outsideExtra: fc.integer({ min: 0, max: 3 }),
    ratioPick: fc.integer({ min: 1, max: 40 }),
    dynamicPick: fc.integer({ min: 0, max: 5 }),
    portFirst: fc.integer({ min: 0, max: 4096 }),
    portLast: fc.integer({ min: 60000, max: 65535 }),
    blockPick: fc.option(fc.integer({ min: 1, max: 5000 }), { nil: undefined }),
    boundary: fc.boolean(),
  })
  .map((p) => {
    const outsideLen = Math.min(32, Math.max(p.insideLen, 30) + p.outsideExtra - 1);
    const base = {
      algorithm: p.algorithm,
      insidePrefix: `100.64.0.0/${p.insideLen}`,
      outsidePrefix: `203.0.113.0/${outsideLen}`,
      portFirst: p.portFirst,
      portLast: p.portLast,
    };
    if (p.algorithm === 'rfc7422') return record({ ...base, ratio: p.ratioPick, dynamicShares: Math.min(p.dynamicPick, p.ratioPick - 1) });
    if (p.algorithm === 'juniper-deterministic') {
      return record({ ...base, includeBoundaryAddresses: p.boundary, ...(p.blockPick === undefined ? {} : { blockSize: p.blockPick }) });
    }
    return record(base);
  });

/**
 * The reference model: forward every inside address and write down which (outside
 * address, port) each one holds. No arithmetic on the reverse side at all.
 */
function enumerate(r: NatDeterministicRecord): Map<string, { inside: string; first: number; last: number }[]> {
  const byOutside = new Map<string, { inside: string; first: number; last: number }[]>();
  const size = 2 ** (128 - r.insidePrefix.length);
  for (let i = 0; i < size; i++) {
    const inside = keyToText(addToKey(r.insidePrefix.key, BigInt(i)));
    const f = forward(r, addr(inside));
    if (!f.ok) continue;
    const list = byOutside.get(f.value.outsideAddress.text) ?? [];
    list.push({ inside, first: f.value.portFirst, last: f.value.portLast });
    byOutside.set(f.value.outsideAddress.text, list);
  }
  return byOutside;
}

describe('forward() and reverse(), laws over random configurations', () => {
  it(`identity: reverse(forward(a), p) = a for every port p of a's range`, () => {
    fc.assert(
      fc.property(arbRecord, fc.nat(), fc.nat(), (r, pickInside, pickPort) => {
        const size = 2 ** (128 - r.insidePrefix.length);
        const inside = addr(keyToText(addToKey(r.insidePrefix.key, BigInt(pickInside % size))));
        const f = forward(r, inside);
        if (!f.ok) return;
        const { outsideAddress, portFirst, portLast } = f.value;
        for (const port of [portFirst, portLast, portFirst + (pickPort % (portLast - portFirst + 1))]) {
          const back = reverse(r, outsideAddress, port);
          expect(back).toMatchObject({ ok: true, value: { portFirst, portLast } });
          if (back.ok) expect(back.value.insideAddress.text).toBe(inside.text);
        }
      }),
      propertyRun('identity', 300),
    );
  });

  it(`soundness: a port no share holds is reported as reserved, dynamic or unassigned, never as someone's`, () => {
    fc.assert(
      fc.property(arbRecord, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 65535 })), { minLength: 50, maxLength: 50 }), (r, probes) => {
        const held = enumerate(r);
        const outsideSize = 2 ** (128 - r.outsidePrefix.length);
        const l = deterministicLayout(r);
        for (const [pickAddress, port] of probes) {
          const outside = keyToText(addToKey(r.outsidePrefix.key, BigInt(pickAddress % outsideSize)));
          const owner = (held.get(outside) ?? []).find((h) => port >= h.first && port <= h.last);
          const got = reverse(r, addr(outside), port);
          if (owner !== undefined) {
            expect(got).toMatchObject({ ok: true, value: { portFirst: owner.first, portLast: owner.last } });
            if (got.ok) expect(got.value.insideAddress.text).toBe(owner.inside);
            continue;
          }
          expect(got.ok).toBe(false);
          if (got.ok) continue;
          if (!l.ok) expect(got.reason).toBe('unusable-config');
          else if (port < r.portFirst || port > r.portLast) expect(got.reason).toBe('reserved-port');
          else if (
            r.algorithm === 'rfc7422' &&
            r.dynamicShares > 0 &&
            port >= r.portFirst + (r.ratio - r.dynamicShares) * l.value.shareSize &&
            port < r.portFirst + r.ratio * l.value.shareSize
          ) {
            expect(got.reason).toBe('dynamic-share');
          } else expect(got.reason).toBe('unassigned');
        }
      }),
      propertyRun('soundness', 60),
    );
  });
});
