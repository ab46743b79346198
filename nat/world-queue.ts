/** The simulated operator's event queue and the kinds of event it holds (see world.ts). */

/** The event queue: a binary heap on (time, sequence) over parallel typed arrays. */
export class EventQueue {
  #time = new Float64Array(1024);
  #seq = new Float64Array(1024);
  #sub = new Int32Array(1024);
  #kind = new Uint8Array(1024);
  #n = 0;
  #counter = 0;
  t = 0;
  sub = 0;
  kind = 0;

  push(t: number, sub: number, kind: number): void {
    if (this.#n === this.#time.length) this.#grow();
    let i = this.#n++;
    const seq = this.#counter++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pt = this.#time[p]!;
      if (pt < t || (pt === t && this.#seq[p]! < seq)) break;
      this.#move(p, i);
      i = p;
    }
    this.#time[i] = t;
    this.#seq[i] = seq;
    this.#sub[i] = sub;
    this.#kind[i] = kind;
  }

  /** Pop the earliest event into `t`, `sub`, `kind`; false when empty. */
  pop(): boolean {
    if (this.#n === 0) return false;
    this.t = this.#time[0]!;
    this.sub = this.#sub[0]!;
    this.kind = this.#kind[0]!;
    const last = --this.#n;
    if (last === 0) return true;
    const t = this.#time[last]!;
    const seq = this.#seq[last]!;
    const sub = this.#sub[last]!;
    const kind = this.#kind[last]!;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= last) break;
      const r = l + 1;
      let c = l;
      if (r < last && (this.#time[r]! < this.#time[l]! || (this.#time[r] === this.#time[l] && this.#seq[r]! < this.#seq[l]!))) c = r;
      const ct = this.#time[c]!;
      if (t < ct || (t === ct && seq < this.#seq[c]!)) break;
      this.#move(c, i);
      i = c;
    }
    this.#time[i] = t;
    this.#seq[i] = seq;
    this.#sub[i] = sub;
    this.#kind[i] = kind;
    return true;
  }

  #move(from: number, to: number): void {
    this.#time[to] = this.#time[from]!;
    this.#seq[to] = this.#seq[from]!;
    this.#sub[to] = this.#sub[from]!;
    this.#kind[to] = this.#kind[from]!;
  }

  #grow(): void {
    const n = this.#time.length * 2;
    const time = new Float64Array(n);
    time.set(this.#time);
    const seq = new Float64Array(n);
    seq.set(this.#seq);
    const sub = new Int32Array(n);
    sub.set(this.#sub);
    const kind = new Uint8Array(n);
    kind.set(this.#kind);
    this.#time = time;
    this.#seq = seq;
    this.#sub = sub;
    this.#kind = kind;
  }
}

export const ONLINE = 0;
export const SPELL = 1;
export const ACTIVITY = 2;
export const EXTRA_BLOCK = 3;
export const DYNAMIC_SHARE = 4;
export const GAP = 5;
export const REQUEST_MARK = 6;
