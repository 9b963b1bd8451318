#!/usr/bin/env bun
/**
 * The `weft` command line, the composition root that picks the SQLite adapter.
 *
 * `weft serve` runs the HTTP server (what `npm start` runs); `weft run` hosts the engine alone and
 * prints its events. Both load the workflows a module exports, resume unfinished runs and close
 * gracefully on SIGINT/SIGTERM.
 */
import { isUsageError } from './process-lifecycle.ts';
import { RUN_USAGE, runCommand } from './run-command.ts';
import { SERVE_USAGE, serveCommand } from './serve-command.ts';

const USAGE = `usage: weft <command> [options]

${SERVE_USAGE}

${RUN_USAGE}`;

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = { serve: serveCommand, run: runCommand };

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    console.log(USAGE);
    return 0;
  }
  const command = name === undefined ? undefined : COMMANDS[name];
  if (command === undefined || args.includes('--help') || args.includes('-h')) {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
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
