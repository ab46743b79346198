/**
 * Decoding IPFIX (RFC 7011) and NetFlow v9 (RFC 3954) messages into the values of their
 * data records, table-driven by element id (elements.ts). Written here because no npm
 * package decodes IPFIX properly (the NetFlow one compiles code with `new Function()`).
 *
 * - Templates and options templates per (exporter, observation domain, template id),
 *   with refresh, withdrawal and, over UDP, a timeout in export time (templates.ts).
 * - Variable-length and enterprise-specific elements; unknown elements are skipped.
 * - Data sets that arrive before their template are held (at most `pendingSets`, for at
 *   most `pendingMs` of the exporter's export time) and decoded when it arrives, else
 *   reported (`TEMPLATE_UNKNOWN`).
 * - A malformed set or record is a counted, reported problem; the rest of the message is
 *   read when its set lengths still say where the next set starts.
 * - Sequence numbers (IPFIX: data records per domain; v9 and VPP's IPFIX: messages) give
 *   the records lost as {@link SequenceGap}s; a reset (or v9 uptime going back) is an
 *   exporter restart, not loss. Gaps wait `gapHoldMessages` messages for late arrivals.
 *
 * Problems carry `line`: the number of the message in its input (1-based).
 */
import type { ProblemReason } from '../../catalogue/problems.js';
import { keyToText } from '../../address.js';
import type { LineProblem } from '../vendors/types.js';
import { KIND, type FlowValues } from './elements.js';
import { compileTemplate, TemplateCache, type FieldSpec, type Template } from './templates.js';

export type FlowFormat = 'ipfix' | 'netflow9';
export type Transport = 'udp' | 'tcp' | 'file';

/** Reasons the decoder reports (constant, for grouping). */
export const FLOW_REASONS = {
  MALFORMED_MESSAGE: 'MALFORMED_MESSAGE',
  MALFORMED_SET: 'MALFORMED_SET',
  MALFORMED_TEMPLATE: 'MALFORMED_TEMPLATE',
  MALFORMED_RECORD: 'MALFORMED_RECORD',
  ELEMENT_LENGTH: 'ELEMENT_LENGTH',
  TEMPLATE_UNKNOWN: 'TEMPLATE_UNKNOWN',
  TEMPLATE_EXPIRED: 'TEMPLATE_EXPIRED',
  TEMPLATE_REDEFINED: 'TEMPLATE_REDEFINED',
  WRONG_VERSION: 'WRONG_VERSION',
  RECORDS_LOST: 'RECORDS_LOST',
  EXPORTER_RESTARTED: 'EXPORTER_RESTARTED',
} as const;

/** One decoded data record with where it came from. */
export interface FlowRecord {
  readonly exporter: string;
  readonly domain: number;
  readonly templateId: number;
  /** Export time of its message, ms. */
  readonly exportMs: number;
  /** v9: the exporter's uptime at export, ms (to make FIRST/LAST_SWITCHED absolute). */
  readonly uptimeMs: number | undefined;
  readonly values: FlowValues;
  /** Message number in its input. */
  readonly message: number;
}

/** Records (or, for sources counting messages, messages) lost between two messages. */
export interface SequenceGap {
  readonly exporter: string;
  readonly domain: number;
  readonly lost: number;
  readonly unit: 'records' | 'messages';
  /** Export time of the last message before the loss and of the first after it, ms. */
  readonly startMs: number;
  readonly endMs: number;
  readonly message: number;
}

export interface DecodeOutput {
  readonly records: FlowRecord[];
  readonly problems: LineProblem[];
  readonly gaps: SequenceGap[];
  /** Options data records decoded (counted in sequences, not NAT events). */
  options: number;
}

export interface DecoderOptions {
  readonly format: FlowFormat;
  readonly transport: Transport;
  /** UDP template lifetime after its last refresh, ms of export time (default 30 min). */
  readonly templateTimeoutMs?: number;
  /** How long a data set may wait for its template, ms of export time (default 10 s). */
  readonly pendingMs?: number;
  /** Data sets held for their template at most, over all exporters (default 4096). */
  readonly pendingSets?: number;
  /** The IPFIX sequence counts messages, not records (FD.io VPP does so). */
  readonly sequenceCountsMessages?: boolean;
  /** Messages a gap waits for a late (reordered) message to fill it (default 16; 0 over TCP and files). */
  readonly gapHoldMessages?: number;
}

