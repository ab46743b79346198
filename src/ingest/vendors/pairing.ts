/**
 * Pairing events into intervals, the same way for every vendor. A *resource* is what is
 * handed out (an address, an outside port block, an outside ip:port) and a *holder* is
 * who holds it (an account, an inside ip:port, a RADIUS session). Events:
 *
 * - `grant`: the holder got (or renewed) the resource at `at`, maybe until a known end.
 *   Grants of the same holder that overlap merge into one interval (lease renewals,
 *   duplicate allocations).
 * - `confirm`: the source says the holder still has it (RADIUS Interim, Juniper
 *   INTERIM); it opens an interval only when none is known.
 * - `stop`: the holder gave it back at `at` (release, Stop, close, free).
 *
 * An interval with no logged stop ends at the next grant of the same resource to someone
 * else, or at a timeout after its last evidence (the user's, else the format's default for
 * the record kind, else three cadences of a source that reports live sessions); those ends
 * are marked `endInferred`. The end of a file ends nothing (issue 15): what is still open
 * there is handed on (`suspend`) to the next file or run as state, and stored meanwhile
 * as provisional records (`end: null` when open, `lastSeen` its last evidence).
 *
 * Closed intervals wait `reorderWindowMs` of log time before they are emitted, so a stop
 * that arrives before its start (UDP syslog reorders) or a duplicate still pairs.
 *
 * An event costs O(log n) in the intervals its resource holds, plus the holder's own
 * intervals there, not O(n): a lease database holds every interval to the end of the file,
 * and an address may see thousands of clients there. A resource finds a holder's
 * intervals through a per-holder index and the intervals around a time through their
 * start order (start-order.ts); a NAS restart finds its sessions by holder prefix.
 *
 * The book is this file; the per-resource and holder-prefix indexes are in
 * pairing-resources.ts, the heap of known ends in pairing-heap.ts.
 */
import { formatInstant } from '../../time.js';
import type { CanonicalRecordInput } from '../../records.js';
import { LINE_REASONS, type Collector, type RecordTemplate } from './output.js';
import { EndHeap } from './pairing-heap.js';
import { addChain, dropChain, holderChains, indexPrefixes, newResource, type Cadence, type Chain, type Resource } from './pairing-resources.js';
import { capAll, capUpTo, firstAfter, insertNode, minSeqAfter, priorityOf, removeNode } from './start-order.js';

export type { Cadence } from './pairing-resources.js';

export interface BookOptions {
  readonly collector: Collector;
  /** Log time a closed interval waits for late events before it is emitted. */
  readonly reorderWindowMs: number;
  /** `missingStopTimeoutSeconds` in ms: an interval with no stop ends this long after its last evidence. */
  readonly timeoutMs: number | undefined;
  /** The format's own timeouts per record kind (ms), used when `timeoutMs` is not given. */
  readonly defaultTimeoutMs?: Readonly<Partial<Record<RecordTemplate['kind'], number>>>;
  /**
   * Emit nothing before the end of the file: for lease databases, whose rows are keyed by
   * address and not written in time order (a compacted Kea file, a dhcpd.leases rewrite).
   */
  readonly holdUntilEnd?: boolean;
}

interface Event {
  readonly resource: string;
  readonly holder: string;
  readonly at: number;
  /** The record without its interval; the book takes it over (it becomes the record). */
  readonly fields: RecordTemplate;
  readonly line: number;
}

export interface GrantEvent extends Event {
  /** The end the source gives (lease expiry); `null` for no end; absent when unknown. */
  readonly knownEnd?: number | null;
  readonly cadence?: Cadence;
}

export interface ConfirmEvent extends Event {
  /** The start to use when no interval is open (the allocation time an interim repeats). */
  readonly startIfNew?: number;
  readonly cadence?: Cadence;
}

export interface StopEvent extends Event {
  /** A start derived from the stop itself (close time − duration), used when no start was seen. */
  readonly derivedStart?: number;
  /**
   * The duration the stop reports (whole seconds, truncated): the interval it closes lasted
   * at least this long, so its start is no later than the stop minus it — a session of one
   * second logged with whole-second times never becomes an empty interval.
   */
  readonly elapsedMs?: number;
  /**
   * The stop does not name its holder (an expiry row without a MAC): it ends whoever holds
   * the resource, and is dropped quietly when nobody does.
   */
  readonly anyHolder?: boolean;
}

/** A start written from a duration may be this much earlier than the logged start. */
const DERIVED_SLACK_MS = 2000;

