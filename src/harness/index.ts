/**
 * `ipar/harness`: the property-based laws of resolution, with the system
 * under test as a parameter, so an operator can run them against its own store or
 * integration (the default is the embedded SQLite store and the ipar matcher).
 *
 * @example
 * import { checkLaws, type System } from 'ipar/harness';
 * const mine: System = { name: 'our stack', open: async (records) => ({ resolve: (requests) => api.resolve(requests), close: () => api.reset() }) };
 * const laws = await checkLaws({ system: mine, seed: 42 }); // [{ law: 'soundness', ok: true, … }, …]
 */
export { resolveChecked, sqliteSystem, type Instance, type Resolver, type System } from './system.js';
export { asRequest, buildWorld, MAX_CANDIDATES, type World, type WorldSpec } from './world.js';
export { reference, REFERENCE_MAX_INSIDE_HOSTS, type Reference } from './reference.js';
export {
  checkLaws,
  GAP_WORLDS,
  isoWithOffset,
  LAW_NAMES,
  LAW_WORLDS,
  LAWS,
  LawViolation,
  openLawSuite,
  truthRequest,
  type AimedCase,
  type AimedObservation,
  type LawCheck,
  type LawDomain,
  type LawInput,
  type LawName,
  type LawSuite,
  type TruthCase,
  type Writing,
} from './laws.js';
