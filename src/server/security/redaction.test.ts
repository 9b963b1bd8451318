/**
 * Credential redaction from a user's side: `redactCredential`, `redactHeaders` and
 * `credentialFingerprint` as custom middleware would call them before a log line, and the same
 * fingerprint in the audit trail of a real server, so the two can be correlated while neither shows
 * the secret.
 */
import { describe, expect, spyOn, test } from 'bun:test';
import { createHash } from 'node:crypto';
import { credentialFingerprint, redactCredential, redactHeaders } from '../index.ts';
import { testServers } from '../../testing/test-servers.ts';
import type { AuthAuditEvent, AuthConfig, WeftServer } from '../index.ts';

const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.c3ViamVjdC1vbmU.Qx7vLm2pRt9wKz';
const API_KEY = 'wk_live_Pq8Rz2Lm5Nv7Tx';
const SESSION = 'sid=Gh4Jk6Lp8Qr0St; csrf=Uv1Wx3Yz5Ab7';
const PROXY = 'Basic cHJveHk6aHVudGVyMg==';
const FINGERPRINT = /^sha256:[0-9a-f]{12}$/;
const REDACTED = /^\[redacted sha256:[0-9a-f]{12}\]$/;

/** The first substring of `secret` (6 characters or more) that shows in `text`, if any. */
function leakOf(text: string, secret: string): string | undefined {
  for (let start = 0; start + 6 <= secret.length; start++) {
    const piece = secret.slice(start, start + 6);
    if (text.includes(piece)) return piece;
  }
  return undefined;
}

/** The bare credentials inside the header values above (what must never be logged). */
const SECRETS = [TOKEN, API_KEY, 'Gh4Jk6Lp8Qr0St', 'Uv1Wx3Yz5Ab7', 'cHJveHk6aHVudGVyMg=='];

function expectNoLeak(text: string): void {
  for (const secret of SECRETS) expect(leakOf(text, secret)).toBeUndefined();
}

const { defer, start } = testServers();

/** A real server on port 0 with `auth`; stopped after the test. */
function serveWith(auth: AuthConfig): Promise<WeftServer> {
  return start({ auth });
}

describe('credentialFingerprint', () => {
  test('is sha256: and the first 12 hex digits of the SHA-256 of the credential', () => {
    const fingerprint = credentialFingerprint(API_KEY);
    expect(fingerprint).toMatch(FINGERPRINT);
    expect(fingerprint).toBe(`sha256:${createHash('sha256').update(API_KEY).digest('hex').slice(0, 12)}`);
  });

  test('has the same format for any credential, short, long or unicode', () => {
    for (const credential of ['x', 'a'.repeat(10_000), 'clé-🔑-секрет', ' spaced out ']) {
      expect(credentialFingerprint(credential)).toMatch(FINGERPRINT);
    }
  });

  test('is the same for the same credential and differs between credentials, even one character apart', () => {
    expect(credentialFingerprint(API_KEY)).toBe(credentialFingerprint(API_KEY));
    expect(credentialFingerprint(API_KEY)).not.toBe(credentialFingerprint(`${API_KEY.slice(0, -1)}y`));
    const many = Array.from({ length: 500 }, (_, i) => credentialFingerprint(`key-${i}`));
    expect(new Set(many).size).toBe(500);
  });

  test('never contains the credential', () => {
    expect(leakOf(credentialFingerprint(API_KEY), API_KEY)).toBeUndefined();
  });
});

