/**
 * API keys compared in constant time. A presented key is hashed (SHA-256) and its digest compared
 * with every stored digest by `timingSafeEqual`, without stopping at the first match.
 *
 * Trap it avoids: a timing oracle. `===` on strings returns as soon as a byte differs, so response
 * times would tell an attacker how much of a guessed key is right. Comparing fixed-length digests
 * also hides the keys' lengths.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** The SHA-256 digest of a key: what is kept and compared instead of the key. */
export function keyDigest(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

/**
 * The index of the digest equal to the presented key's, or -1; every digest is compared.
 *
 * @example
 * const digests = ['k1', 'k2'].map(keyDigest);
 * matchKey(digests, 'k2'); // 1
 */
export function matchKey(digests: readonly Buffer[], presented: string): number {
  const digest = keyDigest(presented);
  let found = -1;
  for (let index = 0; index < digests.length; index++) {
    // No early exit: the time spent does not depend on where (or whether) the key matched.
    if (timingSafeEqual(digests[index]!, digest) && found === -1) found = index;
  }
  return found;
}
