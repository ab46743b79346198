/**
 * `ipar collect` and `ipar ingest --format ipfix|netflow9`: thin shells over
 * {@link startCollector} and {@link ingestFlowFiles}. Problems print one a line on stderr
 * (`input:message N: field: REASON: message`), loss and restarts as `note:` lines, and
 * with `--json` the summary as JSON on stdout. Exit 0 when nothing was rejected, 1
 * otherwise (loss alone is not a rejection: it is stored as coverage gaps).
 */
import { startCollector } from '../ingest/ipfix/collector.js';
import { ingestFlowFiles } from '../ingest/ipfix/ingest.js';
import { PROFILES, profileNamed, type Profile } from '../ingest/ipfix/profiles.js';
import type { FlowFormat } from '../ingest/ipfix/decoder.js';
import type { FlowSummary } from '../ingest/ipfix/sink.js';
import type { LineReport } from '../ingest/ingest.js';
import type { VendorOptions } from '../ingest/vendors/types.js';
import { IparError } from '../problems.js';
import { Progress } from '../progress.js';
import { openStore } from '../store/open.js';
import { formatReport } from './ingest.js';
import type { Io } from './io.js';

export const FLOW_FORMATS: readonly FlowFormat[] = ['ipfix', 'netflow9'];
const COLLECT_PROGRESS_MS = 60_000;

export function isFlowFormat(name: string): name is FlowFormat {
  return (FLOW_FORMATS as readonly string[]).includes(name);
}

/** The profile `--profile` names, or a usage error listing them. */
export function flowProfile(name: string | undefined): Profile {
  const names = PROFILES.map((p) => p.name).join(', ');
  if (name === undefined) throw new IparError('USAGE', `--format ipfix and netflow9 need --profile, the exporter's event numbering: one of ${names}`);
  const p = profileNamed(name);
  if (p === undefined) throw new IparError('USAGE', `--profile ${JSON.stringify(name)} is not known; use one of ${names}`);
  return p;
}

export function formatFlowSummary(verb: string, s: FlowSummary): string {
  const parts = (counts: Readonly<Record<string, number>>): string =>
    Object.entries(counts)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ') || 'none';
  return `${verb}: ${s.messages} messages, ${s.records} data records; events ${parts(s.events)}; stored ${parts(s.stored)}; unchanged ${parts(s.unchanged)}; lost ${s.lost}; rejected messages ${s.rejectedMessages}`;
}

function reporters(io: Io): { onReject: (r: LineReport) => void; onNote: (r: LineReport) => void } {
  return {
    onReject: (r) => {
      for (const line of formatReport(r)) io.stderr.write(line + '\n');
    },
    onNote: (r) => {
      for (const line of formatReport(r)) io.stderr.write('note: ' + line + '\n');
    },
  };
}

export interface FlowIngestCommand {
  readonly db: string;
  readonly files: readonly string[];
  readonly format: FlowFormat;
  readonly profile: Profile;
  readonly vendorOptions: VendorOptions;
  readonly json: boolean;
  readonly batchSize?: number;
}

export async function runFlowIngest(cmd: FlowIngestCommand, io: Io): Promise<number> {
  const store = openStore(cmd.db);
  try {
    const progress = new Progress('ingest messages', io.stderr);
    const summary = await ingestFlowFiles(store, cmd.files, {
      format: cmd.format,
      profile: cmd.profile,
      vendorOptions: cmd.vendorOptions,
      ...(cmd.batchSize === undefined ? {} : { batchSize: cmd.batchSize }),
      ...reporters(io),
      onProgress: (n) => progress.tick(n),
    });
    progress.done();
    io.stderr.write(formatFlowSummary('ingest', summary) + '\n');
    if (cmd.json) io.stdout.write(JSON.stringify(summary) + '\n');
    return summary.rejectedMessages > 0 ? 1 : 0;
  } finally {
    await store.close();
  }
}

export interface CollectCommand {
  readonly db: string;
  readonly listen: string;
  readonly format: FlowFormat;
  readonly profile: Profile;
  readonly vendorOptions: VendorOptions;
  readonly json: boolean;
  readonly tcp: boolean;
  readonly recvBufferBytes?: number;
  readonly flushIntervalMs?: number;
  readonly batchSize?: number;
  readonly templateTimeoutSeconds?: number;
}

/** `HOST:PORT` or `[V6]:PORT`. */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || !(port >= 0 && port <= 65535)) throw new IparError('USAGE', `--listen takes HOST:PORT (or [IPv6]:PORT), got ${JSON.stringify(text)}`);
  return { host: m[1] ?? m[2]!, port };
}

/**
 * Run the collector until `stopSignal` resolves (by default SIGTERM or SIGINT), then
 * drain and report.
 */
export async function runCollect(cmd: CollectCommand, io: Io, stopSignal?: Promise<unknown>): Promise<number> {
  const { host, port } = parseListen(cmd.listen);
  const store = openStore(cmd.db);
  try {
    const collector = await startCollector(store, {
      host,
      port,
      format: cmd.format,
      profile: cmd.profile,
      vendorOptions: cmd.vendorOptions,
      tcp: cmd.tcp,
      ...(cmd.recvBufferBytes === undefined ? {} : { recvBufferBytes: cmd.recvBufferBytes }),
      ...(cmd.flushIntervalMs === undefined ? {} : { flushIntervalMs: cmd.flushIntervalMs }),
      ...(cmd.batchSize === undefined ? {} : { batchSize: cmd.batchSize }),
      ...(cmd.templateTimeoutSeconds === undefined ? {} : { decoder: { templateTimeoutMs: cmd.templateTimeoutSeconds * 1000 } }),
      ...reporters(io),
      onWarning: (m) => io.stderr.write(`collect: warning: ${m}\n`),
    });
    // One line a supervisor (and the tests) can wait for: where it listens.
    io.stderr.write(
      `collect: listening on udp ${host}:${collector.ports.udp}${collector.ports.tcp === null ? '' : ` and tcp ${host}:${collector.ports.tcp}`} (receive buffer ${collector.recvBufferBytes} octets)\n`,
    );
    // A collector runs for days: one progress line a minute (messages so far and their rate).
    const progress = new Progress('collect messages', io.stderr, undefined, COLLECT_PROGRESS_MS);
    const ticker = setInterval(() => progress.tick(collector.received()), 1000);
    ticker.unref();
    await (stopSignal ?? untilSignal());
    clearInterval(ticker);
    progress.done();
    const summary = await collector.stop();
    io.stderr.write(formatFlowSummary('collect', summary) + '\n');
    if (cmd.json) io.stdout.write(JSON.stringify(summary) + '\n');
    return summary.rejectedMessages > 0 ? 1 : 0;
  } finally {
    await store.close();
  }
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      process.off('SIGTERM', done);
      process.off('SIGINT', done);
      resolve();
    };
    process.on('SIGTERM', done);
    process.on('SIGINT', done);
  });
}
