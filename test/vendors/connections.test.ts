/**
 * Importers that see destinations keep them (issue 19): the NAT sessions the SRX, PAN-OS
 * and FortiGate importers read from the real samples are connection evidence — a
 * service-users request on a destination the sample logged finds the inside host's
 * account through its allocation.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { resolveRequests } from '../../matcher/pipeline.js';
import { VENDOR_PARSERS } from '../../src/ingest/vendors/index.js';
import { CanonicalRecord, type CanonicalRecordInput } from '../../src/records.js';
import { freshStore } from '../support/index.js';
import { parseLines, readLines, samplesDir } from './harness.js';

const isHeader = (line: string) => /^# (source|note|NOTE):/.test(line);
const present = fs.existsSync(samplesDir);

const CASES = [
  { file: 'juniper_srx_rt_flow_session_nat.txt', format: 'juniper-srx', options: { realm: 'cgn-a' }, destination: '67.43.156.15', port: 8883 },
  {
    file: 'panos_traffic_csv_nat.txt',
    format: 'panos-traffic',
    options: { realm: 'pa', timeZone: 'America/Los_Angeles' },
    destination: '175.16.199.1',
    port: 53,
  },
  { file: 'fortigate_traffic_snat.txt', format: 'fortigate-traffic', options: { realm: 'fg' }, destination: '81.2.69.142', port: 80 },
] as const;

describe.skipIf(!present)('importers keep destinations: their sessions answer service-users requests', () => {
  test.each(CASES)('$format', async ({ file, format, options, destination, port }) => {
    const parser = VENDOR_PARSERS.find((p) => p.name === format)!;
    const sessions = parseLines(parser, options, readLines(path.join(samplesDir, file)), isHeader).records.filter(
      (r): r is Extract<CanonicalRecordInput, { kind: 'nat-session' }> =>
        r.kind === 'nat-session' && r.destinationIp !== undefined && r.destinationPort === port && r.destinationIp === destination,
    );
    expect(sessions.length).toBeGreaterThan(0);
    const s = sessions[0]!;
    const from = Date.parse(s.start) - 60_000;
    const { store } = freshStore();
    try {
      // The inside host's allocation, held over the sessions' day.
      store.write(
        [
          ...sessions,
          {
            kind: 'allocation',
            account: 'INSIDE',
            ip: s.insideIp,
            realm: s.realm,
            start: new Date(from - 86_400_000).toISOString(),
            end: new Date(from + 86_400_000).toISOString(),
            source: 'radius',
          },
        ].map((r) => CanonicalRecord.parse(r)),
      );
      const [r] = await resolveRequests(store, [
        {
          ref: format,
          kind: 'service-users',
          authorisation: { authorityType: 'intelligence-community', condition: 'D', purpose: 'national-security' },
          layers: [
            {
              service: { destinations: [destination], ports: [port] },
              window: { from: new Date(from).toISOString(), to: new Date(from + 3_600_000).toISOString() },
            },
          ],
        },
      ]);
      expect(r).toMatchObject({ status: 'unique', candidates: [{ account: 'INSIDE' }], layers: [{ index: 0, matched: 1, remaining: 1 }] });
    } finally {
      store.close();
    }
  });
});

describe.skipIf(present)('importers keep destinations', () => {
  test.skip(`skipped: ${samplesDir} is absent (the shared samples live beside the repository)`, () => {});
});
