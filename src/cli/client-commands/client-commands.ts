/**
 * The client commands by name, in the order `weft --help` lists them, and the options they share.
 */
import { cancelCommand } from './cancel-command.ts';
import type { ClientCommand } from './client-command.ts';
import { API_KEY_ENV, DEFAULT_URL, URL_ENV } from './connection.ts';
import { eventsCommand } from './events-command.ts';
import { listCommand } from './list-command.ts';
import { resultCommand } from './result-command.ts';
import { showCommand } from './show-command.ts';
import { signalCommand } from './signal-command.ts';
import { startCommand } from './start-command.ts';
import { watchCommand } from './watch-command.ts';

export const CLIENT_COMMANDS: readonly ClientCommand[] = [
  listCommand,
  showCommand,
  resultCommand,
  startCommand,
  signalCommand,
  cancelCommand,
  watchCommand,
  eventsCommand,
];

/** What every client command's usage ends with. */
export const CLIENT_OPTIONS_USAGE = `  --url <url>   the server (default: $${URL_ENV}, else ${DEFAULT_URL}); its API key comes from $${API_KEY_ENV}
  --db <path>   open this SQLite database here instead of asking a server (not while a server holds it)
  --json        print the API's JSON instead of text`;
