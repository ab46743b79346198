/**
 * The live collector behind `ipar collect`: UDP datagrams (IPFIX or NetFlow v9) and, for
 * IPFIX, TCP streams (RFC 7011 §10.4: messages back to back, delimited by their length)
 * on one host and port. Each message is decoded as it arrives; records go to the store
 * in batches, written when a batch is full and every `flushIntervalMs`, one write at a
 * time. `stop()` (the CLI calls it on SIGTERM and SIGINT) reads what the kernel still
 * holds (until 100 ms pass without a datagram), closes the sockets, reports the sets
 * still waiting for a template, writes everything and resolves with the summary.
 *
 * Sessions and blocks still open when the collector stops are not ended by the stop: like
 * `ipar ingest` between runs, the pairing's state is saved in the store (its pairing
 * table, scope `FORMAT|REALM`) with the open records stored provisionally, and the next
 * collector of that scope resumes it, so a delete that arrives after a restart closes the
 * session created before it. (A crash loses what opened since the last stop; the records
 * closed before it are stored.)
 *
 * The kernel drops datagrams that arrive while its receive buffer is full, and nothing
 * tells the exporter: size it for bursts (`recvBufferBytes`, default 8 MiB; Linux caps it
 * at `net.core.rmem_max`, and the collector warns when it got less than asked). Loss the
 * sequence numbers show still becomes coverage gaps.
 */
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server, type Socket as TcpSocket } from 'node:net';
import { once } from 'node:events';
import { IparError } from '../../problems.js';
import { CanonicalRecord } from '../../records.js';
import type { StoreWriter } from '../../store/types.js';
import { pairingScope, type SavedPairing } from '../ingest.js';
import { FlowSession, type FlowSessionOptions } from './session.js';
import { FlowSink, type FlowSummary, type SinkOptions } from './sink.js';

export const DEFAULT_RECV_BUFFER_BYTES = 8 * 1024 * 1024;
export const DEFAULT_FLUSH_INTERVAL_MS = 1000;
/** Records batched before a write (smaller than ingest's: a live store should see records within a second). */
export const DEFAULT_COLLECT_BATCH = 20_000;
/** On stop, the socket is read until no datagram came for this long (at most `DRAIN_MAX_MS`). */
const DRAIN_QUIET_MS = 100;
const DRAIN_MAX_MS = 30_000;

export interface CollectorOptions extends FlowSessionOptions, SinkOptions {
  readonly host: string;
  /** 0 picks a free port (tests); the bound ports are in {@link Collector.ports}. */
  readonly port: number;
  /** Also accept IPFIX over TCP on the same port (default true for IPFIX). */
  readonly tcp?: boolean;
  readonly recvBufferBytes?: number;
  readonly flushIntervalMs?: number;
  /** Told once when the kernel gave a smaller receive buffer than asked. */
  readonly onWarning?: (message: string) => void;
}

export interface Collector {
  readonly ports: { readonly udp: number; readonly tcp: number | null };
  /** Datagrams and TCP messages received so far. */
  readonly received: () => number;
  /** The receive buffer the kernel granted, octets. */
  readonly recvBufferBytes: number;
  stop(): Promise<FlowSummary>;
}

/** Split a TCP byte stream into IPFIX messages by their length field. */
class StreamSplitter {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer, each: (message: Buffer) => void): string | null {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let at = 0;
    while (this.pending.length - at >= 4) {
      const length = this.pending.readUInt16BE(at + 2);
      if (length < 16) return `a message at stream octet ${at} says ${length} octets, less than a header: the stream cannot be delimited`;
      if (this.pending.length - at < length) break;
      each(this.pending.subarray(at, at + length));
      at += length;
    }
    this.pending = this.pending.subarray(at);
    return null;
  }
}

