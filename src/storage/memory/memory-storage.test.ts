/** MemoryStorage is held to the same conformance suite as every other adapter; nothing adapter-specific here. */
import { runStorageConformance } from '../../testing/storage-conformance.ts';
import { MemoryStorage } from './memory-storage.ts';

runStorageConformance({ name: 'MemoryStorage', create: () => new MemoryStorage() });
