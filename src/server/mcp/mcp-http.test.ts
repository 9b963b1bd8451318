/**
 * MCP over Streamable HTTP, driven by the official SDK client against a real server: tools with
 * their schemas, a run started, read, signalled and finished through tools, a tool error for an
 * unknown run, resources and their subscription, and authentication.
 */
import { describe, expect, test } from 'bun:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { testServers } from '../../testing/test-servers.ts';
import type { Principal } from '../security/auth-config.ts';
import { approval, order, plain } from './test-workflows.ts';
import { weftError, type ToolText } from './tool-results.ts';

const { start, defer } = testServers([order, plain]);

async function connect(url: string, headers: Record<string, string> = {}): Promise<Client> {
  const client = new Client({ name: 'weft-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/api/mcp`), { requestInit: { headers } }));
  defer(() => client.close());
  return client;
}

describe('MCP over Streamable HTTP', () => {
  test('tools: one per catalog operation with its schema, and a typed start per workflow with an input schema', async () => {
    const server = await start();
    const client = await connect(server.url);
    const { tools } = await client.listTools();
    const names = tools.map((tool) => tool.name);
    for (const name of [
      'workflows_start',
      'workflows_get',
      'workflows_list',
      'workflows_result',
      'workflows_signal',
      'workflows_cancel',
      'events_list',
    ]) {
      expect(names).toContain(name);
    }
    const get = tools.find((tool) => tool.name === 'workflows_get')!;
    expect(get.inputSchema).toMatchObject({ type: 'object', properties: { id: { type: 'string' } }, required: ['id'] });
    expect(get.annotations?.readOnlyHint).toBe(true);
    const startOrder = tools.find((tool) => tool.name === 'start_order')!;
    expect(startOrder.description).toContain('Places an order');
    expect(startOrder.inputSchema).toMatchObject({
      type: 'object',
      required: ['input'],
      properties: { input: { type: 'object', properties: { sku: { type: 'string' }, quantity: { type: 'integer' } } } },
    });
    // A workflow without an input schema has no start tool of its own.
    expect(names.filter((name) => name.startsWith('start_'))).toEqual(['start_order']);
  });

  test('start, read, signal and finish a run through tools; an unknown run is a tool error with its code', async () => {
    const server = await start();
    const client = await connect(server.url);
    const started = (await client.callTool({
      name: 'start_order',
      arguments: { input: { sku: 'a-1', quantity: 2 }, id: 'o-1' },
    })) as ToolText;
    expect(started.isError).toBeUndefined();
    expect(started.structuredContent).toMatchObject({ id: 'o-1' });
    const state = (await client.callTool({ name: 'workflows_get', arguments: { id: 'o-1' } })) as ToolText;
    expect(state.structuredContent).toMatchObject({
      id: 'o-1',
      type: 'order',
      status: 'suspended',
      input: { sku: 'a-1', quantity: 2 },
    });
    const signalled = (await client.callTool({
      name: 'workflows_signal',
      arguments: { id: 'o-1', name: approval.name, payload: { approved: true } },
    })) as ToolText;
    expect(signalled.isError).toBeUndefined();
    const result = (await client.callTool({ name: 'workflows_result', arguments: { id: 'o-1' } })) as ToolText;
    expect(result.structuredContent).toEqual({ result: { sku: 'a-1', quantity: 2, approved: true } });

    const missing = (await client.callTool({ name: 'workflows_get', arguments: { id: 'nobody' } })) as ToolText;
    expect(missing.isError).toBe(true);
    expect(weftError(missing)?.code).toBe('workflow_not_found');
    const unknownTool = (await client.callTool({ name: 'no_such_tool', arguments: {} })) as ToolText;
    expect(unknownTool.isError).toBe(true);
    const badArgs = (await client.callTool({ name: 'workflows_list', arguments: { limit: 'many' } })) as ToolText;
    expect(weftError(badArgs)?.code).toBe('invalid_params');
  });

  test('the input schema is enforced: a start that does not match is invalid_input and stores nothing', async () => {
    const server = await start();
    const client = await connect(server.url);
    for (const call of [
      { name: 'start_order', arguments: { input: { sku: 'a-1', quantity: 'two' }, id: 'bad-1' } },
      { name: 'workflows_start', arguments: { type: 'order', input: { sku: 7 }, id: 'bad-2' } },
    ]) {
      const refused = (await client.callTool(call)) as ToolText;
      expect(refused.isError).toBe(true);
      expect(weftError(refused)?.code).toBe('invalid_input');
    }
    expect(await server.engine.get('bad-1')).toBeUndefined();
    expect(await server.engine.get('bad-2')).toBeUndefined();
  });

  test('a run is a resource; a subscription hears of every change until the run ends', async () => {
    const server = await start();
    await server.engine.start(order, { sku: 'r-1', quantity: 1 }, { id: 'r-1' });
    const client = await connect(server.url);
    const { resourceTemplates } = await client.listResourceTemplates();
    expect(resourceTemplates.map((template) => template.uriTemplate)).toEqual(['weft://workflows/{id}']);
    const { resources } = await client.listResources();
    expect(resources.map((resource) => resource.uri)).toContain('weft://workflows/r-1');
    const read = await client.readResource({ uri: 'weft://workflows/r-1' });
    expect(JSON.parse((read.contents[0] as { text: string }).text)).toMatchObject({ id: 'r-1', status: 'suspended' });
    const updates: string[] = [];
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (notification) => {
      updates.push(notification.params.uri);
    });
    await client.subscribeResource({ uri: 'weft://workflows/r-1' });
    await server.engine.signal('r-1', approval, { approved: false });
    await server.engine.handle('r-1').result();
    while (updates.length < 2) await Bun.sleep(5);
    expect(new Set(updates)).toEqual(new Set(['weft://workflows/r-1']));
    const after = await client.readResource({ uri: 'weft://workflows/r-1' });
    expect(JSON.parse((after.contents[0] as { text: string }).text)).toMatchObject({ status: 'completed' });
    await expect(client.readResource({ uri: 'weft://workflows/nobody' })).rejects.toThrow(/nobody/);
  });

  test('/.well-known/mcp.json is public and points at /api/mcp', async () => {
    const server = await start({ auth: { apiKeys: ['k-mcp'] } });
    const response = await fetch(`${server.url}/.well-known/mcp.json`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      endpoint: `${server.url}/api/mcp`,
      transports: [{ type: 'streamable-http', url: `${server.url}/api/mcp` }],
      authentication: { required: true },
    });
  });
});

