#!/usr/bin/env bun
/**
 * The `weft` command line, the composition root that picks the SQLite adapter.
 *
 * Two kinds of command. Hosts: `weft serve` runs the HTTP server (what `npm start` runs), `weft run`
 * hosts the engine alone and prints its events, `weft mcp` serves MCP on stdio; each loads the
 * workflows a module exports, resumes unfinished runs and closes gracefully on SIGINT/SIGTERM.
 * Clients (client-commands/): `list`, `show`, `result`, `start`, `signal`, `cancel`, `watch` and
 * `events` talk to a server, or read a database opened with `--db`. `weft --version` prints the
 * package's version.
 *
 * Exit codes: 0 done, 1 failed, 2 a command line (or environment) it cannot use — an unknown
 * command says so on stderr before the usage, so a typo never looks like help. The client commands
 * add 3 (not found), 4 (the run did not complete), 5 (not finished) and 130 (interrupted): see
 * docs/cli.md.
 */
import packageJson from '../../package.json' with { type: 'json' };
import { isUsageError } from './process-lifecycle.ts';
import { runClientCommand, type ClientCommand } from './client-commands/client-command.ts';
import { CLIENT_COMMANDS, CLIENT_OPTIONS_USAGE } from './client-commands/client-commands.ts';

interface HostCommand {
  summary: string;
  /** Imported when the command is used: a client command or `--version` need not load the server. */
  load: () => Promise<{ usage: string; run: (args: string[]) => Promise<number> }>;
}

const HOST_COMMANDS: Record<string, HostCommand> = {
  serve: {
    summary: 'serve the HTTP API on a SQLite file (npm start)',
    load: async () => {
      const { SERVE_USAGE, serveCommand } = await import('./serve-command.ts');
      return { usage: SERVE_USAGE, run: serveCommand };
    },
  },
  run: {
    summary: 'host the engine without a listener, printing its events',
    load: async () => {
      const { RUN_USAGE, runCommand } = await import('./run-command.ts');
      return { usage: RUN_USAGE, run: runCommand };
    },
  },
  mcp: {
    summary: 'serve MCP on stdin/stdout for a client that launches it',
    load: async () => {
      const { MCP_USAGE, mcpCommand } = await import('./mcp-command.ts');
      return { usage: MCP_USAGE, run: mcpCommand };
    },
  },
};
const CLIENTS = new Map(CLIENT_COMMANDS.map((command) => [command.name, command]));

const summaryLine = (name: string, summary: string): string => `  weft ${name.padEnd(7)} ${summary}`;

const USAGE = `usage: weft <command> [options]
       weft <command> --help      a command's options
       weft --version

Hosts (load a workflows module, open a SQLite database, run its workflows):
${Object.entries(HOST_COMMANDS)
  .map(([name, command]) => summaryLine(name, command.summary))
  .join('\n')}

Clients (ask a server: --url, else $WEFT_URL, else http://127.0.0.1:3000, key in $WEFT_API_KEY;
or read a database with --db; --json prints the API's JSON):
${CLIENT_COMMANDS.map((command) => summaryLine(command.name, command.summary)).join('\n')}`;

function clientUsage(command: ClientCommand): string {
  return `${command.usage}\n\n${CLIENT_OPTIONS_USAGE}`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    console.log(USAGE);
    return 0;
  }
  if (name === '--version' || name === '-v') {
    console.log(packageJson.version);
    return 0;
  }
  if (name === undefined) {
    console.log(USAGE);
    return 2;
  }
  const wantsHelp = args.includes('--help') || args.includes('-h');
  const client = CLIENTS.get(name);
  if (client !== undefined) {
    if (!wantsHelp) return runClientCommand(client, args, clientUsage(client));
    console.log(`usage: ${clientUsage(client)}`);
    return 0;
  }
  const hostCommand = Object.hasOwn(HOST_COMMANDS, name) ? HOST_COMMANDS[name] : undefined;
  if (hostCommand === undefined) {
    console.error(`weft: unknown ${name.startsWith('-') ? 'option' : 'command'} '${name}'\n\n${USAGE}`);
    return 2;
  }
  const host = await hostCommand.load();
  if (wantsHelp) {
    console.log(`usage: ${host.usage}`);
    return 0;
  }
  try {
    return await host.run(args);
  } catch (error) {
    console.error(`weft: ${error instanceof Error ? error.message : String(error)}`);
    if (!isUsageError(error)) return 1;
    console.error(`\nusage: ${host.usage}`);
    return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`weft: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
