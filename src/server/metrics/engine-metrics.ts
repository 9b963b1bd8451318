/**
 * The engine's side of the metrics: workflow counters and the activity latency histogram fed by
 * the engine's events, and the active-runs gauge read from storage when a scrape asks for it.
 *
 * Traps it avoids:
 * - Unbounded memory. Open activities and the types of unfinished runs are kept only until the
 *   event that ends them, and each table has a hard cap (oldest entries go first), so runs that
 *   end without an event this process sees (a crash, a delete) cannot grow them forever.
 * - A costly or piling-up gauge. The active-runs count is one storage aggregate over the unfinished
 *   statuses (index-backed), and concurrent scrapes share one query.
 * - Wrong latency. `activity:started` is published with the run's next commit, not when the
 *   activity starts, so latency is the difference of the two events' timestamps, not of the
 *   moments they arrive.
 */
import type { Attributes, Counter, Histogram, Meter, ObservableGauge, ObservableResult } from '@opentelemetry/api';
import type { Engine } from '../../engine/engine.ts';
import type { EngineEvent } from '../../engine/engine-events.ts';
import { MetricName } from './metric-names.ts';

/** Statuses of an unfinished run, each reported by the gauge (0 when none). */
const ACTIVE_STATUSES = ['pending', 'running', 'suspended'] as const;

/** Upper bounds of the activity latency buckets, in seconds (timestamps have millisecond resolution). */
const ACTIVITY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800];

/** At most this many runs with a known type, and this many open activities, are remembered. */
const MAX_TRACKED = 100_000;

/** Counters, histogram and gauge over one engine's events; `close()` detaches them. */
export class EngineMetrics {
  readonly #engine: Engine;
  readonly #started: Counter;
  readonly #completed: Counter;
  readonly #failed: Counter;
  readonly #cancelled: Counter;
  readonly #timedOut: Counter;
  readonly #activityDuration: Histogram;
  readonly #runsActive: ObservableGauge;
  /** Type of each run started while we listened, until it ends. */
  readonly #types = new Map<string, string>();
  /** Start timestamp of each open activity, by `${workflowId} ${seq}`. */
  readonly #openActivities = new Map<string, number>();
  /** The aggregate a scrape is waiting for, shared by concurrent scrapes. */
  #counting: Promise<Map<string, number>> | undefined;
  readonly #listeners: [string, (event: Event) => void][];

