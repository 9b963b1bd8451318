/**
 * The operation catalog as data: every operation the server offers, once. REST routes, JSON-RPC
 * methods, the OpenAPI and OpenRPC documents and the typed `HttpClient` are all derived from this
 * list (the server binds a handler to each entry in `server/catalog.ts`).
 *
 * Inputs are the merged parameters of a call. Over REST, path parameters and query strings arrive
 * as strings, so numbers are coerced and repeated query parameters become arrays (see
 * docs/rest-api.md for the exact parameter names); over JSON-RPC the params object is the input.
 */
import { z } from 'zod';
import { MAX_DURATION_MS } from '../core/duration.ts';
import { ATTRIBUTE_NAME_PATTERN } from '../core/names.ts';
import { DURATION_PATTERN } from './duration-pattern.ts';
import { defineOperation, Scope } from './operation-spec.ts';

const STATUSES = ['pending', 'running', 'suspended', 'completed', 'failed', 'cancelled', 'timed_out'] as const;
const CATEGORIES = [
  'activity',
  'workflow',
  'timeout',
  'nondeterminism',
  'not_registered',
  'cancelled',
  'internal',
] as const;

const id = z.string().min(1).max(256).describe('Workflow id');
const name = z.string().min(1).max(256);
/** A duration: milliseconds, or a string such as '250ms', '30s', '5m', '2h', '1d'; at most 100 years. */
const duration = z.union([
  z.number().int().min(0).max(MAX_DURATION_MS),
  z
    .string()
    .max(32)
    .regex(DURATION_PATTERN, { error: "expected a duration such as '250ms', '30s', '5m', '2h' or '1d'" }),
]);
const isoDate = z.iso.datetime({ offset: true }).describe('ISO 8601 date-time');
const attributeValue = z.union([z.string().max(1024), z.number(), z.boolean()]);
/** A search attribute name as the engine accepts it (`__proto__` excluded: see core/names.ts). */
const attributeName = z.string().regex(ATTRIBUTE_NAME_PATTERN, {
  error: "an attribute name is 1-128 letters, digits and _ - . : (and not '__proto__')",
});
/**
 * Most attributes one call names: the engine's `MAX_ATTRIBUTES_PER_RUN` (protocol cannot import the
 * engine; documents.test.ts holds the two together). The engine checks it; the documents say it.
 */
const ATTRIBUTE_COUNT = { maxProperties: 64 };
/** Longest list cursor: the engine's `MAX_CURSOR_LENGTH` (engine/list-cursor.ts), held equal by its test. */
const CURSOR_MAX_LENGTH = 4096;
/** What `aggregate` groups by: a field, or `attribute:` and an attribute name. */
const GROUP_BY_PATTERN = new RegExp(
  `^(?:status|type|failureCategory|attribute:${ATTRIBUTE_NAME_PATTERN.source.replace(/^\^|\$$/g, '')})$`,
);
/** One value or up to 16 (OR); `expected` names the allowed values in the error, since a union's own says only "Invalid input". */
const oneOrMany = <T extends z.ZodType>(schema: T, expected: string) =>
  z.union([schema, z.array(schema).max(16)], { error: `expected ${expected}, or a list of up to 16 of them` });

const runStatus = z.enum(STATUSES);
const failureCategory = z.enum(CATEGORIES);

const serializedError = z.object({
  name: z.string(),
  message: z.string(),
  code: z.string().optional(),
  retryable: z.boolean().optional(),
  details: z.record(z.string(), z.unknown()).optional(),
});

const workflowSummary = z.object({
  id: z.string(),
  type: z.string(),
  version: z.string().nullable(),
  status: runStatus,
  parentId: z.string().nullable(),
  createdAt: isoDate,
  updatedAt: isoDate,
  deadline: isoDate.nullable(),
  failureCategory: failureCategory.nullable().optional(),
});

const workflowState = z.object({
  id: z.string(),
  type: z.string(),
  version: z.string().nullable(),
  status: runStatus,
  input: z.unknown().optional().describe('Absent when the run was started without input'),
  result: z.unknown().optional(),
  error: serializedError.optional(),
  failureCategory: failureCategory.optional(),
  idempotencyKey: z.string().nullable(),
  createdAt: isoDate,
  updatedAt: isoDate,
  deadline: isoDate.nullable(),
});

