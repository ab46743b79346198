/**
 * SQL literals and the RowBinary row encoder for the ClickHouse store. ClickHouse 18.16
 * has no query parameters, so values go into the SQL text as literals: strings quoted
 * with backslash escapes, 16-byte address keys as `'\xHH…'` string literals (which
 * compare with FixedString(16) columns and use the primary key in `IN` sets).
 */

/** A ClickHouse string literal. */
export function str(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

const HEX: readonly string[] = Array.from({ length: 256 }, (_, b) => '\\x' + b.toString(16).padStart(2, '0'));

/** Raw bytes as a ClickHouse string literal (`'\x00\x00…'`). */
export function bytes(value: Uint8Array): string {
  let out = "'";
  for (const b of value) out += HEX[b]!;
  return out + "'";
}

/** An integer literal (epoch ms and ports are safe integers). */
export function int(value: number): string {
  if (!Number.isSafeInteger(value)) throw new RangeError(`not a safe integer: ${value}`);
  return String(value);
}

/** A tuple literal from already-formatted literals. */
export function tuple(parts: readonly string[]): string {
  return `(${parts.join(', ')})`;
}

/**
 * RowBinary: the columns of each row back to back, little-endian integers, strings as
 * LEB128 length + bytes, FixedString as its bytes. The cheapest format to produce and
 * for the server to parse, and exact for binary keys.
 */
export class RowBinary {
  #buf: Buffer;
  #at = 0;
  rows = 0;

  constructor(initial = 1 << 16) {
    this.#buf = Buffer.allocUnsafe(initial);
  }

  #room(n: number): void {
    if (this.#at + n <= this.#buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#at + n));
    this.#buf.copy(next, 0, 0, this.#at);
    this.#buf = next;
  }

  u8(v: number): this {
    this.#room(1);
    this.#buf[this.#at++] = v;
    return this;
  }

  u16(v: number): this {
    this.#room(2);
    this.#buf.writeUInt16LE(v, this.#at);
    this.#at += 2;
    return this;
  }

  i32(v: number): this {
    this.#room(4);
    this.#buf.writeInt32LE(v, this.#at);
    this.#at += 4;
    return this;
  }

  u32(v: number): this {
    this.#room(4);
    this.#buf.writeUInt32LE(v, this.#at);
    this.#at += 4;
    return this;
  }

  i64(v: number | bigint): this {
    this.#room(8);
    this.#buf.writeBigInt64LE(typeof v === 'bigint' ? v : BigInt(v), this.#at);
    this.#at += 8;
    return this;
  }

  u64(v: number | bigint): this {
    this.#room(8);
    this.#buf.writeBigUInt64LE(typeof v === 'bigint' ? v : BigInt(v), this.#at);
    this.#at += 8;
    return this;
  }

  /** FixedString(n): exactly the bytes given. */
  fixed(v: Uint8Array): this {
    this.#room(v.length);
    this.#buf.set(v, this.#at);
    this.#at += v.length;
    return this;
  }

  /** String: LEB128 byte length, then the bytes (UTF-8 for text). */
  string(v: string | Uint8Array): this {
    const data = typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
    let n = data.length;
    this.#room(data.length + 5);
    do {
      let byte = n & 0x7f;
      n >>>= 7;
      if (n !== 0) byte |= 0x80;
      this.#buf[this.#at++] = byte;
    } while (n !== 0);
    this.#buf.set(data, this.#at);
    this.#at += data.length;
    return this;
  }

  /** Columns written by a helper, in the chain. */
  call<T>(write: (w: this, value: T) => unknown, value: T): this {
    write(this, value);
    return this;
  }

  /** The rows written so far (a view: copy before writing more). */
  bytes(): Buffer {
    return this.#buf.subarray(0, this.#at);
  }
}
