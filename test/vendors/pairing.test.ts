import { describe, expect, it } from 'vitest';
import { Collector, type RecordTemplate } from '../../src/ingest/vendors/output.js';
import { IntervalBook, type Cadence } from '../../src/ingest/vendors/pairing.js';
import type { CanonicalRecordInput } from '../../src/records.js';

const T0 = Date.UTC(2025, 0, 1, 10, 0, 0);
const s = (seconds: number) => T0 + seconds * 1000;
const iso = (seconds: number) => new Date(s(seconds)).toISOString();

type Ev =
  | ['grant', string, string, number, (number | null)?]
  | ['confirm', string, string, number, number?]
  | ['stop', string, string, number, number?]
  | ['retire', string, string, number]
  | ['see', number];

function template(resource: string, holder: string): RecordTemplate {
  return { kind: 'allocation', account: holder, ip: resource, source: 'test' };
}

function run(events: Ev[], opts: { window?: number; timeout?: number; cadence?: Cadence } = {}) {
  const out = new Collector();
  const book = new IntervalBook({
    collector: out,
    reorderWindowMs: (opts.window ?? 60) * 1000,
    timeoutMs: opts.timeout === undefined ? undefined : opts.timeout * 1000,
  });
  const records: CanonicalRecordInput[] = [];
  const problems: string[] = [];
  events.forEach((e, i) => {
    const line = i + 1;
    if (e[0] === 'see') book.see(s(e[1]));
    else {
      const [kind, resource, holder, at, extra] = e;
      const base = { resource, holder, at: s(at), fields: template(resource, holder), line };
      if (kind === 'grant')
        book.grant(
          extra === undefined ? { ...base, ...(opts.cadence ? { cadence: opts.cadence } : {}) } : { ...base, knownEnd: extra === null ? null : s(extra) },
        );
      else if (kind === 'confirm')
        book.confirm(extra === undefined ? { ...base, ...(opts.cadence ? { cadence: opts.cadence } : {}) } : { ...base, startIfNew: s(extra) });
      else if (kind === 'stop') book.stop(extra === undefined ? base : { ...base, derivedStart: s(extra) });
      else book.retire(base);
    }
    book.drain();
    const o = out.take();
    records.push(...o.records);
    problems.push(...o.problems.map((p) => `${p.line}:${p.reason}`));
  });
  const { provisional } = book.suspend(true);
  const o = out.take();
  records.push(...o.records, ...provisional);
  problems.push(...o.problems.map((p) => `${p.line}:${p.reason}`));
  const summary = records.map((record) => {
    const r = record as { kind: string; account?: string; ip?: string; start: string; end: string | null; endInferred?: boolean; lastSeen?: string };
    return r.kind === 'coverage'
      ? `gap ${r.start}..${r.end}`
      : `${r.account} ${r.ip} ${r.start}..${r.end}${r.endInferred ? ' inferred' : ''}${r.end === null && r.lastSeen !== undefined ? ' seen ' + r.lastSeen : ''}`;
  });
  return { summary: summary.sort(), problems };
}

const ip = '192.0.2.1';

