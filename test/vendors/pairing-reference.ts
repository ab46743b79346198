// The interval book as it was before issue #8 (commit f4d810e, src/ingest/vendors/pairing.ts),
// kept unchanged as the reference for the law "the indexed book emits the same records, in
// the same order, with the same problems". It finds everything by walking a resource's
// whole list of chains: simple, and quadratic in the chains a resource holds. Only the
// import paths differ from that file, the heap and the Cadence type come from src (they are
// not what the law compares), and the rules of issue 16 (late lines, stops after a regrant)
// are written here by list walks as well.
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
 * else, at `timeout` after its last evidence, or at the last time the file shows (the
 * source was logging and did not report a stop); those ends are marked `endInferred`.
 * Only a source that says the grant has no end (an infinite lease) yields `end: null`.
 *
 * Closed intervals wait `reorderWindowMs` of log time before they are emitted, so a stop
 * that arrives before its start (UDP syslog reorders) or a duplicate still pairs.
 */
import { formatInstant } from '../../src/time.js';
import type { CanonicalRecordInput } from '../../src/records.js';
import { LINE_REASONS, type Collector, type RecordTemplate } from '../../src/ingest/vendors/output.js';
// Not under test here (the law is about finding chains): the heap and the cadence type are the book's own.
import { EndHeap } from '../../src/ingest/vendors/pairing-heap.js';
import type { Cadence } from '../../src/ingest/vendors/pairing-resources.js';

export interface BookOptions {
  readonly collector: Collector;
  /** Log time a closed interval waits for late events before it is emitted. */
  readonly reorderWindowMs: number;
  /** `missingStopTimeoutSeconds` in ms: an interval with no stop ends this long after its last evidence. */
  readonly timeoutMs: number | undefined;
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
   * The stop does not name its holder (an expiry row without a MAC): it ends whoever holds
   * the resource, and is dropped quietly when nobody does.
   */
  readonly anyHolder?: boolean;
}

interface Chain {
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
  /** The earliest start of a later interval on the same resource: no inferred end goes past it. */
  nextStart: number;
  readonly line: number;
  cadence: Cadence | undefined;
  stopLine?: number;
  queued: boolean;
  deadline: number;
  done: boolean;
}

/** A start written from a duration may be this much earlier than the logged start. */
const DERIVED_SLACK_MS = 2000;

/** Fill the optional fields a later event knows and the first did not (a MAC, an IMSI). */
function fill(fields: RecordTemplate, more: RecordTemplate): void {
  if (fields === more) return;
  const target = fields as Record<string, unknown>;
  const source = more as Record<string, unknown>;
  for (const k in source) if (target[k] === undefined && source[k] !== undefined) target[k] = source[k];
}

interface Emitted {
  readonly holder: string;
  readonly start: number;
  readonly end: number;
}

export class IntervalBook {
  private readonly resources = new Map<string, Chain[]>();
  private queue: Chain[] = [];
  private head = 0;
  private readonly ends = new EndHeap<Chain>();
  private readonly gaps = new Set<string>();
  private maxSeen = -Infinity;
  /** Issue 16: per resource the emitted interval that reaches furthest, and those ended by the next grant. */
  private readonly emitted = new Map<string, Emitted>();
  private readonly regranted = new Map<string, Emitted>();

  /** The account of the live chain starting first after `c` (the first created among equals), when it starts at `next`. */
  private nextAccount(list: readonly Chain[], c: Chain, next: number): string | undefined {
    let first: Chain | undefined;
    for (const o of list) if (o !== c && !o.done && o.start !== undefined && o.start > c.start! && (first === undefined || o.start < first.start!)) first = o;
    return first !== undefined && first.start === next ? (first.fields as { account?: string }).account : undefined;
  }

  constructor(private readonly options: BookOptions) {}

  /** Every time read from the file moves the file's clock (even lines that yield nothing). */
  see(at: number): void {
    if (at > this.maxSeen) this.maxSeen = at;
  }

