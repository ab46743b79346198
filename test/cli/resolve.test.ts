import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { main } from '../../src/cli.js';
import { packagePath } from '../../src/paths.js';
import { Result } from '../../src/request.js';
import { captureIo, tempDir } from '../support/index.js';

let db = '';
beforeAll(async () => {
  db = join(tempDir(), 'demo.db');
  expect(await main(['ingest', '--db', db, packagePath('fixtures', 'demo', 'records.ndjson')], captureIo())).toBe(0);
});

describe('ipar resolve', () => {
  test('one NDJSON result per request, in input order, each valid against the result schema; exit 1 for the invalid one', async () => {
    const io = captureIo();
    const code = await main(['resolve', '--db', db, packagePath('fixtures', 'demo', 'requests.ndjson')], io);
    const refs = readFileSync(packagePath('fixtures', 'demo', 'requests.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { ref: string }).ref);
    const results = io
      .out()
      .trim()
      .split('\n')
      .map((l) => Result.parse(JSON.parse(l)));
    expect(results.map((r) => r.ref)).toEqual(refs);
    expect(code).toBe(1);
    expect(results.filter((r) => r.status === 'invalid').map((r) => r.ref)).toEqual(['BAD-TIME']);
    expect(io.err()).toMatch(/requests\.ndjson:15: observations\.0\.time: INSTANT_WITHOUT_OFFSET/);
  });

  test('stdin, blank lines skipped, unreadable JSON is an invalid result and the batch goes on', async () => {
    const input = [
      '{"ref":"A","observations":[{"sourceIp":"198.51.100.7","time":"2026-03-28T10:00:00Z"}]}',
      '',
      '{broken',
      '{"ref":"B","observations":[{"sourceIp":"203.0.113.7","sourcePort":1300,"time":"2026-03-28T10:00:00Z"}]}',
    ].join('\n');
    const io = captureIo(input);
    expect(await main(['resolve', '--db', db], io)).toBe(1);
    const results = io
      .out()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Result);
    expect(results.map((r) => [r.ref, r.status])).toEqual([
      ['A', 'unique'],
      [null, 'invalid'],
      ['B', 'unique'],
    ]);
    expect(results[1]!.errors![0]!.reason).toBe('INVALID_JSON');
    expect(io.err()).toMatch(/stdin:3: \(line\): INVALID_JSON/);
  });

  test('--pretty prints a table with one row per request', async () => {
    const io = captureIo('{"ref":"A","observations":[{"sourceIp":"198.51.100.7","time":"2026-03-28T10:00:00Z"}]}\n');
    expect(await main(['resolve', '--db', db, '--pretty', '-'], io)).toBe(0);
    const lines = io.out().trim().split('\n');
    expect(lines[0]).toMatch(/^ref\s+status\s+count/);
    expect(lines[2]).toMatch(/^A\s+unique\s+1\s+ACC-000001/);
  });

  test('a missing store is an I/O error: exit 2', async () => {
    const io = captureIo('');
    expect(await main(['resolve', '--db', join(tempDir(), 'none.db'), '-'], io)).toBe(2);
    expect(io.err()).toMatch(/no store at/);
  });
});

describe('ipar settings and ipar estimate', () => {
  test('a retention horizon set with ipar settings makes old requests flag BEYOND_RETENTION', async () => {
    const local = join(tempDir(), 'op.db');
    expect(await main(['ingest', '--db', local, packagePath('fixtures', 'demo', 'records.ndjson')], captureIo())).toBe(0);
    const set = captureIo();
    expect(await main(['settings', '--db', local, '--retention-horizon', '2026-03-28T00:00:00Z', '--clock-error', 'dhcp=3'], set)).toBe(0);
    expect(JSON.parse(set.out())).toEqual({
      retentionHorizon: '2026-03-28T00:00:00.000Z',
      clockErrorSeconds: { dhcp: 3 },
      jurisdictionZone: 'Europe/London',
      zoneChanges: {},
    });
    const io = captureIo('{"ref":"OLD","observations":[{"sourceIp":"198.51.100.7","time":"2026-03-27T10:00:00Z"}],"toleranceSeconds":1}\n');
    expect(await main(['estimate', '--db', local], io)).toBe(0);
    const e = JSON.parse(io.out()) as { status: string; risks: { code: string }[]; candidates?: unknown };
    expect(e.status).toBe('none');
    expect(e.candidates).toBeUndefined();
    expect(e.risks.map((r) => r.code)).toEqual(expect.arrayContaining(['BEYOND_RETENTION', 'TOLERANCE_BELOW_CLOCK_ERROR']));
  });

  test('the per-layer window bound of connection requests: set on its own, shown, refused when not whole seconds, removed with ""', async () => {
    const local = join(tempDir(), 'layer.db');
    expect(await main(['ingest', '--db', local, packagePath('fixtures', 'demo', 'records.ndjson')], captureIo())).toBe(0);
    const set = captureIo();
    expect(await main(['settings', '--db', local, '--max-layer-window', '3600'], set)).toBe(0);
    expect(JSON.parse(set.out())).toMatchObject({ maxLayerWindowSeconds: 3600 });
    const bad = captureIo();
    expect(await main(['settings', '--db', local, '--max-layer-window', 'abc'], bad)).toBe(2);
    expect(bad.err()).toMatch(/--max-layer-window takes whole seconds, got "abc"/);
    const reset = captureIo();
    expect(await main(['settings', '--db', local, '--max-layer-window', ''], reset)).toBe(0);
    expect(JSON.parse(reset.out())).not.toHaveProperty('maxLayerWindowSeconds');
  });

  test('the jurisdiction zone: set, shown, refused when not an IANA zone, restored with ""', async () => {
    const local = join(tempDir(), 'zone.db');
    // settings never creates a store (issue 21): the store exists first.
    expect(await main(['ingest', '--db', local, packagePath('fixtures', 'demo', 'records.ndjson')], captureIo())).toBe(0);
    const set = captureIo();
    expect(await main(['settings', '--db', local, '--jurisdiction-zone', 'Europe/Dublin'], set)).toBe(0);
    expect(JSON.parse(set.out())).toMatchObject({ jurisdictionZone: 'Europe/Dublin' });
    const bad = captureIo();
    expect(await main(['settings', '--db', local, '--jurisdiction-zone', 'Mars/Olympus'], bad)).toBe(2);
    expect(bad.err()).toMatch(/--jurisdiction-zone: not an IANA time zone: "Mars\/Olympus"/);
    const reset = captureIo();
    expect(await main(['settings', '--db', local, '--jurisdiction-zone', ''], reset)).toBe(0);
    expect(JSON.parse(reset.out())).toMatchObject({ jurisdictionZone: 'Europe/London' });
    const changed = captureIo();
    expect(await main(['settings', '--db', local, '--zone-change', 'radius=2026-03-01T00:00:00Z'], changed)).toBe(0);
    expect(JSON.parse(changed.out())).toMatchObject({ zoneChanges: { radius: '2026-03-01T00:00:00.000Z' } });
    const badChange = captureIo();
    expect(await main(['settings', '--db', local, '--zone-change', 'radius'], badChange)).toBe(2);
    expect(badChange.err()).toMatch(/SOURCE=INSTANT/);
  });

  test('a malformed setting is a usage error', async () => {
    const io = captureIo();
    expect(await main(['settings', '--db', join(tempDir(), 'x.db'), '--clock-error', 'dhcp'], io)).toBe(2);
    expect(io.err()).toMatch(/SOURCE=SECONDS/);
  });
});