describe('IntervalBook: pairing starts and stops', () => {
  const cases: { name: string; events: Ev[]; want: string[]; problems?: string[]; window?: number; timeout?: number }[] = [
    {
      name: 'a start and its stop',
      events: [
        ['grant', ip, 'A', 0],
        ['stop', ip, 'A', 30],
      ],
      want: [`A ${ip} ${iso(0)}..${iso(30)}`],
    },
    {
      name: 'a stop before its start (reordered) still pairs',
      events: [
        ['stop', ip, 'A', 30],
        ['grant', ip, 'A', 0],
      ],
      want: [`A ${ip} ${iso(0)}..${iso(30)}`],
    },
    {
      name: 'duplicate starts and stops add nothing',
      events: [
        ['grant', ip, 'A', 0],
        ['grant', ip, 'A', 0],
        ['stop', ip, 'A', 30],
        ['stop', ip, 'A', 30],
      ],
      want: [`A ${ip} ${iso(0)}..${iso(30)}`],
    },
    {
      name: 'a missing stop is closed by the next holder, inferred',
      events: [
        ['grant', ip, 'A', 0],
        ['grant', ip, 'B', 100],
        ['stop', ip, 'B', 200],
      ],
      want: [`A ${ip} ${iso(0)}..${iso(100)} inferred`, `B ${ip} ${iso(100)}..${iso(200)}`],
    },
    {
      name: "a late line from an earlier holder ends at the later holder's start",
      events: [
        ['grant', ip, 'B', 100],
        ['stop', ip, 'B', 200],
        ['grant', ip, 'A', 0],
      ],
      want: [`A ${ip} ${iso(0)}..${iso(100)} inferred`, `B ${ip} ${iso(100)}..${iso(200)}`],
    },
    {
      name: 'a start open at the end of the input stays open, last seen at its start (no end from the file ending)',
      events: [
        ['grant', ip, 'A', 0],
        ['see', 500],
      ],
      want: [`A ${ip} ${iso(0)}..null seen ${iso(0)}`],
    },
    {
      name: 'the timeout closes a start with no stop after its last evidence',
      events: [
        ['grant', ip, 'A', 0],
        ['confirm', ip, 'A', 50],
        ['see', 5000],
      ],
      timeout: 300,
      want: [`A ${ip} ${iso(0)}..${iso(350)} inferred`],
    },
    {
      name: 'a stop with no start and no duration is a problem',
      events: [['stop', ip, 'A', 30]],
      want: [],
      problems: ['1:STOP_WITHOUT_START'],
    },
    {
      name: 'a stop that carries its duration yields the interval on its own',
      events: [['stop', ip, 'A', 30, 10]],
      want: [`A ${ip} ${iso(10)}..${iso(30)}`],
    },
    {
      name: 'a logged start replaces the start derived from a duration',
      events: [
        ['stop', ip, 'A', 30, 9],
        ['grant', ip, 'A', 10],
      ],
      want: [`A ${ip} ${iso(10)}..${iso(30)}`],
    },
    {
      name: 'an interim after the stop at the same second only confirms',
      events: [
        ['grant', ip, 'A', 0],
        ['stop', ip, 'A', 30],
        ['confirm', ip, 'A', 30],
      ],
      want: [`A ${ip} ${iso(0)}..${iso(30)}`],
    },
    {
      name: 'an interim with no start opens at the start it repeats',
      events: [
        ['confirm', ip, 'A', 40, 5],
        ['stop', ip, 'A', 60],
      ],
      want: [`A ${ip} ${iso(5)}..${iso(60)}`],
    },
    {
      name: 'a new grant at the second of the stop is a new interval',
      events: [
        ['grant', ip, 'A', 0],
        ['stop', ip, 'A', 30],
        ['grant', ip, 'A', 30],
        ['stop', ip, 'A', 40],
      ],
      want: [`A ${ip} ${iso(0)}..${iso(30)}`, `A ${ip} ${iso(30)}..${iso(40)}`],
    },
  ];
  it.each(cases)('$name', ({ events, want, problems, window, timeout }) => {
    const r = run(events, { ...(window === undefined ? {} : { window }), ...(timeout === undefined ? {} : { timeout }) });
    expect(r.summary).toEqual([...want].sort());
    expect(r.problems).toEqual(problems ?? []);
  });

  it('emits a closed interval only after the reorder window has passed in log time', () => {
    const out = new Collector();
    const book = new IntervalBook({ collector: out, reorderWindowMs: 60_000, timeoutMs: undefined });
    const f = template(ip, 'A');
    book.grant({ resource: ip, holder: 'A', at: s(0), fields: f, line: 1 });
    book.stop({ resource: ip, holder: 'A', at: s(10), fields: f, line: 2 });
    book.drain();
    expect(out.take().records).toHaveLength(0);
    book.see(s(69));
    book.drain();
    expect(out.take().records).toHaveLength(0);
    book.see(s(70));
    book.drain();
    expect(out.take().records).toHaveLength(1);
  });
});

