/**
 * NAT events from decoded IPFIX / NetFlow v9 records to canonical records, through the
 * same pairing as the vendor importers (an {@link IntervalBook} via `Parse`): session
 * events become `nat-session` (with the destination when exported), port-block events
 * `nat-block`, address-binding events a `nat-block` of the whole port range (the address
 * is bound), BIB events a `nat-session` without destination. Lost records become
 * `coverage` gaps of the exporter's source name.
 */
import { protocolOf, Parse, requireRealm } from '../vendors/common.js';
import { LINE_REASONS } from '../vendors/output.js';
import type { CanonicalRecordInput } from '../../records.js';
import type { LineProblem, PairingState, ParseOutput, VendorOptions, VendorSession } from '../vendors/types.js';
import { formatInstant } from '../../time.js';
import { parseAddress } from '../../address.js';
import { FlowDecoder, FLOW_REASONS, type DecoderOptions, type FlowFormat, type FlowRecord, type SequenceGap, type Transport } from './decoder.js';
import { classify, type Profile } from './profiles.js';
import type { FlowValues } from './elements.js';

/** Problems of the NAT event layer (besides the decoder's {@link FLOW_REASONS}). */
export const EVENT_REASONS = {
  /** A natEvent value (or record shape) the profile does not define. */
  EVENT_UNDEFINED: 'EVENT_UNDEFINED',
  /** A record with no element giving the event's time. */
  MISSING_TIME: 'MISSING_TIME',
  /** A port block with a step size above 1: not a contiguous range. */
  PORT_BLOCK_STRIDED: 'PORT_BLOCK_STRIDED',
} as const;

/** Decoder reports that are not rejected input: they are stated, and the coverage records carry the loss. */
export const NOTE_REASONS: ReadonlySet<string> = new Set([FLOW_REASONS.RECORDS_LOST, FLOW_REASONS.EXPORTER_RESTARTED]);

export interface FlowSessionOptions {
  readonly format: FlowFormat;
  readonly profile: Profile;
  readonly vendorOptions: VendorOptions;
  /** Decoder settings other than format, transport and the profile's sequence unit. */
  readonly decoder?: Omit<DecoderOptions, 'format' | 'transport' | 'sequenceCountsMessages'>;
}

export interface FlowOutput extends ParseOutput {
  /** Reports that are not rejections (loss, restarts), with the message number in `line`. */
  readonly notes: readonly LineProblem[];
  readonly gaps: readonly SequenceGap[];
}

/** The end of a stream that keeps its pairing (see {@link FlowSession.suspend}). */
export interface SuspendedFlow {
  /** What the end released: held sets reported, closed intervals. */
  readonly output: FlowOutput;
  /** The unfinished intervals, for the next run (`null` when none). */
  readonly state: PairingState | null;
  /** The records they stand for now (open ones `end: null` with `lastSeen`). */
  readonly provisional: readonly CanonicalRecordInput[];
}

/** Tallies of what was read (for the summary). */
export interface FlowCounts {
  messages: number;
  records: number;
  optionsRecords: number;
  events: Record<string, number>;
  lost: number;
}

const ZERO_V4 = '0.0.0.0';
const ZERO_V6 = '::';

/** The coverage source a gap of this exporter and domain is stored under. */
export function gapSource(realm: string, format: FlowFormat, exporter: string, domain: number): string {
  return `${realm}/${format}/${exporter}/${domain}`;
}

export class FlowSession {
  private readonly p: Parse;
  /** The book's suspend and resume, in the form every importer saves (src/ingest/vendors/common.ts). */
  private readonly shell: VendorSession;
  private readonly realm: string;
  private readonly decoders = new Map<Transport, FlowDecoder>();
  readonly counts: FlowCounts = { messages: 0, records: 0, optionsRecords: 0, events: {}, lost: 0 };
  private notes: LineProblem[] = [];
  private gaps: SequenceGap[] = [];

