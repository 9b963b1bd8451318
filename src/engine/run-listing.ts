/**
 * Visibility: the public filter of `engine.list` / `engine.aggregate` checked and turned into a
 * storage `RunQuery`, run summaries as callers see them, and search attribute validation.
 *
 * Trap it avoids: a filter that silently matches everything. Every field is checked — an unknown
 * status, a non-Date range, a limit past the cap — and refused with `invalid_argument` naming the
 * field, because a typo in a dashboard query should not list the whole fleet. A page of a listing
 * reads one run past its end, so `nextCursor` says exactly whether another page exists.
 */
import { clipped } from '../core/clip.ts';
import { FailureCategory, InvalidArgumentError, InvalidCursorError } from '../core/errors.ts';
import { ATTRIBUTE_NAME_PATTERN, checkName, checkWellFormed, MAX_ATTRIBUTE_NAME_LENGTH } from '../core/names.ts';
import {
  LIST_TOTAL_CAP,
  RunStatus,
  type AttributeValue,
  type RunGroupBy,
  type RunKey,
  type RunQuery,
  type RunSummary,
  type Storage,
} from '../storage/storage.ts';
import { decodeCursor, encodeCursor } from './list-cursor.ts';

/** Most runs one `engine.list` call returns; the default page size is 50. */
export const MAX_LIST_LIMIT = 1000;
export const DEFAULT_LIST_LIMIT = 50;
/** Most groups one `engine.aggregate` call returns; the rest is reported as `truncated`. */
export const MAX_AGGREGATE_GROUPS = 1000;
/**
 * Attribute names: 1–128 characters of letters, digits, `_ - . :` (they appear in URLs as
 * `attribute.<name>`), except `__proto__` (see core/names.ts).
 */
export { MAX_ATTRIBUTE_NAME_LENGTH };
/** Longest string attribute value, in characters. */
export const MAX_ATTRIBUTE_STRING_LENGTH = 1024;
/** Most attributes one call (`setAttributes`, a list filter) may name. */
export const MAX_ATTRIBUTES_PER_RUN = 64;

/**
 * What `engine.list` and `engine.aggregate` filter on. Every field narrows the result (AND); the
 * array forms of `status`, `type` and `failureCategory` match any of their values (OR). Ranges are
 * exclusive; a deadline range never matches a run without a deadline.
 *
 * @example
 * await engine.list({ status: ['running', 'suspended'], attributes: { customer: 'c-1' }, limit: 20 });
 */
export interface WorkflowFilter {
  status?: RunStatus | readonly RunStatus[];
  type?: string | readonly string[];
  idPrefix?: string;
  failureCategory?: FailureCategory | readonly FailureCategory[];
  /** Runs started by this run with `ctx.startChild`. */
  parentId?: string;
  createdAfter?: Date;
  createdBefore?: Date;
  updatedAfter?: Date;
  updatedBefore?: Date;
  deadlineAfter?: Date;
  deadlineBefore?: Date;
  /** The run has each attribute with exactly this value (`1`, `'1'` and `true` differ). */
  attributes?: Readonly<Record<string, AttributeValue>>;
}

/**
 * Options of `engine.list`: the filter, a page, and `include: ['failureCategory']` to project it.
 *
 * @example
 * const page = await engine.list({ status: 'failed', include: ['failureCategory'], limit: 50, offset: 50 });
 */
export interface ListOptions extends WorkflowFilter {
  /** Extra fields to project; the default list path leaves `failureCategory` out. */
  include?: readonly 'failureCategory'[];
  /** Default 50, at most 1000. */
  limit?: number;
  /** Default 0. Not with `cursor`. */
  offset?: number;
  /**
   * The `nextCursor` of the previous page of the same filter: this page starts right after it, at
   * the cost of one page however deep (an `offset` skips every row before it). Opaque; refused with
   * `invalid_cursor` if garbled, made for another filter, or given with a non-zero `offset`.
   */
  cursor?: string;
}

/** A run in a listing: no input or result. */
export interface WorkflowSummary {
  id: string;
  type: string;
  version: string | null;
  status: RunStatus;
  parentId: string | null;
  createdAt: Date;
  updatedAt: Date;
  deadline: Date | null;
  /** Only with `include: ['failureCategory']`; null for runs without one. */
  failureCategory?: FailureCategory | null;
}

