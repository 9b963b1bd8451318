/**
 * Text as unpadded base64url and back, on `jose`'s codec (already a dependency, and it runs in
 * browsers too): list cursors and the WebSocket credential offer use it.
 */
import { base64url } from 'jose';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * `text`'s UTF-8 bytes as unpadded base64url.
 *
 * @example
 * encodeBase64Url('k-1'); // 'ay0x'
 */
export function encodeBase64Url(text: string): string {
  return base64url.encode(text);
}

/**
 * The UTF-8 text `encoded` holds; `undefined` when it is not unpadded base64url of UTF-8.
 *
 * @example
 * decodeBase64Url('ay0x'); // 'k-1'
 * decodeBase64Url('a+b/'); // undefined
 */
export function decodeBase64Url(encoded: string): string | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(encoded)) return undefined;
  try {
    return utf8.decode(base64url.decode(encoded));
  } catch {
    return undefined;
  }
}
