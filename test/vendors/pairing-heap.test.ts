/**
 * The pairing book's heap of ends (src/ingest/vendors/pairing-heap.ts): `retain` drops the
 * entries of chains a stop ended long before their timeout (issue 16: memory flat over a
 * stream of any length; bench/RESULTS.md has the book's heap before and after).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EndHeap } from '../../src/ingest/vendors/pairing-heap.js';
import { propertyRun } from '../support/index.js';

describe('EndHeap.retain', () => {
  it('law (filter then order): pops what was kept, in key order', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 200 }), fc.integer({ min: 2, max: 5 }), (keys, modulus) => {
        const heap = new EndHeap<number>();
        keys.forEach((k, i) => heap.push(k, i));
        heap.retain((_key, i) => i % modulus !== 0);
        const popped: number[] = [];
        while (heap.size > 0) popped.push(heap.pop().key);
        expect(popped).toEqual(keys.filter((_, i) => i % modulus !== 0).sort((a, b) => a - b));
      }),
      propertyRun('EndHeap.retain keeps and orders'),
    );
  });
});