/**
 * One page of `engine.list`, newest first. `total` counts every match of the filter — not only those
 * after a `cursor` — when `totalIsExact`; it is exact for filters on status and type alone (or none)
 * and whenever at most 1,000 runs match. Past that, counting would cost as much as reading every
 * match, so `totalIsExact` is false and `total` is a lower bound (1,000, or `offset + items.length`
 * when the page reaches further): show "1,000+". `nextCursor` continues after the last item, null
 * when no match follows it.
 *
 * @example
 * for (let page = await engine.list({ status: 'failed', limit: 100 }); ; ) {
 *   handle(page.items);
 *   if (page.nextCursor === null) break;
 *   page = await engine.list({ status: 'failed', limit: 100, cursor: page.nextCursor });
 * }
 */
export interface WorkflowList {
  items: WorkflowSummary[];
  total: number;
  totalIsExact: boolean;
  offset: number;
  limit: number;
  /** Pass as `cursor` (with the same filter) for the next page; null when this page is the last. */
  nextCursor: string | null;
}

/** Grouped counts from `engine.aggregate`. */
export interface WorkflowAggregate {
  total: number;
  groups: { key: AttributeValue; count: number }[];
  truncated: boolean;
}

const STATUSES = new Set<string>(Object.values(RunStatus));
const CATEGORIES = new Set<string>(Object.values(FailureCategory));

/** Checks a filter and turns it into the storage query. */
export function toRunQuery(filter: WorkflowFilter | undefined): RunQuery {
  if (filter === undefined || filter === null) return {};
  if (typeof filter !== 'object') throw new InvalidArgumentError('the filter must be an object');
  const query: RunQuery = {};
  const statuses = oneOrMany(filter.status, 'status', (v) => STATUSES.has(v));
  if (statuses !== undefined) query.statuses = statuses as RunStatus[];
  const types = oneOrMany(filter.type, 'type');
  if (types !== undefined) query.types = types;
  const categories = oneOrMany(filter.failureCategory, 'failureCategory', (v) => CATEGORIES.has(v));
  if (categories !== undefined) query.failureCategories = categories as FailureCategory[];
  if (filter.idPrefix !== undefined) query.idPrefix = nonEmptyString(filter.idPrefix, 'idPrefix');
  if (filter.parentId !== undefined) query.parentId = nonEmptyString(filter.parentId, 'parentId');
  for (const field of RANGE_FIELDS) {
    const value = filter[field];
    if (value === undefined) continue;
    if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
      throw new InvalidArgumentError(`${field} must be a valid Date`, { details: { field } });
    }
    query[field] = value.getTime();
  }
  if (filter.attributes !== undefined) {
    const attributes = checkAttributes(filter.attributes, 'attributes', false);
    query.attributes = attributes as Record<string, AttributeValue>;
  }
  return query;
}

/** The date-range fields of a filter. */
export const RANGE_FIELDS = [
  'createdAfter',
  'createdBefore',
  'updatedAfter',
  'updatedBefore',
  'deadlineAfter',
  'deadlineBefore',
] as const;

/**
 * One page of `engine.list` read from `storage`: the filter and page checked, one run more than the
 * page asked for (so `nextCursor` is null on the last page, not one empty page later), summaries.
 */
export async function listWorkflows(storage: Pick<Storage, 'listRuns'>, options?: ListOptions): Promise<WorkflowList> {
  const query = toRunQuery(options);
  const page = pageOf(options);
  const withCategory = includesFailureCategory(options);
  const cursor = options?.cursor;
  let after: RunKey | undefined;
  if (cursor !== undefined) {
    if (page.offset !== 0) {
      throw new InvalidCursorError(
        'cursor and a non-zero offset exclude each other: a cursor page starts at its cursor',
        {
          details: { field: 'cursor' },
        },
      );
    }
    after = decodeCursor(cursor, query);
  }
  const { runs, total, totalIsExact } = await storage.listRuns(query, {
    limit: page.limit + 1,
    offset: page.offset,
    ...(after === undefined ? {} : { after }),
  });
  const shown = runs.slice(0, page.limit);
  const last = shown.at(-1);
  const nextCursor =
    runs.length > page.limit && last !== undefined
      ? encodeCursor({ createdAt: last.createdAt, id: last.id }, query)
      : null;
  // The extra run may have lifted a lower bound by one; the bound is of what the caller sees.
  const bound = totalIsExact ? total : Math.max(LIST_TOTAL_CAP, Math.min(total, page.offset + shown.length));
  return {
    items: shown.map((run) => toSummary(run, withCategory)),
    total: bound,
    totalIsExact,
    offset: page.offset,
    limit: page.limit,
    nextCursor,
  };
}

