/**
 * `ipar audit verify`, `show`, `head`, `keygen` and `check-result`: check the audit log's
 * hash chain and signatures, print entries and the head, make a signing key pair, and
 * check a signed result line on its own.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { verifyChain, type RecordedHead } from '../audit/chain.js';
import {
  auditPrivateKey,
  auditPublicKey,
  checkResultLine,
  keyFingerprint,
  newAuditKeyPair,
  signatureProblem,
  type StoredAuditEntry,
} from '../audit/signing.js';
import { readLines, openInputs } from '../ingest/lines.js';
import { formatInstant } from '../time.js';
import { IparError } from '../problems.js';
import { openAuditLog } from '../store/sqlite/audit.js';
import { writePrivateFile } from '../store/sqlite/files.js';
import type { AuditAction, AuditEntry } from '../audit/types.js';
import { writeOut, type Io } from './io.js';

export interface AuditVerifyCommand {
  /** The store, or the separate audit database. */
  readonly db: string;
  /** A head recorded earlier (outside the log) that must still be in it: a hash, or a file holding `ipar audit head`'s JSON. */
  readonly head?: string;
  /** The public key (PEM) every entry must be signed with. */
  readonly publicKey?: string;
}

/** An entry as `ipar audit show` prints it (times in ISO form; `signature` only when signed). */
export function entryJson(e: StoredAuditEntry): Record<string, unknown> {
  const { signature, unreadable, ...rest } = e;
  return { ...rest, time: formatInstant(e.time), ...(signature === null ? {} : { signature }), ...(unreadable === undefined ? {} : { unreadable }) };
}

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (cause) {
    throw new IparError('AUDIT_KEY_NOT_FOUND', `cannot read the ${what} ${file}: ${(cause as Error).message}`, { cause });
  }
}

/** The public key in a PEM file (`AUDIT_KEY_NOT_FOUND`, `AUDIT_KEY_INVALID`). */
export function readPublicKey(file: string): KeyObject {
  return auditPublicKey(readText(file, 'public key'), file);
}

/**
 * The private key in a PEM file, which only its owner may read (`AUDIT_KEY_EXPOSED`
 * when group or others may: a key others can read signs nothing worth checking).
 */
export function readPrivateKey(file: string): KeyObject {
  const pem = readText(file, 'audit key');
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0)
    throw new IparError('AUDIT_KEY_EXPOSED', `the audit key ${file} may be read by others (mode ${mode.toString(8).padStart(4, '0')}): chmod 600 it`);
  return auditPrivateKey(pem, file);
}

/** `--head`: a file holding `ipar audit head`'s JSON, or a hash given on the command line. */
export function recordedHead(spec: string): RecordedHead {
  if (/^[0-9a-f]{64}$/.test(spec)) return { hash: spec };
  if (!existsSync(spec))
    throw new IparError('USAGE', `--head takes a 64-digit hash or a file holding the JSON of ipar audit head, got ${JSON.stringify(spec.slice(0, 80))}`);
  const text = readFileSync(spec, 'utf8').trim();
  if (/^[0-9a-f]{64}$/.test(text)) return { hash: text };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = null;
  }
  const head = value as { seq?: unknown; hash?: unknown } | null;
  if (
    head === null ||
    typeof head !== 'object' ||
    typeof head.hash !== 'string' ||
    !/^[0-9a-f]{64}$/.test(head.hash) ||
    !Number.isSafeInteger(head.seq) ||
    (head.seq as number) < 1
  ) {
    throw new IparError('USAGE', `--head ${spec}: not the JSON of ipar audit head ({"seq":N,"hash":"…","signature":…})`);
  }
  return { hash: head.hash, seq: head.seq as number };
}

/**
 * Exit 0 when the chain is intact (and, with a public key, every entry signed by it),
 * 1 naming the first entry changed, removed, reordered, unreadable, unsigned or forged.
 */
