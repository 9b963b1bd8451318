import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { CryptoKey, JWK, JWTPayload } from 'jose';
import { InvalidArgumentError } from '../../core/errors.ts';
import type { JwtOptions } from './auth-config.ts';
import { createJwtVerifier, JWT_CLOCK_TOLERANCE_SECONDS, JwtRejectedError, looksLikeJwt } from './jwt-verifier.ts';

const SECRET = 'a-test-secret-that-is-at-least-32-bytes-long';
const secretKey = new TextEncoder().encode(SECRET);
const now = () => Math.floor(Date.now() / 1000);

interface SignOptions {
  alg?: string;
  /** Seconds since the epoch; `null` leaves `exp` out. Default: a minute from now. */
  exp?: number | null;
  kid?: string;
}
const sign = async (claims: JWTPayload, key: CryptoKey | Uint8Array = secretKey, options: SignOptions = {}) => {
  const { alg = 'HS256', exp = now() + 60, kid } = options;
  const jwt = new SignJWT(claims).setProtectedHeader(kid === undefined ? { alg } : { alg, kid });
  if (exp !== null) jwt.setExpirationTime(exp);
  return jwt.sign(key);
};
/** The reason a verification was turned away, or 'accepted'; anything but a JwtRejectedError fails the test. */
const outcome = async (verifying: Promise<unknown>) => {
  try {
    await verifying;
  } catch (error) {
    if (error instanceof JwtRejectedError) return error.reason;
    throw error;
  }
  return 'accepted';
};
const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const configError = (options: JwtOptions) => {
  try {
    createJwtVerifier(options);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgumentError);
    return (error as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(options)}`);
};

describe('verifying HMAC tokens with a secret', () => {
  const verify = createJwtVerifier({ secret: SECRET });

  test('a valid HS256 token yields its subject and the scopes of its space-separated scope claim', async () => {
    const token = await sign({ sub: 'billing-service', scope: 'workflows:read  workflows:write' });
    expect(await verify(token)).toEqual({ subject: 'billing-service', scopes: ['workflows:read', 'workflows:write'] });
  });

  test('scopes come from a scopes array too, and from both claims as one de-duplicated list in first-seen order', async () => {
    expect(await verify(await sign({ sub: 'a', scopes: ['workflows:read', 'workflows:admin'] }))).toEqual({
      subject: 'a',
      scopes: ['workflows:read', 'workflows:admin'],
    });
    expect(await verify(await sign({ sub: 'a', scopes: 'workflows:read workflows:write' }))).toEqual({
      subject: 'a',
      scopes: ['workflows:read', 'workflows:write'],
    });
    const both = await sign({ sub: 'a', scope: 'b:x a:x', scopes: ['a:x', 'c:x', 'b:x'] });
    expect((await verify(both)).scopes).toEqual(['b:x', 'a:x', 'c:x']);
  });

  test('wrongly typed scope claims yield no scopes from them, and no crash', async () => {
    expect((await verify(await sign({ sub: 'a', scope: 42, scopes: { read: true } }))).scopes).toEqual([]);
    expect(
      (await verify(await sign({ sub: 'a', scope: ['x:read'], scopes: [1, null, { a: 1 }, 'y:read'] }))).scopes,
    ).toEqual(['y:read']);
    expect((await verify(await sign({ sub: 'a' }))).scopes).toEqual([]);
  });

  test('a token signed with another secret is invalid, and the error does not carry the token', async () => {
    const token = await sign({ sub: 'a' }, new TextEncoder().encode('another-secret-that-is-32-bytes-long!!'));
    const error = await verify(token).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JwtRejectedError);
    expect((error as JwtRejectedError).reason).toBe('invalid');
    expect((error as Error).message).not.toContain(token);
    expect((error as Error).message).not.toContain(token.split('.')[2] ?? '');
  });

  test('a token past its exp by more than the clock tolerance is expired; within the tolerance it is accepted', async () => {
    expect(await outcome(verify(await sign({ sub: 'a' }, secretKey, { exp: now() - 60 })))).toBe('expired');
    const justPast = now() - Math.floor(JWT_CLOCK_TOLERANCE_SECONDS / 2);
    expect(await outcome(verify(await sign({ sub: 'a' }, secretKey, { exp: justPast })))).toBe('accepted');
  });

  test('a token without exp is invalid: it would never expire', async () => {
    expect(await outcome(verify(await sign({ sub: 'a' }, secretKey, { exp: null })))).toBe('invalid');
  });

  test('a token without a non-empty string sub is invalid', async () => {
    expect(await outcome(verify(await sign({ scope: 'workflows:read' })))).toBe('invalid');
    expect(await outcome(verify(await sign({ sub: '' })))).toBe('invalid');
  });

  test('an unsecured alg "none" token is invalid', async () => {
    const unsecured = `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ sub: 'a', exp: now() + 60 })}.`;
    expect(looksLikeJwt(unsecured)).toBe(true);
    expect(await outcome(verify(unsecured))).toBe('invalid');
  });

  test('a token whose alg is not among the configured algorithms is invalid', async () => {
    const only512 = createJwtVerifier({ secret: SECRET, algorithms: ['HS512'] });
    expect(await outcome(only512(await sign({ sub: 'a' }, secretKey, { alg: 'HS256' })))).toBe('invalid');
    expect(await outcome(only512(await sign({ sub: 'a' }, secretKey, { alg: 'HS512' })))).toBe('accepted');
  });

  test('garbage is invalid, not a crash', async () => {
    for (const token of ['', 'not-a-jwt', 'a.b.c', `${base64url({ alg: 'HS256' })}.${base64url('x')}.sig`]) {
      expect(await outcome(verify(token))).toBe('invalid');
    }
  });
});

describe('issuer and audience', () => {
  const verify = createJwtVerifier({ secret: SECRET, issuer: 'https://id.example.com', audience: 'weft' });

  test('a token from the configured issuer for the configured audience is accepted', async () => {
    expect(await outcome(verify(await sign({ sub: 'a', iss: 'https://id.example.com', aud: 'weft' })))).toBe(
      'accepted',
    );
    expect(await outcome(verify(await sign({ sub: 'a', iss: 'https://id.example.com', aud: ['x', 'weft'] })))).toBe(
      'accepted',
    );
  });

  test('another or a missing issuer is invalid', async () => {
    expect(await outcome(verify(await sign({ sub: 'a', iss: 'https://evil.example.com', aud: 'weft' })))).toBe(
      'invalid',
    );
    expect(await outcome(verify(await sign({ sub: 'a', aud: 'weft' })))).toBe('invalid');
  });

  test('another or a missing audience is invalid', async () => {
    expect(await outcome(verify(await sign({ sub: 'a', iss: 'https://id.example.com', aud: 'other' })))).toBe(
      'invalid',
    );
    expect(await outcome(verify(await sign({ sub: 'a', iss: 'https://id.example.com' })))).toBe('invalid');
  });
});

describe('verifying signatures with a public key', () => {
  for (const alg of ['RS256', 'ES256'] as const) {
    test(`${alg}: the public key as a CryptoKey verifies, another key pair's token is invalid`, async () => {
      const { publicKey, privateKey } = await generateKeyPair(alg);
      const other = await generateKeyPair(alg);
      const verify = createJwtVerifier({ publicKey });
      expect(await verify(await sign({ sub: 'a', scope: 'workflows:read' }, privateKey, { alg }))).toEqual({
        subject: 'a',
        scopes: ['workflows:read'],
      });
      expect(await outcome(verify(await sign({ sub: 'a' }, other.privateKey, { alg })))).toBe('invalid');
    });

    test(`${alg}: the public key as a JWK verifies, with or without its alg`, async () => {
      const { publicKey, privateKey } = await generateKeyPair(alg);
      const jwk = await exportJWK(publicKey);
      const token = await sign({ sub: 'a' }, privateKey, { alg });
      const withoutAlg = createJwtVerifier({ publicKey: jwk });
      expect((await withoutAlg(token)).subject).toBe('a');
      expect((await withoutAlg(token)).subject).toBe('a');
      expect((await createJwtVerifier({ publicKey: { ...jwk, alg } })(token)).subject).toBe('a');
      const other = await generateKeyPair(alg);
      expect(await outcome(withoutAlg(await sign({ sub: 'a' }, other.privateKey, { alg })))).toBe('invalid');
    });
  }

  test('a token whose alg is not among the configured algorithms is invalid', async () => {
    const { publicKey, privateKey } = await generateKeyPair('PS256');
    const verify = createJwtVerifier({ publicKey, algorithms: ['RS256'] });
    expect(await outcome(verify(await sign({ sub: 'a' }, privateKey, { alg: 'PS256' })))).toBe('invalid');
  });
});

