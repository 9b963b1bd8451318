/**
 * `weft cancel <id>`: cancels a run and keeps its record. The route answers 204 with no body, so
 * `--json` prints `null`.
 *
 * With `--db` too: cancelling an unfinished run is a write of its new status, its timers and its
 * children's cancellation, which needs none of the workflow's code; the next server to open the
 * database finds the run cancelled.
 */
import { parseArgs } from 'node:util';
import { CONNECTION_OPTIONS } from './connection.ts';
import type { ClientCommand } from './client-command.ts';
import { ExitCode } from './exit-codes.ts';
import { positionals } from './flag-values.ts';
import { printable } from './terminal-text.ts';

export const cancelCommand: ClientCommand = {
  name: 'cancel',
  summary: 'cancel a run (its record is kept)',
  usage: `weft cancel <id> [--json] [--url <url> | --db <path>]`,
  async run(args, context) {
    const { values, positionals: given } = parseArgs({ args, options: CONNECTION_OPTIONS, allowPositionals: true });
    const [id] = positionals(given, ['<id>']) as [string];
    const { client } = await context.connect(values);
    const answer = await client.cancelWorkflow({ id });
    context.out(values.json ? JSON.stringify(answer) : `cancelled ${printable(id)}`);
    return ExitCode.ok;
  },
};
