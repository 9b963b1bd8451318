/**
 * `createRotatingApiKeyStore()` from a user's side: the registry on its own (with a fake clock for
 * `expiresAt`), then as `serve({ auth: { resolveApiKeyPrincipal: keys.resolve } })` on a real server
 * — a rotation with an overlap window and no restart, revocation, the grant's scopes enforced, and
 * expiry without a `revoke`.
 */
import { describe, expect, test } from 'bun:test';
import { InvalidArgumentError, workflow } from '../../index.ts';
import { createRotatingApiKeyStore } from '../index.ts';
import { testServers } from '../../testing/test-servers.ts';
import type { AuthAuditEvent, RotatingApiKeyStore, RotatingKeyGrant, WeftServer } from '../index.ts';

const READ_ONLY: RotatingKeyGrant = { subject: 'service-account', scopes: ['workflows:read'] };

const noop = workflow({ name: 'noop' }).execute(async function* () {
  return 1;
});

const { start } = testServers([noop]);

/** A clock the test moves by hand. */
function fakeClock(start: number): { now: () => number; advance: (ms: number) => void } {
  let at = start;
  return { now: () => at, advance: (ms) => (at += ms) };
}

/** A server authenticating through `keys`; audit events go to `events` (not the console). */
function serveWith(keys: RotatingApiKeyStore, events: AuthAuditEvent[] = []): Promise<WeftServer> {
  return start({ auth: { resolveApiKeyPrincipal: keys.resolve, auditSink: (event) => events.push(event) } });
}

const listWith = (server: WeftServer, key: string) =>
  fetch(`${server.url}/api/v1/workflows`, { headers: { 'x-api-key': key } });
const startWith = (server: WeftServer, key: string, id: string) =>
  fetch(`${server.url}/api/v1/workflows`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'noop', id }),
  });
const statusOf = async (response: Promise<Response>) => {
  const answer = await response;
  await answer.body?.cancel();
  return answer.status;
};
const errorCodeOf = async (response: Response) => ((await response.json()) as { error: { code: string } }).error.code;