describe('verifying against a JWKS URL', () => {
  let keys: { publicKey: CryptoKey; privateKey: CryptoKey };
  let outsider: { publicKey: CryptoKey; privateKey: CryptoKey };
  let server: ReturnType<typeof Bun.serve>;
  let fetches = 0;
  let jwks: { keys: JWK[] };

  beforeAll(async () => {
    keys = await generateKeyPair('RS256');
    outsider = await generateKeyPair('RS256');
    jwks = { keys: [{ ...(await exportJWK(keys.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }] };
    server = Bun.serve({
      port: 0,
      fetch: (request) => {
        if (new URL(request.url).pathname === '/broken') return new Response('boom', { status: 500 });
        fetches += 1;
        return Response.json(jwks);
      },
    });
  });
  afterAll(async () => {
    await server.stop(true);
  });

  test('a token signed by a key of the set verifies, and the set is fetched once for many tokens', async () => {
    const verify = createJwtVerifier({ jwksUrl: new URL('/jwks.json', server.url).href });
    const before = fetches;
    for (const sub of ['a', 'b', 'c']) {
      expect((await verify(await sign({ sub }, keys.privateKey, { alg: 'RS256', kid: 'k1' }))).subject).toBe(sub);
    }
    expect(fetches - before).toBe(1);
  });

  test('a token signed by a key outside the set is invalid, whatever kid it claims', async () => {
    const verify = createJwtVerifier({ jwksUrl: new URL('/jwks.json', server.url).href });
    expect(await outcome(verify(await sign({ sub: 'a' }, outsider.privateKey, { alg: 'RS256', kid: 'k2' })))).toBe(
      'invalid',
    );
    expect(await outcome(verify(await sign({ sub: 'a' }, outsider.privateKey, { alg: 'RS256', kid: 'k1' })))).toBe(
      'invalid',
    );
  });

  test('a JWKS endpoint that fails or cannot be reached makes the token invalid, not a crash', async () => {
    const token = await sign({ sub: 'a' }, keys.privateKey, { alg: 'RS256', kid: 'k1' });
    expect(await outcome(createJwtVerifier({ jwksUrl: new URL('/broken', server.url).href })(token))).toBe('invalid');

    const gone = Bun.serve({ port: 0, fetch: () => Response.json(jwks) });
    const deadUrl = new URL('/jwks.json', gone.url).href;
    await gone.stop(true);
    expect(await outcome(createJwtVerifier({ jwksUrl: deadUrl })(token))).toBe('invalid');
  });
});

describe('configuration', () => {
  test('no key source, or more than one, is an InvalidArgumentError', async () => {
    const { publicKey } = await generateKeyPair('ES256');
    expect(configError({})).toContain('one of secret, publicKey or jwksUrl');
    expect(configError({ issuer: 'https://id.example.com' })).toContain('key source');
    expect(configError({ secret: SECRET, jwksUrl: 'https://id.example.com/jwks' })).toContain('secret and jwksUrl');
    expect(configError({ secret: SECRET, publicKey })).toContain('secret and publicKey');
  });

  test('an empty secret, a jwksUrl that is not an http(s) URL, or an empty issuer or audience is refused', () => {
    expect(configError({ secret: '' })).toContain('non-empty');
    expect(configError({ jwksUrl: 'not a url' })).toContain('http(s)');
    expect(configError({ jwksUrl: 'file:///etc/jwks.json' })).toContain('http(s)');
    expect(configError({ secret: SECRET, issuer: '' })).toContain('issuer');
    expect(configError({ secret: SECRET, audience: '' })).toContain('audience');
  });

  test('algorithms must be a non-empty list without "none", of the key source\'s family', async () => {
    const { publicKey } = await generateKeyPair('ES256');
    expect(configError({ secret: SECRET, algorithms: [] })).toContain('non-empty');
    expect(configError({ secret: SECRET, algorithms: ['HS256', 'none'] })).toContain('"none"');
    expect(configError({ publicKey, algorithms: ['none'] })).toContain('"none"');
    expect(configError({ secret: SECRET, algorithms: ['RS256'] })).toContain('RS256');
    expect(configError({ publicKey, algorithms: ['ES256', 'HS256'] })).toContain('HS256');
  });

  test('publicKey must be the public half of an asymmetric key', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    expect(configError({ publicKey: privateKey })).toContain('public key');
    expect(configError({ publicKey: await exportJWK(privateKey) })).toContain('private JWK');
    expect(configError({ publicKey: { kty: 'oct', k: 'c2VjcmV0' } })).toContain('secret');
    const jwk = { ...(await exportJWK(publicKey)), alg: 'ES256' };
    expect(configError({ publicKey: jwk, algorithms: ['ES384'] })).toContain('ES256');
  });
});

describe('looksLikeJwt', () => {
  test('a compact JWS, signed or not, looks like a JWT', async () => {
    expect(looksLikeJwt(await sign({ sub: 'a' }))).toBe(true);
    expect(looksLikeJwt('eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln')).toBe(true);
    expect(looksLikeJwt(`${base64url({ alg: 'none' })}.${base64url({ sub: 'a' })}.`)).toBe(true);
  });

  test('anything else does not', () => {
    for (const token of [
      '',
      'wk_live_3f9a8b7c6d5e',
      'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0',
      'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln.c2ln',
      '.eyJzdWIiOiJhIn0.c2ln',
      'eyJhbGciOiJIUzI1NiJ9..c2ln',
      'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln+/==',
      'eyJhbGciOiJIUzI1NiJ9.eyJzd WIiOiJhIn0.c2ln',
      'eyJhb.eyJzdWIiOiJhIn0.c2ln',
    ]) {
      expect(looksLikeJwt(token)).toBe(false);
    }
  });
});
