/**
 * What every client command shares: its usage text, the connection it opens (closed whatever
 * happens), the stop signal of SIGINT/SIGTERM for the commands that wait, and how a failure is
 * reported — one `weft: <code>: <message>` line on stderr, the command's usage after a usage error,
 * a hint after a refusal for want of a key — and turned into the exit code (exit-codes.ts).
 *
 * Trap it avoids: stdout mixed with messages. stdout carries the answer only (a table, a value, or
 * with `--json` the API's JSON), so it can be piped; progress and failures go to stderr.
 */
import { WeftError } from '../../core/errors.ts';
import { API_KEY_ENV, connect, type ConnectOptions, type Connection } from './connection.ts';
import { CliError, exitCodeOf, ExitCode, failureLine, usageError } from './exit-codes.ts';

/** What a command may do besides its own work. */
export interface CommandContext {
  /** Writes a line of the answer on stdout. */
  out(line: string): void;
  /** Writes a progress or diagnostic line on stderr. */
  note(line: string): void;
  /** Opens the connection the flags name; closed when the command ends. */
  connect(options: ConnectOptions): Promise<Connection>;
  /** Aborted by the first SIGINT or SIGTERM (listening starts at the first call). */
  stopSignal(): AbortSignal;
}

/** One `weft <name>` command that talks to a server or a database. */
export interface ClientCommand {
  name: string;
  /** One line for `weft --help`. */
  summary: string;
  /** The command's full usage, printed by `weft <name> --help` and after a usage error. */
  usage: string;
  run(args: string[], context: CommandContext): Promise<number>;
}

/**
 * Runs `command` with `args` and returns its exit code; never throws. `usage` is printed after a
 * usage error (default: the command's own).
 *
 * @example
 * process.exit(await runClientCommand(listCommand, ['--status', 'failed']));
 */
export async function runClientCommand(command: ClientCommand, args: string[], usage = command.usage): Promise<number> {
  const connections: Connection[] = [];
  let stop: AbortController | undefined;
  const onSignal = (): void => stop?.abort();
  const context: CommandContext = {
    out: (line) => void process.stdout.write(`${line}\n`),
    note: (line) => void process.stderr.write(`${line}\n`),
    connect: async (options) => {
      const connection = await connect(options);
      connections.push(connection);
      return connection;
    },
    stopSignal: () => {
      if (stop === undefined) {
        stop = new AbortController();
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
      }
      return stop.signal;
    },
  };
  try {
    refuseKeyFlag(args);
    return await command.run(args, context);
  } catch (error) {
    const code = exitCodeOf(error);
    context.note(failureLine(error));
    if (error instanceof WeftError && error.code === 'unauthenticated' && !connections.some((c) => c.withKey)) {
      context.note(`weft: the server needs an API key: set ${API_KEY_ENV}`);
    }
    const ofCommandLine =
      (error instanceof CliError && error.code === 'usage') ||
      !(error instanceof WeftError || error instanceof CliError);
    if (code === ExitCode.usage && ofCommandLine) context.note(`\nusage: ${usage}`);
    return code;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    for (const connection of connections) {
      await connection.close().catch((error: unknown) => context.note(failureLine(error)));
    }
  }
}

/** A key given as a flag is refused by name (and never echoed): a process listing would show it. */
function refuseKeyFlag(args: readonly string[]): void {
  const flag = args.find((arg) => /^--(?:api-key|key|token)(?:=|$)/.test(arg));
  if (flag === undefined) return;
  throw usageError(
    `${flag.replace(/=.*$/, '')}: an API key is never a flag (process listings show flags); set ${API_KEY_ENV}`,
  );
}
