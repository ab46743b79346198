import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RequestInput } from '../../src/request.js';
import type { SqliteStore } from '../../src/store/sqlite.js';
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
    ['a local authority giving a destination (9.14, 9.22)', withDst, { authorityType: 'local-authority', condition: 'A', purpose: 'crime' }, 'LOCAL_AUTHORITY_ICR', '9.14'],
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
    ['Condition D from the intelligence community for national security', obs, { authorityType: 'intelligence-community', condition: 'D', purpose: 'national-security' }],
  ] as const)('allowed: %s', async (_name, observations, authorisation) => {
    expect((await resolve(observations, { authorisation })).status).toBe('unique');
  });
});
