/**
 * ISC dhcpd lease databases (`dhcpd.leases`, `dhcpd6.leases`, dhcpd.leases(5)): v4
 * `lease ADDR { … }` blocks and v6 `ia-na`/`ia-ta`/`ia-pd` blocks with their
 * `iaaddr`/`iaprefix`. The file is a journal: a lease is appended again on each change,
 * so blocks of the same lease and client that overlap (renewals) merge. Times are UTC
 * (`starts 2 2013/12/10 12:57:04;`) or epoch seconds (`starts epoch 1507216949;`, with
 * `db-time-format local`); `ends never;` is a lease with no end.
 */
import { fractionMs, instantInRange, wallMs } from './clock.js';
import { allocationParse, macOf } from './common.js';
import { LINE_REASONS } from './output.js';
import type { VendorOptions, VendorParser, VendorSession } from './types.js';

const NAME = 'isc-dhcpd-leases';
const LEASE = /^\s*lease\s+(\S+)\s*\{\s*$/;
const IA = /^\s*ia-(na|ta|pd)\s+"((?:[^"\\]|\\.)*)"\s*\{\s*$/;
const IA_ADDRESS = /^\s*(iaaddr|iaprefix)\s+(\S+)\s*\{\s*$/;
const TIME = /^\s*(starts|ends|cltt)\s+(?:\d\s+(\d{4,})\/(\d{1,2})\/(\d{1,2})\s+(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d+))?|epoch\s+(\d+)|(never))\s*;/;
const BINDING = /^\s*binding\s+state\s+([a-z-]+)\s*;/;
const HARDWARE = /^\s*hardware\s+\S+\s+([0-9A-Fa-f:]+)\s*;/;
const UID = /^\s*uid\s+"((?:[^"\\]|\\.)*)"\s*;/;
const MAX_LIFE = /^\s*max-life\s+(\d+)\s*;/;
/** States in which a client held (or had held) the lease; free/expired/released keep the last holder's times. */
const HELD = new Set(['active', 'free', 'expired', 'released']);

/** The bytes of a dhcpd string: `\ooo` octal escapes, `\"` and `\\`, other characters as written. */
export function dhcpdBytes(escaped: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < escaped.length; i++) {
    const c = escaped.charCodeAt(i);
    if (c === 92 /* \ */ && i + 1 < escaped.length) {
      const octal = /^[0-7]{3}/.exec(escaped.slice(i + 1, i + 4));
      if (octal !== null) {
        out.push(parseInt(octal[0], 8));
        i += 3;
      } else {
        out.push(escaped.charCodeAt(i + 1));
        i += 1;
      }
    } else {
      out.push(c & 0xff);
    }
  }
  return out;
}

const hex = (bytes: readonly number[]) => bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');

type Time = number | null | undefined;

interface Block {
  readonly line: number;
  readonly kind: 'lease' | 'ia';
  /** v4 lease address, or the IA's client (DUID) for v6. */
  readonly subject: string;
  readonly iaType?: string;
  starts?: Time;
  ends?: Time;
  cltt?: Time;
  binding?: string;
  hardware?: string;
  uid?: string;
  /** A time in the block could not be read (already reported). */
  invalid?: boolean;
  /** Current iaaddr/iaprefix inside an IA. */
  address?: { line: number; text: string; prefix: boolean; binding?: string; ends?: Time; maxLife?: number } | undefined;
}