/** The filter fields shared by list and aggregate. */
const filter = {
  status: oneOrMany(runStatus, `a status (${STATUSES.join(', ')})`).optional(),
  type: oneOrMany(name, 'a workflow type').optional(),
  idPrefix: z.string().min(1).max(256).optional(),
  failureCategory: oneOrMany(failureCategory, `a failure category (${CATEGORIES.join(', ')})`).optional(),
  parentId: id.optional(),
  createdAfter: isoDate.optional(),
  createdBefore: isoDate.optional(),
  updatedAfter: isoDate.optional(),
  updatedBefore: isoDate.optional(),
  deadlineAfter: isoDate.optional(),
  deadlineBefore: isoDate.optional(),
  attributes: z.record(attributeName, attributeValue).meta(ATTRIBUTE_COUNT).optional(),
};

export const health = defineOperation({
  name: 'weft.system.health',
  summary: 'Liveness check',
  scope: null,
  rest: { method: 'GET', path: '/health', from: 'none' },
  input: z.object({}),
  output: z.object({ status: z.literal('ok') }),
});

export const startWorkflow = defineOperation({
  name: 'weft.workflows.start',
  summary: 'Start a workflow run',
  description: 'Creates a run of a registered workflow type. A taken id is a 409 (workflow_already_exists).',
  scope: Scope.workflowsWrite,
  rest: { method: 'POST', path: '/workflows', from: 'body', status: 201 },
  input: z.object({
    type: name.describe('Workflow type'),
    input: z.unknown().optional(),
    id: id.optional(),
    idempotencyKey: z.string().min(1).max(256).optional(),
    executionTimeout: duration.optional(),
  }),
  output: z.object({ id: z.string() }),
});

export const listWorkflows = defineOperation({
  name: 'weft.workflows.list',
  summary: 'List workflow runs, newest first',
  scope: Scope.workflowsRead,
  rest: { method: 'GET', path: '/workflows', from: 'query' },
  input: z.object({
    ...filter,
    include: z.array(z.literal('failureCategory')).max(1).optional(),
    limit: z.coerce.number().int().min(1).max(1000).optional(),
    offset: z.coerce.number().int().min(0).optional().describe('Matches to skip; 0 or absent with a cursor'),
    cursor: z
      .string()
      .min(1)
      .max(CURSOR_MAX_LENGTH)
      .regex(/^[A-Za-z0-9_-]+$/, { error: 'expected a nextCursor of an earlier page' })
      .optional()
      .describe(
        'The nextCursor of the previous page of the same filter; one not issued for this filter is 400 invalid_cursor',
      ),
  }),
  output: z.object({
    items: z.array(workflowSummary),
    total: z
      .number()
      .int()
      .describe(
        'Every match of the filter (not only those after the cursor) when totalIsExact; otherwise a lower bound (more than 1,000 runs match)',
      ),
    totalIsExact: z.boolean().describe('True for filters on status and type alone, or when at most 1,000 runs match'),
    offset: z.number().int(),
    limit: z.number().int(),
    nextCursor: z
      .string()
      .nullable()
      .describe('Pass as cursor, with the same filter, for the next page; null when no match follows this page'),
  }),
});

export const aggregateWorkflows = defineOperation({
  name: 'weft.workflows.aggregate',
  summary: 'Count workflow runs by status, type, failure category or attribute',
  scope: Scope.workflowsRead,
  rest: { method: 'GET', path: '/workflows/aggregate', from: 'query' },
  input: z.object({
    groupBy: z
      .string()
      .regex(GROUP_BY_PATTERN, { error: "expected 'status', 'type', 'failureCategory' or 'attribute:<name>'" })
      .describe("'status', 'type', 'failureCategory' or 'attribute:<name>'"),
    ...filter,
  }),
  output: z.object({
    total: z.number().int(),
    groups: z.array(z.object({ key: attributeValue, count: z.number().int() })),
    truncated: z.boolean(),
  }),
});

export const getWorkflow = defineOperation({
  name: 'weft.workflows.get',
  summary: "A run's state",
  scope: Scope.workflowsRead,
  rest: { method: 'GET', path: '/workflows/:id', from: 'none' },
  input: z.object({ id }),
  output: workflowState,
});

export const workflowResult = defineOperation({
  name: 'weft.workflows.result',
  summary: "Wait for a run's result",
  description:
    'Waits up to 30 seconds for the run to finish: 408 (result_timeout) if it has not, 422 if it failed, was cancelled or timed out.',
  scope: Scope.workflowsRead,
  rest: { method: 'GET', path: '/workflows/:id/result', from: 'none' },
  input: z.object({ id }),
  output: z.object({ result: z.unknown().optional().describe('Absent when the run returned undefined') }),
});

