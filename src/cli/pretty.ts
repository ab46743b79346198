/**
 * `--pretty`: results as a table for people (the NDJSON is the machine form). One line
 * per request — ref, status, count, who is disclosed, and the flags of the request as a
 * whole — then one indented line per observation: its whole address and port, its path,
 * how many accounts fit it alone, and its own flags. Nothing is cut short.
 */
import { hostPort } from '../address.js';
import type { Estimate, Result, Risk } from '../request.js';

const COLUMNS = ['ref', 'status', 'count', 'disclosed', 'flags of the request; then each observation: address, path, accounts fitting it, its flags'] as const;
const WIDTHS = [16, 8, 5, 26, 0] as const;

/** A cell padded to its width; never cut (an address or an account is kept whole). */
function cell(text: string, width: number): string {
  return width === 0 ? text : text.padEnd(width);
}

export function prettyHeader(): string {
  const head = COLUMNS.map((c, i) => cell(c, WIDTHS[i]!)).join('  ');
  return `${head}\n${'-'.repeat(Math.max(head.length, 110))}\n`;
}

function codes(risks: readonly Risk[]): string {
  return risks.map((k) => k.code).join(' ');
}

/** One result as a request line and a line per observation (or per problem). */
export function prettyRow(r: Result | Estimate): string {
  let disclosed: string;
  if (r.status === 'invalid' || r.status === 'refused') disclosed = '-';
  else if (!('candidates' in r)) disclosed = `estimate: ${r.candidateCount}`;
  else disclosed = r.withheld ? `withheld (${r.candidateCount})` : r.candidates.map((c) => c.account).join(' ') || '-';
  const byObservation = new Map<number, Risk[]>();
  const whole: Risk[] = [];
  for (const k of r.risks) {
    const o = k.detail['observation'];
    if (typeof o === 'number') byObservation.set(o, [...(byObservation.get(o) ?? []), k]);
    else whole.push(k);
  }
  const lines = [
    [r.ref ?? '(no ref)', r.status, String(r.candidateCount), disclosed, codes(whole)]
      .map((c, i) => cell(c, WIDTHS[i]!))
      .join('  ')
      .trimEnd(),
  ];
  if (r.status === 'refused') lines.push(`    refused: ${r.refusal?.code ?? '?'} (${r.refusal?.paragraph ?? '?'})`);
  for (const e of r.errors ?? []) lines.push(`    ${e.field || '(line)'}: ${e.reason}`);
  for (const o of r.observations) {
    const flags = codes(byObservation.get(o.index) ?? []);
    lines.push(
      `    #${o.index} ${hostPort(o.sourceIp, o.sourcePort)}  ${o.path.join('>') || o.outcome}  ${o.candidateCount} fit${flags === '' ? '' : '  ' + flags}`,
    );
  }
  return lines.join('\n') + '\n';
}