/** The page bounds of `engine.list`, checked. */
export function pageOf(options: ListOptions | undefined): { limit: number; offset: number } {
  const limit = options?.limit ?? DEFAULT_LIST_LIMIT;
  const offset = options?.offset ?? 0;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
    throw new InvalidArgumentError(`limit must be an integer from 1 to ${MAX_LIST_LIMIT}`, { details: { limit } });
  }
  if (!Number.isInteger(offset) || offset < 0) {
    throw new InvalidArgumentError('offset must be an integer >= 0', { details: { offset } });
  }
  return { limit, offset };
}

export function includesFailureCategory(options: ListOptions | undefined): boolean {
  const include = options?.include;
  if (include === undefined) return false;
  if (!Array.isArray(include) || include.some((field) => field !== 'failureCategory')) {
    throw new InvalidArgumentError("include accepts only ['failureCategory']");
  }
  return include.length > 0;
}

export function toSummary(run: RunSummary, withFailureCategory: boolean): WorkflowSummary {
  const summary: WorkflowSummary = {
    id: run.id,
    type: run.type,
    version: run.version,
    status: run.status,
    parentId: run.parentId,
    createdAt: new Date(run.createdAt),
    updatedAt: new Date(run.updatedAt),
    deadline: run.deadline === null ? null : new Date(run.deadline),
  };
  if (withFailureCategory) summary.failureCategory = run.failureCategory;
  return summary;
}

export function checkGroupBy(groupBy: unknown): RunGroupBy {
  if (groupBy === 'status' || groupBy === 'type' || groupBy === 'failureCategory') return groupBy;
  if (typeof groupBy === 'string' && groupBy.startsWith('attribute:')) {
    const name = groupBy.slice('attribute:'.length);
    if (ATTRIBUTE_NAME_PATTERN.test(name)) return groupBy as RunGroupBy;
  }
  throw new InvalidArgumentError(
    "groupBy must be 'status', 'type', 'failureCategory' or 'attribute:<name>' with a valid attribute name",
    { details: { groupBy: clipped(groupBy) } },
  );
}

/**
 * Checks a map of search attributes: names, value types (string, finite number, boolean; `null`
 * removes when `allowNull`), lengths and count. Returns a copy.
 */
export function checkAttributes(
  attributes: unknown,
  what: string,
  allowNull: boolean,
): Record<string, AttributeValue | null> {
  if (typeof attributes !== 'object' || attributes === null || Array.isArray(attributes)) {
    throw new InvalidArgumentError(`${what} must be an object of name → value`);
  }
  const entries = Object.entries(attributes);
  if (entries.length > MAX_ATTRIBUTES_PER_RUN) {
    throw new InvalidArgumentError(`${what} has ${entries.length} attributes; at most ${MAX_ATTRIBUTES_PER_RUN}`);
  }
  const checked: Record<string, AttributeValue | null> = {};
  for (const [name, value] of entries) {
    checkAttribute(name, value, allowNull);
    checked[name] = value as AttributeValue | null;
  }
  return checked;
}

export function checkAttribute(name: unknown, value: unknown, allowNull: boolean): void {
  if (typeof name !== 'string' || !ATTRIBUTE_NAME_PATTERN.test(name)) {
    throw new InvalidArgumentError(
      `attribute name '${clipped(name)}' must be 1-${MAX_ATTRIBUTE_NAME_LENGTH} characters of letters, digits and _ - . : (and not '__proto__')`,
      { details: { name: clipped(name) } },
    );
  }
  if (value === null && allowNull) return;
  const ok =
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value)) ||
    (typeof value === 'string' && value.length <= MAX_ATTRIBUTE_STRING_LENGTH);
  if (typeof value === 'string') checkWellFormed(value, `attribute '${name}'`);
  if (!ok) {
    throw new InvalidArgumentError(
      `attribute '${name}' must be a boolean, a finite number or a string of at most ${MAX_ATTRIBUTE_STRING_LENGTH} characters${allowNull ? ' (null removes it)' : ''}`,
      { details: { name } },
    );
  }
}

/** One value or several of `field`, each a name (`checkName`) that passes `valid` when given. */
function oneOrMany(value: unknown, field: string, valid?: (v: string) => boolean): string[] | undefined {
  if (value === undefined) return undefined;
  const values = Array.isArray(value) ? (value as unknown[]) : [value];
  if (values.length === 0) return undefined;
  for (const v of values) {
    if (valid === undefined) checkName(v, field);
    else if (typeof v !== 'string' || !valid(v)) {
      throw new InvalidArgumentError(`${field} has an invalid value '${clipped(v)}'`, { details: { field } });
    }
  }
  return values as string[];
}

function nonEmptyString(value: unknown, field: string): string {
  checkName(value, field);
  return value;
}
