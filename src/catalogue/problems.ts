/**
 * Reasons of the problems found in input (src/problems.ts): a bad record or request line
 * (`records`: canonical NDJSON; `requests`) or a bad vendor log line (`importers`:
 * src/ingest/vendors). The line is reported and skipped; the rest of the input goes on.
 */
import { z } from 'zod';
import { codesOf, type Entry } from './entry.js';

/** Where a reason can be reported: canonical records (`ipar ingest`), requests, vendor importers, IPFIX / NetFlow v9 decoding (`flow`). */
export type ProblemScope = 'records' | 'requests' | 'importers' | 'flow';

interface ProblemEntry extends Entry {
  readonly scope: readonly ProblemScope[];
}

const ALL = ['records', 'requests', 'importers'] as const;
const INPUT = ['records', 'requests'] as const;

export const PROBLEMS = {
  // Reading a line at all (src/ingest/lines.ts, src/ingest/ingest.ts).
  INVALID_JSON: { kind: 'problem', scope: INPUT, meaning: 'the line is not JSON' },
  LINE_TOO_LONG: { kind: 'problem', scope: ALL, meaning: 'the line is longer than 1 MiB (`MAX_LINE_CHARS`)' },
  JSON_TOO_DEEP: { kind: 'problem', scope: ['requests'], meaning: 'a request line nests JSON more than 64 levels deep (`MAX_JSON_DEPTH`)' },
  PARSER_FAILED: { kind: 'problem', scope: ['importers', 'flow'], meaning: 'an importer failed on the line: a bug to report; the rest of the input is read' },
  // The schemas (src/problems.ts reads zod's issues).
  MISSING_FIELD: { kind: 'problem', scope: ALL, meaning: 'a field the record needs is absent (in vendor logs: no client identity, no Framed-IP-Address)' },
  WRONG_TYPE: { kind: 'problem', scope: INPUT, meaning: 'a field has the wrong JSON type' },
  UNKNOWN_FIELD: { kind: 'problem', scope: INPUT, meaning: 'a field the schema does not know' },
  UNKNOWN_VALUE: { kind: 'problem', scope: INPUT, meaning: 'a value not in its list (unknown kind, role, type, protocol, algorithm)' },
  OUT_OF_RANGE: { kind: 'problem', scope: INPUT, meaning: 'a number out of its range (ports, ratios, counts)' },
  INVALID_FORMAT: { kind: 'problem', scope: INPUT, meaning: 'text not in its format (identifiers, realm names)' },
  ACCOUNT_NOT_UTF8: {
    kind: 'problem',
    scope: INPUT,
    meaning: 'an account name that was not valid UTF-8 (read as U+FFFD): refused, so that different accounts never collapse into one',
  },
  INVALID: { kind: 'problem', scope: INPUT, meaning: 'any other schema failure' },
  // Times (src/time.ts, matcher/time.ts, src/ingest/vendors/clock.ts).
  INVALID_INSTANT: { kind: 'problem', scope: INPUT, meaning: 'not an ISO 8601 instant, or no such date or time' },
  INSTANT_WITHOUT_OFFSET: { kind: 'problem', scope: INPUT, meaning: 'an instant without `Z` or `±hh:mm`' },
  UNKNOWN_TIME_ZONE: { kind: 'problem', scope: ['requests'], meaning: "a request's `timeZone` is not an IANA zone" },
  INVALID_LOCAL_TIME: { kind: 'problem', scope: ['requests'], meaning: "a request's wall-clock time is not a date and time without offset" },
  TIME_MISSING: { kind: 'problem', scope: ['importers'], meaning: 'an event line with no time (a bare message without its header)' },
  INVALID_TIME: { kind: 'problem', scope: ['importers'], meaning: 'a time that is no date or time (30 February, month 13, epoch of the wrong length)' },
  ZONE_UNKNOWN: { kind: 'problem', scope: ['importers'], meaning: 'a local time and no `timeZone`' },
  NONEXISTENT_LOCAL_TIME: { kind: 'problem', scope: ['importers'], meaning: 'a local time in a DST gap' },
  AMBIGUOUS_ZONE_ABBREVIATION: { kind: 'problem', scope: ['importers'], meaning: '`IST`, `BST`, `CST`, … not pinned' },
  UNKNOWN_ZONE_ABBREVIATION: { kind: 'problem', scope: ['importers'], meaning: 'an abbreviation not in the table' },
  YEAR_UNKNOWN: { kind: 'problem', scope: ['importers'], meaning: 'a header without year and no `year` or earlier year in the file' },
  CLOCKS_DISAGREE: { kind: 'problem', scope: ['importers'], meaning: 'two clocks of one line disagree (FortiGate eventtime vs date/time)' },
  TIME_OUT_OF_RANGE: { kind: 'problem', scope: ['importers'], meaning: 'a time (or a time plus a duration) outside 1970–9999, the years a record may hold' },
  END_BEFORE_START: { kind: 'problem', scope: ALL, meaning: 'an end written before its start' },
  // Addresses and ports (src/address.ts, src/records.ts, importers).
  INVALID_ADDRESS: { kind: 'problem', scope: ALL, meaning: 'not an IPv4 or IPv6 address (or a prefix where an address is needed)' },
  INVALID_PREFIX: { kind: 'problem', scope: ALL, meaning: 'not an IPv4 or IPv6 prefix' },
  HOST_BITS_SET: { kind: 'problem', scope: ALL, meaning: 'a prefix with host bits set' },
  ADDRESS_ZONE_ID: {
    kind: 'problem',
    scope: ALL,
    meaning: 'an IPv6 address with a zone id (`fe80::1%eth0`): it names a link on one host, not an address; refused, never dropped',
  },
  INVALID_PORT: { kind: 'problem', scope: ['importers'], meaning: 'a field that is not a port' },
  PORT_RANGE_REVERSED: { kind: 'problem', scope: ['records', 'importers'], meaning: 'a port block whose last port is below its first' },
  UNKNOWN_PROTOCOL: { kind: 'problem', scope: ['importers'], meaning: 'a protocol the records do not hold (tcp, udp, icmp, icmpv6, sctp, gre, esp)' },
  INVALID_NUMBER: { kind: 'problem', scope: ['importers'], meaning: 'a duration or lifetime that is not a number' },
  // The shape of vendor lines (src/ingest/vendors/output.ts).
  MALFORMED_LINE: { kind: 'problem', scope: ['importers'], meaning: 'the line looks like an event this importer reads but lacks its shape' },
  HEADER_MISSING: { kind: 'problem', scope: ['importers'], meaning: 'a CSV row before any header (Kea)' },
  UNRECOGNISED_LINE: { kind: 'problem', scope: ['importers'], meaning: 'a line that fits nothing in a structured file (dhcpd.leases, RADIUS detail)' },
  STOP_WITHOUT_START: { kind: 'problem', scope: ['importers'], meaning: 'a stop whose start is not in the file and cannot be derived' },
  UNTERMINATED_MESSAGE: { kind: 'problem', scope: ['importers'], meaning: 'a wrapped message that never closed (VPP)' },
  // IPFIX and NetFlow v9 (src/ingest/ipfix): messages, sets, templates, events, saved inputs.
  MALFORMED_MESSAGE: { kind: 'problem', scope: ['flow'], meaning: 'a message shorter than its header, or whose length field disagrees with it' },
  WRONG_VERSION: { kind: 'problem', scope: ['flow'], meaning: 'a message that is not of `--format` (version 10 for IPFIX, 9 for v9)' },
  MALFORMED_SET: {
    kind: 'problem',
    scope: ['flow'],
    meaning: 'a set length that runs past its message, or a reserved set id; the rest of the message is not read',
  },
  MALFORMED_TEMPLATE: {
    kind: 'problem',
    scope: ['flow'],
    meaning: 'a template cut short, with an id below 256, or describing empty records; the rest of its set is skipped',
  },
  MALFORMED_RECORD: { kind: 'problem', scope: ['flow'], meaning: 'a data record (variable-length field) running past its set; the rest of the set is skipped' },
  ELEMENT_LENGTH: { kind: 'problem', scope: ['flow'], meaning: 'an element of the table with a length its type cannot have; skipped' },
  TEMPLATE_UNKNOWN: { kind: 'problem', scope: ['flow'], meaning: 'a data set whose template did not arrive within the wait (or before the end)' },
  TEMPLATE_EXPIRED: { kind: 'problem', scope: ['flow'], meaning: 'a UDP template used after its timeout; its records wait for a refresh' },
  TEMPLATE_REDEFINED: { kind: 'problem', scope: ['flow'], meaning: 'over TCP, a template id reused without a withdrawal' },
  EVENT_UNDEFINED: {
    kind: 'problem',
    scope: ['flow'],
    meaning: 'a natEvent value (or, for `nokia-lsn`, a record with neither timestamp) the profile does not define',
  },
  MISSING_TIME: { kind: 'problem', scope: ['flow'], meaning: 'a record with no event time' },
  PORT_BLOCK_STRIDED: { kind: 'problem', scope: ['flow'], meaning: 'a port block with `portRangeStepSize` above 1' },
  INVALID_RECORD: { kind: 'problem', scope: ['flow'], meaning: 'a decoded record failed the canonical schema (its problems follow)' },
  RECORDS_LOST: { kind: 'problem', scope: ['flow'], meaning: '(note) records or packets lost, with the count; stored as a coverage gap' },
  EXPORTER_RESTARTED: { kind: 'problem', scope: ['flow'], meaning: '(note) an exporter restart, told apart from loss' },
  FILE_TRUNCATED: { kind: 'problem', scope: ['flow'], meaning: 'a saved IPFIX file whose last message is cut off, or octets after it that are no message' },
  PCAP_TRUNCATED: { kind: 'problem', scope: ['flow'], meaning: 'a packet captured short (raise the snap length), or a capture that ends inside a packet' },
  PCAP_NOT_UDP: {
    kind: 'problem',
    scope: ['flow'],
    meaning: 'a captured packet that is not UDP over IPv4 or IPv6 (TCP streams are not reassembled from captures)',
  },
  PCAP_FRAGMENT: { kind: 'problem', scope: ['flow'], meaning: 'a captured IP fragment (fragments are not reassembled)' },
  PCAP_LINKTYPE: { kind: 'problem', scope: ['flow'], meaning: 'a capture link type or ether type not read (Ethernet, SLL, SLL2, loopback and raw IP are)' },
  // Pairing (src/ingest/vendors/pairing.ts), vendor importers and flow records alike.
  LATE_EVENT: {
    kind: 'problem',
    scope: ['importers', 'flow'],
    meaning:
      'a grant or interim update older than the log has reached by more than the reorder window (`--reorder-window`): the intervals it would meet may be stored already, so it opens or widens none (a larger window pairs it)',
  },
  STOP_AFTER_REGRANT: {
    kind: 'problem',
    scope: ['importers', 'flow'],
    meaning:
      "a stop of a holder whose interval the next holder's grant had already closed: stored ended at that grant (`endInferred`), never overlapping the next holder",
  },
} as const satisfies Record<string, ProblemEntry>;

export const ProblemReason = z.enum(codesOf(PROBLEMS));
export type ProblemReason = z.infer<typeof ProblemReason>;

/** True when `reason` is in the catalogue (a zod issue's `params.reason` arrives untyped). */
export function isProblemReason(reason: unknown): reason is ProblemReason {
  return typeof reason === 'string' && Object.hasOwn(PROBLEMS, reason);
}
