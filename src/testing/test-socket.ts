/**
 * A WebSocket client for tests (not part of the public `./testing` entry): every message kept in
 * order and decoded (JSON text, MessagePack binary), awaitable one at a time or until a predicate
 * holds, and the close code awaitable too.
 */
import { unpack } from 'msgpackr';

export interface TestSocket extends AsyncDisposable {
  readonly socket: WebSocket;
  /** Every message received so far, decoded. */
  readonly messages: unknown[];
  /** Resolves once open; rejects if the handshake failed. */
  readonly opened: Promise<void>;
  /** Resolves with the close code and reason. */
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Resolves with the messages once `predicate` holds for them (checked on every message). */
  until(predicate: (messages: unknown[]) => boolean): Promise<unknown[]>;
  /** Sends a value as JSON text. */
  send(value: unknown): void;
}

/**
 * Opens a WebSocket to `url` (`http` is turned into `ws`).
 *
 * @example
 * await using watch = openTestSocket(`${server.url}/api/v1/workflows/a/watch`);
 * await watch.until((messages) => messages.length === 3);
 */
export function openTestSocket(url: string, protocols?: string | string[]): TestSocket {
  const socket = new WebSocket(url.replace(/^http/, 'ws'), protocols);
  socket.binaryType = 'arraybuffer';
  const messages: unknown[] = [];
  const waiters = new Set<() => void>();
  const opened = Promise.withResolvers<void>();
  const closed = Promise.withResolvers<{ code: number; reason: string }>();
  let isClosed = false;
  socket.onopen = () => opened.resolve();
  socket.onmessage = (event) => {
    const data: unknown = event.data;
    messages.push(typeof data === 'string' ? JSON.parse(data) : unpack(new Uint8Array(data as ArrayBuffer)));
    for (const wake of [...waiters]) wake();
  };
  socket.onerror = () => opened.reject(new Error('WebSocket error'));
  socket.onclose = (event) => {
    isClosed = true;
    opened.reject(new Error(`closed before open: ${event.code}`));
    closed.resolve({ code: event.code, reason: event.reason });
    for (const wake of [...waiters]) wake();
  };
  // Handled by whoever awaits them; an unawaited rejection must not fail an unrelated test.
  opened.promise.catch(() => undefined);
  const until = (predicate: (messages: unknown[]) => boolean): Promise<unknown[]> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (predicate(messages)) {
          waiters.delete(check);
          resolve(messages);
        } else if (isClosed) {
          waiters.delete(check);
          reject(new Error(`socket closed; got ${JSON.stringify(messages).slice(0, 2000)}`));
        }
      };
      waiters.add(check);
      check();
    });
  return {
    socket,
    messages,
    opened: opened.promise,
    closed: closed.promise,
    until,
    send: (value) => socket.send(JSON.stringify(value)),
    [Symbol.asyncDispose]: async () => {
      if (!isClosed) {
        socket.close();
        await closed.promise;
      }
    },
  };
}
