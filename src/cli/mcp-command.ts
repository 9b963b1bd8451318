/**
 * `weft mcp` (also the `weft-mcp` bin): the engine behind an MCP server on stdin/stdout, so a
 * desktop MCP client can launch it. It opens the database, registers the workflows of a module,
 * resumes unfinished runs, and serves the same tools and resources as `/api/mcp` until stdin
 * closes or SIGINT/SIGTERM, then closes gracefully.
 *
 * stdio is a local principal: whoever can start the process can already open its database, so
 * every tool is allowed and nothing is authenticated (docs/mcp.md).
 *
 * Trap it avoids: a corrupted protocol stream. stdout carries the MCP messages and nothing else;
 * every log line goes to stderr.
 */
import { parseArgs } from 'node:util';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { DEFAULT_RESULT_TIMEOUT_MS } from '../server/handler-options.ts';
import { createMcpServer } from '../server/mcp/mcp-server.ts';
import { loadWorkflows } from './load-workflows.ts';
import { openEngine } from './open-engine.ts';
import { DEFAULT_WORKFLOWS, databasePath, untilStopSignal } from './process-lifecycle.ts';

export const MCP_USAGE = `weft mcp [--workflows <module>] [--db <path>]     (also: weft-mcp)

  --workflows  module whose exported workflow() definitions are registered (default: ${DEFAULT_WORKFLOWS})
  --db         SQLite database file (default: $WEFT_DB or ./weft.db)

  Serves MCP over stdin/stdout for a client that launches it; logs go to stderr.`;

export async function mcpCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { workflows: { type: 'string', default: DEFAULT_WORKFLOWS }, db: { type: 'string' } },
  });
  const stopped = untilStopSignal();
  const dbPath = databasePath(values.db);
  const workflows = await loadWorkflows(values.workflows);
  const { engine, storage } = await openEngine(dbPath, workflows);
  const server = createMcpServer(engine, {
    context: { resultTimeoutMs: DEFAULT_RESULT_TIMEOUT_MS, keepOpen: () => undefined },
    authorize: () => undefined,
  });
  const closed = new Promise<void>((resolve) => (server.onclose = resolve));
  await server.connect(new StdioServerTransport());
  process.stdin.once('end', () => void server.close());
  console.error(
    `weft: MCP server on stdio, engine on ${dbPath} with workflows ${workflows.map((w) => w.name).join(', ')}`,
  );
  await Promise.race([stopped, closed]);
  await server.close();
  await engine.close();
  await storage.close();
  return 0;
}
