/**
 * Public entry of `@lostgradient/weft/testing`: helpers for testing Weft and its adapters.
 * Re-exported by name so internal helpers never leak into the package surface.
 */
export { runStorageConformance } from './storage-conformance.ts';
export { ManualClock } from './manual-clock.ts';
export { createTestEngine, useTestEngines } from './test-engine.ts';
export type { TestEngine, TestEngineOptions } from './test-engine.ts';
export { makeRun as makeRunRecord } from './storage-conformance/helpers.ts';