describe('createRotatingApiKeyStore', () => {
  test('an added key resolves to the subject and scopes of its grant; an unknown key to undefined', () => {
    const keys = createRotatingApiKeyStore();
    keys.add('key-v1', READ_ONLY);
    keys.add('key-ci', { subject: 'ci', scopes: ['workflows:read', 'workflows:write'] });
    expect(keys.resolve('key-v1')).toEqual({ subject: 'service-account', scopes: ['workflows:read'] });
    expect(keys.resolve('key-ci')).toEqual({ subject: 'ci', scopes: ['workflows:read', 'workflows:write'] });
    expect(keys.resolve('key-v2')).toBeUndefined();
    expect(keys.resolve('')).toBeUndefined();
    expect(keys.size).toBe(2);
  });

  test('resolve returns a copy: changing it, or the grant after add, changes nothing in the store', () => {
    const keys = createRotatingApiKeyStore();
    const grant: RotatingKeyGrant = { subject: 'svc', scopes: ['workflows:read'] };
    keys.add('key-v1', grant);
    grant.scopes.push('workflows:admin');
    grant.subject = 'root';
    const resolved = keys.resolve('key-v1')!;
    resolved.scopes.push('workflows:admin');
    resolved.subject = 'root';
    expect(keys.resolve('key-v1')).toEqual({ subject: 'svc', scopes: ['workflows:read'] });
  });

  test('a key is matched exactly: a prefix, a longer key or another case does not resolve', () => {
    const keys = createRotatingApiKeyStore();
    keys.add('Key-V1', READ_ONLY);
    for (const near of ['Key-V', 'Key-V1x', 'key-v1', ' Key-V1']) expect(keys.resolve(near)).toBeUndefined();
  });

  test('revoke removes a key and says whether it was there; the other keys stay', () => {
    const keys = createRotatingApiKeyStore();
    keys.add('key-v1', READ_ONLY);
    keys.add('key-v2', READ_ONLY);
    expect(keys.revoke('key-v1')).toBe(true);
    expect(keys.resolve('key-v1')).toBeUndefined();
    expect(keys.resolve('key-v2')).toEqual({ subject: 'service-account', scopes: ['workflows:read'] });
    expect(keys.revoke('key-v1')).toBe(false);
    expect(keys.revoke('never-added')).toBe(false);
    expect(keys.size).toBe(1);
  });

  test('adding a key again replaces what it grants instead of adding a second entry', () => {
    const keys = createRotatingApiKeyStore();
    keys.add('key-v1', READ_ONLY);
    keys.add('key-v1', { subject: 'operator', scopes: ['workflows:admin'] });
    expect(keys.resolve('key-v1')).toEqual({ subject: 'operator', scopes: ['workflows:admin'] });
    expect(keys.size).toBe(1);
    expect(keys.revoke('key-v1')).toBe(true);
    expect(keys.resolve('key-v1')).toBeUndefined();
  });

  test('resolve works unbound, as it is passed to resolveApiKeyPrincipal', () => {
    const keys = createRotatingApiKeyStore();
    const { resolve } = keys;
    keys.add('key-v1', READ_ONLY);
    expect(resolve('key-v1')).toEqual({ subject: 'service-account', scopes: ['workflows:read'] });
    keys.revoke('key-v1');
    expect(resolve('key-v1')).toBeUndefined();
  });

  test('expiresAt as a Date: the key resolves until then and is refused afterwards', () => {
    const clock = fakeClock(Date.parse('2027-01-01T00:00:00Z'));
    const keys = createRotatingApiKeyStore({ now: clock.now });
    keys.add('key-v1', { ...READ_ONLY, expiresAt: new Date('2027-01-01T01:00:00Z') });
    clock.advance(60 * 60_000 - 1);
    expect(keys.resolve('key-v1')).toEqual({ subject: 'service-account', scopes: ['workflows:read'] });
    clock.advance(2);
    expect(keys.resolve('key-v1')).toBeUndefined();
  });

  test('expiresAt as epoch milliseconds: the key resolves until then and is refused afterwards', () => {
    const clock = fakeClock(1_000_000);
    const keys = createRotatingApiKeyStore({ now: clock.now });
    keys.add('key-v1', { ...READ_ONLY, expiresAt: 1_005_000 });
    keys.add('key-v2', READ_ONLY);
    clock.advance(4_999);
    expect(keys.resolve('key-v1')).toBeDefined();
    clock.advance(2);
    expect(keys.resolve('key-v1')).toBeUndefined();
    expect(keys.resolve('key-v2')).toBeDefined();
  });

  test('a key added with an expiresAt already past never resolves', () => {
    const keys = createRotatingApiKeyStore({ now: () => 2_000 });
    keys.add('key-old', { ...READ_ONLY, expiresAt: 1_000 });
    expect(keys.resolve('key-old')).toBeUndefined();
  });

  test('an expired key is dropped on its next lookup and stays refused', () => {
    const clock = fakeClock(0);
    const keys = createRotatingApiKeyStore({ now: clock.now });
    keys.add('key-v1', { ...READ_ONLY, expiresAt: 1_000 });
    keys.add('key-v2', READ_ONLY);
    clock.advance(5_000);
    expect(keys.size).toBe(2);
    expect(keys.resolve('key-v1')).toBeUndefined();
    expect(keys.size).toBe(1);
    clock.advance(-5_000);
    expect(keys.resolve('key-v1')).toBeUndefined();
    expect(keys.revoke('key-v1')).toBe(false);
  });

  test('an expired key can be renewed by adding it again with a later expiresAt', () => {
    const clock = fakeClock(0);
    const keys = createRotatingApiKeyStore({ now: clock.now });
    keys.add('key-v1', { ...READ_ONLY, expiresAt: 1_000 });
    clock.advance(2_000);
    expect(keys.resolve('key-v1')).toBeUndefined();
    keys.add('key-v1', { ...READ_ONLY, expiresAt: 10_000 });
    expect(keys.resolve('key-v1')).toEqual({ subject: 'service-account', scopes: ['workflows:read'] });
  });

  test.each([
    ['an empty key', ''],
    ['a number', 42],
    ['undefined', undefined],
    ['null', null],
  ])('add refuses %s as a key with InvalidArgumentError', (_, key) => {
    const keys = createRotatingApiKeyStore();
    expect(() => keys.add(key as string, READ_ONLY)).toThrow(InvalidArgumentError);
    expect(keys.size).toBe(0);
  });

  test.each([
    ['no grant', undefined],
    ['a null grant', null],
    ['an empty subject', { subject: '', scopes: [] }],
    ['a subject that is not a string', { subject: 7, scopes: [] }],
    ['missing scopes', { subject: 'svc' }],
    ['scopes as one string', { subject: 'svc', scopes: 'workflows:read' }],
    ['scopes that are not strings', { subject: 'svc', scopes: [1] }],
    ['an expiresAt that is a string', { subject: 'svc', scopes: [], expiresAt: '2027-01-01' }],
    ['an invalid Date', { subject: 'svc', scopes: [], expiresAt: new Date('not a date') }],
    ['an expiresAt of NaN', { subject: 'svc', scopes: [], expiresAt: Number.NaN }],
  ])('add refuses %s with InvalidArgumentError and leaves the key as it was', (_, grant) => {
    const keys = createRotatingApiKeyStore();
    keys.add('key-v1', READ_ONLY);
    expect(() => keys.add('key-v1', grant as RotatingKeyGrant)).toThrow(InvalidArgumentError);
    expect(() => keys.add('key-v2', grant as RotatingKeyGrant)).toThrow(InvalidArgumentError);
    expect(keys.resolve('key-v1')).toEqual({ subject: 'service-account', scopes: ['workflows:read'] });
    expect(keys.resolve('key-v2')).toBeUndefined();
    expect(keys.size).toBe(1);
  });
});

