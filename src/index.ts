/**
 * Public entry point of `@lostgradient/weft`: the engine, the definition builders, errors and
 * types. Re-exported by name so the public surface is exactly this list.
 */
export { Engine } from './engine/engine.ts';
export { MAX_ID_LENGTH } from './engine/engine-options.ts';
export type {
  EngineCreateOptions,
  EngineOptions,
  StartOptions,
  WorkflowHandle,
  WorkflowState,
} from './engine/engine-options.ts';
export { EngineEvent, EngineEventType } from './engine/engine-events.ts';
export { workflow, WorkflowBuilder } from './define/workflow.ts';
export type {
  AnyWorkflowDefinition,
  WorkflowDefinition,
  WorkflowFunction,
  WorkflowInput,
  WorkflowOptions,
  WorkflowOutput,
} from './define/workflow.ts';
export { activity } from './define/activity.ts';
export type { ActivityContext, ActivityDefinition, ActivityFunction, ActivityOptions } from './define/activity.ts';
export { signal } from './define/signal.ts';
export type { SignalDefinition, SignalRef } from './define/signal.ts';
export { Operation } from './define/operation.ts';
export type { RunActivityOptions, WaitForSignalOptions, WorkflowContext } from './define/workflow-context.ts';
export type { RetryPolicy } from './core/retry-policy.ts';
export { parseDuration } from './core/duration.ts';
export type { Duration } from './core/duration.ts';
export { DEFAULT_MAX_PAYLOAD_BYTES } from './core/codec.ts';
export type { Clock, TimerHandle } from './core/clock.ts';
export type { RandomSource } from './core/random.ts';
export {
  ActivityFailedError,
  ActivityNotRegisteredError,
  ActivityTimeoutError,
  ApplicationError,
  EngineClosedError,
  FailureCategory,
  InvalidArgumentError,
  InvalidDurationError,
  NondeterminismError,
  PayloadNotSerializableError,
  PayloadTooLargeError,
  TaskQueueUnavailableError,
  UnregisteredWorkflowTypesError,
  WeftError,
  WorkflowAlreadyExistsError,
  WorkflowAlreadyRegisteredError,
  WorkflowCancelledError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowNotRunningError,
  WorkflowTimedOutError,
  WorkflowTypeNotRegisteredError,
} from './core/errors.ts';
export type { SerializedError } from './core/errors.ts';
export { RunStatus, StorageConflictError } from './storage/storage.ts';
export type { JournalEntry, Mutation, RunRecord, Storage, TimerRecord, InboxMessage } from './storage/storage.ts';
