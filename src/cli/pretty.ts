/** `--pretty`: results as a table for people (the NDJSON is the machine form). */
import type { Estimate, Result } from '../request.js';

const COLUMNS = ['ref', 'status', 'count', 'disclosed', 'path per observation', 'risks'] as const;
const WIDTHS = [16, 8, 5, 26, 52, 0] as const;

function cell(text: string, width: number): string {
  if (width === 0) return text;
  return text.length > width ? text.slice(0, width - 1) + '…' : text.padEnd(width);
}

export function prettyHeader(): string {
  const head = COLUMNS.map((c, i) => cell(c, WIDTHS[i]!)).join('  ');
  return `${head}\n${'-'.repeat(Math.max(head.length, 110))}\n`;
}

function hostPort(ip: string, port: number | null): string {
  if (port === null) return ip;
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** One result as one or more table lines. */
export function prettyRow(r: Result | Estimate): string {
  let disclosed: string;
  if (r.status === 'invalid' || r.status === 'refused') disclosed = '-';
  else if (!('candidates' in r)) disclosed = `estimate: ${r.candidateCount}`;
  else disclosed = r.withheld ? `withheld (${r.candidateCount})` : r.candidates.map((c) => c.account).join(' ') || '-';
  const paths =
    r.status === 'refused'
      ? `refused: ${r.refusal?.code ?? '?'} (${r.refusal?.paragraph ?? '?'})`
      : r.status === 'invalid'
      ? (r.errors ?? []).map((e) => `${e.field}: ${e.reason}`).join('; ')
      : r.observations.map((o) => `${hostPort(o.sourceIp, o.sourcePort)} ${o.path.join('>') || o.outcome}`).join('; ');
  const risks = r.risks.map((k) => k.code).join(' ');
  return [r.ref ?? '(no ref)', r.status, String(r.candidateCount), disclosed, paths, risks].map((c, i) => cell(c, WIDTHS[i]!)).join('  ') + '\n';
}