describe('serve({ auth: { resolveApiKeyPrincipal: keys.resolve } })', () => {
  test('a key in the store authenticates, by X-API-Key or as a bearer token; other keys get 401', async () => {
    const keys = createRotatingApiKeyStore();
    keys.add('key-v1', READ_ONLY);
    const server = await serveWith(keys);
    expect(await statusOf(listWith(server, 'key-v1'))).toBe(200);
    const bearer = fetch(`${server.url}/api/v1/workflows`, { headers: { authorization: 'Bearer key-v1' } });
    expect(await statusOf(bearer)).toBe(200);
    const stranger = await listWith(server, 'key-v2');
    expect(stranger.status).toBe(401);
    expect(await errorCodeOf(stranger)).toBe('unauthenticated');
  });

  test('a rotation without restart: add key-v2, both authenticate, revoke key-v1, only key-v2 does', async () => {
    const keys = createRotatingApiKeyStore();
    keys.add('key-v1', READ_ONLY);
    const server = await serveWith(keys);
    expect(await statusOf(listWith(server, 'key-v1'))).toBe(200);
    expect(await statusOf(listWith(server, 'key-v2'))).toBe(401);

    keys.add('key-v2', READ_ONLY);
    expect(await statusOf(listWith(server, 'key-v1'))).toBe(200);
    expect(await statusOf(listWith(server, 'key-v2'))).toBe(200);

    expect(keys.revoke('key-v1')).toBe(true);
    const revoked = await listWith(server, 'key-v1');
    expect(revoked.status).toBe(401);
    expect(await errorCodeOf(revoked)).toBe('unauthenticated');
    expect(await statusOf(listWith(server, 'key-v2'))).toBe(200);
  });

  test("the grant's scopes are enforced: a read-only key lists but gets 403 forbidden on start", async () => {
    const keys = createRotatingApiKeyStore();
    keys.add('key-read', READ_ONLY);
    keys.add('key-write', { subject: 'deployer', scopes: ['workflows:write'] });
    const server = await serveWith(keys);
    expect(await statusOf(listWith(server, 'key-read'))).toBe(200);
    const forbidden = await startWith(server, 'key-read', 'n-1');
    expect(forbidden.status).toBe(403);
    expect(await errorCodeOf(forbidden)).toBe('forbidden');
    expect(await statusOf(startWith(server, 'key-write', 'n-2'))).toBe(201);
    expect(await statusOf(listWith(server, 'key-write'))).toBe(403);
  });

  test('a grant replaced while the server runs takes effect on the next request', async () => {
    const keys = createRotatingApiKeyStore();
    keys.add('key-v1', READ_ONLY);
    const server = await serveWith(keys);
    expect(await statusOf(startWith(server, 'key-v1', 'n-1'))).toBe(403);
    keys.add('key-v1', { subject: 'service-account', scopes: ['workflows:read', 'workflows:write'] });
    expect(await statusOf(startWith(server, 'key-v1', 'n-1'))).toBe(201);
  });

  test('a key past its expiresAt (a Date) is turned away with 401, with no revoke', async () => {
    const clock = fakeClock(Date.now());
    const keys = createRotatingApiKeyStore({ now: clock.now });
    keys.add('key-v1', { ...READ_ONLY, expiresAt: new Date(clock.now() + 60_000) });
    keys.add('key-v2', READ_ONLY);
    const server = await serveWith(keys);
    expect(await statusOf(listWith(server, 'key-v1'))).toBe(200);
    clock.advance(60_001);
    const expired = await listWith(server, 'key-v1');
    expect(expired.status).toBe(401);
    expect(await errorCodeOf(expired)).toBe('unauthenticated');
    expect(await statusOf(listWith(server, 'key-v2'))).toBe(200);
  });

  test('a key past its expiresAt (epoch milliseconds) is turned away with 401, with no revoke', async () => {
    const clock = fakeClock(Date.now());
    const keys = createRotatingApiKeyStore({ now: clock.now });
    keys.add('key-v1', { ...READ_ONLY, expiresAt: clock.now() + 1_000 });
    const server = await serveWith(keys);
    expect(await statusOf(listWith(server, 'key-v1'))).toBe(200);
    clock.advance(1_001);
    expect(await statusOf(listWith(server, 'key-v1'))).toBe(401);
  });

  test("the audit trail names the grant's subject, and a revoked key's attempt as a failure", async () => {
    const events: AuthAuditEvent[] = [];
    const keys = createRotatingApiKeyStore();
    keys.add('key-v1', READ_ONLY);
    const server = await serveWith(keys, events);
    await statusOf(listWith(server, 'key-v1'));
    keys.revoke('key-v1');
    await statusOf(listWith(server, 'key-v1'));
    expect(events.map(({ outcome, subject, reason }) => ({ outcome, subject, reason }))).toEqual([
      { outcome: 'success', subject: 'service-account', reason: undefined },
      { outcome: 'failure', subject: null, reason: 'invalid_credential' },
    ]);
    expect(JSON.stringify(events)).not.toContain('key-v1');
  });
});
