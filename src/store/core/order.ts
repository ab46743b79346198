/**
 * The canonical order of each answer's records, the same whatever the backend: results
 * list evidence, coverage gaps and risk details in the order the store gives them, and
 * audit entries hash the results, so a store must not give them in an order of its own.
 *
 * It is the order the SQLite store's indexes give (src/store/sqlite/store.ts walks them),
 * with names where SQLite compares its interned ids: more specific prefixes first; for a
 * port, port blocks from the highest first port down; closed records before open ones;
 * then each table's key, texts in UTF-8 byte order and addresses as IPv4's four bytes or
 * IPv6's sixteen (how SQLite stores them). Every comparator is total over the records one
 * query can return (they differ in their natural key), so sorting by it is deterministic.
 *
 * @example
 * inOrder(answer, allocationOrder);
 * inOrder(blocks, natBlockOrder(query.port));
 */
import { isV4Key, type Address } from '../../address.js';
import type { StoredAllocation, StoredConnection, StoredCoverage, StoredNatBlock, StoredNatDeterministic, StoredNatSession } from '../types.js';

/** Byte order of UTF-8 strings (how SQLite and ClickHouse compare them). */
export function textOrder(a: string, b: string): number {
  return a === b ? 0 : Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** IPv4 addresses as their four bytes, IPv6 as sixteen; no address (`undefined`) first. */
export function addressOrder(a: Address | undefined, b: Address | undefined): number {
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? -1 : 1;
  const x = isV4Key(a.key) ? a.key.subarray(12) : a.key;
  const y = isV4Key(b.key) ? b.key.subarray(12) : b.key;
  return Buffer.compare(x, y);
}

/** Closed records (with an end) before open ones. */
const closedFirst = (a: { end: number | null }, b: { end: number | null }): number => (a.end === null ? 1 : 0) - (b.end === null ? 1 : 0);

/** Allocations of one query: longest prefix first, closed before open, by start, by account. */
export function allocationOrder(a: StoredAllocation, b: StoredAllocation): number {
  return b.ip.length - a.ip.length || closedFirst(a, b) || a.start - b.start || textOrder(a.account, b.account);
}

const blockKey = (a: StoredNatBlock, b: StoredNatBlock): number =>
  a.start - b.start || textOrder(a.realm, b.realm) || addressOrder(a.insideIp, b.insideIp) || textOrder(a.protocol ?? '', b.protocol ?? '');
const blocksAtPort = (a: StoredNatBlock, b: StoredNatBlock): number => b.portFirst - a.portFirst || closedFirst(a, b) || blockKey(a, b);
const blocksOnAddress = (a: StoredNatBlock, b: StoredNatBlock): number => closedFirst(a, b) || a.portFirst - b.portFirst || blockKey(a, b);

/**
 * Port blocks of one query. With a port: the first ports that could hold it from the
 * highest down, each closed then open; without: every closed block, then the open ones,
 * by first port.
 */
export function natBlockOrder(port: number | null): (a: StoredNatBlock, b: StoredNatBlock) => number {
  return port === null ? blocksOnAddress : blocksAtPort;
}

/**
 * Sessions of one query: closed before open; closed ones by start then outside port,
 * open ones by outside port then start (the indexes SQLite reads them by), then the key.
 */
export function natSessionOrder(a: StoredNatSession, b: StoredNatSession): number {
  return (
    closedFirst(a, b) ||
    (a.end !== null ? a.start - b.start || a.outsidePort - b.outsidePort : a.outsidePort - b.outsidePort || a.start - b.start) ||
    textOrder(a.protocol, b.protocol) ||
    textOrder(a.realm, b.realm) ||
    addressOrder(a.insideIp, b.insideIp) ||
    a.insidePort - b.insidePort ||
    addressOrder(a.destinationIp, b.destinationIp) ||
    (a.destinationPort ?? -1) - (b.destinationPort ?? -1)
  );
}

/** Deterministic configurations of one query: longest outside prefix first, by start, by realm. */
export function natDeterministicOrder(a: StoredNatDeterministic, b: StoredNatDeterministic): number {
  return b.outsidePrefix.length - a.outsidePrefix.length || a.start - b.start || textOrder(a.realm, b.realm);
}

/** Coverage gaps: by source, start and status. */
export function coverageOrder(a: StoredCoverage, b: StoredCoverage): number {
  return textOrder(a.source, b.source) || a.start - b.start || textOrder(a.status, b.status);
}

/** Sort one answer in place by `order`, and return it (an answer of one record or none is left alone). */
export function inOrder<R>(answer: R[], order: (a: R, b: R) => number): R[] {
  if (answer.length > 1) answer.sort(order);
  return answer;
}

/** Connection records of one query: by start, destination, realm, source, ports, protocol (their natural key). */
export function connectionOrder(a: StoredConnection, b: StoredConnection): number {
  return (
    a.start - b.start ||
    addressOrder(a.destinationIp, b.destinationIp) ||
    textOrder(a.realm ?? '', b.realm ?? '') ||
    addressOrder(a.sourceIp, b.sourceIp) ||
    (a.sourcePort ?? -1) - (b.sourcePort ?? -1) ||
    (a.destinationPort ?? -1) - (b.destinationPort ?? -1) ||
    textOrder(a.protocol ?? '', b.protocol ?? '')
  );
}

/** NAT sessions by destination or inside address: by start, then their session order. */
export function natSessionByStartOrder(a: StoredNatSession, b: StoredNatSession): number {
  return a.start - b.start || natSessionOrder(a, b);
}
