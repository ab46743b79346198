/**
 * One address form for the whole engine (STYLE.md item 5): every IPv4 and IPv6 address
 * or prefix becomes a 16-byte big-endian key, IPv4 as IPv4-mapped IPv6, so that the
 * store can compare and index both families the same way. Parsing is ip-num's; this
 * module only memoises it (ip-num parses an IPv6 string in ~10 µs, too slow for bulk
 * ingest, and addresses repeat heavily in operator logs) and masks keys.
 */
import { IPv4, IPv6 } from 'ip-num';
import type { ProblemReason } from './catalogue/problems.js';

/** An address or a prefix, in canonical text and as a 16-byte comparable key. */
export interface Address {
  /** 4 or 6: the family the address was written in. */
  readonly family: 4 | 6;
  /** Network address as 16 bytes (IPv4-mapped for IPv4), host bits zero for a prefix. */
  readonly key: Buffer;
  /** Prefix length in IPv6 terms (an IPv4 /24 is 120; a single address is 128). */
  readonly length: number;
  /** Canonical text: `198.51.100.7`, `2001:db8::/56`, `203.0.113.0/28`. */
  readonly text: string;
}

/** Why a string is not an address of the kind asked for. Constant, for grouping. */
export type AddressReason = Extract<ProblemReason, 'INVALID_ADDRESS' | 'INVALID_PREFIX' | 'HOST_BITS_SET' | 'ADDRESS_ZONE_ID'>;

export type AddressParse = { readonly ok: true; readonly value: Address } | { readonly ok: false; readonly reason: AddressReason; readonly message: string };

const V4_MAPPED = Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]);

function keyFromBigInt(value: bigint, family: 4 | 6): Buffer {
  const key = Buffer.alloc(16);
  if (family === 4) {
    V4_MAPPED.copy(key, 0);
    key.writeUInt32BE(Number(value), 12);
  } else {
    key.writeBigUInt64BE(value >> 64n, 0);
    key.writeBigUInt64BE(value & 0xffff_ffff_ffff_ffffn, 8);
  }
  return key;
}

/** True when a 16-byte key is an IPv4-mapped address. */
export function isV4Key(key: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (key[i] !== 0) return false;
  return key[10] === 0xff && key[11] === 0xff;
}

/** A copy of `key` with every bit past `length` cleared. */
export function maskKey(key: Uint8Array, length: number): Buffer {
  const out = Buffer.from(key);
  for (let bit = length; bit < 128; bit++) {
    if (bit % 8 === 0 && bit + 8 <= 128) {
      out.fill(0, bit / 8);
      break;
    }
    out[bit >> 3]! &= ~(0x80 >> (bit & 7));
  }
  return out;
}

/** Canonical text of a key (and a prefix length), the inverse of {@link parseAddress}. */
export function keyToText(key: Uint8Array, length = 128): string {
  if (isV4Key(key)) {
    // Four numbers need no cache: cheaper than the hex key a cache lookup would cost.
    const text = `${key[12]}.${key[13]}.${key[14]}.${key[15]}`;
    return length < 128 ? `${text}/${length - 96}` : text;
  }
  const cacheKey = Buffer.from(key).toString('hex') + '/' + length;
  const hit = textCache.get(cacheKey);
  if (hit !== undefined) return hit;
  const buf = Buffer.from(key);
  const value = (buf.readBigUInt64BE(0) << 64n) | buf.readBigUInt64BE(8);
  // ip-num writes every group; the WHATWG URL serialiser gives RFC 5952's compressed form.
  let text = new URL(`http://[${IPv6.fromBigInt(value).toString()}]/`).hostname.slice(1, -1);
  if (length < 128) text += '/' + length;
  remember(textCache, cacheKey, text);
  return text;
}

const CACHE_LIMIT = 200_000;
const parseCache = new Map<string, AddressParse>();
const textCache = new Map<string, string>();

function remember<K, V>(cache: Map<K, V>, key: K, value: V): void {
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(key, value);
}

function parseHost(text: string): { value: bigint; family: 4 | 6 } | null {
  try {
    if (text.includes(':')) return { value: IPv6.fromString(text).getValue(), family: 6 };
    return { value: IPv4.fromString(text).getValue(), family: 4 };
  } catch {
    return null;
  }
}

