/**
 * Reading a `text/event-stream` body into its events, as the WHATWG HTML standard's "Interpreting
 * an event stream" says — the part of `EventSource` the feeds need, without `EventSource` (Node 20
 * has none, and a browser's cannot send an `Authorization` header).
 *
 * Traps it avoids:
 * - A line end split across two reads. A body chunk may end with `\r` whose `\n` comes in the next
 *   one; the CR ends the line at once and the LF that follows is skipped, so CRLF is one line end
 *   wherever the chunk boundary falls (and a lone CR or LF is one too).
 * - A character split across two reads. Bytes go through one streaming `TextDecoder`, which keeps
 *   an incomplete UTF-8 sequence for the next chunk (and drops a leading BOM, as the standard says).
 * - A half-received event taken for a whole one. An event is dispatched only at its blank line;
 *   whatever is pending when the body ends is discarded, so a cut connection never yields a
 *   truncated frame.
 */

/** One dispatched event: its `event:` name (`message` when none), its `data:` lines joined by `\n`, and the last `id:`. */
export interface ServerSentEvent {
  event: string;
  data: string;
  /** The last event id the stream set (it carries over to later events, as in `EventSource`). */
  id: string;
}

const LINE_END = /\r\n|\r|\n/g;

/**
 * The line-by-line parser; `push` text as it arrives and take the events it completed. `retry:`
 * lines are ignored: the feeds' own reconnect policy decides when to reconnect.
 *
 * @example
 * const parser = new ServerSentEventParser();
 * parser.push('id: 3\nevent: watch\ndata: {"seq":3}\n'); // []
 * parser.push('\n'); // [{ event: 'watch', data: '{"seq":3}', id: '3' }]
 */
export class ServerSentEventParser {
  /** The current line's text so far (no line end seen yet). */
  #line = '';
  /** The previous push ended with CR: a LF starting this one belongs to that line end. */
  #skipLineFeed = false;
  #event = '';
  #data: string[] = [];
  #id = '';

  /** Feeds decoded text; returns the events whose blank line it contained. */
  push(text: string): ServerSentEvent[] {
    const events: ServerSentEvent[] = [];
    let position = 0;
    if (this.#skipLineFeed && text.length > 0) {
      this.#skipLineFeed = false;
      if (text.startsWith('\n')) position = 1;
    }
    LINE_END.lastIndex = position;
    for (let match = LINE_END.exec(text); match !== null; match = LINE_END.exec(text)) {
      const line = this.#line + text.slice(position, match.index);
      this.#line = '';
      position = match.index + match[0].length;
      // A CR as the last character may be the first half of a CRLF.
      if (match[0] === '\r' && position === text.length) this.#skipLineFeed = true;
      const event = this.#take(line);
      if (event !== undefined) events.push(event);
    }
    this.#line += text.slice(position);
    return events;
  }

  /** Processes one line; returns the event a blank line dispatches. */
  #take(line: string): ServerSentEvent | undefined {
    if (line === '') return this.#dispatch();
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.#event = value;
    else if (field === 'data') this.#data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.#id = value;
    return undefined;
  }

  #dispatch(): ServerSentEvent | undefined {
    const data = this.#data;
    const event = this.#event === '' ? 'message' : this.#event;
    this.#data = [];
    this.#event = '';
    // An event with no data line is not dispatched (the standard's rule), only reset.
    return data.length === 0 ? undefined : { event, data: data.join('\n'), id: this.#id };
  }
}

/** Options of `readServerSentEvents`. */
export interface ReadEventsOptions {
  /** Aborting it cancels the body: the iteration ends as if the body had ended. */
  signal?: AbortSignal;
  /** Called on every chunk read, comments and heartbeats included: the sign of life an idle watchdog waits for. */
  onBytes?: () => void;
}

/**
 * The events of a `text/event-stream` body, in order, until the body ends (a pending partial
 * event is dropped). Ending the iteration early, or aborting `signal`, cancels the body — also
 * a body whose source ignores the request's signal (a custom `fetch`, `handleRequest` in-process).
 *
 * @example
 * for await (const { event, data } of readServerSentEvents(response.body!)) console.log(event, data);
 */
export async function* readServerSentEvents(
  body: ReadableStream<Uint8Array>,
  options: ReadEventsOptions = {},
): AsyncGenerator<ServerSentEvent, void, undefined> {
  const { signal, onBytes } = options;
  const reader = body.getReader();
  const decoder = new TextDecoder('utf-8');
  const parser = new ServerSentEventParser();
  // Cancelling settles a pending read with `done`, so an abort ends the loop below.
  const cancel = (): void => void reader.cancel().catch(() => undefined);
  signal?.addEventListener('abort', cancel, { once: true });
  try {
    while (signal?.aborted !== true) {
      const { done, value } = await reader.read();
      if (done) break;
      onBytes?.();
      yield* parser.push(decoder.decode(value, { stream: true }));
    }
    // Whatever is still pending (a partial line or event) was cut off, not sent: it is dropped.
  } finally {
    signal?.removeEventListener('abort', cancel);
    // Frees the connection when the caller stops early; harmless when the body already ended.
    cancel();
  }
}
