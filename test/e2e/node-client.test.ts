/**
 * The client as a Node user gets it. The package is built and packed as `npm publish` would pack
 * it, a throwaway consumer package installs the tarball, and a plain `node` script there imports
 * `@lostgradient/weft/client` and talks to a real server started here on port 0: it starts a run,
 * waits for its result, sees a refusal arrive as a `WeftError` with its code, and follows another
 * run live with `client.watch` (Server-Sent Events over Node's own `fetch`). The tarball's
 * declarations are type-checked the way a consumer's `tsc` reads them (`moduleResolution: nodenext`).
 *
 * Traps it avoids:
 * - Testing the sources instead of the package. Bun resolves the `bun` export condition to `src/`;
 *   Node must get `dist/` (compiled JavaScript, `.js` specifiers), so the script runs under `node`
 *   from an installed tarball, never from the repository.
 * - A nested npm that installs into this repository. Under `npm test` the environment carries
 *   `npm_config_local_prefix` and friends, which would point the consumer's install back here;
 *   they are dropped for the nested commands.
 * - A network dependency. The tarball's dependencies are those `npm ci` just put in the npm cache
 *   (`--prefer-offline`); only package metadata may come from the registry.
 */
import { afterAll, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fanOut, order } from '../../examples/workflows.ts';
import { testServers } from '../../src/testing/test-servers.ts';

const root = join(import.meta.dir, '../..');
const dir = mkdtempSync(join(tmpdir(), 'weft-node-client-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const { start } = testServers([fanOut, order]);

const node = Bun.which('node');
const npm = Bun.which('npm');

/** npm settings a nested npm may keep from the environment; every other `npm_*` variable is dropped. */
const KEPT_NPM_VARIABLES = new Set(['npm_config_cache', 'npm_config_registry', 'npm_config_userconfig']);

function nestedEnv(extra: Record<string, string> = {}): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.toLowerCase().startsWith('npm_') || KEPT_NPM_VARIABLES.has(name.toLowerCase())) env[name] = value;
  }
  return { ...env, ...extra };
}

/** Runs a command to its end; throws with its output when it fails. */
async function run(command: string[], cwd: string, env: Record<string, string> = {}): Promise<string> {
  const child = Bun.spawn(command, { cwd, env: nestedEnv(env), stdout: 'pipe', stderr: 'pipe' });
  const [code, stdout, stderr] = await Promise.all([
    child.exited,
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ]);
  if (code !== 0) throw new Error(`${command.join(' ')} exited ${code}\n${stdout}\n${stderr}`);
  return stdout;
}

const CLIENT_SCRIPT = `
import { HttpClient, WeftError } from '@lostgradient/weft/client';

const client = new HttpClient({ baseUrl: process.env.WEFT_URL, credential: process.env.WEFT_API_KEY });
const { id } = await client.startWorkflow({ type: 'fan-out', input: { numbers: [1, 2, 3] } });
const { result } = await client.workflowResult({ id });
let refusal;
try {
  await client.getWorkflow({ id: 'no-such-run' });
} catch (error) {
  refusal = { isWeftError: error instanceof WeftError, code: error.code };
}
const resolved = import.meta.resolve('@lostgradient/weft/client');
console.log(JSON.stringify({ node: process.versions.node, resolved, id, result, refusal }));
`;

/** Follows an order with \`client.watch\` from its start, approving it once it waits, until its terminal frame. */
const WATCH_SCRIPT = `
import { HttpClient } from '@lostgradient/weft/client';

const client = new HttpClient({ baseUrl: process.env.WEFT_URL, credential: process.env.WEFT_API_KEY });
const { id } = await client.startWorkflow({ type: 'order', input: { sku: 'book', quantity: 1, amount: 25 } });
const frames = [];
let approved = false;
for await (const frame of client.watch(id, { signal: AbortSignal.timeout(30_000) })) {
  frames.push({ seq: frame.seq, type: frame.type, status: frame.status });
  if (frame.status === 'suspended' && !approved) {
    approved = true;
    await client.signalWorkflow({ id, name: 'approval', payload: { approved: true, by: 'node' } });
  }
}
console.log(JSON.stringify({ id, frames }));
`;

