/**
 * `IparError` codes: faults of the program or its infrastructure, not bad input
 * (STYLE.md item 2). The CLI prints `ipar: CODE: message` on stderr and exits with the
 * entry's status.
 */
import { z } from 'zod';
import { codesOf, type Entry } from './entry.js';

interface ErrorEntry extends Entry {
  /** Exit status of the CLI when this error stops a command. */
  readonly exit: number;
}

export const ERRORS = {
  USAGE: {
    kind: 'usage',
    exit: 2,
    meaning: 'an option is missing, malformed or contradicts another (`--db` and `--store`, an instant without offset, an unknown `--format`)',
  },
  INVALID_OPTION: {
    kind: 'usage',
    exit: 2,
    meaning: 'an importer option is not valid (a zone that is not IANA, a negative timeout, a bad realm name or zone abbreviation)',
  },
  MISSING_OPTION: { kind: 'usage', exit: 2, meaning: 'an importer needs an option that was not given (`--realm` for NAT logs)' },
  FORMAT_NOT_RECOGNISED: {
    kind: 'input',
    exit: 2,
    meaning: "`--format auto` recognises no format in an input's first lines (the message names the supported formats)",
  },
  INPUT_NOT_READABLE: { kind: 'input', exit: 2, meaning: 'an input file does not exist or may not be read' },
  INPUT_READ_FAILED: { kind: 'input', exit: 2, meaning: 'reading an input failed part way (the lines before it were processed)' },
  REJECTS_NOT_WRITABLE: { kind: 'input', exit: 2, meaning: 'the `--rejects` file cannot be written' },
  STORE_NOT_FOUND: { kind: 'store', exit: 2, meaning: 'no store at the path or in the database given' },
  STORE_OPEN_FAILED: {
    kind: 'store',
    exit: 2,
    meaning: 'the store cannot be opened or read (also a file that is not a store, or a cluster that does not match the store URL)',
  },
  STORE_TOO_NEW: { kind: 'store', exit: 2, meaning: 'the store has a schema version newer than this ipar knows' },
  STORE_NEEDS_MIGRATION: { kind: 'store', exit: 2, meaning: 'the store has an older schema version; open it once for writing to migrate' },
  STORE_READONLY: { kind: 'store', exit: 2, meaning: 'a write to a store opened read-only' },
  STORE_READ_FAILED: { kind: 'store', exit: 2, meaning: 'a query of the store failed' },
  STORE_WRITE_FAILED: { kind: 'store', exit: 2, meaning: 'a write or purge of the store failed (the transaction was rolled back)' },
  STORE_SPEC_INVALID: { kind: 'store', exit: 2, meaning: 'a `--store` URL is not `clickhouse://host:port[,host:port…]/database[?cluster=NAME]`' },
  STORE_UNREACHABLE: { kind: 'store', exit: 2, meaning: 'the ClickHouse server cannot be reached' },
  LISTEN_FAILED: { kind: 'input', exit: 2, meaning: "`ipar collect` cannot listen on the address and port given (in use, or not this host's)" },
  NOT_PCAP: {
    kind: 'input',
    exit: 2,
    meaning: 'a `--format ipfix|netflow9` input that is neither an IPFIX file nor a pcap capture (NetFlow v9 is read from captures only)',
  },
  AUDIT_KEY_NOT_FOUND: { kind: 'audit', exit: 2, meaning: 'the `--audit-key` or `--public-key` file (or the key the store setting names) cannot be read' },
  AUDIT_KEY_INVALID: { kind: 'audit', exit: 2, meaning: 'the file is not an Ed25519 key of the kind asked for (private to sign, public to verify)' },
  AUDIT_KEY_EXPOSED: { kind: 'audit', exit: 2, meaning: 'the private key may be read by group or others: refused until it is 0600' },
  AUDIT_KEY_EXISTS: { kind: 'audit', exit: 2, meaning: '`audit keygen` never replaces an existing key' },
  BACKUP_EXISTS: { kind: 'store', exit: 2, meaning: '`ipar backup` never replaces an existing file' },
  BACKUP_FAILED: { kind: 'store', exit: 2, meaning: 'the online backup failed part way (the partial copy is removed)' },
  OUTPUT_WRITE_FAILED: { kind: 'input', exit: 2, meaning: 'writing an output (stdout or a file) failed, e.g. on a full disk' },
  REJECTS_WRITE_FAILED: { kind: 'input', exit: 2, meaning: 'writing to the `--rejects` file failed part way, e.g. on a full disk' },
  AUDIT_UNAVAILABLE: { kind: 'audit', exit: 2, meaning: 'the audit log cannot be written, so nothing is resolved' },
  AUDIT_WRITE_FAILED: { kind: 'audit', exit: 2, meaning: 'writing an audit entry failed mid-run; the batch is not printed' },
  AUDIT_NOT_FOUND: { kind: 'audit', exit: 2, meaning: 'no audit log in the file given' },
  WORKERS_UNAVAILABLE: { kind: 'worker', exit: 2, meaning: 'no compiled resolve worker in this build (run `npm run build`, or give `--workers 1`)' },
  WORKER_FAILED: { kind: 'worker', exit: 2, meaning: 'a resolve worker faulted or stopped mid-run; the batches before it were printed and audited' },
  PARSE_WORKER_UNAVAILABLE: { kind: 'worker', exit: 2, meaning: 'no compiled parse worker in this build' },
  PARSE_WORKER_FAILED: { kind: 'worker', exit: 2, meaning: 'the parse worker of an ingest failed or exited' },
  SIMULATION_REJECTED: { kind: 'bug', exit: 2, meaning: 'the store rejected simulated records: a simulator bug' },
  SENSITIVITY_WINDOW: { kind: 'bug', exit: 2, meaning: 'a time reading fell outside the rows fetched for it: a matcher bug' },
  INVALID_POOL: { kind: 'simulator', exit: 2, meaning: 'a session NAT was given no outside addresses or an empty port range' },
  TIME_WENT_BACKWARDS: { kind: 'simulator', exit: 2, meaning: 'a session NAT mapping was opened before the previous one' },
  MAPPING_NOT_OPEN: { kind: 'simulator', exit: 2, meaning: 'a session NAT mapping was closed that is not open' },
  RELEASE_BEFORE_START: { kind: 'simulator', exit: 2, meaning: 'a session NAT mapping was closed before it started' },
  BLOCK_NOT_HELD: { kind: 'simulator', exit: 2, meaning: 'a port block was read or released that is not held' },
  INVALID_SIMULATION_CONFIG: { kind: 'simulator', exit: 2, meaning: 'the simulator was given a seed that is not an integer or settings it refuses' },
  BAD_PLAN: { kind: 'simulator', exit: 2, meaning: "a simulated operator's address plan is not valid" },
  ACCURACY_NO_REQUESTS: { kind: 'harness', exit: 2, meaning: 'the accuracy run simulated operators that made no request' },
  ACCURACY_TRUTH_MISMATCH: { kind: 'harness', exit: 2, meaning: "the simulator's truth does not follow its requests: a simulator bug" },
  REFERENCE_UNSUPPORTED: { kind: 'harness', exit: 2, meaning: 'the reference model does not read this request (local times)' },
  REFERENCE_TOO_LARGE: { kind: 'harness', exit: 2, meaning: 'the reference model would map too many inside hosts one by one' },
  HARNESS_BAD_RESULT: { kind: 'harness', exit: 2, meaning: 'the system under test returned something that is not a result for each request' },
  HARNESS_COMMAND_FAILED: {
    kind: 'harness',
    exit: 2,
    meaning: 'the resolver `ipar accuracy --system-command` runs could not be started or exited with a failure',
  },
  HARNESS_NO_CASES: { kind: 'harness', exit: 2, meaning: 'no simulated request fits the law being checked' },
  HARNESS_BAD_CASE: { kind: 'harness', exit: 2, meaning: 'a law was given a case of another kind' },
  PAIRING_CONFLICT: {
    kind: 'store',
    exit: 2,
    meaning:
      "another run of the same importer scope (format and realm) saved its pairing state while this run was ingesting: its final write (open intervals and state) was refused; the records written before it are kept, and ingesting the run's inputs again once the other run has finished completes it",
  },
  FOLLOW_NOT_SUPPORTED: {
    kind: 'store',
    exit: 2,
    meaning:
      '`ingest --follow` needs a store that commits records with their read position in one transaction (SQLite, `--db`); the ClickHouse store has none, and is refused',
  },
} as const satisfies Record<string, ErrorEntry>;

export const ErrorCode = z.enum(codesOf(ERRORS));
export type ErrorCode = z.infer<typeof ErrorCode>;

/** True when `code` is in the catalogue (a code crossing a thread boundary arrives as text). */
export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERRORS, code);
}
