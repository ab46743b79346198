/**
 * The pairing book's per-resource index (see pairing.ts): the chains a resource holds, by
 * creation order, by holder once there are many, and by holder prefix for `stopAll`.
 */
import type { RecordTemplate } from './output.js';
import type { StartNode } from './start-order.js';

/** Cadence of a source that reports live sessions periodically (RADIUS interim updates). */
export interface Cadence {
  /** The `source` of the coverage record a hole yields. */
  readonly source: string;
  readonly intervalMs: number;
}

/** One interval being built: a holder's time on a resource. */
export interface Chain extends StartNode<Chain> {
  readonly resource: string;
  readonly holder: string;
  fields: RecordTemplate;
  /** Undefined while only a stop has been seen. */
  start: number | undefined;
  startDerived: boolean;
  knownEnd: number | null | undefined;
  lastGrant: number;
  stopAt: number | undefined;
  stopInferred: boolean;
  lastEvidence: number;
  readonly line: number;
  cadence: Cadence | undefined;
  /** The line of the stop that closed it (undefined while open, or when its end was inferred). */
  stopLine: number | undefined;
  queued: boolean;
  deadline: number;
  done: boolean;
}

/**
 * The chains of one resource not yet emitted. `chains` keeps them in creation order (the
 * order events and the end of the file visit them); the indexes below answer the
 * questions a grant asks without walking every chain the resource ever held, which a
 * lease database (nothing emitted before the end of the file) made quadratic.
 */
export interface Resource {
  /** Creation order of resources: the order `resources` iterates them in. */
  readonly seq: number;
  /** In creation order; emitted chains (`done`) stay until they are the most (`drop`). */
  chains: Chain[];
  /** Chains not yet emitted. */
  live: number;
  /** Live chains per holder, creation order; built once the resource holds more than `FEW_CHAINS`. */
  byHolder: Map<string, Chain[]> | undefined;
  /** Live chains with a start, ordered by start. */
  starts: Chain | undefined;
  /**
   * The chain opened here last left unqueued (stale once queued or emitted). Only an open
   * leaves a started chain unqueued, and it queues every chain that began by its start or
   * else the new one, so at most one live chain with a start is unqueued at a time.
   */
  unqueued: Chain | undefined;
}

/** Up to this many chains a resource is walked whole: indexing by holder or compacting costs more. */
const FEW_CHAINS = 32;
const NO_CHAINS: readonly Chain[] = [];

/** A resource seen for the first time, `seq` in creation order. */
export function newResource(seq: number): Resource {
  return { seq, chains: [], live: 0, byHolder: undefined, starts: undefined, unqueued: undefined };
}

/** The chains to search for `holder`: its own once the resource is indexed, else all (callers filter). */
export function holderChains(r: Resource, holder: string): readonly Chain[] {
  if (r.byHolder === undefined) return r.chains;
  return r.byHolder.get(holder) ?? NO_CHAINS;
}

/** A new chain joins the resource's lists; past `FEW_CHAINS` the resource indexes by holder. */
export function addChain(r: Resource, c: Chain): void {
  r.chains.push(c);
  r.live++;
  if (r.byHolder !== undefined) {
    const mine = r.byHolder.get(c.holder);
    if (mine === undefined) r.byHolder.set(c.holder, [c]);
    else mine.push(c);
  } else if (r.chains.length > FEW_CHAINS) {
    r.byHolder = new Map();
    for (const o of r.chains) {
      if (o.done) continue;
      const mine = r.byHolder.get(o.holder);
      if (mine === undefined) r.byHolder.set(o.holder, [o]);
      else mine.push(o);
    }
  }
}

/** An emitted chain leaves the holder index; the list is compacted once emitted chains are the most. */
export function dropChain(r: Resource, c: Chain): void {
  if (r.byHolder !== undefined) {
    const mine = r.byHolder.get(c.holder)!;
    if (mine.length === 1) r.byHolder.delete(c.holder);
    else mine.splice(mine.indexOf(c), 1);
  }
  // Emitted chains are skipped where the list is walked; rewrite it once they are the most.
  const dead = r.chains.length - r.live;
  if (dead > FEW_CHAINS && dead * 2 > r.chains.length) r.chains = r.chains.filter((o) => !o.done);
}

/** File `c` under every prefix of its holder that ends before a `|` (`nas1`, `nas1|s7`). */
export function indexPrefixes(index: Map<string, Chain[]>, c: Chain): void {
  const holder = c.holder;
  for (let i = holder.indexOf('|'); i >= 0; i = holder.indexOf('|', i + 1)) {
    const prefix = holder.slice(0, i);
    const list = index.get(prefix);
    if (list === undefined) index.set(prefix, [c]);
    else list.push(c);
  }
}
