/**
 * The start order (a treap with pending caps) against a plain list: the same node after a
 * time, the same least creation number after it, and the same `nextStart` for every node
 * taken out, whatever the sequence of inserts, removals, moves and caps.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { capUpTo, firstAfter, insertNode, minSeqAfter, priorityOf, removeNode, type StartNode } from '../../src/ingest/vendors/start-order.js';
import { propertyRun } from '../support/index.js';

interface Node extends StartNode<Node> {
  inTree: boolean;
}

function node(seq: number): Node {
  return { key: 0, seq, priority: priorityOf(seq), left: undefined, right: undefined, nextStart: Infinity, pendingCap: Infinity, minSeq: seq, inTree: false };
}

type Step = { op: 'put'; n: number; key: number } | { op: 'take'; n: number } | { op: 'cap'; upTo: number; value: number } | { op: 'ask'; after: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ op: fc.constant('put' as const), n: fc.nat(30), key: fc.nat(50) }),
  fc.record({ op: fc.constant('take' as const), n: fc.nat(30) }),
  fc.record({ op: fc.constant('cap' as const), upTo: fc.nat(50), value: fc.nat(60) }),
  fc.record({ op: fc.constant('ask' as const), after: fc.integer({ min: -1, max: 50 }) }),
);

describe('start order', () => {
  const law = 'the treap answers as a list in (start, creation) order does';
  it(law, () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 300, size: 'max' }), (steps) => {
        const nodes = Array.from({ length: 31 }, (_, i) => node(i));
        const model = new Map<number, { key: number; nextStart: number }>();
        let root: Node | undefined;
        for (const s of steps) {
          if (s.op === 'put') {
            const n = nodes[s.n]!;
            // A node already in the tree moves: out (keeping its caps), then in at the new key.
            if (n.inTree) root = removeNode(root, n);
            n.key = s.key;
            root = insertNode(root, n);
            n.inTree = true;
            const m = model.get(s.n);
            model.set(s.n, { key: s.key, nextStart: m === undefined ? Infinity : m.nextStart });
            if (m === undefined) n.nextStart = Infinity;
          } else if (s.op === 'take') {
            const n = nodes[s.n]!;
            if (!n.inTree) continue;
            root = removeNode(root, n);
            n.inTree = false;
            expect(n.nextStart).toBe(model.get(s.n)!.nextStart);
            model.delete(s.n);
          } else if (s.op === 'cap') {
            capUpTo(root, s.upTo, s.value);
            for (const m of model.values()) if (m.key <= s.upTo && s.value < m.nextStart) m.nextStart = s.value;
          } else {
            const later = [...model.entries()].filter(([, m]) => m.key > s.after).sort(([a, x], [b, y]) => x.key - y.key || a - b);
            expect(firstAfter(root, s.after)?.seq).toBe(later[0]?.[0]);
            expect(minSeqAfter(root, s.after)).toBe(later.length === 0 ? Infinity : Math.min(...later.map(([seq]) => seq)));
          }
        }
        for (const [seq, m] of model) {
          root = removeNode(root, nodes[seq]!);
          expect(nodes[seq]!.nextStart).toBe(m.nextStart);
        }
        expect(root).toBeUndefined();
      }),
      propertyRun(law, 300),
    );
  });
});
