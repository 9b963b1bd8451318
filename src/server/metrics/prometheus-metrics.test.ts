import { describe, expect, test } from 'bun:test';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import type { Engine } from '../../engine/engine.ts';
import { signal, workflow } from '../../index.ts';
import { parsePrometheusText, sampleValue } from '../../testing/prometheus-text.ts';
import { useTestEngines } from '../../testing/index.ts';
import { MetricName } from './metric-names.ts';
import { PrometheusMetrics } from './prometheus-metrics.ts';

const harness = useTestEngines();

const go = signal<string>('go');
let release: PromiseWithResolvers<string> | undefined;

const greet = workflow({ name: 'greet' })
  .activities({ shout: async (name: string) => `${(await release!.promise).toUpperCase()} ${name}` })
  .execute(async function* (ctx, name: string) {
    return yield* ctx.run('shout', name);
  });

const broken = workflow({ name: 'broken' }).execute(async function* () {
  yield* [];
  throw new Error('no');
});

const waiter = workflow({ name: 'waiter' }).execute(async function* (ctx) {
  return yield* ctx.waitForSignal(go);
});

/** Resolves with the next event of `type` for run `id`. */
function nextEvent(engine: Engine, type: string, id: string): Promise<void> {
  return new Promise((resolve) => {
    const listener = (event: Event): void => {
      if ((event as Event & { workflowId?: string }).workflowId !== id) return;
      engine.removeEventListener(type, listener);
      resolve();
    };
    engine.addEventListener(type, listener);
  });
}

