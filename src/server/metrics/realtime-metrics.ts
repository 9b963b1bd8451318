/**
 * The real-time metrics on OpenTelemetry: connections open by route and transport, frames sent,
 * and connections closed for reading too slowly (docs/realtime.md, "Metrics").
 */
import type { Counter, Meter, UpDownCounter } from '@opentelemetry/api';
import type { RealtimeMetricsSink } from '../realtime/realtime-hub.ts';
import { MetricName } from './metric-names.ts';

export class RealtimeMetrics implements RealtimeMetricsSink {
  readonly #open: UpDownCounter;
  readonly #frames: Counter;
  readonly #slow: Counter;

  constructor(meter: Meter) {
    this.#open = meter.createUpDownCounter(MetricName.realtimeConnections, {
      description:
        'Real-time connections open, by route (watch, stream, events, jsonrpc) and transport (websocket, sse)',
    });
    this.#frames = meter.createCounter(MetricName.realtimeFramesSent, {
      description: 'Frames sent on real-time connections (feed frames, notifications, JSON-RPC answers), by route',
    });
    this.#slow = meter.createCounter(MetricName.realtimeSlowConsumerCloses, {
      description: 'Real-time connections closed because the client read too slowly (close code 4008), by route',
    });
  }

  connectionOpened(route: string, transport: 'websocket' | 'sse'): void {
    this.#open.add(1, { route, transport });
  }

  connectionClosed(route: string, transport: 'websocket' | 'sse'): void {
    this.#open.add(-1, { route, transport });
  }

  framesSent(route: string, count: number): void {
    this.#frames.add(count, { route });
  }

  slowConsumerClosed(route: string): void {
    this.#slow.add(1, { route });
  }
}
