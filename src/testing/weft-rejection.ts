/**
 * The error a promise rejects with, when it must be a `WeftError` (tests; not part of the package).
 */
import { WeftError } from '../core/errors.ts';

/**
 * The `WeftError` `promise` rejects with; throws when it resolves or rejects with anything else.
 *
 * @example
 * expect((await weftRejection(client.getWorkflow({ id: 'nobody' }))).code).toBe('workflow_not_found');
 */
export async function weftRejection(promise: Promise<unknown>): Promise<WeftError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof WeftError)) throw new Error(`expected a WeftError, got ${String(error)}`);
  return error;
}
