import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { estimateRequests } from '../../matcher/pipeline.js';
import { Estimate } from '../../src/request.js';
import type { SqliteStore } from '../../src/store/sqlite.js';
import { riskStore, T } from './operators.js';

let store: SqliteStore;
beforeAll(() => {
  store = riskStore();
});
afterAll(() => store.close());

describe('estimate', () => {
  test('counts per observation and combined, partial support, flags, and no identities', async () => {
    const [e] = await estimateRequests(store, [{ ref: 'E', observations: [{ sourceIp: '203.0.113.7', time: T('09:00:00') }, { sourceIp: '198.51.100.7', time: T('10:00:00') }] }]);
    expect(Estimate.parse(e)).toMatchObject({ ref: 'E', status: 'none', candidateCount: 0, supportCounts: [3, 0] });
    expect(e!.observations.map((o) => o.candidateCount)).toEqual([2, 1]);
    expect(e!.risks.map((r) => r.code)).toContain('CONTRADICTORY_OBSERVATIONS');
    expect(JSON.stringify(e)).not.toMatch(/"M1"|"M2"|HOME/);
  });
});
