/**
 * HTTP/1.1 spoken by hand over a TCP socket, for tests of what `fetch` will not send: a forged or
 * malformed `Host`, a body that is declared and withheld, a request with no `Content-Type`.
 */

/** A response read off the socket: its status, lower-cased headers and body text. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * A TCP connection to `127.0.0.1:port` that writes raw bytes and reads the first response.
 *
 * @example
 * await using connection = await rawConnection(server.port);
 * connection.write('GET /v1/health HTTP/1.1\r\nHost: x:99999\r\n\r\n');
 * (await connection.response()).status; // 400
 */
export async function rawConnection(port: number): Promise<RawConnection> {
  const received: Buffer[] = [];
  let closed = false;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    wake?.();
    wake = undefined;
  };
  const socket = await Bun.connect({
    hostname: '127.0.0.1',
    port,
    socket: {
      data: (_socket, chunk) => {
        received.push(Buffer.from(chunk));
        notify();
      },
      close: () => {
        closed = true;
        notify();
      },
      error: () => {
        closed = true;
        notify();
      },
    },
  });
  const next = (): Promise<void> => new Promise((resolve) => (wake = resolve));
  return {
    write: (text) => void socket.write(text),
    get closed() {
      return closed;
    },
    async response() {
      for (;;) {
        const parsed = parseResponse(Buffer.concat(received).toString('latin1'));
        if (parsed !== undefined) return parsed;
        if (closed)
          throw new Error(
            `The connection closed before a whole response: ${JSON.stringify(Buffer.concat(received).toString('latin1'))}`,
          );
        await next();
      }
    },
    async [Symbol.asyncDispose]() {
      socket.end();
      if (!closed) await Promise.race([next(), Bun.sleep(1000)]);
    },
  };
}

/** A raw connection (see `rawConnection`); disposing it closes the socket. */
export interface RawConnection extends AsyncDisposable {
  write(text: string): void;
  /** Resolves with the first whole response; rejects if the server closes the connection first. */
  response(): Promise<RawResponse>;
  readonly closed: boolean;
}

/**
 * Sends one request written by hand and reads its response.
 *
 * @example
 * const response = await rawRequest(server.port, 'GET /v1/health HTTP/1.1\r\nHost: a b\r\n\r\n');
 */
export async function rawRequest(port: number, text: string): Promise<RawResponse> {
  await using connection = await rawConnection(port);
  connection.write(text);
  return await connection.response();
}

/** A whole response (by `Content-Length`; or headers only when the body's length is unknown yet). */
function parseResponse(text: string): RawResponse | undefined {
  const end = text.indexOf('\r\n\r\n');
  if (end === -1) return undefined;
  const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? 0);
  const body = text.slice(end + 4);
  if (body.length < length) return undefined;
  return { status: Number(statusLine.split(' ')[1]), headers, body: body.slice(0, length) };
}
