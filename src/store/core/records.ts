/**
 * Rows to records: each backend decodes its rows into these plain fields (names and
 * addresses resolved, absent values as `''`, `null` or -1 as noted) and the builders here
 * make the frozen stored records, with their ids — one shape, one key order, on every
 * backend.
 */
import type { Address } from '../../address.js';
import type { AddressRole, AddressSpaceRecord, CoverageRecord, NatDeterministicRecord, Protocol } from '../../records.js';
import type { StoredAllocation, StoredConnection, StoredCoverage, StoredNatBlock, StoredNatDeterministic, StoredNatSession } from '../types.js';
import { allocationId, connectionId, coverageId, natBlockId, natDeterministicId, natSessionId } from './ids.js';

/** An address-space row; `realm` is `''` for public space. */
export function addressSpaceRecord(prefix: Address, role: AddressRole, realm: string): AddressSpaceRecord {
  return Object.freeze(realm === '' ? { kind: 'address-space', prefix, role } : { kind: 'address-space', prefix, role, realm }) as AddressSpaceRecord;
}

/** An allocation row's fields; device identifiers are `''` when absent, `sessionId` `null`. */
export interface AllocationFields {
  readonly ip: Address;
  readonly realm: string | null;
  readonly account: string;
  readonly start: number;
  readonly end: number | null;
  readonly source: string;
  readonly endInferred: boolean;
  /** The last evidence of a record the pairing still owns (`lastSeen`); absent or `null` once final. */
  readonly lastSeen?: number | null;
  readonly imsi: string;
  readonly msisdn: string;
  readonly imei: string;
  readonly mac: string;
  readonly sessionId: string | null;
}

export function allocationRecord(f: AllocationFields): StoredAllocation {
  const r: Record<string, unknown> = {
    kind: 'allocation',
    account: f.account,
    ip: f.ip,
    start: f.start,
    end: f.end,
    source: f.source,
    id: allocationId(f.realm, f.ip, f.start, f.account),
  };
  if (f.realm !== null) r['realm'] = f.realm;
  if (f.imsi !== '') r['imsi'] = f.imsi;
  if (f.msisdn !== '') r['msisdn'] = f.msisdn;
  if (f.imei !== '') r['imei'] = f.imei;
  if (f.mac !== '') r['mac'] = f.mac;
  if (f.sessionId !== null) r['sessionId'] = f.sessionId;
  if (f.endInferred) r['endInferred'] = true;
  if (f.lastSeen !== undefined && f.lastSeen !== null) r['lastSeen'] = f.lastSeen;
  return Object.freeze(r) as StoredAllocation;
}

/** A port block row's fields; `protocol` is `''` for a block of every protocol. */
export interface NatBlockFields {
  readonly realm: string;
  readonly insideIp: Address;
  readonly outsideIp: Address;
  readonly portFirst: number;
  readonly portLast: number;
  readonly start: number;
  readonly end: number | null;
  readonly protocol: string;
  readonly endInferred: boolean;
  /** The last evidence of a record the pairing still owns (`lastSeen`); absent or `null` once final. */
  readonly lastSeen?: number | null;
}

export function natBlockRecord(f: NatBlockFields): StoredNatBlock {
  const r: Record<string, unknown> = {
    kind: 'nat-block',
    realm: f.realm,
    insideIp: f.insideIp,
    outsideIp: f.outsideIp,
    portFirst: f.portFirst,
    portLast: f.portLast,
    start: f.start,
    end: f.end,
    id: natBlockId(f.realm, f.outsideIp, f.portFirst, f.start, f.insideIp, f.protocol),
  };
  if (f.protocol !== '') r['protocol'] = f.protocol as Protocol;
  if (f.endInferred) r['endInferred'] = true;
  if (f.lastSeen !== undefined && f.lastSeen !== null) r['lastSeen'] = f.lastSeen;
  return Object.freeze(r) as StoredNatBlock;
}

/** A session row's fields; no destination: `destinationIp` `null`, `destinationPort` -1. */
export interface NatSessionFields {
  readonly realm: string;
  readonly insideIp: Address;
  readonly insidePort: number;
  readonly outsideIp: Address;
  readonly outsidePort: number;
  readonly protocol: Protocol;
  readonly start: number;
  readonly end: number | null;
  readonly destinationIp: Address | null;
  readonly destinationPort: number;
  readonly endInferred: boolean;
  /** The last evidence of a record the pairing still owns (`lastSeen`); absent or `null` once final. */
  readonly lastSeen?: number | null;
}

export function natSessionRecord(f: NatSessionFields): StoredNatSession {
  const r: Record<string, unknown> = {
    kind: 'nat-session',
    realm: f.realm,
    insideIp: f.insideIp,
    insidePort: f.insidePort,
    outsideIp: f.outsideIp,
    outsidePort: f.outsidePort,
    protocol: f.protocol,
    start: f.start,
    end: f.end,
  };
  if (f.destinationIp !== null) r['destinationIp'] = f.destinationIp;
  if (f.destinationPort >= 0) r['destinationPort'] = f.destinationPort;
  if (f.endInferred) r['endInferred'] = true;
  if (f.lastSeen !== undefined && f.lastSeen !== null) r['lastSeen'] = f.lastSeen;
  r['id'] = natSessionId(f.realm, f.outsideIp, f.outsidePort, f.protocol, f.start, f.insideIp, f.insidePort, f.destinationIp?.text ?? '', f.destinationPort);
  return Object.freeze(r) as StoredNatSession;
}

/** A deterministic configuration as stored (its record), under the realm and start of its row. */
export function natDeterministicRecord(record: NatDeterministicRecord, realm: string, start: number): StoredNatDeterministic {
  return Object.freeze({ ...record, id: natDeterministicId(realm, record.outsidePrefix, start) });
}

export function coverageRecord(source: string, start: number, end: number | null, status: CoverageRecord['status']): StoredCoverage {
  return Object.freeze({ kind: 'coverage' as const, source, start, end, status, id: coverageId(source, start) });
}

/** A connection row's fields; absent values: `account`, `protocol`, `service` `''`, ports and volumes -1. */
export interface ConnectionFields {
  readonly account: string;
  readonly sourceIp: Address;
  readonly sourcePort: number;
  readonly realm: string;
  readonly destinationIp: Address;
  readonly destinationPort: number;
  readonly protocol: string;
  readonly start: number;
  readonly end: number;
  readonly bytesUp: number;
  readonly bytesDown: number;
  readonly service: string;
}

export function connectionRecord(f: ConnectionFields): StoredConnection {
  const r: Record<string, unknown> = { kind: 'connection' };
  if (f.account !== '') r['account'] = f.account;
  r['sourceIp'] = f.sourceIp;
  if (f.sourcePort >= 0) r['sourcePort'] = f.sourcePort;
  if (f.realm !== '') r['realm'] = f.realm;
  r['destinationIp'] = f.destinationIp;
  if (f.destinationPort >= 0) r['destinationPort'] = f.destinationPort;
  if (f.protocol !== '') r['protocol'] = f.protocol as Protocol;
  r['start'] = f.start;
  r['end'] = f.end;
  if (f.bytesUp >= 0) r['bytesUp'] = f.bytesUp;
  if (f.bytesDown >= 0) r['bytesDown'] = f.bytesDown;
  if (f.service !== '') r['service'] = f.service;
  r['id'] = connectionId(f.realm, f.sourceIp, f.sourcePort, f.start, f.destinationIp, f.destinationPort, f.protocol);
  return Object.freeze(r) as StoredConnection;
}
