/**
 * The MCP tools of a Weft server: one per catalog operation (the same input schema, handler and
 * errors as REST and JSON-RPC), plus one `start_<workflow>` per registered workflow that declares
 * an input schema, so an agent sees typed arguments and the workflow's description.
 *
 * Traps it avoids:
 * - A failure that reads as a success. A tool that fails answers `isError: true` with the Weft error
 *   (code, message, details) as its text and in `_meta["weft/error"]`; never a result.
 * - Names an MCP client refuses. Tool names keep to letters, digits and `_` (the catalog's
 *   `weft.workflows.start` is `workflows_start`; a workflow named `order.v2` starts as `start_order_v2`).
 */
import { clip } from '../../core/clip.ts';
import type { Engine, WorkflowDefinitionInfo } from '../../engine/engine.ts';
import type { OperationSpec, Scope } from '../../protocol/operation-spec.ts';
import { toWireError } from '../../protocol/wire-errors.ts';
import { Accepted, catalog, type CatalogEntry, type OperationContext } from '../catalog.ts';
import { jsonSchemaOf, type JsonSchema } from '../discovery/json-schema.ts';
import { parseOperationInput } from '../operation-input.ts';
import { startWorkflow } from '../../protocol/operations.ts';

/** An MCP tool as `tools/list` describes it. */
export interface McpTool {
  name: string;
  title?: string;
  description: string;
  inputSchema: JsonSchema & { type: 'object' };
  outputSchema?: JsonSchema & { type: 'object' };
  annotations?: {
    readOnlyHint?: boolean;
    destructiveHint?: boolean;
    idempotentHint?: boolean;
    openWorldHint?: boolean;
  };
}