describe('redactCredential', () => {
  test('keeps the scheme of an Authorization value and fingerprints the credential after it', () => {
    const masked = redactCredential(`Bearer ${TOKEN}`);
    expect(masked).toMatch(/^Bearer \[redacted sha256:[0-9a-f]{12}\]$/);
    expect(masked).toBe(`Bearer [redacted ${credentialFingerprint(TOKEN)}]`);
  });

  test('keeps other schemes as written: Basic, Token, lower-case bearer', () => {
    expect(redactCredential(PROXY)).toMatch(/^Basic \[redacted sha256:[0-9a-f]{12}\]$/);
    expect(redactCredential(`Token ${API_KEY}`)).toMatch(/^Token \[redacted sha256:[0-9a-f]{12}\]$/);
    expect(redactCredential(`bearer ${TOKEN}`)).toMatch(/^bearer \[redacted sha256:[0-9a-f]{12}\]$/);
  });

  test('a first word that is not an auth scheme is masked with the rest: a key with a space leaks nothing', () => {
    const key = 'sk_live_Mn4Bv6Cx8Zq team-west';
    expect(redactCredential(key)).toMatch(REDACTED);
    expect(leakOf(redactCredential(key), key)).toBeUndefined();
  });

  test('a value without a scheme is masked whole', () => {
    expect(redactCredential(API_KEY)).toMatch(REDACTED);
    expect(redactCredential(API_KEY)).toBe(`[redacted ${credentialFingerprint(API_KEY)}]`);
    expect(redactCredential(SESSION)).toMatch(REDACTED);
  });

  test('never contains the secret nor any 6-character piece of it', () => {
    for (const value of [`Bearer ${TOKEN}`, `Token ${API_KEY}`, API_KEY, SESSION, PROXY, `Bearer  ${TOKEN}`]) {
      const masked = redactCredential(value);
      expectNoLeak(masked);
    }
  });

  test('the same value always gives the same mask; a different credential a different one', () => {
    expect(redactCredential(`Bearer ${TOKEN}`)).toBe(redactCredential(`Bearer ${TOKEN}`));
    expect(redactCredential(`Bearer ${TOKEN}`)).not.toBe(redactCredential(`Bearer ${TOKEN}x`));
    expect(redactCredential(API_KEY)).not.toBe(redactCredential(`${API_KEY}2`));
  });

  test('one token correlates across schemes: the fingerprint is of the credential, not the header', () => {
    const fingerprintIn = (masked: string) => /sha256:[0-9a-f]{12}/.exec(masked)?.[0];
    expect(fingerprintIn(redactCredential(`Bearer ${API_KEY}`))).toBe(fingerprintIn(redactCredential(API_KEY)));
  });
});

describe('redactHeaders', () => {
  const masked = {
    authorization: redactCredential(`Bearer ${TOKEN}`),
    'x-api-key': redactCredential(API_KEY),
    cookie: redactCredential(SESSION),
    'proxy-authorization': redactCredential(PROXY),
  };

  test('masks Authorization, X-API-Key, Cookie and Proxy-Authorization of a Headers and leaves the rest', () => {
    const headers = new Headers({
      Authorization: `Bearer ${TOKEN}`,
      'X-API-Key': API_KEY,
      Cookie: SESSION,
      'Proxy-Authorization': PROXY,
      'Content-Type': 'application/json',
      'X-Request-Id': 'req-42',
    });
    const redacted = redactHeaders(headers);
    expect(redacted).toEqual({ ...masked, 'content-type': 'application/json', 'x-request-id': 'req-42' });
    expect(redacted.authorization).toMatch(/^Bearer \[redacted sha256:[0-9a-f]{12}\]$/);
    expectNoLeak(JSON.stringify(redacted));
    // The input is not changed: the request still carries its credentials.
    expect(headers.get('authorization')).toBe(`Bearer ${TOKEN}`);
  });

  test('masks the credential headers of a plain object whatever the case of their names', () => {
    const redacted = redactHeaders({
      AUTHORIZATION: `Bearer ${TOKEN}`,
      'x-Api-KEY': API_KEY,
      COOKIE: SESSION,
      'Proxy-authorization': PROXY,
      Accept: 'text/html',
      'User-Agent': 'curl/8.0',
    });
    expect(redacted).toEqual({ ...masked, accept: 'text/html', 'user-agent': 'curl/8.0' });
    expectNoLeak(JSON.stringify(redacted));
  });

  test('a plain object may hold arrays: credential values are masked as one, others joined as is', () => {
    const redacted = redactHeaders({
      cookie: ['sid=Gh4Jk6Lp8Qr0St', 'csrf=Uv1Wx3Yz5Ab7'],
      'x-forwarded-for': ['203.0.113.7', '10.0.0.1'],
      'x-skipped': undefined,
    });
    expect(redacted.cookie).toMatch(REDACTED);
    expect(redacted['x-forwarded-for']).toBe('203.0.113.7, 10.0.0.1');
    expect(Object.keys(redacted).sort()).toEqual(['cookie', 'x-forwarded-for']);
    expectNoLeak(JSON.stringify(redacted));
  });

  test('masks the credential headers of an array of pairs whatever the case of their names', () => {
    const redacted = redactHeaders([
      ['Authorization', `Bearer ${TOKEN}`],
      ['X-API-KEY', API_KEY],
      ['cookie', SESSION],
      ['PROXY-AUTHORIZATION', PROXY],
      ['Content-Length', '12'],
    ]);
    expect(redacted).toEqual({ ...masked, 'content-length': '12' });
    expectNoLeak(JSON.stringify(redacted));
  });

  test('X-API-Key and Cookie are masked whole even when they start like an Authorization value', () => {
    const redacted = redactHeaders({ 'x-api-key': `Bearer ${API_KEY}`, cookie: `Token ${API_KEY}` });
    expect(redacted['x-api-key']).toMatch(REDACTED);
    expect(redacted.cookie).toMatch(REDACTED);
  });

  test('headers that merely look like credentials are left alone', () => {
    const redacted = redactHeaders({ 'x-api-key-id': 'kid-7', 'www-authenticate': 'Bearer realm="weft"' });
    expect(redacted).toEqual({ 'x-api-key-id': 'kid-7', 'www-authenticate': 'Bearer realm="weft"' });
  });

  test('an X-API-Key with a space in it leaks no part of the key: the whole value is the credential', async () => {
    // The server takes the whole (trimmed) X-API-Key value as the key, spaces included, so no
    // word of it is a "scheme" that may be shown.
    const key = 'ops-primary-key Zr8Qm3Xt';
    const server = await serveWith({ apiKeys: [key], auditSink: () => undefined });
    const request = new Request(`${server.url}/api/v1/workflows`, { headers: { 'x-api-key': key } });
    expect((await fetch(request)).status).toBe(200);
    const redacted = redactHeaders(request.headers);
    expect(redacted['x-api-key']).toMatch(REDACTED);
    expect(leakOf(redacted['x-api-key']!, key)).toBeUndefined();
  });
});

