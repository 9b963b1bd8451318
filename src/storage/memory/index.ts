/**
 * Public entry of `@lostgradient/weft/storage/memory`. Re-exports by name so the package surface
 * is exactly what is listed here, never whatever a module happens to export.
 */
export { MemoryStorage } from './memory-storage.ts';