export const DEFAULT_TEMPLATE_TIMEOUT_MS = 30 * 60_000;
export const DEFAULT_PENDING_MS = 10_000;
export const DEFAULT_PENDING_SETS = 4096;
export const DEFAULT_GAP_HOLD_MESSAGES = 16;
/** A sequence this far behind the expected one is a restart, not a late message. */
const LATE_TOLERANCE = 1 << 20;

interface HeldSet {
  readonly exporter: string;
  readonly domain: number;
  readonly templateId: number;
  readonly body: Buffer;
  readonly exportMs: number;
  readonly uptimeMs: number | undefined;
  readonly message: number;
}

interface OpenGap {
  from: number;
  lost: number;
  readonly to: number;
  readonly startMs: number;
  readonly endMs: number;
  readonly message: number;
  age: number;
}

interface Stream {
  /** The next sequence number; undefined when the last message's record count is unknown (it held sets). */
  expected: number | undefined;
  lastExportMs: number;
  lastUptimeMs: number | undefined;
  gaps: OpenGap[];
}

const U32 = 0x1_0000_0000;

function ipv4(buf: Buffer, at: number): string {
  return `${buf[at]}.${buf[at + 1]}.${buf[at + 2]}.${buf[at + 3]}`;
}

function unsigned(buf: Buffer, at: number, length: number): number {
  switch (length) {
    case 1:
      return buf[at]!;
    case 2:
      return (buf[at]! << 8) | buf[at + 1]!;
    case 4:
      return buf.readUInt32BE(at);
    default: {
      let v = 0;
      for (let i = 0; i < length; i++) v = v * 256 + buf[at + i]!;
      return v;
    }
  }
}

export class FlowDecoder {
  readonly templates = new TemplateCache();
  private readonly streams = new Map<string, Stream>();
  private held: HeldSet[] = [];
  private readonly templateTimeoutMs: number;
  private readonly pendingMs: number;
  private readonly pendingSets: number;
  private readonly gapHold: number;
  private out: DecodeOutput = FlowDecoder.empty();
  /** Templates of this message whose held sets wait to be replayed. */
  private arrived: string[] = [];
  private heldThisMessage = false;
  /** Data and options records of the current message's own sets (not replayed held ones). */
  private ownRecords = 0;
  private replaying = false;

  constructor(private readonly options: DecoderOptions) {
    this.templateTimeoutMs = options.templateTimeoutMs ?? DEFAULT_TEMPLATE_TIMEOUT_MS;
    this.pendingMs = options.pendingMs ?? DEFAULT_PENDING_MS;
    this.pendingSets = options.pendingSets ?? DEFAULT_PENDING_SETS;
    this.gapHold = options.gapHoldMessages ?? (options.transport === 'udp' ? DEFAULT_GAP_HOLD_MESSAGES : 0);
  }

  private static empty(): DecodeOutput {
    return { records: [], problems: [], gaps: [], options: 0 };
  }

  private take(): DecodeOutput {
    const out = this.out;
    this.out = FlowDecoder.empty();
    return out;
  }

  private problem(message: number, field: string, reason: ProblemReason, text: string, value?: unknown): void {
    this.out.problems.push(value === undefined ? { line: message, field, reason, message: text } : { line: message, field, reason, message: text, value });
  }

  /**
   * Decode one message (a UDP datagram, or one message of a file or TCP stream).
   * `exporter` names its sender (its address); `message` numbers it for problems.
   */
  decode(buf: Buffer, exporter: string, message: number): DecodeOutput {
    if (buf.length < 4) {
      this.problem(message, '', FLOW_REASONS.MALFORMED_MESSAGE, `a message of ${buf.length} octets is shorter than any header`);
      return this.take();
    }
    const version = buf.readUInt16BE(0);
    if (this.options.format === 'ipfix' ? version !== 10 : version !== 9) {
      this.problem(
        message,
        'version',
        FLOW_REASONS.WRONG_VERSION,
        `version ${version} is not ${this.options.format === 'ipfix' ? 'IPFIX (10)' : 'NetFlow v9 (9)'}`,
        version,
      );
      return this.take();
    }
    const exportMs = version === 10 ? this.ipfix(buf, exporter, message) : this.v9(buf, exporter, message);
    if (exportMs !== undefined) this.expireHeld(exporter, exportMs);
    return this.take();
  }

