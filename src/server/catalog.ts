/**
 * The operation catalog with its handlers: each spec of `protocol/operations.ts` bound to what it
 * does over the engine. Every transport (REST, JSON-RPC) looks operations up here, validates the
 * input with the spec's schema and calls `handle` — the same validation and the same handler,
 * whichever way a call arrives.
 *
 * Adding an operation: one spec in protocol/operations.ts, one handler here. The type of `handlers`
 * makes a spec without a handler a compile error.
 */
import type { z } from 'zod';
import { parseDuration, type Duration } from '../core/duration.ts';
import { WorkflowNotFoundError } from '../core/errors.ts';
import type { Engine } from '../engine/engine.ts';
import { RANGE_FIELDS, type WorkflowFilter } from '../engine/run-listing.ts';
import type { OperationSpec } from '../protocol/operation-spec.ts';
import type { listWorkflows, CatalogOperation } from '../protocol/operations.ts';
import { operations } from '../protocol/operations.ts';
import type { RunGroupBy } from '../storage/storage.ts';
import { MAX_WAIT_MS } from './handler-options.ts';
import type { NewWorkAdmission } from './overload/overload-guard.ts';
import { ResultTimeoutError, UpdateNotFoundError } from './server-errors.ts';

/** What a handler gets besides its input. */
export interface OperationContext {
  /** Aborts when the caller goes away (a closed connection), so long waits stop. */
  signal: AbortSignal;
  /** How long the result operation (and an update without `timeout`) waits (default 30 s). */
  resultTimeoutMs: number;
  /** Says the operation is about to wait up to `ms` with nothing to send: the listener must not cut it. */
  keepOpen(ms: number): void;
  /** The origin the request reached (`http://127.0.0.1:3000`), for documents that name the server. */
  origin?: string;
  /** Back-pressure: asked before an operation of `SHED_WHEN_OVERLOADED` runs. Absent: never refuses. */
  overload?: NewWorkAdmission;
}

/**
 * The operations refused with 503 `overloaded` while the engine is behind: those that add new work.
 * Everything else — signals, updates, results, cancels, reads — finishes work already accepted,
 * which is how the engine catches up, so it is always served (docs/server.md, "Back-pressure").
 */
export const SHED_WHEN_OVERLOADED: ReadonlySet<string> = new Set<CatalogOperation['name']>(['weft.workflows.start']);

/** A handler's answer: the output, marked `accepted` when the work is still pending (REST 202). */
export class Accepted<T> {
  constructor(readonly value: T) {}
}

type Output<S extends OperationSpec> = z.output<S['output']>;
type Handler<S extends OperationSpec> = (
  engine: Engine,
  input: z.output<S['input']>,
  context: OperationContext,
) => Promise<Output<S> | Accepted<Output<S>>>;

type Handlers = { [K in CatalogOperation as K['name']]: Handler<K> };

