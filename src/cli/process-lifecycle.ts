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

/** Longer than any wait, shorter than the 2^31 - 1 ms a timer can hold. */
const KEEP_ALIVE_MS = 2 ** 30;

/**
 * Resolves on the first SIGINT or SIGTERM, and keeps the process alive until then. Call it before
 * printing anything: a supervisor that reads the first line may signal at once, and an unhandled
 * signal would kill the process mid-write.
 *
 * Trap it avoids: a host that quietly exits when it is idle. Signal listeners and a pending promise
 * do not keep the event loop running, so `weft run` (which has no listening socket) used to end
 * as soon as no run had a timer due, without closing its database, after saying "Ctrl-C to stop".
 */
export function untilStopSignal(): Promise<NodeJS.Signals> {
  const stopped = Promise.withResolvers<NodeJS.Signals>();
  const keepAlive = setInterval(() => undefined, KEEP_ALIVE_MS);
  const stop = (signal: NodeJS.Signals): void => {
    clearInterval(keepAlive);
    stopped.resolve(signal);
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
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
