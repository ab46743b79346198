/**
 * Port-block allocation (the CGN mode most mobile and many fixed operators log): an
 * outside address's ports are cut into blocks of a configured size; a subscriber gets a
 * block on first use, more blocks on the same outside address when it runs out
 * ("paired" pooling, RFC 6888 REQ-2 / RFC 4787 REQ-2), and each released block waits a
 * quarantine before anyone else gets it (RFC 6888 REQ-8: 120 s for ports), so that
 * stragglers for the old holder never reach the new one.
 *
 * The allocator is a state machine the simulator drives. Time is passed in (epoch ms,
 * never decreasing); a release may be dated in the future, which is how a simulator
 * that decides a block's lifetime when it hands it out uses it.
 */
import type { Address } from '../src/address.js';
import { IparError } from '../src/problems.js';
import { ReuseHeap } from './quarantine.js';

/** RFC 6888 REQ-8: a released port is not reused for at least 120 seconds. */
export const PORT_QUARANTINE_MS = 120_000;

export interface PortBlockOptions {
  /** The outside (public) addresses of the pool. */
  readonly outside: readonly Address[];
  /** Ports handed out, both included (usually 1024–65535). */
  readonly portFirst: number;
  readonly portLast: number;
  /** Ports per block. */
  readonly blockSize: number;
  /** How long a released block rests before reuse; defaults to {@link PORT_QUARANTINE_MS}. */
  readonly quarantineMs?: number;
  /** Blocks one subscriber may hold at once; defaults to 1. */
  readonly maxBlocksPerSubscriber?: number;
}

export interface PortBlock {
  /** Stable identity: `blockIndex * addresses + addressIndex`. */
  readonly id: number;
  readonly outsideAddress: Address;
  readonly portFirst: number;
  readonly portLast: number;
  readonly holder: string;
  readonly start: number;
  /** When it was (or will be) released; `null` while held with no release set. */
  readonly releasedAt: number | null;
}

export type AllocateReason = 'exhausted' | 'subscriber-limit';

export type AllocateOutcome =
  { readonly ok: true; readonly value: PortBlock } | { readonly ok: false; readonly reason: AllocateReason; readonly message: string };

/**
 * Hands out, releases and quarantines port blocks across a pool of outside addresses.
 * A subscriber's first block comes from the next outside address (round robin) that
 * has one free; its further blocks come from the same address. Among free blocks of an
 * address, the one released longest ago is reused first.
 *
 * @example
 * const pool = new PortBlockAllocator({ outside: [addr], portFirst: 1024, portLast: 65535, blockSize: 512, maxBlocksPerSubscriber: 4 });
 * const got = pool.allocate('100.64.0.12', t0);   // { ok: true, value: { portFirst: 1024, portLast: 1535, … } }
 * if (got.ok) pool.release(got.value.id, t0 + 600_000); // free again at t0 + 600 s + 120 s
 */
export class PortBlockAllocator {
  readonly blocksPerAddress: number;
  readonly quarantineMs: number;
  readonly maxBlocksPerSubscriber: number;
  readonly #options: PortBlockOptions;
  readonly #free: ReuseHeap[];
  readonly #holder: (string | undefined)[];
  readonly #start: Float64Array;
  readonly #released: Float64Array;
  readonly #bySubscriber = new Map<string, number[]>();
  #cursor = 0;
  #clock = -Infinity;

