/**
 * Messages out of saved inputs: the IPFIX file format (RFC 5655: messages back to back,
 * each delimited by its header's length) and pcap captures (classic libpcap, either byte
 * order, µs or ns) of UDP datagrams carrying IPFIX or NetFlow v9, over Ethernet (with
 * VLAN tags), Linux cooked capture (SLL, SLL2), BSD loopback or raw IP. TCP segments in a
 * capture are not reassembled: they are counted and reported, as are IP fragments.
 */
import { keyToText } from '../../address.js';
import { IparError } from '../../problems.js';

/** One message and who sent it. */
export interface SavedMessage {
  readonly data: Buffer;
  /** The exporter's address (the capture's source IP); for an IPFIX file, the file's name. */
  readonly exporter: string;
  /** 1-based message (or packet) number in the input. */
  readonly number: number;
}

/** Things in an input that are not messages, for the report. */
export interface Skipped {
  readonly number: number;
  readonly reason: 'PCAP_NOT_UDP' | 'PCAP_FRAGMENT' | 'PCAP_TRUNCATED' | 'PCAP_LINKTYPE' | 'FILE_TRUNCATED';
  readonly message: string;
}

const PCAP_MAGICS = new Map<number, { little: boolean; nano: boolean }>([
  [0xa1b2c3d4, { little: false, nano: false }],
  [0xd4c3b2a1, { little: true, nano: false }],
  [0xa1b23c4d, { little: false, nano: true }],
  [0x4d3cb2a1, { little: true, nano: true }],
]);

/** True when the bytes start like a pcap capture. */
export function isPcap(head: Buffer): boolean {
  return head.length >= 4 && PCAP_MAGICS.has(head.readUInt32BE(0));
}

/** The messages of an IPFIX file. A last message cut short is reported, not read. */
export function* ipfixFileMessages(data: Buffer, name: string, skipped: (s: Skipped) => void): Generator<SavedMessage> {
  let at = 0;
  let n = 0;
  while (at + 4 <= data.length) {
    n++;
    const length = data.readUInt16BE(at + 2);
    if (length < 16 || at + length > data.length) {
      skipped({
        number: n,
        reason: 'FILE_TRUNCATED',
        message: `message ${n} at octet ${at} says ${length} octets but ${data.length - at} remain; the rest of the file cannot be delimited`,
      });
      return;
    }
    yield { data: data.subarray(at, at + length), exporter: name, number: n };
    at += length;
  }
  if (at < data.length) skipped({ number: n + 1, reason: 'FILE_TRUNCATED', message: `${data.length - at} octets after the last message are not a message` });
}

/** The UDP payloads of a pcap capture. */
export function* pcapMessages(data: Buffer, skipped: (s: Skipped) => void): Generator<SavedMessage> {
  if (data.length < 24) throw new IparError('NOT_PCAP', `a pcap capture starts with a 24-octet header; this input has ${data.length} octets`);
  const magic = PCAP_MAGICS.get(data.readUInt32BE(0));
  if (magic === undefined) throw new IparError('NOT_PCAP', `not a pcap capture (magic 0x${data.readUInt32BE(0).toString(16)})`);
  const u32 = (at: number): number => (magic.little ? data.readUInt32LE(at) : data.readUInt32BE(at));
  const linkType = u32(20) & 0x0fff_ffff;
  let at = 24;
  let n = 0;
  while (at + 16 <= data.length) {
    n++;
    const caplen = u32(at + 8);
    const origlen = u32(at + 12);
    const start = at + 16;
    at = start + caplen;
    if (at > data.length) {
      skipped({ number: n, reason: 'PCAP_TRUNCATED', message: `packet ${n} says ${caplen} captured octets but the capture ends first` });
      return;
    }
    if (caplen < origlen) {
      skipped({ number: n, reason: 'PCAP_TRUNCATED', message: `packet ${n} was captured short (${caplen} of ${origlen} octets: raise the snap length)` });
      continue;
    }
    const frame = data.subarray(start, at);
    const ip = ipOffset(frame, linkType);
    if (ip === null) {
      skipped({
        number: n,
        reason: 'PCAP_LINKTYPE',
        message: `packet ${n}: link type ${linkType} or its ether type is not read (Ethernet, SLL, SLL2, loopback, raw IP are)`,
      });
      continue;
    }
    const udp = udpPayload(frame, ip, n, skipped);
    if (udp !== null) yield { data: udp.payload, exporter: udp.source, number: n };
  }
}

/** Offset of the IP header in a frame, or null when it is not IP. */
function ipOffset(frame: Buffer, linkType: number): number | null {
  switch (linkType) {
    case 1: {
      // Ethernet, with any number of 802.1Q / 802.1ad tags.
      let at = 12;
      let type = frame.length >= 14 ? frame.readUInt16BE(at) : 0;
      while ((type === 0x8100 || type === 0x88a8) && frame.length >= at + 6) {
        at += 4;
        type = frame.readUInt16BE(at);
      }
      return type === 0x0800 || type === 0x86dd ? at + 2 : null;
    }
    case 113: // Linux cooked capture
      return frame.length >= 16 && [0x0800, 0x86dd].includes(frame.readUInt16BE(14)) ? 16 : null;
    case 276: // SLL2
      return frame.length >= 20 && [0x0800, 0x86dd].includes(frame.readUInt16BE(0)) ? 20 : null;
    case 0: // BSD loopback: a 4-octet family in host order
      return frame.length >= 4 ? 4 : null;
    case 101:
    case 12:
    case 228:
    case 229:
      return 0;
    default:
      return null;
  }
}

function udpPayload(frame: Buffer, ip: number, n: number, skipped: (s: Skipped) => void): { source: string; payload: Buffer } | null {
  const version = frame.length > ip ? frame[ip]! >> 4 : 0;
  let proto: number;
  let l4: number;
  let source: string;
  let end: number;
  if (version === 4 && frame.length >= ip + 20) {
    const ihl = (frame[ip]! & 0x0f) * 4;
    const flagsFrag = frame.readUInt16BE(ip + 6);
    proto = frame[ip + 9]!;
    source = `${frame[ip + 12]}.${frame[ip + 13]}.${frame[ip + 14]}.${frame[ip + 15]}`;
    l4 = ip + ihl;
    end = Math.min(frame.length, ip + frame.readUInt16BE(ip + 2));
    if ((flagsFrag & 0x3fff) !== 0) {
      skipped({ number: n, reason: 'PCAP_FRAGMENT', message: `packet ${n} from ${source} is an IP fragment; fragments are not reassembled` });
      return null;
    }
  } else if (version === 6 && frame.length >= ip + 40) {
    proto = frame[ip + 6]!;
    source = keyToText(frame.subarray(ip + 8, ip + 24));
    l4 = ip + 40;
    end = Math.min(frame.length, l4 + frame.readUInt16BE(ip + 4));
  } else {
    skipped({ number: n, reason: 'PCAP_NOT_UDP', message: `packet ${n} is not IPv4 or IPv6` });
    return null;
  }
  if (proto !== 17 || end < l4 + 8) {
    skipped({
      number: n,
      reason: 'PCAP_NOT_UDP',
      message: `packet ${n} from ${source} is IP protocol ${proto}, not UDP (TCP streams are not reassembled from captures)`,
    });
    return null;
  }
  return { source, payload: frame.subarray(l4 + 8, end) };
}