/** Resources whose last emitted interval the book remembers for late lines: memory stays flat. */
const MAX_EMITTED_KEPT = 65_536;

/** An interval the book emitted (it can no longer be capped). */
interface Emitted {
  readonly holder: string;
  readonly start: number;
  readonly end: number;
  /** Its end was inferred from the next holder's grant. */
  readonly byNext: boolean;
}

/** A source that reports live sessions every cadence has lost one after this many silent cadences. */
export const CADENCES_BEFORE_TIMEOUT = 3;

/** Entries of the heap of ends before its stale ones are first dropped. */
const ENDS_COMPACT_AT = 4096;

/** How many ends a run inferred, and the one that reached furthest past its evidence. */
export interface InferredEnds {
  count: number;
  /** Longest `end − last evidence` among them, ms (0 when none). */
  longestMs: number;
  /** That record's resource, holder and interval (ISO), for the summary. */
  longest: { readonly resource: string; readonly holder: string; readonly start: string; readonly end: string; readonly lastEvidence: string } | null;
}

/** One unfinished chain as the state carries it (JSON). */
interface SavedChain {
  readonly resource: string;
  readonly holder: string;
  readonly fields: RecordTemplate;
  readonly start: number | null;
  readonly startDerived: boolean;
  /** Absent: unknown; `null`: the source says none. */
  readonly knownEnd?: number | null;
  readonly lastGrant: number;
  readonly stopAt: number | null;
  readonly stopInferred: boolean;
  readonly lastEvidence: number;
  readonly cadence: Cadence | null;
  /** Deadline when queued (closed, waiting for late lines), else null. */
  readonly deadline: number | null;
  /** The earliest later start on the resource it knew of (null: none). */
  readonly nextStart: number | null;
  /** The line of its first event, in the input it came from (for a problem reported later). */
  readonly line: number;
  /** The line of the stop that closed it, when one did. */
  readonly stopLine?: number;
}

/** A book's unfinished intervals, handed from one file or run to the next. */
export interface BookState {
  readonly version: 1;
  readonly maxSeen: number;
  readonly chains: readonly SavedChain[];
}

/** What `suspend` hands over: the state and, for the store, the records it stands for now. */
export interface Suspended {
  /** `null` when nothing is left unfinished. */
  readonly state: BookState | null;
  /** One record per unfinished interval with a start, as it stands (`lastSeen` set). */
  readonly provisional: readonly CanonicalRecordInput[];
}

/** Whether two chains' records name one client: the account of an allocation, the inside address of a translation. */
function sameClient(a: Chain, b: Chain): boolean {
  const x = a.fields;
  const y = b.fields;
  if (x.kind === 'allocation') return y.kind === 'allocation' && x.account === y.account;
  return y.kind !== 'allocation' && x.realm === y.realm && x.insideIp === y.insideIp;
}

/** Fill the optional fields a later event knows and the first did not (a MAC, an IMSI). */
function fill(fields: RecordTemplate, more: RecordTemplate): void {
  if (fields === more) return;
  const target = fields as Record<string, unknown>;
  const source = more as Record<string, unknown>;
  for (const k in source) if (target[k] === undefined && source[k] !== undefined) target[k] = source[k];
}

export class IntervalBook {
  private readonly resources = new Map<string, Resource>();
  private queue: Chain[] = [];
  private head = 0;
  private readonly ends = new EndHeap<Chain>();
  private readonly gaps = new Set<string>();
  /** Per resource, the emitted interval that reaches furthest (see `lateConflict`). */
  private readonly emitted = new Map<string, Emitted>();
  /** Per resource and holder, intervals emitted ended by the next holder's grant (see `stop`). */
  private readonly regranted = new Map<string, Emitted>();
  private maxSeen = -Infinity;
  private created = 0;
  /** Heap entries past which the stale ones are dropped (see `watch`). */
  private endsLimit = ENDS_COMPACT_AT;
  private resourcesCreated = 0;
  /** Chains not yet emitted, over all resources. */
  private live = 0;
  /**
   * Live chains under every prefix of their holder that ends before a `|`, for
   * `stopAll`; built at its first call (importers that never restart pay nothing).
   * Emitted and stopped chains leave a list when it is next used, or at a rebuild.
   */
  private prefixes: { index: Map<string, Chain[]>; addedSinceBuild: number } | undefined;
  /** Ends inferred so far (timeouts, next holders, restarts, deletions). */
  readonly inferred: InferredEnds = { count: 0, longestMs: 0, longest: null };

