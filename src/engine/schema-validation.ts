/**
 * Checking a value against a declared Standard Schema: a start's input, a signal's or an update's
 * payload. The engine calls this before it encodes or stores anything, so a refused value leaves
 * no run, no inbox message and no update behind; the caller gets `InvalidInputError` listing the
 * issues, and what is stored is the schema's output (defaults and transforms applied).
 *
 * Traps it avoids:
 * - Awaiting where nothing is asynchronous. Most schemas validate synchronously; `validateNow` is
 *   for the one caller that cannot wait (`ctx.startChild`, inside workflow code, whose journal entry
 *   must commit in step order) and refuses a schema that answers with a promise.
 * - Issue paths as the library spells them. Standard Schema paths are keys or `{ key }` segments;
 *   they become one dotted string (`items.0.sku`), and the error clips and caps them.
 */
import { InvalidArgumentError, InvalidInputError, type InputIssue } from '../core/errors.ts';
import type { StandardSchemaV1 } from '../define/schema.ts';
import type { SignalRef } from '../define/signal.ts';
import type { UpdateRef } from '../define/update.ts';
import type { AnyWorkflowDefinition } from '../define/workflow.ts';

/**
 * `value` checked against `schema`: resolves with the schema's output, rejects with
 * `InvalidInputError` naming `what` when it fails.
 */
export async function validateAgainst(schema: StandardSchemaV1, value: unknown, what: string): Promise<unknown> {
  return outcome(await schema['~standard'].validate(value), what);
}

/**
 * As `validateAgainst`, synchronously, for `ctx.startChild`: throws `InvalidInputError` when
 * `value` fails, and `invalid_argument` when the schema validates asynchronously (it answered with
 * a promise), which workflow code cannot wait for.
 */
export function validateNow(schema: StandardSchemaV1, value: unknown, what: string): unknown {
  const result = schema['~standard'].validate(value);
  if (isPromise(result)) {
    result.then(ignore, ignore);
    throw new InvalidArgumentError(
      `${what} cannot be checked by ctx.startChild: its schema validates asynchronously, which workflow code cannot wait for (start that workflow with engine.start, or give it a synchronous schema)`,
    );
  }
  return outcome(result, what);
}

type MaybePromise<T> = T | Promise<T>;

/**
 * Which schema a signal's or update's payload must pass: the one the run's workflow declares under
 * that name (`workflow({ signals, updates })`), else the one of the definition the caller passed.
 * It remembers the names registered workflows declare with a schema, so a payload sent under any
 * other name costs no look-up of its run's type.
 */
export class MessageSchemas {
  readonly #names = { signals: new Set<string>(), updates: new Set<string>() };

  register(definition: AnyWorkflowDefinition): void {
    for (const kind of ['signals', 'updates'] as const) {
      for (const [name, declared] of definition[kind]) {
        if (declared.schema !== undefined) this.#names[kind].add(name);
      }
    }
  }

  /**
   * The schema for a payload sent as `ref` (named `name`) to a run whose workflow `definitionOfRun`
   * finds; synchronous unless that look-up is needed and asynchronous.
   */
  of(
    kind: 'signals' | 'updates',
    name: string,
    ref: SignalRef<unknown> | UpdateRef,
    definitionOfRun: () => MaybePromise<AnyWorkflowDefinition | undefined>,
  ): MaybePromise<StandardSchemaV1 | undefined> {
    const passed = typeof ref === 'object' && ref !== null ? ref.schema : undefined;
    if (!this.#names[kind].has(name)) return passed;
    const declared = (definition: AnyWorkflowDefinition | undefined) => definition?.[kind].get(name)?.schema ?? passed;
    const definition = definitionOfRun();
    return definition instanceof Promise ? definition.then(declared) : declared(definition);
  }
}

function isPromise(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

function ignore(): void {}

function outcome(result: StandardSchemaV1.Result<unknown>, what: string): unknown {
  if (result.issues === undefined) return result.value;
  throw new InvalidInputError(what, result.issues.map(toInputIssue));
}

function toInputIssue(issue: StandardSchemaV1.Issue): InputIssue {
  const path = (issue.path ?? [])
    .map((segment) => keyText(typeof segment === 'object' && segment !== null ? segment.key : segment))
    .join('.');
  return { path, message: typeof issue.message === 'string' ? issue.message : 'invalid' };
}

function keyText(key: PropertyKey): string {
  return typeof key === 'symbol' ? (key.description ?? 'symbol') : String(key);
}