  /** End of input: report the sets still waiting for a template and the gaps still open. */
  end(): DecodeOutput {
    for (const h of this.held) this.reportHeld(h, 'the input ended first');
    this.held = [];
    for (const [key, s] of this.streams) {
      const [exporter, domain] = splitStream(key);
      for (const g of s.gaps) this.emitGap(exporter, domain, g);
      s.gaps = [];
    }
    return this.take();
  }

  /**
   * An exporter's transport session (a TCP connection) ended: its templates and sequence
   * numbers belong to that session (RFC 7011 §8, §3.1), so they are forgotten; gaps still
   * open are final.
   */
  closeSession(exporter: string): DecodeOutput {
    this.templates.withdrawExporter(exporter);
    for (const [key, s] of [...this.streams]) {
      const [who, domain] = splitStream(key);
      if (who !== exporter) continue;
      for (const g of s.gaps) this.emitGap(who, domain, g);
      this.streams.delete(key);
    }
    return this.take();
  }

  /** Returns the message's export time (undefined when its header could not be read). */
  private ipfix(buf: Buffer, exporter: string, message: number): number | undefined {
    if (buf.length < 16) {
      this.problem(message, '', FLOW_REASONS.MALFORMED_MESSAGE, `an IPFIX message of ${buf.length} octets is shorter than its 16-octet header`);
      return undefined;
    }
    let length = buf.readUInt16BE(2);
    if (length < 16 || length > buf.length) {
      this.problem(message, 'length', FLOW_REASONS.MALFORMED_MESSAGE, `the header says ${length} octets, the message has ${buf.length}`, length);
      if (length < 16) return undefined;
      length = buf.length;
    }
    const exportMs = buf.readUInt32BE(4) * 1000;
    const seq = buf.readUInt32BE(8);
    const domain = buf.readUInt32BE(12);
    this.heldThisMessage = false;
    this.ownRecords = 0;
    let at = 16;
    while (at + 4 <= length) {
      const setId = buf.readUInt16BE(at);
      const setLength = buf.readUInt16BE(at + 2);
      if (setLength < 4 || at + setLength > length) {
        this.problem(
          message,
          `set@${at}`,
          FLOW_REASONS.MALFORMED_SET,
          `set ${setId} at octet ${at} says ${setLength} octets but ${length - at} remain; the rest of the message cannot be delimited`,
          setLength,
        );
        break;
      }
      const body = buf.subarray(at + 4, at + setLength);
      if (setId === 2 || setId === 3) this.ipfixTemplates(body, setId === 3, exporter, domain, exportMs, message);
      else if (setId >= 256) this.dataSet(body, setId, exporter, domain, exportMs, undefined, message);
      else this.problem(message, `set@${at}`, FLOW_REASONS.MALFORMED_SET, `set id ${setId} is reserved`, setId);
      at += setLength;
    }
    this.replayArrived();
    const counted = this.options.sequenceCountsMessages === true ? 1 : this.ownRecords;
    this.sequence(exporter, domain, seq, counted, exportMs, undefined, message);
    return exportMs;
  }

