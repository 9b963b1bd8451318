/**
 * `weft start <type>`: starts a run and prints its id (or with `--json` the start route's answer,
 * `{ "id": … }`), so `id=$(npx weft start order --input '{…}')` works in a script.
 *
 * Not with `--db`: starting a run executes its workflow, which would then run in this short-lived
 * process and stop with it. A server (`weft serve --db <path>`) is where runs execute.
 */
import { parseArgs } from 'node:util';
import { CONNECTION_OPTIONS, refuseDirect } from './connection.ts';
import type { ClientCommand } from './client-command.ts';
import { ExitCode } from './exit-codes.ts';
import { jsonFlag, positionals } from './flag-values.ts';

export const startCommand: ClientCommand = {
  name: 'start',
  summary: 'start a run and print its id',
  usage: `weft start <type> [--input <json>] [--id <id>] [--idempotency-key <key>] [--execution-timeout <duration>]
           [--json] [--url <url>]

  --input              the run's input as JSON, e.g. '{"sku":"book"}' (a string is quoted: '"text"')
  --id                 the run's id (default: generated); a taken id fails with workflow_already_exists
  --idempotency-key    a second start with the same key answers the first run's id
  --execution-timeout  how long the run may take, e.g. 30s, 2h, 7d`,
  async run(args, context) {
    const { values, positionals: given } = parseArgs({
      args,
      options: {
        ...CONNECTION_OPTIONS,
        input: { type: 'string' },
        id: { type: 'string' },
        'idempotency-key': { type: 'string' },
        'execution-timeout': { type: 'string' },
      },
      allowPositionals: true,
    });
    const [type] = positionals(given, ['<type>']) as [string];
    refuseDirect(values.db, 'start', 'a run executes in the process that starts it, and this one ends at once');
    const input = values.input === undefined ? undefined : jsonFlag('--input', values.input);
    const { client } = await context.connect(values);
    const answer = await client.startWorkflow({
      type,
      ...(values.input === undefined ? {} : { input }),
      ...(values.id === undefined ? {} : { id: values.id }),
      ...(values['idempotency-key'] === undefined ? {} : { idempotencyKey: values['idempotency-key'] }),
      ...(values['execution-timeout'] === undefined ? {} : { executionTimeout: values['execution-timeout'] }),
    });
    context.out(values.json ? JSON.stringify(answer) : answer.id);
    return ExitCode.ok;
  },
};
