#!/usr/bin/env bun
/**
 * The `weft` command line, the composition root that picks the SQLite adapter.
 *
 * `weft serve` runs the HTTP server (what `npm start` runs); `weft run` hosts the engine alone and
 * prints its events; `weft mcp` serves MCP on stdio. Both load the workflows a module exports, resume unfinished runs and close
 * gracefully on SIGINT/SIGTERM. `weft --version` prints the package's version.
 *
 * Exit codes: 0 done, 1 failed to start or run, 2 a command line (or environment) it cannot use —
 * an unknown command says so on stderr before the usage, so a typo never looks like help.
 */
import packageJson from '../../package.json' with { type: 'json' };
import { isUsageError } from './process-lifecycle.ts';
import { MCP_USAGE, mcpCommand } from './mcp-command.ts';
import { RUN_USAGE, runCommand } from './run-command.ts';
import { SERVE_USAGE, serveCommand } from './serve-command.ts';

const USAGE = `usage: weft <command> [options]
       weft --version

${SERVE_USAGE}

${RUN_USAGE}

${MCP_USAGE}`;

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  serve: serveCommand,
  run: runCommand,
  mcp: mcpCommand,
};

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
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command === undefined) {
    console.error(`weft: unknown ${name.startsWith('-') ? 'option' : 'command'} '${name}'\n\n${USAGE}`);
    return 2;
  }
  if (args.includes('--help') || args.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  return command(args);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`weft: ${error instanceof Error ? error.message : String(error)}`);
    if (isUsageError(error)) console.error(`\n${USAGE}`);
    process.exit(isUsageError(error) ? 2 : 1);
  },
);