  private v9(buf: Buffer, exporter: string, message: number): number | undefined {
    if (buf.length < 20) {
      this.problem(message, '', FLOW_REASONS.MALFORMED_MESSAGE, `a NetFlow v9 packet of ${buf.length} octets is shorter than its 20-octet header`);
      return undefined;
    }
    const uptimeMs = buf.readUInt32BE(4);
    const exportMs = buf.readUInt32BE(8) * 1000;
    const seq = buf.readUInt32BE(12);
    const domain = buf.readUInt32BE(16);
    this.heldThisMessage = false;
    let at = 20;
    while (at + 4 <= buf.length) {
      const setId = buf.readUInt16BE(at);
      const setLength = buf.readUInt16BE(at + 2);
      if (setLength < 4 || at + setLength > buf.length) {
        this.problem(
          message,
          `flowset@${at}`,
          FLOW_REASONS.MALFORMED_SET,
          `flowset ${setId} at octet ${at} says ${setLength} octets but ${buf.length - at} remain; the rest of the packet cannot be delimited`,
          setLength,
        );
        break;
      }
      const body = buf.subarray(at + 4, at + setLength);
      if (setId === 0) this.v9Templates(body, exporter, domain, exportMs, message);
      else if (setId === 1) this.v9OptionsTemplates(body, exporter, domain, exportMs, message);
      else if (setId >= 256) this.dataSet(body, setId, exporter, domain, exportMs, uptimeMs, message);
      else this.problem(message, `flowset@${at}`, FLOW_REASONS.MALFORMED_SET, `flowset id ${setId} is reserved`, setId);
      at += setLength;
    }
    this.replayArrived();
    this.sequence(exporter, domain, seq, 1, exportMs, uptimeMs, message);
    return exportMs;
  }

  private ipfixTemplates(body: Buffer, options: boolean, exporter: string, domain: number, exportMs: number, message: number): void {
    const what = options ? 'options template' : 'template';
    let at = 0;
    while (at + 4 <= body.length) {
      const id = body.readUInt16BE(at);
      const count = body.readUInt16BE(at + 2);
      if (id === 0 && count === 0) break; // padding
      if (count === 0) {
        // Withdrawal (RFC 7011 §8.1): the set id itself withdraws every template of its kind.
        if (id === (options ? 3 : 2)) this.templates.withdrawAll(exporter, domain, options);
        else this.templates.withdraw(exporter, domain, id);
        at += 4;
        continue;
      }
      let scope = 0;
      let p = at + 4;
      if (options) {
        if (p + 2 > body.length) {
          this.problem(message, `template ${id}`, FLOW_REASONS.MALFORMED_TEMPLATE, `${what} ${id} is cut short before its scope count`);
          return;
        }
        scope = body.readUInt16BE(p);
        p += 2;
      }
      if (id < 256) {
        this.problem(message, `template ${id}`, FLOW_REASONS.MALFORMED_TEMPLATE, `${what} id ${id} is below 256`, id);
        return;
      }
      const fields: FieldSpec[] = [];
      for (let i = 0; i < count; i++) {
        if (p + 4 > body.length) {
          this.problem(message, `template ${id}`, FLOW_REASONS.MALFORMED_TEMPLATE, `${what} ${id} declares ${count} fields but the set ends after ${i}`, count);
          return;
        }
        const raw = body.readUInt16BE(p);
        const length = body.readUInt16BE(p + 2);
        p += 4;
        let pen = 0;
        if (raw & 0x8000) {
          if (p + 4 > body.length) {
            this.problem(
              message,
              `template ${id}`,
              FLOW_REASONS.MALFORMED_TEMPLATE,
              `${what} ${id}: field ${i + 1} is enterprise-specific but its enterprise number is cut off`,
            );
            return;
          }
          pen = body.readUInt32BE(p);
          p += 4;
        }
        fields.push({ id: raw & 0x7fff, pen, length });
      }
      if (options && (scope === 0 || scope > count)) {
        this.problem(message, `template ${id}`, FLOW_REASONS.MALFORMED_TEMPLATE, `options template ${id} has scope count ${scope} of ${count} fields`, scope);
      }
      this.store(exporter, domain, id, options, fields, exportMs, message);
      at = p;
    }
  }

  private v9Templates(body: Buffer, exporter: string, domain: number, exportMs: number, message: number): void {
    let at = 0;
    while (at + 4 <= body.length) {
      const id = body.readUInt16BE(at);
      const count = body.readUInt16BE(at + 2);
      if (id === 0 && count === 0) break;
      if (id < 256 || at + 4 + count * 4 > body.length) {
        this.problem(
          message,
          `template ${id}`,
          FLOW_REASONS.MALFORMED_TEMPLATE,
          `template ${id} with ${count} fields does not fit its flowset (or its id is below 256)`,
          count,
        );
        return;
      }
      const fields: FieldSpec[] = [];
      for (let i = 0; i < count; i++) fields.push({ id: body.readUInt16BE(at + 4 + i * 4), pen: 0, length: body.readUInt16BE(at + 6 + i * 4) });
      this.store(exporter, domain, id, false, fields, exportMs, message);
      at += 4 + count * 4;
    }
  }