  constructor(private readonly options: BookOptions) {}

  /** The missing-stop timeout of a chain: the user's, else its cadence's, else the format's for its kind. */
  private timeoutOf(c: Chain): number | undefined {
    if (this.options.timeoutMs !== undefined) return this.options.timeoutMs;
    if (c.cadence !== undefined) return CADENCES_BEFORE_TIMEOUT * c.cadence.intervalMs;
    return this.options.defaultTimeoutMs?.[c.fields.kind];
  }

  /** Every time read from the file moves the file's clock (even lines that yield nothing). */
  see(at: number): void {
    if (at > this.maxSeen) this.maxSeen = at;
  }

  grant(ev: GrantEvent): void {
    this.see(ev.at);
    const r = this.resourceOf(ev.resource);
    const knownEnd = ev.knownEnd;
    // A late grant that would reach into another holder's stored interval opens nothing.
    const late = this.lateConflict(ev);
    for (const c of holderChains(r, ev.holder)) {
      if (c.holder !== ev.holder || c.done) continue;
      if (c.start === undefined) {
        if (ev.at <= c.stopAt!) {
          if (late) break;
          this.begin(r, c, ev.at, knownEnd, ev.fields);
          return;
        }
        continue;
      }
      if (c.startDerived && c.stopAt !== undefined && ev.at <= c.stopAt && ev.at >= c.start - DERIVED_SLACK_MS) {
        if (late) break;
        this.begin(r, c, ev.at, knownEnd, ev.fields);
        return;
      }
      if (this.overlaps(c, ev.at, knownEnd)) {
        if (late && ev.at < c.start) break;
        if (ev.at < c.start) this.moveStart(r, c, ev.at);
        if (ev.at >= c.lastGrant) {
          if (knownEnd !== undefined) c.knownEnd = knownEnd;
          c.lastGrant = ev.at;
        }
        if (ev.cadence !== undefined) c.cadence = ev.cadence;
        this.touch(c, ev.at);
        fill(c.fields, ev.fields);
        this.watch(c);
        return;
      }
    }
    if (late) return this.reportLate(r, ev, 'a grant', late);
    this.open(r, ev, ev.at, knownEnd, ev.at, ev.cadence);
  }

  confirm(ev: ConfirmEvent): void {
    this.see(ev.at);
    const r = this.resourceOf(ev.resource);
    const late = this.lateConflict(ev);
    for (const c of holderChains(r, ev.holder)) {
      if (c.holder !== ev.holder || c.done) continue;
      if (c.start === undefined) {
        if (ev.at <= c.stopAt!) {
          if (late) break;
          this.begin(r, c, ev.startIfNew ?? ev.at, undefined, ev.fields);
          this.touch(c, ev.at);
          return;
        }
        continue;
      }
      const lo = Math.min(c.start, ev.startIfNew ?? c.start);
      const hi = c.stopAt ?? (typeof c.knownEnd === 'number' ? c.knownEnd : Infinity);
      if (ev.at >= lo && ev.at <= hi) {
        // An earlier start the interim implies (session time) counts beyond clock jitter only.
        if (lo < c.start - DERIVED_SLACK_MS) this.moveStart(r, c, lo);
        if (ev.cadence !== undefined) c.cadence = ev.cadence;
        this.touch(c, ev.at);
        fill(c.fields, ev.fields);
        this.watch(c);
        return;
      }
    }
    if (late) return this.reportLate(r, ev, 'an update', late);
    this.open(r, ev, ev.startIfNew ?? ev.at, undefined, ev.at, ev.cadence);
  }

