import fc from 'fast-check';
import { IPv4 } from 'ip-num';
import { describe, expect, test } from 'vitest';
import { addressFromKey, addressFromV4, keyToText, parseAddress } from '../src/address.js';
import { propertyRun } from './support/index.js';

describe('IPv4 fast paths', () => {
  // Law: the hand-built IPv4 text and Address equal what parsing the address with ip-num
  // gives (keyToText and addressFromV4 skip ip-num and the caches for speed).
  test('law (fast path ≡ ip-num): addressFromV4 and keyToText agree with ip-num and parseAddress', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff_ffff }), fc.integer({ min: 96, max: 128 }), (n, length) => {
        const text = IPv4.fromNumber(n).toString();
        const parsed = parseAddress(text);
        expect(parsed.ok).toBe(true);
        if (!parsed.ok) return;
        expect(addressFromV4(n)).toEqual(parsed.value);
        expect(addressFromKey(parsed.value.key)).toEqual(parsed.value);
        expect(keyToText(parsed.value.key, length)).toBe(length === 128 ? text : `${text}/${length - 96}`);
      }),
      propertyRun('IPv4 fast path ≡ ip-num', 2000),
    );
  });

  test('the shared Address is the same value each time and frozen', () => {
    expect(addressFromV4(0xc6336407)).toBe(addressFromV4(0xc6336407));
    expect(Object.isFrozen(addressFromV4(0xc6336407))).toBe(true);
    expect(addressFromV4(0xc6336407).text).toBe('198.51.100.7');
  });

  test('IPv6 text stays RFC 5952', () => {
    const r = parseAddress('2001:0db8:0000:0000:0000:0000:0000:0001');
    expect(r.ok && keyToText(r.value.key)).toBe('2001:db8::1');
  });
});
