import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, test } from 'vitest';
import { DateTime } from 'luxon';
import { CanonicalRecord, NatDeterministicRecord, type CanonicalRecordInput } from '../../src/records.js';
import { reverse } from '../../nat/deterministic.js';
import { misdate } from '../../nat/observe.js';
import { parseAddress, prefixContains, type Address } from '../../src/address.js';
import { parseInstant } from '../../src/time.js';
import {
  parseSimulationConfig,
  PROFILE_NAMES,
  PROFILES,
  simulate,
  simulateRecords,
  writeSimulation,
  type Holding,
  type SimRequest,
  type SimTruth,
  type SimulationConfigInput,
} from '../../nat/simulate.js';

const SEED = 20260329;

function addr(text: string, prefix = false): Address {
  const r = parseAddress(text, prefix);
  if (!r.ok) throw new Error(r.message);
  return r.value;
}

function ms(text: string): number {
  const r = parseInstant(text);
  if (!r.ok) throw new Error(r.message);
  return r.value.ms;
}

const DOCUMENTATION = ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24', '2001:db8::/32'].map((p) => addr(p, true));
const CGNAT_INSIDE = addr('100.64.0.0/10', true);
const inAny = (a: Address, prefixes: readonly Address[]): boolean => prefixes.some((p) => a.length >= p.length && prefixContains(p.key, p.length, a.key));

function run(config: SimulationConfigInput, seed = SEED): { records: CanonicalRecordInput[]; requests: SimRequest[]; truth: SimTruth[]; holdings: Holding[] } {
  const out = { records: [] as CanonicalRecordInput[], requests: [] as SimRequest[], truth: [] as SimTruth[], holdings: [] as Holding[] };
  for (const item of simulate(config, seed).items()) {
    if (item.stream === 'record') out.records.push(item.value);
    else if (item.stream === 'request') out.requests.push(item.value);
    else if (item.stream === 'truth') out.truth.push(item.value);
    else out.holdings.push(item.value);
  }
  return out;
}

/** Records with everything that can go wrong in the logs switched off. */
const CLEAN_LOGS = { gaps: 0, missingStop: 0 } as const;

const EXPECTED_KINDS: Record<(typeof PROFILE_NAMES)[number], string[]> = {
  'fixed-dhcp': ['address-space', 'subscriber', 'allocation'],
  'mobile-cgnat-blocks': ['address-space', 'subscriber', 'allocation', 'nat-block'],
  'mobile-cgnat-sessions': ['address-space', 'subscriber', 'allocation', 'nat-session'],
  'deterministic-nat': ['address-space', 'subscriber', 'nat-deterministic', 'allocation', 'nat-block'],
  'ipv6-delegated': ['address-space', 'subscriber', 'allocation'],
  'public-wifi': ['address-space', 'subscriber', 'allocation', 'nat-block'],
  mixed: ['address-space', 'subscriber', 'nat-deterministic', 'allocation', 'nat-block', 'nat-session'],
};

