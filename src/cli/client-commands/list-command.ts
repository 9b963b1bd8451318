/**
 * `weft list`: runs matching the REST list's filters, newest first, as a table (or with `--json`
 * the list route's answer as it came).
 */
import { parseArgs } from 'node:util';
import type { OperationInput } from '../../protocol/operation-spec.ts';
import type { listWorkflows } from '../../protocol/operations.ts';
import { CONNECTION_OPTIONS } from './connection.ts';
import type { ClientCommand } from './client-command.ts';
import { ExitCode } from './exit-codes.ts';
import { attributesFlag, dateFlag, integerFlag, listFlag, positionals } from './flag-values.ts';
import { cut, isoSeconds, plural, printable, table } from './terminal-text.ts';

const DATE_FLAGS = [
  ['created-after', 'createdAfter'],
  ['created-before', 'createdBefore'],
  ['updated-after', 'updatedAfter'],
  ['updated-before', 'updatedBefore'],
  ['deadline-after', 'deadlineAfter'],
  ['deadline-before', 'deadlineBefore'],
] as const;

export const listCommand: ClientCommand = {
  name: 'list',
  summary: 'list runs (filters as the REST list), newest first',
  usage: `weft list [--status <s>]... [--type <t>]... [--id-prefix <p>] [--attribute <name=value>]...
          [--failure-category <c>]... [--parent-id <id>] [--created-after <date>] [--created-before <date>]
          [--updated-after <date>] [--updated-before <date>] [--deadline-after <date>] [--deadline-before <date>]
          [--limit <n>] [--offset <n>] [--json] [--url <url> | --db <path>]

  --status, --failure-category  repeatable or comma-separated (--status failed,timed_out)
  --attribute                   name=value: true/false and decimals are typed, "5" quoted is a string
  dates                         2026-12-01, 2026-12-01T08:00:00Z, or a duration ago: 30m, 2h, 7d
  --limit                       runs per page, 1 to 1000 (the server's default: 50)`,
  async run(args, context) {
    const { values, positionals: rest } = parseArgs({
      args,
      options: {
        ...CONNECTION_OPTIONS,
        status: { type: 'string', multiple: true },
        type: { type: 'string', multiple: true },
        'id-prefix': { type: 'string' },
        attribute: { type: 'string', multiple: true },
        'failure-category': { type: 'string', multiple: true },
        'parent-id': { type: 'string' },
        ...Object.fromEntries(DATE_FLAGS.map(([flag]) => [flag, { type: 'string' } as const])),
        limit: { type: 'string' },
        offset: { type: 'string' },
      },
      allowPositionals: true,
    });
    positionals(rest, []);
    const flags = values as Record<string, unknown>;
    const attributes = attributesFlag(values.attribute);
    const filter = {
      status: listFlag(values.status),
      type: values.type,
      idPrefix: values['id-prefix'],
      failureCategory: listFlag(values['failure-category']),
      parentId: values['parent-id'],
      ...Object.fromEntries(
        DATE_FLAGS.map(([flag, field]) => [field, dateFlag(`--${flag}`, flags[flag] as string | undefined)]),
      ),
      ...(Object.keys(attributes).length === 0 ? {} : { attributes }),
      limit: integerFlag('--limit', values.limit, 1),
      offset: integerFlag('--offset', values.offset, 0),
      include: ['failureCategory' as const],
    } as OperationInput<typeof listWorkflows>;
    const { client } = await context.connect(values);
    const page = await client.listWorkflows(filter);
    if (values.json) {
      context.out(JSON.stringify(page));
      return ExitCode.ok;
    }
    if (page.items.length === 0) {
      context.note(page.offset === 0 ? 'weft: no runs match' : `weft: no runs past the first ${page.offset}`);
      return ExitCode.ok;
    }
    const rows = page.items.map((run) => [
      run.id,
      cut(printable(run.type), 32),
      run.status,
      run.failureCategory ?? '',
      isoSeconds(run.createdAt),
      isoSeconds(run.updatedAt),
    ]);
    context.out(table(['ID', 'TYPE', 'STATUS', 'FAILURE', 'CREATED', 'UPDATED'], rows));
    const shownTo = page.offset + page.items.length;
    const total = page.totalIsExact ? plural(page.total, 'run') : `at least ${page.total} runs`;
    const more = shownTo < page.total || !page.totalIsExact ? ` (--offset ${shownTo} for more)` : '';
    context.note(`weft: ${page.offset + 1}-${shownTo} of ${total}${more}`);
    return ExitCode.ok;
  },
};