describe('PrometheusMetrics', () => {
  test('counts started, completed, failed and cancelled runs by workflow type', async () => {
    const { engine, clock } = await harness(greet, broken, waiter);
    await using metrics = new PrometheusMetrics(engine);

    release = Promise.withResolvers<string>();
    const greeted = nextEvent(engine, 'workflow:completed', 'g-1');
    await engine.start(greet, 'ada', { id: 'g-1' });
    const failed = nextEvent(engine, 'workflow:failed', 'b-1');
    await engine.start(broken, undefined, { id: 'b-1' });
    await engine.start(waiter, undefined, { id: 'w-1' });
    await engine.start(waiter, undefined, { id: 'w-2' });
    await clock.advance('250ms');
    release.resolve('hello');
    await Promise.all([greeted, failed]);
    await engine.cancel('w-2');

    const samples = parsePrometheusText(await metrics.render());
    const value = (name: string, labels: Record<string, string>) => sampleValue(samples, name, labels);
    expect(value(MetricName.workflowsStarted, { workflow_type: 'greet' })).toBe(1);
    expect(value(MetricName.workflowsStarted, { workflow_type: 'waiter' })).toBe(2);
    expect(value(MetricName.workflowsCompleted, { workflow_type: 'greet' })).toBe(1);
    expect(value(MetricName.workflowsFailed, { workflow_type: 'broken', failure_category: 'workflow' })).toBe(1);
    expect(value(MetricName.workflowsCancelled, { workflow_type: 'waiter' })).toBe(1);
    expect(value(MetricName.workflowsCompleted, { workflow_type: 'waiter' })).toBeUndefined();
  });

  test('a run started before the metrics were attached is still counted under its type when it ends', async () => {
    const { engine } = await harness(waiter);
    await engine.start(waiter, undefined, { id: 'early' });
    await using metrics = new PrometheusMetrics(engine);
    const completed = nextEvent(engine, 'workflow:completed', 'early');
    await engine.signal('early', go, 'now');
    await completed;
    await engine.get('early'); // the metrics' own lookup of the type was issued before this one

    const samples = parsePrometheusText(await metrics.render());
    expect(sampleValue(samples, MetricName.workflowsCompleted, { workflow_type: 'waiter' })).toBe(1);
    expect(sampleValue(samples, MetricName.workflowsStarted, { workflow_type: 'waiter' })).toBeUndefined();
  });

  test('reports unfinished runs by status at scrape time, zero for an empty status', async () => {
    const { engine } = await harness(waiter);
    await using metrics = new PrometheusMetrics(engine);
    for (const id of ['a', 'b', 'c']) await engine.start(waiter, undefined, { id });
    const completed = nextEvent(engine, 'workflow:completed', 'a');
    await engine.signal('a', go, 'now');
    await completed;

    const samples = parsePrometheusText(await metrics.render());
    expect(sampleValue(samples, MetricName.runsActive, { status: 'suspended' })).toBe(2);
    expect(sampleValue(samples, MetricName.runsActive, { status: 'running' })).toBe(0);
    expect(sampleValue(samples, MetricName.runsActive, { status: 'pending' })).toBe(0);
  });

  test('measures activity latency between the started and settled events', async () => {
    const { engine, clock } = await harness(greet);
    await using metrics = new PrometheusMetrics(engine);
    release = Promise.withResolvers<string>();
    const done = nextEvent(engine, 'workflow:completed', 'g-2');
    await engine.start(greet, 'bob', { id: 'g-2' });
    await clock.advance('1500ms');
    release.resolve('hi');
    await done;

    const samples = parsePrometheusText(await metrics.render());
    const labels = { activity: 'shout', outcome: 'completed' };
    expect(sampleValue(samples, `${MetricName.activityDuration}_count`, labels)).toBe(1);
    expect(sampleValue(samples, `${MetricName.activityDuration}_sum`, labels)).toBe(1.5);
    expect(sampleValue(samples, `${MetricName.activityDuration}_bucket`, { ...labels, le: '1' })).toBe(0);
    expect(sampleValue(samples, `${MetricName.activityDuration}_bucket`, { ...labels, le: '2.5' })).toBe(1);
  });

  test('counts HTTP requests by route, method and status with a duration histogram', async () => {
    const { engine } = await harness(waiter);
    await using metrics = new PrometheusMetrics(engine);
    metrics.recordRequest('/api/v1/workflows', 'POST', 201, 4);
    metrics.recordRequest('/api/v1/workflows', 'POST', 201, 6);
    metrics.recordRequest('/api/v1/workflows/:id', 'GET', 404, 1);

    const text = await metrics.render();
    expect(text).toContain(`# TYPE ${MetricName.httpRequests} counter`);
    expect(text).toContain(`# TYPE ${MetricName.httpRequestDuration} histogram`);
    const samples = parsePrometheusText(text);
    const created = { route: '/api/v1/workflows', method: 'POST', status: '201' };
    expect(sampleValue(samples, MetricName.httpRequests, created)).toBe(2);
    expect(sampleValue(samples, `${MetricName.httpRequestDuration}_count`, created)).toBe(2);
    expect(sampleValue(samples, `${MetricName.httpRequestDuration}_sum`, created)).toBeCloseTo(0.01, 6);
    const missing = { route: '/api/v1/workflows/:id', method: 'GET', status: '404' };
    expect(sampleValue(samples, MetricName.httpRequests, missing)).toBe(1);
  });

  test('reads through an exporter the caller passes in, and leaves it running when closed', async () => {
    const { engine } = await harness(waiter);
    const exporter = new PrometheusExporter({ preventServerStart: true });
    const metrics = new PrometheusMetrics(engine, { prometheusExporter: exporter });
    expect(metrics.exporter).toBe(exporter);
    await engine.start(waiter, undefined, { id: 'x' });
    await metrics.close();
    // The caller's exporter still answers with what was counted before close().
    const { resourceMetrics } = await exporter.collect();
    const names = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics.map((m) => m.descriptor.name));
    expect(names).toContain(MetricName.workflowsStarted);
  });

  test('an exporter already registered with another MeterProvider is refused with a clear error', async () => {
    const { engine } = await harness(waiter);
    const exporter = new PrometheusExporter({ preventServerStart: true });
    const provider = new MeterProvider({ readers: [exporter] });
    expect(() => new PrometheusMetrics(engine, { prometheusExporter: exporter })).toThrow(/already registered/);
    await provider.shutdown();
  });

  test('stops counting once closed', async () => {
    const { engine } = await harness(waiter);
    const metrics = new PrometheusMetrics(engine, {
      prometheusExporter: new PrometheusExporter({ preventServerStart: true }),
    });
    await metrics.close();
    await engine.start(waiter, undefined, { id: 'late' });
    const samples = parsePrometheusText(await metrics.render());
    expect(sampleValue(samples, MetricName.workflowsStarted, { workflow_type: 'waiter' })).toBeUndefined();
  });
});
