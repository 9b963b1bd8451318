import { describe, expect, test } from 'bun:test';
import { clip, clipped, MAX_QUOTED_LENGTH } from './clip.ts';
import { parseDuration } from './duration.ts';
import {
  InvalidDurationError,
  UpdateNotHandledError,
  WorkflowNotFoundError,
  WorkflowTypeNotRegisteredError,
  type WeftError,
} from './errors.ts';

const huge = 'x'.repeat(900_000);

/** The size of an error as it would leave over the wire: its message and its details. */
const size = (error: WeftError): number => JSON.stringify({ message: error.message, details: error.details }).length;

describe('clip', () => {
  test('a value of a legitimate length is quoted whole', () => {
    const id = 'o'.repeat(MAX_QUOTED_LENGTH);
    expect(clip(id)).toBe(id);
    expect(new WorkflowNotFoundError(id).details).toEqual({ id });
  });

  test('a longer value keeps its first characters and says how long it was', () => {
    expect(clip(huge)).toBe(`${'x'.repeat(MAX_QUOTED_LENGTH)}… (900000 characters)`);
    expect(clipped(12345, 3)).toBe('123… (5 characters)');
  });

  test('a cut never splits a surrogate pair', () => {
    const clippedValue = clip(`${'a'.repeat(MAX_QUOTED_LENGTH - 1)}😀${huge}`);
    expect(clippedValue.isWellFormed()).toBe(true);
    expect(clippedValue.startsWith(`${'a'.repeat(MAX_QUOTED_LENGTH - 1)}…`)).toBe(true);
  });

  test('errors that quote caller input stay small whatever they are given', () => {
    for (const error of [
      new WorkflowNotFoundError(huge),
      new WorkflowTypeNotRegisteredError([huge]),
      new UpdateNotHandledError(huge, huge),
      new InvalidDurationError(huge),
    ]) {
      expect(size(error)).toBeLessThan(1_500);
    }
    let thrown: unknown;
    try {
      parseDuration(`${huge}min`);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidDurationError);
    expect(size(thrown as WeftError)).toBeLessThan(1_500);
  });
});
