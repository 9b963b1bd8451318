import { describe, expect, test } from 'bun:test';
import { createCodec } from './codec.ts';
import {
  ActivityFailedError,
  ActivityTimeoutError,
  ApplicationError,
  deserializeError,
  InvalidDurationError,
  InvalidInputError,
  MAX_REPORTED_ISSUES,
  serializeError,
  WeftError,
  WorkflowNotFoundError,
  type SerializedError,
} from './errors.ts';

/** What the journal does with an error: serialize, encode, decode, rebuild. */
function throughStorage(error: unknown): WeftError {
  const codec = createCodec();
  return deserializeError(codec.decode(codec.encode(serializeError(error), 'error')) as SerializedError);
}

describe('WeftError', () => {
  test('subclasses carry their class name, a stable code and whether they are retryable', () => {
    const notFound = new WorkflowNotFoundError('o-1');
    expect(notFound).toBeInstanceOf(WeftError);
    expect(notFound).toBeInstanceOf(Error);
    expect(notFound.name).toBe('WorkflowNotFoundError');
    expect(notFound.code).toBe('workflow_not_found');
    expect(notFound.retryable).toBe(false);
    expect(notFound.details).toEqual({ id: 'o-1' });
    expect(new ActivityTimeoutError('charge', 100).retryable).toBe(true);
  });

  test('ApplicationError takes a custom code and is retryable unless marked non-retryable', () => {
    expect(new ApplicationError('try later')).toMatchObject({ code: 'application_error', retryable: true });
    expect(new ApplicationError('declined', { code: 'card_declined', nonRetryable: true })).toMatchObject({
      code: 'card_declined',
      retryable: false,
    });
  });
});

describe('serializeError and deserializeError', () => {
  test('keep the code, message, retryability and details of a Weft error', () => {
    const original = new ApplicationError('card declined', {
      code: 'card_declined',
      nonRetryable: true,
      details: { card: '4242', attempts: [1, 2] },
    });
    const rebuilt = throughStorage(original);
    expect(rebuilt).toBeInstanceOf(WeftError);
    expect(rebuilt.code).toBe('card_declined');
    expect(rebuilt.message).toBe('card declined');
    expect(rebuilt.retryable).toBe(false);
    expect(rebuilt.details).toEqual({ card: '4242', attempts: [1, 2] });
    expect(rebuilt.name).toBe('ApplicationError');
  });

  test('keep a retryable error retryable', () => {
    const rebuilt = throughStorage(new ActivityTimeoutError('charge', 250));
    expect(rebuilt).toMatchObject({ code: 'activity_timeout', retryable: true, details: { activity: 'charge' } });
  });

  test('rebuild an ActivityFailedError as an ActivityFailedError with its cause', () => {
    const cause = serializeError(new ApplicationError('declined', { code: 'card_declined', nonRetryable: true }));
    const original = new ActivityFailedError('charge', 3, cause);
    const rebuilt = throughStorage(original);
    expect(rebuilt).toBeInstanceOf(ActivityFailedError);
    const failed = rebuilt as ActivityFailedError;
    expect(failed.code).toBe('activity_failed');
    expect(failed.activity).toBe('charge');
    expect(failed.attempts).toBe(3);
    expect(failed.causeCode).toBe('card_declined');
    expect(failed.message).toBe(original.message);
    expect(failed.details).toEqual(original.details);
  });

  test('keep the name, message and string code of a plain Error', () => {
    const error = Object.assign(new TypeError('bad input'), { code: 'ERR_BAD' });
    expect(serializeError(error)).toEqual({ name: 'TypeError', message: 'bad input', code: 'ERR_BAD' });
    const rebuilt = throughStorage(error);
    expect(rebuilt).toBeInstanceOf(WeftError);
    expect(rebuilt).toMatchObject({ name: 'TypeError', message: 'bad input', code: 'ERR_BAD', retryable: false });
  });

  test('drop a code that is not a string and fall back to the generic code', () => {
    const error = Object.assign(new Error('disk'), { code: 28 });
    expect(serializeError(error).code).toBeUndefined();
    expect(throughStorage(error).code).toBe('error');
  });

  test('store validation errors with the value that was rejected', () => {
    const rebuilt = throughStorage(new InvalidDurationError('5 min'));
    expect(rebuilt).toMatchObject({ code: 'invalid_duration', details: { value: '5 min' } });
  });

  test.each([
    ['a string', 'plain failure', 'plain failure'],
    ['a number', 42, '42'],
    ['null', null, 'null'],
    ['undefined', undefined, 'undefined'],
  ])('turn a thrown %s into an error with a readable message', (_label, thrown, message) => {
    expect(serializeError(thrown)).toEqual({ name: 'Error', message });
    const rebuilt = throughStorage(thrown);
    expect(rebuilt).toBeInstanceOf(WeftError);
    expect(rebuilt).toMatchObject({ code: 'error', message, retryable: false });
  });

  test('survive a thrown value that cannot be turned into a string', () => {
    const hostile = Object.create(null) as unknown;
    expect(serializeError(hostile)).toEqual({ name: 'Error', message: 'non-Error value thrown' });
  });
});

describe('InvalidInputError', () => {
  test('names what was checked and the first issues in its message, and lists every issue in details', () => {
    const error = new InvalidInputError("input of workflow 'order'", [
      { path: 'amount', message: 'expected a number' },
      { path: '', message: 'unknown key' },
    ]);
    expect(error.code).toBe('invalid_input');
    expect(error.retryable).toBe(false);
    expect(error.message).toBe(
      "input of workflow 'order' does not match its schema: amount: expected a number; unknown key",
    );
    expect(error.details).toEqual({
      what: "input of workflow 'order'",
      issues: [
        { path: 'amount', message: 'expected a number' },
        { path: '', message: 'unknown key' },
      ],
    });
  });

  test('stays small whatever it is given: issues capped and counted, paths and messages clipped', () => {
    const issues = Array.from({ length: 10_000 }, (_, i) => ({ path: `items.${i}`, message: 'x'.repeat(10_000) }));
    const error = new InvalidInputError('payload', issues);
    expect(error.issues).toHaveLength(MAX_REPORTED_ISSUES);
    expect(error.details?.['issueCount']).toBe(10_000);
    expect(error.message).toContain(`(and ${10_000 - 3} more)`);
    expect(JSON.stringify(error.details).length).toBeLessThan(20_000);
    expect(throughStorage(error).details).toEqual(error.details);
  });
});
