import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { classify, usesNat, usesPublicAllocations } from '../../matcher/classify.js';
import { resolveRequests } from '../../matcher/pipeline.js';
import type { SqliteStore } from '../../src/store/sqlite/store.js';
import { addr } from '../support/index.js';
import { operatorStore, SMALL_OPERATOR, T } from './operators.js';

let store: SqliteStore;
beforeAll(() => {
  store = operatorStore(SMALL_OPERATOR);
});
afterAll(() => store.close());

describe('resolve() classification', () => {
  test.each([
    ['a server address', '198.51.100.241', 'server', 'server-address'],
    ['an address the operator does not hold', '192.0.2.200', 'not-operator', 'not-operator-address'],
    ['an operator address with no record', '198.51.100.50', 'dynamic', 'no-record'],
  ])('%s', async (_name, sourceIp, addressClass, outcome) => {
    const [r] = await resolveRequests(store, [{ ref: 'P', observations: [{ sourceIp, time: T('10:00:00') }] }]);
    expect(r!.status).toBe('none');
    expect(r!.observations[0]).toMatchObject({ addressClass, outcome });
  });
});

describe('classify() against the declared address space', () => {
  const cases = [
    ['a dynamic pool address', '198.51.100.7', 'dynamic', '198.51.100.0/25', null, false, true],
    ['a server address', '198.51.100.241', 'server', '198.51.100.240/28', null, false, false],
    ['a CGNAT outside address, with its realm', '203.0.113.70', 'cgnat-outside', '203.0.113.64/27', 'cgn-s', true, false],
    ['an IPv6 address in a dynamic /36', '2001:db8:1234::1', 'dynamic', '2001:db8:1000::/36', null, false, true],
    ['an address just past the dynamic /25', '198.51.100.200', 'not-operator', null, null, true, true],
    ['an address the operator never declared', '192.0.2.200', 'not-operator', null, null, true, true],
  ] as const;
  test('one batch, answers in input order', async () => {
    const got = await classify(
      store,
      cases.map(([, ip]) => addr(ip)),
    );
    expect(got.map((c) => c.addressClass)).toEqual(cases.map(([, , cls]) => cls));
  });
  test.each(cases)('%s: %s is %s', async (_name, ip, addressClass, prefix, realm, nat, pub) => {
    const [c] = await classify(store, [addr(ip)]);
    expect(c!.addressClass).toBe(addressClass);
    expect(c!.addressSpace?.prefix.text ?? null).toBe(prefix);
    expect(c!.addressSpace?.realm ?? null).toBe(realm);
    expect([usesNat(c!.addressClass), usesPublicAllocations(c!.addressClass)]).toEqual([nat, pub]);
  });
});