export async function startCollector(store: StoreWriter, options: CollectorOptions): Promise<Collector> {
  const session = new FlowSession(options);
  const sink = new FlowSink(store, { ...options, batchSize: options.batchSize ?? DEFAULT_COLLECT_BATCH });
  // What the last collector of this scope left open: resumed now, retracted at the stop.
  const scope = pairingScope(options.format, options.vendorOptions);
  const saved = store.pairingState === undefined ? null : await store.pairingState(scope);
  const loaded = saved === null || saved.state === null ? null : (JSON.parse(saved.state) as SavedPairing);
  if (loaded !== null) session.resume(loaded.book);
  let name = `${options.host}:${options.port}`;
  let received = 0;
  let chain: Promise<void> = Promise.resolve();
  let failure: unknown = null;
  const enqueue = (work: () => Promise<void>): void => {
    chain = chain.then(work).catch((error: unknown) => {
      failure ??= error;
    });
  };
  const deliver = (data: Buffer, exporter: string, transport: 'udp' | 'tcp'): void => {
    const n = ++received;
    const out = session.message(data, exporter, n, transport);
    if (out.records.length > 0 || out.problems.length > 0 || out.notes.length > 0) enqueue(() => sink.take(out, name));
  };

  const udp: Socket = createSocket({
    type: options.host.includes(':') ? 'udp6' : 'udp4',
    recvBufferSize: options.recvBufferBytes ?? DEFAULT_RECV_BUFFER_BYTES,
  });
  udp.on('message', (msg, rinfo) => deliver(msg, rinfo.address, 'udp'));
  const bound = once(udp, 'listening');
  udp.once('error', (e) => {
    failure ??= new IparError('LISTEN_FAILED', `cannot listen on udp ${name}: ${e.message}`);
  });
  udp.bind(options.port, options.host);
  try {
    await Promise.race([bound, once(udp, 'error').then(([e]) => Promise.reject(e as Error))]);
  } catch (e) {
    udp.close();
    throw new IparError('LISTEN_FAILED', `cannot listen on udp ${name}: ${(e as Error).message}`);
  }
  const granted = udp.getRecvBufferSize();
  const asked = options.recvBufferBytes ?? DEFAULT_RECV_BUFFER_BYTES;
  // Linux reports twice what it grants (bookkeeping overhead): compare against half.
  if (granted / 2 < asked)
    options.onWarning?.(`the UDP receive buffer is ${granted} octets, less than the ${asked} asked (raise net.core.rmem_max); bursts may be dropped`);
  const udpPort = udp.address().port;
  name = `${options.host}:${udpPort}`;

  let server: Server | null = null;
  const sockets = new Set<TcpSocket>();
  if (options.format === 'ipfix' && options.tcp !== false) {
    server = createServer((socket) => {
      sockets.add(socket);
      const splitter = new StreamSplitter();
      const exporter = socket.remoteAddress ?? 'unknown';
      socket.on('data', (chunk: Buffer) => {
        const broken = splitter.push(chunk, (m) => deliver(Buffer.from(m), exporter, 'tcp'));
        if (broken !== null) {
          enqueue(() =>
            sink.take(
              {
                records: [],
                problems: [{ line: received, field: '', reason: 'MALFORMED_MESSAGE', message: `tcp from ${exporter}: ${broken}; connection closed` }],
                notes: [],
                gaps: [],
              },
              name,
            ),
          );
          socket.destroy();
        }
      });
      socket.on('error', () => socket.destroy());
      socket.on('close', () => {
        sockets.delete(socket);
        // Templates live as long as their transport session; another connection of the same exporter keeps them.
        if (![...sockets].some((s) => s.remoteAddress === exporter)) {
          const out = session.closeTransport(exporter, 'tcp');
          if (out.records.length > 0 || out.problems.length > 0 || out.notes.length > 0) enqueue(() => sink.take(out, name));
        }
      });
    });
    const listening = once(server, 'listening');
    server.listen(udpPort, options.host);
    try {
      await Promise.race([listening, once(server, 'error').then(([e]) => Promise.reject(e as Error))]);
    } catch (e) {
      udp.close();
      throw new IparError('LISTEN_FAILED', `cannot listen on tcp ${options.host}:${udpPort}: ${(e as Error).message}`);
    }
  }

  const timer = setInterval(() => enqueue(() => sink.flush()), options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS);
  let stopping: Promise<FlowSummary> | null = null;

  return {
    ports: { udp: udpPort, tcp: server === null ? null : udpPort },
    received: () => received,
    recvBufferBytes: granted,
    stop(): Promise<FlowSummary> {
      stopping ??= (async () => {
        clearInterval(timer);
        // Datagrams the kernel already holds are read first: stop once none came for a quiet spell.
        const drainUntil = Date.now() + DRAIN_MAX_MS;
        for (let before = -1; before !== received && Date.now() < drainUntil;) {
          before = received;
          await new Promise((resolve) => setTimeout(resolve, DRAIN_QUIET_MS));
        }
        await new Promise<void>((resolve) => udp.close(() => resolve()));
        if (server !== null) {
          for (const s of sockets) s.end();
          await new Promise<void>((resolve) => server!.close(() => resolve()));
        }
        if (store.pairingState === undefined) {
          // A backend that keeps no pairing state stores what is open as it stands, final.
          const last = session.end();
          enqueue(() => sink.take(last, name));
          enqueue(() => sink.flush());
        } else {
          const last = session.suspend();
          enqueue(async () => {
            await sink.take(last.output, name);
            const retract: CanonicalRecord[] = [];
            for (const raw of loaded?.provisional ?? []) {
              const parsed = CanonicalRecord.safeParse(raw);
              if (parsed.success) retract.push(parsed.data);
            }
            const provisional = sink.validate(last.provisional, [], name);
            const state: SavedPairing | null = last.state === null ? null : { book: last.state, provisional: last.provisional };
            await sink.flush({
              pairing: { scope, state: state === null ? null : JSON.stringify(state), provisional, retract, generation: saved?.generation ?? 0 },
            });
          });
        }
        await chain;
        if (failure !== null) throw failure;
        return {
          messages: session.counts.messages,
          records: session.counts.records,
          stored: sink.stored,
          unchanged: sink.unchanged,
          rejectedMessages: sink.rejectedMessages,
          lost: session.counts.lost,
          events: session.counts.events,
        };
      })();
      return stopping;
    },
  };
}
