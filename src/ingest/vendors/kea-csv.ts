/**
 * ISC Kea memfile lease files (`kea-leases4.csv`, `kea-leases6.csv`), every header
 * version: columns are found by name, so a file may switch versions at each header line.
 * Each row is a lease as written on a change (a journal): the lease ran from
 * `expire − valid_lifetime` (the client's last transaction) to `expire`, epoch seconds.
 * Rows of the same lease and client that overlap (renewals) merge into one interval.
 *
 * Kea's CSV has no quoting: it splits on commas and escapes a comma inside a value as
 * `&#x2c`, so a row is split on `,` exactly as Kea reads it (csv-parse would reject the
 * bare quotes in `user_context` JSON).
 */
import { allocationParse, clientAccount } from './common.js';
import { LINE_REASONS } from './output.js';
import type { VendorOptions, VendorParser, VendorSession } from './types.js';

const NAME = 'kea-csv';
const HEADER = /^address,(?:hwaddr,client_id|duid),/;
/** Kea's "infinite" lifetime. */
const INFINITE = 0xffff_ffff;
const STATE_DECLINED = '1';

/** Where the columns this importer reads sit in the current header (-1: absent). */
interface Columns {
  readonly width: number;
  readonly v6: boolean;
  readonly address: number;
  readonly hwaddr: number;
  readonly clientId: number;
  readonly duid: number;
  readonly valid: number;
  readonly expire: number;
  readonly state: number;
  readonly leaseType: number;
  readonly prefixLen: number;
}

function columnsOf(header: string): Columns {
  const names = header.split(',').map((n) => n.trim());
  const at = (name: string) => names.indexOf(name);
  return {
    width: names.length,
    v6: names.includes('duid'),
    address: at('address'),
    hwaddr: at('hwaddr'),
    clientId: at('client_id'),
    duid: at('duid'),
    valid: at('valid_lifetime'),
    expire: at('expire'),
    state: at('state'),
    leaseType: at('lease_type'),
    prefixLen: at('prefix_len'),
  };
}

function session(options: VendorOptions): VendorSession {
  // Rows are keyed by address, not written in time order (compaction rewrites them).
  const { p, realm } = allocationParse(options, NAME, true);
  let cols: Columns | null = null;
  let header: string | null = null;
  // The header goes on with the pairing state: a follower that resumes mid-file reads rows it named.
  p.carry = {
    save: () => header ?? undefined,
    load: (saved) => {
      if (typeof saved === 'string') ((header = saved), (cols = columnsOf(saved)));
    },
  };

  return p.session((text, line) => {
    if (text === '') return;
    if (HEADER.test(text)) {
      cols = columnsOf(text);
      header = text;
      return;
    }
    if (cols === null) {
      p.out.problem(line, '', LINE_REASONS.HEADER_MISSING, 'a lease row before any Kea header line (address,hwaddr,… or address,duid,…)', text);
      return;
    }
    const cells = text.split(',');
    if (cells.length !== cols.width) {
      p.out.problem(line, '', LINE_REASONS.MALFORMED_LINE, `a Kea lease row has ${cells.length} columns, its header ${cols.width}`, text);
      return;
    }
    // The columns read here never hold an escaped comma (&#x2c appears in hostname and user_context).
    const get = (i: number): string | undefined => (i < 0 ? undefined : cells[i]);
    // A declined address was refused by the client: nobody held it.
    if ((get(cols.state) ?? '0') === STATE_DECLINED) return;
    const valid = p.seconds(line, 'valid_lifetime', get(cols.valid));
    const expire = p.seconds(line, 'expire', get(cols.expire));
    if (valid === undefined || expire === undefined) return;

    const v6 = cols.v6;
    let ip: string | undefined;
    let source = 'dhcp';
    if (v6 && get(cols.leaseType) === '2') {
      ip = p.address(line, 'address', `${get(cols.address) ?? ''}/${get(cols.prefixLen) ?? ''}`, true);
      source = 'dhcpv6-pd';
    } else {
      ip = p.address(line, 'address', get(cols.address));
      if (v6) source = 'dhcpv6';
    }
    if (ip === undefined) return;

    // The client's own identifier: DUID for DHCPv6, else the hardware address, else client-id.
    const client = clientAccount({ duid: v6 ? get(cols.duid) : undefined, hwaddr: get(cols.hwaddr), clientId: v6 ? undefined : get(cols.clientId) });
    const account = client?.account;
    const mac = client?.mac;
    if (account === undefined) {
      p.out.problem(
        line,
        v6 ? 'duid' : 'hwaddr',
        LINE_REASONS.MISSING_FIELD,
        `lease ${ip} names no client (${v6 ? 'duid, hwaddr' : 'hwaddr, client_id'} empty or zeros)`,
      );
      return;
    }
    const expireMs = expire * 1000;
    const fields =
      mac === undefined ? { kind: 'allocation' as const, account, ip, source, ...realm } : { kind: 'allocation' as const, account, ip, source, ...realm, mac };
    if (valid === 0) {
      // Kea writes a deleted lease with lifetime 0 (expire = its last transaction): it
      // ended at an unknown time before its known end.
      p.book.retire({ resource: ip, holder: account, fields, line, at: expireMs });
      return;
    }
    p.book.grant({ resource: ip, holder: account, fields, line, at: expireMs - valid * 1000, knownEnd: valid === INFINITE ? null : expireMs });
  });
}

export const keaCsv: VendorParser = {
  name: NAME,
  description:
    'ISC Kea memfile lease CSV (v4 and v6, every header version; columns found by name): each row → allocation from expire − valid_lifetime to expire. Clock: expire, epoch seconds (UTC): no zone needed. Renewals of the same lease merge, a row with lifetime 0 (deleted) keeps the known end as inferred, declined rows are skipped, infinite lifetime → end null. Account: duid:, mac:, hwaddr: or client-id:. Optional realm for inside addresses.',
  sniff: (lines) => lines.some((l) => HEADER.test(l)),
  session,
};
