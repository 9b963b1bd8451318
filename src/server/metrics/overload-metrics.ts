/**
 * The back-pressure metrics: event-loop lag and commit-queue depth as gauges, and the calls refused
 * for overload as a counter, all read from the `OverloadGuard` when a scrape asks.
 *
 * Trap it avoids: work per request. Nothing is recorded as requests arrive; a scrape reads the
 * probe's current value, the storage's queue depth and the guard's refusal counts.
 */
import type { Meter, ObservableResult } from '@opentelemetry/api';
import type { OverloadSignals } from '../overload/overload-guard.ts';
import { MetricName } from './metric-names.ts';

/**
 * Registers the back-pressure instruments on `meter`, read from `signals`; returns what detaches them.
 *
 * @example
 * const detach = observeOverload(meter, guard);
 * detach(); // when the server stops
 */
export function observeOverload(meter: Meter, signals: OverloadSignals): () => void {
  const lag = meter.createObservableGauge(MetricName.eventLoopLag, {
    description: 'Event-loop lag (timer drift, smoothed) that back-pressure compares with its bound',
    unit: 's',
  });
  const depth = meter.createObservableGauge(MetricName.commitQueueDepth, {
    description: 'Commits accepted by storage and not yet written',
  });
  const shed = meter.createObservableCounter(MetricName.overloadShed, {
    description: 'Calls refused with 503 overloaded, by operation and reason',
  });
  const observeLag = (result: ObservableResult): void => result.observe(signals.eventLoopLagMs() / 1000);
  const observeDepth = (result: ObservableResult): void => {
    const value = signals.commitQueueDepth();
    // A storage that does not say has no series, rather than a misleading 0.
    if (value !== undefined) result.observe(value);
  };
  const observeShed = (result: ObservableResult): void => {
    for (const { operation, reason, count } of signals.shedCounts()) result.observe(count, { operation, reason });
  };
  lag.addCallback(observeLag);
  depth.addCallback(observeDepth);
  shed.addCallback(observeShed);
  return () => {
    lag.removeCallback(observeLag);
    depth.removeCallback(observeDepth);
    shed.removeCallback(observeShed);
  };
}
