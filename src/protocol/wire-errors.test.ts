import { describe, expect, test } from 'bun:test';
import { ApplicationError, WeftError, WorkflowNotFoundError } from '../core/errors.ts';
import { httpStatusOf, isWireErrorCode, toWireError, WIRE_ERROR_CODES } from './wire-errors.ts';

describe('toWireError', () => {
  test('keeps the code, message and details of an error whose code is in the table', () => {
    expect(toWireError(new WorkflowNotFoundError('o-1'))).toEqual({
      code: 'workflow_not_found',
      message: "No workflow with id 'o-1'",
      details: { id: 'o-1' },
    });
  });

  test('turns a Weft error with a code outside the table into internal, so every answered code is documented', () => {
    const storage = new WeftError('storage_write_failed', "Cannot write '/var/lib/weft/runs.db'", {
      details: { path: '/var/lib/weft/runs.db' },
    });
    const made = new ApplicationError('card declined', { code: 'card_declined' });
    for (const error of [storage, made]) {
      expect(toWireError(error)).toEqual({ code: 'internal', message: 'Internal server error' });
    }
    expect(httpStatusOf('storage_write_failed')).toBe(500);
  });
});

describe('the wire error table', () => {
  test('lists internal (500) with the codes callers cause, each once', () => {
    expect(isWireErrorCode('internal')).toBe(true);
    expect(httpStatusOf('internal')).toBe(500);
    expect(new Set(WIRE_ERROR_CODES).size).toBe(WIRE_ERROR_CODES.length);
    expect(WIRE_ERROR_CODES.every((code) => httpStatusOf(code) >= 400)).toBe(true);
  });

  test('does not take inherited names for codes', () => {
    expect(isWireErrorCode('toString')).toBe(false);
    expect(httpStatusOf('constructor')).toBe(500);
  });
});
