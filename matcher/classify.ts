/**
 * Stage 2: classify each source address against the operator's declared address space —
 * dynamic pool, CGNAT outside pool (which realm), static, server or infrastructure, or not
 * the operator's — which decides the paths the later stages follow: through NAT, through
 * public allocations, or neither.
 */
import type { Address } from '../src/address.js';
import type { AddressSpaceRecord } from '../src/records.js';
import type { AddressClass } from '../src/request.js';
import type { StoreReader } from '../src/store/types.js';

/** One source address, placed in the declared address space. */
export interface Classification {
  /** The most specific declared prefix holding the address, or `null`. */
  readonly addressSpace: AddressSpaceRecord | null;
  readonly addressClass: AddressClass;
}

/** The class of an address in `space` (`not-operator` when no declared prefix holds it). */
export function classOf(space: AddressSpaceRecord | null): AddressClass {
  return space === null ? 'not-operator' : space.role;
}

/** True when the address may stand for inside hosts: a CGNAT outside address, or one the operator did not declare. */
export function usesNat(c: AddressClass): boolean {
  return c === 'cgnat-outside' || c === 'not-operator';
}

/** True when the address may be allocated to a customer directly. */
export function usesPublicAllocations(c: AddressClass): boolean {
  return c === 'dynamic' || c === 'static' || c === 'not-operator';
}

/**
 * Classify a batch of addresses: one store round trip.
 *
 * @example
 * const [c] = await classify(store, [addr('203.0.113.7')]);
 * c.addressClass; // 'cgnat-outside'
 */
export async function classify(store: StoreReader, addresses: readonly Address[]): Promise<Classification[]> {
  const spaces = await store.classify(addresses);
  return spaces.map((addressSpace) => ({ addressSpace, addressClass: classOf(addressSpace) }));
}
