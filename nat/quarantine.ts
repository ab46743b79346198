/**
 * Released resources (ports, port blocks, addresses) wait out a quarantine before they
 * are handed out again (RFC 6888 REQ-8 asks 120 s for ports). This heap keeps them
 * ordered by the instant they become available again, oldest first, so that reuse is
 * least-recently-released and allocation is O(log n).
 */

/**
 * A binary min-heap of `(availableAt, item)` pairs, ties broken by item so that the
 * order never depends on insertion history. Items are small non-negative integers
 * (indexes into the caller's tables).
 *
 * @example
 * const heap = new ReuseHeap();
 * heap.push(7, 120_000);
 * heap.popAvailable(60_000);  // undefined: still in quarantine
 * heap.popAvailable(120_000); // 7
 */
export class ReuseHeap {
  #times: number[] = [];
  #items: number[] = [];

  get size(): number {
    return this.#items.length;
  }

  /** Make `item` available from `availableAt` (epoch ms) on. */
  push(item: number, availableAt: number): void {
    const times = this.#times;
    const items = this.#items;
    let i = items.length;
    times.push(availableAt);
    items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(i, parent)) break;
      this.#swap(i, parent);
      i = parent;
    }
  }

  /** The instant the next item becomes available, or `undefined` when empty. */
  peekTime(): number | undefined {
    return this.#times[0];
  }

  /** The item that becomes available first, or `undefined` when empty. */
  peekItem(): number | undefined {
    return this.#items[0];
  }

  /** Remove and return the first item, available or not. */
  pop(): number | undefined {
    const items = this.#items;
    const times = this.#times;
    const top = items[0];
    if (top === undefined) return undefined;
    const lastItem = items.pop()!;
    const lastTime = times.pop()!;
    if (items.length > 0) {
      items[0] = lastItem;
      times[0] = lastTime;
      this.#siftDown(0);
    }
    return top;
  }

  /** Remove and return the first item if it is available at `now`. */
  popAvailable(now: number): number | undefined {
    const t = this.#times[0];
    if (t === undefined || t > now) return undefined;
    return this.pop();
  }

  #less(i: number, j: number): boolean {
    const ti = this.#times[i]!;
    const tj = this.#times[j]!;
    return ti < tj || (ti === tj && this.#items[i]! < this.#items[j]!);
  }

  #swap(i: number, j: number): void {
    const times = this.#times;
    const items = this.#items;
    const t = times[i]!;
    times[i] = times[j]!;
    times[j] = t;
    const v = items[i]!;
    items[i] = items[j]!;
    items[j] = v;
  }

  #siftDown(start: number): void {
    const n = this.#items.length;
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.#less(l, m)) m = l;
      if (r < n && this.#less(r, m)) m = r;
      if (m === i) return;
      this.#swap(i, m);
      i = m;
    }
  }
}
