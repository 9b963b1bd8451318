/**
 * The server tests' fixture (not part of the public `./testing` entry): engines over `MemoryStorage` and `serve()` on port 0, each closed or
 * stopped after the test that made it, with anything else a test hands to `defer`.
 */
import { afterEach } from 'bun:test';
import type { AnyWorkflowDefinition } from '../define/workflow.ts';
import { Engine } from '../engine/engine.ts';
import { serve, type ServeOptions, type WeftServer } from '../server/serve.ts';
import { MemoryStorage } from '../storage/memory/index.ts';

/** A server started by the fixture, with the engine it serves. */
export interface TestServer extends WeftServer {
  engine: Engine;
}

export interface TestServers {
  /** Runs `cleanup` after the current test (the newest first). */
  defer: (cleanup: () => unknown) => void;
  /** A fresh engine with the fixture's workflows; closed, with its storage, after the test. */
  openEngine: () => Promise<Engine>;
  /** `serve()` on port 0 over a fresh engine; without `auth`, open access is allowed silently. */
  start: (options?: Omit<ServeOptions, 'engine' | 'port'>) => Promise<TestServer>;
}

/**
 * Call once at the top of a test file: it registers the `afterEach` that cleans up.
 *
 * @example
 * const { start } = testServers([order]);
 * test('...', async () => { const server = await start({ auth }); await fetch(`${server.url}/v1/health`); });
 */
export function testServers(workflows: readonly AnyWorkflowDefinition[] = []): TestServers {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    while (cleanups.length > 0) await cleanups.pop()!();
  });
  const defer = (cleanup: () => unknown) => void cleanups.push(cleanup);
  const openEngine = async () => {
    const storage = new MemoryStorage();
    const engine = await Engine.create({ storage, workflows, shutdownGracePeriod: 0 });
    defer(async () => {
      await engine.close();
      await storage.close();
    });
    return engine;
  };
  const start = async (options: Omit<ServeOptions, 'engine' | 'port'> = {}) => {
    const engine = await openEngine();
    const open = options.auth === undefined ? { unauthenticatedAccess: 'allow' as const } : {};
    const server = serve({ ...open, ...options, engine, port: 0 });
    defer(() => server.stop());
    return { ...server, engine };
  };
  return { defer, openEngine, start };
}
