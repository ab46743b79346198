import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AMBIGUOUS, LINE_REASONS, VENDOR_PARSERS, ZONE_ABBREVIATIONS, sniffFormat } from '../../src/ingest/vendors/index.js';
import { IparError } from '../../src/problems.js';
import { fixturesDir, parseLines, readLines } from './harness.js';

const NAMES = [
  'juniper-srx',
  'juniper-ms-dpc',
  'a10-cef',
  'cisco-asa',
  'vpp-syslog',
  'jool',
  'kea-csv',
  'kea-legal',
  'isc-dhcpd-leases',
  'freeradius-detail',
  'ms-dhcp-audit',
  'infoblox-dhcpd',
  'panos-traffic',
  'fortigate-traffic',
  // issue 16: the samples not read before
  '6wind-cgnat',
  'nfware-cgnat',
  'cisco-iosxe-nat',
  'h3c-comware-nat',
  'mikrotik-firewall',
  // issue 16: the PAN-OS CEF and JSON forms
  'panos-traffic-cef',
  'panos-traffic-json',
  'infoblox-lease',
];
const NAT = new Set([
  'juniper-srx',
  'juniper-ms-dpc',
  'a10-cef',
  'cisco-asa',
  'vpp-syslog',
  'jool',
  'panos-traffic',
  'fortigate-traffic',
  '6wind-cgnat',
  'nfware-cgnat',
  'cisco-iosxe-nat',
  'h3c-comware-nat',
  'mikrotik-firewall',
  'panos-traffic-cef',
  'panos-traffic-json',
]);
const byName = (name: string) => VENDOR_PARSERS.find((p) => p.name === name)!;

describe('VENDOR_PARSERS: the registry', () => {
  it('holds the importers of issues 7 and 16, once each', () => {
    expect(VENDOR_PARSERS.map((p) => p.name).sort()).toEqual([...NAMES].sort());
  });

  it.each(NAMES)('%s says which clock it trusts and what it needs told', (name) => {
    const d = byName(name).description;
    expect(d).toMatch(/[Cc]lock/);
    expect(d).toMatch(NAT.has(name) ? /Needs realm/ : /realm/);
  });

  it.each([...NAT])('%s refuses to start without a realm', (name) => {
    expect(() => byName(name).session({})).toThrow(IparError);
    try {
      byName(name).session({});
    } catch (e) {
      expect((e as IparError).code).toBe('MISSING_OPTION');
    }
  });

  // Their clocks never carry a zone (or a year): without the option every line would be rejected.
  it.each([
    ['ms-dhcp-audit', {}, 'timeZone'],
    ['panos-traffic', { realm: 'pa' }, 'timeZone'],
  ] as const)('%s refuses to start without an option every line needs (%o lacks %s)', (name, options, missing) => {
    let error: unknown;
    try {
      byName(name).session(options);
    } catch (e) {
      error = e;
    }
    expect((error as IparError).code).toBe('MISSING_OPTION');
    expect((error as IparError).message).toContain('--tz');
    expect(() => byName(name).session({ ...options, [missing]: 'UTC' })).not.toThrow();
  });

  it.each(NAMES)('%s refuses an unknown zone, a bad realm and a bad timeout up front', (name) => {
    const parser = byName(name);
    for (const bad of [{ realm: 'r', timeZone: 'Mars/Olympus' }, { realm: 'not a realm!' }, { realm: 'r', missingStopTimeoutSeconds: -5 }]) {
      let code: string | undefined;
      try {
        const s = parser.session(bad);
        s.end();
      } catch (e) {
        code = (e as IparError).code;
      }
      expect(code, JSON.stringify(bad)).toBe('INVALID_OPTION');
    }
  });
});

