import { describe, expect, it } from 'vitest';
import { propertyRun } from '../support/index.js';
import fc from 'fast-check';
import { parseAddress, type Address } from '../../src/address.js';
import { PortBlockAllocator, PORT_QUARANTINE_MS, type PortBlock } from '../../nat/portblock.js';

function addr(text: string): Address {
  const r = parseAddress(text);
  if (!r.ok) throw new Error(r.message);
  return r.value;
}

const T0 = Date.UTC(2026, 2, 28, 10);

describe('PortBlockAllocator hands out blocks', () => {
  it('cuts 1024–65535 into 126 blocks of 512 and starts each address at 1024', () => {
    const pool = new PortBlockAllocator({ outside: [addr('203.0.113.1'), addr('203.0.113.2')], portFirst: 1024, portLast: 65535, blockSize: 512 });
    expect(pool.blocksPerAddress).toBe(126);
    const a = pool.allocate('100.64.0.1', T0);
    const b = pool.allocate('100.64.0.2', T0);
    expect(a).toMatchObject({ ok: true, value: { portFirst: 1024, portLast: 1535, holder: '100.64.0.1', start: T0, releasedAt: null } });
    // Round robin over outside addresses for first blocks.
    if (a.ok && b.ok) expect([a.value.outsideAddress.text, b.value.outsideAddress.text]).toEqual(['203.0.113.1', '203.0.113.2']);
  });

  it('gives further blocks on the paired address, up to the per-subscriber limit', () => {
    const pool = new PortBlockAllocator({
      outside: [addr('203.0.113.1'), addr('203.0.113.2')],
      portFirst: 1024,
      portLast: 65535,
      blockSize: 512,
      maxBlocksPerSubscriber: 3,
    });
    const got = [0, 1, 2].map((k) => pool.allocate('100.64.0.1', T0 + k));
    expect(got.every((g) => g.ok)).toBe(true);
    expect(new Set(got.map((g) => (g.ok ? g.value.outsideAddress.text : '')))).toEqual(new Set(['203.0.113.1']));
    expect(pool.allocate('100.64.0.1', T0 + 3)).toMatchObject({ ok: false, reason: 'subscriber-limit' });
    expect(pool.held('100.64.0.1', T0 + 3)).toHaveLength(3);
  });

  it(`keeps a released block out of use for the quarantine (${PORT_QUARANTINE_MS} ms, RFC 6888 REQ-8)`, () => {
    const pool = new PortBlockAllocator({ outside: [addr('203.0.113.1')], portFirst: 1024, portLast: 2047, blockSize: 1024 });
    const a = pool.allocate('A', T0);
    if (!a.ok) throw new Error(a.message);
    pool.release(a.value.id, T0 + 60_000);
    expect(pool.allocate('B', T0 + 60_000 + PORT_QUARANTINE_MS - 1)).toMatchObject({ ok: false, reason: 'exhausted' });
    expect(pool.allocate('B', T0 + 60_000 + PORT_QUARANTINE_MS)).toMatchObject({ ok: true, value: { holder: 'B', portFirst: 1024 } });
  });

  it('reports exhaustion of the paired address even when another address has room', () => {
    const pool = new PortBlockAllocator({
      outside: [addr('203.0.113.1'), addr('203.0.113.2')],
      portFirst: 1024,
      portLast: 2047,
      blockSize: 512,
      maxBlocksPerSubscriber: 4,
    });
    pool.allocate('A', T0); // .1
    pool.allocate('B', T0); // .2
    pool.allocate('A', T0); // .1, its second block: .1 is now full
    expect(pool.allocate('A', T0)).toMatchObject({ ok: false, reason: 'exhausted' });
  });

  it('refuses a release of a block it does not hold (a program fault, thrown)', () => {
    const pool = new PortBlockAllocator({ outside: [addr('203.0.113.1')], portFirst: 1024, portLast: 2047, blockSize: 512 });
    expect(() => pool.release(0, T0)).toThrow(/not been allocated|not held/);
  });
});

type Op = { subscriber: number; advance: number; hold: number };

describe('PortBlockAllocator laws', () => {
  it(`blocks never overlap: no two holders share an address and port at once, and reuse waits the quarantine`, () => {
    const quarantineMs = 30_000;
    fc.assert(
      fc.property(
        fc.record({ addresses: fc.integer({ min: 1, max: 3 }), blockSize: fc.constantFrom(100, 256, 500), maxBlocks: fc.integer({ min: 1, max: 3 }) }),
        fc.array(
          fc.record({ subscriber: fc.integer({ min: 0, max: 12 }), advance: fc.integer({ min: 0, max: 20_000 }), hold: fc.integer({ min: 0, max: 200_000 }) }),
          { minLength: 1, maxLength: 120 },
        ),
        (cfg, ops: Op[]) => {
          const outside = ['203.0.113.1', '203.0.113.2', '203.0.113.3'].slice(0, cfg.addresses).map(addr);
          const pool = new PortBlockAllocator({
            outside,
            portFirst: 1024,
            portLast: 2999,
            blockSize: cfg.blockSize,
            quarantineMs,
            maxBlocksPerSubscriber: cfg.maxBlocks,
          });
          const history: { block: PortBlock; end: number }[] = [];
          let now = T0;
          for (const op of ops) {
            now += op.advance;
            const who = `S${op.subscriber}`;
            const got = pool.allocate(who, now);
            // Reference for "free": every block slot not covered, at `now`, by a holding plus quarantine.
            const busy = (a: string, first: number) =>
              history.some((h) => h.block.outsideAddress.text === a && h.block.portFirst === first && h.block.start <= now && now < h.end + quarantineMs);
            const mine = history.filter((h) => h.block.holder === who && h.block.start <= now && now < h.end);
            if (got.ok) {
              expect(busy(got.value.outsideAddress.text, got.value.portFirst)).toBe(false);
              expect(mine.length).toBeLessThan(cfg.maxBlocks);
              for (const m of mine) expect(m.block.outsideAddress.text).toBe(got.value.outsideAddress.text);
              pool.release(got.value.id, now + op.hold);
              history.push({ block: got.value, end: now + op.hold });
            } else if (got.reason === 'subscriber-limit') {
              expect(mine.length).toBe(cfg.maxBlocks);
            } else {
              // Exhausted: every slot of every candidate address is busy.
              const candidates = mine.length > 0 ? [mine[0]!.block.outsideAddress.text] : outside.map((o) => o.text);
              const slots = Math.floor((2999 - 1024 + 1) / cfg.blockSize);
              for (const a of candidates) for (let k = 0; k < slots; k++) expect(busy(a, 1024 + k * cfg.blockSize)).toBe(true);
            }
          }
          // Plain pairwise loop over everything handed out.
          for (let i = 0; i < history.length; i++) {
            for (let j = i + 1; j < history.length; j++) {
              const a = history[i]!;
              const b = history[j]!;
              if (a.block.outsideAddress.text !== b.block.outsideAddress.text) continue;
              const portsMeet = a.block.portFirst <= b.block.portLast && b.block.portFirst <= a.block.portLast;
              if (!portsMeet) continue;
              expect(a.block.portFirst).toBe(b.block.portFirst); // blocks are aligned, never partial overlaps
              const [first, second] = a.block.start <= b.block.start ? [a, b] : [b, a];
              expect(second.block.start).toBeGreaterThanOrEqual(first.end + quarantineMs);
            }
          }
        },
      ),
      propertyRun('blocks never overlap', 150),
    );
  });
});