/** What a tool call answers (`tools/call` result). */
export interface McpToolResult {
  [key: string]: unknown;
  content: { type: 'text'; text: string }[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

/** Checks the caller may run an operation needing `scope` (throws `forbidden` or `rate_limited`). */
export type ToolAuthorize = (method: string, scope: Scope) => void;

/** The `_meta` key of a tool error's Weft error (`{ code, message, details? }`). */
export const ERROR_META_KEY = 'weft/error';

/** Prefix of the per-workflow start tools. */
export const START_TOOL_PREFIX = 'start_';

/** The tool name of a catalog operation: `weft.workflows.start` → `workflows_start`. */
export function toolNameOf(operation: string): string {
  return operation.replace(/^weft\./, '').replaceAll('.', '_');
}

/** The tool name of a workflow's start tool: letters, digits and `_` only. */
export function startToolNameOf(workflow: string): string {
  return `${START_TOOL_PREFIX}${workflow.replace(/[^A-Za-z0-9_]/g, '_')}`.slice(0, 128);
}

const catalogTools: ReadonlyMap<string, CatalogEntry> = new Map(
  [...catalog.values()].map((entry) => [toolNameOf(entry.spec.name), entry]),
);

/** Every tool: the catalog's, then a start tool per workflow that declares an input schema. */
export function listTools(workflows: readonly WorkflowDefinitionInfo[]): McpTool[] {
  const tools = [...catalogTools.entries()].map(([name, entry]) => catalogTool(name, entry.spec));
  for (const workflow of workflows) {
    if (workflow.inputSchema === null) continue;
    tools.push(startTool(workflow));
  }
  return tools;
}

/**
 * Runs tool `name` with `args`. Every failure — unknown tool, invalid arguments, a refusal, an
 * engine error — is a tool error carrying the Weft code.
 */
export async function callTool(
  name: string,
  args: Record<string, unknown>,
  engine: Engine,
  context: OperationContext,
  authorize: ToolAuthorize,
): Promise<McpToolResult> {
  try {
    const entry = catalogTools.get(name);
    if (entry !== undefined) return success(await runOperation(entry, args, engine, context, authorize));
    if (name.startsWith(START_TOOL_PREFIX)) {
      const workflow = engine
        .listWorkflowDefinitions()
        .find((w) => startToolNameOf(w.name) === name && w.inputSchema !== null);
      if (workflow !== undefined) {
        const { input, ...options } = args;
        const startArgs = { ...options, type: workflow.name, ...(input === undefined ? {} : { input }) };
        return success(await runOperation(catalog.get(startWorkflow.name)!, startArgs, engine, context, authorize));
      }
    }
    return failure({ code: 'not_found', message: `No tool named '${clip(name)}'`, details: { tool: clip(name) } });
  } catch (error) {
    return failure(toWireError(error));
  }
}

async function runOperation(
  entry: CatalogEntry,
  args: Record<string, unknown>,
  engine: Engine,
  context: OperationContext,
  authorize: ToolAuthorize,
): Promise<unknown> {
  const { name, scope } = entry.spec;
  if (scope !== null) authorize(name, scope);
  const input = parseOperationInput(entry.spec, args);
  const output = await entry.handle(engine, input, context);
  return output instanceof Accepted ? (output.value as unknown) : output;
}

function catalogTool(name: string, spec: OperationSpec): McpTool {
  const readOnly = spec.rest.method === 'GET';
  const tool: McpTool = {
    name,
    title: spec.summary,
    description: [
      spec.summary,
      spec.description,
      `Weft operation ${spec.name}${spec.scope === null ? '' : `; needs scope ${spec.scope}`}.`,
    ]
      .filter((part) => part !== undefined && part !== '')
      .join('. '),
    inputSchema: objectSchema(jsonSchemaOf(spec.input, 'input', 'draft-2020-12')),
    annotations: {
      readOnlyHint: readOnly,
      ...(readOnly ? {} : { destructiveHint: spec.rest.method === 'DELETE' || spec.name.endsWith('.cancel') }),
      openWorldHint: false,
    },
  };
  const output = jsonSchemaOf(spec.output, 'output', 'draft-2020-12');
  if (output['type'] === 'object') tool.outputSchema = output as JsonSchema & { type: 'object' };
  return tool;
}

function startTool(workflow: WorkflowDefinitionInfo): McpTool {
  const start = jsonSchemaOf(startWorkflow.input, 'input', 'draft-2020-12');
  const { properties = {} } = start as { properties?: Record<string, JsonSchema> };
  const { type: _type, input: _input, ...options } = properties;
  const version = workflow.version === null ? '' : ` (version ${workflow.version})`;
  return {
    name: startToolNameOf(workflow.name),
    title: `Start ${workflow.name}`,
    description: `${workflow.description ?? `Starts a run of the workflow '${workflow.name}'`}${version}. Answers the new run's id.`,
    inputSchema: {
      type: 'object',
      properties: { input: workflow.inputSchema ?? {}, ...options },
      required: ['input'],
      additionalProperties: false,
    },
    annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: false },
  };
}

/** An operation's input schema as MCP wants it: always an object schema. */
function objectSchema(schema: JsonSchema): JsonSchema & { type: 'object' } {
  return { ...schema, type: 'object' };
}

function success(value: unknown): McpToolResult {
  const structured = value !== null && typeof value === 'object' && !Array.isArray(value);
  return {
    content: [{ type: 'text', text: JSON.stringify(value ?? null) }],
    ...(structured ? { structuredContent: value as Record<string, unknown> } : {}),
  };
}

/**
 * A tool error. The Weft error travels as JSON text (`{ "error": { code, message, details? } }`) and
 * in `_meta["weft/error"]` — not in `structuredContent`, which clients check against the tool's
 * output schema even on errors.
 */
function failure(error: { code: string; message: string; details?: Record<string, unknown> }): McpToolResult {
  return {
    isError: true,
    content: [{ type: 'text', text: JSON.stringify({ error }) }],
    _meta: { [ERROR_META_KEY]: error },
  };
}