  constructor(private readonly options: FlowSessionOptions) {
    const name = options.format;
    this.realm = requireRealm(options.vendorOptions, name);
    this.p = new Parse(options.vendorOptions, name);
    this.shell = this.p.session(() => {});
  }

  /**
   * Continue the intervals a previous run left (`suspend`'s state, from the store's
   * pairing table), before the first message: a delete whose create came before a
   * restart closes the session the previous run stored open.
   */
  resume(state: PairingState): void {
    this.shell.resume!(state);
  }

  private decoder(transport: Transport): FlowDecoder {
    let d = this.decoders.get(transport);
    if (d === undefined) {
      d = new FlowDecoder({
        ...this.options.decoder,
        format: this.options.format,
        transport,
        ...(this.options.profile.sequenceCountsMessages === true ? { sequenceCountsMessages: true } : {}),
      });
      this.decoders.set(transport, d);
    }
    return d;
  }

  /** One message from `exporter` (its address), numbered `message` in its input. */
  message(buf: Buffer, exporter: string, message: number, transport: Transport): FlowOutput {
    this.counts.messages++;
    try {
      this.absorb(this.decoder(transport).decode(buf, exporter, message));
    } catch (error) {
      // A decoder bug on one message must not stop the collector or lose the rest of the input.
      this.p.out.problem(
        message,
        '',
        'PARSER_FAILED',
        `the ${this.options.format} decoder failed on this message from ${exporter}: ${(error as Error).message}`,
      );
    }
    this.p.book.drain();
    return this.take();
  }

  /** A TCP connection of `exporter` closed: its templates and sequence numbers go with it. */
  closeTransport(exporter: string, transport: Transport): FlowOutput {
    const d = this.decoders.get(transport);
    if (d !== undefined) this.absorb(d.closeSession(exporter));
    return this.take();
  }

  /**
   * End of input: held sets reported. The end of a stream ends nothing (issue 15): intervals
   * still open are stored open, with `lastSeen` at their last event.
   */
  end(): FlowOutput {
    for (const d of this.decoders.values()) this.absorb(d.end());
    for (const record of this.p.book.suspend(true).provisional) this.p.out.record(record);
    return this.take();
  }

  /**
   * End of this run without ending the stream (a collector stopping for a restart): held
   * sets reported, and the unfinished intervals handed on as state with the provisional
   * records they stand for, as `ingest` hands them from one run to the next.
   */
  suspend(): SuspendedFlow {
    for (const d of this.decoders.values()) this.absorb(d.end());
    const s = this.shell.suspend!(true);
    const result = { records: s.output.records, problems: s.output.problems, notes: this.notes, gaps: this.gaps };
    this.notes = [];
    this.gaps = [];
    return { output: result, state: s.state, provisional: s.provisional };
  }

  private take(): FlowOutput {
    const out = this.p.out.take();
    const result = { records: out.records, problems: out.problems, notes: this.notes, gaps: this.gaps };
    this.notes = [];
    this.gaps = [];
    return result;
  }

  private absorb(out: { records: FlowRecord[]; problems: LineProblem[]; gaps: SequenceGap[]; options: number }): void {
    for (const pr of out.problems) {
      if (NOTE_REASONS.has(pr.reason)) this.notes.push(pr);
      else this.p.out.problem(pr.line, pr.field, pr.reason, pr.message, pr.value);
    }
    this.counts.optionsRecords += out.options;
    for (const r of out.records) {
      this.counts.records++;
      this.event(r);
    }
    for (const g of out.gaps) {
      this.counts.lost += g.lost;
      this.gaps.push(g);
      // Export times have second precision: the gap runs to the end of the later second.
      this.p.out.record({
        kind: 'coverage',
        source: gapSource(this.realm, this.options.format, g.exporter, g.domain),
        start: formatInstant(g.startMs),
        end: formatInstant(g.endMs + 1000),
        status: 'gap',
      });
    }
  }