  stop(ev: StopEvent): void {
    this.see(ev.at);
    const r = this.resourceOf(ev.resource);
    let best: Chain | undefined;
    for (const c of ev.anyHolder === true ? r.chains : holderChains(r, ev.holder)) {
      if ((c.holder !== ev.holder && ev.anyHolder !== true) || c.done) continue;
      if (c.stopAt === ev.at) return; // duplicate stop
      if (c.start !== undefined && c.start <= ev.at && c.stopAt === undefined && (best === undefined || c.start > best.start!)) best = c;
    }
    if (best !== undefined) {
      best.stopAt = ev.at;
      best.stopLine = ev.line;
      // The close says how long the session lasted: its start was at least that long before.
      if (ev.elapsedMs !== undefined && ev.at - ev.elapsedMs < best.start!) this.moveStart(r, best, ev.at - ev.elapsedMs);
      this.touch(best, ev.at);
      fill(best.fields, ev.fields);
      this.enqueue(best);
      return;
    }
    if (ev.anyHolder === true) {
      if (r.live === 0) this.resources.delete(ev.resource);
      return;
    }
    const key = ev.resource + '\n' + ev.holder;
    const closed = this.regranted.get(key);
    if (closed !== undefined && closed.start <= ev.at) {
      // Its interval was stored ended by the next holder's grant: say so, never re-open it.
      this.options.collector.problem(
        ev.line,
        '',
        LINE_REASONS.STOP_AFTER_REGRANT,
        `${ev.holder} released ${ev.resource} at ${formatInstant(ev.at)}, but its interval from ${formatInstant(closed.start)} was already closed at ${formatInstant(closed.end)} by the grant to the next holder (stored with that end, endInferred)`,
        ev.resource,
      );
      return;
    }
    const c = this.chain(ev, ev.derivedStart, undefined, ev.at);
    c.startDerived = ev.derivedStart !== undefined;
    c.stopAt = ev.at;
    c.stopLine = ev.line;
    this.add(r, c);
    this.enqueue(c);
  }

  /**
   * The holder's interval ended at some unknown time before its known end (Kea writes a
   * deleted lease with lifetime 0): keep the known end, mark it inferred, accept no renewal.
   */
  retire(ev: Event): void {
    this.see(ev.at);
    const r = this.resourceOf(ev.resource);
    for (const c of holderChains(r, ev.holder)) {
      if (c.holder !== ev.holder || c.done || c.start === undefined || c.stopAt !== undefined) continue;
      if (ev.at < c.start) continue;
      c.stopAt = typeof c.knownEnd === 'number' ? Math.max(c.knownEnd, ev.at) : ev.at;
      c.stopInferred = true;
      this.enqueue(c);
      return;
    }
    if (r.live === 0) this.resources.delete(ev.resource);
    this.options.collector.problem(
      ev.line,
      '',
      LINE_REASONS.STOP_WITHOUT_START,
      `${ev.holder} gave up ${ev.resource} at ${formatInstant(ev.at)} but its grant is not in the input (nor in the store's pairing state)`,
      ev.resource,
    );
  }

  /**
   * Stop every open interval whose holder starts with `holderPrefix|` (a NAS restarted:
   * Accounting-On/Off), marked inferred. A restart costs the intervals under its prefix,
   * not every open interval of the file.
   *
   * @example
   * book.stopAll(at, 'nas1'); // holders 'nas1|<session>|<user>'
   */
  stopAll(at: number, holderPrefix: string): void {
    this.see(at);
    const index = this.prefixIndex();
    const mine = index.get(holderPrefix);
    if (mine === undefined) return;
    const hit: { order: number; c: Chain }[] = [];
    const keep: Chain[] = [];
    for (const c of mine) {
      if (c.done || c.stopAt !== undefined) continue;
      if (c.start !== undefined && c.start <= at) hit.push({ order: this.resources.get(c.resource)!.seq, c });
      else keep.push(c);
    }
    if (keep.length === 0) index.delete(holderPrefix);
    else index.set(holderPrefix, keep);
    // Queued in the order a walk over the resources (oldest first) and their chains meets them.
    hit.sort((a, b) => a.order - b.order || a.c.seq - b.c.seq);
    for (const { c } of hit) {
      c.stopAt = at;
      c.stopInferred = true;
      this.enqueue(c);
    }
  }

  /**
   * The stored interval a late event would reach into: an event older than the log's clock
   * by more than the reorder window, at a time another holder's emitted interval on the
   * resource still held. The live intervals are capped as usual; an emitted one cannot be,
   * so such an event opens or widens nothing (it would give one resource to two holders).
   */
  private lateConflict(ev: Event): Emitted | undefined {
    if (this.options.holdUntilEnd === true || ev.at >= this.maxSeen - this.options.reorderWindowMs) return undefined;
    const e = this.emitted.get(ev.resource);
    return e !== undefined && e.holder !== ev.holder && ev.at < e.end ? e : undefined;
  }

  private reportLate(r: Resource, ev: Event, what: string, e: Emitted): void {
    if (r.live === 0) this.resources.delete(ev.resource);
    this.options.collector.problem(
      ev.line,
      '',
      LINE_REASONS.LATE_EVENT,
      `${what} of ${ev.resource} to ${ev.holder} at ${formatInstant(ev.at)} arrived when the log had reached ${formatInstant(this.maxSeen)}, past the reorder window (${this.options.reorderWindowMs / 1000} s), inside ${e.holder}'s interval ${formatInstant(e.start)}–${formatInstant(e.end)} already stored: it opens nothing (a larger --reorder-window pairs it)`,
      formatInstant(ev.at),
    );
  }

