/**
 * Stage 3: public address (and port) to inside addresses, through the NAT records that
 * cover the observation window — port blocks, per-session logs, deterministic reverse
 * mapping — each with the sub-window in which the translation held. Pure over the rows
 * the store returned.
 */
import { reverse, deterministicLayout, type ReverseReason } from '../nat/deterministic.js';
import type { Address } from '../src/address.js';
import type { AddressClass, EvidenceKind } from '../src/request.js';
import type { StoredNatBlock, StoredNatDeterministic, StoredNatSession } from '../src/store/types.js';
import { intersect, type Window } from '../src/time.js';
import { usesNat } from './classify.js';
import type { PlannedObservation } from './plan.js';

/** The NAT record behind a translation (for evidence). */
export interface NatEvidence {
  readonly kind: Exclude<EvidenceKind, 'allocation'>;
  readonly id: string;
  readonly start: number;
  readonly end: number | null;
  readonly endInferred: boolean;
}

/** One inside address the public address and port stood for, and when. */
export interface Translation {
  readonly realm: string;
  readonly inside: Address;
  /** The part of the observation window in which this translation held. */
  readonly window: Window;
  readonly record: NatEvidence;
  /** Port range on the outside address this translation covers (a block, a share, one port). */
  readonly portFirst: number;
  readonly portLast: number;
}

/** A deterministic record that could not resolve the port (only logs could). */
export interface UnresolvedPort {
  readonly id: string;
  readonly reason: ReverseReason;
  readonly message: string;
}

export interface TranslationOutcome {
  readonly translations: readonly Translation[];
  readonly unresolved: readonly UnresolvedPort[];
  /** Session records dropped because destination or protocol disagreed with the observation. */
  readonly sessionsExcluded: number;
}

function evidence(kind: NatEvidence['kind'], r: { id: string; start: number; end: number | null; endInferred?: boolean | undefined }): NatEvidence {
  return { kind, id: r.id, start: r.start, end: r.end, endInferred: r.endInferred === true };
}

/** Port blocks: the block holding the port (the store already chose), protocol permitting. */
export function throughBlocks(o: PlannedObservation, blocks: readonly StoredNatBlock[]): Translation[] {
  const out: Translation[] = [];
  for (const b of blocks) {
    if (o.protocol !== null && b.protocol !== undefined && b.protocol !== o.protocol) continue;
    const window = intersect(b, o.window);
    if (window === null) continue;
    out.push({ realm: b.realm, inside: b.insideIp, window, record: evidence('nat-block', b), portFirst: b.portFirst, portLast: b.portLast });
  }
  return out;
}

/** Per-session records: destination, destination port and protocol narrow when both sides have them. */
export function throughSessions(o: PlannedObservation, sessions: readonly StoredNatSession[]): { translations: Translation[]; excluded: number } {
  const translations: Translation[] = [];
  let excluded = 0;
  for (const s of sessions) {
    const disagrees =
      (o.destinationIp !== null && s.destinationIp !== undefined && !s.destinationIp.key.equals(o.destinationIp.key)) ||
      (o.destinationPort !== null && s.destinationPort !== undefined && s.destinationPort !== o.destinationPort) ||
      (o.protocol !== null && s.protocol !== o.protocol);
    const window = intersect(s, o.window);
    if (window === null) continue;
    if (disagrees) {
      excluded++;
      continue;
    }
    translations.push({ realm: s.realm, inside: s.insideIp, window, record: evidence('nat-session', s), portFirst: s.outsidePort, portLast: s.outsidePort });
  }
  return { translations, excluded };
}

/** Most inside addresses enumerated for one outside address without a port. */
export const MAX_DETERMINISTIC_HOSTS = 65_536;

/** The inside hosts one deterministic record gives an outside address (and port), and the ports it could not resolve. */
interface Reversed {
  readonly hosts: readonly { readonly inside: Address; readonly portFirst: number; readonly portLast: number }[];
  readonly unresolved: readonly UnresolvedPort[];
}

// The reverse mapping depends on the record, the outside address and the port only, not
// on the window: computed once per (record, address, port) for every reading evaluated.
const reversals = new WeakMap<StoredNatDeterministic, Map<string, Reversed>>();

function reversed(d: StoredNatDeterministic, outside: Address, sourcePort: number | null): Reversed {
  let byKey = reversals.get(d);
  if (byKey === undefined) reversals.set(d, (byKey = new Map()));
  const key = sourcePort === null ? outside.text : `${outside.text}|${sourcePort}`;
  let hit = byKey.get(key);
  if (hit !== undefined) return hit;
  const hosts: Reversed['hosts'][number][] = [];
  const unresolved: UnresolvedPort[] = [];
  const ports: number[] = [];
  if (sourcePort !== null) {
    ports.push(sourcePort);
  } else {
    const layout = deterministicLayout(d);
    if (!layout.ok) unresolved.push({ id: d.id, reason: layout.reason, message: layout.message });
    else {
      const { portFirst, shareSize, sharesPerAddress } = layout.value;
      for (let s = 0; s < Math.min(sharesPerAddress, MAX_DETERMINISTIC_HOSTS); s++) ports.push(portFirst + s * shareSize);
    }
  }
  for (const port of ports) {
    const r = reverse(d, outside, port);
    if (r.ok) hosts.push({ inside: r.value.insideAddress, portFirst: r.value.portFirst, portLast: r.value.portLast });
    else if (sourcePort !== null) unresolved.push({ id: d.id, reason: r.reason, message: r.message });
  }
  hit = { hosts, unresolved };
  byKey.set(key, hit);
  return hit;
}

/** Deterministic NAT: reverse-map the port, or every share of the address when no port is known. */
export function throughDeterministic(
  o: PlannedObservation,
  records: readonly StoredNatDeterministic[],
): { translations: Translation[]; unresolved: UnresolvedPort[] } {
  const translations: Translation[] = [];
  const unresolved: UnresolvedPort[] = [];
  for (const d of records) {
    const window = intersect(d, o.window);
    if (window === null) continue;
    const ev = evidence('nat-deterministic', d);
    const r = reversed(d, o.sourceIp, o.sourcePort);
    for (const h of r.hosts) translations.push({ realm: d.realm, inside: h.inside, window, record: ev, portFirst: h.portFirst, portLast: h.portLast });
    for (const u of r.unresolved) unresolved.push(u);
  }
  return { translations, unresolved };
}

/** The NAT rows fetched for one observation, and the class that says whether NAT applies. */
export interface NatRows {
  readonly addressClass: AddressClass;
  readonly blocks: readonly StoredNatBlock[];
  readonly sessions: readonly StoredNatSession[];
  readonly deterministic: readonly StoredNatDeterministic[];
}

/**
 * Every translation of an observation through its fetched NAT rows — port blocks, then
 * sessions, then deterministic — or none when the address class does not use NAT.
 *
 * @example
 * translateObservation(o, fetched).translations.map((t) => t.inside.text); // ['100.64.0.12']
 */
export function translateObservation(o: PlannedObservation, rows: NatRows): TranslationOutcome {
  if (!usesNat(rows.addressClass)) return { translations: [], unresolved: [], sessionsExcluded: 0 };
  const s = throughSessions(o, rows.sessions);
  const d = throughDeterministic(o, rows.deterministic);
  return { translations: [...throughBlocks(o, rows.blocks), ...s.translations, ...d.translations], unresolved: d.unresolved, sessionsExcluded: s.excluded };
}
