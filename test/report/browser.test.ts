/**
 * Report pages in a real browser (issue 21): Debian's Chromium, driven by playwright-core
 * (never a downloaded browser). Each page is loaded from disk, its DOM checked — a bar per
 * record at its time, the window at its time, the flags listed — and its requests
 * watched: the only one is the page itself. Screenshots go to test/output/report/ for a
 * person to look at (gitignored).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { main } from '../../src/cli.js';
import { packagePath } from '../../src/paths.js';
import type { Estimate, Result } from '../../src/request.js';
import { CHROMIUM_FLAGS, pageName } from '../../src/report/write.js';
import { captureIo, tempDir } from '../support/index.js';
import { reportConnections, reportDemo, type Reported, type ReportedConnections } from './fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = packagePath('test', 'output', 'report');
const present = existsSync(CHROMIUM);

if (!present) {
  const message = `browser tests skipped: no Chromium at ${CHROMIUM} (apt-get install chromium; .ci/run installs it)`;
  process.stderr.write(`\n${message}\n\n`);
  if (process.env['CI'] === 'true') {
    test('Chromium is installed in CI', () => {
      throw new Error(`CI=true but ${message}`);
    });
  }
}

let demo: Reported;
let connections: ReportedConnections;
let browser: Browser;

beforeAll(async () => {
  if (!present) return;
  demo = await reportDemo();
  connections = await reportConnections();
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_FLAGS] });
});

afterAll(async () => {
  await browser?.close();
});

interface Loaded {
  readonly page: Page;
  /** Every URL the page asked for, the page itself included. */
  readonly requests: string[];
  readonly url: string;
}

async function load(file: string, shot?: string): Promise<Loaded> {
  const context = await browser.newContext({ viewport: { width: 1040, height: 900 } });
  const page = await context.newPage();
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  const url = pathToFileURL(file).href;
  await page.goto(url, { waitUntil: 'load' });
  if (shot !== undefined) await page.screenshot({ path: join(SHOTS, shot), fullPage: true });
  return { page, requests, url };
}

/** What the DOM draws: each bar's and window's interval and where it is drawn. */
interface Drawn {
  readonly span: { start: number; end: number; left: number; right: number };
  readonly bars: { kind: string; start: string; end: string; x: number; width: number; row: string }[];
  readonly band: { start: string; end: string; x: number; width: number };
}

async function timelines(page: Page): Promise<Drawn[]> {
  return page.$$eval('section.observation svg.timeline', (svgs) =>
    svgs.map((svg) => {
      const num = (el: { getAttribute(name: string): string | null }, a: string) => Number(el.getAttribute(a));
      const band = svg.querySelector('rect.window-band')!;
      return {
        span: {
          start: Date.parse(svg.getAttribute('data-span-start')!),
          end: Date.parse(svg.getAttribute('data-span-end')!),
          left: num(svg, 'data-plot-left'),
          right: num(svg, 'data-plot-right'),
        },
        bars: [...svg.querySelectorAll('rect.bar')].map((b) => ({
          kind: b.getAttribute('data-kind')!,
          start: b.getAttribute('data-start')!,
          end: b.getAttribute('data-end')!,
          x: num(b, 'x'),
          width: num(b, 'width'),
          row: b.closest('g.row')!.getAttribute('data-label')!,
        })),
        band: { start: band.getAttribute('data-start')!, end: band.getAttribute('data-end')!, x: num(band, 'x'), width: num(band, 'width') },
      };
    }),
  );
}

/** Where an instant should be drawn: the reference model, the plain linear scale. */
function expectedX(t: number, s: Drawn['span']): number {
  const clamped = Math.min(Math.max(t, s.start), s.end);
  return s.left + ((clamped - s.start) / (s.end - s.start)) * (s.right - s.left);
}

function resultPage(ref: string): { file: string; result: Result } {
  const i = demo.results.findIndex((r) => r.ref === ref);
  return { file: join(demo.resolveOut, pageName(i, ref)), result: demo.results[i]! };
}