  /** The interval of `resource` emitted last that reaches furthest (bounded memory: the last {@link MAX_EMITTED_KEPT} resources). */
  private remember(resource: string, e: Emitted): void {
    if (e.byNext) {
      const key = resource + '\n' + e.holder;
      this.regranted.delete(key);
      if (this.regranted.size >= MAX_EMITTED_KEPT) this.regranted.delete(this.regranted.keys().next().value!);
      this.regranted.set(key, e);
    }
    const had = this.emitted.get(resource);
    if (had !== undefined) {
      if (had.end > e.end) return;
      this.emitted.delete(resource);
    } else if (this.emitted.size >= MAX_EMITTED_KEPT) {
      this.emitted.delete(this.emitted.keys().next().value!);
    }
    this.emitted.set(resource, e);
  }

  /** Emit what the reorder window and the known ends let go; call after each line. */
  drain(): void {
    if (this.options.holdUntilEnd === true) return;
    const now = this.maxSeen;
    const queue = this.queue;
    while (this.head < queue.length && queue[this.head]!.deadline <= now) this.finalize(queue[this.head++]!);
    if (this.head > 1024 && this.head * 2 > queue.length) {
      this.queue = queue.slice(this.head);
      this.head = 0;
    }
    const horizon = now - this.options.reorderWindowMs;
    while (this.ends.size > 0 && this.ends.peek() < horizon) {
      const { key, chain } = this.ends.pop();
      if (!chain.done && !chain.queued && this.naturalEnd(chain) === key) this.finalize(chain);
    }
  }

  /**
   * End of an input: emit what the clock lets go (a lease database, held to the end of its
   * file, is drained now as a time-ordered log would have been), and hand the rest on as
   * state with the records it stands for now. Nothing is closed because the input ended.
   * `last`: no later input of this run follows — a stop whose start was never seen is
   * reported now (STOP_WITHOUT_START) and not handed on.
   */
  suspend(last: boolean): Suspended {
    if (this.options.holdUntilEnd === true) this.drainNow();
    if (last) {
      for (const r of [...this.resources.values()]) for (const c of [...r.chains]) if (!c.done && c.start === undefined) this.finalize(c);
      this.queue = this.queue.filter((c) => !c.done);
      this.head = 0;
    }
    const unfinished: Chain[] = [];
    for (const r of this.resources.values()) for (const c of r.chains) if (!c.done) unfinished.push(c);
    unfinished.sort((a, b) => a.seq - b.seq);
    const chains: SavedChain[] = [];
    const provisional: CanonicalRecordInput[] = [];
    for (const c of unfinished) {
      const r = this.resources.get(c.resource)!;
      let next = c.nextStart;
      if (c.start !== undefined) {
        // Out of the start order and back: that hands it every cap it received.
        r.starts = removeNode(r.starts, c);
        const later = firstAfter(r.starts, c.start);
        if (later !== undefined && later.key < next) next = later.key;
        r.starts = insertNode(r.starts, c);
        const { end, inferred } = this.endOf(c, next, false, later !== undefined && later.key <= next && sameClient(c, later));
        const record = { ...(c.fields as Record<string, unknown>) };
        record['start'] = formatInstant(c.start);
        record['end'] = end === null ? null : formatInstant(Math.max(end, c.start));
        if (inferred) record['endInferred'] = true;
        if (end === null) record['lastSeen'] = formatInstant(Math.max(c.lastEvidence, c.start));
        provisional.push(record as CanonicalRecordInput);
      }
      chains.push({
        resource: c.resource,
        holder: c.holder,
        fields: c.fields,
        start: c.start ?? null,
        startDerived: c.startDerived,
        ...(c.knownEnd === undefined ? {} : { knownEnd: c.knownEnd }),
        lastGrant: c.lastGrant,
        stopAt: c.stopAt ?? null,
        stopInferred: c.stopInferred,
        lastEvidence: c.lastEvidence,
        cadence: c.cadence ?? null,
        deadline: c.queued ? c.deadline : null,
        nextStart: next === Infinity ? null : next,
        line: c.line,
        ...(c.stopLine === undefined ? {} : { stopLine: c.stopLine }),
      });
    }
    return { state: chains.length === 0 ? null : { version: 1, maxSeen: this.maxSeen, chains }, provisional };
  }

