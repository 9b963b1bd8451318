/**
 * The error every adapter raises once it has been closed.
 *
 * It lives beside the contract, not in one adapter, so every adapter rejects with the same
 * class and code and the conformance suite can check `code === 'storage_closed'` for all of them.
 * A closed storage must reject rather than quietly answer from stale state: an engine that keeps
 * writing after close would believe work was committed when it was not.
 */
import { WeftError } from '../core/errors.ts';

/**
 * A storage method was called after `close()`.
 *
 * @example
 * await storage.close();
 * await storage.getRun('r1'); // rejects: StorageClosedError, code 'storage_closed'
 */
export class StorageClosedError extends WeftError {
  constructor() {
    super('storage_closed', 'The storage is closed');
  }
}
