/**
 * The indexed interval book against the list-walking book it replaced (pairing-reference.ts):
 * on the same events, after every event and at the end of the file, the same records in
 * the same order, with the same endInferred marks and the same problems. The inputs put
 * many holders on few resources, as a lease database does, in and out of time order.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Collector, type RecordTemplate } from '../../src/ingest/vendors/output.js';
import { IntervalBook } from '../../src/ingest/vendors/pairing.js';
import { propertyRun } from '../support/index.js';
import { IntervalBook as ReferenceBook } from './pairing-reference.js';

const T0 = Date.UTC(2025, 0, 1, 10, 0, 0);
const RESOURCES = ['192.0.2.1', '192.0.2.2', '198.51.100.7'];
/** Holders are `nas|n`; a NAS name holding `|` makes one holder prefix another's (old: prefix match). */
const NASES = ['nas1', 'nas2', 'nas2|1'];
/** What a restart names: the NASes, and one with no sessions. */
const RESTARTS = [...NASES, 'nas9'];

type Op =
  | { kind: 'grant'; r: number; h: number; at: number; end: number | null | undefined; cadence: boolean; mac: boolean }
  | { kind: 'confirm'; r: number; h: number; at: number; startIfNew: number | undefined; cadence: boolean; mac: boolean }
  | { kind: 'stop'; r: number; h: number; at: number; derivedStart: number | undefined; anyHolder: boolean; mac: boolean }
  | { kind: 'retire'; r: number; h: number; at: number; mac: boolean }
  | { kind: 'stopAll'; restart: number; at: number }
  | { kind: 'see'; at: number };

interface Options {
  readonly holdUntilEnd: boolean;
  readonly windowS: number;
  readonly timeoutS: number | undefined;
}

type Book = Pick<IntervalBook, 'grant' | 'confirm' | 'stop' | 'retire' | 'see' | 'drain'> & {
  /** End of the input: what it releases, then each unfinished interval as it stands. */
  end(): void;
  /** A NAS restart: every open interval whose holder starts with `prefix|`. */
  restart(at: number, prefix: string): void;
};

/** What a book emitted after each event and at the end, as comparable text. */
function play(make: (collector: Collector) => Book, ops: readonly Op[]): { steps: string[]; records: number } {
  const out = new Collector();
  const book = make(out);
  const steps: string[] = [];
  let records = 0;
  const take = (step: string) => {
    const o = out.take();
    records += o.records.length;
    steps.push(`${step}: ${JSON.stringify(o.records)} ${JSON.stringify(o.problems)}`);
  };
  ops.forEach((op, i) => {
    const line = i + 1;
    const at = T0 + op.at * 1000;
    if (op.kind === 'see') book.see(at);
    else if (op.kind === 'stopAll') book.restart(at, RESTARTS[op.restart]!);
    else {
      const resource = RESOURCES[op.r]!;
      const holder = `${NASES[op.h % NASES.length]!}|${op.h}`;
      // Each book takes its templates over (they become its records): one object per book.
      const fields: RecordTemplate = { kind: 'allocation', account: holder, ip: resource, source: 'test', ...(op.mac ? { mac: '02:00:5e:00:00:01' } : {}) };
      const ev = { resource, holder, fields, line, at };
      const cadence = { source: `radius:${NASES[op.h % NASES.length]!}`, intervalMs: 120_000 };
      if (op.kind === 'grant') {
        book.grant({ ...ev, ...(op.end === undefined ? {} : { knownEnd: op.end === null ? null : T0 + op.end * 1000 }), ...(op.cadence ? { cadence } : {}) });
      } else if (op.kind === 'confirm') {
        book.confirm({ ...ev, ...(op.startIfNew === undefined ? {} : { startIfNew: T0 + op.startIfNew * 1000 }), ...(op.cadence ? { cadence } : {}) });
      } else if (op.kind === 'stop') {
        book.stop({
          ...ev,
          ...(op.derivedStart === undefined ? {} : { derivedStart: T0 + op.derivedStart * 1000 }),
          ...(op.anyHolder ? { anyHolder: true } : {}),
        });
      } else {
        book.retire(ev);
      }
    }
    book.drain();
    take(`line ${line}`);
  });
  book.end();
  // The unfinished intervals' order is not a contract (a store keys them): compared as a set.
  const o = out.take();
  records += o.records.length;
  steps.push(`end: ${JSON.stringify(o.records.map((r) => JSON.stringify(r)).sort())} ${JSON.stringify(o.problems)}`);
  return { steps, records };
}

