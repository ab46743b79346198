/**
 * The report's sections for the request kinds beyond IP resolution (issue 19):
 * `service-users` (9.25, Condition D) — the layers as asked beside how each narrows the
 * accounts, and the accounts with the layers they met, their connections and first and
 * last seen, or only the count when withheld — and `connection-records` (9.7–9.13) — the
 * subject, the records shown and how many were held back as of services not asked for.
 * Pure: data in, HTML text out.
 */
import { hostPort } from '../address.js';
import type { Estimate, Result } from '../request.js';
import { escapeHtml as h } from './escape.js';
import type { PageData } from './gather.js';

type Answer = Result | Estimate;

/** The kind of request a result answers (`ip-resolution` when it names none). */
export function kindOf(r: Answer): 'ip-resolution' | 'service-users' | 'connection-records' {
  return r.kind ?? 'ip-resolution';
}

/** The kind of request a page shows: the result's, else (a refused or invalid line names none) the request's. */
export function pageKind(page: PageData): 'ip-resolution' | 'service-users' | 'connection-records' {
  const asked = page.request?.['kind'];
  return page.item.result.kind ?? (asked === 'service-users' || asked === 'connection-records' ? asked : 'ip-resolution');
}

function obj(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

/** A service as the request wrote it, in words: destinations, ports, protocol, name. */
function serviceText(value: unknown): string {
  const s = obj(value);
  if (s === null) return '—';
  const destinations = Array.isArray(s['destinations']) ? (s['destinations'] as unknown[]).map(String).join(', ') : '?';
  const ports = Array.isArray(s['ports']) ? ` ports ${(s['ports'] as unknown[]).map(String).join(', ')}` : '';
  const protocol = typeof s['protocol'] === 'string' ? ` ${s['protocol']}` : '';
  const fqdn = typeof s['fqdn'] === 'string' ? ` (${s['fqdn']})` : '';
  return `${destinations}${ports}${protocol}${fqdn}`;
}

function windowText(value: unknown): string {
  const w = obj(value);
  return w === null ? '—' : `[${String(w['from'])}, ${String(w['to'])})`;
}

/** What the answer means and does not mean, for the connection kinds (`null` for an IP resolution). */
export function connectionMeaning(page: PageData): { means: string[]; doesNotMean: string[] } | null {
  const r = page.item.result;
  const kind = kindOf(r);
  if (kind === 'ip-resolution' || r.status === 'invalid' || r.status === 'refused') return null;
  const device =
    'A connection record shows that a connection left the account’s line, not who made it: devices and browsers connect by themselves (2.80), and one destination address may carry several services.';
  if (kind === 'service-users') {
    const n = r.layers?.length ?? 0;
    const means =
      page.action === 'estimate'
        ? `If resolved, ${r.candidateCount} account(s) would meet the layers (of ${n}); an estimate discloses no identity.`
        : r.status === 'none'
          ? `No account’s connections met the layers (of ${n}) in the records the operator holds.`
          : 'candidates' in r && r.withheld
            ? `${r.candidateCount} account(s) met the layers (of ${n}); the return policy kept their identities back.`
            : `${r.candidateCount} account(s) met the layers (of ${n}) in the operator’s connection records.`;
    return {
      means: [means],
      doesNotMean: [
        'It does not mean anyone used the service: only that connections to its addresses, ports and protocol were logged in each window.',
        device,
        r.status === 'none' ? 'Nor that nobody did: realms that log no destination cannot answer, and records may be missing — see the flags.' : '',
      ].filter((x) => x !== ''),
    };
  }
  const shown = 'connections' in r && r.connections !== undefined ? r.connections.length : 'connectionCount' in r ? (r.connectionCount ?? 0) : 0;
  const held = r.heldBack ?? 0;
  const account = 'candidates' in r ? r.candidates[0]?.account : undefined;
  const means =
    r.status === 'unique'
      ? page.action === 'estimate'
        ? `The subject resolves to one account; ${shown} connection record(s) of interest would be disclosed, ${held} held back (9.13).`
        : `The subject resolved to one account, ${account ?? '?'}: ${shown} of its connection records in the window are shown, ${held} of other services held back (9.13).`
      : `The subject did not resolve to one account (${r.status}, ${r.candidateCount} account(s)), so no record is disclosed.`;
  return {
    means: [means],
    doesNotMean: ['The records held back were not read out: they are only counted.', device],
  };
}

/** The request's own fields for the connection kinds, beside the policy table. */
export function connectionRequestRows(page: PageData): [string, string][] {
  const req = page.request;
  if (req === null) return [];
  const rows: [string, string][] = [];
  if (pageKind(page) === 'service-users') {
    rows.push(['layers met at least', typeof req['minLayers'] === 'number' ? String(req['minLayers']) : 'every layer (default)']);
    rows.push(['connections a layer needs', typeof req['minConnections'] === 'number' ? String(req['minConnections']) : '1 (default)']);
  }
  if (pageKind(page) === 'connection-records') {
    rows.push(['subject', JSON.stringify(req['subject'] ?? null)]);
    rows.push(['window', windowText(req['window'])]);
    rows.push([
      'services of interest',
      Array.isArray(req['services']) ? (req['services'] as unknown[]).map(serviceText).join('; ') : 'every service (none named)',
    ]);
    rows.push(['all records', req['all'] === true ? 'yes: nothing held back' : 'no: records of other services are held back (9.13)']);
  }
  return rows;
}

function layersTable(page: PageData): string {
  const r = page.item.result;
  const asked = Array.isArray(page.request?.['layers']) ? (page.request['layers'] as unknown[]) : [];
  const rows = (r.layers ?? []).map((l) => {
    const layer = obj(asked[l.index]);
    return (
      `<tr class="layer" data-index="${l.index}"><td>${l.index}</td><td class="mono">${h(serviceText(layer?.['service']))}</td><td class="mono">${h(windowText(layer?.['window']))}</td>` +
      `<td class="layer-matched">${l.matched}</td><td class="layer-remaining">${l.remaining}</td></tr>`
    );
  });
  return (
    '<p>How each layer narrows the accounts: <i>matched</i> — the accounts the layer alone matches; <i>remaining</i> — those that meet it and every layer before it.</p>' +
    '<table class="layers"><thead><tr><th>layer</th><th>service</th><th>window, UTC</th><th>matched</th><th>remaining</th></tr></thead><tbody>' +
    rows.join('') +
    '</tbody></table>'
  );
}

function serviceUsersSection(page: PageData): string {
  const r = page.item.result;
  const n = r.layers?.length ?? 0;
  const out: string[] = ['<h2>Layers and the accounts that met them</h2>', layersTable(page)];
  if ('supportCounts' in r) {
    out.push(
      `<p>An estimate: <b class="candidate-count">${r.candidateCount}</b> account(s) would be returned. Accounts by how many layers they meet (counts only):</p>` +
        '<table class="support"><thead><tr><th>layers met</th><th>accounts</th></tr></thead><tbody>' +
        r.supportCounts.map((count, k) => `<tr><td>${k + 1} of ${n}</td><td class="support-count">${count}</td></tr>`).join('') +
        '</tbody></table>',
    );
    return out.join('');
  }
  if (r.withheld) {
    out.push(
      `<p class="withheld"><b class="candidate-count">${r.candidateCount}</b> account(s) met the layers; <b>withheld</b> by the return policy: no identity is shown.</p>`,
    );
  } else if (r.candidates.length === 0) {
    out.push('<p><b class="candidate-count">0</b> accounts met the layers.</p>');
  } else {
    out.push(`<p><b class="candidate-count">${r.candidateCount}</b> account(s) met the layers; disclosed (their connections to these services only):</p>`);
    out.push(
      '<table class="service-users"><thead><tr><th>account</th><th>layers met</th><th>connections</th><th>first seen</th><th>last seen</th></tr></thead><tbody>' +
        r.candidates
          .map(
            (c) =>
              `<tr class="service-user"><td class="mono account">${h(c.account)}</td><td class="layers-met" data-layers="${(c.layers ?? []).join(' ')}">${c.support} of ${c.of}: ${(c.layers ?? []).map((i) => `layer ${i}`).join(', ') || '—'}</td>` +
              `<td class="connection-count">${c.connections ?? '—'}</td><td class="mono first-seen">${h(c.firstSeen ?? '—')}</td><td class="mono last-seen">${h(c.lastSeen ?? '—')}</td></tr>`,
          )
          .join('') +
        '</tbody></table>',
    );
  }
  return out.join('');
}

function connectionRecordsSection(page: PageData): string {
  const r = page.item.result;
  const held = r.heldBack ?? 0;
  const out: string[] = ['<h2>Connection records</h2>'];
  if ('supportCounts' in r) {
    out.push(
      `<p>An estimate: <b class="connection-shown">${r.connectionCount ?? 0}</b> record(s) of interest would be disclosed; <b class="held-back">${held}</b> of other services held back (9.13). No record is shown.</p>`,
    );
    return out.join('');
  }
  const records = r.connections ?? [];
  const subject = r.candidates[0]?.account;
  out.push(
    `<p>${r.status === 'unique' && subject !== undefined ? `The subject’s account: <b class="mono">${h(subject)}</b>. ` : ''}<b class="connection-shown">${records.length}</b> record(s) shown; <b class="held-back">${held}</b> held back as of services not asked for (9.13: counted, not read out).</p>`,
  );
  if (records.length > 0) {
    out.push(
      '<table class="connections"><thead><tr><th>kind</th><th>start</th><th>end</th><th>source</th><th>destination</th><th>protocol</th><th>service</th><th>bytes up / down</th></tr></thead><tbody>' +
        records
          .map(
            (c) =>
              `<tr class="connection" data-id="${h(c.id)}"><td>${h(c.kind)}</td><td class="mono">${h(c.start)}</td><td class="mono">${h(c.end ?? 'open')}</td>` +
              `<td class="mono">${h(hostPort(c.sourceIp, c.sourcePort ?? null))}</td><td class="mono">${h(hostPort(c.destinationIp, c.destinationPort ?? null))}</td>` +
              `<td>${h(c.protocol ?? '—')}</td><td>${h(c.service ?? '—')}</td><td>${c.bytesUp ?? '—'} / ${c.bytesDown ?? '—'}</td></tr>`,
          )
          .join('') +
        '</tbody></table>',
    );
  }
  return out.join('');
}

/** The answer's section for a connection kind, or `null` for an IP resolution (its cross-correlation section applies). */
export function connectionSection(page: PageData): string | null {
  const r = page.item.result;
  if (r.status === 'invalid' || r.status === 'refused') return null;
  const kind = kindOf(r);
  if (kind === 'service-users') return serviceUsersSection(page);
  if (kind === 'connection-records') return connectionRecordsSection(page);
  return null;
}