  private event(r: FlowRecord): void {
    const v = r.values;
    const line = r.message;
    const out = this.p.out;
    const k = classify(this.options.profile, v);
    if ('undefinedEvent' in k) {
      out.problem(
        line,
        'natEvent',
        EVENT_REASONS.EVENT_UNDEFINED,
        `${k.undefinedEvent} (template ${r.templateId} of ${r.exporter} domain ${r.domain})`,
        v.natEvent,
      );
      return;
    }
    this.counts.events[k.label] = (this.counts.events[k.label] ?? 0) + 1;
    if (k.action === 'no-record') return;
    const ending = k.action.endsWith('-delete') || k.action === 'block-release';
    const at = eventTime(v, r, ending);
    if (at === undefined) {
      out.problem(
        line,
        'observationTimeMilliseconds',
        EVENT_REASONS.MISSING_TIME,
        `a ${k.label} record of template ${r.templateId} carries no event time (observationTimeMilliseconds, flowStart/EndMilliseconds or v9 uptimes)`,
      );
      return;
    }
    this.p.book.see(at);
    const insideIp = this.inside(v, line);
    const outsideIp = this.address(line, 'postNATSourceIPv4Address', v.postSourceIp);
    if (insideIp === undefined || outsideIp === undefined) return;
    const realm = this.realm;
    const book = this.p.book;
    switch (k.action) {
      case 'session-create':
      case 'session-delete':
      case 'bib-create':
      case 'bib-delete': {
        const insidePort = this.port(line, 'sourceTransportPort', v.sourcePort);
        const outsidePort = this.port(line, 'postNAPTSourceTransportPort', v.postSourcePort);
        const protocol = this.protocol(line, v.protocol);
        if (insidePort === undefined || outsidePort === undefined || protocol === undefined) return;
        let destination: { destinationIp: string; destinationPort: number } | undefined;
        const dIp = k.action.startsWith('bib') ? undefined : (present(v.postDestinationIp) ?? present(v.destinationIp));
        if (dIp !== undefined) {
          const destinationIp = this.address(line, 'destinationIPv4Address', dIp);
          const destinationPort = this.port(line, 'destinationTransportPort', v.postDestinationPort ?? v.destinationPort);
          if (destinationIp === undefined || destinationPort === undefined) return;
          destination = { destinationIp, destinationPort };
        }
        const fields = { kind: 'nat-session' as const, realm, insideIp, insidePort, outsideIp, outsidePort, ...destination, protocol };
        const ev = {
          resource: `${protocol}|${outsideIp}|${outsidePort}|${destination?.destinationIp ?? ''}|${destination?.destinationPort ?? ''}`,
          holder: `${insideIp}|${insidePort}|${v.flowId ?? ''}`,
          fields,
          line,
          at,
        };
        if (ending) book.stop(ev);
        else book.grant(ev);
        return;
      }
      case 'block-allocate':
      case 'block-release': {
        if (v.portRangeStep !== undefined && v.portRangeStep > 1) {
          out.problem(
            line,
            'portRangeStepSize',
            EVENT_REASONS.PORT_BLOCK_STRIDED,
            `port block from ${v.portRangeStart ?? '?'} with step ${v.portRangeStep} is not a contiguous range; nat-block records hold contiguous ranges only`,
            v.portRangeStep,
          );
          return;
        }
        const portFirst = this.port(line, 'portRangeStart', v.portRangeStart);
        const last = v.portRangeEnd ?? (v.portRangeNumPorts !== undefined && portFirst !== undefined ? portFirst + v.portRangeNumPorts - 1 : undefined);
        const portLast = this.port(line, 'portRangeEnd', last);
        if (portFirst === undefined || portLast === undefined) return;
        if (portLast < portFirst) {
          out.problem(line, 'portRangeEnd', LINE_REASONS.PORT_RANGE_REVERSED, `portRangeEnd ${portLast} is below portRangeStart ${portFirst}`, portLast);
          return;
        }
        const protocol = v.protocol === undefined || v.protocol === 0 ? undefined : this.protocol(line, v.protocol);
        const fields = { kind: 'nat-block' as const, realm, insideIp, outsideIp, portFirst, portLast, ...(protocol === undefined ? {} : { protocol }) };
        const ev = { resource: `${outsideIp}|${portFirst}|${portLast}|${protocol ?? ''}`, holder: insideIp, fields, line, at };
        if (ending) book.stop(ev);
        else book.grant(ev);
        return;
      }
      case 'binding-create':
      case 'binding-delete': {
        const fields = { kind: 'nat-block' as const, realm, insideIp, outsideIp, portFirst: 0, portLast: 65535 };
        const ev = { resource: `${outsideIp}|binding`, holder: insideIp, fields, line, at };
        if (ending) book.stop(ev);
        else book.grant(ev);
        return;
      }
    }
  }

