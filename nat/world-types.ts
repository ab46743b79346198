/**
 * The simulated operator's settings and what it yields (see world.ts): records, the
 * requests an authority sends, their ground truth, and who held which address when.
 */
import type { CanonicalRecordInput } from '../src/records.js';
import type { Precision } from '../src/time.js';
import type { DateError, ZoneWriting } from './observe.js';
import type { SessionProtocol } from './session.js';

export type Segment = 'dhcp' | 'pd' | 'det' | 'pba' | 'ses' | 'wifi';
export const SEGMENTS: readonly Segment[] = ['dhcp', 'pd', 'det', 'pba', 'ses', 'wifi'];

/** What happened to a logged record on its way to the operator's store. */
export type RecordFate = 'logged' | 'lost-declared' | 'lost-silent' | 'stop-inferred' | 'stop-open' | 'open-at-export';

/** The settings the world reads (nat/simulate.ts validates them). */
export interface WorldConfig {
  readonly profile: string;
  readonly mix: Readonly<Partial<Record<Segment, number>>>;
  readonly subscribers: number;
  readonly startMs: number;
  readonly days: number;
  readonly requests: number;
  readonly observationsPerRequest: { readonly min: number; readonly max: number };
  readonly toleranceSeconds: number;
  readonly noise: {
    readonly clockSkew: number;
    readonly clockSkewMaxSeconds: number;
    readonly sourcePortAbsent: number;
    readonly precisionSecond: number;
    readonly precisionMinute: number;
    readonly zoneAsUtc: number;
    readonly zoneOffsetOffByOne: number;
    readonly localTime: number;
    readonly clock12h: number;
    readonly wrongYear: number;
    readonly wrongDay: number;
    readonly dayMonthSwap: number;
    readonly destinationKnown: number;
    readonly identifiersKnown: number;
    readonly timeZone: string;
  };
  readonly logs: {
    readonly gaps: number;
    readonly gapMeanMinutes: number;
    readonly gapDeclared: number;
    readonly missingStop: number;
    readonly missingStopMode: 'inferred' | 'open' | 'mixed';
    readonly inferredTimeoutSeconds: number;
  };
  readonly nat: {
    readonly blockSize: number;
    readonly maxBlocksPerSubscriber: number;
    readonly quarantineSeconds: number;
    readonly deterministic: 'rfc7422' | 'vpp-det44' | 'juniper-deterministic';
    readonly dynamicShares: number;
  };
}

/** An observation as an authority's request carries it (DESIGN.md, "Requests"). */
export interface SimObservation {
  readonly sourceIp: string;
  readonly sourcePort?: number;
  readonly time: string | { readonly local: string; readonly timeZone: string };
  readonly destinationIp?: string;
  readonly destinationPort?: number;
  readonly protocol?: SessionProtocol;
  readonly clock?: '12h-ambiguous' | 'date-ambiguous';
}

export interface SimRequest {
  readonly ref: string;
  readonly observations: readonly SimObservation[];
  readonly toleranceSeconds: number;
  readonly identifiers?: { readonly imsi?: string; readonly msisdn?: string; readonly imei?: string; readonly mac?: string };
}

/** How one request's times and fields were distorted (one recipe for all its observations). */
export interface RequestNoise {
  readonly skewMs: number;
  readonly sourcePort: boolean;
  readonly precision: Precision;
  readonly zone: ZoneWriting;
  readonly offsetShiftMinutes?: 60 | -60;
  readonly clock12h: boolean;
  /** How the date was miswritten, when it was (the request then declares `date-ambiguous`). */
  readonly date?: DateError;
  readonly destination: boolean;
  readonly identifiers: boolean;
}

export interface TruthObservation {
  /** The true instant, UTC. */
  readonly time: string;
  readonly sourceIp: string;
  readonly sourcePort: number;
  readonly protocol: SessionProtocol;
  readonly realm?: string;
  /** What became of the allocation record behind it. */
  readonly allocation: RecordFate;
  /** What became of the NAT record behind it (absent for public addresses and deterministic shares). */
  readonly nat?: RecordFate;
  /** The true instant falls in a log gap of a source it depends on. */
  readonly inGapWindow: boolean;
}

export interface SimTruth {
  readonly ref: string;
  readonly account: string;
  readonly profile: string;
  readonly segment: Segment;
  readonly noise: RequestNoise;
  readonly observations: readonly TruthObservation[];
  /** The worst log gap effect among its observations. */
  readonly logGap: 'none' | 'window' | 'record-lost-declared' | 'record-lost-silent';
  readonly missingStop: 'none' | 'inferred' | 'open';
}

/** Who held a public address (and ports) when: the simulator's own bookkeeping. */
export interface Holding {
  readonly account: string;
  /** Public address, or delegated prefix. */
  readonly ip: string;
  readonly portFirst?: number;
  readonly portLast?: number;
  /** Set when only this protocol's port space is held (per-session NAT). */
  readonly protocol?: SessionProtocol;
  readonly start: string;
  /** The true end, even past the end of the simulation. */
  readonly end: string;
  readonly via: 'dhcp' | 'dhcpv6-pd' | 'nat-block' | 'nat-session' | 'nat-deterministic' | 'dynamic-share';
  readonly realm?: string;
}

export type SimItem =
  | { readonly stream: 'record'; readonly at: number; readonly value: CanonicalRecordInput }
  | { readonly stream: 'request'; readonly at: number; readonly value: SimRequest }
  | { readonly stream: 'truth'; readonly at: number; readonly value: SimTruth }
  | { readonly stream: 'holding'; readonly at: number; readonly value: Holding };
