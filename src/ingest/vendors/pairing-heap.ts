/** The pairing book's heap of known ends (see pairing.ts). */
/**
 * Min-heap of items (the book's chains) by the time they end on their own (lease expiry,
 * timeout). Parallel arrays: no object per entry on the hot path.
 *
 * @example
 * const h = new EndHeap<string>(); h.push(5, 'b'); h.push(3, 'a'); h.pop(); // { key: 3, chain: 'a' }
 */
export class EndHeap<T> {
  private readonly keys: number[] = [];
  private readonly chains: T[] = [];

  get size(): number {
    return this.keys.length;
  }

  peek(): number {
    return this.keys[0] ?? Infinity;
  }

  push(key: number, chain: T): void {
    const keys = this.keys,
      chains = this.chains;
    let i = keys.length;
    keys.push(key);
    chains.push(chain);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (keys[parent]! <= key) break;
      keys[i] = keys[parent]!;
      chains[i] = chains[parent]!;
      i = parent;
    }
    keys[i] = key;
    chains[i] = chain;
  }

  /**
   * Keep only the entries `keep` accepts, in key order (ties in their heap order): the
   * book drops entries of chains that ended otherwise, which it would skip when popped.
   */
  retain(keep: (key: number, chain: T) => boolean): void {
    const order = this.keys.map((_, i) => i).filter((i) => keep(this.keys[i]!, this.chains[i]!));
    order.sort((a, b) => this.keys[a]! - this.keys[b]! || a - b);
    const keys = order.map((i) => this.keys[i]!);
    const chains = order.map((i) => this.chains[i]!);
    this.keys.length = 0;
    this.chains.length = 0;
    // A sorted array is a heap.
    this.keys.push(...keys);
    this.chains.push(...chains);
  }

  pop(): { key: number; chain: T } {
    const keys = this.keys,
      chains = this.chains;
    const top = { key: keys[0]!, chain: chains[0]! };
    const lastKey = keys.pop()!,
      lastChain = chains.pop()!;
    const n = keys.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1,
          r = l + 1;
        let m = i,
          mKey = lastKey;
        if (l < n && keys[l]! < mKey) ((m = l), (mKey = keys[l]!));
        if (r < n && keys[r]! < mKey) m = r;
        if (m === i) break;
        keys[i] = keys[m]!;
        chains[i] = chains[m]!;
        i = m;
      }
      keys[i] = lastKey;
      chains[i] = lastChain;
    }
    return top;
  }
}