/** The records of fixtures/demo each page must draw (in its widest timeline): kind → count. */
const EXPECTED_BARS: readonly [string, Record<string, number>][] = [
  ['DYN-EDGE', { allocation: 2 }],
  ['PBA-PORT', { 'nat-block': 1, allocation: 1 }],
  ['PBA-NOPORT', { 'nat-block': 2, allocation: 2 }],
  ['SESSION-DST', { 'nat-session': 2, allocation: 2 }],
  ['DET-44', { 'nat-deterministic': 1, allocation: 1 }],
  ['GAP', { allocation: 1, coverage: 1 }],
];

describe.skipIf(!present)('report pages in Chromium', () => {
  test.each(EXPECTED_BARS)('%s: a bar per record, each drawn at its time, and the window at its time', async (ref, kinds) => {
    const { file, result } = resultPage(ref);
    const { page } = await load(file, `${ref}.png`);
    const drawn = await timelines(page);
    expect(drawn.length).toBeGreaterThan(0);
    const widest = drawn[drawn.length - 1]!;
    const counts: Record<string, number> = {};
    for (const b of widest.bars) counts[b.kind] = (counts[b.kind] ?? 0) + 1;
    expect(counts).toEqual(kinds);
    for (const t of drawn) {
      // The band is the observation window of the result, drawn where the scale puts it.
      expect({ start: t.band.start, end: t.band.end }).toEqual(result.observations[0]!.window);
      const mid = (expectedX(Date.parse(t.band.start), t.span) + expectedX(Date.parse(t.band.end), t.span)) / 2;
      expect(Math.abs(t.band.x + t.band.width / 2 - mid)).toBeLessThan(1.01);
      for (const b of t.bars) {
        const x0 = expectedX(Date.parse(b.start), t.span);
        const x1 = b.end === 'open' ? t.span.right : expectedX(Date.parse(b.end), t.span);
        expect(Math.abs(b.x + b.width / 2 - (x0 + x1) / 2), `${ref} ${b.kind} ${b.start}`).toBeLessThan(1.01);
      }
    }
    await page.context().close();
  });

  test('DYN-EDGE: the address changed hands inside the window, and both holders are drawn anonymously', async () => {
    const { file } = resultPage('DYN-EDGE');
    const { page } = await load(file, 'DYN-EDGE-close.png');
    const [near] = await timelines(page);
    const rows = [...new Set(near!.bars.map((b) => b.row))];
    expect(rows).toEqual(['account A (not disclosed)', 'account B (not disclosed)']);
    const band = { start: Date.parse(near!.band.start), end: Date.parse(near!.band.end) };
    const [first, second] = near!.bars;
    expect(Date.parse(first!.end)).toBeGreaterThan(band.start);
    expect(Date.parse(first!.end)).toBeLessThan(band.end);
    expect(Date.parse(second!.start)).toBe(Date.parse(first!.end));
    await page.context().close();
  });

  test('every flag of every result is listed with its paragraph, grouped by observation', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    for (const r of demo.results) {
      const i = demo.results.indexOf(r);
      await page.goto(pathToFileURL(join(demo.resolveOut, pageName(i, r.ref))).href);
      const listed = await page.$$eval('li.flag', (lis) =>
        lis.map((li) => ({ code: li.getAttribute('data-code'), text: li.textContent ?? '', group: li.closest('ul')!.previousElementSibling!.textContent })),
      );
      expect(listed.map((l) => l.code).sort()).toEqual(r.risks.map((k) => k.code).sort());
      for (const k of r.risks) {
        const shown = listed.find((l) => l.code === k.code && l.text.includes(k.message));
        expect(shown?.text).toContain(`paragraph ${k.paragraph}`);
        const o = k.detail['observation'];
        expect(shown?.group).toBe(typeof o === 'number' ? `Observation ${o}` : o === 'all' ? 'All observations shifted together' : 'The request as a whole');
      }
      expect(await page.locator('[data-status]').getAttribute('data-status')).toBe(r.status);
    }
    await context.close();
  });

  test('a reading of the time that changes the answer is marked on its row', async () => {
    const { file, result } = resultPage('CLOCK-12H');
    const { page } = await load(file, 'CLOCK-12H.png');
    const changing = await page.$$eval('svg.timeline:last-of-type rect.reading-changes', (rs) => rs.map((r) => r.closest('g.row')!.getAttribute('data-label')));
    const flagged = result.risks
      .filter((k) => k.code.startsWith('TIME_READING_'))
      .flatMap((k) => (k.detail['readings'] as { reading: string }[]).map((x) => `reading: ${x.reading}`));
    expect(flagged).toContain('reading: plus-12h');
    expect([...new Set(changing)].sort()).toEqual([...new Set(flagged)].sort());
    await page.context().close();
  });

  test('no page asks for anything but itself: every page of both folders, and the index', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    let requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    for (const dir of [demo.resolveOut, demo.estimateOut]) {
      for (const f of readdirSync(dir).filter((n) => n.endsWith('.html'))) {
        requests = [];
        const url = pathToFileURL(join(dir, f)).href;
        await page.goto(url, { waitUntil: 'load' });
        expect(requests, f).toEqual([url]);
      }
    }
    await context.close();
  });

  test('an estimate page draws the same records, every holder anonymous', async () => {
    const i = demo.estimates.findIndex((e) => e.ref === 'CORRELATE-2');
    const { page } = await load(join(demo.estimateOut, pageName(i, 'CORRELATE-2')), 'estimate-CORRELATE-2.png');
    const rows = (await timelines(page)).flatMap((t) => t.bars.filter((b) => b.kind === 'allocation').map((b) => b.row));
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row).toMatch(/^account [A-Z] \(not disclosed\)$/);
    await page.context().close();
  });

  test('the index links each page, and each link opens it', async () => {
    const { page } = await load(join(demo.resolveOut, 'index.html'), 'index.png');
    const links = await page.$$eval('table.index a', (as) => as.map((a) => a.getAttribute('href')));
    expect(links).toEqual(demo.results.map((r, i) => pageName(i, r.ref)));
    await page.click('text=PBA-PORT');
    expect(page.url()).toBe(
      pathToFileURL(
        join(
          demo.resolveOut,
          pageName(
            demo.results.findIndex((r) => r.ref === 'PBA-PORT'),
            'PBA-PORT',
          ),
        ),
      ).href,
    );
    await page.context().close();
  });

  test("the limits of each source's data: a span per source on its own row, at its time, placed against the window", async () => {
    // The reference: what `ipar coverage` lists, and where a window lies against a span read from it alone.
    const io = captureIo();
    expect(await main(['coverage', '--db', demo.db, '--json'], io)).toBe(0);
    const listing = JSON.parse(io.out()) as {
      sources: { source: string; role: string; first: string; last: string }[];
      gaps: { source: string; kind: string; start: string; end: string }[];
    };
    const allocationSources = listing.sources.filter((s) => s.role === 'allocation').map((s) => s.source);
    // LATE: a day after most sources' last record; nothing holds the address then, so every allocation source is drawn.
    const late = join(tempDir(), 'late.ndjson');
    writeFileSync(late, '{"ref":"LATE","observations":[{"sourceIp":"198.51.100.7","time":"2026-03-29T12:00:00Z"}],"toleranceSeconds":2}\n');
    const lateOut = join(tempDir(), 'late-report');
    expect(await main(['resolve', '--db', demo.db, '--report', lateOut, late], captureIo())).toBe(0);
    const cases: [string, string, string[]][] = [
      ['GAP', resultPage('GAP').file, ['dhcp']],
      ['PBA-PORT', resultPage('PBA-PORT').file, ['cgn-a', 'radius']],
      ['LATE', join(lateOut, pageName(0, 'LATE')), allocationSources],
    ];
    const relations: Record<string, Record<string, string>> = {};
    for (const [ref, file, sources] of cases) {
      const { page } = await load(file, `sources-${ref}.png`);
      const svgs = await page.$$eval('section.observation svg.timeline', (all) =>
        all.map((svg) => ({
          span: { start: Date.parse(svg.getAttribute('data-span-start')!), end: Date.parse(svg.getAttribute('data-span-end')!) },
          left: Number(svg.getAttribute('data-plot-left')),
          right: Number(svg.getAttribute('data-plot-right')),
          band: (() => {
            const b = svg.querySelector('rect.window-band')!;
            return { start: Date.parse(b.getAttribute('data-start')!), end: Date.parse(b.getAttribute('data-end')!) };
          })(),
          rows: [...svg.querySelectorAll('g.row-source')].map((g) => {
            const r = g.querySelector('rect.source-span');
            return {
              source: g.getAttribute('data-source')!,
              first: g.getAttribute('data-first')!,
              last: g.getAttribute('data-last')!,
              relation: g.getAttribute('data-relation')!,
              inGap: g.getAttribute('data-in-gap')!,
              rect: r === null ? null : { x: Number(r.getAttribute('x')), width: Number(r.getAttribute('width')) },
              note: g.querySelector('text.off-view')?.textContent ?? null,
              gaps: [...g.querySelectorAll('rect.bar-coverage')].map((b) => ({ start: b.getAttribute('data-start')!, end: b.getAttribute('data-end')! })),
            };
          }),
        })),
      );
      expect(svgs.length).toBeGreaterThan(0);
      relations[ref] = {};
      for (const svg of svgs) {
        expect(
          svg.rows.map((r) => r.source),
          ref,
        ).toEqual([...sources].sort());
        const s = { ...svg.span, left: svg.left, right: svg.right };
        for (const row of svg.rows) {
          const listed = listing.sources.find((x) => x.source === row.source)!;
          expect({ first: row.first, last: row.last }).toEqual({ first: listed.first, last: listed.last });
          const [first, last] = [Date.parse(listed.first), Date.parse(listed.last)];
          const w = svg.band;
          const relation = w.end <= first ? 'before' : w.start > last ? 'after' : w.start >= first && w.end <= last ? 'inside' : 'partial';
          expect(row.relation, `${ref} ${row.source}`).toBe(relation);
          relations[ref]![row.source] = relation;
          const declared = listing.gaps.filter((g) => g.source === row.source && g.kind === 'declared');
          const inGap = declared.some((g) => Date.parse(g.start) < w.end && Date.parse(g.end) > w.start);
          expect(row.inGap.split(' ').includes('declared'), `${ref} ${row.source} in gap`).toBe(inGap);
          // Drawn where the scale puts it when it reaches the view; else a note on the side where it lies.
          if (last < s.start) {
            expect(row.rect).toBeNull();
            expect(row.note).toContain(`← its data ends ${listed.last.slice(0, 16).replace('T', ' ')}Z`);
          } else if (first > s.end) {
            expect(row.rect).toBeNull();
            expect(row.note).toContain(`its data begins ${listed.first.slice(0, 16).replace('T', ' ')}Z →`);
          } else {
            expect(row.rect, `${ref} ${row.source}`).not.toBeNull();
            const [x0, x1] = [expectedX(first, s), expectedX(last, s)];
            expect(Math.abs(row.rect!.x + row.rect!.width / 2 - (x0 + x1) / 2)).toBeLessThan(1.01);
            if (x1 - x0 >= 2) expect(Math.abs(row.rect!.width - (x1 - x0))).toBeLessThan(0.02);
          }
          // Its declared gaps in the view, on its row.
          const shown = declared.filter((g) => Date.parse(g.start) < s.end && Date.parse(g.end) > s.start);
          expect(row.gaps).toEqual(shown.map((g) => ({ start: g.start, end: g.end })));
        }
      }
      await page.context().close();
    }
    // What a person sees at a glance: GAP is after dhcp's last record and in its declared gap; LATE after every source's data but dhcpv6-pd's.
    expect(relations['GAP']).toEqual({ dhcp: 'after' });
    expect(relations['PBA-PORT']).toEqual({ 'cgn-a': 'inside', radius: 'inside' });
    expect(Object.entries(relations['LATE']!).filter(([, r]) => r !== 'after')).toEqual([['dhcpv6-pd', 'inside']]);
    const gap = readFileSync(resultPage('GAP').file, 'utf8');
    expect(gap).toContain('the window is after its last record; the window is in its declared gap');
  });

  test('the assessment heads every page, and every piece of advice is listed with its counts', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const pages = [
      ...demo.results.map((r, i) => ({ file: join(demo.resolveOut, pageName(i, r.ref)), result: r as Result | Estimate })),
      ...demo.estimates.map((e, i) => ({ file: join(demo.estimateOut, pageName(i, e.ref)), result: e as Result | Estimate })),
    ];
    let advised = 0;
    for (const { file, result } of pages) {
      await page.goto(pathToFileURL(file).href);
      // Prominent: right under the title, before what the answer means.
      const assessment = await page.$eval('main > p.assessment', (p) => ({
        text: p.querySelector('.assessment-text')!.textContent,
        robust: p.getAttribute('data-robust'),
        next: p.nextElementSibling!.className,
        before: p.previousElementSibling!.previousElementSibling!.tagName,
      }));
      expect(assessment, file).toEqual({ text: result.assessment, robust: String(result.assessment.startsWith('robust')), next: 'means', before: 'H1' });
      expect(await page.$eval('.advice-total', (e) => e.getAttribute('data-count'))).toBe(String(result.advice.length));
      const rows = await page.$$eval('tr.advice', (trs) =>
        trs.map((tr) => ({
          kind: tr.getAttribute('data-kind'),
          counts: [...tr.querySelectorAll('.advice-count')].map((c) => [c.getAttribute('data-count'), Number(c.textContent)]),
          message: tr.querySelector('.advice-message')!.textContent,
        })),
      );
      expect(rows.map((r) => r.kind)).toEqual(result.advice.map((a) => a.kind));
      for (const [i, a] of result.advice.entries()) {
        advised++;
        expect(rows[i]!.message).toBe(a.message);
        const expected: [string, number][] =
          a.kind === 'source-port'
            ? [
                ['insideHosts', a.insideHosts],
                ['worstCase', a.worstCase],
              ]
            : a.kind === 'destination'
              ? [['sessions', a.sessions]]
              : a.kind === 'another-observation'
                ? [
                    ['remaining', a.remaining],
                    ['of', a.of],
                  ]
                : a.kind === 'device-identifier'
                  ? [
                      ['carried', a.carried],
                      ['of', a.of],
                    ]
                  : a.readings.map((x) => ['candidateCount', x.candidateCount] as [string, number]);
        expect(rows[i]!.counts, `${file} ${a.kind}`).toEqual(expected);
      }
      if (result.advice.length === 0) expect(await page.locator('p.no-advice').count()).toBe(1);
    }
    // The demo batch advises on its shared answers and its 12-hour clock: the test saw advice of every kind but one.
    const kinds = new Set(pages.flatMap((p) => p.result.advice.map((a) => a.kind)));
    expect([...kinds].sort()).toEqual(['another-observation', 'confirm-time-zone', 'destination', 'device-identifier', 'source-port']);
    expect(advised).toBeGreaterThan(10);
    await context.close();
    const shot = await load(resultPage('PBA-NOPORT').file, 'advice-PBA-NOPORT.png');
    await shot.page.context().close();
  });

  test('--pdf prints every page through the installed Chromium', async () => {
    const out = join(tempDir(), 'pdf');
    const io = captureIo();
    const lines = readFileSync(demo.resultsFile, 'utf8').split('\n').slice(0, 2).join('\n') + '\n';
    const file = join(tempDir(), 'two.ndjson');
    writeFileSync(file, lines);
    expect(await main(['report', '--db', demo.db, '--out', out, '--pdf', file], io)).toBe(0);
    expect(io.err()).toMatch(/report: 2 PDFs printed by /);
    const pdfs = readdirSync(out).filter((f) => f.endsWith('.pdf'));
    expect(pdfs).toHaveLength(2);
    for (const p of pdfs) expect(readFileSync(join(out, p)).subarray(0, 5).toString()).toBe('%PDF-');
  });
});

