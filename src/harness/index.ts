/**
 * `ipar/harness`: the property-based laws and the accuracy measurement, with the system
 * under test as a parameter, so an operator can run them against its own store or
 * integration (the default is the embedded SQLite store and the ipar matcher).
 *
 * @example
 * import { checkLaws, measureAccuracy, type System } from 'ipar/harness';
 * const mine: System = { name: 'our stack', open: async (records) => ({ resolve: (requests) => api.resolve(requests), close: () => api.reset() }) };
 * const laws = await checkLaws({ system: mine, seed: 42 });          // [{ law: 'soundness', ok: true, … }, …]
 * const report = await measureAccuracy({ trials: 1000, seed: 1 }, mine); // figures per scenario, beside the naive baseline
 */
export { resolveChecked, sqliteSystem, type Instance, type Resolver, type System } from './system.js';
export { asRequest, buildWorld, MAX_CANDIDATES, type World, type WorldSpec } from './world.js';
export { reference, REFERENCE_MAX_INSIDE_HOSTS, type Reference } from './reference.js';
export { naiveBaseline, type NaiveResolver } from './baseline.js';
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
export { COMPLETE_LOGS, QUIET_NOISE, SCENARIO_NAMES, SCENARIOS, type Scenario } from './scenarios.js';
export {
  AccuracyOptions,
  AccuracyReport,
  BASELINE_DESCRIPTION,
  causeOf,
  Figures,
  found,
  foundWithReadings,
  Guidance,
  isSilentError,
  measureAccuracy,
  runScenario,
  ScenarioReport,
  scenarioWorld,
  scoreBaseline,
  scoreEngine,
  scoreGuidance,
  SILENT_CAUSES,
  SilentCauseReport,
  VERDICTS,
  WORLD,
  worldSeed,
  type AccuracyOptionsInput,
  type AccuracyProgress,
  type SilentCause,
  type Trial,
} from './accuracy.js';
export { formatAccuracy } from './report.js';
export { commandSystem } from './command.js';
