import { describe, expect, test } from 'bun:test';
import { RouteTable } from './route-table.ts';

const table = new RouteTable<string>([
  { method: 'GET', pattern: '/api/v1/workflows', target: 'list' },
  { method: 'GET', pattern: '/api/v1/workflows/aggregate', target: 'aggregate' },
  { method: 'GET', pattern: '/api/v1/workflows/:id', target: 'get' },
  { method: 'DELETE', pattern: '/api/v1/workflows/:id', target: 'delete' },
  { method: 'POST', pattern: '/api/v1/workflows/:id/signal/:name', target: 'signal' },
]);

describe('RouteTable', () => {
  test('a path finds its route with the named parameters decoded', () => {
    const found = table.match('POST', '/api/v1/workflows/o%2F1/signal/go%20now');
    expect(found).toMatchObject({ kind: 'found', route: { target: 'signal' }, params: { id: 'o/1', name: 'go now' } });
  });

  test('a literal route is not captured by a parameter route, for any method', () => {
    expect(table.match('GET', '/api/v1/workflows/aggregate')).toMatchObject({ route: { target: 'aggregate' } });
    expect(table.match('DELETE', '/api/v1/workflows/aggregate')).toEqual({
      kind: 'method_not_allowed',
      pattern: '/api/v1/workflows/aggregate',
      allow: ['GET'],
    });
    expect(table.match('GET', '/api/v1/workflows/aggregated')).toMatchObject({ route: { target: 'get' } });
  });

  test('a known path with another method lists the allowed methods', () => {
    expect(table.match('PUT', '/api/v1/workflows/o-1')).toEqual({
      kind: 'method_not_allowed',
      pattern: '/api/v1/workflows/:id',
      allow: ['DELETE', 'GET'],
    });
  });

  test('unknown paths, extra segments, empty parameters and trailing slashes are not found', () => {
    for (const path of ['/', '/api/v1', '/api/v1/workflows/', '/api/v1/workflows//signal/x', '/api/v1/workflows/a/b']) {
      expect(table.match('GET', path)).toEqual({ kind: 'not_found' });
    }
  });

  test('bad percent-encoding in a parameter is a bad request', () => {
    expect(() => table.match('GET', '/api/v1/workflows/%E0%A4%A')).toThrow(
      expect.objectContaining({ code: 'bad_request' }),
    );
  });

  test('regex characters in a pattern are literal', () => {
    const dotted = new RouteTable([{ method: 'GET', pattern: '/openapi.json', target: 'doc' }]);
    expect(dotted.match('GET', '/openapi.json').kind).toBe('found');
    expect(dotted.match('GET', '/openapiXjson').kind).toBe('not_found');
  });
});
