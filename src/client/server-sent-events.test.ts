/**
 * The event-stream parser against the standard's rules, fed in every split a network can produce:
 * line ends of each kind (and a CRLF cut between two reads), comments, fields without a colon or
 * without the optional space, multi-line data, ids that carry over, and partial events at the end.
 */
import { describe, expect, test } from 'bun:test';
import { readServerSentEvents, ServerSentEventParser, type ServerSentEvent } from './server-sent-events.ts';

/** Every event of `text` pushed in the given pieces. */
function parse(...pieces: string[]): ServerSentEvent[] {
  const parser = new ServerSentEventParser();
  return pieces.flatMap((piece) => parser.push(piece));
}

/** A body that delivers `chunks` one read at a time. */
function body(chunks: (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(typeof chunk === 'string' ? encoder.encode(chunk) : chunk);
      controller.close();
    },
  });
}

async function all(stream: ReadableStream<Uint8Array>): Promise<ServerSentEvent[]> {
  const events: ServerSentEvent[] = [];
  for await (const event of readServerSentEvents(stream)) events.push(event);
  return events;
}

describe('ServerSentEventParser', () => {
  test('a frame as the server writes it comes out with its name, data and id', () => {
    expect(parse('retry: 1000\n: connected\n\nid: 3\nevent: watch\ndata: {"seq":3}\n\n')).toEqual([
      { event: 'watch', data: '{"seq":3}', id: '3' },
    ]);
  });

  test('LF, CRLF and CR all end lines, also when a CRLF is split between two reads', () => {
    const expected = [
      { event: 'a', data: '1', id: '' },
      { event: 'b', data: '2', id: '' },
      { event: 'c', data: '3', id: '' },
    ];
    const text = 'event: a\ndata: 1\n\nevent: b\r\ndata: 2\r\n\r\nevent: c\rdata: 3\r\r';
    expect(parse(text)).toEqual(expected);
    for (let cut = 0; cut <= text.length; cut++) expect(parse(text.slice(0, cut), text.slice(cut))).toEqual(expected);
    expect(parse(...text.split(''))).toEqual(expected);
  });

  test('a CR at the end of one read followed by a LF is one line end, not a blank line', () => {
    expect(parse('data: x\r', '\ndata: y\r', '\n\r', '\n')).toEqual([{ event: 'message', data: 'x\ny', id: '' }]);
  });

  test('comments are skipped; data lines are joined by LF; only one leading space is removed', () => {
    expect(parse(': hi\ndata:a\ndata:  b\ndata\n: keep-alive\n\n')).toEqual([
      { event: 'message', data: 'a\n b\n', id: '' },
    ]);
  });

  test('an event without data is not dispatched, and its name does not leak into the next', () => {
    expect(parse('event: end\n\ndata: x\n\n')).toEqual([{ event: 'message', data: 'x', id: '' }]);
  });

  test('an id carries over to later events; an id holding NUL is ignored; unknown fields are ignored', () => {
    expect(parse('id: 7\ndata: a\n\ndata: b\n\nid: 8\0\nretry: 5\nfoo: bar\ndata: c\n\nid\ndata: d\n\n')).toEqual([
      { event: 'message', data: 'a', id: '7' },
      { event: 'message', data: 'b', id: '7' },
      { event: 'message', data: 'c', id: '7' },
      { event: 'message', data: 'd', id: '' },
    ]);
  });
});

describe('readServerSentEvents', () => {
  test('a multi-byte character split between reads arrives whole, and a leading BOM is dropped', async () => {
    const bytes = new TextEncoder().encode('\uFEFFdata: caf\u00e9 \u{1F600}\n\n');
    const events = await all(body([bytes.slice(0, 10), bytes.slice(10, 17), bytes.slice(17)]));
    expect(events).toEqual([{ event: 'message', data: 'caf\u00e9 \u{1F600}', id: '' }]);
  });

  test('an event cut off by the end of the body is dropped, not dispatched half-read', async () => {
    expect(await all(body(['data: whole\n\n', 'data: cut\n']))).toEqual([{ event: 'message', data: 'whole', id: '' }]);
    expect(await all(body(['data: whole\n\ndata: {"seq"']))).toHaveLength(1);
  });

  test('aborting the signal ends the iteration and cancels a body that would never end', async () => {
    let cancelled = false;
    const endless = new ReadableStream<Uint8Array>({
      start: (controller) => controller.enqueue(new TextEncoder().encode('data: first\n\n')),
      cancel: () => void (cancelled = true),
    });
    const abort = new AbortController();
    const seen: string[] = [];
    for await (const event of readServerSentEvents(endless, { signal: abort.signal })) {
      seen.push(event.data);
      abort.abort();
    }
    expect(seen).toEqual(['first']);
    expect(cancelled).toBe(true);
  });
});