export async function runAuditVerify(cmd: AuditVerifyCommand, io: Io): Promise<number> {
  const key = cmd.publicKey === undefined ? null : readPublicKey(cmd.publicKey);
  const head = cmd.head === undefined ? undefined : recordedHead(cmd.head);
  const log = openAuditLog(cmd.db, { readonly: true });
  try {
    let signed = 0;
    const counted = function* (): Iterable<StoredAuditEntry> {
      for (const e of log.entries()) {
        if (e.signature !== null) signed++;
        yield e;
      }
    };
    const check =
      key === null ? undefined : (e: StoredAuditEntry) => signatureProblem(key, { seq: e.seq, hash: e.hash, resultHash: e.resultHash, signature: e.signature });
    const report = verifyChain(counted(), (h) => log.seqOfHash(h), head, check as Parameters<typeof verifyChain>[3]);
    const fingerprint = key === null ? null : keyFingerprint(key);
    await writeOut(io, JSON.stringify({ ...report, signed, key: report.intact ? fingerprint : null }) + '\n');
    if (!report.intact) {
      io.stderr.write(`audit: entry ${report.seq}: ${report.reason}: ${report.message}\n`);
      return 1;
    }
    const signatures =
      fingerprint !== null
        ? `every entry signed by ${fingerprint}`
        : signed === 0
          ? 'unsigned (no entry carries a signature; resolve with --audit-key to sign)'
          : `${signed} of ${report.entries} entries signed, signatures not checked (give --public-key)`;
    io.stderr.write(`audit: ${report.entries} entries, chain intact${report.head === null ? '' : `, head ${report.head}`}; ${signatures}\n`);
    return 0;
  } finally {
    log.close();
  }
}

export interface AuditShowCommand {
  readonly db: string;
  readonly ref?: string;
  readonly action?: AuditAction;
}

/** Print the matching entries as NDJSON; exit 1 when there are none. */
export async function runAuditShow(cmd: AuditShowCommand, io: Io): Promise<number> {
  const log = openAuditLog(cmd.db, { readonly: true });
  try {
    const entries = log.find({ ...(cmd.ref === undefined ? {} : { ref: cmd.ref }), ...(cmd.action === undefined ? {} : { action: cmd.action }) });
    for (const e of entries) await writeOut(io, JSON.stringify(entryJson(e)) + '\n');
    if (entries.length === 0) io.stderr.write('audit: no entries match\n');
    return entries.length === 0 ? 1 : 0;
  } finally {
    log.close();
  }
}

/** `ipar audit head`: the last entry's `{"seq","hash","signature"}`; exit 1 on an empty log. */
export async function runAuditHead(cmd: { readonly db: string }, io: Io): Promise<number> {
  const log = openAuditLog(cmd.db, { readonly: true });
  try {
    const head = log.head();
    if (head === null) {
      io.stderr.write('audit: the log is empty: no head\n');
      return 1;
    }
    await writeOut(io, JSON.stringify(head) + '\n');
    return 0;
  } finally {
    log.close();
  }
}

/** `ipar audit keygen --out DIR`: `DIR/audit.key` and `DIR/audit.pub`, both 0600, never over existing files. */
export async function runAuditKeygen(cmd: { readonly out: string }, io: Io): Promise<number> {
  const keyFile = join(cmd.out, 'audit.key');
  const pubFile = join(cmd.out, 'audit.pub');
  for (const f of [keyFile, pubFile])
    if (existsSync(f)) throw new IparError('AUDIT_KEY_EXISTS', `${f} exists: keygen never replaces a key (entries signed with it could no longer be checked)`);
  const created = !existsSync(cmd.out);
  mkdirSync(cmd.out, { recursive: true, mode: 0o700 });
  if (created) chmodSync(cmd.out, 0o700);
  const pair = newAuditKeyPair();
  writePrivateFile(keyFile, pair.privateKey);
  writePrivateFile(pubFile, pair.publicKey);
  const fingerprint = keyFingerprint(auditPublicKey(pair.publicKey, pubFile));
  await writeOut(io, JSON.stringify({ privateKey: keyFile, publicKey: pubFile, fingerprint }) + '\n');
  io.stderr.write(`audit: key pair ${fingerprint} written: keep ${keyFile} with ipar only, give ${pubFile} to whoever checks the log\n`);
  return 0;
}

/**
 * `ipar audit check-result --public-key F [FILE]`: check each result line printed with
 * `--sign-results`, without the log. Prints one JSON verdict a line; exit 0 when every
 * line verifies, 1 when one does not.
 */
export async function runAuditCheckResult(cmd: { readonly publicKey: string; readonly file: string }, io: Io): Promise<number> {
  const key = readPublicKey(cmd.publicKey);
  const [input] = await openInputs([cmd.file], io.stdin);
  let bad = 0;
  let lines = 0;
  for await (const { text, line } of readLines(input!)) {
    if (text.trim() === '') continue;
    lines++;
    const verdict = checkResultLine(key, text);
    await writeOut(io, JSON.stringify({ line, ...verdict }) + '\n');
    if (!verdict.valid) {
      bad++;
      io.stderr.write(`${input!.name}:${line}: ${verdict.reason}: ${verdict.message}\n`);
    }
  }
  io.stderr.write(`audit: ${lines - bad} of ${lines} result lines verify with ${keyFingerprint(key)}\n`);
  return bad > 0 || lines === 0 ? 1 : 0;
}
