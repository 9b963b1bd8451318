/**
 * The outbox's pacing against a socket whose queue the test controls: feeds pause past a quarter
 * of the bound and resume on drain; a stalled client, or a queue past the bound, is closed with
 * 4008 and then dropped.
 */
import { describe, expect, test } from 'bun:test';
import { CloseCode } from '../../protocol/realtime.ts';
import { MediaType } from '../negotiation.ts';
import { DEFAULT_REALTIME_LIMITS, type RealtimeLimits, type RealtimeMetricsSink } from './realtime-hub.ts';
import { Outbox, type SocketPort } from './socket-port.ts';

/** A socket whose queue grows by each message's length and empties when the test says so. */
interface FakePort extends SocketPort {
  buffered: number;
  sent: (string | Uint8Array)[];
  closedWith: { code: number; reason: string } | undefined;
  terminated: boolean;
}

function fakePort(): FakePort {
  const port: FakePort = {
    buffered: 0,
    sent: [],
    closedWith: undefined,
    terminated: false,
    send(message: string | Uint8Array) {
      port.sent.push(message);
      port.buffered += message.length;
      return -1;
    },
    bufferedAmount: () => port.buffered,
    close(code: number, reason: string) {
      port.closedWith = { code, reason };
    },
    terminate() {
      port.terminated = true;
    },
  };
  return port;
}

function countingMetrics() {
  const counts = { frames: 0, slow: 0 };
  const sink: RealtimeMetricsSink = {
    connectionOpened: () => undefined,
    connectionClosed: () => undefined,
    framesSent: (_route, count) => void (counts.frames += count),
    slowConsumerClosed: () => void (counts.slow += 1),
  };
  return { counts, sink };
}

const limits = (overrides: Partial<RealtimeLimits>): RealtimeLimits => ({ ...DEFAULT_REALTIME_LIMITS, ...overrides });

describe('Outbox', () => {
  test('a feed pauses past a quarter of the bound and resumes when the client has read', async () => {
    const port = fakePort();
    const outbox = new Outbox(port, MediaType.json, limits({ maxBufferedBytes: 400 }), 'watch');
    expect(outbox.send('x'.repeat(50))).toBe(true);
    expect(await outbox.whenWritable()).toBe(true);
    expect(outbox.send('x'.repeat(60))).toBe(true);
    let resumed: boolean | undefined;
    void outbox.whenWritable().then((writable) => (resumed = writable));
    await Bun.sleep(5);
    expect(resumed).toBeUndefined();
    // A drain that leaves the queue above the mark does not wake it.
    port.buffered = 101;
    outbox.drained();
    await Bun.sleep(5);
    expect(resumed).toBeUndefined();
    port.buffered = 0;
    outbox.drained();
    await Bun.sleep(0);
    expect(resumed).toBe(true);
    expect(port.closedWith).toBeUndefined();
    outbox.dispose();
  });

  test('a client that reads nothing for stallTimeoutMs is closed with 4008, then dropped', async () => {
    const port = fakePort();
    const { counts, sink } = countingMetrics();
    const outbox = new Outbox(
      port,
      MediaType.json,
      limits({ maxBufferedBytes: 40, stallTimeoutMs: 20 }),
      'stream',
      sink,
    );
    outbox.send('x'.repeat(20));
    expect(await outbox.whenWritable()).toBe(false);
    expect(port.closedWith?.code).toBe(CloseCode.slowConsumer);
    expect(counts).toEqual({ frames: 1, slow: 1 });
    expect(outbox.send('more')).toBe(false);
    expect(port.sent.length).toBe(1);
    await Bun.sleep(2_100);
    expect(port.terminated).toBe(true);
  });

  test('a queue past maxBufferedBytes is closed at once (answers queue even while feeds are paused)', () => {
    const port = fakePort();
    const outbox = new Outbox(port, MediaType.json, limits({ maxBufferedBytes: 100 }), 'jsonrpc');
    expect(outbox.send('x'.repeat(60))).toBe(true);
    expect(outbox.send('x'.repeat(60))).toBe(false);
    expect(port.closedWith?.code).toBe(CloseCode.slowConsumer);
    expect(outbox.closed).toBe(true);
  });

  test('a message the socket dropped (its own limit) closes it the same way', () => {
    const port = { ...fakePort(), send: () => 0 };
    let closedWith: number | undefined;
    port.close = (code: number) => void (closedWith = code);
    const outbox = new Outbox(port, MediaType.json, DEFAULT_REALTIME_LIMITS, 'watch');
    expect(outbox.send({ seq: 1 })).toBe(false);
    expect(closedWith).toBe(CloseCode.slowConsumer);
  });
});