  grant(ev: GrantEvent): void {
    this.see(ev.at);
    const list = this.listOf(ev.resource);
    const knownEnd = ev.knownEnd;
    const late = this.lateConflict(ev);
    for (const c of list) {
      if (c.holder !== ev.holder || c.done) continue;
      if (c.start === undefined) {
        if (ev.at <= c.stopAt!) {
          if (late) break;
          this.begin(c, ev.at, knownEnd, ev.fields);
          return;
        }
        continue;
      }
      if (c.startDerived && c.stopAt !== undefined && ev.at <= c.stopAt && ev.at >= c.start - DERIVED_SLACK_MS) {
        if (late) break;
        this.begin(c, ev.at, knownEnd, ev.fields);
        return;
      }
      if (this.overlaps(c, ev.at, knownEnd)) {
        if (late && ev.at < c.start) break;
        if (ev.at < c.start) c.start = ev.at;
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
    if (late) return this.reportLate(ev, 'a grant');
    this.open(list, ev, ev.at, knownEnd, ev.at, ev.cadence);
  }

  confirm(ev: ConfirmEvent): void {
    this.see(ev.at);
    const list = this.listOf(ev.resource);
    const late = this.lateConflict(ev);
    for (const c of list) {
      if (c.holder !== ev.holder || c.done) continue;
      if (c.start === undefined) {
        if (ev.at <= c.stopAt!) {
          if (late) break;
          this.begin(c, ev.startIfNew ?? ev.at, undefined, ev.fields);
          this.touch(c, ev.at);
          return;
        }
        continue;
      }
      const lo = Math.min(c.start, ev.startIfNew ?? c.start);
      const hi = c.stopAt ?? (typeof c.knownEnd === 'number' ? c.knownEnd : Infinity);
      if (ev.at >= lo && ev.at <= hi) {
        // An earlier start the interim implies (session time) counts beyond clock jitter only.
        if (lo < c.start - DERIVED_SLACK_MS) c.start = lo;
        if (ev.cadence !== undefined) c.cadence = ev.cadence;
        this.touch(c, ev.at);
        fill(c.fields, ev.fields);
        this.watch(c);
        return;
      }
    }
    if (late) return this.reportLate(ev, 'an update');
    this.open(list, ev, ev.startIfNew ?? ev.at, undefined, ev.at, ev.cadence);
  }

  stop(ev: StopEvent): void {
    this.see(ev.at);
    const list = this.listOf(ev.resource);
    let best: Chain | undefined;
    for (const c of list) {
      if ((c.holder !== ev.holder && ev.anyHolder !== true) || c.done) continue;
      if (c.stopAt === ev.at) return; // duplicate stop
      if (c.start !== undefined && c.start <= ev.at && c.stopAt === undefined && (best === undefined || c.start > best.start!)) best = c;
    }
    if (best !== undefined) {
      best.stopAt = ev.at;
      best.stopLine = ev.line;
      this.touch(best, ev.at);
      fill(best.fields, ev.fields);
      this.enqueue(best);
      return;
    }
    if (ev.anyHolder === true) {
      if (list.length === 0) this.resources.delete(ev.resource);
      return;
    }
    const closed = this.regranted.get(ev.resource + '\n' + ev.holder);
    if (closed !== undefined && closed.start <= ev.at) {
      if (list.length === 0) this.resources.delete(ev.resource);
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
    list.push(c);
    this.enqueue(c);
  }

  /**
   * The holder's interval ended at some unknown time before its known end (Kea writes a
   * deleted lease with lifetime 0): keep the known end, mark it inferred, accept no renewal.
   */
  retire(ev: Event): void {
    this.see(ev.at);
    const list = this.listOf(ev.resource);
    for (const c of list) {
      if (c.holder !== ev.holder || c.done || c.start === undefined || c.stopAt !== undefined) continue;
      if (ev.at < c.start) continue;
      c.stopAt = typeof c.knownEnd === 'number' ? Math.max(c.knownEnd, ev.at) : ev.at;
      c.stopInferred = true;
      this.enqueue(c);
      return;
    }
    if (list.length === 0) this.resources.delete(ev.resource);
    this.options.collector.problem(
      ev.line,
      '',
      LINE_REASONS.STOP_WITHOUT_START,
      `${ev.holder} gave up ${ev.resource} at ${formatInstant(ev.at)} but its grant is not in the input (nor in the store's pairing state)`,
      ev.resource,
    );
  }

  /** Stop every open interval `match` picks (a NAS restarted: Accounting-On/Off), marked inferred. */
  stopAll(at: number, match: (holder: string, fields: RecordTemplate) => boolean): void {
    this.see(at);
    for (const list of this.resources.values()) {
      for (const c of list) {
        if (c.done || c.start === undefined || c.stopAt !== undefined || c.start > at || !match(c.holder, c.fields)) continue;
        c.stopAt = at;
        c.stopInferred = true;
        this.enqueue(c);
      }
    }
  }

  /** Emit what the reorder window and the known ends let go; call after each line. */
  drain(): void {
    if (this.options.holdUntilEnd === true) return;
    const now = this.maxSeen;
    const queue = this.queue;
    while (this.head < queue.length && queue[this.head]!.deadline <= now) this.finalize(queue[this.head++]!, false);
    if (this.head > 1024 && this.head * 2 > queue.length) {
      this.queue = queue.slice(this.head);
      this.head = 0;
    }
    const horizon = now - this.options.reorderWindowMs;
    while (this.ends.size > 0 && this.ends.peek() < horizon) {
      const { key, chain } = this.ends.pop();
      if (!chain.done && !chain.queued && this.naturalEnd(chain) === key) this.finalize(chain, false);
    }
  }

  /**
   * End of the input (issue 15): emit what the clock lets go — all of it for a lease
   * database — then each unfinished interval with a start as it stands, `lastSeen` its
   * last evidence, without closing it.
   */
  suspend(): void {
    if (this.options.holdUntilEnd === true) {
      const now = this.maxSeen;
      while (this.head < this.queue.length && this.queue[this.head]!.deadline <= now) this.finalize(this.queue[this.head++]!, false);
      const horizon = now - this.options.reorderWindowMs;
      while (this.ends.size > 0 && this.ends.peek() < horizon) {
        const { key, chain } = this.ends.pop();
        if (!chain.done && !chain.queued && this.naturalEnd(chain) === key) this.finalize(chain, false);
      }
    }
    // The last input: a stop whose start never came is reported, not handed on.
    for (const list of [...this.resources.values()]) for (const c of [...list]) if (!c.done && c.start === undefined) this.finalize(c, false);
    for (const list of this.resources.values()) {
      for (const c of list) {
        if (c.done || c.start === undefined) continue;
        let next = c.nextStart;
        for (const o of list) if (o !== c && !o.done && o.start !== undefined && o.start > c.start && o.start < next) next = o.start;
        const { end, inferred } = this.endOf(c, next, false, this.nextAccount(list, c, next));
        const record = { ...(c.fields as Record<string, unknown>) };
        record['start'] = formatInstant(c.start);
        record['end'] = end === null ? null : formatInstant(Math.max(end, c.start));
        if (inferred) record['endInferred'] = true;
        if (end === null) record['lastSeen'] = formatInstant(Math.max(c.lastEvidence, c.start));
        this.options.collector.record(record as CanonicalRecordInput);
      }
    }
  }

  /** Issue 16: an event past the reorder window inside another holder's emitted interval. */
  private lateConflict(ev: Event): Emitted | undefined {
    if (this.options.holdUntilEnd === true || ev.at >= this.maxSeen - this.options.reorderWindowMs) return undefined;
    const e = this.emitted.get(ev.resource);
    return e !== undefined && e.holder !== ev.holder && ev.at < e.end ? e : undefined;
  }

  private reportLate(ev: Event, what: string): void {
    const list = this.resources.get(ev.resource);
    if (list !== undefined && list.length === 0) this.resources.delete(ev.resource);
    const e = this.emitted.get(ev.resource)!;
    this.options.collector.problem(
      ev.line,
      '',
      LINE_REASONS.LATE_EVENT,
      `${what} of ${ev.resource} to ${ev.holder} at ${formatInstant(ev.at)} arrived when the log had reached ${formatInstant(this.maxSeen)}, past the reorder window (${this.options.reorderWindowMs / 1000} s), inside ${e.holder}'s interval ${formatInstant(e.start)}–${formatInstant(e.end)} already stored: it opens nothing (a larger --reorder-window pairs it)`,
      formatInstant(ev.at),
    );
  }

  private timeoutOf(c: Chain): number | undefined {
    return this.options.timeoutMs ?? (c.cadence === undefined ? undefined : 3 * c.cadence.intervalMs);
  }

  private endOf(c: Chain, next: number, timeouts = true, nextHolder?: string): { end: number | null; inferred: boolean; regranted?: true } {
    if (c.stopAt !== undefined) {
      let end = typeof c.knownEnd === 'number' ? Math.min(c.knownEnd, c.stopAt) : c.stopAt;
      if (c.stopInferred && next < end) end = next;
      // Issue 16: a stop after another client's grant ends at that grant.
      else if (next < end && nextHolder !== (c.fields as { account?: string }).account) return { end: next, inferred: true, regranted: true };
      return { end, inferred: c.stopInferred };
    }
    if (c.knownEnd === null) return next === Infinity ? { end: null, inferred: false } : { end: next, inferred: true };
    if (typeof c.knownEnd === 'number') return { end: Math.min(c.knownEnd, next), inferred: next < c.knownEnd };
    // A provisional record (timeouts off) is open until its timeout has been seen to pass.
    const timeout = timeouts ? this.timeoutOf(c) : undefined;
    const bound = Math.min(next, timeout === undefined ? Infinity : c.lastEvidence + timeout);
    return bound === Infinity ? { end: null, inferred: false } : { end: bound, inferred: true };
  }

  private listOf(resource: string): Chain[] {
    let list = this.resources.get(resource);
    if (list === undefined) {
      list = [];
      this.resources.set(resource, list);
    }
    return list;
  }

  private chain(ev: Event, start: number | undefined, knownEnd: number | null | undefined, evidence: number): Chain {
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
      nextStart: Infinity,
      line: ev.line,
      cadence: undefined,
      queued: false,
      deadline: 0,
      done: false,
    };
  }

  private begin(c: Chain, start: number, knownEnd: number | null | undefined, fields: RecordTemplate): void {
    c.start = start;
    c.startDerived = false;
    if (knownEnd !== undefined) c.knownEnd = knownEnd;
    c.lastGrant = start;
    if (start > c.lastEvidence) c.lastEvidence = start;
    fill(c.fields, fields);
  }

  private open(list: Chain[], ev: Event, start: number, knownEnd: number | null | undefined, evidence: number, cadence: Cadence | undefined): void {
    const c = this.chain(ev, start, knownEnd, evidence);
    c.cadence = cadence;
    list.push(c);
    // The resource changed hands at `start`: what began before it can end no later; if
    // something already began after it (a late line), this one ends no later than that.
    for (const o of list) {
      if (o === c || o.done || o.start === undefined) continue;
      if (o.start <= start) {
        if (start < o.nextStart) o.nextStart = start;
        this.enqueue(o);
      } else {
        if (o.start < c.nextStart) c.nextStart = o.start;
        this.enqueue(c);
      }
    }
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
    if (end !== undefined) this.ends.push(end, c);
  }

  private enqueue(c: Chain): void {
    if (c.queued || c.done) return;
    c.queued = true;
    c.deadline = this.maxSeen + this.options.reorderWindowMs;
    this.queue.push(c);
  }

  private finalize(c: Chain, atEnd: boolean): void {
    if (c.done) return;
    c.done = true;
    const list = this.resources.get(c.resource);
    let next = c.nextStart;
    let nextHolder: string | undefined;
    if (list !== undefined) {
      if (list.length === 1 && list[0] === c) {
        this.resources.delete(c.resource);
      } else {
        const i = list.indexOf(c);
        if (i >= 0) list.splice(i, 1);
        for (const o of list) if (!o.done && o.start !== undefined && c.start !== undefined && o.start > c.start && o.start < next) next = o.start;
        nextHolder = this.nextAccount(list, c, next);
        if (list.length === 0) this.resources.delete(c.resource);
      }
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
    void atEnd;
    const { end, inferred, regranted } = this.endOf(c, next, true, nextHolder);
    if (regranted === true) {
      this.options.collector.problem(
        c.stopLine ?? c.line,
        '',
        LINE_REASONS.STOP_AFTER_REGRANT,
        `${c.holder} released ${c.resource} at ${formatInstant(c.stopAt!)}, but it was granted to the next holder at ${formatInstant(end!)}: the source shows two holders at once; stored ended at that grant (endInferred)`,
        c.resource,
      );
    }
    if (end !== null) {
      const e = { holder: c.holder, start, end: Math.max(end, start) };
      if (inferred && end === next && c.stopAt === undefined) this.regranted.set(c.resource + '\n' + c.holder, e);
      const had = this.emitted.get(c.resource);
      if (had === undefined || had.end <= e.end) this.emitted.set(c.resource, e);
    }
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
