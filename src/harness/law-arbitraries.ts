/**
 * How the laws' requests are made (see laws.ts): the ways a time is written, requests
 * rewritten from a world's ground truth, and observations aimed at the edges of its records.
 */
import fc from 'fast-check';
import { writeTime } from '../../nat/observe.js';
import { IparError } from '../problems.js';
import type { RequestInput } from '../request.js';
import { PRECISION_MS, type Precision } from '../time.js';
import { MAX_CANDIDATES, type World } from './world.js';

/** Which requests a law is checked on. */
export interface LawDomain {
  /** Observations per request, a prefix of a simulated request's (default 1–4). */
  readonly observations?: { readonly min: number; readonly max: number };
  /**
   * Write every time of a request the same wrong way, as real sources do: an offset an
   * hour off, UK wall-clock time labelled UTC, or a 12-hour clock (declared
   * `12h-ambiguous`). Outside the laws' preconditions: for showing what is flagged.
   */
  readonly misread?: boolean;
}

// ---- how a request is written -----------------------------------------------------------

const TOLERANCES = [0, 1, 2, 5, 60] as const;
const MISREADINGS = ['plus-1h', 'minus-1h', 'as-utc', '12h'] as const;
type Misreading = (typeof MISREADINGS)[number];

export interface Writing {
  readonly precision: Precision;
  /** `offset`: ISO with `offsetMinutes`; `local`: `{local, timeZone: 'Europe/London'}`. */
  readonly form: 'offset' | 'local';
  readonly offsetMinutes: number;
  /** The authority's clock error as a share of the tolerance, −1 to 1. */
  readonly skew: number;
  readonly toleranceSeconds: number;
  readonly port: boolean;
  readonly destination: boolean;
  readonly identifiers: boolean;
  readonly misread: Misreading | null;
}

export const offsetArb = fc.integer({ min: -56, max: 56 }).map((q) => q * 15);

export function writingArb(misread: boolean): fc.Arbitrary<Writing> {
  return fc.record({
    precision: fc.constantFrom<Precision>('ms', 's', 'min'),
    form: fc.constantFrom('offset' as const, 'offset' as const, 'local' as const),
    offsetMinutes: fc.oneof(fc.constant(0), offsetArb),
    skew: fc.oneof(fc.constant(0), fc.constantFrom(-1, 1), fc.double({ min: -1, max: 1, noNaN: true })),
    toleranceSeconds: fc.constantFrom(...TOLERANCES),
    port: fc.boolean(),
    destination: fc.boolean(),
    identifiers: fc.boolean(),
    misread: misread ? fc.constantFrom(...MISREADINGS) : fc.constant(null),
  });
}

/**
 * An instant written in ISO 8601 with a given offset, truncated to the precision.
 *
 * @example
 * isoWithOffset(Date.UTC(2026, 2, 28, 10, 0, 0, 123), 's', 90); // '2026-03-28T11:30:00+01:30'
 */