  /**
   * Take over the unfinished intervals an earlier input or run handed on (before the first
   * event): they pair with this input's lines as if the inputs were one stream.
   */
  resume(state: BookState): void {
    this.see(state.maxSeen);
    const queued: Chain[] = [];
    for (const s of state.chains) {
      const r = this.resourceOf(s.resource);
      const c = this.chain(
        { resource: s.resource, holder: s.holder, fields: s.fields, at: s.lastEvidence, line: s.line },
        s.start ?? undefined,
        s.knownEnd,
        s.lastEvidence,
      );
      c.startDerived = s.startDerived;
      c.lastGrant = s.lastGrant;
      c.stopAt = s.stopAt ?? undefined;
      c.stopInferred = s.stopInferred;
      c.cadence = s.cadence ?? undefined;
      c.nextStart = s.nextStart ?? Infinity;
      c.stopLine = s.stopLine;
      this.add(r, c);
      if (s.deadline !== null) {
        c.queued = true;
        c.deadline = s.deadline;
        queued.push(c);
      } else if (c.start !== undefined) {
        // At most one started chain of a resource is unqueued (see Resource.unqueued).
        r.unqueued = c;
      }
      this.watch(c);
    }
    queued.sort((a, b) => a.deadline - b.deadline);
    for (const c of queued) this.queue.push(c);
  }

  /** `drain`, whatever `holdUntilEnd` says. */
  private drainNow(): void {
    const now = this.maxSeen;
    while (this.head < this.queue.length && this.queue[this.head]!.deadline <= now) this.finalize(this.queue[this.head++]!);
    const horizon = now - this.options.reorderWindowMs;
    while (this.ends.size > 0 && this.ends.peek() < horizon) {
      const { key, chain } = this.ends.pop();
      if (!chain.done && !chain.queued && this.naturalEnd(chain) === key) this.finalize(chain);
    }
    this.queue = this.queue.slice(this.head);
    this.head = 0;
  }

  private resourceOf(resource: string): Resource {
    let r = this.resources.get(resource);
    if (r === undefined) {
      r = newResource(this.resourcesCreated++);
      this.resources.set(resource, r);
    }
    return r;
  }

  private chain(ev: Event, start: number | undefined, knownEnd: number | null | undefined, evidence: number): Chain {
    const seq = this.created++;
    return {
      resource: ev.resource,
      holder: ev.holder,
      fields: ev.fields,
      start,
      startDerived: false,
      knownEnd,
      lastGrant: start ?? evidence,
      stopAt: undefined,
      stopInferred: false,
      lastEvidence: evidence,
      line: ev.line,
      cadence: undefined,
      stopLine: undefined,
      queued: false,
      deadline: 0,
      done: false,
      key: start ?? 0,
      seq,
      priority: priorityOf(seq),
      left: undefined,
      right: undefined,
      nextStart: Infinity,
      pendingCap: Infinity,
      minSeq: seq,
    };
  }

  /** The holder-prefix index, built from the live chains when missing (`add` drops it once it may be mostly stale). */
  private prefixIndex(): Map<string, Chain[]> {
    if (this.prefixes !== undefined) return this.prefixes.index;
    const prefixes = { index: new Map<string, Chain[]>(), addedSinceBuild: 0 };
    this.prefixes = prefixes;
    for (const r of this.resources.values()) for (const c of r.chains) if (!c.done) indexPrefixes(prefixes.index, c);
    return prefixes.index;
  }

  /** A new chain joins its resource (and the start order, when it has a start). */
  private add(r: Resource, c: Chain): void {
    addChain(r, c);
    this.live++;
    if (this.prefixes !== undefined) {
      indexPrefixes(this.prefixes.index, c);
      // Emitted chains stay in the lists of prefixes no restart visits: rebuild once they may be the most.
      if (++this.prefixes.addedSinceBuild > 2 * this.live + 1024) {
        this.prefixes = undefined;
        this.prefixIndex();
      }
    }
    if (c.start !== undefined) {
      c.key = c.start;
      r.starts = insertNode(r.starts, c);
    }
  }

  /** Change a chain's start; it moves in the start order (the caps it received stay with it). */
  private moveStart(r: Resource, c: Chain, start: number): void {
    if (c.start !== undefined) r.starts = removeNode(r.starts, c);
    c.start = start;
    c.key = start;
    r.starts = insertNode(r.starts, c);
  }

