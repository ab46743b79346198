/**
 * Per-session NAT (the mode that logs one record per connection): every new connection
 * gets an outside port on its subscriber's paired outside address; the mapping lives
 * until its protocol's idle timer runs out after the last packet; the port then rests a
 * quarantine before another connection gets it. Port reuse is where per-session logs
 * mislead: the same outside address and port belongs to different subscribers minutes
 * apart, so a time off by a few minutes names the wrong one.
 */
import type { Address } from '../src/address.js';
import { IparError } from '../src/problems.js';
import { PORT_QUARANTINE_MS } from './portblock.js';
import { ReuseHeap } from './quarantine.js';

export type SessionProtocol = 'tcp' | 'udp';

/**
 * Mapping idle timers in seconds. TCP established: RFC 5382 REQ-5 (at least 2 h 4 min);
 * TCP transitory (closing, half-open): RFC 5382 (at least 4 min); UDP: RFC 4787 REQ-5
 * (at least 2 min, 5 min recommended).
 */
export interface SessionTimeouts {
  readonly tcpEstablishedSeconds: number;
  readonly tcpTransitorySeconds: number;
  readonly udpSeconds: number;
}

export const SESSION_TIMEOUTS: SessionTimeouts = Object.freeze({ tcpEstablishedSeconds: 7440, tcpTransitorySeconds: 240, udpSeconds: 300 });

/**
 * When a mapping is deleted: the last packet plus the idle timer of the state it was
 * left in (a TCP connection closed by FIN/RST is transitory; one left open idles out).
 *
 * @example
 * mappingEnd('udp', t, false);  // t + 300 000
 * mappingEnd('tcp', t, true);   // t + 240 000
 */
export function mappingEnd(protocol: SessionProtocol, lastPacketMs: number, tcpClosed: boolean, timeouts: SessionTimeouts = SESSION_TIMEOUTS): number {
  const seconds = protocol === 'udp' ? timeouts.udpSeconds : tcpClosed ? timeouts.tcpTransitorySeconds : timeouts.tcpEstablishedSeconds;
  return lastPacketMs + seconds * 1000;
}

export interface SessionNatOptions {
  readonly outside: readonly Address[];
  readonly portFirst: number;
  readonly portLast: number;
  /** Defaults to {@link PORT_QUARANTINE_MS}. */
  readonly quarantineMs?: number;
}

export interface SessionMapping {
  readonly id: number;
  readonly protocol: SessionProtocol;
  readonly outsideAddress: Address;
  readonly outsidePort: number;
  readonly holder: string;
  readonly start: number;
}

export type OpenOutcome =
  { readonly ok: true; readonly value: SessionMapping } | { readonly ok: false; readonly reason: 'exhausted'; readonly message: string };

interface PortSpace {
  next: number;
  readonly free: ReuseHeap;
}

/** FNV-1a, for a stable subscriber → outside address pairing without a table. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * The per-session translation table of one NAT realm. A subscriber is paired with one
 * outside address by a hash of its key (RFC 4787 REQ-2 "paired" pooling, without
 * state); TCP and UDP have separate port spaces. A new mapping takes the port released
 * longest ago whose quarantine is over, else a never-used port.
 *
 * @example
 * const nat = new SessionNat({ outside: [a, b], portFirst: 1024, portLast: 65535 });
 * const m = nat.open('100.80.0.9', 'tcp', t);
 * if (m.ok) nat.close(m.value.id, mappingEnd('tcp', t + 30_000, true));
 */
export class SessionNat {
  readonly quarantineMs: number;
  readonly #options: SessionNatOptions;
  readonly #spaces: Map<string, PortSpace> = new Map();
  readonly #open = new Map<number, { readonly mapping: SessionMapping; readonly space: PortSpace }>();
  #nextId = 0;
  #clock = -Infinity;

  constructor(options: SessionNatOptions) {
    if (options.outside.length === 0 || options.portFirst > options.portLast)
      throw new IparError('INVALID_POOL', 'a session NAT needs outside addresses and a port range');
    this.#options = options;
    this.quarantineMs = options.quarantineMs ?? PORT_QUARANTINE_MS;
  }

  /** The outside address `subscriber` is paired with. */
  pairedAddress(subscriber: string): Address {
    return this.#options.outside[hash32(subscriber) % this.#options.outside.length]!;
  }

  /** Open a mapping for a new connection of `subscriber` at `now`. */
  open(subscriber: string, protocol: SessionProtocol, now: number): OpenOutcome {
    if (now < this.#clock) throw new IparError('TIME_WENT_BACKWARDS', `mapping opened at ${now} after one at ${this.#clock}`);
    this.#clock = now;
    const index = hash32(subscriber) % this.#options.outside.length;
    const outsideAddress = this.#options.outside[index]!;
    const key = `${index}/${protocol}`;
    let space = this.#spaces.get(key);
    if (space === undefined) {
      space = { next: this.#options.portFirst, free: new ReuseHeap() };
      this.#spaces.set(key, space);
    }
    let port = space.free.popAvailable(now);
    if (port === undefined && space.next <= this.#options.portLast) port = space.next++;
    if (port === undefined) {
      return { ok: false, reason: 'exhausted', message: `${outsideAddress.text} has no free ${protocol} port at ${new Date(now).toISOString()}` };
    }
    const mapping: SessionMapping = { id: this.#nextId++, protocol, outsideAddress, outsidePort: port, holder: subscriber, start: now };
    this.#open.set(mapping.id, { mapping, space });
    return { ok: true, value: mapping };
  }

  /** Delete mapping `id` at `at` (≥ its start); its port is reusable from `at + quarantine`. */
  close(id: number, at: number): void {
    const entry = this.#open.get(id);
    if (entry === undefined) throw new IparError('MAPPING_NOT_OPEN', `mapping ${id} is not open`);
    if (at < entry.mapping.start) throw new IparError('RELEASE_BEFORE_START', `mapping ${id} closed at ${at}, before its start ${entry.mapping.start}`);
    this.#open.delete(id);
    entry.space.free.push(entry.mapping.outsidePort, at + this.quarantineMs);
  }

  /** Mappings opened and not yet closed. */
  get openCount(): number {
    return this.#open.size;
  }
}
