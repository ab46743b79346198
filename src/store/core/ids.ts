/**
 * Record ids, built from each record's natural key: the same on every backend (ids are
 * evidence in results and in the audit log, so they must not depend on where a record
 * is stored).
 *
 * @example
 * allocationId(null, ip, start, 'ACC-1'); // 'allocation::198.51.100.7:1774692000000:ACC-1'
 */
import type { Address } from '../../address.js';

export const allocationId = (realm: string | null, ip: Address, start: number, account: string): string =>
  `allocation:${realm ?? ''}:${ip.text}:${start}:${account}`;

/** `protocol` is `''` when the block holds every protocol. */
export const natBlockId = (realm: string, outsideIp: Address, portFirst: number, start: number, insideIp: Address, protocol: string): string =>
  `nat-block:${realm}:${outsideIp.text}:${portFirst}:${start}:${insideIp.text}${protocol === '' ? '' : ':' + protocol}`;

/** `destination` is `''` and `destinationPort` -1 when the session has none. */
export const natSessionId = (
  realm: string,
  outsideIp: Address,
  outsidePort: number,
  protocol: string,
  start: number,
  insideIp: Address,
  insidePort: number,
  destination: string,
  destinationPort: number,
): string => `nat-session:${realm}:${outsideIp.text}:${outsidePort}:${protocol}:${start}:${insideIp.text}:${insidePort}:${destination}:${destinationPort}`;

export const natDeterministicId = (realm: string, outsidePrefix: Address, start: number): string => `nat-deterministic:${realm}:${outsidePrefix.text}:${start}`;

export const coverageId = (source: string, start: number): string => `coverage:${source}:${start}`;

/** `sourcePort`, `destinationPort` -1 and `protocol` `''` when the record has none. */
export const connectionId = (
  realm: string,
  sourceIp: Address,
  sourcePort: number,
  start: number,
  destinationIp: Address,
  destinationPort: number,
  protocol: string,
): string => `connection:${realm}:${sourceIp.text}:${sourcePort}:${start}:${destinationIp.text}:${destinationPort}:${protocol}`;
