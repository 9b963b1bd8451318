/**
 * Reading MCP tool results in tests (not part of the package): the result shape the SDK client
 * returns, and the Weft error of a tool error, checked to be the same in its text and its `_meta`.
 */
import { expect } from 'bun:test';
import { ERROR_META_KEY } from './mcp-tools.ts';

/** A `tools/call` result as the SDK client hands it back. */
export interface ToolText {
  content: { type: string; text: string }[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
  _meta?: Record<string, unknown>;
}

/**
 * The Weft error of a tool error (`undefined` for a success).
 *
 * @example
 * expect(weftError(await client.callTool(call) as ToolText)?.code).toBe('workflow_not_found');
 */
export function weftError(result: ToolText): { code: string; message: string } | undefined {
  if (result.isError !== true) return undefined;
  const fromText = (JSON.parse(result.content[0]!.text) as { error: { code: string; message: string } }).error;
  expect(result._meta?.[ERROR_META_KEY]).toEqual(fromText);
  return fromText;
}