  private begin(r: Resource, c: Chain, start: number, knownEnd: number | null | undefined, fields: RecordTemplate): void {
    this.moveStart(r, c, start);
    c.startDerived = false;
    if (knownEnd !== undefined) c.knownEnd = knownEnd;
    c.lastGrant = start;
    if (start > c.lastEvidence) c.lastEvidence = start;
    fill(c.fields, fields);
  }

  /**
   * The resource changed hands at `start`: what began by then ends no later; if something
   * already began after it (a late line), this one ends no later than that. Chains are
   * queued in creation order, the new one where the first later-starting chain sits, as a
   * walk over the resource's chains would.
   */
  private open(r: Resource, ev: Event, start: number, knownEnd: number | null | undefined, evidence: number, cadence: Cadence | undefined): void {
    const c = this.chain(ev, start, knownEnd, evidence);
    c.cadence = cadence;
    const later = firstAfter(r.starts, start);
    let firstLater = Infinity;
    if (later === undefined) {
      capAll(r.starts, start); // nothing began after it (the usual, in-order case)
    } else {
      firstLater = minSeqAfter(r.starts, start);
      c.nextStart = later.key;
      capUpTo(r.starts, start, start);
    }
    const u = r.unqueued;
    if (u !== undefined && !u.queued && !u.done && u.start! <= start) {
      if (u.seq > firstLater) this.enqueue(c);
      this.enqueue(u);
    }
    if (later !== undefined) this.enqueue(c);
    else r.unqueued = c;
    this.add(r, c);
    this.watch(c);
  }

  private overlaps(c: Chain, at: number, knownEnd: number | null | undefined): boolean {
    const start = c.start!;
    // After a deletion or a NAS restart only a duplicate of the last grant belongs here.
    if (c.stopInferred) return at <= c.lastGrant;
    const grantEnd = knownEnd === undefined ? at : knownEnd === null ? Infinity : knownEnd;
    if (grantEnd < start) return false;
    if (c.stopAt !== undefined) return at < c.stopAt;
    return typeof c.knownEnd === 'number' ? at <= c.knownEnd : true;
  }

  /** New evidence that the holder had the resource at `at`; a hole in a cadence is a coverage gap. */
  private touch(c: Chain, at: number): void {
    if (at <= c.lastEvidence) return;
    if (c.cadence !== undefined && at - c.lastEvidence > 2 * c.cadence.intervalMs) this.gap(c.cadence.source, c.lastEvidence, at);
    c.lastEvidence = at;
  }

  private gap(source: string, start: number, end: number): void {
    const key = source + '|' + start + '|' + end;
    if (this.gaps.has(key)) return;
    this.gaps.add(key);
    this.options.collector.record({ kind: 'coverage', source, start: formatInstant(start), end: formatInstant(end), status: 'gap' });
  }

  private naturalEnd(c: Chain): number | undefined {
    if (c.stopAt !== undefined || c.start === undefined) return undefined;
    if (typeof c.knownEnd === 'number') return c.knownEnd;
    const timeout = c.knownEnd === undefined ? this.timeoutOf(c) : undefined;
    return timeout === undefined ? undefined : c.lastEvidence + timeout;
  }

  private watch(c: Chain): void {
    const end = this.naturalEnd(c);
    if (end === undefined) return;
    this.ends.push(end, c);
    if (this.ends.size > this.endsLimit) {
      // A stop ends most chains long before their timeout: their entries would wait there
      // (a day of log time for port blocks), holding the chains. Memory stays with the open ones.
      this.ends.retain((key, chain) => !chain.done && !chain.queued && this.naturalEnd(chain) === key);
      this.endsLimit = Math.max(ENDS_COMPACT_AT, 2 * this.ends.size);
    }
  }

  private enqueue(c: Chain): void {
    if (c.queued || c.done) return;
    c.queued = true;
    c.deadline = this.maxSeen + this.options.reorderWindowMs;
    this.queue.push(c);
  }

  /** An emitted chain leaves its resource; the resource goes when it holds none. */
  private drop(r: Resource, c: Chain): void {
    this.live--;
    if (--r.live === 0) {
      this.resources.delete(c.resource);
      return;
    }
    dropChain(r, c);
  }

