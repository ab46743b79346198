/**
 * What a NAT event means, per exporter (`--profile`). Vendors number `natEvent` (IE 230)
 * differently, so nothing is guessed: each profile lists the values it defines, and a
 * value it does not define is a reported problem (`EVENT_UNDEFINED`), never read as the
 * IANA meaning.
 *
 * - `iana`: RFC 8158 / the IANA natEvent registry (4/5 NAT44 session, 6/7 NAT64 session,
 *   8–11 BIB, 14/15 address binding, 16/17 port block; 1/2 the historic translation
 *   create/delete).
 * - `juniper-ipfix`: Junos IPFIX, which follows an earlier draft's numbering: 1/2 session
 *   create/delete, 14/15 port block allocation/release.
 * - `juniper-v9`, `cisco-nel`: NetFlow v9 NAT event logging: 1 create, 2 delete, 3 pool
 *   exhausted.
 * - `nokia-lsn`: Nokia SR OS (format 2) sends no natEvent: a record with
 *   flowStartMilliseconds is a create, with flowEndMilliseconds a delete; the inside
 *   address is in aluNatSubString (enterprise 637, element 93: `subscriber@address`).
 * - `vpp`: FD.io VPP (`nat_ipfix_logging.c`): IANA numbering; its IPFIX sequence number
 *   counts messages, not records.
 */
import type { FlowValues } from './elements.js';

export const ACTIONS = [
  'session-create',
  'session-delete',
  'bib-create',
  'bib-delete',
  'block-allocate',
  'block-release',
  'binding-create',
  'binding-delete',
  /** Defined by the profile, but says nothing about who held what (pool exhausted, quota…). */
  'no-record',
] as const;
export type Action = (typeof ACTIONS)[number];

export interface Classified {
  readonly action: Action;
  /** The event's name, for reports. */
  readonly label: string;
}

export interface Profile {
  readonly name: string;
  readonly description: string;
  /** natEvent value → meaning; absent for profiles without natEvent. */
  readonly events?: Readonly<Record<number, Classified>>;
  /** The IPFIX sequence number counts messages (VPP), not data records. */
  readonly sequenceCountsMessages?: boolean;
  /** The pre-NAT (inside) address comes from aluNatSubString. */
  readonly insideFromNatSubString?: boolean;
  /** Classify by which timestamp is present (no natEvent). */
  readonly byTimestamp?: boolean;
}

const c = (action: Action, label: string): Classified => ({ action, label });

const IANA_EVENTS: Readonly<Record<number, Classified>> = {
  1: c('session-create', 'NAT translation create (historic)'),
  2: c('session-delete', 'NAT translation delete (historic)'),
  3: c('no-record', 'NAT addresses exhausted'),
  4: c('session-create', 'NAT44 session create'),
  5: c('session-delete', 'NAT44 session delete'),
  6: c('session-create', 'NAT64 session create'),
  7: c('session-delete', 'NAT64 session delete'),
  8: c('bib-create', 'NAT44 BIB create'),
  9: c('bib-delete', 'NAT44 BIB delete'),
  10: c('bib-create', 'NAT64 BIB create'),
  11: c('bib-delete', 'NAT64 BIB delete'),
  12: c('no-record', 'NAT ports exhausted'),
  13: c('no-record', 'quota exceeded'),
  14: c('binding-create', 'address binding create'),
  15: c('binding-delete', 'address binding delete'),
  16: c('block-allocate', 'port block allocation'),
  17: c('block-release', 'port block de-allocation'),
  18: c('no-record', 'threshold reached'),
};

const V9_EVENTS: Readonly<Record<number, Classified>> = {
  1: c('session-create', 'translation create'),
  2: c('session-delete', 'translation delete'),
  3: c('no-record', 'pool exhausted'),
};

export const PROFILES: readonly Profile[] = Object.freeze([
  { name: 'iana', description: 'RFC 8158 natEvent numbering (IANA registry)', events: IANA_EVENTS },
  {
    name: 'juniper-ipfix',
    description: 'Junos IPFIX NAT logging (earlier draft numbering: 1/2 session create/delete, 14/15 port block allocation/release)',
    events: {
      1: c('session-create', 'NAT44 session create'),
      2: c('session-delete', 'NAT44 session delete'),
      14: c('block-allocate', 'port block allocation'),
      15: c('block-release', 'port block release'),
    },
  },
  { name: 'juniper-v9', description: 'Junos NetFlow v9 NAT logging (1 create, 2 delete, 3 pool exhausted)', events: V9_EVENTS },
  { name: 'cisco-nel', description: 'Cisco NAT event logging over NetFlow v9 (1 create, 2 delete, 3 pool exhausted)', events: V9_EVENTS },
  {
    name: 'nokia-lsn',
    description:
      'Nokia SR OS LSN IPFIX, template format 2 (no natEvent: flowStartMilliseconds = create, flowEndMilliseconds = delete; inside address from aluNatSubString)',
    insideFromNatSubString: true,
    byTimestamp: true,
  },
  { name: 'vpp', description: 'FD.io VPP NAT IPFIX logging (IANA numbering; sequence counts messages)', events: IANA_EVENTS, sequenceCountsMessages: true },
] satisfies Profile[]);

export function profileNamed(name: string): Profile | undefined {
  return PROFILES.find((p) => p.name === name);
}

/** The record's meaning under a profile, or a sentence saying why it has none. */
export function classify(profile: Profile, v: FlowValues): Classified | { readonly undefinedEvent: string } {
  if (profile.byTimestamp === true) {
    if (v.flowEndMs !== undefined) return c('session-delete', 'session delete (flowEndMilliseconds)');
    if (v.flowStartMs !== undefined) return c('session-create', 'session create (flowStartMilliseconds)');
    return { undefinedEvent: `a ${profile.name} record carries neither flowStartMilliseconds nor flowEndMilliseconds` };
  }
  if (v.natEvent === undefined) return { undefinedEvent: `the record has no natEvent (element 230), which the ${profile.name} profile needs` };
  const hit = profile.events?.[v.natEvent];
  return hit ?? { undefinedEvent: `natEvent ${v.natEvent} is not defined by the ${profile.name} profile` };
}