  private v9OptionsTemplates(body: Buffer, exporter: string, domain: number, exportMs: number, message: number): void {
    let at = 0;
    while (at + 6 <= body.length) {
      const id = body.readUInt16BE(at);
      const scopeLength = body.readUInt16BE(at + 2);
      const optionLength = body.readUInt16BE(at + 4);
      if (id === 0) break;
      const end = at + 6 + scopeLength + optionLength;
      if (id < 256 || scopeLength % 4 !== 0 || optionLength % 4 !== 0 || end > body.length) {
        this.problem(
          message,
          `template ${id}`,
          FLOW_REASONS.MALFORMED_TEMPLATE,
          `options template ${id} (scope ${scopeLength}, options ${optionLength} octets) does not fit its flowset`,
          id,
        );
        return;
      }
      const fields: FieldSpec[] = [];
      // v9 scope field types (1 system, 2 interface, …) are not element ids: keep them out of the table.
      for (let p = at + 6; p < at + 6 + scopeLength; p += 4) fields.push({ id: 0, pen: 0xffff_ffff, length: body.readUInt16BE(p + 2) });
      for (let p = at + 6 + scopeLength; p < end; p += 4) fields.push({ id: body.readUInt16BE(p), pen: 0, length: body.readUInt16BE(p + 2) });
      this.store(exporter, domain, id, true, fields, exportMs, message);
      at = end;
      // Padding to a 4-octet boundary follows the last options template.
      if (body.length - at < 6) break;
    }
  }

  private store(exporter: string, domain: number, id: number, options: boolean, fields: FieldSpec[], exportMs: number, message: number): void {
    const { template, mismatches } = compileTemplate(id, options, fields, exportMs);
    if (template.minLength === 0) {
      this.problem(message, `template ${id}`, FLOW_REASONS.MALFORMED_TEMPLATE, `template ${id} describes records of 0 octets`);
      return;
    }
    const change = this.templates.set(exporter, domain, template);
    if (change !== 'refresh') {
      for (const m of mismatches) {
        this.problem(
          message,
          `template ${id}`,
          FLOW_REASONS.ELEMENT_LENGTH,
          `${m.name} (element ${m.field.id}) has ${m.field.length} octets, which it cannot have: it is skipped`,
          m.field.length,
        );
      }
    }
    if (change === 'redefined' && this.options.transport === 'tcp') {
      // RFC 7011 §8: over TCP a template must be withdrawn before its id is reused.
      this.problem(
        message,
        `template ${id}`,
        FLOW_REASONS.TEMPLATE_REDEFINED,
        `template ${id} of ${exporter} domain ${domain} was redefined without a withdrawal; the new definition is used`,
        id,
      );
    }
    this.arrived.push(TemplateCache.key(exporter, domain, id));
  }

  private liveTemplate(exporter: string, domain: number, id: number, exportMs: number, message: number): Template | undefined {
    const t = this.templates.get(exporter, domain, id);
    if (t === undefined) return undefined;
    if (this.options.transport === 'udp' && exportMs - t.refreshedMs > this.templateTimeoutMs) {
      this.templates.withdraw(exporter, domain, id);
      this.problem(
        message,
        `template ${id}`,
        FLOW_REASONS.TEMPLATE_EXPIRED,
        `template ${id} of ${exporter} domain ${domain} was last sent ${Math.round((exportMs - t.refreshedMs) / 1000)} s before this message, more than the ${this.templateTimeoutMs / 1000} s timeout; its records wait for a refresh`,
        id,
      );
      return undefined;
    }
    return t;
  }

