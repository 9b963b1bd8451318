/**
 * Conformance tests for search attributes: `setAttributes` sets, replaces (value and type) and with
 * `null` removes single attributes, strings, numbers and booleans read back as themselves (`1`,
 * `'1'` and `true` stay apart), attributes are not checked against the run's existence, and a
 * refused value applies nothing of its commit.
 */
import { describe, expect, test } from 'bun:test';
import type { ConformanceContext } from './helpers.ts';
import { makeRun, rejectionOf } from './helpers.ts';

/** Registers the `attributes` conformance tests; `open` gives each test a fresh storage. */
export function describeAttributes({ open }: ConformanceContext): void {
  describe('attributes', () => {
    test('getAttributes of a run without attributes is empty', async () => {
      const storage = await open();
      await storage.commit([{ op: 'createRun', run: makeRun({ id: 'r1' }) }]);
      expect(await storage.getAttributes('r1')).toEqual({});
      expect(await storage.getAttributes('nope')).toEqual({});
    });

    test('attributes read back with their value and type', async () => {
      const storage = await open();
      const attributes = {
        text: 'gold',
        empty: '',
        numeric: '1',
        one: 1,
        fraction: -2.5,
        big: 9_007_199_254_740_991,
        yes: true,
        no: false,
        'with space:and colon': 'ok',
      };
      await storage.commit([
        { op: 'createRun', run: makeRun({ id: 'r1' }) },
        { op: 'setAttributes', runId: 'r1', attributes },
      ]);
      expect(await storage.getAttributes('r1')).toEqual(attributes);
    });

    test('setAttributes changes only the attributes it names', async () => {
      const storage = await open();
      await storage.commit([
        { op: 'createRun', run: makeRun({ id: 'r1' }) },
        { op: 'setAttributes', runId: 'r1', attributes: { a: 'x', b: 2 } },
      ]);
      await storage.commit([{ op: 'setAttributes', runId: 'r1', attributes: { c: true } }]);
      await storage.commit([{ op: 'setAttributes', runId: 'r1', attributes: {} }]);
      expect(await storage.getAttributes('r1')).toEqual({ a: 'x', b: 2, c: true });
    });

    test('setting an attribute again replaces its value and its type', async () => {
      const storage = await open();
      await storage.commit([{ op: 'setAttributes', runId: 'r1', attributes: { a: 'x', b: 1, c: 'y' } }]);
      await storage.commit([{ op: 'setAttributes', runId: 'r1', attributes: { a: 1, b: true, c: 'z' } }]);
      expect(await storage.getAttributes('r1')).toEqual({ a: 1, b: true, c: 'z' });
      await storage.commit([{ op: 'setAttributes', runId: 'r1', attributes: { a: '1', b: 0 } }]);
      expect(await storage.getAttributes('r1')).toEqual({ a: '1', b: 0, c: 'z' });
    });

    test('null removes an attribute, and removing a missing one is not an error', async () => {
      const storage = await open();
      await storage.commit([{ op: 'setAttributes', runId: 'r1', attributes: { a: 'x', b: 2 } }]);
      await storage.commit([{ op: 'setAttributes', runId: 'r1', attributes: { a: null, nope: null } }]);
      expect(await storage.getAttributes('r1')).toEqual({ b: 2 });
      await storage.commit([{ op: 'setAttributes', runId: 'r1', attributes: { b: null } }]);
      expect(await storage.getAttributes('r1')).toEqual({});
    });

    test('a later setAttributes in the same commit sees the earlier one', async () => {
      const storage = await open();
      await storage.commit([
        { op: 'setAttributes', runId: 'r1', attributes: { a: 'x', b: 'y' } },
        { op: 'setAttributes', runId: 'r1', attributes: { a: null, b: 'z' } },
      ]);
      expect(await storage.getAttributes('r1')).toEqual({ b: 'z' });
    });

    test('attributes of one run do not leak into another', async () => {
      const storage = await open();
      await storage.commit([
        { op: 'setAttributes', runId: 'r1', attributes: { a: 'x' } },
        { op: 'setAttributes', runId: 'r2', attributes: { a: 'y', b: 1 } },
      ]);
      await storage.commit([{ op: 'setAttributes', runId: 'r2', attributes: { a: null } }]);
      expect(await storage.getAttributes('r1')).toEqual({ a: 'x' });
      expect(await storage.getAttributes('r2')).toEqual({ b: 1 });
    });

    test('attributes are not checked against the run existing', async () => {
      const storage = await open();
      await storage.commit([{ op: 'setAttributes', runId: 'not-created', attributes: { a: 'x' } }]);
      expect(await storage.getAttributes('not-created')).toEqual({ a: 'x' });
    });

    test('a failed commit leaves the attributes it set and removed as they were', async () => {
      const storage = await open();
      await storage.commit([
        { op: 'createRun', run: makeRun({ id: 'r1' }) },
        { op: 'createRun', run: makeRun({ id: 'r2' }) },
        { op: 'setAttributes', runId: 'r1', attributes: { a: 'x', b: 1 } },
      ]);
      const error = await rejectionOf(
        storage.commit([
          { op: 'setAttributes', runId: 'r1', attributes: { a: null, b: '1', c: true } },
          { op: 'setAttributes', runId: 'r2', attributes: { a: 'x' } },
          { op: 'updateRun', id: 'missing', patch: { updatedAt: 1 } },
        ]),
      );
      expect(error).toMatchObject({ conflict: 'run_missing' });
      expect(await storage.getAttributes('r1')).toEqual({ a: 'x', b: 1 });
      expect(await storage.getAttributes('r2')).toEqual({});
      const withA = await storage.listRuns({ attributes: { a: 'x' } }, { limit: 10 });
      expect(withA.runs.map((run) => run.id)).toEqual(['r1']);
      expect((await storage.listRuns({ attributes: { b: '1' } }, { limit: 10 })).total).toBe(0);
    });

    test('a number that is not finite is refused and nothing of the commit applies', async () => {
      for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
        const storage = await open();
        await storage.commit([{ op: 'setAttributes', runId: 'r1', attributes: { a: 'x' } }]);
        const error = await rejectionOf(
          storage.commit([
            { op: 'createRun', run: makeRun({ id: 'r2' }) },
            { op: 'setAttributes', runId: 'r1', attributes: { a: 'y', b: bad } },
          ]),
        );
        expect(error).toBeInstanceOf(Error);
        expect(await storage.getRun('r2')).toBeUndefined();
        expect(await storage.getAttributes('r1')).toEqual({ a: 'x' });
      }
    });
  });
}