describe('IntervalBook: leases with known ends', () => {
  const cases: { name: string; events: Ev[]; want: string[]; problems?: string[] }[] = [
    {
      name: 'renewals of the same lease merge into one interval',
      events: [
        ['grant', ip, 'A', 0, 3600],
        ['grant', ip, 'A', 1800, 5400],
        ['grant', ip, 'A', 3600, 7200],
      ],
      want: [`A ${ip} ${iso(0)}..${iso(7200)}`],
    },
    {
      name: 'a lease that lapsed before it was taken again is two intervals',
      events: [
        ['grant', ip, 'A', 0, 3600],
        ['grant', ip, 'A', 4000, 7600],
      ],
      want: [`A ${ip} ${iso(0)}..${iso(3600)}`, `A ${ip} ${iso(4000)}..${iso(7600)}`],
    },
    {
      name: 'a release ends the lease early',
      events: [
        ['grant', ip, 'A', 0, 3600],
        ['stop', ip, 'A', 600],
      ],
      want: [`A ${ip} ${iso(0)}..${iso(600)}`],
    },
    {
      name: 'an expiry logged after the lease end keeps the lease end',
      events: [
        ['grant', ip, 'A', 0, 3600],
        ['stop', ip, 'A', 3700],
      ],
      want: [`A ${ip} ${iso(0)}..${iso(3600)}`],
    },
    {
      name: 'another client taking the address cuts the lease, inferred',
      events: [
        ['grant', ip, 'A', 0, 3600],
        ['grant', ip, 'B', 1200, 4800],
      ],
      want: [`A ${ip} ${iso(0)}..${iso(1200)} inferred`, `B ${ip} ${iso(1200)}..${iso(4800)}`],
    },
    {
      name: 'a lease with no end stays open (end null)',
      events: [['grant', ip, 'A', 0, null]],
      want: [`A ${ip} ${iso(0)}..null seen ${iso(0)}`],
    },
    {
      name: 'a deleted lease keeps its known end, inferred, until the next grant',
      events: [
        ['grant', ip, 'A', 0, 3600],
        ['retire', ip, 'A', 0],
        ['grant', ip, 'A', 100, 3700],
      ],
      want: [`A ${ip} ${iso(0)}..${iso(100)} inferred`, `A ${ip} ${iso(100)}..${iso(3700)}`],
    },
    {
      name: 'a deletion with no lease in the file is a problem',
      events: [['retire', ip, 'A', 0]],
      want: [],
      problems: ['1:STOP_WITHOUT_START'],
    },
  ];
  it.each(cases)('$name', ({ events, want, problems }) => {
    const r = run(events);
    expect(r.summary).toEqual([...want].sort());
    expect(r.problems).toEqual(problems ?? []);
  });
});

describe('IntervalBook: coverage gaps from a cadence', () => {
  const cadence = { source: 'radius:nas1', intervalMs: 300_000 };
  it('interim updates missing for more than twice the interval make a gap', () => {
    const r = run(
      [
        ['grant', ip, 'A', 0],
        ['confirm', ip, 'A', 300],
        ['confirm', ip, 'A', 1500],
        ['stop', ip, 'A', 1800],
      ],
      { cadence },
    );
    expect(r.summary).toEqual([`A ${ip} ${iso(0)}..${iso(1800)}`, `gap ${iso(300)}..${iso(1500)}`].sort());
  });
  it('updates within twice the interval make none', () => {
    const r = run(
      [
        ['grant', ip, 'A', 0],
        ['confirm', ip, 'A', 550],
        ['confirm', ip, 'A', 1150],
        ['stop', ip, 'A', 1400],
      ],
      { cadence },
    );
    expect(r.summary).toEqual([`A ${ip} ${iso(0)}..${iso(1400)}`]);
  });
  it('a session whose updates stop while the file goes on ends inferred three cadences after its last update, with a gap to there', () => {
    const r = run(
      [
        ['grant', ip, 'A', 0],
        ['confirm', ip, 'A', 300],
        ['see', 3000],
      ],
      { cadence },
    );
    expect(r.summary).toEqual([`A ${ip} ${iso(0)}..${iso(1200)} inferred`, `gap ${iso(300)}..${iso(1200)}`].sort());
  });

  it('a session whose updates stop at the end of the input stays open, last seen at its last update', () => {
    const r = run(
      [
        ['grant', ip, 'A', 0],
        ['confirm', ip, 'A', 300],
        ['see', 400],
      ],
      { cadence },
    );
    expect(r.summary).toEqual([`A ${ip} ${iso(0)}..null seen ${iso(300)}`]);
  });
});