  constructor(options: PortBlockOptions) {
    const span = options.portLast - options.portFirst + 1;
    if (!(options.blockSize >= 1 && options.blockSize <= span) || options.outside.length === 0) {
      throw new IparError('INVALID_POOL', `a pool needs outside addresses and a block size within ${span} ports (got ${options.blockSize})`);
    }
    this.#options = options;
    this.blocksPerAddress = Math.floor(span / options.blockSize);
    this.quarantineMs = options.quarantineMs ?? PORT_QUARANTINE_MS;
    this.maxBlocksPerSubscriber = options.maxBlocksPerSubscriber ?? 1;
    const total = this.blocksPerAddress * options.outside.length;
    this.#holder = new Array<string | undefined>(total);
    this.#start = new Float64Array(total);
    this.#released = new Float64Array(total).fill(NaN);
    this.#free = options.outside.map(() => {
      const heap = new ReuseHeap();
      for (let b = 0; b < this.blocksPerAddress; b++) heap.push(b, -Infinity);
      return heap;
    });
  }

  /** The block `id` as it stands. */
  block(id: number): PortBlock {
    const addresses = this.#options.outside.length;
    const holder = this.#holder[id];
    if (holder === undefined) throw new IparError('BLOCK_NOT_HELD', `block ${id} has never been allocated`);
    const blockIndex = Math.floor(id / addresses);
    const portFirst = this.#options.portFirst + blockIndex * this.#options.blockSize;
    const released = this.#released[id]!;
    return {
      id,
      outsideAddress: this.#options.outside[id % addresses]!,
      portFirst,
      portLast: portFirst + this.#options.blockSize - 1,
      holder,
      start: this.#start[id]!,
      releasedAt: Number.isNaN(released) ? null : released,
    };
  }

  /** The blocks `subscriber` holds at `now`. */
  held(subscriber: string, now: number): PortBlock[] {
    return this.#live(subscriber, now).map((id) => this.block(id));
  }

  /** Give `subscriber` a block at `now`, or say why none is free. */
  allocate(subscriber: string, now: number): AllocateOutcome {
    this.#tick(now);
    const addresses = this.#options.outside.length;
    const live = this.#live(subscriber, now);
    if (live.length >= this.maxBlocksPerSubscriber) {
      return { ok: false, reason: 'subscriber-limit', message: `${subscriber} already holds ${live.length} of ${this.maxBlocksPerSubscriber} blocks` };
    }
    let address: number;
    if (live.length > 0) {
      address = live[0]! % addresses;
      const t = this.#free[address]!.peekTime();
      if (t === undefined || t > now) {
        return {
          ok: false,
          reason: 'exhausted',
          message: `${this.#options.outside[address]!.text}, paired with ${subscriber}, has no free block at ${new Date(now).toISOString()}`,
        };
      }
    } else {
      address = -1;
      for (let k = 0; k < addresses; k++) {
        const a = (this.#cursor + k) % addresses;
        const t = this.#free[a]!.peekTime();
        if (t !== undefined && t <= now) {
          address = a;
          break;
        }
      }
      if (address < 0) return { ok: false, reason: 'exhausted', message: `no outside address has a free block at ${new Date(now).toISOString()}` };
      this.#cursor = (address + 1) % addresses;
    }
    const blockIndex = this.#free[address]!.popAvailable(now)!;
    const id = blockIndex * addresses + address;
    this.#holder[id] = subscriber;
    this.#start[id] = now;
    this.#released[id] = NaN;
    live.push(id);
    this.#bySubscriber.set(subscriber, live);
    return { ok: true, value: this.block(id) };
  }

  /** Release block `id` at `at` (≥ its start; may be later than the last call's time). */
  release(id: number, at: number): void {
    const holder = this.#holder[id];
    if (holder === undefined || !Number.isNaN(this.#released[id]!)) throw new IparError('BLOCK_NOT_HELD', `block ${id} is not held`);
    if (at < this.#start[id]!) throw new IparError('RELEASE_BEFORE_START', `block ${id} released at ${at}, before its start ${this.#start[id]}`);
    this.#released[id] = at;
    const addresses = this.#options.outside.length;
    this.#free[id % addresses]!.push(Math.floor(id / addresses), at + this.quarantineMs);
  }

  #live(subscriber: string, now: number): number[] {
    const ids = this.#bySubscriber.get(subscriber);
    if (ids === undefined) return [];
    const live = ids.filter((id) => this.#holder[id] === subscriber && this.#start[id]! <= now && !(this.#released[id]! <= now));
    if (live.length === 0) this.#bySubscriber.delete(subscriber);
    else if (live.length !== ids.length) this.#bySubscriber.set(subscriber, live);
    return live;
  }

  #tick(now: number): void {
    if (now < this.#clock) throw new IparError('TIME_WENT_BACKWARDS', `allocation at ${now} after one at ${this.#clock}`);
    this.#clock = now;
  }
}