  private inside(v: FlowValues, line: number): string | undefined {
    if (this.options.profile.insideFromNatSubString === true) {
      const s = v.natSubString;
      const at = s === undefined ? -1 : s.lastIndexOf('@');
      if (s === undefined || at < 0) {
        this.p.out.problem(
          line,
          'aluNatSubString',
          LINE_REASONS.MISSING_FIELD,
          `aluNatSubString (637/93) ${s === undefined ? 'is missing' : `has no @address: ${JSON.stringify(s)}`}`,
          s,
        );
        return undefined;
      }
      return this.address(line, 'aluNatSubString', s.slice(at + 1));
    }
    return this.address(line, 'sourceIPv4Address', v.sourceIp);
  }

  private address(line: number, field: string, text: string | undefined): string | undefined {
    if (text === undefined) {
      this.p.out.problem(line, field, LINE_REASONS.MISSING_FIELD, `${field} is missing`);
      return undefined;
    }
    // Decoded IPv4 and IPv6 are already canonical; only aluNatSubString is free text.
    if (field !== 'aluNatSubString') return text;
    const r = parseAddress(text);
    if (r.ok) return r.value.text;
    this.p.out.problem(line, field, r.reason, `${field}: ${r.message}`, text);
    return undefined;
  }

  private port(line: number, field: string, n: number | undefined): number | undefined {
    if (n !== undefined && n >= 0 && n <= 65535) return n;
    this.p.out.problem(
      line,
      field,
      n === undefined ? LINE_REASONS.MISSING_FIELD : LINE_REASONS.INVALID_PORT,
      `${field} ${n === undefined ? 'is missing' : `is not a port: ${n}`}`,
      n,
    );
    return undefined;
  }

  private protocol(line: number, n: number | undefined) {
    const p = n === undefined ? undefined : protocolOf(String(n));
    if (p !== undefined) return p;
    this.p.out.problem(
      line,
      'protocolIdentifier',
      n === undefined ? LINE_REASONS.MISSING_FIELD : LINE_REASONS.UNKNOWN_PROTOCOL,
      `protocolIdentifier ${n === undefined ? 'is missing' : `${n} is not a protocol the records hold (tcp, udp, icmp, icmpv6, sctp, gre, esp)`}`,
      n,
    );
    return undefined;
  }
}

function present(ip: string | undefined): string | undefined {
  return ip === undefined || ip === ZERO_V4 || ip === ZERO_V6 ? undefined : ip;
}

/** The event's time: observationTime, else the flow start (create) or end (delete), else v9 uptimes made absolute. */
function eventTime(v: FlowValues, r: FlowRecord, ending: boolean): number | undefined {
  if (v.observationMs !== undefined) return v.observationMs;
  const flow = ending ? (v.flowEndMs ?? v.flowStartMs) : (v.flowStartMs ?? v.flowEndMs);
  if (flow !== undefined) return flow;
  const up = ending ? (v.lastUptime ?? v.firstUptime) : (v.firstUptime ?? v.lastUptime);
  if (up !== undefined && r.uptimeMs !== undefined) return r.exportMs - (r.uptimeMs - up);
  return undefined;
}
