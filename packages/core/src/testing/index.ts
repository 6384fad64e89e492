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

// The in-memory stores one by one, with their shareable state (the root's createMemoryAdapter bundles them).
export { type MemoryAdapterState, createMemoryAdapterState } from '../memory/memory-adapter.js';
export {
  type MemoryTokenStore,
  type MemoryTokenStoreOptions,
  type MemoryTokenState,
  createMemoryTokenStore,
  createMemoryTokenState,
} from '../memory/memory-token-store.js';
export {
  type MemoryConfigSource,
  type MemoryConfigSourceOptions,
  type MemoryConfigState,
  createMemoryConfigSource,
  createMemoryConfigState,
} from '../memory/memory-config-source.js';
export {
  type MemoryWorkspaceStore,
  type MemoryWorkspaceStoreOptions,
  type MemoryWorkspaceData,
  createMemoryWorkspaceStore,
} from '../memory/memory-workspace-store.js';
export { createMemoryAuditLog } from '../memory/memory-audit-log.js';
