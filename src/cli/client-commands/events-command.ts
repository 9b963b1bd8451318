/**
 * `weft events`: the fleet event log — a page of it as a table (or with `--json` the events
 * route's answer), or with `--follow` every event as it happens, one line each (with `--json`
 * each event as a JSON line), until Ctrl-C or SIGTERM (exit 0).
 *
 * `--follow` without `--after` starts at the live tail, as `HttpClient.events` does; with `--after`
 * it first replays what followed that seq (the server replays at most 1,000: page older events
 * without `--follow`).
 */
import { parseArgs } from 'node:util';
import type { EventFrame } from '../../protocol/realtime.ts';
import { CONNECTION_OPTIONS, NOTHING_RUNS, refuseDirect } from './connection.ts';
import type { ClientCommand } from './client-command.ts';
import { ExitCode, usageError } from './exit-codes.ts';
import { integerFlag, positionals } from './flag-values.ts';
import { isoSeconds, oneLine, printable, table } from './terminal-text.ts';

/** Wide enough for most event types (`activity:completed`), so a followed stream lines up. */
const TYPE_WIDTH = 20;

export const eventsCommand: ClientCommand = {
  name: 'events',
  summary: 'the fleet event log (--follow: live)',
  usage: `weft events [--after <seq>] [--limit <n>] [--follow] [--json] [--url <url> | --db <path>]

  --after   events after this seq (default: the oldest retained; with --follow, from now)
  --limit   events in the page, 1 to 1000 (not with --follow)
  --follow  keep printing events as they happen, until Ctrl-C`,
  async run(args, context) {
    const { values, positionals: given } = parseArgs({
      args,
      options: {
        ...CONNECTION_OPTIONS,
        after: { type: 'string' },
        limit: { type: 'string' },
        follow: { type: 'boolean', default: false },
      },
      allowPositionals: true,
    });
    positionals(given, []);
    const after = integerFlag('--after', values.after, -1);
    const limit = integerFlag('--limit', values.limit, 1);
    if (values.follow) {
      if (limit !== undefined) throw usageError('--limit sets the size of one page: --follow has no end');
      refuseDirect(values.db, '--follow', NOTHING_RUNS);
    }
    const { client } = await context.connect(values);
    if (values.follow) {
      const signal = context.stopSignal();
      const from = after === undefined ? 'from now' : `after seq ${after}`;
      context.note(`weft: following events ${from}; Ctrl-C to stop`);
      for await (const event of client.events({ signal, ...(after === undefined ? {} : { after }) })) {
        context.out(values.json ? JSON.stringify(event) : eventCells(event).join('  ').trimEnd());
      }
      return ExitCode.ok;
    }
    const page = await client.listEvents({
      ...(after === undefined ? {} : { after }),
      ...(limit === undefined ? {} : { limit }),
    });
    if (values.json) {
      context.out(JSON.stringify(page));
      return ExitCode.ok;
    }
    const lastSeq = page.items.at(-1)?.seq;
    if (lastSeq === undefined) {
      context.note(after === undefined ? 'weft: no events' : `weft: no events after seq ${after}`);
      return ExitCode.ok;
    }
    const rows = page.items.map((event) => eventCells(event).map((cell) => cell.trimEnd()));
    context.out(table(['SEQ', 'TIME', 'TYPE', 'WORKFLOW', 'DATA'], rows));
    context.note(`weft: next page: --after ${lastSeq}`);
    return ExitCode.ok;
  },
};

/** seq, time, type, run id, data: the cells of a table row, the type padded for a followed stream. */
function eventCells(event: EventFrame): string[] {
  const data = Object.keys(event.data).length === 0 ? '' : oneLine(event.data);
  return [
    String(event.seq),
    isoSeconds(event.timestamp),
    printable(event.type).padEnd(TYPE_WIDTH),
    event.workflowId === null ? '-' : printable(event.workflowId),
    data,
  ];
}