export function isoWithOffset(ms: number, precision: Precision, offsetMinutes: number): string {
  const unit = PRECISION_MS[precision];
  const wall = new Date(Math.floor(ms / unit) * unit + offsetMinutes * 60_000).toISOString();
  const body = wall.slice(0, precision === 'ms' ? 23 : precision === 's' ? 19 : 16);
  if (offsetMinutes === 0) return body + 'Z';
  const m = Math.abs(offsetMinutes);
  return `${body}${offsetMinutes < 0 ? '-' : '+'}${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}

function writeAt(ms: number, w: Writing): RequestInput['observations'][number]['time'] {
  const how = { precision: w.precision, clock12h: false, timeZone: 'Europe/London' } as const;
  switch (w.misread) {
    case 'plus-1h':
    case 'minus-1h':
      return writeTime(ms, { ...how, zone: 'offset-off-by-one', offsetShiftMinutes: w.misread === 'plus-1h' ? 60 : -60 });
    case 'as-utc':
      return writeTime(ms, { ...how, zone: 'as-utc' });
    case '12h':
      return writeTime(ms, { ...how, zone: 'utc', clock12h: true });
    case null:
      return w.form === 'local' ? writeTime(ms, { ...how, zone: 'local' }) : isoWithOffset(ms, w.precision, w.offsetMinutes);
  }
}

// ---- cases ------------------------------------------------------------------------------

/** A simulated request of a world, rewritten from its truth: its first `count` observations. */
export interface TruthCase {
  readonly world: number;
  readonly request: number;
  readonly count: number;
  readonly writing: Writing;
}

export function truthCaseArb(worlds: readonly World[], domain: LawDomain): fc.Arbitrary<TruthCase> {
  const min = domain.observations?.min ?? 1;
  const max = domain.observations?.max ?? 4;
  const eligible = worlds.map((w) => w.truth.flatMap((t, i) => (t.observations.length >= min ? [i] : [])));
  const usable = eligible.flatMap((list, w) => (list.length > 0 ? [w] : []));
  if (usable.length === 0) throw new IparError('HARNESS_NO_CASES', `no simulated request has ${min} or more observations`);
  return fc.constantFrom(...usable).chain((w) =>
    fc.nat({ max: eligible[w]!.length - 1 }).chain((k) => {
      const request = eligible[w]![k]!;
      const n = worlds[w]!.truth[request]!.observations.length;
      return fc.record({
        world: fc.constant(w),
        request: fc.constant(request),
        count: fc.integer({ min, max: Math.max(min, Math.min(max, n)) }),
        writing: writingArb(domain.misread === true),
      });
    }),
  );
}

/** Build the request a truth case describes; `order` permutes its observations. */
export function truthRequest(world: World, c: TruthCase, order?: readonly number[], writing: Writing = c.writing): RequestInput {
  const sim = world.requests[c.request]!;
  const truth = world.truth[c.request]!;
  const skewMs = Math.round(c.writing.skew * c.writing.toleranceSeconds * 1000);
  const observations = truth.observations.slice(0, c.count).map((o, i) => {
    const asked = sim.observations[i]!;
    return {
      sourceIp: o.sourceIp,
      ...(writing.port ? { sourcePort: o.sourcePort } : {}),
      time: writeAt(Date.parse(o.time) + skewMs, writing),
      ...(writing.destination && asked.destinationIp !== undefined
        ? {
            destinationIp: asked.destinationIp,
            ...(asked.destinationPort === undefined ? {} : { destinationPort: asked.destinationPort }),
            ...(asked.protocol === undefined ? {} : { protocol: asked.protocol }),
          }
        : {}),
      ...(writing.misread === '12h' ? { clock: '12h-ambiguous' as const } : {}),
    };
  });
  return {
    ref: `${world.name}/${truth.ref}`,
    observations: order === undefined ? observations : order.map((i) => observations[i]!),
    toleranceSeconds: writing.toleranceSeconds,
    ...(writing.identifiers && sim.identifiers !== undefined ? { identifiers: { ...sim.identifiers } } : {}),
    returnPolicy: 'allow-multiple',
    maxCandidates: MAX_CANDIDATES,
  };
}

/** Something in a world an observation can be aimed at: an address, its ports, an interval. */
export interface Target {
  readonly ip: string;
  readonly ports: readonly [number, number] | null;
  readonly start: number;
  readonly end: number | null;
  readonly destination: {
    readonly destinationIp: string;
    readonly destinationPort: number;
    readonly protocol: NonNullable<RequestInput['observations'][number]['protocol']>;
  } | null;
}

export function targetsOf(world: World): Target[] {
  const out: Target[] = [];
  const ms = (t: string | null | undefined) => (t === null || t === undefined ? null : Date.parse(t));
  for (const r of world.records) {
    if (r.kind === 'allocation' && r.realm === undefined && !r.ip.includes('/'))
      out.push({ ip: r.ip, ports: null, start: ms(r.start)!, end: ms(r.end), destination: null });
    else if (r.kind === 'nat-block') out.push({ ip: r.outsideIp, ports: [r.portFirst, r.portLast], start: ms(r.start)!, end: ms(r.end), destination: null });
    else if (r.kind === 'nat-session') {
      const destination =
        r.destinationIp === undefined || r.destinationPort === undefined
          ? null
          : { destinationIp: r.destinationIp, destinationPort: r.destinationPort, protocol: r.protocol };
      out.push({ ip: r.outsideIp, ports: [r.outsidePort, r.outsidePort], start: ms(r.start)!, end: ms(r.end), destination });
    }
  }
  for (const t of world.truth)
    for (const o of t.observations) out.push({ ip: o.sourceIp, ports: [o.sourcePort, o.sourcePort], start: Date.parse(o.time), end: null, destination: null });
  return out;
}

/** An observation aimed near a record's edge (or a true event), written any valid way. */
export interface AimedObservation {
  readonly target: number;
  readonly edge: 'start' | 'end';
  readonly deltaMs: number;
  readonly precision: Precision;
  readonly offsetMinutes: number;
  readonly port: 'none' | 'held' | 'next';
  readonly portPick: number;
  readonly destination: boolean;
}

export interface AimedCase {
  readonly world: number;
  readonly observations: readonly AimedObservation[];
  readonly toleranceSeconds: number;
  /** An allocation carrying identifiers, and which of them to give. */
  readonly identifiers: { readonly allocation: number; readonly kind: number } | null;
}

const DELTAS = [-61_000, -60_000, -1000, -1, 0, 1, 999, 1000, 59_999, 60_000] as const;

export function aimedCaseArb(worlds: readonly World[], targets: readonly Target[][], withIds: readonly number[][]): fc.Arbitrary<AimedCase> {
  return fc.nat({ max: worlds.length - 1 }).chain((w) => {
    // Half at a record's edge, half at a true event (records come first in the list).
    const edges = targets[w]!.length - worlds[w]!.truth.reduce((n, t) => n + t.observations.length, 0);
    const target =
      edges > 0 && edges < targets[w]!.length
        ? fc.oneof(fc.nat({ max: edges - 1 }), fc.integer({ min: edges, max: targets[w]!.length - 1 }))
        : fc.nat({ max: targets[w]!.length - 1 });
    const obs = fc.record({
      target,
      edge: fc.constantFrom('start' as const, 'end' as const),
      deltaMs: fc.constantFrom(...DELTAS),
      precision: fc.constantFrom<Precision>('ms', 's', 'min'),
      offsetMinutes: fc.oneof(fc.constant(0), offsetArb),
      port: fc.constantFrom('none' as const, 'held' as const, 'held' as const, 'next' as const),
      portPick: fc.nat(),
      destination: fc.boolean(),
    });
    // Later observations often aim at the first one's target again, so intersections are not all empty.
    const observations = fc
      .tuple(obs, fc.array(fc.tuple(fc.boolean(), obs), { maxLength: 2 }))
      .map(([first, rest]) => [first, ...rest.map(([same, o]) => (same ? { ...o, target: first.target } : o))]);
    return fc.record({
      world: fc.constant(w),
      observations,
      toleranceSeconds: fc.constantFrom(...TOLERANCES),
      // Identifiers of a random allocation, now and then: they usually exclude everyone else.
      identifiers:
        withIds[w]!.length === 0
          ? fc.constant(null)
          : fc.oneof(
              { weight: 4, arbitrary: fc.constant(null) },
              { weight: 1, arbitrary: fc.record({ allocation: fc.constantFrom(...withIds[w]!), kind: fc.nat({ max: 3 }) }) },
            ),
    });
  });
}

export const ID_KINDS = ['imsi', 'msisdn', 'imei', 'mac'] as const;

export function aimedRequest(world: World, targets: readonly Target[], c: AimedCase): RequestInput {
  const observations = c.observations.map((o) => {
    const t = targets[o.target]!;
    const at = (o.edge === 'end' && t.end !== null ? t.end : t.start) + o.deltaMs;
    const port =
      o.port === 'none' || t.ports === null
        ? undefined
        : o.port === 'next'
          ? Math.min(65535, t.ports[1] + 1)
          : t.ports[0] + (o.portPick % (t.ports[1] - t.ports[0] + 1));
    return {
      sourceIp: t.ip,
      time: isoWithOffset(at, o.precision, o.offsetMinutes),
      ...(port === undefined ? {} : { sourcePort: port }),
      ...(o.destination && t.destination !== null ? { ...t.destination } : {}),
    };
  });
  let identifiers: RequestInput['identifiers'];
  if (c.identifiers !== null) {
    const a = world.records[c.identifiers.allocation]!;
    if (a.kind === 'allocation') {
      const kinds = ID_KINDS.filter((k) => a[k] !== undefined);
      const kind = kinds[c.identifiers.kind % kinds.length]!;
      identifiers = { [kind]: a[kind]! };
    }
  }
  return {
    ref: `${world.name}/aimed`,
    observations,
    toleranceSeconds: c.toleranceSeconds,
    ...(identifiers === undefined ? {} : { identifiers }),
    returnPolicy: 'allow-multiple',
    maxCandidates: MAX_CANDIDATES,
  };
}