function both(ops: readonly Op[], o: Options): { indexed: { steps: string[]; records: number }; reference: { steps: string[]; records: number } } {
  const options = (collector: Collector) => ({
    collector,
    reorderWindowMs: o.windowS * 1000,
    timeoutMs: o.timeoutS === undefined ? undefined : o.timeoutS * 1000,
    holdUntilEnd: o.holdUntilEnd,
  });
  return {
    indexed: play(
      (c) =>
        Object.assign(new IntervalBook(options(c)), {
          restart(this: IntervalBook, at: number, prefix: string) {
            this.stopAll(at, prefix);
          },
          end(this: IntervalBook) {
            for (const r of this.suspend(true).provisional) c.record(r);
          },
        }),
      ops,
    ),
    // The reference took a predicate over the holder; freeradius-detail passed this one.
    reference: play(
      (c) =>
        Object.assign(new ReferenceBook(options(c)), {
          restart(this: ReferenceBook, at: number, prefix: string) {
            this.stopAll(at, (holder) => holder.startsWith(prefix + '|'));
          },
          end(this: ReferenceBook) {
            this.suspend();
          },
        }),
      ops,
    ),
  };
}

/**
 * Events on a clock that mostly moves forward (`step`) with some lines late or early
 * (`jitter`); `few` holders per resource make renewals and stops meet their grants, many
 * make the long per-resource lists the index is for.
 */
