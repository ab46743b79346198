/**
 * The started intervals of one resource in order of their start, for the questions the
 * pairing asks of a resource on every grant and every emit: which interval starts next
 * after a time, and "everything that began by this time ends no later than that".
 * Scanning the resource's list answered them in time proportional to the intervals it
 * holds, which a lease database (every interval held until the end of the file) makes
 * quadratic.
 *
 * A treap keyed by (start, creation order), with a pending cap on `nextStart` per subtree
 * (caps are `min`, so they commute and are pushed down only when the tree changes shape).
 * Priorities come from the creation number through a fixed mix: no randomness, and the
 * shape never changes a result, only the time to get it. Each operation is O(log n) in
 * the intervals the resource holds.
 *
 * @example
 * let root: Node | undefined;
 * root = insertNode(root, a);           // a.key = a's start
 * capUpTo(root, t, t);                  // every node with key ≤ t: nextStart = min(nextStart, t)
 * capAll(root, t);                      // every node (nothing starts after t): O(1)
 * const later = firstAfter(root, t);    // the node with the least key > t, or undefined
 * root = removeNode(root, a);           // a.nextStart now includes every cap it received
 */

/** The fields a node carries; the pairing's chains are the nodes themselves (no wrapper). */
export interface StartNode<N extends StartNode<N>> {
  /** The start the node is filed under; change it only while the node is out of the tree. */
  key: number;
  /** Creation number: breaks ties between equal starts, and is the order of the old lists. */
  readonly seq: number;
  readonly priority: number;
  left: N | undefined;
  right: N | undefined;
  /**
   * The earliest start of a later interval on the resource known so far (Infinity: none):
   * no inferred end goes past it.
   */
  nextStart: number;
  /** A cap on `nextStart` not yet pushed to the children (Infinity: none). */
  pendingCap: number;
  /** The least `seq` in the subtree. */
  minSeq: number;
}

/** A priority for creation number `seq` (murmur3's 32-bit finaliser). */
export function priorityOf(seq: number): number {
  let h = seq | 0;
  h = Math.imul(h ^ (h >>> 16), 0x85eb_ca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2_ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function before<N extends StartNode<N>>(a: N, b: N): boolean {
  return a.key < b.key || (a.key === b.key && a.seq < b.seq);
}

function cap<N extends StartNode<N>>(n: N | undefined, value: number): void {
  if (n === undefined) return;
  if (value < n.nextStart) n.nextStart = value;
  if (value < n.pendingCap) n.pendingCap = value;
}

function push<N extends StartNode<N>>(n: N): void {
  if (n.pendingCap === Infinity) return;
  cap(n.left, n.pendingCap);
  cap(n.right, n.pendingCap);
  n.pendingCap = Infinity;
}

function pull<N extends StartNode<N>>(n: N): void {
  let m = n.seq;
  if (n.left !== undefined && n.left.minSeq < m) m = n.left.minSeq;
  if (n.right !== undefined && n.right.minSeq < m) m = n.right.minSeq;
  n.minSeq = m;
}

/** Split `t` into the nodes ordered before `n` and the rest; `n` is not in `t`. */
function split<N extends StartNode<N>>(t: N | undefined, n: N): [N | undefined, N | undefined] {
  if (t === undefined) return [undefined, undefined];
  push(t);
  if (before(t, n)) {
    const [l, r] = split(t.right, n);
    t.right = l;
    pull(t);
    return [t, r];
  }
  const [l, r] = split(t.left, n);
  t.left = r;
  pull(t);
  return [l, t];
}

/** Join two trees, every node of `a` ordered before every node of `b`. */
function merge<N extends StartNode<N>>(a: N | undefined, b: N | undefined): N | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  if (a.priority > b.priority) {
    push(a);
    a.right = merge(a.right, b);
    pull(a);
    return a;
  }
  push(b);
  b.left = merge(a, b.left);
  pull(b);
  return b;
}

/** File `n` (not in the tree; its `key` set) and return the new root. */
export function insertNode<N extends StartNode<N>>(t: N | undefined, n: N): N {
  n.left = n.right = undefined;
  n.pendingCap = Infinity;
  n.minSeq = n.seq;
  if (t === undefined) return n;
  if (n.priority > t.priority) {
    [n.left, n.right] = split(t, n);
    pull(n);
    return n;
  }
  push(t);
  if (before(n, t)) t.left = insertNode(t.left, n);
  else t.right = insertNode(t.right, n);
  pull(t);
  return t;
}

/** Take `n` (in the tree) out and return the new root; `n.nextStart` then holds every cap it got. */
export function removeNode<N extends StartNode<N>>(t: N | undefined, n: N): N | undefined {
  if (t === undefined) return undefined;
  push(t);
  if (t === n) {
    const rest = merge(t.left, t.right);
    n.left = n.right = undefined;
    return rest;
  }
  if (before(n, t)) t.left = removeNode(t.left, n);
  else t.right = removeNode(t.right, n);
  pull(t);
  return t;
}

/** Every node of the tree: `nextStart = min(nextStart, value)` (O(1): a cap on the root). */
export function capAll<N extends StartNode<N>>(t: N | undefined, value: number): void {
  cap(t, value);
}

/** Every node whose key is at most `upTo`: `nextStart = min(nextStart, value)`. */
export function capUpTo<N extends StartNode<N>>(t: N | undefined, upTo: number, value: number): void {
  let n = t;
  while (n !== undefined) {
    if (n.key <= upTo) {
      if (value < n.nextStart) n.nextStart = value;
      cap(n.left, value);
      n = n.right;
    } else {
      n = n.left;
    }
  }
}

/** The first node (least key, then least `seq`) whose key is greater than `after`. */
export function firstAfter<N extends StartNode<N>>(t: N | undefined, after: number): N | undefined {
  let found: N | undefined;
  let n = t;
  while (n !== undefined) {
    if (n.key > after) {
      found = n;
      n = n.left;
    } else {
      n = n.right;
    }
  }
  return found;
}

/** The least `seq` among nodes whose key is greater than `after` (Infinity: none). */
export function minSeqAfter<N extends StartNode<N>>(t: N | undefined, after: number): number {
  let least = Infinity;
  let n = t;
  while (n !== undefined) {
    if (n.key > after) {
      if (n.seq < least) least = n.seq;
      if (n.right !== undefined && n.right.minSeq < least) least = n.right.minSeq;
      n = n.left;
    } else {
      n = n.right;
    }
  }
  return least;
}
