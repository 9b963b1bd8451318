/**
 * The metric names `GET /v1/metrics` serves, exactly as they appear in the Prometheus text (the
 * instruments are named with their Prometheus suffixes, so the exporter adds nothing and a name in
 * docs/server.md can be grepped for in a scrape). Renaming one breaks dashboards: add, never rename.
 *
 * @example
 * expect(text).toContain(`${MetricName.workflowsStarted}{workflow_type="order"`);
 */
export const MetricName = {
  /** Counter, `workflow_type`: runs started (child runs included). */
  workflowsStarted: 'weft_workflows_started_total',
  /** Counter, `workflow_type`: runs that completed. */
  workflowsCompleted: 'weft_workflows_completed_total',
  /** Counter, `workflow_type`, `failure_category`: runs that failed. */
  workflowsFailed: 'weft_workflows_failed_total',
  /** Counter, `workflow_type`: runs cancelled. */
  workflowsCancelled: 'weft_workflows_cancelled_total',
  /** Counter, `workflow_type`: runs that passed their execution timeout. */
  workflowsTimedOut: 'weft_workflows_timed_out_total',
  /** Gauge, `status` (`pending`, `running`, `suspended`): unfinished runs in storage, counted at scrape time. */
  runsActive: 'weft_runs_active',
  /** Histogram in seconds, `activity`, `outcome` (`completed` or `failed`): start to settlement, retries included. */
  activityDuration: 'weft_activity_duration_seconds',
  /** Counter, `route`, `method`, `status`: HTTP requests answered. */
  httpRequests: 'weft_http_requests_total',
  /** Histogram in seconds, `route`, `method`, `status`: time to produce the response. */
  httpRequestDuration: 'weft_http_request_duration_seconds',
  /** Gauge in seconds: event-loop lag (timer drift, smoothed), what back-pressure compares with its bound. */
  eventLoopLag: 'weft_event_loop_lag_seconds',
  /** Gauge: commits accepted by storage and not yet written (only when the server was given the storage). */
  commitQueueDepth: 'weft_commit_queue_depth',
  /** Counter, `operation`, `reason` (`event_loop_lag`, `commit_queue`): calls refused with 503 `overloaded`. */
  overloadShed: 'weft_overload_shed_total',
  /** Gauge, `route` (`watch`, `stream`, `events`, `jsonrpc`), `transport` (`websocket`, `sse`): real-time connections open. */
  realtimeConnections: 'weft_realtime_connections',
  /** Counter, `route`: frames sent on real-time connections (feed frames, notifications, JSON-RPC answers). */
  realtimeFramesSent: 'weft_realtime_frames_sent_total',
  /** Counter, `route`: connections closed with 4008 because the client read too slowly. */
  realtimeSlowConsumerCloses: 'weft_realtime_slow_consumer_closes_total',
} as const;
/** One of the `MetricName` strings. */
export type MetricName = (typeof MetricName)[keyof typeof MetricName];
