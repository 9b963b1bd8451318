/**
 * `weft show <id>`: one run — its state, input, result or error with its failure category, and
 * its search attributes — as aligned fields, or with `--json` the answers of the two routes it
 * reads: `{ "workflow": <GET /workflows/:id>, "attributes": <the attributes of GET …/attributes> }`.
 */
import { parseArgs } from 'node:util';
import { CONNECTION_OPTIONS } from './connection.ts';
import type { ClientCommand } from './client-command.ts';
import { ExitCode } from './exit-codes.ts';
import { positionals } from './flag-values.ts';
import { block, cut, fields, isoSeconds, oneLine, printable } from './terminal-text.ts';

export const showCommand: ClientCommand = {
  name: 'show',
  summary: "a run's state, input, result or error, and attributes",
  usage: `weft show <id> [--json] [--url <url> | --db <path>]`,
  async run(args, context) {
    const { values, positionals: given } = parseArgs({ args, options: CONNECTION_OPTIONS, allowPositionals: true });
    const [id] = positionals(given, ['<id>']) as [string];
    const { client } = await context.connect(values);
    const workflow = await client.getWorkflow({ id });
    const { attributes } = await client.getAttributes({ id });
    if (values.json) {
      context.out(JSON.stringify({ workflow, attributes }));
      return ExitCode.ok;
    }
    const lines: [string, string][] = [
      ['id', workflow.id],
      ['type', `${printable(workflow.type)}${workflow.version === null ? '' : ` (version ${workflow.version})`}`],
      ['status', workflow.status],
      ['created', isoSeconds(workflow.createdAt)],
      ['updated', isoSeconds(workflow.updatedAt)],
      ['deadline', isoSeconds(workflow.deadline)],
    ];
    if (workflow.idempotencyKey !== null) lines.push(['idempotency key', oneLine(workflow.idempotencyKey)]);
    const names = Object.keys(attributes).sort();
    lines.push([
      'attributes',
      names.length === 0 ? '-' : names.map((n) => `${printable(n)}=${attributeText(attributes[n])}`).join(' '),
    ]);
    lines.push(['input', 'input' in workflow ? block(workflow.input) : '-']);
    if (workflow.status === 'completed') lines.push(['result', 'result' in workflow ? block(workflow.result) : '-']);
    if (workflow.error !== undefined) {
      const { code, name, message, details } = workflow.error;
      lines.push(['error', `${printable(code ?? name)}: ${printable(message)}`]);
      if (details !== undefined) lines.push(['details', block(details)]);
    }
    if (workflow.failureCategory !== undefined) lines.push(['category', workflow.failureCategory]);
    context.out(fields(lines));
    return ExitCode.ok;
  },
};

/** A decimal, which `--attribute name=5` would read as a number. */
const DECIMAL = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?$/;

/** An attribute value as `weft list --attribute` takes it: a string quoted only where it would read as another type. */
function attributeText(value: string | number | boolean | undefined): string {
  if (typeof value !== 'string') return String(value);
  const ambiguous =
    value === 'true' || value === 'false' || DECIMAL.test(value) || value.startsWith('"') || /\s/.test(value);
  return ambiguous ? oneLine(value) : cut(printable(value));
}
