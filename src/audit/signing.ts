/**
 * Signed audit entries (issue 20): an Ed25519 key pair made with node:crypto; each entry
 * is signed when it is appended, over its sequence number, its hash (which covers every
 * field and the entry before) and its result hash. Without the private key nobody —
 * not even someone who can write the file and run this code — can make an entry
 * `verify --public-key` accepts; with the result hash in the signed text, a disclosed
 * result line carrying its sequence number, entry hash and signature can be checked on
 * its own (`ipar audit check-result`). Pure over keys and text: the store keeps the
 * signatures, the CLI reads the key files.
 */
import type { AuditVerdict } from '../catalogue/audit.js';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { IparError } from '../problems.js';
import type { AuditEntry } from './types.js';
import { canonicalJson, sha256 } from './hash.js';

/** An entry as the log reads it back: its signature, and whether its stored form could be read. */
export type StoredAuditEntry = AuditEntry & {
  /** Base64 Ed25519 signature of {@link signedText}; `null` when written without a key. */
  readonly signature: string | null;
  /** Set when a stored column could not be read (e.g. `records` not JSON): the entry is bad. */
  readonly unreadable?: string;
};

/** What one entry's signature is over, before it is written as canonical JSON. */
export interface SignedFields {
  readonly seq: number;
  /** The entry's hash (src/audit/chain.ts). */
  readonly hash: string;
  /** sha256 of the result line as printed without its `audit` field. */
  readonly resultHash: string;
}

/** The head of a log as `ipar audit head` prints it, to be kept elsewhere. */
export interface AuditHead {
  readonly seq: number;
  readonly hash: string;
  /** The head entry's signature (base64), `null` when it was written without a key. */
  readonly signature: string | null;
}

/** What `--sign-results` adds to a result line: the entry that audited it and its signature. */
export interface ResultSeal {
  readonly seq: number;
  readonly hash: string;
  readonly signature: string;
}

/** The text a signature is over: a versioned, canonical JSON of {@link SignedFields}. */
export function signedText(fields: SignedFields): string {
  return canonicalJson({ hash: fields.hash, resultHash: fields.resultHash, seq: fields.seq, v: 'ipar-audit/1' });
}

/** A key pair in PEM: the private key PKCS #8, the public key SPKI. */
export interface AuditKeyPair {
  readonly privateKey: string;
  readonly publicKey: string;
}

/**
 * A new Ed25519 key pair.
 *
 * @example
 * const { privateKey, publicKey } = newAuditKeyPair(); // write privateKey 0600, share publicKey
 */
export function newAuditKeyPair(): AuditKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, publicKey: publicKey.export({ type: 'spki', format: 'pem' }) as string };
}

function ed25519(key: KeyObject, what: string): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') throw new IparError('AUDIT_KEY_INVALID', `${what} is a ${key.asymmetricKeyType ?? 'symmetric'} key, not Ed25519`);
  return key;
}

function keyOf(make: (pem: string) => KeyObject, pem: string, name: string, what: string): KeyObject {
  try {
    return ed25519(make(pem), name);
  } catch (cause) {
    if (cause instanceof IparError) throw cause;
    throw new IparError('AUDIT_KEY_INVALID', `${name} is not ${what} in PEM: ${(cause as Error).message}`, { cause });
  }
}

/** The private key in PEM text (`AUDIT_KEY_INVALID` when it is not an Ed25519 private key). */
export function auditPrivateKey(pem: string, name: string): KeyObject {
  return keyOf(createPrivateKey, pem, name, 'a private key');
}

/** The public key in PEM text (a private key's PEM gives its public half). */
export function auditPublicKey(pem: string, name: string): KeyObject {
  return keyOf(createPublicKey, pem, name, 'a public key');
}

/** A short name for a public key: `SHA256:` and the first 16 hex digits of sha256 of its DER. */
export function keyFingerprint(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return (
    'SHA256:' +
    createHash('sha256')
      .update(publicKey.export({ type: 'spki', format: 'der' }))
      .digest('hex')
      .slice(0, 16)
  );
}

/**
 * Sign an entry (base64).
 *
 * @example
 * signEntry(key, { seq: 7, hash: entry.hash, resultHash: entry.resultHash });
 */
