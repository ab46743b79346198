/**
 * The operator simulator (issue 5): a deterministic, streaming model of an operator's
 * address allocation and CGNAT tables, with the ground truth the accuracy harness
 * scores the matcher against. `simulate(config, seed)` is a pure function of its
 * arguments: the same config and seed give the same bytes, and the truth comes from the
 * simulator's own bookkeeping, never from running a matcher (STYLE.md item 6).
 *
 * Public space is documentation space only (192.0.2.0/24, 198.51.100.0/24,
 * 203.0.113.0/24, 2001:db8::/32) and CGNAT inside space is 100.64.0.0/10; see
 * {@link PLAN}. IPv4 documentation space holds 768 addresses, so the public-DHCP
 * profile serves at most 254 subscribers online at once (the rest queue for a lease);
 * the CGNAT profiles are the ones that scale.
 */
import { createWriteStream, fchmodSync, openSync, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { z } from 'zod';
import type { CanonicalRecordInput } from '../src/records.js';
import { instantMs } from '../src/records.js';
import { IparError, problemsFromZod, type Problem } from '../src/problems.js';
import { DETERMINISTIC_ALGORITHMS } from './deterministic.js';
import { runWorld, type Holding, type Segment, type SimItem, type SimRequest, type SimTruth, type WorldConfig } from './world.js';

export { PLAN } from './world.js';
export type { Holding, RecordFate, RequestNoise, Segment, SimItem, SimObservation, SimRequest, SimTruth, TruthObservation } from './world.js';

/** Profile names, for the CLI's `--profile`. */
export const PROFILE_NAMES = [
  'fixed-dhcp',
  'mobile-cgnat-blocks',
  'mobile-cgnat-sessions',
  'deterministic-nat',
  'ipv6-delegated',
  'public-wifi',
  'mixed',
] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

const MIXES: Readonly<Record<ProfileName, Readonly<Partial<Record<Segment, number>>>>> = {
  'fixed-dhcp': { dhcp: 1 },
  'mobile-cgnat-blocks': { pba: 1 },
  'mobile-cgnat-sessions': { ses: 1 },
  'deterministic-nat': { det: 1 },
  'ipv6-delegated': { pd: 1 },
  'public-wifi': { wifi: 1 },
  mixed: { dhcp: 0.05, pd: 0.1, det: 0.3, pba: 0.35, ses: 0.1, wifi: 0.1 },
};

/**
 * The profiles and what each is, one line each (for `--help` and the README).
 *
 * @example
 * PROFILES.map((p) => `${p.name}: ${p.description}`).join('\n');
 */
export const PROFILES: readonly { readonly name: ProfileName; readonly description: string }[] = Object.freeze([
  { name: 'fixed-dhcp', description: 'fixed broadband on public DHCP leases from 198.51.100.0/24 (sticky, at most 254 online at once)' },
  {
    name: 'mobile-cgnat-blocks',
    description: 'mobile subscribers behind CGNAT with logged port blocks (PGW sessions with IMSI/MSISDN/IMEI, 100.64.0.0/12 inside)',
  },
  {
    name: 'mobile-cgnat-sessions',
    description: 'mobile subscribers behind CGNAT with a log record per connection (destination, protocol, port reuse after 120 s)',
  },
  {
    name: 'deterministic-nat',
    description: 'fixed broadband behind deterministic NAT (RFC 7422 by default, with logged dynamic shares; or vpp-det44 / juniper)',
  },
  { name: 'ipv6-delegated', description: 'fixed broadband with IPv6 /56 prefixes delegated by DHCPv6-PD from 2001:db8:1000::/36' },
  { name: 'public-wifi', description: 'public Wi-Fi hotspot venues (subscriber type public-wifi, many users behind one account) behind CGNAT port blocks' },
  { name: 'mixed', description: 'a mixed operator: mobile blocks and sessions, deterministic and public-DHCP fixed lines, IPv6 delegation and hotspots' },
]);

const probability = z.number().min(0).max(1);

/** Simulation settings. Everything but `profile`, `subscribers` and `days` has a default. */
export const SimulationConfig = z
  .strictObject({
    profile: z.enum(PROFILE_NAMES),
    subscribers: z.int().min(1).max(500_000),
    days: z.number().positive().max(366),
    /** First instant simulated (ISO with offset); the default week crosses the 2026 BST change. */
    start: z.string().default('2026-03-23T00:00:00Z').pipe(instantMs),
    /**
     * Requests to draw; default min(1000, subscribers). Spread evenly over the segments
     * present; a request whose segment has no activity left before the end is not made.
     */
    requests: z.int().min(0).max(1_000_000).optional(),
    observationsPerRequest: z.strictObject({ min: z.int().min(1).max(64), max: z.int().min(1).max(64) }).prefault({ min: 1, max: 3 }),
    toleranceSeconds: z.number().min(0).max(86_400).default(2),
    /** Per-request chances of each way an authority's data goes wrong. */
    noise: z
      .strictObject({
        clockSkew: probability.default(0.1),
        clockSkewMaxSeconds: z.number().positive().max(86_400).default(30),
        sourcePortAbsent: probability.default(0.15),
        precisionSecond: probability.default(0.5),
        precisionMinute: probability.default(0.1),
        /** Europe/London wall time labelled UTC. */
        zoneAsUtc: probability.default(0.03),
        /** Wall time with an offset one hour off. */
        zoneOffsetOffByOne: probability.default(0.02),
        /** Correct `{local, timeZone}` wall time. */
        localTime: probability.default(0.1),
        /** 12-hour clock without AM/PM (`"clock":"12h-ambiguous"`). */
        clock12h: probability.default(0.02),
        /** The year written one later (a SPoC chose 2019 for 2018), declared `"clock":"date-ambiguous"`. */
        wrongYear: probability.default(0),
        /** The day written one off either way, declared `date-ambiguous`. */
        wrongDay: probability.default(0),
        /** Day and month swapped (only where both are below 13 and differ), declared `date-ambiguous`. */
        dayMonthSwap: probability.default(0),
        destinationKnown: probability.default(0.4),
        identifiersKnown: probability.default(0.1),
        timeZone: z.string().min(1).default('Europe/London'),
      })
      .prefault({}),
    /** What goes wrong in the operator's own logs. */
    logs: z
      .strictObject({
        /** Log gap windows over the period, each on one source (a realm or an allocation source). */
        gaps: z.int().min(0).max(1000).default(2),
        gapMeanMinutes: z.number().positive().default(45),
        /** Share of gaps declared as `coverage` records; the rest are silent. */
        gapDeclared: probability.default(0.5),
        /** Chance that a record's stop is missing (besides stops lost in gaps). */
        missingStop: probability.default(0.01),
        /** `inferred`: end closed at the next timeout step, `endInferred: true`; `open`: `end: null`. */
        missingStopMode: z.enum(['inferred', 'open', 'mixed']).default('mixed'),
        inferredTimeoutSeconds: z.int().min(1).default(3600),
      })
      .prefault({}),
    nat: z
      .strictObject({
        blockSize: z.int().min(1).max(64512).default(512),
        maxBlocksPerSubscriber: z.int().min(1).max(64).default(4),
        /** RFC 6888 REQ-8 asks at least 120 s. */
        quarantineSeconds: z.number().min(0).default(120),
        deterministic: z.enum(DETERMINISTIC_ALGORITHMS as ['rfc7422', 'vpp-det44', 'juniper-deterministic']).default('rfc7422'),
        dynamicShares: z.int().min(0).max(64).default(2),
      })
      .prefault({}),
  })
  .superRefine((v, ctx) => {
    const n = v.noise;
    if (n.precisionSecond + n.precisionMinute > 1)
      ctx.addIssue({
        code: 'custom',
        path: ['noise', 'precisionSecond'],
        message: 'precisionSecond + precisionMinute exceed 1',
        params: { reason: 'OUT_OF_RANGE' },
      });
    if (n.wrongYear + n.wrongDay + n.dayMonthSwap > 1)
      ctx.addIssue({
        code: 'custom',
        path: ['noise', 'wrongYear'],
        message: 'wrongYear + wrongDay + dayMonthSwap exceed 1',
        params: { reason: 'OUT_OF_RANGE' },
      });
    if (n.zoneAsUtc + n.zoneOffsetOffByOne + n.localTime > 1)
      ctx.addIssue({
        code: 'custom',
        path: ['noise', 'zoneAsUtc'],
        message: 'zoneAsUtc + zoneOffsetOffByOne + localTime exceed 1',
        params: { reason: 'OUT_OF_RANGE' },
      });
    if (v.observationsPerRequest.min > v.observationsPerRequest.max) {
      ctx.addIssue({ code: 'custom', path: ['observationsPerRequest', 'min'], message: 'min exceeds max', params: { reason: 'OUT_OF_RANGE' } });
    }
  });

export type SimulationConfig = z.infer<typeof SimulationConfig>;
export type SimulationConfigInput = z.input<typeof SimulationConfig>;

/**
 * Validate simulation settings (the CLI's boundary), with problems as data.
 *
 * @example
 * parseSimulationConfig({ profile: 'mixed', subscribers: 1000, days: 7 }); // { ok: true, value: { … defaults … } }
 */
export function parseSimulationConfig(input: unknown): { ok: true; value: SimulationConfig } | { ok: false; problems: Problem[] } {
  const r = SimulationConfig.safeParse(input);
  return r.success ? { ok: true, value: r.data } : { ok: false, problems: problemsFromZod(r.error, input) };
}

function worldConfig(input: SimulationConfigInput, seed: number): WorldConfig {
  if (!Number.isSafeInteger(seed)) throw new IparError('INVALID_SIMULATION_CONFIG', `the seed must be an integer, got ${seed}`);
  const parsed = parseSimulationConfig(input);
  if (!parsed.ok) throw new IparError('INVALID_SIMULATION_CONFIG', parsed.problems.map((p) => p.message).join('; '));
  const c = parsed.value;
  return {
    profile: c.profile,
    mix: MIXES[c.profile],
    subscribers: c.subscribers,
    startMs: c.start,
    days: c.days,
    requests: c.requests ?? Math.min(1000, c.subscribers),
    observationsPerRequest: c.observationsPerRequest,
    toleranceSeconds: c.toleranceSeconds,
    noise: c.noise,
    logs: c.logs,
    nat: c.nat,
  };
}

/** One simulation, re-run lazily for each stream asked for (same seed, same output). */
export interface Simulation {
  /** Canonical records as written in NDJSON, header first, then in start order. */
  readonly records: Iterable<CanonicalRecordInput>;
  /** Authority requests drawn from true events, with noise. */
  readonly requests: Iterable<SimRequest>;
  /** For each request: the account that truly made it, and the noise applied. */
  readonly truth: Iterable<SimTruth>;
  /** Who held which public address and ports when. */
  readonly holdings: Iterable<Holding>;
  /** Everything in one pass, tagged by stream, in simulated time order. */
  items(): Iterable<SimItem>;
}

interface StreamValues {
  readonly record: CanonicalRecordInput;
  readonly request: SimRequest;
  readonly truth: SimTruth;
  readonly holding: Holding;
}

function only<S extends keyof StreamValues>(config: WorldConfig, seed: number, stream: S): Iterable<StreamValues[S]> {
  function* values(): Generator<StreamValues[S]> {
    for (const item of runWorld(config, seed)) if (item.stream === stream) yield item.value as StreamValues[S];
  }
  return { [Symbol.iterator]: values };
}

/**
 * Simulate an operator. Nothing runs until a stream is iterated; each stream re-runs the
 * simulation, so use {@link Simulation.items} to read several in one pass. Throws an
 * `IparError` (`INVALID_SIMULATION_CONFIG`) for settings {@link parseSimulationConfig}
 * would refuse.
 *
 * @example
 * const sim = simulate({ profile: 'mobile-cgnat-blocks', subscribers: 100, days: 1 }, 42);
 * for (const r of sim.records) store.add(r);
 * const truth = [...sim.truth]; // [{ ref: 'REQ-000001', account: 'ACC-000042', noise: {…}, … }, …]
 */
export function simulate(config: SimulationConfigInput, seed: number): Simulation {
  const wc = worldConfig(config, seed);
  return {
    records: only(wc, seed, 'record'),
    requests: only(wc, seed, 'request'),
    truth: only(wc, seed, 'truth'),
    holdings: only(wc, seed, 'holding'),
    items: () => ({ [Symbol.iterator]: () => runWorld(wc, seed) }),
  };
}

/**
 * The simulated records alone, as a sync and async iterable, for piping into the store.
 * The async form yields to the event loop every few thousand records.
 *
 * @example
 * for await (const record of simulateRecords({ profile: 'mixed', subscribers: 1000, days: 7 }, 1)) await sink(record);
 */
export function simulateRecords(config: SimulationConfigInput, seed: number): Iterable<CanonicalRecordInput> & AsyncIterable<CanonicalRecordInput> {
  const records = simulate(config, seed).records;
  return {
    [Symbol.iterator]: () => records[Symbol.iterator](),
    async *[Symbol.asyncIterator]() {
      let n = 0;
      for (const r of records) {
        yield r;
        if (++n % 4096 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      }
    },
  };
}

export interface WriteSimulationOptions extends SimulationConfigInput {
  readonly seed: number;
  readonly outDir: string;
  /** Also write `holdings.ndjson` (the truth about every holding; as large as the records). */
  readonly holdings?: boolean;
}

export interface SimulationCounts {
  readonly records: number;
  readonly requests: number;
  readonly truth: number;
  readonly holdings: number;
}

export interface SimulationProgress extends SimulationCounts {
  /** Share of the simulated period done, 0–1. */
  readonly fraction: number;
}

class NdjsonSink {
  readonly #stream: WriteStream;
  #buffer: string[] = [];
  #size = 0;
  count = 0;

  constructor(path: string) {
    // Truth and records name who held what: owner-only (0600), also when the file was
    // already there (an earlier run into the same folder) and whatever the umask.
    const fd = openSync(path, 'w', 0o600);
    fchmodSync(fd, 0o600);
    this.#stream = createWriteStream(path, { encoding: 'utf8', fd });
  }

  async write(value: unknown): Promise<void> {
    const line = JSON.stringify(value) + '\n';
    this.#buffer.push(line);
    this.#size += line.length;
    this.count++;
    if (this.#size >= 1 << 18) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.#buffer.length === 0) return;
    const chunk = this.#buffer.join('');
    this.#buffer = [];
    this.#size = 0;
    if (!this.#stream.write(chunk)) await once(this.#stream, 'drain');
  }

  async close(): Promise<void> {
    await this.flush();
    this.#stream.end();
    await finished(this.#stream);
  }
}

/**
 * Write `records.ndjson`, `requests.ndjson` and `truth.ndjson` (and, when asked,
 * `holdings.ndjson`) into `outDir`, streaming; returns the line counts. `onProgress`
 * is called every 50 000 lines and at the end.
 *
 * @example
 * await writeSimulation({ profile: 'mixed', subscribers: 100_000, days: 7, seed: 1, outDir: 'sim' }, (p) => log(p.fraction));
 * // { records: 10595681, requests: 1000, truth: 1000, holdings: 0 } (2.4 GB, ~3.5 min on the dev machine)
 */
export async function writeSimulation(options: WriteSimulationOptions, onProgress?: (progress: SimulationProgress) => void): Promise<SimulationCounts> {
  const { seed, outDir, holdings = false, ...input } = options;
  const wc = worldConfig(input, seed);
  await mkdir(outDir, { recursive: true, mode: 0o700 });
  const sinks = {
    record: new NdjsonSink(join(outDir, 'records.ndjson')),
    request: new NdjsonSink(join(outDir, 'requests.ndjson')),
    truth: new NdjsonSink(join(outDir, 'truth.ndjson')),
    holding: holdings ? new NdjsonSink(join(outDir, 'holdings.ndjson')) : null,
  };
  const span = wc.days * 86_400_000;
  const counts = (): SimulationCounts => ({
    records: sinks.record.count,
    requests: sinks.request.count,
    truth: sinks.truth.count,
    holdings: sinks.holding?.count ?? 0,
  });
  let lines = 0;
  let at = wc.startMs;
  try {
    for (const item of runWorld(wc, seed)) {
      const sink = sinks[item.stream];
      if (sink !== null) await sink.write(item.value);
      at = item.at;
      if (onProgress !== undefined && ++lines % 50_000 === 0) onProgress({ ...counts(), fraction: Math.min(1, (at - wc.startMs) / span) });
    }
  } finally {
    await Promise.all([sinks.record.close(), sinks.request.close(), sinks.truth.close(), sinks.holding?.close()]);
  }
  const done = counts();
  onProgress?.({ ...done, fraction: 1 });
  return done;
}