  /** The end a chain has given `next`, the earliest later start on its resource: `null` while open. */
  private endOf(c: Chain, next: number, timeouts = true, nextSameClient = false): { end: number | null; inferred: boolean; regranted?: true } {
    if (c.stopAt !== undefined) {
      let end = typeof c.knownEnd === 'number' ? Math.min(c.knownEnd, c.stopAt) : c.stopAt;
      if (c.stopInferred && next < end) end = next;
      // Granted to another client before this stop: it ends at that grant, never overlapping it
      // (one client's concurrent sessions on one port-less tuple may overlap).
      else if (next < end && !nextSameClient) return { end: next, inferred: true, regranted: true };
      return { end, inferred: c.stopInferred };
    }
    if (c.knownEnd === null) return next === Infinity ? { end: null, inferred: false } : { end: next, inferred: true };
    if (typeof c.knownEnd === 'number') return { end: Math.min(c.knownEnd, next), inferred: next < c.knownEnd };
    // A provisional record (timeouts off) is open until its timeout has been seen to pass.
    const timeout = timeouts ? this.timeoutOf(c) : undefined;
    const bound = Math.min(next, timeout === undefined ? Infinity : c.lastEvidence + timeout);
    return bound === Infinity ? { end: null, inferred: false } : { end: bound, inferred: true };
  }

  private finalize(c: Chain): void {
    if (c.done) return;
    c.done = true;
    const r = this.resources.get(c.resource);
    if (r !== undefined) {
      // Out of the start order first: that hands it every cap it received.
      if (c.start !== undefined) r.starts = removeNode(r.starts, c);
      this.drop(r, c);
    }
    let next = c.nextStart;
    let nextSameClient = false;
    if (r !== undefined && r.live > 0 && c.start !== undefined) {
      const later = firstAfter(r.starts, c.start);
      if (later !== undefined && later.key < next) next = later.key;
      nextSameClient = later !== undefined && later.key <= next && sameClient(c, later);
    }
    const start = c.start;
    if (start === undefined) {
      this.options.collector.problem(
        c.line,
        '',
        LINE_REASONS.STOP_WITHOUT_START,
        `${c.holder} released ${c.resource} at ${formatInstant(c.stopAt!)} but its start is not in the input (nor in the store's pairing state)`,
        c.resource,
      );
      return;
    }
    const { end, inferred, regranted } = this.endOf(c, next, true, nextSameClient);
    if (regranted === true) {
      this.options.collector.problem(
        c.stopLine ?? c.line,
        '',
        LINE_REASONS.STOP_AFTER_REGRANT,
        `${c.holder} released ${c.resource} at ${formatInstant(c.stopAt!)}, but it was granted to the next holder at ${formatInstant(end!)}: the source shows two holders at once; stored ended at that grant (endInferred)`,
        c.resource,
      );
    }
    // What late lines are checked against; ended by the next holder's grant, a stop of its own arriving later is told so.
    if (end !== null)
      this.remember(c.resource, { holder: c.holder, start, end: Math.max(end, start), byNext: inferred && end === next && c.stopAt === undefined });
    if (inferred && end !== null) this.noteInferred(c, start, end);
    // Updates stopped long before an end nobody logged: the source has a hole there.
    if (inferred && end !== null && c.cadence !== undefined && end - c.lastEvidence > 2 * c.cadence.intervalMs) {
      this.gap(c.cadence.source, c.lastEvidence, end);
    }
    // The chain owns its template: it becomes the record (no copy on the hot path).
    const record = c.fields as Record<string, unknown>;
    record['start'] = this.iso(start, 0);
    record['end'] = end === null ? null : this.iso(Math.max(end, start), 1);
    if (inferred) record['endInferred'] = true;
    this.options.collector.record(record as CanonicalRecordInput);
  }

  private noteInferred(c: Chain, start: number, end: number): void {
    const tally = this.inferred;
    tally.count++;
    const reach = end - c.lastEvidence;
    if (tally.longest === null || reach > tally.longestMs) {
      tally.longestMs = Math.max(0, reach);
      tally.longest = {
        resource: c.resource,
        holder: c.holder,
        start: formatInstant(start),
        end: formatInstant(Math.max(end, start)),
        lastEvidence: formatInstant(c.lastEvidence),
      };
    }
  }

  /** The last instant written per slot (0 starts, 1 ends) and its text. */
  private readonly isoMs = [NaN, NaN];
  private readonly isoText = ['', ''];

  /**
   * ISO text of an instant (formatInstant costs ~0.7 µs). Records of a busy log come out
   * in time order and share their second-precision starts and ends, so each slot keeps its last.
   */
  private iso(ms: number, slot: 0 | 1): string {
    if (this.isoMs[slot] !== ms) {
      this.isoMs[slot] = ms;
      this.isoText[slot] = formatInstant(ms);
    }
    return this.isoText[slot]!;
  }
}
