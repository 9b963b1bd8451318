/**
 * How a client command ends: its exit code, and the one line it prints on stderr when it fails,
 * `weft: <code>: <message>`. The codes are a contract for scripts (docs/cli.md lists them): add new
 * ones, never renumber.
 *
 * Trap it avoids: a script that cannot tell "no such run" from "the server is down". The exit code
 * comes from the error's `code` and HTTP status, never from its message, so the same failure
 * exits the same way whether it came over HTTP or from a database opened with `--db`.
 */
import { WeftError } from '../../core/errors.ts';

/** Exit codes of the client commands. */
export const ExitCode = {
  /** Done. */
  ok: 0,
  /** The request failed: the server unreachable or refusing (auth, conflict, overload), or an internal error. */
  failed: 1,
  /** The command line is wrong, or the server refused the request as invalid (HTTP 400). */
  usage: 2,
  /** The run (or the database given with `--db`) does not exist. */
  notFound: 3,
  /** The run ended other than completed: failed, cancelled or timed out (`result`, `watch`). */
  runDidNotComplete: 4,
  /** The run has not finished yet (`result` without `--wait`). */
  notFinished: 5,
  /** SIGINT or SIGTERM stopped `watch` or `result --wait` before the run ended (128 + SIGINT's 2). */
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The codes with which the result route reports a run that ended other than completed. */
const RUN_ENDED_CODES: ReadonlySet<string> = new Set(['workflow_failed', 'workflow_cancelled', 'workflow_timed_out']);

/**
 * A failure the CLI itself detected, with the code it prints and the exit code it ends with.
 *
 * @example
 * throw new CliError('usage', "--input is not JSON: Unexpected token 'x'", ExitCode.usage);
 */
export class CliError extends Error {
  readonly code: string;
  readonly exitCode: ExitCode;

  constructor(code: string, message: string, exitCode: ExitCode) {
    super(message);
    this.code = code;
    this.exitCode = exitCode;
  }
}

/**
 * A command line the command cannot use (exit 2), printed as `weft: usage: <message>`.
 *
 * @example
 * throw usageError("'--limit' must be an integer, not 'ten'");
 */
export function usageError(message: string): CliError {
  return new CliError('usage', message, ExitCode.usage);
}

/** The exit code of any failure a command met. */
export function exitCodeOf(error: unknown): ExitCode {
  if (error instanceof CliError) return error.exitCode;
  if (isParseArgsError(error)) return ExitCode.usage;
  if (!(error instanceof WeftError)) return ExitCode.failed;
  if (RUN_ENDED_CODES.has(error.code)) return ExitCode.runDidNotComplete;
  const status = error.details?.status;
  if (status === 404) return ExitCode.notFound;
  if (status === 400) return ExitCode.usage;
  return ExitCode.failed;
}

/** The stderr line of a failure: `weft: <code>: <message>`. */
export function failureLine(error: unknown): string {
  if (error instanceof CliError || error instanceof WeftError) return `weft: ${error.code}: ${error.message}`;
  if (isParseArgsError(error)) return `weft: usage: ${error.message}`;
  return `weft: error: ${error instanceof Error ? error.message : String(error)}`;
}

function isParseArgsError(error: unknown): error is Error {
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof Error && typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}
