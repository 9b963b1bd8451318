/**
 * `weft result <id> [--wait]`: a finished run's result — the value as indented JSON, or with
 * `--json` the result route's answer (`{ "result": … }`). A run that failed, was cancelled or timed
 * out exits 4 with its error (with `--json`, also the route's error body on stdout); an unfinished
 * one exits 5, unless `--wait` waits for it.
 *
 * `--wait` repeats the result route's long-poll (each waits up to the server's 30 s) until the run
 * ends, saying on stderr what it waits for and, after each poll, how long it has waited and in
 * which status the run is. A connection lost meanwhile (a server restarting) is retried.
 */
import { parseArgs } from 'node:util';
import { WeftError } from '../../core/errors.ts';
import type { HttpClient } from '../../client/http-client.ts';
import { CONNECTION_OPTIONS, NOTHING_RUNS, refuseDirect } from './connection.ts';
import type { ClientCommand, CommandContext } from './client-command.ts';
import { CliError, ExitCode } from './exit-codes.ts';
import { positionals } from './flag-values.ts';
import { elapsed, printable } from './terminal-text.ts';

const FINISHED: ReadonlySet<string> = new Set(['completed', 'failed', 'cancelled', 'timed_out']);
/** The codes with which the result route says the run ended other than completed. */
const RUN_ENDED: ReadonlySet<string> = new Set(['workflow_failed', 'workflow_cancelled', 'workflow_timed_out']);
const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 10_000;

export const resultCommand: ClientCommand = {
  name: 'result',
  summary: "a run's result (--wait: wait until it ends)",
  usage: `weft result <id> [--wait] [--json] [--url <url> | --db <path>]

  --wait  wait until the run ends (progress on stderr; Ctrl-C stops waiting, exit 130)`,
  async run(args, context) {
    const { values, positionals: given } = parseArgs({
      args,
      options: { ...CONNECTION_OPTIONS, wait: { type: 'boolean', default: false } },
      allowPositionals: true,
    });
    const [id] = positionals(given, ['<id>']) as [string];
    if (values.wait) refuseDirect(values.db, '--wait', NOTHING_RUNS);
    const { client } = await context.connect(values);
    const state = await client.getWorkflow({ id });
    if (!FINISHED.has(state.status)) {
      if (!values.wait) {
        throw new CliError(
          'not_finished',
          `run '${printable(id)}' is ${state.status}: it has no result yet (--wait waits for it)`,
          ExitCode.notFinished,
        );
      }
      context.note(`weft: waiting for ${printable(id)} (${printable(state.type)}, ${state.status}); Ctrl-C to stop`);
    }
    let answer: { result?: unknown };
    try {
      const waited = await resultOf(client, id, context, values.wait ? context.stopSignal() : undefined);
      if (waited === undefined) return ExitCode.interrupted;
      answer = waited;
    } catch (error) {
      if (values.json && error instanceof WeftError && RUN_ENDED.has(error.code)) {
        context.out(JSON.stringify({ error: wireBody(error) }));
      }
      throw error;
    }
    if (values.json) context.out(JSON.stringify(answer));
    else if ('result' in answer) context.out(JSON.stringify(answer.result, null, 2));
    return ExitCode.ok;
  },
};

/**
 * The run's result. Without a stop signal, one call; with one (`--wait`), long-poll after long-poll
 * until the run ends, and `undefined` once the signal stops the wait.
 */
async function resultOf(
  client: HttpClient,
  id: string,
  context: CommandContext,
  signal: AbortSignal | undefined,
): Promise<{ result?: unknown } | undefined> {
  if (signal === undefined) return client.workflowResult({ id });
  const started = Date.now();
  let retryMs = RETRY_FIRST_MS;
  while (!signal.aborted) {
    try {
      return await client.workflowResult({ id }, { signal });
    } catch (error) {
      if (signal.aborted) break;
      if (error instanceof WeftError && error.code === 'result_timeout') {
        const status = await client.getWorkflow({ id }, { signal }).then(
          (state) => state.status,
          (failure: unknown) => {
            if (signal.aborted) return undefined;
            throw failure;
          },
        );
        if (status !== undefined) {
          context.note(`weft: ${printable(id)} still ${status} after ${elapsed(Date.now() - started)}`);
        }
        retryMs = RETRY_FIRST_MS;
      } else if (error instanceof CliError && error.code === 'unreachable') {
        context.note(`weft: ${error.code}: ${error.message}; trying again in ${Math.ceil(retryMs / 1000)}s`);
        await pause(retryMs, signal);
        retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
      } else {
        throw error;
      }
    }
  }
  return undefined;
}

/** The wire form of an error read back by the client: `details.status` is the HTTP status the client added. */
function wireBody(error: WeftError): { code: string; message: string; details?: Record<string, unknown> } {
  const { status: _httpStatus, ...details } = error.details ?? {};
  return { code: error.code, message: error.message, ...(Object.keys(details).length === 0 ? {} : { details }) };
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
