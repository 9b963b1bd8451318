/**
 * `createRotatingApiKeyStore()`: a mutable, in-process API key registry for
 * `serve({ auth: { resolveApiKeyPrincipal: keys.resolve } })`. Keys are added and revoked while the
 * server runs; during a rotation the outgoing and the replacement key both authenticate.
 *
 * Keys are kept as SHA-256 digests and looked up in constant time (see api-keys.ts); a key past its
 * `expiresAt` is refused (and dropped) on its next use, with no `revoke` needed.
 */
import { InvalidArgumentError } from '../../core/errors.ts';
import type { Principal } from './auth-config.ts';
import { keyDigest, matchKey } from './api-keys.ts';

/** What a key grants, and until when. */
export interface RotatingKeyGrant extends Principal {
  /** Absolute expiry (a `Date` or epoch milliseconds); the key is refused from then on. */
  expiresAt?: Date | number;
}

/**
 * The registry. `resolve` is a bound function: pass it as `resolveApiKeyPrincipal` as is.
 *
 * @example
 * const keys = createRotatingApiKeyStore();
 * keys.add('key-v2', { subject: 'service-account', scopes: ['workflows:read'] });
 * keys.revoke('key-v1');
 */
export interface RotatingApiKeyStore {
  /** Adds a key (or replaces what an existing key grants). */
  add(key: string, grant: RotatingKeyGrant): void;
  /** Removes a key; `true` when it was there. */
  revoke(key: string): boolean;
  /** The principal of a live key, or `undefined`. */
  readonly resolve: (key: string) => Principal | undefined;
  /** How many keys are held (expired ones until their next lookup). */
  readonly size: number;
}

/** Options of `createRotatingApiKeyStore`; `now` is for tests that move the clock. */
export interface RotatingApiKeyStoreOptions {
  now?: () => number;
}

interface Entry {
  digest: Buffer;
  principal: Principal;
  expiresAt: number;
}

/**
 * Creates an empty key registry.
 *
 * @example
 * import { createRotatingApiKeyStore, serve } from '@lostgradient/weft/server';
 * const keys = createRotatingApiKeyStore();
 * keys.add('key-v1', { subject: 'ci', scopes: ['workflows:write'], expiresAt: new Date('2027-01-01') });
 * serve({ engine, auth: { resolveApiKeyPrincipal: keys.resolve } });
 */
export function createRotatingApiKeyStore(options: RotatingApiKeyStoreOptions = {}): RotatingApiKeyStore {
  const now = options.now ?? Date.now;
  let entries: Entry[] = [];
  // Kept beside the entries so a lookup on the request path allocates nothing.
  let digests: Buffer[] = [];
  const replace = (next: Entry[]) => {
    entries = next;
    digests = next.map((entry) => entry.digest);
  };
  const indexOf = (key: string): number => matchKey(digests, key);
  return {
    add(key, grant) {
      checkKey(key);
      const entry: Entry = { digest: keyDigest(key), principal: principalOf(grant), expiresAt: expiryOf(grant) };
      const index = indexOf(key);
      replace(index === -1 ? [...entries, entry] : entries.map((old, at) => (at === index ? entry : old)));
    },
    revoke(key) {
      if (typeof key !== 'string') return false;
      const index = indexOf(key);
      if (index === -1) return false;
      replace(entries.filter((_, at) => at !== index));
      return true;
    },
    resolve: (key) => {
      if (typeof key !== 'string' || key === '') return undefined;
      const index = indexOf(key);
      if (index === -1) return undefined;
      const entry = entries[index]!;
      if (now() >= entry.expiresAt) {
        replace(entries.filter((other) => other !== entry));
        return undefined;
      }
      return { subject: entry.principal.subject, scopes: [...entry.principal.scopes] };
    },
    get size() {
      return entries.length;
    },
  };
}

function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0)
    throw new InvalidArgumentError('An API key must be a non-empty string');
}

function principalOf(grant: RotatingKeyGrant): Principal {
  if (grant === null || typeof grant !== 'object') throw new InvalidArgumentError('add(key, grant) needs a grant');
  const { subject, scopes } = grant;
  if (typeof subject !== 'string' || subject === '') {
    throw new InvalidArgumentError('A key grant needs a non-empty subject');
  }
  if (!Array.isArray(scopes) || !scopes.every((scope) => typeof scope === 'string')) {
    throw new InvalidArgumentError('A key grant needs scopes: an array of strings');
  }
  return { subject, scopes: [...scopes] };
}

function expiryOf(grant: RotatingKeyGrant): number {
  const { expiresAt } = grant;
  if (expiresAt === undefined) return Number.POSITIVE_INFINITY;
  const at = expiresAt instanceof Date ? expiresAt.getTime() : expiresAt;
  if (typeof at !== 'number' || !Number.isFinite(at)) {
    throw new InvalidArgumentError('expiresAt must be a valid Date or epoch milliseconds');
  }
  return at;
}