const handlers: Handlers = {
  'weft.system.health': async () => ({ status: 'ok' as const }),

  'weft.workflows.start': async (engine, input) => {
    const handle = await engine.start(input.type, input.input, {
      ...(input.id === undefined ? {} : { id: input.id }),
      ...(input.idempotencyKey === undefined ? {} : { idempotencyKey: input.idempotencyKey }),
      // Checked by the engine (invalid_duration, a 400).
      ...(input.executionTimeout === undefined ? {} : { executionTimeout: input.executionTimeout as Duration }),
    });
    return { id: handle.id };
  },

  'weft.workflows.list': async (engine, input) => {
    const { include, limit, offset, cursor, ...rest } = input;
    const page = await engine.list({
      ...toFilter(rest),
      ...(include === undefined ? {} : { include }),
      ...(limit === undefined ? {} : { limit }),
      ...(offset === undefined ? {} : { offset }),
      ...(cursor === undefined ? {} : { cursor }),
    });
    return { ...page, items: page.items.map((item) => ({ ...item, ...isoDates(item) })) };
  },

  'weft.workflows.aggregate': async (engine, input) => {
    const { groupBy, ...rest } = input;
    return engine.aggregate(groupBy as RunGroupBy, toFilter(rest));
  },

  'weft.workflows.get': async (engine, input) => {
    const state = await engine.get(input.id);
    if (state === undefined) throw new WorkflowNotFoundError(input.id);
    return { ...state, ...isoDates(state) };
  },

  'weft.workflows.result': async (engine, input, context) => {
    // The wait ends when the caller goes away or the result wait is over, and takes its waiter along.
    const timeout = AbortSignal.timeout(context.resultTimeoutMs);
    context.keepOpen(context.resultTimeoutMs);
    try {
      return { result: await engine.handle(input.id).result({ signal: AbortSignal.any([context.signal, timeout]) }) };
    } catch (error) {
      if (timeout.aborted && !context.signal.aborted) throw new ResultTimeoutError(input.id, context.resultTimeoutMs);
      throw error;
    }
  },

  'weft.workflows.delete': async (engine, input) => {
    await engine.delete(input.id);
    return null;
  },

  'weft.workflows.cancel': async (engine, input) => {
    await engine.cancel(input.id);
    return null;
  },

  'weft.workflows.signal': async (engine, input) => {
    await engine.signal(input.id, input.name, input.payload);
    return { ok: true as const };
  },

  'weft.workflows.update': async (engine, input, context) => {
    // Over the network every wait ends with an answer: no timeout means the server's long-poll wait.
    const waitMs = Math.min(
      input.timeout === undefined ? context.resultTimeoutMs : parseDuration(input.timeout),
      MAX_WAIT_MS,
    );
    context.keepOpen(waitMs);
    const outcome = await engine.update(input.id, input.name, input.payload, {
      timeout: waitMs,
      ...(input.idempotencyKey === undefined ? {} : { idempotencyKey: input.idempotencyKey }),
    });
    return outcome.status === 'pending' ? new Accepted(outcome) : outcome;
  },

  'weft.updates.get': async (engine, input) => {
    const state = await engine.getUpdate(input.updateId);
    if (state === undefined) throw new UpdateNotFoundError(input.updateId);
    return state.status === 'pending' ? new Accepted(state) : state;
  },

  'weft.workflows.getAttributes': async (engine, input) => ({ attributes: await engine.getAttributes(input.id) }),

  'weft.workflows.setAttributes': async (engine, input) => {
    await engine.setAttributes(input.id, input.attributes);
    return { attributes: await engine.getAttributes(input.id) };
  },

  'weft.workflows.query': async (engine, input) => ({ result: await engine.query(input.id, input.name, input.args) }),

  'weft.events.list': async (engine, input) => {
    const events = await engine.readEvents({
      ...(input.after === undefined ? {} : { after: input.after }),
      ...(input.limit === undefined ? {} : { limit: input.limit }),
    });
    // The engine's epoch milliseconds as ISO text, like every date of a run on the wire.
    return { items: events.map((event) => ({ ...event, timestamp: new Date(event.timestamp).toISOString() })) };
  },
};

/** One catalog entry: the spec and its handler over an untyped (already validated) input. */
export interface CatalogEntry {
  spec: OperationSpec;
  handle(engine: Engine, input: unknown, context: OperationContext): Promise<unknown>;
}

/** Every operation with its handler, by JSON-RPC name. */
export const catalog: ReadonlyMap<string, CatalogEntry> = new Map(
  operations.map((spec) => {
    const handle = (handlers as Record<string, Handler<OperationSpec>>)[spec.name]!;
    if (!SHED_WHEN_OVERLOADED.has(spec.name)) return [spec.name, { spec, handle }];
    const admitted: Handler<OperationSpec> = async (engine, input, context) => {
      context.overload?.admitNewWork(spec.name);
      return handle(engine, input, context);
    };
    return [spec.name, { spec, handle: admitted }];
  }),
);

type FilterInput = Omit<z.output<typeof listWorkflows.input>, 'include' | 'limit' | 'offset' | 'cursor'>;

/** The wire filter (ISO dates, one or many values) as the engine's `WorkflowFilter`. */
function toFilter(input: FilterInput): WorkflowFilter {
  const filter: WorkflowFilter = {};
  if (input.status !== undefined) filter.status = input.status;
  if (input.type !== undefined) filter.type = input.type;
  if (input.idPrefix !== undefined) filter.idPrefix = input.idPrefix;
  if (input.failureCategory !== undefined) filter.failureCategory = input.failureCategory;
  if (input.parentId !== undefined) filter.parentId = input.parentId;
  for (const field of RANGE_FIELDS) {
    const value = input[field];
    if (value !== undefined) filter[field] = new Date(value);
  }
  if (input.attributes !== undefined) filter.attributes = input.attributes;
  return filter;
}

/** Dates as ISO strings, so JSON and MessagePack responses carry the same text. */
function isoDates(value: { createdAt: Date; updatedAt: Date; deadline: Date | null }) {
  return {
    createdAt: value.createdAt.toISOString(),
    updatedAt: value.updatedAt.toISOString(),
    deadline: value.deadline === null ? null : value.deadline.toISOString(),
  };
}