describe('simulate() records, per profile', () => {
  it('lists every profile with a description', () => {
    expect(PROFILES.map((p) => p.name)).toEqual([...PROFILE_NAMES]);
    for (const p of PROFILES) expect(p.description.length).toBeGreaterThan(20);
  });

  for (const profile of PROFILE_NAMES) {
    it(`${profile}: every record passes CanonicalRecord.safeParse, uses documentation space only, and has the expected kinds`, () => {
      const { records } = run({ profile, subscribers: 80, days: 1.5, logs: { gaps: 3, gapDeclared: 1, missingStop: 0.05 } });
      const kinds = new Set<string>();
      for (const r of records) {
        const parsed = CanonicalRecord.safeParse(r);
        if (!parsed.success) throw new Error(`${JSON.stringify(r)}: ${parsed.error.message}`);
        const v = parsed.data;
        kinds.add(v.kind);
        switch (v.kind) {
          case 'address-space':
            expect(inAny(v.prefix, DOCUMENTATION)).toBe(true);
            break;
          case 'allocation':
            expect(inAny(v.ip, v.realm === undefined ? DOCUMENTATION : [CGNAT_INSIDE])).toBe(true);
            break;
          case 'nat-block':
          case 'nat-session':
            expect(inAny(v.insideIp, [CGNAT_INSIDE])).toBe(true);
            expect(inAny(v.outsideIp, DOCUMENTATION)).toBe(true);
            break;
          case 'nat-deterministic':
            expect(inAny(v.insidePrefix, [CGNAT_INSIDE])).toBe(true);
            expect(inAny(v.outsidePrefix, DOCUMENTATION)).toBe(true);
            break;
        }
      }
      for (const k of EXPECTED_KINDS[profile]) expect(kinds, `${profile} emits ${k}`).toContain(k);
      expect(kinds).toContain('coverage');
    });
  }

  it('gives mobile allocations IMSI, MSISDN and IMEI, fixed ones a MAC, and types accounts by profile', () => {
    const { records } = run({ profile: 'mixed', subscribers: 200, days: 1 });
    const types = new Map<string, string>();
    for (const r of records) if (r.kind === 'subscriber') types.set(r.account, r.type);
    const allocations = records.filter((r): r is Extract<CanonicalRecordInput, { kind: 'allocation' }> => r.kind === 'allocation');
    expect(new Set(types.values())).toEqual(new Set(['residential', 'business', 'mobile', 'public-wifi', 'enterprise']));
    for (const a of allocations) {
      if (types.get(a.account) === 'mobile') {
        expect(a.source).toBe('pgw');
        expect([a.imsi, a.msisdn, a.imei, a.sessionId].every((x) => x !== undefined)).toBe(true);
        expect(a.mac).toBeUndefined();
      } else {
        expect(a.mac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
        expect(a.imsi).toBeUndefined();
      }
    }
    expect(allocations.some((a) => a.source === 'dhcpv6-pd' && a.ip.endsWith('/56'))).toBe(true);
  });

  it('streams: header first, then records in start order; a 100 000-subscriber week yields its first records without running the week', () => {
    const { records } = run({ profile: 'mixed', subscribers: 150, days: 2 });
    let last = -Infinity;
    let header = true;
    for (const r of records) {
      if (r.kind === 'address-space' || r.kind === 'subscriber') {
        expect(header).toBe(true);
        continue;
      }
      header = false;
      const start = ms(r.start);
      expect(start).toBeGreaterThanOrEqual(last);
      last = start;
    }
    const t0 = performance.now();
    let n = 0;
    for (const r of simulateRecords({ profile: 'mixed', subscribers: 100_000, days: 7 }, SEED)) {
      if (r.kind !== 'subscriber' && r.kind !== 'address-space' && ++n >= 2000) break;
    }
    expect(performance.now() - t0).toBeLessThan(8000);
  });
});

describe('simulate() determinism', () => {
  const config: SimulationConfigInput = { profile: 'mixed', subscribers: 120, days: 1 };
  const serialise = (seed: number): string => [...simulate(config, seed).items()].map((i) => `${i.stream}\t${JSON.stringify(i.value)}`).join('\n');

  it(`the same seed gives the same output, byte for byte (seed ${SEED})`, () => {
    expect(serialise(SEED)).toBe(serialise(SEED));
    expect(serialise(SEED + 1)).not.toBe(serialise(SEED));
  });

  it('records do not depend on how many requests are drawn or how they are distorted', () => {
    const base = JSON.stringify([...simulate({ ...config, requests: 0 }, SEED).records]);
    const noisy = JSON.stringify([
      ...simulate(
        {
          ...config,
          requests: 500,
          noise: { clockSkew: 1, sourcePortAbsent: 1, precisionMinute: 1, precisionSecond: 0, zoneAsUtc: 1, localTime: 0, zoneOffsetOffByOne: 0, clock12h: 1 },
        },
        SEED,
      ).records,
    ]);
    expect(noisy).toBe(base);
  });

  it('writeSimulation() writes the three files, byte-identical across runs, and counts their lines', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ipar-sim-'));
    try {
      const progress: number[] = [];
      const a = await writeSimulation({ ...config, seed: SEED, outDir: join(dir, 'a'), holdings: true }, (p) => progress.push(p.fraction));
      const b = await writeSimulation({ ...config, seed: SEED, outDir: join(dir, 'b') });
      for (const file of ['records.ndjson', 'requests.ndjson', 'truth.ndjson']) {
        const [x, y] = await Promise.all([readFile(join(dir, 'a', file), 'utf8'), readFile(join(dir, 'b', file), 'utf8')]);
        expect(x).toBe(y);
      }
      const lines = async (f: string) => (await readFile(join(dir, 'a', f), 'utf8')).split('\n').filter((l) => l !== '').length;
      expect(a).toEqual({
        records: await lines('records.ndjson'),
        requests: await lines('requests.ndjson'),
        truth: await lines('truth.ndjson'),
        holdings: await lines('holdings.ndjson'),
      });
      expect(b.holdings).toBe(0);
      expect(a.requests).toBe(120);
      expect(progress.at(-1)).toBe(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses bad settings as data, with a reason per field', () => {
    const r = parseSimulationConfig({ profile: 'carrier-pigeon', subscribers: 0, days: 1 });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems.map((p) => `${p.field}:${p.reason}`).sort()).toEqual(['profile:UNKNOWN_VALUE', 'subscribers:OUT_OF_RANGE']);
    const sums = parseSimulationConfig({ profile: 'mixed', subscribers: 10, days: 1, noise: { precisionSecond: 0.8, precisionMinute: 0.5 } });
    expect(sums.ok).toBe(false);
    if (!sums.ok) expect(sums.problems.map((p) => `${p.field}:${p.reason}`)).toEqual(['noise.precisionSecond:OUT_OF_RANGE']);
    expect(() => simulate({ profile: 'mixed', subscribers: 1, days: 1 }, 1.5)).toThrow(/seed/);
  });
});

/** Half-open interval overlap, `null` end meaning still open. */
function overlap(aStart: number, aEnd: number | null, bStart: number, bEnd: number | null): boolean {
  return aStart < (bEnd ?? Infinity) && bStart < (aEnd ?? Infinity);
}

describe('simulate() ground truth', () => {
  const { records, requests, truth, holdings } = run({ profile: 'mixed', subscribers: 160, days: 2, logs: CLEAN_LOGS, requests: 150 });

  it('no two subscribers ever hold the same public address and port at the same moment (holdings, plain pairwise loop)', () => {
    const byIp = new Map<string, Holding[]>();
    for (const h of holdings) byIp.set(h.ip, [...(byIp.get(h.ip) ?? []), h]);
    let compared = 0;
    for (const list of byIp.values()) {
      for (let i = 0; i < list.length; i++) {
        for (let j = i + 1; j < list.length; j++) {
          const a = list[i]!;
          const b = list[j]!;
          if (a.protocol !== undefined && b.protocol !== undefined && a.protocol !== b.protocol) continue;
          const portsMeet = (a.portFirst ?? 0) <= (b.portLast ?? 65535) && (b.portFirst ?? 0) <= (a.portLast ?? 65535);
          if (!portsMeet) continue;
          compared++;
          expect(overlap(ms(a.start), ms(a.end), ms(b.start), ms(b.end)), `${JSON.stringify(a)} / ${JSON.stringify(b)}`).toBe(false);
        }
      }
    }
    expect(compared).toBeGreaterThan(100);
  });

  it('port blocks and session ports in the records never overlap and are reused only after 120 s', () => {
    const groups = new Map<string, { start: number; end: number | null; first: number; last: number }[]>();
    for (const r of records) {
      if (r.kind === 'nat-block') {
        const key = `${r.realm} ${r.outsideIp}`;
        groups.set(key, [...(groups.get(key) ?? []), { start: ms(r.start), end: r.end === null ? null : ms(r.end), first: r.portFirst, last: r.portLast }]);
      } else if (r.kind === 'nat-session') {
        const key = `${r.realm} ${r.outsideIp} ${r.protocol}`;
        groups.set(key, [
          ...(groups.get(key) ?? []),
          { start: ms(r.start), end: r.end === null ? null : ms(r.end), first: r.outsidePort, last: r.outsidePort },
        ]);
      } else if (r.kind === 'allocation' && r.realm === undefined) {
        groups.set(r.ip, [...(groups.get(r.ip) ?? []), { start: ms(r.start), end: r.end === null ? null : ms(r.end), first: 0, last: 65535 }]);
      }
    }
    let reuses = 0;
    for (const [key, list] of groups) {
      const quarantine = key.includes(' ') ? 120_000 : 0;
      for (let i = 0; i < list.length; i++) {
        for (let j = i + 1; j < list.length; j++) {
          const a = list[i]!;
          const b = list[j]!;
          if (a.first > b.last || b.first > a.last) continue;
          const [x, y] = a.start <= b.start ? [a, b] : [b, a];
          expect(x.end, key).not.toBeNull();
          expect(y.start - x.end!, key).toBeGreaterThanOrEqual(quarantine);
          reuses++;
        }
      }
    }
    expect(reuses).toBeGreaterThan(50);
  });

  it('each request observation is covered by exactly one holding, of the account the truth names', () => {
    expect(requests.map((r) => r.ref)).toEqual(truth.map((t) => t.ref));
    let checked = 0;
    for (const t of truth) {
      for (const o of t.observations) {
        const when = ms(o.time);
        const source = addr(o.sourceIp);
        const covering = holdings.filter((h) => {
          const ip = addr(h.ip, true);
          const inIp = ip.length === 128 ? ip.text === source.text : prefixContains(ip.key, ip.length, source.key);
          const inPorts = h.portFirst === undefined || (o.sourcePort >= h.portFirst && o.sourcePort <= h.portLast!);
          return inIp && inPorts && (h.protocol === undefined || h.protocol === o.protocol) && ms(h.start) <= when && when < ms(h.end);
        });
        expect(
          covering.map((h) => h.account),
          `${t.ref} ${JSON.stringify(o)}`,
        ).toEqual([t.account]);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(150);
    expect(new Set(truth.map((t) => t.segment)).size).toBeGreaterThanOrEqual(5);
  });
});

describe('simulate() deterministic NAT, per algorithm', () => {
  for (const algorithm of ['rfc7422', 'vpp-det44', 'juniper-deterministic'] as const) {
    it(`${algorithm}: reverse() of each true observation gives an inside address the named account held then`, () => {
      const { records, truth } = run({
        profile: 'deterministic-nat',
        subscribers: 90,
        days: 1.5,
        requests: 60,
        logs: CLEAN_LOGS,
        nat: { deterministic: algorithm },
      });
      const det = NatDeterministicRecord.parse(records.find((r) => r.kind === 'nat-deterministic'));
      expect(det.algorithm).toBe(algorithm);
      const allocations = records.filter((r): r is Extract<CanonicalRecordInput, { kind: 'allocation' }> => r.kind === 'allocation');
      let viaShare = 0;
      for (const t of truth) {
        for (const o of t.observations) {
          const back = reverse(det, addr(o.sourceIp), o.sourcePort);
          if (!back.ok) {
            // Only a logged RFC 7422 dynamic share may fall outside the computed shares.
            expect(back.reason).toBe('dynamic-share');
            expect(o.nat).toBeDefined();
            continue;
          }
          const when = ms(o.time);
          const holders = allocations.filter((a) => a.ip === back.value.insideAddress.text && ms(a.start) <= when && (a.end === null || when < ms(a.end)));
          expect(
            holders.map((a) => a.account),
            `${t.ref} ${o.sourceIp}:${o.sourcePort}`,
          ).toEqual([t.account]);
          viaShare++;
        }
      }
      expect(viaShare).toBeGreaterThan(40);
    });
  }
});

type Check = (request: SimRequest, truth: SimTruth) => void;

interface NoiseCase {
  readonly name: string;
  readonly config: SimulationConfigInput;
  readonly check: Check;
}

const QUIET = {
  clockSkew: 0,
  sourcePortAbsent: 0,
  precisionSecond: 0,
  precisionMinute: 0,
  zoneAsUtc: 0,
  zoneOffsetOffByOne: 0,
  localTime: 0,
  clock12h: 0,
  destinationKnown: 0,
  identifiersKnown: 0,
};

const base = (noise: Partial<typeof QUIET>, profile: SimulationConfigInput['profile'] = 'mobile-cgnat-blocks'): SimulationConfigInput => ({
  profile,
  subscribers: 40,
  days: 1,
  start: '2026-06-01T00:00:00Z', // British Summer Time: London is UTC+1
  requests: 25,
  noise: { ...QUIET, ...noise },
});

const pairs = (t: SimTruth, r: SimRequest) => t.observations.map((o, k) => ({ truth: o, seen: r.observations[k]! }));
const writtenMs = (time: SimRequest['observations'][number]['time']): number => {
  if (typeof time !== 'string') throw new Error('expected ISO text');
  return ms(time);
};

const NOISE_CASES: readonly NoiseCase[] = [
  {
    name: 'no noise: times exact to the millisecond, port present, nothing else',
    config: base({}),
    check: (r, t) => {
      for (const { truth, seen } of pairs(t, r)) {
        expect(seen.time).toBe(truth.time);
        expect(seen.sourcePort).toBe(truth.sourcePort);
        expect(seen.destinationIp).toBeUndefined();
        expect(seen.clock).toBeUndefined();
      }
      expect(r.identifiers).toBeUndefined();
    },
  },
  {
    name: 'clock skew moves the time by 1 s up to the maximum',
    config: base({ clockSkew: 1 }),
    check: (r, t) => {
      for (const { truth, seen } of pairs(t, r)) {
        const d = Math.abs(writtenMs(seen.time) - ms(truth.time));
        expect(d).toBeGreaterThanOrEqual(1000);
        expect(d).toBeLessThanOrEqual(30_000);
        expect(writtenMs(seen.time) - ms(truth.time)).toBe(t.noise.skewMs);
      }
    },
  },
  {
    name: 'source port absent',
    config: base({ sourcePortAbsent: 1 }),
    check: (r, t) => {
      for (const { seen } of pairs(t, r)) expect(seen.sourcePort).toBeUndefined();
      expect(t.noise.sourcePort).toBe(false);
    },
  },
  {
    name: 'time written to the second',
    config: base({ precisionSecond: 1 }),
    check: (r, t) => {
      for (const { truth, seen } of pairs(t, r)) {
        expect(seen.time).toMatch(/T\d\d:\d\d:\d\dZ$/);
        expect(writtenMs(seen.time)).toBe(Math.floor(ms(truth.time) / 1000) * 1000);
      }
    },
  },
  {
    name: 'time written to the minute',
    config: base({ precisionMinute: 1 }),
    check: (r, t) => {
      for (const { truth, seen } of pairs(t, r)) {
        expect(seen.time).toMatch(/T\d\d:\d\dZ$/);
        expect(writtenMs(seen.time)).toBe(Math.floor(ms(truth.time) / 60_000) * 60_000);
      }
    },
  },
  {
    name: 'Europe/London local time read as UTC: an hour late in BST',
    config: base({ zoneAsUtc: 1 }),
    check: (r, t) => {
      expect(t.noise.zone).toBe('as-utc');
      for (const { truth, seen } of pairs(t, r)) expect(writtenMs(seen.time) - ms(truth.time)).toBe(3_600_000);
    },
  },
  {
    name: 'offset off by one hour',
    config: base({ zoneOffsetOffByOne: 1 }),
    check: (r, t) => {
      expect(t.noise.zone).toBe('offset-off-by-one');
      for (const { truth, seen } of pairs(t, r)) {
        expect(seen.time).toMatch(/[+-]\d\d:\d\d$/);
        expect(writtenMs(seen.time) - ms(truth.time)).toBe(-(t.noise.offsetShiftMinutes ?? 0) * 60_000);
      }
    },
  },
  {
    name: 'correct wall-clock time with its zone',
    config: base({ localTime: 1 }),
    check: (r, t) => {
      for (const { truth, seen } of pairs(t, r)) {
        expect(typeof seen.time).toBe('object');
        if (typeof seen.time === 'string') continue;
        expect(seen.time.timeZone).toBe('Europe/London');
        expect(DateTime.fromISO(seen.time.local, { zone: seen.time.timeZone }).toMillis()).toBe(ms(truth.time));
      }
    },
  },
  {
    name: '12-hour clock without AM/PM, flagged 12h-ambiguous',
    config: base({ clock12h: 1 }),
    check: (r, t) => {
      for (const { truth, seen } of pairs(t, r)) {
        expect(seen.clock).toBe('12h-ambiguous');
        const written = new Date(writtenMs(seen.time));
        const real = new Date(ms(truth.time));
        expect(written.getUTCHours()).toBeGreaterThanOrEqual(1);
        expect(written.getUTCHours()).toBeLessThanOrEqual(12);
        expect(written.getUTCHours() % 12).toBe(real.getUTCHours() % 12);
        expect(written.getUTCMinutes()).toBe(real.getUTCMinutes());
      }
    },
  },
  {
    name: 'destination known',
    config: base({ destinationKnown: 1 }),
    check: (r, t) => {
      for (const { truth, seen } of pairs(t, r)) {
        expect(inAny(addr(seen.destinationIp!), DOCUMENTATION)).toBe(true);
        expect(seen.destinationPort).toBeGreaterThan(0);
        expect(seen.protocol).toBe(truth.protocol);
      }
    },
  },
  {
    name: 'device identifiers known (mobile: IMSI, MSISDN or IMEI)',
    config: base({ identifiersKnown: 1 }),
    check: (r) => {
      const ids = r.identifiers!;
      expect(Object.keys(ids)).toHaveLength(1);
      expect(ids.imsi ?? ids.msisdn ?? ids.imei).toMatch(/^\d+$/);
    },
  },
  {
    name: 'device identifiers known (fixed: MAC)',
    config: base({ identifiersKnown: 1 }, 'fixed-dhcp'),
    check: (r) => expect(r.identifiers?.mac).toMatch(/^02:/),
  },
];

describe('simulate() request noise, each option visible in what it claims to change', () => {
  for (const c of NOISE_CASES) {
    it(c.name, () => {
      const { requests, truth } = run(c.config);
      expect(requests.length).toBeGreaterThan(10);
      requests.forEach((r, k) => {
        const allowed = new Set(['sourceIp', 'sourcePort', 'time', 'destinationIp', 'destinationPort', 'protocol', 'clock']);
        for (const o of r.observations) for (const key of Object.keys(o)) expect(allowed).toContain(key);
        expect(r.observations.length).toBe(truth[k]!.observations.length);
        expect(r.observations.map((o) => o.sourceIp)).toEqual(truth[k]!.observations.map((o) => o.sourceIp));
        c.check(r, truth[k]!);
      });
    });
  }
});

describe('simulate() log noise, visible in the records', () => {
  const config = (logs: Record<string, unknown>): SimulationConfigInput => ({
    profile: 'mixed',
    subscribers: 150,
    days: 2,
    requests: 0,
    logs: { missingStop: 0, ...logs },
  });
  const sourceOf = (r: CanonicalRecordInput): string | null =>
    r.kind === 'allocation' ? r.source : r.kind === 'nat-block' || r.kind === 'nat-session' ? r.realm : null;
  /** A record without its end: what stays the same when only its stop was lost. */
  const identity = (r: CanonicalRecordInput): string => {
    const { end: _end, endInferred: _inferred, ...rest } = r as CanonicalRecordInput & { end?: unknown; endInferred?: unknown };
    return JSON.stringify(rest);
  };
  const withoutGaps = run(config({ gaps: 0 })).records;
  const inGap = (gaps: readonly Extract<CanonicalRecordInput, { kind: 'coverage' }>[], r: CanonicalRecordInput, t: string): boolean =>
    gaps.some((g) => g.source === sourceOf(r) && ms(t) >= ms(g.start) && ms(t) < ms(g.end!));

  it('declared gaps: coverage records; records that started in one are missing, those that ended in one lost their stop', () => {
    const { records } = run(config({ gaps: 6, gapMeanMinutes: 240, gapDeclared: 1 }));
    const coverage = records.filter((r): r is Extract<CanonicalRecordInput, { kind: 'coverage' }> => r.kind === 'coverage');
    expect(coverage).toHaveLength(6);
    const kept = new Map(records.map((r) => [identity(r), r]));
    let lost = 0;
    let stopLost = 0;
    for (const r of withoutGaps) {
      if (!('start' in r) || r.kind === 'nat-deterministic') continue;
      const now = kept.get(identity(r));
      if (now === undefined) {
        expect(inGap(coverage, r, r.start), `lost ${JSON.stringify(r)}`).toBe(true);
        lost++;
      } else if (JSON.stringify(now) !== JSON.stringify(r)) {
        expect(r.end).not.toBeNull();
        expect(inGap(coverage, r, r.end!), `stop lost ${JSON.stringify(r)}`).toBe(true);
        stopLost++;
      }
    }
    expect(lost).toBeGreaterThan(0);
    expect(stopLost).toBeGreaterThan(0);
    for (const r of records) {
      if (r.kind === 'coverage' || !('start' in r) || sourceOf(r) === null) continue;
      expect(inGap(coverage, r, r.start)).toBe(false);
    }
  });

  it('silent gaps: records go missing with no coverage record', () => {
    const { records } = run(config({ gaps: 6, gapMeanMinutes: 240, gapDeclared: 0 }));
    expect(records.some((r) => r.kind === 'coverage')).toBe(false);
    expect(records.length).toBeLessThan(withoutGaps.length);
    const kept = new Set(records.map(identity));
    expect(withoutGaps.filter((r) => !kept.has(identity(r))).length).toBeGreaterThan(0);
  });

  it('missing stops, inferred: ends closed at a timeout step, marked endInferred', () => {
    const { records } = run(config({ gaps: 0, missingStop: 1, missingStopMode: 'inferred', inferredTimeoutSeconds: 900 }));
    let inferred = 0;
    for (const r of records) {
      if (r.kind !== 'allocation' && r.kind !== 'nat-block' && r.kind !== 'nat-session') continue;
      if (r.end === null) continue; // still open at export, or inferred past it
      expect(r.endInferred).toBe(true);
      expect((ms(r.end) - ms(r.start)) % 900_000).toBe(0);
      inferred++;
    }
    expect(inferred).toBeGreaterThan(100);
  });

  it('missing stops, open: no end at all', () => {
    const { records } = run(config({ gaps: 0, missingStop: 1, missingStopMode: 'open' }));
    const logged = records.filter((r) => r.kind === 'allocation' || r.kind === 'nat-block' || r.kind === 'nat-session');
    expect(logged.length).toBeGreaterThan(100);
    for (const r of logged) expect('end' in r && r.end).toBeNull();
  });

  it('truth says which requests depend on records a gap lost', () => {
    const { truth } = run({
      profile: 'mobile-cgnat-blocks',
      subscribers: 60,
      days: 1,
      requests: 200,
      logs: { gaps: 4, gapMeanMinutes: 180, gapDeclared: 0.5, missingStop: 0.2 },
    });
    const effects = new Set(truth.map((t) => t.logGap));
    expect(effects).toContain('none');
    expect([...effects].some((e) => e.startsWith('record-lost') || e === 'window')).toBe(true);
    expect(new Set(truth.map((t) => t.missingStop)).size).toBeGreaterThan(1);
  });
});

describe('misdate: the date errors oversight reports name, on the written text', () => {
  test.each([
    ['wrong-year', '2026-03-05T10:00:00Z', '2027-03-05T10:00:00Z'],
    ['day-before', '2026-03-01T10:00:00+01:00', '2026-02-28T10:00:00+01:00'],
    ['day-after', '2026-12-31T23:59Z', '2027-01-01T23:59Z'],
    ['day-month-swapped', '2026-03-05T10:00:00.123Z', '2026-05-03T10:00:00.123Z'],
    ['day-month-swapped', '2026-03-28T10:00:00Z', '2026-03-28T10:00:00Z'],
    ['day-month-swapped', '2026-03-03T10:00:00Z', '2026-03-03T10:00:00Z'],
  ] as const)('%s: %s → %s', (error, written, expected) => {
    expect(misdate(written, error)).toBe(expected);
  });

  test('a local time keeps its zone', () => {
    expect(misdate({ local: '2026-10-06T01:30:00', timeZone: 'Europe/London' }, 'day-month-swapped')).toEqual({
      local: '2026-06-10T01:30:00',
      timeZone: 'Europe/London',
    });
  });

  test('a date-error world declares date-ambiguous on every request, and the truth says which error', () => {
    const items = [...simulate({ profile: 'fixed-dhcp', subscribers: 20, days: 1, requests: 10, noise: { wrongYear: 1 } }, 3).items()];
    const requests = items.flatMap((i) => (i.stream === 'request' ? [i.value] : []));
    const truths = items.flatMap((i) => (i.stream === 'truth' ? [i.value] : []));
    expect(requests.length).toBeGreaterThan(0);
    for (const r of requests) for (const o of r.observations) expect(o.clock).toBe('date-ambiguous');
    expect(truths.every((t) => t.noise.date === 'wrong-year')).toBe(true);
    expect(String(requests[0]!.observations[0]!.time)).toMatch(/^2027-/);
  });
});