describe('sniffFormat: --format auto', () => {
  it('recognises nothing in an empty or unrelated file', () => {
    expect(sniffFormat([])).toBeNull();
    expect(sniffFormat(['', '   '])).toBeNull();
    expect(sniffFormat(['hello world', 'Jan  1 00:00:00 host sshd[1]: Accepted publickey for root'])).toBeNull();
  });
  it('skips blank lines before the first record', () => {
    expect(sniffFormat(['', '', 'address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname'])?.name).toBe('kea-csv');
  });
});

describe('docs/importers.md: every importer, reason and abbreviation documented', () => {
  const text = fs.readFileSync(path.join(fixturesDir, '..', '..', 'docs', 'importers.md'), 'utf8');
  it('has a row for every importer', () => {
    for (const name of NAMES) expect(text).toContain(`| \`${name}\` |`);
  });
  it('explains every reason a line can be refused with', () => {
    const reasons = [
      ...Object.values(LINE_REASONS),
      'TIME_MISSING',
      'INVALID_TIME',
      'ZONE_UNKNOWN',
      'AMBIGUOUS_ZONE_ABBREVIATION',
      'UNKNOWN_ZONE_ABBREVIATION',
      'NONEXISTENT_LOCAL_TIME',
      'YEAR_UNKNOWN',
      'CLOCKS_DISAGREE',
      'INVALID_ADDRESS',
      'INVALID_PREFIX',
      'HOST_BITS_SET',
    ];
    for (const r of reasons) expect(text, r).toContain(`\`${r}\``);
  });
  it('lists every abbreviation the clock reads and refuses', () => {
    for (const a of Object.keys(ZONE_ABBREVIATIONS)) expect(text, a).toContain(`\`${a}\``);
    for (const a of AMBIGUOUS) expect(text, a).toContain(`\`${a}\``);
  });
});

describe('re-ingesting overlapping files', () => {
  // Two exports of the same SRX log that overlap on lines 5-16: every interval whose events
  // both lie in the overlap comes out identical from either file.
  const lines = readLines(path.join(fixturesDir, 'juniper-srx/traps.log'));
  const options = { realm: 'cgn-a', timeZone: 'Europe/London', year: 2025 };
  const first = parseLines(byName('juniper-srx'), options, lines.slice(0, 16));
  const second = parseLines(byName('juniper-srx'), options, lines.slice(4));
  const key = (r: unknown) => JSON.stringify(r);
  const inFirst = new Set(first.records.map(key));
  const shared = second.records.map(key).filter((k) => inFirst.has(k));

  it('adds nothing for events both files hold', () => {
    // Lines 5-6 (block of 100.64.0.11), 7-8 (the block of 100.64.0.12, ended by its next
    // holder on line 8), 9-10 (block of 100.64.0.14), 15-16 (session 77), and the block of
    // 100.64.0.13, open at the end of either file: stored open in both, not cut at a last time.
    expect(
      shared
        .map((k) => JSON.parse(k) as { insideIp: string; start: string })
        .map((r) => `${r.insideIp} ${r.start}`)
        .sort(),
    ).toEqual([
      '100.64.0.10 2025-03-01T10:20:00.250Z',
      '100.64.0.11 2025-03-01T10:10:50.000Z',
      '100.64.0.12 2025-03-01T10:13:20.000Z',
      '100.64.0.13 2025-03-01T10:15:00.000Z',
      '100.64.0.14 2025-03-01T09:00:00.000Z',
    ]);
  });

  it('no record of the same start differs between the files: no end is inferred from where a file ends (issue 15)', () => {
    const onlySecond = second.records.filter((r) => !inFirst.has(key(r)));
    expect(onlySecond.length).toBeGreaterThan(0);
    // Each record only the second file holds, beside the first file's record of the same start.
    const pairs = onlySecond.flatMap((r) => {
      const sameStart = first.records.find(
        (f) =>
          (f as { insideIp?: string }).insideIp === (r as { insideIp?: string }).insideIp &&
          f.kind === r.kind &&
          (f as { start: string }).start === (r as { start: string }).start,
      );
      return sameStart === undefined ? [] : [{ sameStart, r }];
    });
    expect(pairs).toEqual([]);
  });
});