  private dataSet(body: Buffer, id: number, exporter: string, domain: number, exportMs: number, uptimeMs: number | undefined, message: number): void {
    const t = this.liveTemplate(exporter, domain, id, exportMs, message);
    if (t === undefined) {
      this.hold({ exporter, domain, templateId: id, body: Buffer.from(body), exportMs, uptimeMs, message });
      return;
    }
    this.records(t, body, exporter, domain, exportMs, uptimeMs, message);
  }

  private records(t: Template, body: Buffer, exporter: string, domain: number, exportMs: number, uptimeMs: number | undefined, message: number): void {
    const ops = t.ops;
    const n = ops.length;
    let at = 0;
    const end = body.length;
    while (end - at >= t.minLength) {
      const values: FlowValues = {};
      let ok = true;
      for (let i = 0; i < n; i++) {
        const op = ops[i]!;
        let length = op.length;
        if (length === 65535) {
          if (at >= end) {
            ok = false;
            break;
          }
          length = body[at++]!;
          if (length === 255) {
            if (at + 2 > end) {
              ok = false;
              break;
            }
            length = body.readUInt16BE(at);
            at += 2;
          }
        }
        if (at + length > end) {
          ok = false;
          break;
        }
        const slot = op.slot;
        if (slot !== null) {
          const v = values as Record<string, unknown>;
          switch (op.kind) {
            case KIND.unsigned:
            case KIND.uptime:
              v[slot] = unsigned(body, at, length);
              break;
            case KIND.ipv4:
              v[slot] = ipv4(body, at);
              break;
            case KIND.ipv6:
              v[slot] = keyToText(body.subarray(at, at + 16));
              break;
            case KIND.msec:
              v[slot] = body.readUInt32BE(at) * U32 + body.readUInt32BE(at + 4);
              break;
            case KIND.sec:
              v[slot] = body.readUInt32BE(at) * 1000;
              break;
            case KIND.string:
              v[slot] = body.toString('utf8', at, at + length);
              break;
            case KIND.id:
              v[slot] = body.toString('hex', at, at + length);
              break;
          }
        }
        at += length;
      }
      if (!ok) {
        this.problem(
          message,
          `template ${t.id}`,
          FLOW_REASONS.MALFORMED_RECORD,
          `a record of template ${t.id} runs past the end of its set (variable-length field too long); the rest of the set is skipped`,
          t.id,
        );
        return;
      }
      if (!this.replaying) this.ownRecords++;
      if (t.options) this.out.options++;
      else this.out.records.push({ exporter, domain, templateId: t.id, exportMs, uptimeMs, values, message });
    }
    // What is left is padding (RFC 7011 §3.3.1): shorter than a record.
  }

  private hold(h: HeldSet): void {
    this.heldThisMessage = true;
    if (this.held.length >= this.pendingSets) {
      const dropped = this.held.shift()!;
      this.reportHeld(dropped, `${this.pendingSets} sets were already waiting`);
    }
    this.held.push(h);
  }

  private reportHeld(h: HeldSet, why: string): void {
    this.problem(
      h.message,
      `template ${h.templateId}`,
      FLOW_REASONS.TEMPLATE_UNKNOWN,
      `a data set of ${h.body.length} octets for template ${h.templateId} of ${h.exporter} domain ${h.domain} arrived before its template, which did not arrive before ${why}; its records are not read`,
      h.templateId,
    );
  }

  private replayArrived(): void {
    if (this.arrived.length === 0 || this.held.length === 0) {
      this.arrived = [];
      return;
    }
    const keys = new Set(this.arrived);
    this.arrived = [];
    const keep: HeldSet[] = [];
    this.replaying = true;
    for (const h of this.held) {
      const t = keys.has(TemplateCache.key(h.exporter, h.domain, h.templateId)) ? this.templates.get(h.exporter, h.domain, h.templateId) : undefined;
      if (t === undefined) keep.push(h);
      else this.records(t, h.body, h.exporter, h.domain, h.exportMs, h.uptimeMs, h.message);
    }
    this.replaying = false;
    this.held = keep;
  }

  /** Held sets of this exporter older than the wait, by its export time now. */
  private expireHeld(exporter: string, nowMs: number): void {
    if (this.held.length === 0) return;
    const keep: HeldSet[] = [];
    for (const h of this.held) {
      if (h.exporter === exporter && nowMs - h.exportMs > this.pendingMs)
        this.reportHeld(h, `${this.pendingMs / 1000} s of the exporter's export time had passed`);
      else keep.push(h);
    }
    this.held = keep;
  }