export function signEntry(key: KeyObject, fields: SignedFields): string {
  return sign(null, Buffer.from(signedText(fields), 'utf8'), key).toString('base64');
}

/** Whether `signature` (base64) is the key's signature of these fields. Never throws. */
export function signatureValid(key: KeyObject, fields: SignedFields, signature: string): boolean {
  if (!/^[A-Za-z0-9+/]{86}==$/.test(signature)) return false;
  try {
    return verify(null, Buffer.from(signedText(fields), 'utf8'), key, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

/** An entry as the signature check sees it: what was signed, and the signature it carries. */
export interface SignableEntry extends SignedFields {
  readonly signature: string | null;
}

/** Why an entry fails the signature check. */
export type SignatureBreak = Extract<AuditVerdict, 'UNSIGNED' | 'BAD_SIGNATURE'>;

/**
 * Check one entry's signature: `null` when it is good, else why not.
 *
 * @example
 * signatureProblem(key, entry); // { reason: 'BAD_SIGNATURE', message: 'entry 3 …' }
 */
export function signatureProblem(key: KeyObject, e: SignableEntry): { readonly reason: SignatureBreak; readonly message: string } | null {
  if (e.signature === null)
    return { reason: 'UNSIGNED', message: `entry ${e.seq} carries no signature: it was written without the key, or its signature was removed` };
  if (!signatureValid(key, e, e.signature)) {
    return {
      reason: 'BAD_SIGNATURE',
      message: `entry ${e.seq} is not signed by the key ${keyFingerprint(key)}: it was forged or changed (with its hash recomputed) without the private key`,
    };
  }
  return null;
}

// ---- result lines ----------------------------------------------------------------------

const SEAL = /,"audit":\{"seq":(\d+),"hash":"([0-9a-f]{64})","signature":"([A-Za-z0-9+/=]+)"\}\}$/;

/**
 * A result line with its seal: the line as printed without `--sign-results`, with an
 * `audit` field appended last. The line without it is what `resultHash` hashes.
 *
 * @example
 * sealedLine('{"ref":"R1",…}', { seq: 7, hash, signature }); // '{"ref":"R1",…,"audit":{"seq":7,…}}'
 */
export function sealedLine(line: string, seal: ResultSeal): string {
  if (!line.endsWith('}')) throw new Error(`a result line is a JSON object, got ${line.slice(-20)}`);
  return `${line.slice(0, -1)},"audit":${JSON.stringify({ seq: seal.seq, hash: seal.hash, signature: seal.signature })}}`;
}

/** What checking a sealed result line found. */
export type ResultCheck =
  | { readonly valid: true; readonly ref: string | null; readonly seq: number; readonly hash: string; readonly resultHash: string; readonly key: string }
  | { readonly valid: false; readonly reason: Extract<AuditVerdict, 'NOT_SEALED' | 'BAD_SIGNATURE'>; readonly message: string };

/**
 * Check a result line printed with `--sign-results` against the public key, with no
 * access to the log: the signature must cover the line's own hash (without its seal).
 *
 * @example
 * checkResultLine(publicKey, line); // { valid: true, seq: 7, … }
 */
export function checkResultLine(key: KeyObject, line: string): ResultCheck {
  const text = line.replace(/\r?\n$/, '');
  const m = SEAL.exec(text);
  if (m === null) return { valid: false, reason: 'NOT_SEALED', message: 'the line carries no "audit" seal at its end (was it printed with --sign-results?)' };
  const bare = text.slice(0, m.index) + '}';
  const fields = { seq: Number(m[1]), hash: m[2]!, resultHash: sha256(bare) };
  if (!signatureValid(key, fields, m[3]!)) {
    return {
      valid: false,
      reason: 'BAD_SIGNATURE',
      message: `the seal of audit entry ${fields.seq} does not verify with the key ${keyFingerprint(key)}: the line was changed, or not signed by this key`,
    };
  }
  let ref: string | null = null;
  try {
    const value = JSON.parse(bare) as { ref?: unknown };
    if (typeof value.ref === 'string') ref = value.ref;
  } catch {
    // Signed but not JSON: the signature is what counts; the ref is only shown.
  }
  return { valid: true, ref, ...fields, key: keyFingerprint(key) };
}
