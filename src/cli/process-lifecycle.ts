/**
 * What the `weft` commands share about their process: the default workflows module, where the
 * database lives, and waiting for SIGINT/SIGTERM.
 */

/** The workflows module a command loads when `--workflows` is not given: the bundled examples. */
export const DEFAULT_WORKFLOWS = 'examples/workflows.ts';

/** `--db`, else `$WEFT_DB`, else `./weft.db`. */
export function databasePath(flag: string | undefined): string {
  return flag ?? process.env.WEFT_DB ?? './weft.db';
}

/**
 * Resolves on the first SIGINT or SIGTERM. Call it before printing anything: a supervisor that
 * reads the first line may signal at once, and an unhandled signal would kill the process mid-write.
 */
export function untilStopSignal(): Promise<NodeJS.Signals> {
  const stopped = Promise.withResolvers<NodeJS.Signals>();
  process.once('SIGINT', () => stopped.resolve('SIGINT'));
  process.once('SIGTERM', () => stopped.resolve('SIGTERM'));
  return stopped.promise;
}

/** A command line the command cannot use: reported with the usage text and exit code 2. */
export class UsageError extends Error {}

/** Whether `error` is a usage mistake: ours, or `parseArgs` refusing an option. */
export function isUsageError(error: unknown): boolean {
  if (error instanceof UsageError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}
