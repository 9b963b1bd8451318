#!/usr/bin/env bun
/**
 * The `weft-mcp` bin: `weft mcp` under a name a desktop MCP client configuration can launch
 * directly (`"command": "weft-mcp"`). Same options, same exit codes.
 */
import { isUsageError } from './process-lifecycle.ts';
import { MCP_USAGE, mcpCommand } from './mcp-command.ts';

mcpCommand(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`weft-mcp: ${error instanceof Error ? error.message : String(error)}`);
    if (isUsageError(error)) console.error(`\n${MCP_USAGE}`);
    process.exit(isUsageError(error) ? 2 : 1);
  },
);