describe('MCP and auth', () => {
  test('without a credential the client is refused with 401 before a session exists; with one it works', async () => {
    const server = await start({ auth: { apiKeys: ['k-mcp'] } });
    const anonymous = new Client({ name: 'anon', version: '1' });
    await expect(
      anonymous.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/api/mcp`))),
    ).rejects.toThrow(/401|nauthorized|nauthenticated/i);
    const raw = await fetch(`${server.url}/api/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } },
      }),
    });
    expect(raw.status).toBe(401);
    expect(raw.headers.get('mcp-session-id')).toBeNull();
    const client = await connect(server.url, { authorization: 'Bearer k-mcp' });
    expect((await client.listTools()).tools.length).toBeGreaterThan(10);
  });

  test('each tool needs its catalog scope; a session id is worthless to another principal', async () => {
    const principals: Record<string, Principal> = {
      reader: { subject: 'reader', scopes: ['workflows:read'] },
      writer: { subject: 'writer', scopes: ['workflows:read', 'workflows:write'] },
    };
    const server = await start({
      auth: { authenticate: (request) => principals[request.headers.get('x-who') ?? ''] ?? null },
    });
    const reader = await connect(server.url, { 'x-who': 'reader' });
    const refused = (await reader.callTool({
      name: 'workflows_start',
      arguments: { type: 'plain', id: 'p-1' },
    })) as ToolText;
    expect(weftError(refused)?.code).toBe('forbidden');
    expect(await server.engine.get('p-1')).toBeUndefined();
    const listed = (await reader.callTool({ name: 'workflows_list', arguments: {} })) as ToolText;
    expect(listed.isError).toBeUndefined();
    const writer = await connect(server.url, { 'x-who': 'writer' });
    expect(
      ((await writer.callTool({ name: 'workflows_start', arguments: { type: 'plain', id: 'p-2' } })) as ToolText)
        .isError,
    ).toBeUndefined();

    // The reader's session id, presented with the writer's credential, is not found.
    const sessionId = (reader.transport as StreamableHTTPClientTransport).sessionId!;
    const hijack = await fetch(`${server.url}/api/mcp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-session-id': sessionId,
        'mcp-protocol-version': '2025-06-18',
        'x-who': 'writer',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/list' }),
    });
    expect(hijack.status).toBe(404);
  });

  test('a result wait and a quiet subscription outlive Bun’s 10 s idle timeout over a real socket', async () => {
    const server = await start({ resultTimeoutMs: 20_000 });
    await server.engine.start(order, { sku: 'slow', quantity: 1 }, { id: 'slow' });
    await server.engine.start(order, { sku: 'quiet', quantity: 1 }, { id: 'quiet' });
    const client = await connect(server.url);
    const updates: string[] = [];
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (notification) => {
      updates.push(notification.params.uri);
    });
    await client.subscribeResource({ uri: 'weft://workflows/quiet' });
    // The POST answering this call and the session's GET stream both stay quiet for 12 s.
    const result = client.callTool({ name: 'workflows_result', arguments: { id: 'slow' } }, undefined, {
      timeout: 30_000,
    });
    await Bun.sleep(12_000);
    await server.engine.signal('slow', approval, { approved: true });
    await server.engine.signal('quiet', approval, { approved: true });
    expect(((await result) as ToolText).structuredContent).toEqual({
      result: { sku: 'slow', quantity: 1, approved: true },
    });
    while (updates.length === 0) await Bun.sleep(5);
    expect(updates[0]).toBe('weft://workflows/quiet');
  }, 40_000);
});
