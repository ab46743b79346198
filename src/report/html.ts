/**
 * A report page and the batch's index as self-contained HTML (issue 21): inline CSS and
 * SVG only, and a Content-Security-Policy that forbids every fetch, so a page opened from
 * a disclosure folder makes no network request. Pure: data in, text out.
 */
import { RISK_CODES } from '../../matcher/risk.js';
import type { Advice, Estimate, Result, Risk } from '../request.js';
import type { AuditEntry } from '../audit/types.js';
import { formatInstant, type Window } from '../time.js';
import { escapeHtml as h } from './escape.js';
import type { ObservationView, PageData } from './gather.js';
import { timelineSvg } from './timeline.js';
import { connectionMeaning, connectionRequestRows, connectionSection, pageKind } from './connections.js';

/** What the audit log says about a result line. */
export interface AuditView {
  /** Where the audit was read (a file path), or `null` when there was none to read. */
  readonly source: string | null;
  /** The entry whose result hash is this line's, or `null` when the log holds none. */
  readonly entry: AuditEntry | null;
  /** sha256 of the result line as read. */
  readonly resultHash: string;
  /** Whether the request line given hashes to the entry's request hash (`null`: not checked). */
  readonly requestMatches: boolean | null;
}

export interface PageLinks {
  readonly index: string;
  readonly previous: string | null;
  readonly next: string | null;
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1b1f24;background:#fff}
main{max-width:1010px;margin:0 auto;padding:18px 16px 40px}
h1{font-size:22px;margin:6px 0 4px}h2{font-size:17px;margin:26px 0 8px;border-bottom:1px solid #d5dae0;padding-bottom:3px}h3{font-size:15px;margin:16px 0 6px}
nav{font-size:13px}nav a{margin-right:12px}
table{border-collapse:collapse;width:100%;margin:6px 0}th,td{border:1px solid #d5dae0;padding:4px 6px;text-align:left;vertical-align:top}th{background:#f2f4f7;font-weight:600}
code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
pre{background:#f6f8fa;border:1px solid #d5dae0;padding:8px;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
.status{display:inline-block;padding:2px 9px;border-radius:10px;font-weight:600;color:#fff}
.status-unique{background:#1a7f37}.status-multiple{background:#9a6700}.status-none{background:#57606a}.status-invalid,.status-refused{background:#cf222e}
.kind-false-positive{color:#9a3412}.kind-false-negative{color:#1d4ed8}.kind-note{color:#57606a}
.severity-material{background:#ffebe9;color:#82071e;padding:0 5px;border-radius:4px;font-weight:600}.severity-note{background:#eef1f4;padding:0 5px;border-radius:4px}
.assessment{font-size:15px;padding:8px 12px;border-radius:6px;margin:8px 0}.assessment-robust{background:#dafbe1;border:1px solid #1a7f37}.assessment-doubt{background:#fff8c5;border:1px solid #9a6700}
table.advice ul{margin:0;padding-left:16px}
.means{background:#f6f8fa;border-left:4px solid #57606a;padding:8px 12px}
.warn{color:#82071e;font-weight:600}
ul.flags{padding-left:18px}ul.flags li{margin:6px 0}
svg.timeline{display:block;margin:6px 0 2px;max-width:100%;height:auto}
svg .stripe{fill:#f6f8fa}svg .tick{stroke:#d5dae0;stroke-width:1}svg .tick-label,svg .axis-note{font:11px system-ui,sans-serif;fill:#57606a}
svg .row-label{font:12px system-ui,sans-serif;fill:#1b1f24}
svg .window-band{fill:#0969da;fill-opacity:.12;stroke:#0969da;stroke-width:1}
svg .window{fill:#0969da}svg .reading{fill:#8c959f;fill-opacity:.65}svg .reading-changes{fill:#cf222e;fill-opacity:.8}
svg .bar{stroke:#1b1f24;stroke-width:.5}svg .bar-allocation{fill:#2da44e}svg .bar-nat-block{fill:#bf8700}svg .bar-nat-session{fill:#8250df}svg .bar-nat-deterministic{fill:#bc4c00}svg .bar-coverage{fill:#cf222e;fill-opacity:.35}
svg .evidence{stroke:#000;stroke-width:2}svg .inferred{stroke-dasharray:4 2}
svg .clip,svg .off-view{font:11px system-ui,sans-serif;fill:#1b1f24}
svg .source-span{fill:#6e7781;fill-opacity:.45}svg .bar-inferred-gap{fill:#fb8f44;fill-opacity:.6}svg .source-note{font:11px system-ui,sans-serif;fill:#57606a}
ul.source-limits{padding-left:18px;margin:4px 0}
.legend span{display:inline-block;margin-right:14px;font-size:12px}.legend i{display:inline-block;width:14px;height:10px;margin-right:4px;vertical-align:middle;border:1px solid #1b1f24}
footer{margin-top:30px;font-size:12px;color:#57606a}
@media print{nav{display:none}main{max-width:none}h2{break-after:avoid}svg.timeline{break-inside:avoid}}
`;

function head(title: string): string {
  return (
    `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">` +
    // Nothing may be fetched: no script, font, image or style from anywhere.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1"><title>${h(title)}</title><style>${CSS}</style></head><body><main>`
  );
}

function ts(t: number | string): string {
  return typeof t === 'string' ? t : formatInstant(t);
}

function windowText(w: { readonly start: number | string; readonly end: number | string }): string {
  return `[${ts(w.start)}, ${ts(w.end)})`;
}

function seconds(w: Window): string {
  const s = (w.end - w.start) / 1000;
  return s >= 3600 ? `${(s / 3600).toFixed(2)} h` : `${s} s`;
}

/** A value the result carries that this version may not know (severity, advice): its text. */
function extra(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.join(' ');
  return JSON.stringify(value);
}

function refText(r: Result | Estimate): string {
  return r.ref ?? '(no ref)';
}

/** What the answer means and does not mean, for its status. */
export function meaning(page: PageData): { means: string[]; doesNotMean: string[] } {
  const r = page.item.result;
  const n = r.observations.length;
  const account =
    'an account, not a person: the records say which customer account held the address, not who was using the connection (a household, guests, employees, someone with the password or a compromised device may all use one account)';
  if (r.status === 'invalid')
    return {
      means: ['The request could not be read as written; nothing was looked up.'],
      doesNotMean: ['It says nothing about the address or the time: correct the fields named and send the request again.'],
    };
  if (r.status === 'refused')
    return {
      means: [`The request was refused (${r.refusal?.code ?? '?'}, paragraph ${r.refusal?.paragraph ?? '?'}); nothing was looked up.`],
      doesNotMean: ['It is not an answer that nobody used the address.'],
    };
  const connections = connectionMeaning(page);
  if (connections !== null) return connections;
  const doesNot = [
    `A candidate is ${account}.`,
    'The records are the operator’s own logs; a flag below says where they may be incomplete or read another way.',
  ];
  if (page.action === 'estimate') {
    return {
      means: [`If resolved, this request would return ${r.candidateCount} account(s) fitting all ${n} observation(s). An estimate discloses no identity.`],
      doesNotMean: ['It is not a disclosure and names nobody; it is the guidance 9.24 asks for before a multi-customer disclosure is authorised.', ...doesNot],
    };
  }
  const res = r as Result;
  if (r.status === 'none') {
    return {
      means: [`No account held the address${n > 1 ? ' at every one of the times' : ''} in the records the operator holds for the window.`],
      doesNotMean: [
        'It does not mean nobody used the address: records may be missing (a coverage gap, the retention horizon), the address may not be the operator’s, or the time may be read another way — see the flags.',
        ...doesNot.slice(1),
      ],
    };
  }
  if (res.withheld) {
    return {
      means: [`${r.candidateCount} accounts fit; the return policy kept their identities back (no identity is disclosed on this page).`],
      doesNotMean: ['It does not mean any of them is the one: more observations (a source port, more IP/time pairs) may narrow it (9.20, 9.24).', ...doesNot],
    };
  }
  if (r.status === 'unique') {
    return {
      means: [`One account, ${res.candidates[0]?.account ?? '?'}, fits ${res.candidates[0]?.support ?? '?'} of ${n} observation(s) in the operator’s records.`],
      doesNotMean: ['Unique is about the records: it is not proof of who acted; read every flag before relying on it.', ...doesNot],
    };
  }
  return {
    means: [`${r.candidateCount} accounts fit every observation; ${res.candidates.length} disclosed under the allow-multiple policy.`],
    doesNotMean: ['It does not mean all of them were involved, nor that one of them was.', ...doesNot],
  };
}

function requestSection(page: PageData): string {
  const out: string[] = ['<h2>The request as received</h2>'];
  const req = page.request;
  if (page.item.request === null) {
    out.push(
      '<p class="warn">The request lines were not given (ipar report --requests FILE), so the request cannot be shown as received; the windows below are the result’s.</p>',
    );
  } else {
    out.push(`<pre class="request-line">${h(page.item.request)}</pre>`);
  }
  const rows = page.observations.map((o) => {
    const a = o.asReceived;
    const src = `${o.result.sourceIp}${o.result.sourcePort === null ? '' : ` port ${o.result.sourcePort}`}`;
    const fold = a?.foldInstants != null ? `<br>in a DST fold: both ${a.foldInstants.map((t) => h(formatInstant(t))).join(' and ')} are searched` : '';
    const gap = a?.inGap === true ? '<br>in a DST gap: read shifted forward, the other offset tried' : '';
    return (
      `<tr class="observation-row" data-observation="${o.result.index}"><td>${o.result.index}</td><td class="mono">${h(src)}</td>` +
      `<td class="mono time-as-written">${a === null ? '—' : h(a.timeText)}</td>` +
      `<td>${a === null ? '—' : `${h(a.form)}; ${h(a.zone)}; ${h(a.precision)}; ${h(a.clock)}${fold}${gap}`}</td>` +
      `<td class="mono window-utc" data-start="${h(o.result.window.start)}" data-end="${h(o.result.window.end)}">${h(windowText(o.result.window))}<br>${h(seconds(o.window))}</td></tr>`
    );
  });
  if (rows.length > 0) {
    out.push(
      '<table class="as-received"><thead><tr><th>#</th><th>source</th><th>time as written</th><th>read as</th><th>window searched, UTC</th></tr></thead><tbody>' +
        rows.join('') +
        '</tbody></table>',
    );
  }
  if (req !== null) {
    const tol = typeof req['toleranceSeconds'] === 'number' ? `${req['toleranceSeconds']} s` : '0 s (default)';
    const policy = typeof req['returnPolicy'] === 'string' ? req['returnPolicy'] : 'single-only (default)';
    const max = typeof req['maxCandidates'] === 'number' ? String(req['maxCandidates']) : '50 (default)';
    const kind = pageKind(page);
    const items: [string, string][] = [
      ...(kind === 'ip-resolution' ? ([['tolerance', tol]] as [string, string][]) : []),
      ...(kind === 'connection-records'
        ? []
        : ([
            ['return policy', policy],
            ['most candidates', max],
          ] as [string, string][])),
      ...connectionRequestRows(page),
    ];
    if (req['identifiers'] !== undefined) items.push(['identifiers', JSON.stringify(req['identifiers'])]);
    if (req['authorisation'] !== undefined) items.push(['authorisation', JSON.stringify(req['authorisation'])]);
    out.push('<table class="policy"><tbody>' + items.map(([k, v]) => `<tr><th>${h(k)}</th><td class="mono">${h(v)}</td></tr>`).join('') + '</tbody></table>');
  }
  return out.join('');
}

const LEGEND =
  '<p class="legend"><span><i style="background:#0969da"></i>observation window</span><span><i style="background:#8c959f"></i>another reading of the time</span>' +
  '<span><i style="background:#cf222e"></i>a reading that changes the answer</span><span><i style="background:#2da44e"></i>allocation</span><span><i style="background:#bf8700"></i>port block</span>' +
  '<span><i style="background:#8250df"></i>NAT session</span><span><i style="background:#bc4c00"></i>deterministic NAT</span><span><i style="background:#f0a0a0"></i>declared coverage gap</span>' +
  '<span><i style="background:#fdbc8f"></i>inferred gap (the source fell silent)</span><span><i style="background:#b7bcc2"></i>a source’s data, first to last record</span>' +
  '<span>thick outline: evidence for the answer; dashed: end inferred; ‹ › runs past the view</span></p>';

function closeUp(o: ObservationView): Window {
  const len = o.window.end - o.window.start;
  const margin = Math.max(30_000, 2 * len);
  return { start: o.window.start - margin, end: o.window.end + margin };
}

const RELATION_SENTENCE = {
  before: 'the window is before its first record',
  after: 'the window is after its last record',
  partial: 'the window runs past an edge of its data',
  unknown: 'the store holds no span for it, only a declared gap',
} as const;

/** In words, each source whose data does not plainly hold the window: outside its span, across an edge, or in a gap. */
function sourceLimits(o: ObservationView): string {
  const items: string[] = [];
  for (const row of o.rows) {
    const s = row.source;
    if (s === undefined) continue;
    const parts: string[] = [];
    if (s.relation !== 'inside') parts.push(RELATION_SENTENCE[s.relation]);
    if (s.windowInGap.length > 0) parts.push(`the window is in its ${s.windowInGap.join(' and ')} gap`);
    if (parts.length === 0) continue;
    const span = s.first === null || s.last === null ? '' : ` (data ${ts(s.first)} – ${ts(s.last)})`;
    items.push(`<li class="source-limit" data-source="${h(s.name)}"><b class="mono">${h(s.name)}</b>${h(span)}: ${h(parts.join('; '))}</li>`);
  }
  const more = o.sourcesOmitted > 0 ? `<p class="warn">${o.sourcesOmitted} more sources are not drawn.</p>` : '';
  if (items.length === 0) return more;
  return `<p>The limits of the sources’ data:</p><ul class="source-limits">${items.join('')}</ul>${more}`;
}

function observationSection(o: ObservationView): string {
  const r = o.result;
  const out: string[] = [
    `<section class="observation" data-observation="${r.index}"><h3>Observation ${r.index}: ${h(r.sourceIp)}${r.sourcePort === null ? '' : ':' + r.sourcePort}</h3>`,
  ];
  out.push(
    `<p>Address class <b>${h(r.addressClass)}</b>${r.realm === null ? '' : ` (realm ${h(r.realm)})`}; path <b class="path">${h(r.path.join(' → ') || '(no record)')}</b>; outcome <b>${h(r.outcome)}</b>; ${r.candidateCount} account(s) fit this observation alone.</p>`,
  );
  const near = closeUp(o);
  const wide = o.span;
  if (near.start > wide.start || near.end < wide.end) {
    out.push(`<p>Around the window (${h(seconds(near))}):</p>`);
    out.push(timelineSvg(o.rows, near, o.window, `observation ${r.index}: around the window`));
    out.push(`<p>Every reading of the time tried (${h(seconds(wide))}):</p>`);
  }
  out.push(timelineSvg(o.rows, wide, o.window, `observation ${r.index}: every reading`));
  if (o.omitted > 0) out.push(`<p class="warn">${o.omitted} more records in this span are not drawn.</p>`);
  out.push(sourceLimits(o));
  out.push('</section>');
  return out.join('');
}

function correlationSection(page: PageData): string {
  const r = page.item.result;
  const n = r.observations.length;
  const out: string[] = ['<h2>Cross-correlation</h2>'];
  if ('supportCounts' in r) {
    const rows = r.supportCounts.map((count, k) => `<tr><td>${k + 1} of ${n}</td><td class="support-count">${count}</td></tr>`).join('');
    out.push(
      `<p>An estimate: <b class="candidate-count">${r.candidateCount}</b> account(s) would fit all ${n} observation(s). Accounts by how many observations they fit (counts only):</p>`,
    );
    out.push(`<table class="support"><thead><tr><th>observations fitted</th><th>accounts</th></tr></thead><tbody>${rows}</tbody></table>`);
    return out.join('');
  }
  if (r.withheld) {
    out.push(`<p><b class="candidate-count">${r.candidateCount}</b> account(s) fit; <b>withheld</b> by the return policy: no identity is shown.</p>`);
  } else if (r.candidates.length === 0) {
    out.push(`<p><b class="candidate-count">0</b> accounts fit every observation.</p>`);
  } else {
    out.push(`<p><b class="candidate-count">${r.candidateCount}</b> account(s) fit; disclosed:</p>`);
    const rows = r.candidates
      .map(
        (c) =>
          `<tr class="candidate"><td class="mono">${h(c.account)}</td><td>${c.support} of ${c.of}</td><td>${c.evidence.map((e) => `${h(e.kind)} ${h(e.start)} – ${h(e.end ?? 'open')} (observation ${e.observation})`).join('<br>')}</td></tr>`,
      )
      .join('');
    out.push(`<table class="candidates"><thead><tr><th>account</th><th>observations fitted</th><th>evidence</th></tr></thead><tbody>${rows}</tbody></table>`);
  }
  out.push(
    '<table class="per-observation"><thead><tr><th>observation</th><th>accounts fitting it alone</th></tr></thead><tbody>' +
      r.observations.map((o) => `<tr><td>${o.index}</td><td>${o.candidateCount}</td></tr>`).join('') +
      '</tbody></table>',
  );
  return out.join('');
}

function flagItem(risk: Risk): string {
  const rec = risk as Risk & Record<string, unknown>;
  const severity = extra(rec['severity']);
  const advice = extra(rec['corroboration']);
  const known = (RISK_CODES as Record<string, { meaning: string }>)[risk.code];
  return (
    `<li class="flag" data-code="${h(risk.code)}"><b class="mono">${h(risk.code)}</b> <span class="kind-${h(risk.kind)}">${h(risk.kind)}</span>` +
    (severity === null ? '' : ` <span class="severity severity-${h(severity)}">${h(severity)}</span>`) +
    ` — paragraph ${h(risk.paragraph)}${known === undefined ? '' : `: ${h(known.meaning)}`}.<br><span class="message">${h(risk.message)}</span>` +
    (advice === null ? '' : `<br><span class="advice">To corroborate: ${h(advice)}</span>`) +
    '</li>'
  );
}

function flagsSection(r: Result | Estimate): string {
  const out: string[] = ['<h2>Flags</h2>'];
  if (r.risks.length === 0) return out.join('') + '<p>No flag was raised.</p>';
  const groups = new Map<string, Risk[]>();
  for (const risk of r.risks) {
    const o = risk.detail['observation'];
    const layer = risk.detail['layer'];
    const key =
      typeof o === 'number'
        ? `Observation ${o}`
        : o === 'all'
          ? 'All observations shifted together'
          : typeof layer === 'number'
            ? `Layer ${layer}`
            : 'The request as a whole';
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(risk);
  }
  for (const [title, risks] of groups) out.push(`<h3>${h(title)}</h3><ul class="flags">${risks.map(flagItem).join('')}</ul>`);
  const rec = r as (Result | Estimate) & Record<string, unknown>;
  const corroboration = extra(rec['corroboration']);
  if (corroboration !== null) out.push(`<p class="corroboration">To corroborate: ${h(corroboration)}</p>`);
  return out.join('');
}

const ADVICE_WORDS: Readonly<Record<Advice['kind'], string>> = {
  'source-port': 'a source port',
  destination: 'a destination',
  'another-observation': 'another observation',
  'device-identifier': 'a device identifier',
  'confirm-time-zone': 'confirm how the time was written',
  'confirm-records': 'confirm whether records were lost',
};

function count(name: string, value: number | string): string {
  return `<b class="advice-count" data-count="${h(name)}">${h(String(value))}</b>`;
}

/** One piece of advice: what to ask for, for which observation, and the counts it rests on. */
function adviceRow(a: Advice): string {
  let where: string;
  let counts: string;
  switch (a.kind) {
    case 'source-port':
      where = `observation ${a.observation}`;
      counts = `${count('insideHosts', a.insideHosts)} inside hosts shared the address; a port would leave at most ${count('worstCase', a.worstCase)}`;
      break;
    case 'destination':
      where = `observation ${a.observation}`;
      counts = `${count('sessions', a.sessions)} session records with a destination cover the window`;
      break;
    case 'another-observation':
      where = `after ${h(a.after)}`;
      counts = `at most ${count('remaining', a.remaining)} of ${count('of', a.of)} candidates would still fit`;
      break;
    case 'device-identifier':
      where = `the ${h(a.identifier)}`;
      counts = `the records carry it for ${count('carried', a.carried)} of ${count('of', a.of)} candidates`;
      break;
    case 'confirm-time-zone':
    case 'confirm-records':
      where = a.kind === 'confirm-time-zone' ? 'the time' : 'the records around the time';
      counts =
        '<ul class="advice-readings">' +
        a.readings
          .map(
            (x) =>
              `<li data-reading="${h(x.reading)}">under <b>${h(x.reading)}</b> (${x.observation === 'all' ? 'all observations' : `observation ${x.observation}`}): ${count('candidateCount', x.candidateCount)} account(s)${x.accounts === undefined ? '' : ` — <span class="mono">${h(x.accounts.join(', '))}</span>`}</li>`,
          )
          .join('') +
        '</ul>';
      break;
  }
  return `<tr class="advice" data-kind="${h(a.kind)}"><td>${h(ADVICE_WORDS[a.kind])}</td><td>${where}</td><td class="advice-counts">${counts}</td><td class="advice-message">${h(a.message)}</td></tr>`;
}

/** The result's corroboration advice (issue 18, 9.24): which further data would settle the answer, by how much. */
function adviceSection(r: Result | Estimate): string {
  const out: string[] = [`<h2>Corroboration advice <span class="advice-total" data-count="${r.advice.length}">(${r.advice.length})</span></h2>`];
  if (r.advice.length === 0) {
    out.push(
      r.status === 'unique' || r.status === 'multiple' || r.status === 'none'
        ? '<p class="no-advice">None: the answer names at most one account and carries no material flag, or the records hold nothing further that would settle it.</p>'
        : '<p class="no-advice">None: nothing was looked up.</p>',
    );
    return out.join('');
  }
  out.push('<p>Further data that would settle the answer, read from the records the match fetched (counts, never identities):</p>');
  out.push(
    '<table class="advice"><thead><tr><th>ask for</th><th>for</th><th>what the records say</th><th>in words</th></tr></thead><tbody>' +
      r.advice.map(adviceRow).join('') +
      '</tbody></table>',
  );
  return out.join('');
}

/** The result's one-line assessment, at the top of the page: robust, or what could make it wrong. */
function assessmentLine(r: Result | Estimate): string {
  const robust = r.assessment.startsWith('robust');
  return `<p class="assessment ${robust ? 'assessment-robust' : 'assessment-doubt'}" data-robust="${robust}"><b>Assessment.</b> <span class="assessment-text">${h(r.assessment)}</span></p>`;
}

function auditSection(a: AuditView, resultSignature: string | null): string {
  const out: string[] = ['<h2>Audit</h2>'];
  if (a.entry === null) {
    out.push(
      `<p class="warn">${a.source === null ? 'No audit log was read (give --audit FILE for a store that is not a SQLite file).' : `The audit log ${h(a.source)} holds no entry for this result line: it was not produced by a run audited there, or it was changed after.`}</p>`,
    );
    out.push(
      `<table class="audit"><tbody><tr><th>result hash (sha256 of the line)</th><td class="mono">${h(a.resultHash)}</td></tr>${resultSignature === null ? '' : `<tr><th>signature</th><td class="mono audit-signature">${h(resultSignature)}</td></tr>`}</tbody></table>`,
    );
    return out.join('');
  }
  const e = a.entry as AuditEntry & Record<string, unknown>;
  const rows: [string, string][] = [
    ['sequence', String(e.seq)],
    ['time', formatInstant(e.time)],
    ['action', e.action],
    ['engine', e.engine],
    ['result hash', e.resultHash],
    [
      'request hash',
      `${e.requestHash}${a.requestMatches === null ? '' : a.requestMatches ? ' (the request shown hashes to it)' : ' — the request shown does NOT hash to it'}`,
    ],
    ['entry hash', e.hash],
    ['previous entry hash', e.prevHash],
  ];
  const signature = extra(e['signature']) ?? resultSignature;
  if (signature !== null) rows.push(['signature', signature]);
  out.push(`<p>Entry in ${h(a.source ?? '')}; <code>ipar audit verify</code> checks the chain.</p>`);
  out.push(
    '<table class="audit"><tbody>' +
      rows.map(([k, v]) => `<tr><th>${h(k)}</th><td class="mono audit-${h(k.replace(/ /g, '-'))}">${h(v)}</td></tr>`).join('') +
      '</tbody></table>',
  );
  if (a.requestMatches === false) out.push('<p class="warn">The request line given is not the one audited for this result.</p>');
  return out.join('');
}

const KIND_WORDS = {
  'ip-resolution': '',
  'service-users': 'service users (9.25) · ',
  'connection-records': 'connection records of a subject (9.7–9.13)',
} as const;

/**
 * One request's page.
 *
 * @example
 * writeFileSync('report/001-REQ-1.html', renderPage(page, audit, { index: 'index.html', previous: null, next: null }));
 */
export function renderPage(page: PageData, audit: AuditView, links: PageLinks): string {
  const r = page.item.result;
  const m = meaning(page);
  const out: string[] = [head(`${refText(r)} — ipar ${page.action} report`)];
  out.push(
    `<nav><a href="${h(links.index)}">index</a>${links.previous === null ? '' : `<a href="${h(links.previous)}">← previous</a>`}${links.next === null ? '' : `<a href="${h(links.next)}">next →</a>`}</nav>`,
  );
  out.push(`<h1>${h(refText(r))} <span class="status status-${h(r.status)}" data-status="${h(r.status)}">${h(r.status)}</span></h1>`);
  out.push(
    `<p>${page.action === 'estimate' ? 'Estimate (counts only, no identities)' : 'Resolution'} · ${KIND_WORDS[pageKind(page)]}${pageKind(page) === 'service-users' ? `${r.layers?.length ?? 0} layer(s)` : pageKind(page) === 'connection-records' ? '' : `${r.observations.length} observation(s)`} · ${r.risks.length} flag(s)</p>`,
  );
  out.push(assessmentLine(r));
  out.push(
    `<div class="means"><b>What this answer means.</b> ${m.means.map(h).join(' ')}<br><b>What it does not mean.</b> ${m.doesNotMean.map(h).join(' ')}</div>`,
  );
  out.push(requestSection(page));
  if (r.errors !== undefined && r.errors.length > 0) {
    out.push(
      '<h2>Problems</h2><ul class="errors">' +
        r.errors.map((e) => `<li><b class="mono">${h(e.field || '(line)')}</b>: ${h(e.reason)}: ${h(e.message)}</li>`).join('') +
        '</ul>',
    );
  }
  if (r.refusal !== undefined)
    out.push(`<h2>Refusal</h2><p><b class="mono">${h(r.refusal.code)}</b> (paragraph ${h(r.refusal.paragraph)}): ${h(r.refusal.message)}</p>`);
  if (page.observations.length > 0) {
    out.push('<h2>Timeline and path per observation</h2>' + LEGEND);
    for (const o of page.observations) out.push(observationSection(o));
  }
  if (r.status !== 'invalid' && r.status !== 'refused') out.push(connectionSection(page) ?? correlationSection(page));
  out.push(adviceSection(r));
  out.push(flagsSection(r));
  out.push(auditSection(audit, extra((r as (Result | Estimate) & Record<string, unknown>)['signature'])));
  out.push(
    `<footer>Written by ipar report. Times are UTC; windows are half-open [start, end). Accounts the answer does not disclose are drawn as letters, never named.</footer>`,
  );
  out.push('</main></body></html>\n');
  return out.join('');
}

export interface IndexEntry {
  readonly file: string;
  readonly result: Result | Estimate;
  readonly action: 'resolve' | 'estimate';
  readonly audited: boolean;
}

/** The batch's index: one row per page. */
export function renderIndex(entries: readonly IndexEntry[], title: string): string {
  const out: string[] = [head(`${title} — ipar report`)];
  out.push(`<h1>${h(title)}</h1><p>${entries.length} request(s). Each row opens its page; every page is self-contained (no network).</p>`);
  const rows = entries.map(({ file, result: r, action, audited }) => {
    const disclosed =
      action === 'estimate'
        ? `estimate: ${r.candidateCount}`
        : r.status === 'invalid' || r.status === 'refused'
          ? '—'
          : (r as Result).withheld
            ? `withheld (${r.candidateCount})`
            : (r as Result).candidates.map((c) => c.account).join(', ') || '—';
    return `<tr class="entry"><td><a href="${h(file)}">${h(refText(r))}</a></td><td><span class="status status-${h(r.status)}">${h(r.status)}</span></td><td>${r.candidateCount}</td><td class="mono">${h(disclosed)}</td><td>${r.risks.map((k) => `<code>${h(k.code)}</code>`).join(' ')}</td><td>${audited ? 'yes' : '<span class="warn">no entry</span>'}</td></tr>`;
  });
  out.push(
    `<table class="index"><thead><tr><th>ref</th><th>status</th><th>count</th><th>disclosed</th><th>flags</th><th>audited</th></tr></thead><tbody>${rows.join('')}</tbody></table>`,
  );
  out.push('</main></body></html>\n');
  return out.join('');
}
