/**
 * The server tests' fixture (not part of the public `./testing` entry): engines over `MemoryStorage`
 * and `serve()` on port 0, each closed or stopped after the test that made it, with anything else a
 * test hands to `defer`; and free ports for the "throws before binding" tests.
 */
import { afterEach, expect } from 'bun:test';
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
  /**
   * `serve(options)` on a port that was free throws `error`, and nothing holds the port afterwards
   * (the refusal came before binding). The options are used as given (no default access policy).
   */
  expectRefusedBeforeBinding: (
    options: Omit<ServeOptions, 'engine' | 'port'>,
    error: abstract new (...args: never[]) => Error,
  ) => Promise<void>;
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
  const expectRefusedBeforeBinding = async (
    options: Omit<ServeOptions, 'engine' | 'port'>,
    error: abstract new (...args: never[]) => Error,
  ) => {
    const engine = await openEngine();
    const port = await freePort();
    expect(() => serve({ ...options, engine, port })).toThrow(error);
    await bindAndRelease(port);
  };
  return { defer, openEngine, start, expectRefusedBeforeBinding };
}

/** A port that was free a moment ago (bound and released by a throwaway server). */
export async function freePort(): Promise<number> {
  const probe = Bun.serve({ port: 0, reusePort: false, fetch: () => new Response('probe') });
  const port = probe.port;
  await probe.stop(true);
  if (port === undefined) throw new Error('the probe server reported no port');
  return port;
}

/** Binds `port` exclusively (so it fails if anything still holds it), then releases it. */
export async function bindAndRelease(port: number): Promise<void> {
  const server = Bun.serve({ port, reusePort: false, fetch: () => new Response('again') });
  try {
    expect(server.port).toBe(port);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('again');
  } finally {
    await server.stop(true);
  }
}