const TYPED_CONSUMER = `
import { HttpClient, WeftError, workflowResult, type OperationOutput, type WatchFrame } from '@lostgradient/weft/client';

const client = new HttpClient({ baseUrl: 'http://127.0.0.1:3000', credential: 'k' });
export const started: Promise<{ id: string }> = client.startWorkflow({ type: 'fan-out', input: [1, 2] });
export type Result = OperationOutput<typeof workflowResult>;
export const watched: AsyncIterable<WatchFrame> = client.watch('order-1', { after: -1, retryDelayMs: 500 });
export const isWeft = (error: unknown): boolean => error instanceof WeftError && typeof error.code === 'string';
// @ts-expect-error a field the server does not take is a type error in the consumer too
export const misspelled = client.startWorkflow({ typ: 'fan-out' });
`;

const CONSUMER_TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    lib: ['ES2023', 'DOM', 'DOM.Iterable'],
    types: [],
    strict: true,
    noEmit: true,
    skipLibCheck: false,
  },
  files: ['consumer.ts'],
};

let installed: Promise<string> | undefined;

/** Packs the repository (building `dist/` through `prepare`) and installs the tarball into a new consumer package. */
function installedConsumer(): Promise<string> {
  installed ??= (async () => {
    if (node === null || npm === null) throw new Error('node and npm must be on PATH for this test');
    const packed = join(dir, 'packed');
    mkdirSync(packed);
    await run([npm, 'pack', '--pack-destination', packed], root);
    const tarball = readdirSync(packed).find((name) => name.endsWith('.tgz'));
    if (tarball === undefined) throw new Error(`npm pack left no tarball in ${packed}`);
    const consumer = join(dir, 'consumer');
    mkdirSync(consumer, { recursive: true });
    writeFileSync(
      join(consumer, 'package.json'),
      JSON.stringify({ name: 'weft-consumer', private: true, type: 'module' }),
    );
    await run(
      [npm, 'install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', join(packed, tarball)],
      consumer,
    );
    writeFileSync(join(consumer, 'client.mjs'), CLIENT_SCRIPT);
    writeFileSync(join(consumer, 'watch.mjs'), WATCH_SCRIPT);
    writeFileSync(join(consumer, 'consumer.ts'), TYPED_CONSUMER);
    writeFileSync(join(consumer, 'tsconfig.json'), JSON.stringify(CONSUMER_TSCONFIG));
    return consumer;
  })();
  return installed;
}

test('a node script imports the packed @lostgradient/weft/client and runs a workflow on a real server', async () => {
  const consumer = await installedConsumer();
  const server = await start({ auth: { apiKeys: ['node-consumer-key'], auditSink: () => undefined } });
  const output = await run([node!, 'client.mjs'], consumer, {
    WEFT_URL: server.url,
    WEFT_API_KEY: 'node-consumer-key',
  });
  const reported = JSON.parse(output) as Record<string, unknown>;
  expect(reported).toMatchObject({
    node: expect.any(String),
    result: 14,
    refusal: { isWeftError: true, code: 'workflow_not_found' },
  });
  // Node was given the compiled package, not the TypeScript sources Bun uses.
  expect(reported.resolved).toEndWith('/node_modules/@lostgradient/weft/dist/client/index.js');
  expect((await server.engine.get(reported.id as string))?.status).toBe('completed');
}, 60_000);

test('a node script follows a run live with client.watch through its terminal frame', async () => {
  const consumer = await installedConsumer();
  const server = await start({ auth: { apiKeys: ['node-consumer-key'], auditSink: () => undefined } });
  const output = await run([node!, 'watch.mjs'], consumer, {
    WEFT_URL: server.url,
    WEFT_API_KEY: 'node-consumer-key',
  });
  const { id, frames } = JSON.parse(output) as { id: string; frames: { seq: number; type: string; status: string }[] };
  // Every stored state change, once and in order, the loop ending by itself after the terminal one.
  expect(frames.map((frame) => frame.seq)).toEqual((await server.engine.readWatch(id)).map((frame) => frame.seq));
  expect(frames[0]).toMatchObject({ type: 'workflow:started', status: 'running' });
  expect(frames.some((frame) => frame.status === 'suspended')).toBe(true);
  expect(frames.at(-1)).toMatchObject({ type: 'workflow:completed', status: 'completed' });
  expect((await server.engine.get(id))?.status).toBe('completed');
}, 60_000);

test('the packed declarations type-check in a NodeNext consumer, typos included as errors', async () => {
  const consumer = await installedConsumer();
  await run([node!, join(root, 'node_modules/typescript/bin/tsc'), '-p', consumer], consumer);
}, 60_000);
