/**
 * The information elements the NAT event decoder reads, as data: element id (and private
 * enterprise number) → how its octets are read and which slot of a {@link FlowValues} they
 * fill. Every other element is skipped by its length. Ids are IANA's IPFIX registry
 * (RFC 7012, RFC 8158 for the NAT elements); NetFlow v9 (RFC 3954) shares ids 1–127 and
 * the NAT ids Cisco and Juniper reuse (225–235, 323, 361–364); v9's FIRST/LAST_SWITCHED
 * are relative to the exporter's uptime. Nokia's pre-NAT address is enterprise 637, id 93.
 */

/** How an element's octets become a value. */
export const KIND = {
  /** Unsigned integer, big-endian, 1–8 octets (reduced-size encoding allowed, RFC 7011 §6.2). */
  unsigned: 0,
  /** IPv4 address, 4 octets. */
  ipv4: 1,
  /** IPv6 address, 16 octets. */
  ipv6: 2,
  /** dateTimeMilliseconds: ms since the epoch, 8 octets. */
  msec: 3,
  /** dateTimeSeconds: s since the epoch, 4 octets. */
  sec: 4,
  /** UTF-8 string (often variable length). */
  string: 5,
  /** NetFlow v9 FIRST/LAST_SWITCHED: ms of exporter uptime, 4 octets. */
  uptime: 6,
  /** An identifier kept as text (flowId: 8 octets, beyond a double's precision). */
  id: 7,
} as const;
export type Kind = (typeof KIND)[keyof typeof KIND];

/** The decoded values of one data record; absent elements stay undefined. */
export interface FlowValues {
  natEvent?: number;
  observationMs?: number;
  flowStartMs?: number;
  flowEndMs?: number;
  /** v9 uptime ms of the first/last packet (made absolute with the header's uptime). */
  firstUptime?: number;
  lastUptime?: number;
  protocol?: number;
  sourceIp?: string;
  destinationIp?: string;
  sourcePort?: number;
  destinationPort?: number;
  postSourceIp?: string;
  postDestinationIp?: string;
  postSourcePort?: number;
  postDestinationPort?: number;
  portRangeStart?: number;
  portRangeEnd?: number;
  portRangeStep?: number;
  portRangeNumPorts?: number;
  natPoolId?: number;
  ingressVrf?: number;
  flowId?: string;
  flowEndReason?: number;
  /** Nokia aluNatSubString: `<subscriber>@<inside address>`. */
  natSubString?: string;
}
export type Slot = keyof FlowValues;

export interface Element {
  readonly id: number;
  /** Private enterprise number; 0 for IANA elements. */
  readonly pen: number;
  readonly name: string;
  readonly kind: Kind;
  readonly slot: Slot;
}

