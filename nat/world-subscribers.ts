/**
 * The simulated operator's subscribers (see world.ts): who is in which segment, of which
 * type, and the identifiers their records carry (account, MAC, IMSI, MSISDN, IMEI).
 */
import type { SubscriberType } from '../src/records.js';
import { DHCP_IN_MIX, TYPES } from './world-plan.js';
import type { Rng } from './random.js';
import { SEGMENTS, type Segment, type WorldConfig } from './world-types.js';

export const pad = (n: number, width: number): string => String(n).padStart(width, '0');

function luhn(digits: string): string {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return digits + String((10 - (sum % 10)) % 10);
}

export function macOf(prefix: number, index: number): string {
  const hex = (index >>> 0).toString(16).padStart(8, '0');
  return `02:${pad(prefix, 2)}:${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}:${hex.slice(6, 8)}`;
}

/** The account of subscriber `i` (`ACC-000001`), as wide as the population needs. */
export function accountNames(N: number): (i: number) => string {
  const accountWidth = Math.max(6, String(N).length);
  return (i: number): string => `ACC-${pad(i + 1, accountWidth)}`;
}

export const imsiOf = (i: number): string => '23415' + pad(i, 10);
export const msisdnOf = (i: number): string => '447700' + pad(i, 7);
export const imeiOf = (i: number): string => luhn('35999999' + pad(i % 1_000_000, 6));

/** Who is in which segment (drawn from `world`), and of which subscriber type. */
export function assignSegments(config: WorldConfig, N: number, world: Rng) {
  // Shares are rounded down and the remainder goes to the largest segment. Public DHCP
  // has 254 addresses, so in a mix it serves at most DHCP_IN_MIX subscribers.
  const counts = new Map<Segment, number>();
  let assigned = 0;
  for (const seg of SEGMENTS) {
    const share = config.mix[seg] ?? 0;
    const c = Math.floor(N * share);
    counts.set(seg, seg === 'dhcp' && share < 1 ? Math.min(c, DHCP_IN_MIX) : c);
    assigned += counts.get(seg)!;
  }
  const largest = SEGMENTS.reduce((a, b) => ((config.mix[b] ?? 0) > (config.mix[a] ?? 0) ? b : a));
  counts.set(largest, counts.get(largest)! + N - assigned);
  const segOf = new Uint8Array(N);
  {
    let k = 0;
    SEGMENTS.forEach((seg, code) => {
      for (let c = counts.get(seg)!; c > 0; c--) segOf[k++] = code;
    });
    for (let i = N - 1; i > 0; i--) {
      const j = world.int(i + 1);
      const tmp = segOf[i]!;
      segOf[i] = segOf[j]!;
      segOf[j] = tmp;
    }
  }
  const segment = (i: number): Segment => SEGMENTS[segOf[i]!]!;
  const present = (seg: Segment): boolean => counts.get(seg)! > 0;
  const typeOf = new Array<SubscriberType>(N);
  for (let i = 0; i < N; i++) {
    const u = world.float();
    typeOf[i] = TYPES[segment(i)].find(([, cum]) => u < cum)![0];
  }
  return { counts, segOf, segment, present, typeOf };
}