  private sequence(exporter: string, domain: number, seq: number, counted: number, exportMs: number, uptimeMs: number | undefined, message: number): void {
    const key = exporter + '|' + domain;
    let s = this.streams.get(key);
    const next = (seq + counted) % U32;
    if (s === undefined) {
      s = { expected: undefined, lastExportMs: exportMs, lastUptimeMs: uptimeMs, gaps: [] };
      this.streams.set(key, s);
    }
    const restarted = s.lastUptimeMs !== undefined && uptimeMs !== undefined && uptimeMs + 1000 < s.lastUptimeMs && exportMs >= s.lastExportMs;
    if (restarted || (s.expected !== undefined && seq === 0 && s.expected !== 0)) {
      // The old sequence space ends here: what it lost is final.
      for (const g of s.gaps) this.emitGap(exporter, domain, g);
      s.gaps = [];
      this.problem(
        message,
        'sequence',
        FLOW_REASONS.EXPORTER_RESTARTED,
        `${exporter} domain ${domain} restarted (sequence ${seq} after ${s.expected ?? 'none'}${uptimeMs === undefined ? '' : `, uptime ${uptimeMs} ms after ${s.lastUptimeMs} ms`}): not counted as loss`,
        seq,
      );
      s.expected = next;
    } else if (s.expected !== undefined) {
      const diff = (seq - s.expected + U32) % U32;
      if (diff !== 0 && diff < U32 / 2) {
        s.gaps.push({ from: s.expected, to: seq, lost: diff, startMs: s.lastExportMs, endMs: exportMs, message, age: 0 });
        s.expected = next;
      } else if (diff !== 0) {
        const behind = U32 - diff;
        if (behind <= LATE_TOLERANCE) {
          // A late (reordered) message: it fills part of a gap still held, or was counted lost already.
          this.fill(s, seq, counted);
        } else {
          this.problem(
            message,
            'sequence',
            FLOW_REASONS.EXPORTER_RESTARTED,
            `${exporter} domain ${domain} sequence went back from ${s.expected} to ${seq}: taken as a restart, not loss`,
            seq,
          );
          s.expected = next;
        }
      } else {
        s.expected = next;
      }
    } else {
      s.expected = next;
    }
    // Records of sets held for their template are not counted yet: skip the next check.
    if (this.heldThisMessage) s.expected = undefined;
    if (exportMs > s.lastExportMs || restarted) s.lastExportMs = exportMs;
    if (uptimeMs !== undefined) s.lastUptimeMs = uptimeMs;
    // Gaps old enough cannot be filled any more.
    const keep: OpenGap[] = [];
    for (const g of s.gaps) {
      if (++g.age > this.gapHold) this.emitGap(exporter, domain, g);
      else keep.push(g);
    }
    s.gaps = keep;
  }

  private fill(s: Stream, seq: number, counted: number): void {
    for (const g of s.gaps) {
      const offset = (seq - g.from + U32) % U32;
      const span = (g.to - g.from + U32) % U32;
      if (offset < span) {
        g.lost = Math.max(0, g.lost - counted);
        return;
      }
    }
  }

  private emitGap(exporter: string, domain: number, g: OpenGap): void {
    if (g.lost <= 0) return;
    const unit = this.options.format === 'netflow9' || this.options.sequenceCountsMessages === true ? 'messages' : 'records';
    this.out.gaps.push({ exporter, domain, lost: g.lost, unit, startMs: g.startMs, endMs: g.endMs, message: g.message });
    this.problem(
      g.message,
      'sequence',
      FLOW_REASONS.RECORDS_LOST,
      `${g.lost} ${unit} of ${exporter} domain ${domain} were lost between export times ${new Date(g.startMs).toISOString()} and ${new Date(g.endMs).toISOString()}`,
      g.lost,
    );
  }
}

function splitStream(key: string): [string, number] {
  const bar = key.lastIndexOf('|');
  return [key.slice(0, bar), Number(key.slice(bar + 1))];
}
