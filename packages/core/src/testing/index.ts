/**
 * @openclaw-mt/core/testing — the adapter conformance kit. Every adapter in openclaw-mt runs it
 * unchanged; third-party adapters should too.
 */
export type {
  ConformanceRunner,
  ConformanceContext,
  AdapterUnderTest,
  ConformanceOptions,
  ConformanceCase,
  Harness,
} from './conformance-kit.js';
export { runAdapterConformance, conformanceCases } from './run-conformance.js';
export { rejectsWithCode, eventually } from './assertions.js';
export { randomTenantId, randomTokenHash, sampleTokenRecord, sampleTemplate, HOSTILE_NAMES } from './fixtures.js';
