import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { processesConnectionRecords, refusalFor } from '../../matcher/guard.js';
import { planRequest } from '../../matcher/plan.js';
import type { RequestInput } from '../../src/request.js';
import type { SqliteStore } from '../../src/store/sqlite/store.js';
import { resolveIn, riskStore, T, type Obs } from './operators.js';

let store: SqliteStore;
beforeAll(() => {
  store = riskStore();
});
afterAll(() => store.close());
const resolve = (observations: Obs[], extra: Partial<RequestInput> = {}) => resolveIn(store, observations, extra);

describe('guardrails', () => {
  const obs: Obs[] = [{ sourceIp: '198.51.100.7', time: T('10:00:00') }];
  const withDst: Obs[] = [{ sourceIp: '198.51.100.7', destinationIp: '192.0.2.80', time: T('10:00:00') }];
  test.each([
    [
      'a local authority giving a destination (9.14, 9.22)',
      withDst,
      { authorityType: 'local-authority', condition: 'A', purpose: 'crime' },
      'LOCAL_AUTHORITY_ICR',
      '9.14',
    ],
    ['Condition D from the police', obs, { authorityType: 'police', condition: 'D', purpose: 'serious-crime' }, 'CONDITION_D_AUTHORITY', 'Condition D'],
    ['Condition D for ordinary crime', obs, { authorityType: 'national-crime-agency', condition: 'D', purpose: 'crime' }, 'CONDITION_D_PURPOSE', 'Condition D'],
    ['Condition D from a local authority', obs, { authorityType: 'local-authority', condition: 'D', purpose: 'serious-crime' }, 'LOCAL_AUTHORITY_ICR', '9.14'],
  ] as const)('refused: %s', async (_name, observations, authorisation, code, paragraph) => {
    const r = await resolve(observations, { authorisation });
    expect(r).toMatchObject({ status: 'refused', candidates: [], refusal: { code, paragraph } });
  });
  test.each([
    ['a local authority without a destination', obs, { authorityType: 'local-authority', condition: 'A', purpose: 'crime' }],
    ['Condition D from the NCA for serious crime', obs, { authorityType: 'national-crime-agency', condition: 'D', purpose: 'serious-crime' }],
    [
      'Condition D from the intelligence community for national security',
      obs,
      { authorityType: 'intelligence-community', condition: 'D', purpose: 'national-security' },
    ],
  ] as const)('allowed: %s', async (_name, observations, authorisation) => {
    expect((await resolve(observations, { authorisation })).status).toBe('unique');
  });
});

describe('processesConnectionRecords(): what makes a request process internet connection records (9.22)', () => {
  const plan = (o: Partial<Obs>, authorisation?: RequestInput['authorisation']) => {
    const p = planRequest({
      ref: 'G',
      observations: [{ sourceIp: '198.51.100.7', time: T('10:00:00'), ...o }],
      ...(authorisation === undefined ? {} : { authorisation }),
    });
    if (!p.ok) throw new Error(JSON.stringify(p.errors));
    return p.value;
  };
  test.each([
    ['a source address and time only', {}, undefined, false],
    ['a destination address', { destinationIp: '192.0.2.80' }, undefined, true],
    ['a destination port', { destinationPort: 443 }, undefined, true],
    ['a domain name', { fqdn: 'example.org' }, undefined, true],
    ['Condition D, even without a destination', {}, { authorityType: 'national-crime-agency', condition: 'D', purpose: 'serious-crime' }, true],
    ['Condition A without a destination', {}, { authorityType: 'police', condition: 'A', purpose: 'crime' }, false],
  ] as const)('%s: %s', (_name, o, authorisation, expected) => {
    const p = plan(o, authorisation);
    expect(processesConnectionRecords(p)).toBe(expected);
    // Only a local authority asking for connection records is refused on that ground.
    expect(refusalFor({ ...p, authorisation: { authorityType: 'local-authority', condition: 'A', purpose: 'crime' } })?.code ?? null).toBe(
      expected && p.authorisation?.condition !== 'D' ? 'LOCAL_AUTHORITY_ICR' : null,
    );
  });
});
