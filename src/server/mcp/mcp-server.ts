/**
 * One MCP server (the SDK's low-level `Server`) over an engine: the tools of mcp-tools.ts, and each
 * run as a resource (`weft://workflows/{id}`, its state as JSON) that a client can subscribe to —
 * `notifications/resources/updated` follows every change of the run, read from its durable watch
 * log, until the run ended or the client unsubscribed.
 *
 * One is made per MCP session (HTTP) or per process (stdio); `close()` ends its subscriptions.
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import packageJson from '../../../package.json' with { type: 'json' };
import type { Engine } from '../../engine/engine.ts';
import { Scope } from '../../protocol/operation-spec.ts';
import type { OperationContext } from '../catalog.ts';
import { callTool, listTools, type ToolAuthorize } from './mcp-tools.ts';

/** URI scheme of a run as an MCP resource. */
export const RUN_URI_PREFIX = 'weft://workflows/';
/** Runs `resources/list` names (the newest); any other is read by its URI. */
const LISTED_RUNS = 50;

/** What an MCP server runs with. */
export interface McpServerOptions {
  /** The operation context of tool calls, without the per-call `signal`. */
  context: Omit<OperationContext, 'signal'>;
  /**
   * Checks a call needing `scope`: throws `ForbiddenError` (or `RateLimitedError`). `extra` is
   * the SDK's request context, whose `authInfo` carries who is calling over HTTP.
   */
  authorize: (method: string, scope: Scope, authInfo: unknown) => void;
}

/**
 * Builds an MCP server over `engine`; connect it to a transport.
 *
 * @example
 * const server = createMcpServer(engine, { context, authorize: () => undefined });
 * await server.connect(new StdioServerTransport());
 */
export function createMcpServer(engine: Engine, options: McpServerOptions): Server {
  const server = new Server(
    { name: 'weft', version: packageJson.version, title: 'Weft durable workflows' },
    {
      capabilities: { tools: { listChanged: false }, resources: { subscribe: true, listChanged: false } },
      instructions:
        'Weft runs durable workflows. Start one with a start_<workflow> tool (typed input) or workflows_start, ' +
        'follow it with workflows_get or by subscribing to its resource weft://workflows/{id}, send it signals ' +
        'with workflows_signal, and read its outcome with workflows_result. Errors carry a Weft code.',
    },
  );
  const subscriptions = new Map<string, AbortController>();
  const authorizeWith =
    (authInfo: unknown): ToolAuthorize =>
    (method, scope) =>
      options.authorize(method, scope, authInfo);

  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: listTools(engine.listWorkflowDefinitions()) }));

  server.setRequestHandler(CallToolRequestSchema, (request, extra) =>
    callTool(
      request.params.name,
      request.params.arguments ?? {},
      engine,
      { ...options.context, signal: extra.signal },
      authorizeWith(extra.authInfo),
    ),
  );

  server.setRequestHandler(ListResourceTemplatesRequestSchema, () => ({
    resourceTemplates: [
      {
        uriTemplate: `${RUN_URI_PREFIX}{id}`,
        name: 'workflow-run',
        title: 'A workflow run',
        description: "A run's state (status, input, result or error); subscribe to hear of every change",
        mimeType: 'application/json',
      },
    ],
  }));

  server.setRequestHandler(ListResourcesRequestSchema, async (_request, extra) => {
    options.authorize('weft.workflows.list', Scope.workflowsRead, extra.authInfo);
    const { items } = await engine.list({ limit: LISTED_RUNS });
    return {
      resources: items.map((run) => ({
        uri: `${RUN_URI_PREFIX}${encodeURIComponent(run.id)}`,
        name: run.id,
        title: `${run.type} ${run.id} (${run.status})`,
        mimeType: 'application/json',
      })),
    };
  });

  server.setRequestHandler(ReadResourceRequestSchema, async (request, extra) => {
    options.authorize('weft.workflows.get', Scope.workflowsRead, extra.authInfo);
    const id = runIdOf(request.params.uri);
    const state = await engine.get(id);
    if (state === undefined)
      throw new McpError(ErrorCode.InvalidParams, `No workflow with id '${id}'`, { code: 'workflow_not_found' });
    return { contents: [{ uri: request.params.uri, mimeType: 'application/json', text: JSON.stringify(state) }] };
  });

  server.setRequestHandler(SubscribeRequestSchema, async (request, extra) => {
    options.authorize('weft.workflows.subscribe', Scope.eventsRead, extra.authInfo);
    const uri = request.params.uri;
    const id = runIdOf(uri);
    if (subscriptions.has(uri)) return {};
    const abort = new AbortController();
    let frames: AsyncIterable<unknown>;
    try {
      // From its current tail: a subscriber hears of changes after it subscribed, then reads the state.
      frames = await engine.watch(id, { after: Number.MAX_SAFE_INTEGER, signal: abort.signal });
    } catch (error) {
      throw new McpError(ErrorCode.InvalidParams, error instanceof Error ? error.message : String(error));
    }
    subscriptions.set(uri, abort);
    void (async () => {
      try {
        for await (const _frame of frames) await server.sendResourceUpdated({ uri });
      } catch {
        // The session closed under the subscription; nothing to tell.
      } finally {
        if (subscriptions.get(uri) === abort) subscriptions.delete(uri);
      }
    })();
    return {};
  });

  server.setRequestHandler(UnsubscribeRequestSchema, (request) => {
    subscriptions.get(request.params.uri)?.abort();
    subscriptions.delete(request.params.uri);
    return {};
  });

  const close = server.onclose;
  server.onclose = () => {
    for (const abort of subscriptions.values()) abort.abort();
    subscriptions.clear();
    close?.();
  };
  return server;
}

function runIdOf(uri: string): string {
  if (!uri.startsWith(RUN_URI_PREFIX) || uri.length === RUN_URI_PREFIX.length) {
    throw new McpError(ErrorCode.InvalidParams, `Not a Weft run URI: expected ${RUN_URI_PREFIX}{id}`);
  }
  try {
    return decodeURIComponent(uri.slice(RUN_URI_PREFIX.length));
  } catch {
    throw new McpError(ErrorCode.InvalidParams, 'The run id in the URI is not valid percent-encoding');
  }
}