  constructor(engine: Engine, meter: Meter) {
    this.#engine = engine;
    const counter = (name: string, description: string): Counter => meter.createCounter(name, { description });
    this.#started = counter(MetricName.workflowsStarted, 'Workflow runs started, by workflow type');
    this.#completed = counter(MetricName.workflowsCompleted, 'Workflow runs completed, by workflow type');
    this.#failed = counter(MetricName.workflowsFailed, 'Workflow runs failed, by workflow type and failure category');
    this.#cancelled = counter(MetricName.workflowsCancelled, 'Workflow runs cancelled, by workflow type');
    this.#timedOut = counter(MetricName.workflowsTimedOut, 'Workflow runs past their execution timeout');
    this.#activityDuration = meter.createHistogram(MetricName.activityDuration, {
      description: 'Activity latency from start to settlement (all attempts), by activity and outcome',
      unit: 's',
      advice: { explicitBucketBoundaries: ACTIVITY_BUCKETS },
    });
    this.#runsActive = meter.createObservableGauge(MetricName.runsActive, {
      description: 'Unfinished workflow runs in storage, by status',
    });
    this.#runsActive.addCallback(this.#observeActive);

    this.#listeners = [
      ['workflow:started', (e) => this.#onStarted(e as EngineEvent)],
      ['workflow:completed', (e) => this.#onEnded(e as EngineEvent, this.#completed)],
      ['workflow:failed', (e) => this.#onEnded(e as EngineEvent, this.#failed, { failure_category: category(e) })],
      ['workflow:cancelled', (e) => this.#onEnded(e as EngineEvent, this.#cancelled)],
      ['workflow:timed-out', (e) => this.#onEnded(e as EngineEvent, this.#timedOut)],
      ['activity:started', (e) => this.#onActivityStarted(e as EngineEvent)],
      ['activity:completed', (e) => this.#onActivitySettled(e as EngineEvent, 'completed')],
      ['activity:failed', (e) => this.#onActivitySettled(e as EngineEvent, 'failed')],
    ];
    for (const [type, listener] of this.#listeners) engine.addEventListener(type, listener);
  }

  /** Stops listening and observing; what was counted stays in the exporter. */
  close(): void {
    for (const [type, listener] of this.#listeners) this.#engine.removeEventListener(type, listener);
    this.#runsActive.removeCallback(this.#observeActive);
    this.#types.clear();
    this.#openActivities.clear();
  }

  #onStarted(event: EngineEvent): void {
    const type = typeof event.data.workflowType === 'string' ? event.data.workflowType : 'unknown';
    if (event.workflowId !== undefined) remember(this.#types, event.workflowId, type);
    this.#started.add(1, { workflow_type: type });
  }

  #onEnded(event: EngineEvent, counter: Counter, extra: Attributes = {}): void {
    const id = event.workflowId;
    const known = typeof event.data.workflowType === 'string' ? event.data.workflowType : undefined;
    const type = known ?? (id === undefined ? 'unknown' : this.#types.get(id));
    if (id !== undefined) this.#types.delete(id);
    if (type !== undefined || id === undefined) {
      counter.add(1, { workflow_type: type ?? 'unknown', ...extra });
      return;
    }
    // Started before this process listened (recovered, or started before serve()): look it up once.
    this.#engine.get(id).then(
      (state) => counter.add(1, { workflow_type: state?.type ?? 'unknown', ...extra }),
      () => counter.add(1, { workflow_type: 'unknown', ...extra }),
    );
  }

  #onActivityStarted(event: EngineEvent): void {
    const key = activityKey(event);
    if (key !== undefined) remember(this.#openActivities, key, event.timestamp);
  }

  #onActivitySettled(event: EngineEvent, outcome: 'completed' | 'failed'): void {
    const key = activityKey(event);
    if (key === undefined) return;
    const startedAt = this.#openActivities.get(key);
    // No start seen (it was published before we listened): no honest latency to record.
    if (startedAt === undefined) return;
    this.#openActivities.delete(key);
    const activity = typeof event.data.activity === 'string' ? event.data.activity : 'unknown';
    this.#activityDuration.record(Math.max(0, event.timestamp - startedAt) / 1000, { activity, outcome });
  }

  readonly #observeActive = async (result: ObservableResult): Promise<void> => {
    let counts: Map<string, number>;
    try {
      counts = await (this.#counting ??= this.#countActive().finally(() => (this.#counting = undefined)));
    } catch {
      return; // storage closed or failing: report nothing rather than a wrong zero
    }
    for (const status of ACTIVE_STATUSES) result.observe(counts.get(status) ?? 0, { status });
  };

  async #countActive(): Promise<Map<string, number>> {
    const { groups } = await this.#engine.aggregate('status', { status: [...ACTIVE_STATUSES] });
    return new Map(groups.map((group) => [String(group.key), group.count]));
  }
}

function category(event: Event): string {
  const value = (event as EngineEvent).data.failureCategory;
  return typeof value === 'string' ? value : 'unknown';
}

function activityKey(event: EngineEvent): string | undefined {
  const seq = event.data.seq;
  if (event.workflowId === undefined || typeof seq !== 'number') return undefined;
  return `${event.workflowId} ${seq}`;
}

/** Sets `key` in a capped map, dropping the oldest entry when full. */
function remember<V>(map: Map<string, V>, key: string, value: V): void {
  if (map.size >= MAX_TRACKED && !map.has(key)) {
    const oldest = map.keys().next();
    if (oldest.done !== true) map.delete(oldest.value);
  }
  map.set(key, value);
}
