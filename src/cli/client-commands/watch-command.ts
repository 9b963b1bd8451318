/**
 * `weft watch <id>`: the run's state changes as they happen, one line each (or with `--json` each
 * frame of the watch feed as a JSON line), from its first retained change until it ends. Exits 0
 * when the run completed, 4 when it failed, was cancelled or timed out, 130 when stopped first.
 *
 * The feed is `HttpClient.watch`, which reconnects and resumes by itself (a server restart loses
 * no frame and repeats none); the run is looked up first, so an unknown id or an unreachable
 * server fails at once instead of being retried.
 */
import { parseArgs } from 'node:util';
import type { WatchFrame } from '../../protocol/realtime.ts';
import { CONNECTION_OPTIONS, NOTHING_RUNS, refuseDirect } from './connection.ts';
import type { ClientCommand } from './client-command.ts';
import { ExitCode } from './exit-codes.ts';
import { integerFlag, positionals } from './flag-values.ts';
import { isoSeconds, oneLine, printable } from './terminal-text.ts';

/** The widest status, `suspended` / `timed_out`, so the event types line up. */
const STATUS_WIDTH = 9;

export const watchCommand: ClientCommand = {
  name: 'watch',
  summary: "a run's state changes, live, until it ends",
  usage: `weft watch <id> [--after <seq>] [--json] [--url <url>]

  --after  start after this frame's seq (default: from the first)
  Exits 0 when the run completed, 4 when it ended otherwise, 130 on Ctrl-C.`,
  async run(args, context) {
    const { values, positionals: given } = parseArgs({
      args,
      options: { ...CONNECTION_OPTIONS, after: { type: 'string' } },
      allowPositionals: true,
    });
    const [id] = positionals(given, ['<id>']) as [string];
    refuseDirect(values.db, 'watch', NOTHING_RUNS);
    const after = integerFlag('--after', values.after, -1);
    const { client } = await context.connect(values);
    const state = await client.getWorkflow({ id });
    const signal = context.stopSignal();
    context.note(`weft: watching ${printable(id)} (${printable(state.type)}, ${state.status}); Ctrl-C to stop`);
    let last: WatchFrame | undefined;
    for await (const frame of client.watch(id, { signal, ...(after === undefined ? {} : { after }) })) {
      context.out(values.json ? JSON.stringify(frame) : watchLine(frame));
      last = frame;
    }
    if (signal.aborted) return ExitCode.interrupted;
    return (last?.status ?? state.status) === 'completed' ? ExitCode.ok : ExitCode.runDidNotComplete;
  },
};

/** `2026-12-08T01:45:03Z  #2  suspended  workflow:suspended  {…}`. */
function watchLine(frame: WatchFrame): string {
  const data = Object.keys(frame.data).length === 0 ? '' : `  ${oneLine(frame.data)}`;
  return `${isoSeconds(frame.timestamp)}  #${frame.seq}  ${frame.status.padEnd(STATUS_WIDTH)}  ${printable(frame.type)}${data}`;
}
