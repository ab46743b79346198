/**
 * Infoblox DHCP lease records as the Infoblox DDI API (BloxOne, `dhcp/lease`) and its
 * exports give them, one JSON object a line: `address`, `hardware`, `client_id`, `starts`,
 * `ends`, `state`, `type` (`DHCPv4` / `DHCPv6`), `last_updated`. A record is the lease as
 * it stood when written, not an event: a `used` lease held the address from `starts` to
 * `ends`; a lease in another state (free, abandoned, …) ended by `last_updated`. Rows of a
 * history export are keyed by lease, not in time order, so the file pairs as a whole.
 */
import { allocationParse, clientAccount } from './common.js';
import { LINE_REASONS } from './output.js';
import type { VendorOptions, VendorParser, VendorSession } from './types.js';

const NAME = 'infoblox-lease';
/** A JSON object with the lease's own keys (address and starts/ends). */
const LEASE = /^\s*\{(?=.*"address"\s*:)(?=.*"(?:starts|ends)"\s*:)/;

function session(options: VendorOptions): VendorSession {
  const { p, realm, clocks } = allocationParse(options, NAME, true);

  return p.session((text, line) => {
    if (!LEASE.test(text)) return;
    const o = p.jsonObject(line, text, 'an Infoblox lease record');
    if (o === undefined) return;
    const str = (k: string): string | undefined => (typeof o[k] === 'string' && o[k] !== '' ? (o[k] as string) : undefined);
    const v6 = str('type') === 'DHCPv6';
    const ip = p.address(line, 'address', str('address'));
    if (ip === undefined) return;
    const starts = p.time(
      line,
      'starts',
      str('starts') === undefined ? { ok: false, reason: 'TIME_MISSING', message: 'the lease has no starts' } : clocks.iso(str('starts')!),
      o['starts'],
    );
    if (starts === undefined) return;
    const endsText = str('ends');
    const ends = endsText === undefined ? undefined : p.time(line, 'ends', clocks.iso(endsText), endsText);
    if (endsText !== undefined && ends === undefined) return;
    if (ends !== undefined && ends.late < starts.early) {
      p.out.problem(line, 'ends', LINE_REASONS.END_BEFORE_START, `the lease ends (${endsText}) before it starts (${str('starts')})`, endsText);
      return;
    }
    // DHCPv6 names the client by its DUID (client_id); DHCPv4 by its hardware address, else its client-id.
    const client = v6 ? clientAccount({ duid: str('client_id') }) : clientAccount({ hwaddr: str('hardware'), clientId: str('client_id') });
    const account = client?.account;
    const mac = client?.mac;
    if (account === undefined) {
      p.out.problem(
        line,
        v6 ? 'client_id' : 'hardware',
        LINE_REASONS.MISSING_FIELD,
        `lease ${ip} names no client (${v6 ? 'client_id' : 'hardware, client_id'} empty or zeros)`,
      );
      return;
    }
    const source = v6 ? 'dhcpv6' : 'dhcp';
    const fields =
      mac === undefined ? { kind: 'allocation' as const, account, ip, source, ...realm } : { kind: 'allocation' as const, account, ip, source, ...realm, mac };
    const ev = { resource: ip, holder: account, fields, line };
    p.book.grant(ends === undefined ? { ...ev, at: starts.early } : { ...ev, at: starts.early, knownEnd: ends.late });
    const state = str('state');
    if (state !== undefined && state !== 'used') {
      // No longer held when the record was written: it ended by then.
      const updated = str('last_updated');
      const at = updated === undefined ? undefined : p.time(line, 'last_updated', clocks.iso(updated), updated);
      if (at !== undefined && (ends === undefined || at.late < ends.late)) p.book.stop({ ...ev, at: Math.max(at.late, starts.early) });
    }
  });
}

export const infobloxLease: VendorParser = {
  name: NAME,
  description:
    'Infoblox DHCP lease records (DDI API dhcp/lease, one JSON object a line): a used lease → allocation from starts to ends; a lease in another state ended by last_updated; renewals of one lease merge. Clock: starts / ends / last_updated, ISO with offset (without one, timeZone). Account: mac: (DHCPv4), duid: (DHCPv6), else client-id:. Optional realm.',
  sniff: (lines) => lines.some((l) => LEASE.test(l) && /"(?:hardware|client_id)"\s*:/.test(l)),
  session,
};
