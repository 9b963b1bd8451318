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
export { DEFAULT_EVENT_RETENTION, MIN_EVENT_RETENTION } from './engine/engine-options.ts';
export {
  DEFAULT_LIST_LIMIT,
  MAX_AGGREGATE_GROUPS,
  MAX_ATTRIBUTE_NAME_LENGTH,
  MAX_ATTRIBUTE_STRING_LENGTH,
  MAX_ATTRIBUTES_PER_RUN,
  MAX_LIST_LIMIT,
} from './engine/run-listing.ts';
export type {
  ListOptions,
  WorkflowAggregate,
  WorkflowFilter,
  WorkflowList,
  WorkflowSummary,
} from './engine/run-listing.ts';
export type { UpdateOptions, UpdateOutcome, UpdateState } from './engine/update-broker.ts';
export type {
  ActivityDefinitionInfo,
  MessageDefinitionInfo,
  WorkflowDefinitionInfo,
} from './engine/workflow-definitions.ts';
export type { EngineEventRecord } from './engine/event-log.ts';
export type {
  FollowLogOptions,
  ReadLogOptions,
  StreamChunkRecord,
  StreamPage,
  WatchRecord,
} from './engine/live-logs.ts';
export { EngineEvent, EngineEventType } from './engine/engine-events.ts';
export { workflow, WorkflowBuilder } from './define/workflow.ts';
export type {
  AnyWorkflowDefinition,
  Undeclared,
  WorkflowDefinition,
  WorkflowFunction,
  WorkflowInput,
  WorkflowOptions,
  WorkflowOutput,
} from './define/workflow.ts';
export { activity } from './define/activity.ts';
export type { ActivityContext, ActivityDefinition, ActivityFunction, ActivityOptions } from './define/activity.ts';
export { signal } from './define/signal.ts';
export type { SignalDefinition, SignalDefinitionOptions, SignalRef } from './define/signal.ts';
export { update } from './define/update.ts';
export type { UpdateDefinition, UpdateDefinitionOptions, UpdateRef } from './define/update.ts';
export { isStandardSchema } from './define/schema.ts';
export type { JsonSchema, SchemaOutput, StandardSchemaV1 } from './define/schema.ts';
export { Operation } from './define/operation.ts';
export type {
  ChildWorkflowHandle,
  RunActivityOptions,
  StartChildOptions,
  WaitForSignalOptions,
  WorkflowContext,
  WorkflowStream,
} from './define/workflow-context.ts';
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
  ChildWorkflowFailedError,
  EngineClosedError,
  FailureCategory,
  InvalidArgumentError,
  InvalidCursorError,
  InvalidDurationError,
  InvalidInputError,
  MAX_REPORTED_ISSUES,
  NondeterminismError,
  PayloadNotSerializableError,
  PayloadTooLargeError,
  QueryNotHandledError,
  StreamClosedError,
  TaskQueueUnavailableError,
  UnregisteredWorkflowTypesError,
  UpdateFailedError,
  UpdateNotHandledError,
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
export type { InputIssue, SerializedError } from './core/errors.ts';
export { RunStatus, StorageConflictError, UpdateStatus } from './storage/storage.ts';
export type {
  AttributeValue,
  EventRecord,
  InboxMessage,
  JournalEntry,
  ListRunsOptions,
  Mutation,
  RunAggregate,
  RunGroupBy,
  RunKey,
  RunPage,
  RunQuery,
  RunRecord,
  RunSummary,
  Storage,
  StreamChunk,
  TimerRecord,
  UpdateRecord,
  WatchFrame,
} from './storage/storage.ts';
