/**
 * Public entry of `@lostgradient/weft/storage/sqlite`. Re-exports by name so the package surface
 * is exactly what is listed here, never whatever a module happens to export.
 */
export { SQLiteStorage } from './sqlite-storage.ts';
export type { SQLiteStorageOptions, SQLiteStorageStats } from './sqlite-storage.ts';
export type { SQLiteDurability } from './open-database.ts';
export type { ReadWorkerOptions } from './read-worker.ts';
export { StorageReadFailedError } from './read-worker.ts';
export { ReadTimeoutError } from '../../core/errors.ts';
export {
  StorageCorruptError,
  StorageLockedError,
  StorageNotWeftDatabaseError,
  StorageOpenFailedError,
  StorageSchemaTooNewError,
  StorageWriteFailedError,
} from './sqlite-errors.ts';
