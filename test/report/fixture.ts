/** The demo operator resolved, estimated and reported once, for the report tests. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { main } from '../../src/cli.js';
import { packagePath } from '../../src/paths.js';
import type { Estimate, Result } from '../../src/request.js';
import { captureIo, tempDir } from '../support/index.js';

/** Two requests the demo batch lacks: one in the dhcp coverage gap, one a 12-hour clock reading. */
export const EXTRA_REQUESTS = [
  '{"ref":"GAP","observations":[{"sourceIp":"198.51.100.8","time":"2026-03-28T20:30:00Z"}],"toleranceSeconds":2}',
  '{"ref":"CLOCK-12H","observations":[{"sourceIp":"198.51.100.7","time":{"local":"2026-03-28T11:00:00","timeZone":"Europe/London"},"clock":"12h-ambiguous"}],"toleranceSeconds":5}',
];

export interface Reported {
  readonly dir: string;
  readonly db: string;
  readonly requestsFile: string;
  readonly resultsFile: string;
  readonly results: readonly Result[];
  readonly estimates: readonly Estimate[];
  /** The folder `resolve --report` wrote, and the one `estimate` then `report` wrote. */
  readonly resolveOut: string;
  readonly estimateOut: string;
}

/** Ingest the demo records, resolve the demo requests (and {@link EXTRA_REQUESTS}) with --report, estimate them and report the estimates. */
export async function reportDemo(): Promise<Reported> {
  const dir = tempDir();
  const db = join(dir, 'demo.db');
  expect(await main(['ingest', '--db', db, packagePath('fixtures', 'demo', 'records.ndjson')], captureIo())).toBe(0);
  const requestsFile = join(dir, 'requests.ndjson');
  writeFileSync(requestsFile, readFileSync(packagePath('fixtures', 'demo', 'requests.ndjson'), 'utf8') + EXTRA_REQUESTS.join('\n') + '\n');
  const resolveOut = join(dir, 'report');
  const io = captureIo();
  // BAD-TIME is invalid on purpose: exit 1, and its page is written all the same.
  expect(await main(['resolve', '--db', db, '--report', resolveOut, requestsFile], io)).toBe(1);
  const resultsFile = join(dir, 'results.ndjson');
  writeFileSync(resultsFile, io.out());
  const results = io
    .out()
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Result);

  const est = captureIo();
  expect(await main(['estimate', '--db', db, requestsFile], est)).toBe(1);
  const estimatesFile = join(dir, 'estimates.ndjson');
  writeFileSync(estimatesFile, est.out());
  const estimateOut = join(dir, 'estimate-report');
  const rep = captureIo();
  expect(await main(['report', '--db', db, '--requests', requestsFile, '--out', estimateOut, estimatesFile], rep)).toBe(0);
  const estimates = est
    .out()
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Estimate);
  return { dir, db, requestsFile, resultsFile, results, estimates, resolveOut, estimateOut };
}

/** The connection requests' folders (fixtures/demo/connection-requests.ndjson), as {@link Reported} has them. */
export type ReportedConnections = Pick<Reported, 'db' | 'results' | 'estimates' | 'resolveOut' | 'estimateOut'>;

/** The demo operator with its connection records (issue 19), its connection requests resolved and estimated with --report. */
export async function reportConnections(): Promise<ReportedConnections> {
  const dir = tempDir();
  const db = join(dir, 'connections.db');
  const records = ['records.ndjson', 'connections.ndjson'].map((f) => packagePath('fixtures', 'demo', f));
  expect(await main(['ingest', '--db', db, ...records], captureIo())).toBe(0);
  const requests = packagePath('fixtures', 'demo', 'connection-requests.ndjson');
  const lines = (text: string) =>
    text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as never);
  const resolveOut = join(dir, 'report');
  const io = captureIo();
  expect(await main(['resolve', '--db', db, '--report', resolveOut, requests], io)).toBe(0);
  const estimateOut = join(dir, 'estimate-report');
  const est = captureIo();
  expect(await main(['estimate', '--db', db, '--report', estimateOut, requests], est)).toBe(0);
  return { db, results: lines(io.out()), estimates: lines(est.out()), resolveOut, estimateOut };
}
