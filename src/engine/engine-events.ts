/**
 * The events the Engine dispatches (it is an `EventTarget`). Each carries the run it concerns,
 * a timestamp and a fleet sequence number that only ever grows, so a listener can order and
 * dedupe what it saw.
 */

/**
 * The event types the engine dispatches, as `EngineEvent.type`. `data` carries, by type:
 * `workflow:started|completed|cancelled|timed-out` `{ workflowType }`, `workflow:failed`
 * `{ workflowType, failureCategory, error }`,
 * `activity:*` `{ activity, seq }` (plus `attempts` once settled), `signal:received` `{ signal }`,
 * `engine:error` `{ error }`. `update:completed` `{ update, updateId, ok }`. The `worker:*` types are reserved: nothing emits them yet.
 *
 * @example
 * engine.addEventListener(EngineEventType.workflowFailed, (e) => console.log((e as EngineEvent).data));
 */
export const EngineEventType = {
  workflowStarted: 'workflow:started',
  workflowCompleted: 'workflow:completed',
  workflowFailed: 'workflow:failed',
  workflowCancelled: 'workflow:cancelled',
  workflowTimedOut: 'workflow:timed-out',
  workflowSuspended: 'workflow:suspended',
  workflowResumed: 'workflow:resumed',
  activityStarted: 'activity:started',
  activityCompleted: 'activity:completed',
  activityFailed: 'activity:failed',
  signalReceived: 'signal:received',
  updateCompleted: 'update:completed',
  workerConnected: 'worker:connected',
  workerDisconnected: 'worker:disconnected',
  /** Storage failed under a run; the run stays as last committed and resumes on recovery. */
  engineError: 'engine:error',
} as const;
/** One of the `EngineEventType` strings. */
export type EngineEventType = (typeof EngineEventType)[keyof typeof EngineEventType];

/**
 * One engine event.
 *
 * @example
 * engine.addEventListener('workflow:completed', (e) => console.log((e as EngineEvent).workflowId));
 */
export class EngineEvent extends Event {
  readonly workflowId: string | undefined;
  readonly timestamp: number;
  /** Fleet sequence number: strictly increasing across all events of this engine. */
  readonly sequence: number;
  readonly data: Readonly<Record<string, unknown>>;

  constructor(
    type: EngineEventType,
    init: { workflowId?: string | undefined; timestamp: number; sequence: number; data?: Record<string, unknown> },
  ) {
    super(type);
    this.workflowId = init.workflowId;
    this.timestamp = init.timestamp;
    this.sequence = init.sequence;
    this.data = init.data ?? {};
  }
}
