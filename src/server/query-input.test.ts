import { describe, expect, test } from 'bun:test';
import { queryToInput } from './query-input.ts';

const fields = new Set([
  'status',
  'type',
  'idPrefix',
  'failureCategory',
  'createdAfter',
  'groupBy',
  'include',
  'limit',
  'attributes',
]);
const map = (query: string) => queryToInput('op', new URLSearchParams(query), fields);
const refusal = (query: string) => {
  try {
    map(query);
  } catch (error) {
    return error as { code: string; details: { issues: { path: string; message: string }[] } };
  }
  throw new Error(`'${query}' was accepted`);
};

describe('queryToInput', () => {
  test('snake_case names map to camelCase fields, and camelCase names are accepted too', () => {
    expect(map('id_prefix=o-&group_by=status&failure_category=activity&created_after=2026-01-01T00:00:00Z')).toEqual({
      idPrefix: 'o-',
      groupBy: 'status',
      failureCategory: ['activity'],
      createdAfter: '2026-01-01T00:00:00Z',
    });
    expect(map('idPrefix=o-&groupBy=type')).toEqual({ idPrefix: 'o-', groupBy: 'type' });
  });

  test('status, type, failure_category and include are arrays; repeating them adds values', () => {
    expect(
      map(
        'status=running&status=failed&type=order&include=failureCategory&failure_category=timeout&failureCategory=activity',
      ),
    ).toEqual({
      status: ['running', 'failed'],
      type: ['order'],
      include: ['failureCategory'],
      failureCategory: ['timeout', 'activity'],
    });
  });

  test('attribute values are typed: booleans, decimals, and JSON-quoted strings', () => {
    expect(
      map(
        'attribute.vip=true&attribute.off=false&attribute.tier=2&attribute.score=-1.5&attribute.code=%225%22&attribute.zip=00501&attribute.region=us-east&attribute.big=1e3',
      ),
    ).toEqual({
      attributes: {
        vip: true,
        off: false,
        tier: 2,
        score: -1.5,
        code: '5',
        zip: '00501',
        region: 'us-east',
        big: '1e3',
      },
    });
    expect(map('attribute.quoted=%22true%22&attribute.empty=')).toEqual({ attributes: { quoted: 'true', empty: '' } });
  });

  test('unknown names are refused so a typo never widens a query', () => {
    const error = refusal('stauts=failed');
    expect(error.code).toBe('invalid_params');
    expect(error.details.issues[0]!.path).toBe('stauts');
    expect(error.details.issues[0]!.message).toContain('id_prefix');
    expect(refusal('attributes=x').code).toBe('invalid_params');
    expect(refusal('id-prefix=x').code).toBe('invalid_params');
    expect(queryToInput.bind(null, 'op', new URLSearchParams('a=1'), new Set())).toThrow(/takes no query parameters/);
  });

  test('empty values, repeated single-valued names, nameless and badly quoted attributes are refused', () => {
    for (const query of [
      'limit=',
      'limit=1&limit=2',
      'id_prefix=a&idPrefix=b',
      'attribute.=x',
      'attribute.a=1&attribute.a=2',
      'attribute.a=%22%5Cq%22',
    ]) {
      expect(refusal(query).code).toBe('invalid_params');
    }
  });
});
