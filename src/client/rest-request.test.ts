/**
 * The client's request building against the server's own reader: whatever `restRequest` writes,
 * `queryToInput` (the server's query-string reader) must read back as the same input.
 */
import { describe, expect, test } from 'bun:test';
import { WeftError } from '../core/errors.ts';
import { aggregateWorkflows, cancelWorkflow, listWorkflows, signalWorkflow } from '../protocol/operations.ts';
import { inputFields } from '../server/operation-input.ts';
import { queryToInput } from '../server/query-input.ts';
import { restRequest } from './rest-request.ts';

/** What the server makes of the query string the client wrote for `spec`. */
function roundTrip(spec: typeof listWorkflows | typeof aggregateWorkflows, input: Record<string, unknown>) {
  const { path } = restRequest(spec, input);
  return queryToInput(spec.name, new URL(path, 'http://weft.local').searchParams, inputFields(spec));
}

describe('restRequest', () => {
  test('attribute values of every type are read back by the server with the same type', () => {
    const attributes = {
      plain: 'eu-west',
      numeric: '5',
      decimal: '-1.5',
      yes: 'true',
      no: 'false',
      quoted: '"already quoted"',
      empty: '',
      unicode: 'zürich & co=1',
      count: 5,
      negative: -2.25,
      big: 1e21,
      tiny: 1e-7,
      zero: -0,
      flag: true,
      off: false,
    };
    expect(roundTrip(listWorkflows, { attributes })).toEqual({ attributes: { ...attributes, zero: 0 } });
  });

  test('filters become snake_case parameters, and arrays repeated parameters', () => {
    const { path } = restRequest(listWorkflows, {
      status: ['failed', 'timed_out'],
      idPrefix: 'o-',
      failureCategory: 'activity',
      createdAfter: '2026-01-01T00:00:00+01:00',
      include: ['failureCategory'],
      limit: 10,
    });
    expect(path).toBe(
      '/api/v1/workflows?status=failed&status=timed_out&id_prefix=o-&failure_category=activity' +
        '&created_after=2026-01-01T00%3A00%3A00%2B01%3A00&include=failureCategory&limit=10',
    );
    expect(roundTrip(aggregateWorkflows, { groupBy: 'attribute:region', type: 'order' })).toEqual({
      groupBy: 'attribute:region',
      type: ['order'],
    });
  });

  test('path parameters are percent-encoded and left out of the body', () => {
    expect(restRequest(signalWorkflow, { id: 'a/b c', name: 'go?', payload: { x: 1 } })).toEqual({
      method: 'POST',
      path: '/api/v1/workflows/a%2Fb%20c/signal/go%3F',
      body: { payload: { x: 1 } },
    });
    expect(restRequest(cancelWorkflow, { id: 'c-1' })).toEqual({
      method: 'POST',
      path: '/api/v1/workflows/c-1/cancel',
    });
  });

  test('inputs the binding cannot carry are refused with invalid_argument', () => {
    const refused = (fn: () => unknown): string => {
      try {
        fn();
      } catch (error) {
        if (error instanceof WeftError) return error.code;
      }
      return 'accepted';
    };
    expect(refused(() => restRequest(cancelWorkflow, {}))).toBe('invalid_argument');
    expect(refused(() => restRequest(listWorkflows, { attributes: { n: Number.NaN } }))).toBe('invalid_argument');
    expect(refused(() => restRequest(listWorkflows, { attributes: { o: { nested: 1 } } }))).toBe('invalid_argument');
    expect(refused(() => restRequest(listWorkflows, { type: { nested: 1 } }))).toBe('invalid_argument');
    expect(refused(() => restRequest(listWorkflows, 'status=failed'))).toBe('invalid_argument');
  });
});
