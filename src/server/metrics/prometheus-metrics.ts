/**
 * The server's `MetricsSink` on OpenTelemetry: a `MeterProvider` whose reader is the guide's
 * `PrometheusExporter`, the engine metrics (engine-metrics.ts) and the HTTP request metrics, and
 * the Prometheus text that `GET /v1/metrics` serves.
 *
 * Trap it avoids: a second port. The exporter is a pull reader that normally runs its own HTTP
 * server; the default one here is created with `preventServerStart: true`, and the text is produced
 * by collecting from the exporter and serializing in-process, so metrics ride on the API's port.
 */
import type { Counter, Histogram } from '@opentelemetry/api';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { InvalidArgumentError } from '../../core/errors.ts';
import type { Engine } from '../../engine/engine.ts';
import type { MetricsSink } from '../handler-options.ts';
import { EngineMetrics } from './engine-metrics.ts';
import { MetricName } from './metric-names.ts';
import type { OverloadSignals } from '../overload/overload-guard.ts';
import { observeOverload } from './overload-metrics.ts';
import type { RealtimeMetricsSink } from '../realtime/realtime-hub.ts';
import { RealtimeMetrics } from './realtime-metrics.ts';

/** Upper bounds of the HTTP request duration buckets, in seconds. */
const HTTP_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * Options of `new PrometheusMetrics(engine, options)`.
 *
 * @example
 * const metrics = new PrometheusMetrics(engine, { prometheusExporter: new PrometheusExporter({ preventServerStart: true }) });
 */
export interface PrometheusMetricsOptions {
  /**
   * The exporter to read through. It must not be registered with another `MeterProvider` yet (an
   * OpenTelemetry reader belongs to one). Default: a new `PrometheusExporter` that opens no port.
   */
  prometheusExporter?: PrometheusExporter;
  /** Back-pressure signals to serve as `weft_event_loop_lag_seconds`, `weft_commit_queue_depth` and `weft_overload_shed_total`. */
  overload?: OverloadSignals;
}

/**
 * Weft's metrics over one engine, rendered as Prometheus text. `serve()` creates one; create your
 * own to pass to `handleRequest(request, engine, { metrics })` when you host the handler yourself.
 * Metric names are listed in `MetricName` and docs/server.md.
 *
 * @example
 * await using metrics = new PrometheusMetrics(engine);
 * const response = await handleRequest(request, engine, { metrics });
 * console.log(await metrics.render()); // # HELP weft_workflows_started_total ...
 */
export class PrometheusMetrics implements MetricsSink, RealtimeMetricsSink, AsyncDisposable {
  readonly exporter: PrometheusExporter;
  readonly #ownsExporter: boolean;
  readonly #provider: MeterProvider;
  readonly #serializer = new PrometheusSerializer();
  readonly #engineMetrics: EngineMetrics;
  readonly #requests: Counter;
  readonly #requestDuration: Histogram;
  readonly #detachOverload: (() => void) | undefined;
  readonly #realtime: RealtimeMetrics;
  #closed: Promise<void> | undefined;

  constructor(engine: Engine, options: PrometheusMetricsOptions = {}) {
    this.#ownsExporter = options.prometheusExporter === undefined;
    this.exporter = options.prometheusExporter ?? new PrometheusExporter({ preventServerStart: true });
    try {
      this.#provider = new MeterProvider({ readers: [this.exporter] });
    } catch (error) {
      throw new InvalidArgumentError(
        'prometheusExporter is already registered with a MeterProvider; pass an exporter that is not',
        { cause: error },
      );
    }
    const meter = this.#provider.getMeter('weft');
    this.#engineMetrics = new EngineMetrics(engine, meter);
    this.#requests = meter.createCounter(MetricName.httpRequests, {
      description: 'HTTP requests answered, by route pattern, method and status',
    });
    this.#requestDuration = meter.createHistogram(MetricName.httpRequestDuration, {
      description: 'Time to produce an HTTP response, by route pattern, method and status',
      unit: 's',
      advice: { explicitBucketBoundaries: HTTP_BUCKETS },
    });
    this.#detachOverload = options.overload === undefined ? undefined : observeOverload(meter, options.overload);
    this.#realtime = new RealtimeMetrics(meter);
  }

  connectionOpened(route: string, transport: 'websocket' | 'sse'): void {
    this.#realtime.connectionOpened(route, transport);
  }

  connectionClosed(route: string, transport: 'websocket' | 'sse'): void {
    this.#realtime.connectionClosed(route, transport);
  }

  framesSent(route: string, count: number): void {
    this.#realtime.framesSent(route, count);
  }

  slowConsumerClosed(route: string): void {
    this.#realtime.slowConsumerClosed(route);
  }

  recordRequest(route: string, method: string, status: number, durationMs: number): void {
    const attributes = { route, method, status: String(status) };
    this.#requests.add(1, attributes);
    this.#requestDuration.record(durationMs / 1000, attributes);
  }

  /** Collects from the exporter and returns the Prometheus text exposition (format 0.0.4). */
  async render(): Promise<string> {
    const { resourceMetrics } = await this.exporter.collect();
    return this.#serializer.serialize(resourceMetrics);
  }

  /**
   * Detaches from the engine. An exporter this object created is shut down with its provider; one
   * that was passed in is left to its owner (it keeps the last values).
   */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#engineMetrics.close();
      this.#detachOverload?.();
      if (this.#ownsExporter) await this.#provider.shutdown();
    })();
    return this.#closed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