describe('IntervalBook: lines after the reorder window, stops after the next grant (issue 16)', () => {
  const cases: { name: string; events: Ev[]; want: string[]; problems: string[]; window?: number }[] = [
    {
      name: "a grant past the window inside another holder's stored interval opens nothing (LATE_EVENT)",
      events: [
        ['grant', ip, 'A', 0],
        ['stop', ip, 'A', 100],
        ['see', 500], // A is stored
        ['grant', ip, 'B', 50], // would give the address to A and B at once
      ],
      want: [`A ${ip} ${iso(0)}..${iso(100)}`],
      problems: ['4:LATE_EVENT'],
      window: 10,
    },
    {
      name: 'the same lines within a wider window pair: the late grant closes A, inferred',
      events: [
        ['grant', ip, 'A', 0],
        ['stop', ip, 'A', 100],
        ['see', 500],
        ['grant', ip, 'B', 50],
        ['see', 2000], // A is stored now, ended at B's grant
      ],
      want: [`A ${ip} ${iso(0)}..${iso(50)} inferred`, `B ${ip} ${iso(50)}..null seen ${iso(50)}`],
      problems: ['2:STOP_AFTER_REGRANT'],
      window: 1000,
    },
    {
      name: 'a grant past the window where nothing was stored pairs as before (no problem)',
      events: [
        ['grant', '192.0.2.9', 'A', 0],
        ['see', 500],
        ['grant', ip, 'B', 50],
        ['stop', ip, 'B', 60],
      ],
      want: [`A 192.0.2.9 ${iso(0)}..null seen ${iso(0)}`, `B ${ip} ${iso(50)}..${iso(60)}`],
      problems: [],
      window: 10,
    },
    {
      name: "a stop after the next holder's grant, its interval already stored: STOP_AFTER_REGRANT, not a stop without start",
      events: [
        ['grant', ip, 'A', 0],
        ['grant', ip, 'B', 100],
        ['see', 200], // A stored, ended by B's grant
        ['stop', ip, 'A', 250],
      ],
      want: [`A ${ip} ${iso(0)}..${iso(100)} inferred`, `B ${ip} ${iso(100)}..null seen ${iso(100)}`],
      problems: ['4:STOP_AFTER_REGRANT'],
      window: 10,
    },
    {
      name: "a stop after another holder's grant, within the window: ended at the grant, never overlapping it",
      events: [
        ['grant', ip, 'A', 0],
        ['grant', ip, 'B', 100],
        ['stop', ip, 'A', 105],
        ['see', 500],
      ],
      want: [`A ${ip} ${iso(0)}..${iso(100)} inferred`, `B ${ip} ${iso(100)}..null seen ${iso(100)}`],
      problems: ['3:STOP_AFTER_REGRANT'],
      window: 60,
    },
  ];
  it.each(cases)('$name', ({ events, want, problems, window }) => {
    const got = run(events, window === undefined ? {} : { window });
    expect(got.summary).toEqual([...want].sort());
    expect(got.problems).toEqual(problems);
  });

  it("one client's concurrent sessions on a port-less tuple keep their own stops (no cap between them)", () => {
    const out = new Collector();
    const book = new IntervalBook({ collector: out, reorderWindowMs: 10_000, timeoutMs: undefined });
    const fields = (id: string): RecordTemplate => ({
      kind: 'nat-session',
      realm: 'r',
      insideIp: '100.64.0.1',
      insidePort: 0,
      outsideIp: '203.0.113.1',
      outsidePort: 0,
      destinationIp: '198.51.100.1',
      destinationPort: 0,
      protocol: 'icmp',
      ...(id === 'other' ? { insideIp: '100.64.0.2' } : {}),
    });
    const resource = 'icmp|203.0.113.1|0|198.51.100.1|0';
    book.grant({ resource, holder: '100.64.0.1|0|1', fields: fields('1'), at: s(0), line: 1 });
    book.grant({ resource, holder: '100.64.0.1|0|2', fields: fields('2'), at: s(5), line: 2 });
    book.stop({ resource, holder: '100.64.0.1|0|1', fields: fields('1'), at: s(20), line: 3 });
    book.stop({ resource, holder: '100.64.0.1|0|2', fields: fields('2'), at: s(25), line: 4 });
    book.see(s(100));
    book.drain();
    const o = out.take();
    expect(o.problems).toEqual([]);
    expect(o.records.map((r) => [(r as { start: string }).start, (r as { end: string }).end, (r as { endInferred?: boolean }).endInferred ?? false])).toEqual([
      [iso(0), iso(20), false],
      [iso(5), iso(25), false],
    ]);
  });
});
