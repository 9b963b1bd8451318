/**
 * `GET /.well-known/mcp.json`: where an MCP client finds this server's MCP endpoint, its transport
 * and how to authenticate. Public, like the other discovery documents.
 */
import packageJson from '../../../package.json' with { type: 'json' };

/** The path of the MCP endpoint. */
export const MCP_PATH = '/api/mcp';

/**
 * The discovery document for a server reached at `origin`.
 *
 * @example
 * mcpDiscoveryDocument('http://127.0.0.1:3000').endpoint; // 'http://127.0.0.1:3000/api/mcp'
 */
export function mcpDiscoveryDocument(origin: string, authConfigured: boolean): Record<string, unknown> {
  return {
    name: 'weft',
    title: 'Weft durable workflows',
    version: packageJson.version,
    description:
      'Start, watch, signal and inspect durable workflows: one tool per operation of the server, one start tool per workflow with an input schema, and each run as a subscribable resource (weft://workflows/{id}).',
    endpoint: `${origin}${MCP_PATH}`,
    transports: [{ type: 'streamable-http', url: `${origin}${MCP_PATH}` }],
    capabilities: { tools: {}, resources: { subscribe: true } },
    authentication: authConfigured
      ? { required: true, schemes: ['bearer', 'api-key'], header: 'Authorization: Bearer <key or token>, or X-API-Key' }
      : { required: false },
  };
}