describe('the public entry @lostgradient/weft/server', () => {
  test('exports redactCredential, redactHeaders and credentialFingerprint', async () => {
    const entry = await import('@lostgradient/weft/server');
    expect(entry.redactCredential).toBe(redactCredential);
    expect(entry.redactHeaders).toBe(redactHeaders);
    expect(entry.credentialFingerprint).toBe(credentialFingerprint);
    expect(entry.redactHeaders({ 'X-API-Key': API_KEY })).toEqual({ 'x-api-key': redactCredential(API_KEY) });
  });
});

describe('fingerprints in the audit trail', () => {
  test('a failed attempt is audited with the fingerprint a redacted log line shows, never the key', async () => {
    const events: AuthAuditEvent[] = [];
    const server = await serveWith({ apiKeys: [API_KEY], auditSink: (event) => events.push(event) });
    const guess = 'wk_live_Guess9Yb4Cd6';
    const request = new Request(`${server.url}/api/v1/workflows`, { headers: { authorization: `Bearer ${guess}` } });
    const response = await fetch(request);
    expect(response.status).toBe(401);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ outcome: 'failure', credentialFingerprint: credentialFingerprint(guess) });
    expect(redactHeaders(request.headers).authorization).toBe(`Bearer [redacted ${credentialFingerprint(guess)}]`);
    expect(leakOf(JSON.stringify(events), guess)).toBeUndefined();
  });

  test('the default console audit lines carry the fingerprint and never the presented credential', async () => {
    const lines: string[] = [];
    const warn = spyOn(console, 'warn').mockImplementation((line: string) => void lines.push(line));
    const info = spyOn(console, 'info').mockImplementation((line: string) => void lines.push(line));
    defer(async () => {
      warn.mockRestore();
      info.mockRestore();
    });
    const server = await serveWith({ apiKeys: [API_KEY] });
    const guess = 'wk_live_Guess9Yb4Cd6';
    expect((await fetch(`${server.url}/api/v1/workflows`, { headers: { 'x-api-key': guess } })).status).toBe(401);
    expect((await fetch(`${server.url}/api/v1/workflows`, { headers: { 'x-api-key': API_KEY } })).status).toBe(200);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(info).toHaveBeenCalledTimes(1);
    const [failure, success] = lines.map((line) => JSON.parse(line) as AuthAuditEvent);
    expect(failure).toMatchObject({
      type: 'weft.auth-audit',
      outcome: 'failure',
      credentialFingerprint: credentialFingerprint(guess),
    });
    expect(success).toMatchObject({ type: 'weft.auth-audit', outcome: 'success' });
    expect(success).not.toHaveProperty('credentialFingerprint');
    for (const line of lines) {
      expect(leakOf(line, guess)).toBeUndefined();
      expect(leakOf(line, API_KEY)).toBeUndefined();
    }
  });
});