export const deleteWorkflow = defineOperation({
  name: 'weft.workflows.delete',
  summary: 'Delete a run and everything stored about it (cancelling it first if unfinished)',
  scope: Scope.workflowsAdmin,
  rest: { method: 'DELETE', path: '/workflows/:id', from: 'none', status: 204 },
  input: z.object({ id }),
  output: z.null(),
});

export const cancelWorkflow = defineOperation({
  name: 'weft.workflows.cancel',
  summary: 'Cancel a run, keeping its record',
  scope: Scope.workflowsWrite,
  rest: { method: 'POST', path: '/workflows/:id/cancel', from: 'none', status: 204 },
  input: z.object({ id }),
  output: z.null(),
});

export const signalWorkflow = defineOperation({
  name: 'weft.workflows.signal',
  summary: 'Send a signal to a run',
  scope: Scope.workflowsWrite,
  rest: { method: 'POST', path: '/workflows/:id/signal/:name', from: 'body' },
  input: z.object({ id, name, payload: z.unknown().optional() }),
  output: z.object({ ok: z.literal(true) }),
});

export const updateWorkflow = defineOperation({
  name: 'weft.workflows.update',
  summary: 'Send an update (request/response) to a run',
  description:
    'Runs the workflow\'s update handler and returns its result. When `timeout` (ms or a duration) passes first, answers 202 with status "pending".',
  scope: Scope.workflowsWrite,
  rest: { method: 'POST', path: '/workflows/:id/update/:name', from: 'body' },
  input: z.object({
    id,
    name,
    payload: z.unknown().optional(),
    timeout: duration.optional(),
    idempotencyKey: z.string().min(1).max(256).optional(),
  }),
  output: z.object({
    updateId: z.string(),
    status: z.enum(['completed', 'pending']),
    result: z.unknown().optional(),
  }),
});

export const getUpdate = defineOperation({
  name: 'weft.updates.get',
  summary: "An update's status and result (202 while pending)",
  scope: Scope.workflowsRead,
  rest: { method: 'GET', path: '/updates/:updateId', from: 'none' },
  input: z.object({ updateId: z.string().min(1).max(256) }),
  output: z.object({
    updateId: z.string(),
    workflowId: z.string(),
    name: z.string(),
    status: z.enum(['pending', 'completed', 'failed']),
    result: z.unknown().optional(),
    error: serializedError.optional(),
  }),
});

export const getAttributes = defineOperation({
  name: 'weft.workflows.getAttributes',
  summary: "A run's search attributes",
  scope: Scope.workflowsRead,
  rest: { method: 'GET', path: '/workflows/:id/attributes', from: 'none' },
  input: z.object({ id }),
  output: z.object({ attributes: z.record(z.string(), attributeValue) }),
});

export const setAttributes = defineOperation({
  name: 'weft.workflows.setAttributes',
  summary: 'Set search attributes of a run (null removes one)',
  scope: Scope.workflowsWrite,
  rest: { method: 'PATCH', path: '/workflows/:id/attributes', from: 'body' },
  input: z.object({ id, attributes: z.record(attributeName, attributeValue.nullable()).meta(ATTRIBUTE_COUNT) }),
  output: z.object({ attributes: z.record(z.string(), attributeValue) }),
});

export const queryWorkflow = defineOperation({
  name: 'weft.workflows.query',
  summary: "Ask a run's query handler (read-only)",
  scope: Scope.workflowsRead,
  rest: { method: 'POST', path: '/workflows/:id/query/:name', from: 'body' },
  input: z.object({ id, name, args: z.unknown().optional() }),
  output: z.object({ result: z.unknown().optional().describe('Absent when the handler returned undefined') }),
});

export const listEvents = defineOperation({
  name: 'weft.events.list',
  summary: 'Fleet events after a cursor, oldest first',
  scope: Scope.eventsRead,
  rest: { method: 'GET', path: '/events', from: 'query' },
  input: z.object({
    after: z.coerce.number().int().min(-1).optional(),
    limit: z.coerce.number().int().min(1).max(1000).optional(),
  }),
  output: z.object({
    items: z.array(
      z.object({
        seq: z.number().int(),
        type: z.string(),
        workflowId: z.string().nullable(),
        timestamp: isoDate,
        data: z.record(z.string(), z.unknown()),
      }),
    ),
  }),
});

/** Every operation, in the order the documents list them. */
export const operations = [
  health,
  startWorkflow,
  listWorkflows,
  aggregateWorkflows,
  getWorkflow,
  workflowResult,
  deleteWorkflow,
  cancelWorkflow,
  signalWorkflow,
  updateWorkflow,
  getUpdate,
  getAttributes,
  setAttributes,
  queryWorkflow,
  listEvents,
] as const;

export type CatalogOperation = (typeof operations)[number];