/** The table. Names as IANA (or the vendor) spells them; the docs list this table. */
export const ELEMENTS: readonly Element[] = Object.freeze([
  { id: 4, pen: 0, name: 'protocolIdentifier', kind: KIND.unsigned, slot: 'protocol' },
  { id: 7, pen: 0, name: 'sourceTransportPort', kind: KIND.unsigned, slot: 'sourcePort' },
  { id: 8, pen: 0, name: 'sourceIPv4Address', kind: KIND.ipv4, slot: 'sourceIp' },
  { id: 11, pen: 0, name: 'destinationTransportPort', kind: KIND.unsigned, slot: 'destinationPort' },
  { id: 12, pen: 0, name: 'destinationIPv4Address', kind: KIND.ipv4, slot: 'destinationIp' },
  { id: 21, pen: 0, name: 'flowEndSysUpTime', kind: KIND.uptime, slot: 'lastUptime' },
  { id: 22, pen: 0, name: 'flowStartSysUpTime', kind: KIND.uptime, slot: 'firstUptime' },
  { id: 27, pen: 0, name: 'sourceIPv6Address', kind: KIND.ipv6, slot: 'sourceIp' },
  { id: 28, pen: 0, name: 'destinationIPv6Address', kind: KIND.ipv6, slot: 'destinationIp' },
  { id: 136, pen: 0, name: 'flowEndReason', kind: KIND.unsigned, slot: 'flowEndReason' },
  { id: 148, pen: 0, name: 'flowId', kind: KIND.id, slot: 'flowId' },
  { id: 150, pen: 0, name: 'flowStartSeconds', kind: KIND.sec, slot: 'flowStartMs' },
  { id: 151, pen: 0, name: 'flowEndSeconds', kind: KIND.sec, slot: 'flowEndMs' },
  { id: 152, pen: 0, name: 'flowStartMilliseconds', kind: KIND.msec, slot: 'flowStartMs' },
  { id: 153, pen: 0, name: 'flowEndMilliseconds', kind: KIND.msec, slot: 'flowEndMs' },
  { id: 225, pen: 0, name: 'postNATSourceIPv4Address', kind: KIND.ipv4, slot: 'postSourceIp' },
  { id: 226, pen: 0, name: 'postNATDestinationIPv4Address', kind: KIND.ipv4, slot: 'postDestinationIp' },
  { id: 227, pen: 0, name: 'postNAPTSourceTransportPort', kind: KIND.unsigned, slot: 'postSourcePort' },
  { id: 228, pen: 0, name: 'postNAPTDestinationTransportPort', kind: KIND.unsigned, slot: 'postDestinationPort' },
  { id: 230, pen: 0, name: 'natEvent', kind: KIND.unsigned, slot: 'natEvent' },
  { id: 234, pen: 0, name: 'ingressVRFID', kind: KIND.unsigned, slot: 'ingressVrf' },
  { id: 281, pen: 0, name: 'postNATSourceIPv6Address', kind: KIND.ipv6, slot: 'postSourceIp' },
  { id: 282, pen: 0, name: 'postNATDestinationIPv6Address', kind: KIND.ipv6, slot: 'postDestinationIp' },
  { id: 283, pen: 0, name: 'natPoolId', kind: KIND.unsigned, slot: 'natPoolId' },
  { id: 322, pen: 0, name: 'observationTimeSeconds', kind: KIND.sec, slot: 'observationMs' },
  { id: 323, pen: 0, name: 'observationTimeMilliseconds', kind: KIND.msec, slot: 'observationMs' },
  { id: 361, pen: 0, name: 'portRangeStart', kind: KIND.unsigned, slot: 'portRangeStart' },
  { id: 362, pen: 0, name: 'portRangeEnd', kind: KIND.unsigned, slot: 'portRangeEnd' },
  { id: 363, pen: 0, name: 'portRangeStepSize', kind: KIND.unsigned, slot: 'portRangeStep' },
  { id: 364, pen: 0, name: 'portRangeNumPorts', kind: KIND.unsigned, slot: 'portRangeNumPorts' },
  { id: 93, pen: 637, name: 'aluNatSubString', kind: KIND.string, slot: 'natSubString' },
] satisfies Element[]);

/** Octet lengths an element of each kind may have (fixed-length kinds); strings take any. */
export const LENGTHS: Readonly<Record<Kind, readonly number[] | null>> = {
  [KIND.unsigned]: [1, 2, 3, 4, 5, 6, 7, 8],
  [KIND.ipv4]: [4],
  [KIND.ipv6]: [16],
  [KIND.msec]: [8],
  [KIND.sec]: [4],
  [KIND.string]: null,
  [KIND.uptime]: [4],
  [KIND.id]: [1, 2, 3, 4, 5, 6, 7, 8],
};

const BY_KEY = new Map<number, Element>(ELEMENTS.map((e) => [keyOf(e.id, e.pen), e]));

function keyOf(id: number, pen: number): number {
  return pen * 65536 + id;
}

/** The table's entry for an element, or undefined for one the decoder skips. */
export function elementOf(id: number, pen: number): Element | undefined {
  return BY_KEY.get(keyOf(id, pen));
}
