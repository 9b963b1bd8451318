/**
 * `weft signal <id> <name>`: delivers a signal (with `--payload`) to a run's inbox; says so on
 * stdout, or with `--json` prints the signal route's answer (`{ "ok": true }`).
 *
 * Not with `--db`: the payload is checked against the schema the run's workflow declares for the
 * signal, which only a process that loaded the workflows (a server) can do; a signal stored
 * unchecked could fail the run later. Serve the database and signal through `--url`.
 */
import { parseArgs } from 'node:util';
import { CONNECTION_OPTIONS, refuseDirect } from './connection.ts';
import type { ClientCommand } from './client-command.ts';
import { ExitCode } from './exit-codes.ts';
import { jsonFlag, positionals } from './flag-values.ts';
import { printable } from './terminal-text.ts';

export const signalCommand: ClientCommand = {
  name: 'signal',
  summary: 'send a signal to a run',
  usage: `weft signal <id> <name> [--payload <json>] [--json] [--url <url>]

  --payload  the signal's payload as JSON, e.g. '{"approved":true}'`,
  async run(args, context) {
    const { values, positionals: given } = parseArgs({
      args,
      options: { ...CONNECTION_OPTIONS, payload: { type: 'string' } },
      allowPositionals: true,
    });
    const [id, name] = positionals(given, ['<id>', '<name>']) as [string, string];
    refuseDirect(
      values.db,
      'signal',
      "its payload is checked against the schema the run's workflow declares, which only a host that loaded the workflows can do",
    );
    const payload = values.payload === undefined ? undefined : jsonFlag('--payload', values.payload);
    const { client } = await context.connect(values);
    const answer = await client.signalWorkflow({ id, name, ...(values.payload === undefined ? {} : { payload }) });
    context.out(values.json ? JSON.stringify(answer) : `signal '${printable(name)}' sent to ${printable(id)}`);
    return ExitCode.ok;
  },
};
