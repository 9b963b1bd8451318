/**
 * MCP over stdio as a desktop client uses it: the official SDK client launches the real CLI
 * (`weft mcp`, and the `weft-mcp` bin) on a SQLite file, lists the tools, starts a run with typed
 * input, reads it, signals it, gets its result, and meets a tool error and the input schema.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { weftError, type ToolText } from '../../src/server/mcp/tool-results.ts';

const root = join(import.meta.dir, '../..');
const workflows = join(root, 'src/server/mcp/test-workflows.ts');
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function launch(entry: string[]): Promise<Client> {
  const dir = mkdtempSync(join(tmpdir(), 'weft-mcp-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [...entry, '--workflows', workflows, '--db', join(dir, 'weft.db')],
    cwd: root,
    stderr: 'pipe',
  });
  const client = new Client({ name: 'weft-stdio-test', version: '1.0.0' });
  await client.connect(transport);
  cleanups.push(() => client.close());
  return client;
}

describe('weft mcp over stdio', () => {
  test('the SDK client lists tools, starts, reads, signals and finishes a run; errors carry their code', async () => {
    const client = await launch(['src/cli/main.ts', 'mcp']);
    const { tools } = await client.listTools();
    const names = tools.map((tool) => tool.name);
    for (const name of ['workflows_start', 'workflows_get', 'start_order']) expect(names).toContain(name);
    const started = (await client.callTool({
      name: 'start_order',
      arguments: { input: { sku: 's-1', quantity: 3 }, id: 's-1' },
    })) as ToolText;
    expect(started.structuredContent).toMatchObject({ id: 's-1' });
    let state = (await client.callTool({ name: 'workflows_get', arguments: { id: 's-1' } })) as ToolText;
    while (state.structuredContent?.['status'] !== 'suspended') {
      await Bun.sleep(10);
      state = (await client.callTool({ name: 'workflows_get', arguments: { id: 's-1' } })) as ToolText;
    }
    await client.callTool({
      name: 'workflows_signal',
      arguments: { id: 's-1', name: 'approval', payload: { approved: true } },
    });
    const result = (await client.callTool({ name: 'workflows_result', arguments: { id: 's-1' } })) as ToolText;
    expect(result.structuredContent).toEqual({ result: { sku: 's-1', quantity: 3, approved: true } });
    const missing = (await client.callTool({ name: 'workflows_result', arguments: { id: 'nobody' } })) as ToolText;
    expect(missing.isError).toBe(true);
    expect(weftError(missing)?.code).toBe('workflow_not_found');
    const invalid = (await client.callTool({ name: 'start_order', arguments: { input: { sku: '' } } })) as ToolText;
    expect(weftError(invalid)?.code).toBe('invalid_input');
    await client.callTool({
      name: 'workflows_start',
      arguments: { type: 'order', input: { sku: 's-2', quantity: 1 }, id: 's-2' },
    });
    const badSignal = (await client.callTool({
      name: 'workflows_signal',
      arguments: { id: 's-2', name: 'approval', payload: { approved: 'yes' } },
    })) as ToolText;
    expect(weftError(badSignal)?.code).toBe('invalid_input');
  }, 30_000);

  test('the weft-mcp bin is the same server', async () => {
    const client = await launch(['src/cli/weft-mcp.ts']);
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toContain('start_order');
    expect(client.getServerVersion()?.name).toBe('weft');
  }, 30_000);

  test('the MCP Inspector’s CLI mode lists the tools of the launched server', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-mcp-inspector-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const inspector = Bun.spawn(
      [
        join(root, 'node_modules/.bin/mcp-inspector'),
        '--cli',
        process.execPath,
        'src/cli/main.ts',
        'mcp',
        '--workflows',
        workflows,
        '--db',
        join(dir, 'weft.db'),
        '--method',
        'tools/list',
      ],
      { cwd: root, stdout: 'pipe', stderr: 'pipe' },
    );
    cleanups.push(() => inspector.kill());
    const [output, code] = await Promise.all([new Response(inspector.stdout).text(), inspector.exited]);
    expect(code).toBe(0);
    const { tools } = JSON.parse(output) as { tools: { name: string }[] };
    expect(tools.map((tool) => tool.name)).toContain('start_order');
  }, 60_000);
});
