/**
 * Overlaps as data-quality findings (issue 16 item 6): two inside hosts given the same
 * outside ports (one port block, or overlapping blocks on one outside address) at the same
 * time, or one address allocated to two accounts at the same time. Vendors have shipped
 * bugs that do exactly this; the records are then a fault of the source, not two customers
 * sharing. One pure finder serves the ingest summary, `ipar coverage` (over any backend's
 * export) and the resolver's `SOURCE_OVERLAP` flag, so all three see the same overlaps.
 *
 * @example
 * const f = new OverlapFinder();
 * for (const r of records) f.add(r);
 * f.overlaps(); // [{ kind: 'nat-block', resource: '203.0.113.7:1024-1535', a: …, b: …, from, to }]
 */
import type { AllocationRecord, CanonicalRecord, NatBlockRecord } from '../records.js';
import { formatInstant } from '../time.js';

/** One record of an overlap, as the findings name it. */
export interface OverlapSide {
  readonly id?: string;
  /** The inside host (`realm|inside address`) of a block, the account of an allocation. */
  readonly holder: string;
  readonly realm?: string;
  /** The port range of a block (`1024-1535`), the address of an allocation. */
  readonly held: string;
  readonly start: number;
  readonly end: number | null;
  readonly endInferred: boolean;
}

export interface Overlap {
  readonly kind: 'nat-block' | 'allocation';
  /** The outside address (and protocol) of blocks, the address of allocations. */
  readonly resource: string;
  /** The time both held it: `[from, to)`, `to: null` while both are open. */
  readonly from: number;
  readonly to: number | null;
  readonly a: OverlapSide;
  readonly b: OverlapSide;
}

interface Entry {
  readonly side: OverlapSide;
  readonly protocol?: string;
  readonly portFirst: number;
  readonly portLast: number;
}

type Blockish = Pick<NatBlockRecord, 'realm' | 'insideIp' | 'outsideIp' | 'portFirst' | 'portLast' | 'protocol' | 'start' | 'end' | 'endInferred'> & {
  readonly id?: string;
};
type Allocationish = Pick<AllocationRecord, 'account' | 'ip' | 'realm' | 'start' | 'end' | 'endInferred'> & { readonly id?: string };

const ends = (e: number | null): number => (e === null ? Infinity : e);

/** Collects port blocks and allocations, then lists the overlaps among them (each pair once). */
export class OverlapFinder {
  private readonly groups = new Map<string, { kind: Overlap['kind']; resource: string; entries: Entry[] }>();

  /** Any canonical record; only port blocks and allocations are kept. */
  add(record: CanonicalRecord & { readonly id?: string }): void {
    if (record.kind === 'nat-block') this.addBlock(record);
    else if (record.kind === 'allocation') this.addAllocation(record);
  }

  addBlock(b: Blockish): void {
    const resource = b.outsideIp.text;
    const side: OverlapSide = {
      ...(b.id === undefined ? {} : { id: b.id }),
      holder: `${b.realm}|${b.insideIp.text}`,
      realm: b.realm,
      held: `${b.portFirst}-${b.portLast}${b.protocol === undefined ? '' : '/' + b.protocol}`,
      start: b.start,
      end: b.end,
      endInferred: b.endInferred === true,
    };
    this.entry('nat-block', resource, { side, ...(b.protocol === undefined ? {} : { protocol: b.protocol }), portFirst: b.portFirst, portLast: b.portLast });
  }

  addAllocation(a: Allocationish): void {
    // Allocations in different realms are different address spaces (inside addresses repeat).
    const resource = a.realm === undefined ? a.ip.text : `${a.realm}|${a.ip.text}`;
    const side: OverlapSide = {
      ...(a.id === undefined ? {} : { id: a.id }),
      holder: a.account,
      ...(a.realm === undefined ? {} : { realm: a.realm }),
      held: a.ip.text,
      start: a.start,
      end: a.end,
      endInferred: a.endInferred === true,
    };
    this.entry('allocation', resource, { side, portFirst: 0, portLast: 65535 });
  }

  private entry(kind: Overlap['kind'], resource: string, e: Entry): void {
    const key = kind + '\n' + resource;
    let g = this.groups.get(key);
    if (g === undefined) {
      g = { kind, resource, entries: [] };
      this.groups.set(key, g);
    }
    g.entries.push(e);
  }

  /** Every pair of different holders whose intervals and ports intersect, in resource and time order. */
  overlaps(): Overlap[] {
    const out: Overlap[] = [];
    for (const g of [...this.groups.values()].sort((x, y) => (x.kind + x.resource < y.kind + y.resource ? -1 : 1))) {
      const sorted = [...g.entries].sort(
        (x, y) => x.side.start - y.side.start || ends(x.side.end) - ends(y.side.end) || (x.side.holder < y.side.holder ? -1 : 1),
      );
      // Sweep in start order: `active` holds what has not ended by the current start.
      let active: Entry[] = [];
      for (const e of sorted) {
        active = active.filter((o) => ends(o.side.end) > e.side.start);
        if (ends(e.side.end) > e.side.start) {
          for (const o of active) {
            if (o.side.holder === e.side.holder) continue;
            if (o.portLast < e.portFirst || e.portLast < o.portFirst) continue;
            if (o.protocol !== undefined && e.protocol !== undefined && o.protocol !== e.protocol) continue;
            const to = Math.min(ends(o.side.end), ends(e.side.end));
            out.push({ kind: g.kind, resource: g.resource, from: e.side.start, to: to === Infinity ? null : to, a: o.side, b: e.side });
          }
          active.push(e);
        }
      }
    }
    return out;
  }
}

/** One line naming both records (for problems, flags and the coverage table). */
export function describeOverlap(o: Overlap): string {
  const span = `${formatInstant(o.from)}–${o.to === null ? 'open' : formatInstant(o.to)}`;
  const side = (s: OverlapSide) =>
    `${s.holder} ${s.held} ${formatInstant(s.start)}–${s.end === null ? 'open' : formatInstant(s.end)}${s.endInferred ? ' (end inferred)' : ''}${s.id === undefined ? '' : ` [${s.id}]`}`;
  const what = o.kind === 'nat-block' ? `outside ports of ${o.resource}` : `address ${o.resource}`;
  return `${what} held by two at once ${span}: ${side(o.a)} and ${side(o.b)}`;
}

/** An overlap as JSON values (instants as ISO strings), as `ipar coverage --json` and the ingest summary print it. */
export function overlapJson(o: Overlap) {
  const side = (s: OverlapSide) => ({
    ...(s.id === undefined ? {} : { id: s.id }),
    holder: s.holder,
    held: s.held,
    start: formatInstant(s.start),
    end: s.end === null ? null : formatInstant(s.end),
    ...(s.endInferred ? { endInferred: true } : {}),
  });
  return { kind: o.kind, resource: o.resource, from: formatInstant(o.from), to: o.to === null ? null : formatInstant(o.to), records: [side(o.a), side(o.b)] };
}
