/**
 * Ports for the server's "throws before binding" tests: a port that was free a moment ago, and a
 * check that nothing holds it (an exclusive bind that must succeed).
 */
import { expect } from 'bun:test';

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
