/**
 * A test client of `handleRequest` for the server's tests: sends JSON (or raw bytes) and parses the
 * response by its content type, so a test reads like an HTTP conversation.
 */
import { expect } from 'bun:test';
import { unpack } from 'msgpackr';
import type { Engine } from '../engine/engine.ts';
import type { HandlerOptions } from './handler-index.ts';
import { handleRequest } from './handler-index.ts';

export interface Reply {
  status: number;
  headers: Headers;
  body: unknown;
}

export interface Send {
  (method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Reply>;
  engine: Engine;
}

/**
 * A client of `handleRequest`: JSON in and out unless told otherwise (a string body is sent as JSON
 * text, bytes with no type); the body parsed by its type.
 */
export function client(engine: Engine, options?: HandlerOptions): Send {
  const send = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const init: RequestInit = { method, headers: { ...headers } };
    if (body !== undefined) {
      init.body = typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body);
      if (!(body instanceof Uint8Array)) {
        (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
      }
    }
    const response = await handleRequest(new Request(`http://weft.test${path}`, init), engine, options);
    return { status: response.status, headers: response.headers, body: await bodyOf(response) };
  };
  return Object.assign(send, { engine });
}

async function bodyOf(response: Response): Promise<unknown> {
  const type = response.headers.get('content-type') ?? '';
  if (response.status === 204) return (await response.arrayBuffer()).byteLength === 0 ? undefined : 'unexpected body';
  if (type.startsWith('application/msgpack')) return unpack(new Uint8Array(await response.arrayBuffer()));
  if (type.startsWith('application/json')) return response.json();
  return response.text();
}

// bun's asymmetric matchers are typed `any`: this is the one place that builds one outside a test file.
// eslint-disable-next-line @typescript-eslint/no-unsafe-assignment
export const errorOf = (code: string) => ({ error: expect.objectContaining({ code, message: expect.any(String) }) });
