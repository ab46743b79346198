import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { main } from '../../src/cli.js';
import { pairRequests } from '../../src/cli/report.js';
import { findChromium, pageName } from '../../src/report/write.js';
import { tickStep } from '../../src/report/timeline.js';
import { captureIo, tempDir } from '../support/index.js';
import { reportDemo, type Reported } from './fixture.js';

let demo: Reported;
beforeAll(async () => {
  demo = await reportDemo();
});

function page(dir: string, position: number, ref: string): string {
  return readFileSync(join(dir, pageName(position, ref)), 'utf8');
}

/** Every account name the demo records hold. */
const ACCOUNTS = Array.from({ length: 11 }, (_, i) => `ACC-${String(i + 1).padStart(6, '0')}`);

describe('ipar report: the folder', () => {
  test('one page per result, named by position and ref, and an index linking each', () => {
    const files = readdirSync(demo.resolveOut).sort();
    expect(files).toEqual(['index.html', ...demo.results.map((r, i) => pageName(i, r.ref))].sort());
    const index = readFileSync(join(demo.resolveOut, 'index.html'), 'utf8');
    for (const [i, r] of demo.results.entries()) expect(index).toContain(`href="${pageName(i, r.ref)}"`);
  });

  test('every page is self-contained: no script, no stylesheet link, nothing fetched, a policy that forbids fetching', () => {
    for (const dir of [demo.resolveOut, demo.estimateOut]) {
      for (const f of readdirSync(dir)) {
        const html = readFileSync(join(dir, f), 'utf8');
        expect(html, f).not.toMatch(/<script|<link|<img|<iframe|@import|url\(/i);
        // The SVG namespace is a name, not a fetch; any other URL would be one.
        expect(html.replaceAll('xmlns="http://www.w3.org/2000/svg"', ''), f).not.toMatch(/https?:\/\//);
        expect(html, f).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`);
      }
    }
  });

  test('the request is shown exactly as received, with each time as written, beside the window it became', () => {
    const lines = readFileSync(demo.requestsFile, 'utf8').trim().split('\n');
    const i = demo.results.findIndex((r) => r.ref === 'DYN-LOCAL');
    const html = page(demo.resolveOut, i, 'DYN-LOCAL');
    const escaped = lines[i]!.replaceAll('&', '&amp;').replaceAll('"', '&quot;');
    expect(html).toContain(`<pre class="request-line">${escaped}</pre>`);
    expect(html).toContain('&quot;local&quot;:&quot;2026-03-28T10:00:00&quot;,&quot;timeZone&quot;:&quot;Europe/London&quot;');
    expect(html).toContain('wall-clock time in Europe/London, offset in force +00:00');
    const w = demo.results[i]!.observations[0]!.window;
    expect(html).toContain(`[${w.start}, ${w.end})`);
    expect(html).toMatch(/tolerance<\/th><td class="mono">2 s/);
    expect(html).toMatch(/return policy<\/th><td class="mono">single-only \(default\)/);
  });

  test('only disclosed accounts are named: a withheld answer and every estimate name nobody', () => {
    const edge = demo.results.findIndex((r) => r.ref === 'DYN-EDGE');
    expect(demo.results[edge]!.withheld).toBe(true);
    const html = page(demo.resolveOut, edge, 'DYN-EDGE');
    for (const a of ACCOUNTS) expect(html).not.toContain(a);
    expect(html).toContain('account A (not disclosed)');
    expect(html).toContain('account B (not disclosed)');
    for (const f of readdirSync(demo.estimateOut)) {
      const text = readFileSync(join(demo.estimateOut, f), 'utf8');
      for (const a of ACCOUNTS) expect(text, f).not.toContain(a);
    }
    // The unique answer names its account, and the other holder of the shared address stays a letter.
    const corr = demo.results.findIndex((r) => r.ref === 'CORRELATE-2');
    const c = page(demo.resolveOut, corr, 'CORRELATE-2');
    expect(c).toContain('ACC-000007');
    expect(c).not.toContain('ACC-000006');
    expect(c).toContain('account A (not disclosed)');
  });

  test('an estimate page shows the counts by support, no candidates', () => {
    const i = demo.estimates.findIndex((e) => e.ref === 'CORRELATE-2');
    const html = page(demo.estimateOut, i, 'CORRELATE-2');
    expect(html).toContain('Estimate (counts only, no identities)');
    const counts = [...html.matchAll(/<td class="support-count">(\d+)<\/td>/g)].map((m) => Number(m[1]));
    expect(counts).toEqual(demo.estimates[i]!.supportCounts);
  });

  test('each page carries its audit entry: the hash of its line, and the request hash checked', () => {
    const i = demo.results.findIndex((r) => r.ref === 'PBA-PORT');
    const html = page(demo.resolveOut, i, 'PBA-PORT');
    expect(html).toMatch(/<td class="mono audit-sequence">\d+<\/td>/);
    expect(html).toContain('(the request shown hashes to it)');
  });

  test('the audit entry shown is the one ipar audit show prints for the ref', async () => {
    const i = demo.results.findIndex((r) => r.ref === 'PBA-PORT');
    const html = page(demo.resolveOut, i, 'PBA-PORT');
    const audit = captureIo();
    expect(await main(['audit', 'show', '--db', demo.db, '--ref', 'PBA-PORT', '--action', 'resolve'], audit)).toBe(0);
    const entry = JSON.parse(audit.out().trim().split('\n')[0]!) as { seq: number; hash: string; resultHash: string };
    expect(html).toContain(`<td class="mono audit-sequence">${entry.seq}</td>`);
    expect(html).toContain(`<td class="mono audit-entry-hash">${entry.hash}</td>`);
    expect(html).toContain(`<td class="mono audit-result-hash">${entry.resultHash}</td>`);
  });

  test('the invalid request gets a page with its problems; the refused and invalid say nothing was looked up', () => {
    const i = demo.results.findIndex((r) => r.ref === 'BAD-TIME');
    const html = page(demo.resolveOut, i, 'BAD-TIME');
    expect(html).toContain('INSTANT_WITHOUT_OFFSET');
    expect(html).toContain('nothing was looked up');
  });
});

describe('ipar report: the audit and the request are checked, not trusted', () => {
  test('a result line changed after it was audited has no entry: the page says so and the exit is 1', async () => {
    const lines = readFileSync(demo.resultsFile, 'utf8').trim().split('\n');
    const changed = lines.map((l) => (l.startsWith('{"ref":"PBA-PORT"') ? l.replace('"ACC-000006"', '"ACC-000999"') : l));
    expect(changed).not.toEqual(lines);
    const file = join(tempDir(), 'changed.ndjson');
    writeFileSync(file, changed.join('\n') + '\n');
    const out = join(tempDir(), 'r');
    const io = captureIo();
    expect(await main(['report', '--db', demo.db, '--out', out, file], io)).toBe(1);
    expect(io.err()).toMatch(/report: \d+ pages and .*; 1 results have no audit entry/);
    const i = demo.results.findIndex((r) => r.ref === 'PBA-PORT');
    expect(page(out, i, 'PBA-PORT')).toContain('holds no entry for this result line');
  });

  test('a request line that is not the one audited is named on the page', async () => {
    const lines = readFileSync(demo.requestsFile, 'utf8').trim().split('\n');
    const i = demo.results.findIndex((r) => r.ref === 'DYN-1');
    lines[i] = lines[i]!.replace('"toleranceSeconds":2', '"toleranceSeconds":3');
    const requests = join(tempDir(), 'requests.ndjson');
    writeFileSync(requests, lines.join('\n') + '\n');
    const out = join(tempDir(), 'r');
    expect(await main(['report', '--db', demo.db, '--requests', requests, '--out', out, demo.resultsFile], captureIo())).toBe(0);
    expect(page(out, i, 'DYN-1')).toContain('The request line given is not the one audited for this result.');
  });

  test('an unreadable result line is reported with its line number, exit 1, the rest reported', async () => {
    const file = join(tempDir(), 'bad.ndjson');
    writeFileSync(file, readFileSync(demo.resultsFile, 'utf8').split('\n').slice(0, 2).join('\n') + '\n{"ref":"X"}\n');
    const out = join(tempDir(), 'r');
    const io = captureIo();
    expect(await main(['report', '--db', demo.db, '--out', out, file], io)).toBe(1);
    expect(io.err()).toMatch(/bad\.ndjson:3: RESULT_UNREADABLE: neither a result nor an estimate/);
    expect(readdirSync(out)).toHaveLength(3);
  });
});

describe('ipar report --pdf', () => {
  test('without a Chromium it says so, writes the HTML and exits 2', async () => {
    const saved = process.env['IPAR_CHROMIUM'];
    process.env['IPAR_CHROMIUM'] = join(tempDir(), 'no-such-chromium');
    try {
      const out = join(tempDir(), 'r');
      const io = captureIo();
      expect(await main(['report', '--db', demo.db, '--out', out, '--pdf', demo.resultsFile], io)).toBe(2);
      expect(io.err()).toMatch(/--pdf: no Chromium is installed .*the HTML pages were written, no PDF/);
      expect(existsSync(join(out, 'index.html'))).toBe(true);
      expect(readdirSync(out).some((f) => f.endsWith('.pdf'))).toBe(false);
    } finally {
      if (saved === undefined) delete process.env['IPAR_CHROMIUM'];
      else process.env['IPAR_CHROMIUM'] = saved;
    }
  });

  test('findChromium looks on PATH for the usual names', () => {
    const dir = tempDir();
    expect(findChromium({ PATH: dir })).toBeNull();
    const fake = join(dir, 'chromium');
    writeFileSync(fake, '#!/bin/sh\n', { mode: 0o755 });
    expect(findChromium({ PATH: dir })).toBe(fake);
  });
});

describe('report helpers', () => {
  test('pairRequests: by position when the files line up, else by ref, first unused', () => {
    const a = '{"ref":"A"}',
      b = '{"ref":"B"}',
      b2 = '{"ref":"B","x":1}';
    expect(pairRequests([{ ref: 'A' }, { ref: null }], [a, '{broken'])).toEqual([a, '{broken']);
    expect(pairRequests([{ ref: 'B' }, { ref: 'B' }, { ref: 'C' }], [b, a, b2])).toEqual([b, b2, null]);
    expect(pairRequests([{ ref: 'A' }], null)).toEqual([null]);
  });

  test.each([
    ['5 s', 5_000, 1_000],
    ['65 s', 65_000, 10_000],
    ['2.4 h', 8_640_000, 30 * 60_000],
    ['3 days', 3 * 86_400_000, 12 * 3_600_000],
  ])('tickStep: a span of %s (%d ms) gets a tick every %d ms, at most eight', (_name, span, step) => {
    expect(tickStep(span)).toBe(step);
    expect(span / tickStep(span)).toBeLessThanOrEqual(8);
  });
});

describe('ipar report: fields a later result carries', () => {
  test("every flag's severity, and a result's signature when present, are shown", async () => {
    const lines = readFileSync(demo.resultsFile, 'utf8').trim().split('\n');
    const i = demo.results.findIndex((r) => r.ref === 'PBA-PORT');
    const value = JSON.parse(lines[i]!) as { risks: { severity: string }[]; signature?: string };
    value.signature = 'ed25519:c2lnbmF0dXJl';
    const file = join(tempDir(), 'later.ndjson');
    writeFileSync(file, JSON.stringify(value) + '\n');
    const out = join(tempDir(), 'r');
    // A changed line has no audit entry: exit 1, the page written all the same.
    expect(await main(['report', '--db', demo.db, '--out', out, file], captureIo())).toBe(1);
    const html = page(out, 0, 'PBA-PORT');
    expect(value.risks.length).toBeGreaterThan(0);
    for (const r of value.risks) expect(html).toContain(`<span class="severity severity-${r.severity}">${r.severity}</span>`);
    expect(html).toContain('<td class="mono audit-signature">ed25519:c2lnbmF0dXJl</td>');
  });

  test('a result without a signature shows none', () => {
    const i = demo.results.findIndex((r) => r.ref === 'PBA-PORT');
    const html = page(demo.resolveOut, i, 'PBA-PORT');
    expect(html).not.toContain('audit-signature');
  });
});

describe('ipar estimate --report', () => {
  test('writes the same folder for an estimate batch: counts, no identities, each page audited', async () => {
    const out = join(tempDir(), 'est');
    const io = captureIo();
    expect(await main(['estimate', '--db', demo.db, '--report', out, demo.requestsFile], io)).toBe(1);
    expect(io.err()).toMatch(/report: 17 pages and /);
    expect(io.err()).not.toMatch(/no audit entry/);
    for (const f of readdirSync(out)) {
      const html = readFileSync(join(out, f), 'utf8');
      for (const a of ACCOUNTS) expect(html, f).not.toContain(a);
    }
    expect(page(out, 0, 'DYN-1')).toContain('Estimate (counts only, no identities)');
  });
});

describe("ipar report: the limits of a source's data", () => {
  test("an inferred gap (the source fell silent) is drawn on its source's row, and a window in it says so", async () => {
    const dir = tempDir();
    const records = join(dir, 'records.ndjson');
    const at = (ms: number) => new Date(Date.parse('2026-03-28T10:00:00Z') + ms).toISOString();
    const lines = ['{"kind":"address-space","prefix":"192.0.2.0/24","role":"dynamic"}'];
    // radius-x logs a start and an end every 30 s for three days from 2026-03-27T10:00Z, but
    // falls silent 12:00–13:00 on the 28th (its usual rate at that hour, from the other days, expects 160 events).
    for (let t = -86_400_000; t < 2 * 86_400_000; t += 30_000) {
      if (t >= 2 * 3_600_000 && t < 3 * 3_600_000) continue;
      lines.push(
        JSON.stringify({
          kind: 'allocation',
          account: `ACC-${t / 30_000}`,
          ip: `192.0.2.${Math.abs(t / 30_000) % 200}`,
          start: at(t),
          end: at(t + 60_000),
          source: 'radius-x',
        }),
      );
    }
    writeFileSync(records, lines.join('\n') + '\n');
    const db = join(dir, 'x.db');
    const ingested = captureIo();
    expect(await main(['ingest', '--db', db, records], ingested), ingested.err()).toBe(0);
    const listing = captureIo();
    expect(await main(['coverage', '--db', db, '--json'], listing)).toBe(0);
    const gaps = (JSON.parse(listing.out()) as { gaps: { source: string; kind: string; start: string; end: string }[] }).gaps;
    expect(gaps.filter((g) => g.kind === 'inferred')).toHaveLength(1);
    const gap = gaps.find((g) => g.kind === 'inferred')!;
    const requests = join(dir, 'requests.ndjson');
    writeFileSync(requests, '{"ref":"SILENT","observations":[{"sourceIp":"192.0.2.7","time":"2026-03-28T12:30:00Z"}],"toleranceSeconds":2}\n');
    const out = join(dir, 'report');
    await main(['resolve', '--db', db, '--report', out, requests], captureIo());
    const html = readFileSync(join(out, pageName(0, 'SILENT')), 'utf8');
    const row =
      /<g class="row row-source" data-label="source radius-x" data-source="radius-x" data-first="([^"]+)" data-last="([^"]+)" data-relation="inside" data-in-gap="inferred">(.*?)<\/g>/.exec(
        html,
      );
    expect(row, 'the radius-x row').not.toBeNull();
    expect(row![3]).toContain(`class="bar bar-inferred-gap" x=`);
    expect(row![3]).toContain(`data-kind="inferred-gap" data-start="${gap.start}" data-end="${gap.end}"`);
    expect(html).toContain('the window is in its inferred gap');
  });
});