function parseUncached(text: string, allowPrefix: boolean): AddressParse {
  const zone = text.indexOf('%');
  if (zone >= 0 && text.includes(':')) {
    // ip-num drops a zone id without a word: `fe80::1%eth0` and `fe80::1%eth1` would be
    // one address. A zone names an interface of the host that logged it, which no
    // operator record holds: refuse it, naming it, rather than guess.
    return {
      ok: false,
      reason: 'ADDRESS_ZONE_ID',
      message: `${JSON.stringify(text)} carries the IPv6 zone id ${JSON.stringify(text.slice(zone + 1).split('/')[0])}: a zone names a link on one host, not an address; give the address without it`,
    };
  }
  const slash = text.indexOf('/');
  if (slash < 0) {
    const host = parseHost(text);
    if (host === null) return { ok: false, reason: 'INVALID_ADDRESS', message: `not an IPv4 or IPv6 address: ${JSON.stringify(text)}` };
    const key = keyFromBigInt(host.value, host.family);
    return { ok: true, value: Object.freeze({ family: host.family, key, length: 128, text: keyToText(key) }) };
  }
  if (!allowPrefix) return { ok: false, reason: 'INVALID_ADDRESS', message: `expected an address, not a prefix: ${JSON.stringify(text)}` };
  const host = parseHost(text.slice(0, slash));
  const lengthText = text.slice(slash + 1);
  const written = /^\d{1,3}$/.test(lengthText) ? Number(lengthText) : NaN;
  const max = host?.family === 4 ? 32 : 128;
  if (host === null || !(written >= 0 && written <= max)) {
    return { ok: false, reason: 'INVALID_PREFIX', message: `not an IPv4 or IPv6 prefix: ${JSON.stringify(text)}` };
  }
  const length = host.family === 4 ? written + 96 : written;
  const key = keyFromBigInt(host.value, host.family);
  const masked = maskKey(key, length);
  if (!masked.equals(key)) {
    return { ok: false, reason: 'HOST_BITS_SET', message: `prefix ${JSON.stringify(text)} has host bits set (network is ${keyToText(masked, length)})` };
  }
  return { ok: true, value: Object.freeze({ family: host.family, key, length, text: keyToText(key, length) }) };
}

/**
 * Parse an address or, when `allowPrefix`, a prefix such as `2001:db8:1200::/40`.
 * A prefix with host bits set is refused rather than silently masked.
 *
 * @example
 * const r = parseAddress('198.51.100.7');
 * if (r.ok) r.value.key; // <Buffer 00 … ff ff c6 33 64 07>
 */
export function parseAddress(text: string, allowPrefix = false): AddressParse {
  const cacheKey = allowPrefix ? 'p' + text : 'a' + text;
  const hit = parseCache.get(cacheKey);
  if (hit !== undefined) return hit;
  const parsed = parseUncached(text, allowPrefix);
  remember(parseCache, cacheKey, parsed);
  return parsed;
}

/** True when `prefix` contains `address` (both as keys, prefix length in IPv6 terms). */
export function prefixContains(prefixKey: Uint8Array, length: number, addressKey: Uint8Array): boolean {
  return maskKey(addressKey, length).equals(prefixKey);
}

/** The address `offset` places after `key` (no overflow check past the family's end). */
export function addToKey(key: Uint8Array, offset: bigint): Buffer {
  const buf = Buffer.from(key);
  const value = ((buf.readBigUInt64BE(0) << 64n) | buf.readBigUInt64BE(8)) + offset;
  const out = Buffer.alloc(16);
  out.writeBigUInt64BE((value >> 64n) & 0xffff_ffff_ffff_ffffn, 0);
  out.writeBigUInt64BE(value & 0xffff_ffff_ffff_ffffn, 8);
  return out;
}

/** The distance from `base` to `key` as a bigint (key − base). */
export function keyOffset(base: Uint8Array, key: Uint8Array): bigint {
  const a = Buffer.from(base);
  const b = Buffer.from(key);
  return ((b.readBigUInt64BE(0) << 64n) | b.readBigUInt64BE(8)) - ((a.readBigUInt64BE(0) << 64n) | a.readBigUInt64BE(8));
}

/** Build an {@link Address} for a single host key (used when reading rows back). */
export function addressFromKey(key: Uint8Array, length = 128): Address {
  if (length === 128 && isV4Key(key)) return addressFromV4(((key[12]! << 24) | (key[13]! << 16) | (key[14]! << 8) | key[15]!) >>> 0);
  const buf = Buffer.from(key);
  return Object.freeze({ family: isV4Key(buf) ? 4 : 6, key: buf, length, text: keyToText(buf, length) });
}

const v4Cache = new Map<number, Address>();

/**
 * The {@link Address} of an IPv4 host given as its 32-bit number, shared: rows read back
 * repeat a few addresses many times (outside pools, inside hosts), and one frozen value
 * each saves a key, a text and an object per row.
 *
 * @example
 * addressFromV4(0xc6336407).text; // '198.51.100.7'
 */
export function addressFromV4(n: number): Address {
  let a = v4Cache.get(n);
  if (a === undefined) {
    const key = Buffer.alloc(16);
    V4_MAPPED.copy(key, 0);
    key.writeUInt32BE(n, 12);
    a = Object.freeze({ family: 4 as const, key, length: 128, text: keyToText(key) });
    remember(v4Cache, n, a);
  }
  return a;
}

/**
 * An address and port as people write them: `203.0.113.7:1300`, `[2001:db8::1]:443`
 * (just the address when there is no port).
 *
 * @example
 * hostPort('2001:db8::1', 443); // '[2001:db8::1]:443'
 */
export function hostPort(ip: string, port: number | null): string {
  if (port === null) return ip;
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}