function session(options: VendorOptions): VendorSession {
  // Rows are keyed by address, not written in time order (compaction rewrites them).
  const { p, realm } = allocationParse(options, NAME, true);
  let block: Block | null = null;
  /** Depth of braces we skip (`on expiry { … }`, `failover peer … { … }`). */
  let skipDepth = 0;

  function readTime(m: RegExpExecArray, line: number): Time {
    if (m[10] !== undefined) return null;
    if (m[9] !== undefined) {
      const ms = Number(m[9]) * 1000;
      if (instantInRange(ms)) return ms;
      p.out.problem(line, m[1]!, 'TIME_OUT_OF_RANGE', `${m[1]} epoch ${m[9].slice(0, 30)} is not a time between 1970 and 9999`, m[0].trim());
      return undefined;
    }
    const wall = wallMs(Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), Number(m[7]), fractionMs(m[8]));
    if (wall === null) {
      p.out.problem(line, m[1]!, 'INVALID_TIME', `${m[1]} is not a date: ${m[0].trim()}`, m[0].trim());
      return undefined;
    }
    return wall; // dhcpd writes UTC
  }

  function emit(line: number, ip: string, account: string, source: string, start: Time, end: Time, mac: string | undefined): void {
    if (typeof start !== 'number') {
      p.out.problem(line, 'starts', LINE_REASONS.MISSING_FIELD, `lease ${ip} has no start time`);
      return;
    }
    if (end === undefined) {
      p.out.problem(line, 'ends', LINE_REASONS.MISSING_FIELD, `lease ${ip} has no end time`);
      return;
    }
    if (end !== null && end < start) {
      p.out.problem(
        line,
        'ends',
        LINE_REASONS.END_BEFORE_START,
        `lease ${ip} ends ${new Date(end).toISOString()} before it starts ${new Date(start).toISOString()}`,
      );
      return;
    }
    const fields = { kind: 'allocation' as const, account, ip, source, ...realm, ...(mac === undefined ? {} : { mac }) };
    p.book.grant({ resource: ip, holder: account, fields, line, at: start, knownEnd: end });
  }

  function closeLease(b: Block): void {
    if (b.invalid === true || b.binding === undefined || !HELD.has(b.binding)) return;
    const mac = macOf(b.hardware);
    const account = mac !== undefined ? `mac:${mac}` : b.uid !== undefined && b.uid !== '' ? `client-id:${hex(dhcpdBytes(b.uid))}` : undefined;
    if (account === undefined) {
      // A free lease nobody ever held carries no client; an active one must.
      if (b.binding === 'active')
        p.out.problem(b.line, 'hardware', LINE_REASONS.MISSING_FIELD, `active lease ${b.subject} names no client (no hardware, no uid)`);
      return;
    }
    const ip = p.address(b.line, 'lease', b.subject);
    if (ip !== undefined) emit(b.line, ip, account, 'dhcp', b.starts, b.ends, mac);
  }

  function closeIaAddress(b: Block): void {
    const a = b.address!;
    b.address = undefined;
    if (b.invalid === true || a.binding === undefined || !HELD.has(a.binding)) return;
    const ip = p.address(a.line, a.prefix ? 'iaprefix' : 'iaaddr', a.text, a.prefix);
    if (ip === undefined) return;
    // The lease was (re)bound at cltt; without cltt, max-life before its end.
    const start = typeof b.cltt === 'number' ? b.cltt : typeof a.ends === 'number' && a.maxLife !== undefined ? a.ends - a.maxLife * 1000 : undefined;
    emit(a.line, ip, b.subject, a.prefix ? 'dhcpv6-pd' : 'dhcpv6', start, a.ends, undefined);
  }

  p.idle = () => block === null && skipDepth === 0;
  return p.session((text, line) => {
    const trimmed = text.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    if (skipDepth > 0) {
      if (trimmed.endsWith('{')) skipDepth += 1;
      else if (trimmed === '}') skipDepth -= 1;
      return;
    }
    if (block === null) {
      const lease = LEASE.exec(text);
      if (lease !== null) {
        block = { line, kind: 'lease', subject: lease[1]! };
        return;
      }
      const ia = IA.exec(text);
      if (ia !== null) {
        const bytes = dhcpdBytes(ia[2]!);
        // The IA's id is its 4-byte IAID followed by the client's DUID.
        block = { line, kind: 'ia', iaType: ia[1]!, subject: `duid:${hex(bytes.slice(4))}` };
        if (bytes.length <= 4) {
          p.out.problem(line, 'ia-' + ia[1], LINE_REASONS.MALFORMED_LINE, 'the IA id holds no DUID after its IAID', ia[2]);
        }
        return;
      }
      if (trimmed.endsWith('{'))
        skipDepth = 1; // failover peer, host, class…: not leases
      else if (!trimmed.endsWith(';')) p.out.problem(line, '', LINE_REASONS.UNRECOGNISED_LINE, `not a dhcpd.leases statement: ${trimmed.slice(0, 60)}`, text);
      return;
    }
    const b: Block = block;
    if (trimmed === '}') {
      if (b.address !== undefined) closeIaAddress(b);
      else {
        if (b.kind === 'lease') closeLease(b);
        block = null;
      }
      return;
    }
    if (b.kind === 'ia' && b.address === undefined) {
      const ia = IA_ADDRESS.exec(text);
      if (ia !== null) {
        b.address = { line, text: ia[2]!, prefix: ia[1] === 'iaprefix' };
        return;
      }
    }
    if (trimmed.endsWith('{')) {
      skipDepth = 1; // on expiry { … }, on release { … }
      return;
    }
    const time = TIME.exec(text);
    if (time !== null) {
      const t = readTime(time, line);
      if (t === undefined) b.invalid = true;
      const field = time[1] as 'starts' | 'ends' | 'cltt';
      if (b.address !== undefined && field === 'ends') b.address.ends = t;
      else b[field] = t;
      return;
    }
    const binding = BINDING.exec(text);
    if (binding !== null) {
      if (b.address !== undefined) b.address.binding = binding[1]!;
      else b.binding = binding[1]!;
      return;
    }
    const hw = HARDWARE.exec(text);
    if (hw !== null) {
      b.hardware = hw[1]!;
      return;
    }
    const uid = UID.exec(text);
    if (uid !== null) {
      b.uid = uid[1]!;
      return;
    }
    const life = MAX_LIFE.exec(text);
    if (life !== null && b.address !== undefined) b.address.maxLife = Number(life[1]);
  });
}

export const iscDhcpdLeases: VendorParser = {
  name: NAME,
  description:
    "ISC dhcpd.leases / dhcpd6.leases journals: lease blocks (active, free, expired, released with a client) → allocation from starts to ends; ia-na/ia-ta/ia-pd → allocation (iaprefix as a delegated prefix) from cltt to ends. Clock: the file's own times, UTC by dhcpd.leases(5) or epoch seconds: no zone needed; ends never → end null. Renewal blocks merge. Account: mac:, client-id: (uid) or duid: (from the IA id). Optional realm.",
  sniff: (lines) => lines.some((l) => LEASE.test(l) || IA.test(l) || /dhcpd\.leases\(5\)/.test(l)),
  session,
};
