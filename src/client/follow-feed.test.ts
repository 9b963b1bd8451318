/**
 * The reconnect policy of `watch` / `stream` / `events` against a scripted `fetch`: which answers
 * are retried and which thrown, the cursor each reconnect sends, and the idle watchdog. What a
 * real server does is in http-client-feeds.test.ts; here every answer is chosen by the test.
 */
import { describe, expect, test } from 'bun:test';
import { WeftError } from '../core/errors.ts';
import { HttpClient } from './http-client.ts';
import { weftRejection } from '../testing/weft-rejection.ts';

/** An answer of the scripted server: a response, or a network failure. */
type Answer = Response | Error;

/** A client whose requests get `answers` in order (the last one repeats), recording each request's URL. */
function scripted(answers: (() => Answer)[]): { client: HttpClient; urls: string[] } {
  const urls: string[] = [];
  const client = new HttpClient({
    baseUrl: 'http://weft.test',
    headers: { 'x-tenant': 'acme' },
    fetch: async (request) => {
      expect(request.headers.get('accept')).toBe('text/event-stream');
      expect(request.headers.get('x-tenant')).toBe('acme');
      urls.push(request.url);
      const answer = answers[Math.min(urls.length, answers.length) - 1]!();
      if (answer instanceof Error) throw answer;
      return answer;
    },
  });
  return { client, urls };
}

/** An SSE response of `text`, closed after it unless `open`. */
function sse(text: string, options: { open?: boolean; status?: number } = {}): Response {
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(text));
      if (options.open !== true) controller.close();
    },
  });
  return new Response(stream, { status: options.status ?? 200, headers: { 'content-type': 'text/event-stream' } });
}

function frame(seq: number, status = 'running'): string {
  return `id: ${seq}\nevent: watch\ndata: ${JSON.stringify({ seq, type: 't', status, timestamp: '', data: {} })}\n\n`;
}

function refusal(status: number, code: string, headers: Record<string, string> = {}): Response {
  return Response.json({ error: { code, message: `refused: ${code}` } }, { status, headers });
}

async function seqsOf(frames: AsyncIterable<{ seq: number }>): Promise<number[]> {
  const seqs: number[] = [];
  for await (const { seq } of frames) seqs.push(seq);
  return seqs;
}

const fast = { retryDelayMs: 1 };

describe('following a feed', () => {
  test('a response that ends without `end` is resumed from the last frame yielded; a half-sent frame is not yielded', async () => {
    const { client, urls } = scripted([
      () => sse(frame(1) + frame(2) + 'id: 3\nevent: watch\ndata: {"seq":3'),
      () => sse(frame(2) + frame(3) + frame(4, 'completed') + 'event: end\ndata: {}\n\n'),
    ]);
    expect(await seqsOf(client.watch('run/1', fast))).toEqual([1, 2, 3, 4]);
    expect(urls).toEqual([
      'http://weft.test/api/v1/workflows/run%2F1/watch',
      'http://weft.test/api/v1/workflows/run%2F1/watch?resumeFrom=2',
    ]);
  });

  test('network errors, 429, 502, 503 and 504 are retried with the same cursor', async () => {
    const { client, urls } = scripted([
      () => new TypeError('fetch failed'),
      () => refusal(503, 'overloaded', { 'retry-after': '0' }),
      () => refusal(429, 'too_many_connections'),
      () => new Response('bad gateway', { status: 502 }),
      () => new Response('gateway timeout', { status: 504 }),
      () => sse(frame(5) + 'event: end\ndata: {}\n\n'),
    ]);
    expect(await seqsOf(client.watch('r', { ...fast, after: 4 }))).toEqual([5]);
    expect(urls).toHaveLength(6);
    expect(urls.every((url) => url.endsWith('?resumeFrom=4'))).toBe(true);
  });

  test("any other refusal is thrown as the server's WeftError, without a second try", async () => {
    for (const [status, code] of [
      [401, 'unauthenticated'],
      [403, 'forbidden'],
      [404, 'workflow_not_found'],
      [400, 'replay_window_too_large'],
      [500, 'internal'],
    ] as const) {
      const { client, urls } = scripted([() => refusal(status, code)]);
      const error = await weftRejection(seqsOf(client.events({ ...fast, after: 0 })));
      expect(error.code).toBe(code);
      expect(error.details?.status).toBe(status);
      expect(urls).toHaveLength(1);
    }
  });

  test('a 200 that is not an event stream, or a frame without a seq, is unexpected_response', async () => {
    const json = scripted([() => Response.json({ items: [] })]);
    expect((await weftRejection(seqsOf(json.client.events(fast)))).code).toBe('unexpected_response');
    const garbled = scripted([() => sse('event: watch\ndata: {"no":"seq"}\n\n')]);
    expect((await weftRejection(seqsOf(garbled.client.watch('r', fast)))).code).toBe('unexpected_response');
  });

  test('the fleet feed treats `end` as a closed connection and reconnects; a run feed stops at it', async () => {
    const event = (seq: number) => `id: ${seq}\nevent: event\ndata: {"seq":${seq}}\n\n`;
    const { client, urls } = scripted([
      () => sse(event(1) + 'event: end\ndata: {}\n\n'),
      () => sse(event(2), { open: true }),
    ]);
    const seqs: number[] = [];
    for await (const { seq } of client.events({ ...fast, after: 0 })) {
      seqs.push(seq);
      if (seq === 2) break;
    }
    expect(seqs).toEqual([1, 2]);
    expect(urls[1]).toEndWith('/api/v1/events?resumeFrom=1');
  });

  test('a connection silent for idleTimeoutMs is dropped and reconnected', async () => {
    const { client, urls } = scripted([
      () => sse(frame(1), { open: true }),
      () => sse(frame(2, 'completed') + 'event: end\ndata: {}\n\n'),
    ]);
    expect(await seqsOf(client.watch('r', { ...fast, idleTimeoutMs: 20 }))).toEqual([1, 2]);
    expect(urls[1]).toEndWith('?resumeFrom=1');
  });

  test('aborting the signal ends the iteration quietly, also while waiting to reconnect', async () => {
    const { client, urls } = scripted([() => new TypeError('fetch failed')]);
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 30);
    expect(await seqsOf(client.watch('r', { retryDelayMs: 5, maxRetryDelayMs: 5, signal: abort.signal }))).toEqual([]);
    expect(urls.length).toBeGreaterThan(1);
    const before = urls.length;
    await Bun.sleep(20);
    expect(urls).toHaveLength(before);
    expect(await seqsOf(client.watch('r', { signal: abort.signal }))).toEqual([]);
    expect(urls).toHaveLength(before);
  });

  test('bad options are refused at the call', () => {
    const { client } = scripted([() => sse('')]);
    expect(() => client.watch('')).toThrow(WeftError);
    expect(() => client.stream('r', { after: -2 })).toThrow("'after' must be -1");
    expect(() => client.events({ after: 1.5 })).toThrow("'after' must be -1");
    expect(() => client.events({ retryDelayMs: -1 })).toThrow("'retryDelayMs'");
    expect(() => client.events({ idleTimeoutMs: Number.NaN })).toThrow("'idleTimeoutMs'");
  });
});
