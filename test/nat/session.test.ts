import { describe, expect, it } from 'vitest';
import { propertyRun } from '../support/index.js';
import fc from 'fast-check';
import { parseAddress, type Address } from '../../src/address.js';
import { mappingEnd, SessionNat, SESSION_TIMEOUTS, type SessionMapping } from '../../nat/session.js';

const T0 = Date.UTC(2026, 2, 28, 10);

function addr(text: string): Address {
  const r = parseAddress(text);
  if (!r.ok) throw new Error(r.message);
  return r.value;
}

describe('mappingEnd() timers', () => {
  const cases = [
    { name: 'UDP idles out after 5 min (RFC 4787 REQ-5 recommendation)', protocol: 'udp' as const, closed: false, seconds: 300 },
    { name: 'TCP left open idles out after 2 h 4 min (RFC 5382 REQ-5)', protocol: 'tcp' as const, closed: false, seconds: 7440 },
    { name: 'TCP closed is transitory for 4 min', protocol: 'tcp' as const, closed: true, seconds: 240 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(mappingEnd(c.protocol, T0, c.closed)).toBe(T0 + c.seconds * 1000);
    });
  }
  it('takes other timers when given', () => {
    expect(mappingEnd('udp', T0, false, { ...SESSION_TIMEOUTS, udpSeconds: 120 })).toBe(T0 + 120_000);
  });
});

describe('SessionNat port reuse', () => {
  it('reuses a port only after the quarantine, oldest released first', () => {
    const nat = new SessionNat({ outside: [addr('203.0.113.9')], portFirst: 40000, portLast: 40002, quarantineMs: 120_000 });
    const m = [0, 1, 2].map(() => nat.open('A', 'udp', T0));
    const ports = m.map((x) => (x.ok ? x.value.outsidePort : -1));
    expect(ports).toEqual([40000, 40001, 40002]);
    if (m[1]!.ok) nat.close(m[1]!.value.id, T0 + 10_000);
    if (m[0]!.ok) nat.close(m[0]!.value.id, T0 + 20_000);
    expect(nat.open('B', 'udp', T0 + 10_000 + 119_999)).toMatchObject({ ok: false, reason: 'exhausted' });
    expect(nat.open('B', 'udp', T0 + 10_000 + 120_000)).toMatchObject({ ok: true, value: { outsidePort: 40001, holder: 'B' } });
    expect(nat.open('C', 'udp', T0 + 140_000)).toMatchObject({ ok: true, value: { outsidePort: 40000 } });
  });

  it('keeps TCP and UDP port spaces apart', () => {
    const nat = new SessionNat({ outside: [addr('203.0.113.9')], portFirst: 40000, portLast: 40000 });
    expect(nat.open('A', 'tcp', T0)).toMatchObject({ ok: true, value: { outsidePort: 40000 } });
    expect(nat.open('B', 'udp', T0)).toMatchObject({ ok: true, value: { outsidePort: 40000 } });
    expect(nat.open('C', 'tcp', T0)).toMatchObject({ ok: false, reason: 'exhausted' });
  });

  it('pairs a subscriber with one outside address', () => {
    const nat = new SessionNat({ outside: [addr('203.0.113.9'), addr('203.0.113.10'), addr('203.0.113.11')], portFirst: 1024, portLast: 65535 });
    const seen = new Set<string>();
    for (let k = 0; k < 20; k++) {
      const m = nat.open('100.80.0.7', k % 2 === 0 ? 'tcp' : 'udp', T0 + k);
      if (m.ok) seen.add(m.value.outsideAddress.text);
    }
    expect(seen).toEqual(new Set([nat.pairedAddress('100.80.0.7').text]));
  });
});

describe('SessionNat laws', () => {
  it(`no two mappings hold the same address, protocol and port at once; reuse waits the quarantine`, () => {
    const quarantineMs = 60_000;
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            subscriber: fc.integer({ min: 0, max: 9 }),
            udp: fc.boolean(),
            advance: fc.integer({ min: 0, max: 30_000 }),
            last: fc.integer({ min: 0, max: 90_000 }),
            closed: fc.boolean(),
          }),
          { minLength: 1, maxLength: 150 },
        ),
        (ops) => {
          const nat = new SessionNat({ outside: [addr('203.0.113.9'), addr('203.0.113.10')], portFirst: 50000, portLast: 50007, quarantineMs });
          const timeouts = { tcpEstablishedSeconds: 120, tcpTransitorySeconds: 30, udpSeconds: 45 };
          const held: { m: SessionMapping; end: number }[] = [];
          let now = T0;
          for (const op of ops) {
            now += op.advance;
            const protocol = op.udp ? 'udp' : 'tcp';
            const got = nat.open(`S${op.subscriber}`, protocol, now);
            if (!got.ok) {
              // Exhausted only if all 8 ports of the paired address are busy or resting.
              const a = nat.pairedAddress(`S${op.subscriber}`).text;
              const busy = held.filter((h) => h.m.outsideAddress.text === a && h.m.protocol === protocol && now < h.end + quarantineMs);
              expect(new Set(busy.map((h) => h.m.outsidePort)).size).toBe(8);
              continue;
            }
            const end = mappingEnd(protocol, now + op.last, op.closed, timeouts);
            nat.close(got.value.id, end);
            held.push({ m: got.value, end });
          }
          for (let i = 0; i < held.length; i++) {
            for (let j = i + 1; j < held.length; j++) {
              const a = held[i]!;
              const b = held[j]!;
              if (a.m.outsideAddress.text !== b.m.outsideAddress.text || a.m.protocol !== b.m.protocol || a.m.outsidePort !== b.m.outsidePort) continue;
              const [first, second] = a.m.start <= b.m.start ? [a, b] : [b, a];
              expect(second.m.start).toBeGreaterThanOrEqual(first.end + quarantineMs);
            }
          }
        },
      ),
      propertyRun('no two mappings hold the same address, protocol and port at once; reuse waits the quarantine', 150),
    );
  });
});
