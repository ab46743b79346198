/**
 * `ipar ingest --format ipfix|netflow9`: replay what a probe saved (an IPFIX file, or a
 * pcap capture of either protocol) through the same decoder, pairing and store path as
 * `ipar collect`. Each input is one session of its own (templates do not carry over).
 *
 * @example
 * const summary = await ingestFlowFiles(store, ['nat.pcap'], { format: 'ipfix', profile: profileNamed('iana')!, vendorOptions: { realm: 'cgn-a' } });
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { IparError } from '../../problems.js';
import type { StoreWriter } from '../../store/types.js';
import { ipfixFileMessages, isPcap, pcapMessages, type SavedMessage, type Skipped } from './files.js';
import { FlowSession, type FlowSessionOptions } from './session.js';
import { FlowSink, type FlowSummary, type SinkOptions } from './sink.js';

export interface FlowIngestOptions extends FlowSessionOptions, SinkOptions {
  readonly onProgress?: (messages: number) => void;
}

export async function ingestFlowFiles(store: StoreWriter, files: readonly string[], options: FlowIngestOptions): Promise<FlowSummary> {
  const sink = new FlowSink(store, options);
  let messages = 0;
  let records = 0;
  let lost = 0;
  const events: Record<string, number> = {};
  for (const file of files) {
    if (file === '-') throw new IparError('USAGE', `--format ${options.format} reads files (an IPFIX file or a pcap capture), not stdin`);
    let data: Buffer;
    try {
      data = await readFile(file);
    } catch (error) {
      throw new IparError('INPUT_NOT_READABLE', `cannot read ${file}: ${(error as Error).message}`);
    }
    const session = new FlowSession(options);
    const skipped: Skipped[] = [];
    const onSkip = (s: Skipped): void => {
      skipped.push(s);
    };
    let source: Iterable<SavedMessage>;
    if (isPcap(data)) source = pcapMessages(data, onSkip);
    else if (options.format === 'ipfix') source = ipfixFileMessages(data, basename(file), onSkip);
    else throw new IparError('NOT_PCAP', `${file} is not a pcap capture; NetFlow v9 has no file format of its own, so --format netflow9 reads captures only`);
    for (const m of source) {
      await sink.take(session.message(m.data, m.exporter, m.number, 'file'), file);
      if ((++messages & 0x3ff) === 0) options.onProgress?.(messages);
    }
    await sink.take(session.end(), file);
    for (const s of skipped)
      options.onReject?.({ file, line: s.number, problems: [{ field: '', reason: s.reason, message: s.message }], input: `message ${s.number}` });
    records += session.counts.records;
    lost += session.counts.lost;
    for (const [k, n] of Object.entries(session.counts.events)) events[k] = (events[k] ?? 0) + n;
    sink.rejectedMessages += skipped.length;
  }
  await sink.flush();
  return { messages, records, stored: sink.stored, unchanged: sink.unchanged, rejectedMessages: sink.rejectedMessages, lost, events };
}