describe.skipIf(!present)('report pages of connection requests in Chromium (issue 19)', () => {
  function pageOf(out: string, results: readonly (Result | Estimate)[], ref: string): { file: string; result: Result | Estimate } {
    const i = results.findIndex((r) => r.ref === ref);
    expect(i, ref).toBeGreaterThanOrEqual(0);
    return { file: join(out, pageName(i, ref)), result: results[i]! };
  }

  async function flagsOf(page: Page) {
    return page.$$eval('li.flag', (lis) =>
      lis.map((li) => ({ code: li.getAttribute('data-code'), text: li.textContent ?? '', group: li.closest('ul')!.previousElementSibling!.textContent })),
    );
  }

  test('service-users: the per-layer table, the accounts with the layers they met, connections, first and last seen; withheld counts; the flags by layer; nothing fetched', async () => {
    const { file, result } = pageOf(connections.resolveOut, connections.results, 'SU-1');
    const r = result as Result;
    expect(r.kind).toBe('service-users');
    expect(r.candidates.length).toBeGreaterThan(1);
    const { page, requests, url } = await load(file, 'service-users-SU-1.png');
    expect(requests).toEqual([url]);
    const layers = await page.$$eval('tr.layer', (trs) =>
      trs.map((tr) => ({
        index: Number(tr.getAttribute('data-index')),
        matched: Number(tr.querySelector('.layer-matched')!.textContent),
        remaining: Number(tr.querySelector('.layer-remaining')!.textContent),
      })),
    );
    expect(layers).toEqual(r.layers);
    // The layers as asked, beside their counts: each service's destinations and window.
    const asked = await page.$$eval('tr.layer', (trs) => trs.map((tr) => [...tr.querySelectorAll('td.mono')].map((td) => td.textContent)));
    expect(asked[0]![0]).toContain('192.0.2.80 ports 443');
    expect(asked[0]![1]).toBe('[2026-03-28T09:00:00Z, 2026-03-28T12:00:00Z)');
    const users = await page.$$eval('tr.service-user', (trs) =>
      trs.map((tr) => ({
        account: tr.querySelector('.account')!.textContent,
        layers: tr.querySelector('.layers-met')!.getAttribute('data-layers')!.split(' ').map(Number),
        connections: Number(tr.querySelector('.connection-count')!.textContent),
        firstSeen: tr.querySelector('.first-seen')!.textContent,
        lastSeen: tr.querySelector('.last-seen')!.textContent,
      })),
    );
    expect(users).toEqual(
      r.candidates.map((c) => ({ account: c.account, layers: c.layers, connections: c.connections, firstSeen: c.firstSeen, lastSeen: c.lastSeen })),
    );
    const listed = await flagsOf(page);
    expect(listed.map((l) => l.code).sort()).toEqual(r.risks.map((k) => k.code).sort());
    for (const k of r.risks) {
      const shown = listed.find((l) => l.code === k.code && l.text.includes(k.message))!;
      expect(shown.text).toContain(`paragraph ${k.paragraph}`);
      expect(shown.text).toContain(k.severity);
      expect(shown.group).toBe(typeof k.detail['layer'] === 'number' ? `Layer ${k.detail['layer']}` : 'The request as a whole');
    }
    expect(await page.$eval('.assessment-text', (e) => e.textContent)).toBe(r.assessment);
    await page.context().close();

    // Withheld: the count, no identity, no account table.
    const shared = pageOf(connections.resolveOut, connections.results, 'SU-SHARED');
    expect((shared.result as Result).withheld).toBe(true);
    const w = await load(shared.file, 'service-users-SU-SHARED.png');
    expect(w.requests).toEqual([w.url]);
    expect(await w.page.$eval('p.withheld .candidate-count', (e) => Number(e.textContent))).toBe(shared.result.candidateCount);
    expect(await w.page.locator('tr.service-user').count()).toBe(0);
    expect(await w.page.content()).not.toMatch(/ACC-\d{6}/);
    expect((await flagsOf(w.page)).map((l) => l.code)).toContain('SHARED_DESTINATION');
    await w.page.context().close();

    // The estimate: the layers and the counts by layers met, no identity.
    const e = pageOf(connections.estimateOut, connections.estimates, 'SU-1');
    const est = await load(e.file, 'service-users-SU-1-estimate.png');
    expect(await est.page.$$eval('td.support-count', (tds) => tds.map((td) => Number(td.textContent)))).toEqual((e.result as Estimate).supportCounts);
    expect(await est.page.locator('tr.layer').count()).toBe(e.result.layers!.length);
    expect(await est.page.content()).not.toMatch(/ACC-\d{6}/);
    await est.page.context().close();
  });

  test('connection-records: the records shown and the count held back, the subject named, and the estimate counts only; nothing fetched', async () => {
    const { file, result } = pageOf(connections.resolveOut, connections.results, 'CR-1');
    const r = result as Result;
    expect(r.kind).toBe('connection-records');
    expect(r.heldBack).toBeGreaterThan(0);
    const { page, requests, url } = await load(file, 'connection-records-CR-1.png');
    expect(requests).toEqual([url]);
    const rows = await page.$$eval('tr.connection', (trs) =>
      trs.map((tr) => ({ id: tr.getAttribute('data-id'), cells: [...tr.querySelectorAll('td')].map((td) => td.textContent) })),
    );
    expect(rows.map((x) => x.id)).toEqual(r.connections!.map((c) => c.id));
    for (const [i, c] of r.connections!.entries()) {
      expect(rows[i]!.cells).toEqual([
        c.kind,
        c.start,
        c.end ?? 'open',
        c.sourcePort === undefined ? c.sourceIp : `${c.sourceIp}:${c.sourcePort}`,
        c.destinationPort === undefined ? c.destinationIp : `${c.destinationIp}:${c.destinationPort}`,
        c.protocol ?? '—',
        c.service ?? '—',
        `${c.bytesUp ?? '—'} / ${c.bytesDown ?? '—'}`,
      ]);
    }
    expect(await page.$eval('.connection-shown', (e) => Number(e.textContent))).toBe(r.connections!.length);
    expect(await page.$eval('.held-back', (e) => Number(e.textContent))).toBe(r.heldBack);
    expect(await page.textContent('main')).toContain(`The subject’s account: ${r.candidates[0]!.account}`);
    expect((await flagsOf(page)).map((l) => l.code).sort()).toEqual(r.risks.map((k) => k.code).sort());
    await page.context().close();

    const e = pageOf(connections.estimateOut, connections.estimates, 'CR-1');
    const est = await load(e.file, 'connection-records-CR-1-estimate.png');
    expect(await est.page.$eval('.connection-shown', (x) => Number(x.textContent))).toBe((e.result as Estimate).connectionCount);
    expect(await est.page.$eval('.held-back', (x) => Number(x.textContent))).toBe(e.result.heldBack);
    expect(await est.page.locator('tr.connection').count()).toBe(0);
    expect(await est.page.content()).not.toMatch(/ACC-\d{6}/);
    await est.page.context().close();
  });
});