function opsArbitrary(resources: number, holders: number): fc.Arbitrary<Op[]> {
  const r = fc.integer({ min: 0, max: resources - 1 });
  const h = fc.integer({ min: 0, max: holders - 1 });
  const span = fc.integer({ min: 0, max: 900 });
  const kind = fc.oneof(
    {
      weight: 6,
      arbitrary: fc.record({
        kind: fc.constant('grant' as const),
        r,
        h,
        end: fc.oneof(fc.constant(undefined), fc.constant(null), span),
        cadence: fc.boolean(),
        mac: fc.boolean(),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('confirm' as const),
        r,
        h,
        startIfNew: fc.option(span, { nil: undefined }),
        cadence: fc.boolean(),
        mac: fc.boolean(),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('stop' as const),
        r,
        h,
        derivedStart: fc.option(span, { nil: undefined }),
        anyHolder: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
        mac: fc.boolean(),
      }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('retire' as const), r, h, mac: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('stopAll' as const), restart: fc.integer({ min: 0, max: RESTARTS.length - 1 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('see' as const) }) },
  );
  const step = fc.record({ op: kind, step: fc.integer({ min: 0, max: 30 }), jitter: fc.oneof(fc.constant(0), fc.integer({ min: -600, max: 600 })) });
  return fc.array(step, { minLength: 1, maxLength: 250, size: 'max' }).map((steps) => {
    let clock = 1000;
    return steps.map(({ op, step: dt, jitter }): Op => {
      clock += dt;
      const at = clock + jitter;
      // Spans (lease lengths, durations) are relative: an end after, a derived start before.
      if (op.kind === 'grant') return { ...op, at, end: typeof op.end === 'number' ? at + op.end : op.end };
      if (op.kind === 'confirm') return { ...op, at, startIfNew: op.startIfNew === undefined ? undefined : at - op.startIfNew };
      if (op.kind === 'stop') return { ...op, at, derivedStart: op.derivedStart === undefined ? undefined : at - op.derivedStart };
      return { ...op, at };
    });
  });
}

const optionsArbitrary: fc.Arbitrary<Options> = fc.record({
  holdUntilEnd: fc.boolean(),
  windowS: fc.oneof(fc.constant(0), fc.constant(10), fc.integer({ min: 0, max: 300 })),
  timeoutS: fc.option(fc.integer({ min: 30, max: 1800 }), { nil: undefined }),
});

const grant = (h: number, at: number, end?: number | null, r = 0): Op => ({ kind: 'grant', r, h, at, end, cadence: false, mac: false });
const stop = (h: number, at: number, derivedStart?: number, anyHolder = false): Op => ({ kind: 'stop', r: 0, h, at, derivedStart, anyHolder, mac: false });
const confirm = (h: number, at: number, startIfNew?: number): Op => ({ kind: 'confirm', r: 0, h, at, startIfNew, cadence: false, mac: false });

describe('IntervalBook against the list-walking reference: edges where order and caps are easy to get wrong', () => {
  const cases: { name: string; ops: Op[] }[] = [
    {
      // C's grant starts after B's moved start and before A's: the walk queues C where A sits, then B.
      name: 'a late renewal moves the newest lease before an older one, then a grant between them',
      ops: [grant(0, 100, 1000), grant(1, 150, 1000), grant(1, 50, 1000), grant(2, 70, 1000)],
    },
    { name: 'grants in reverse time order', ops: [grant(0, 300, 900), grant(1, 200, 900), grant(2, 100, 900), grant(0, 50, 900)] },
    { name: 'equal starts', ops: [grant(0, 100, 900), grant(1, 100, 900), grant(2, 100), grant(0, 100, 900)] },
    {
      name: 'a stop before its start, then the start, between two other holders',
      ops: [grant(0, 100), stop(1, 400), grant(2, 300), grant(1, 200), stop(2, 500)],
    },
    { name: 'a logged start replaces a derived one and moves past another holder', ops: [stop(0, 400, 100), grant(1, 150), grant(0, 200), grant(2, 300)] },
    { name: 'an interim implies an earlier start than its grant', ops: [grant(0, 500), grant(1, 300), confirm(0, 600, 100), grant(2, 400)] },
    { name: 'a stop that names no holder ends whoever holds the address', ops: [grant(0, 100), grant(1, 50), stop(9, 200, undefined, true), grant(2, 300)] },
    {
      name: 'a deleted lease, then the address to another client before its known end',
      ops: [grant(0, 100, 1000), { kind: 'retire', r: 0, h: 0, at: 300, mac: false }, grant(1, 200, 900), grant(0, 250, 800)],
    },
    {
      name: 'a restart of one NAS among holders of several',
      ops: [grant(0, 100), grant(1, 120), grant(3, 130), { kind: 'stopAll', restart: 0, at: 200 }, grant(2, 210)],
    },
    {
      // Resource 0 was seen first, so its session stops first though resource 1's began earlier.
      name: 'a restart stops sessions address by address, in the order the addresses were first seen',
      ops: [
        grant(1, 100),
        grant(0, 110, undefined, 1),
        grant(3, 120),
        { kind: 'stopAll', restart: 0, at: 200 },
        grant(2, 210, undefined, 1),
        grant(5, 220),
        { kind: 'stopAll', restart: 1, at: 300 },
      ],
    },
  ];
  for (const holdUntilEnd of [true, false]) {
    it.each(cases)(`$name (${holdUntilEnd ? 'held to the end of the file' : 'emitted as the log goes'})`, ({ ops }) => {
      const { indexed, reference } = both(ops, { holdUntilEnd, windowS: 10, timeoutS: undefined });
      expect(indexed.records).toBeGreaterThan(0);
      expect(indexed.steps).toEqual(reference.steps);
    });
  }
});

describe('IntervalBook against the list-walking reference', () => {
  for (const [resources, holders] of [
    [1, 3],
    [1, 12],
    [3, 40],
  ] as const) {
    const law = `same records in the same order (determinism against the reference), ${holders} holders on ${resources} resource${resources === 1 ? '' : 's'}`;
    it(law, () => {
      fc.assert(
        fc.property(opsArbitrary(resources, holders), optionsArbitrary, (ops, o) => {
          const { indexed, reference } = both(ops, o);
          expect(indexed.steps).toEqual(reference.steps);
        }),
        propertyRun(law, 300),
      );
    });
  }

  it('same records in the same order on a lease file of 400 clients per address, rows in and out of time order', () => {
    // A Kea-like journal held to the end of the file: 12,000 rows over 3 addresses, each
    // row a client of 400, a deletion or a client from anywhere now and then, a tenth of
    // the rows up to two hours late.
    let state = 7;
    const next = (n: number) => {
      state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
      return state % n;
    };
    const ops: Op[] = [];
    for (let i = 0; i < 12_000; i++) {
      const r = i % RESOURCES.length;
      const at = 1000 + i * 2 - (next(10) === 0 ? next(4000) : 0);
      const roll = next(20);
      if (roll === 0) ops.push({ kind: 'retire', r, h: next(400), at, mac: true });
      else
        ops.push({
          kind: 'grant',
          r,
          h: roll === 1 ? next(400) : Math.floor(i / RESOURCES.length) % 400,
          at,
          end: roll === 2 ? null : at + 600,
          cadence: false,
          mac: true,
        });
    }
    const { indexed, reference } = both(ops, { holdUntilEnd: true, windowS: 10, timeoutS: undefined });
    expect(indexed.records).toBeGreaterThan(9_000);
    expect(indexed.steps).toEqual(reference.steps);
  });
});
