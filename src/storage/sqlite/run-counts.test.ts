/**
 * `run_counts`, the per-(status, type) counts that triggers keep inside each write transaction, always
 * equals a fresh `GROUP BY` over `runs`: after any mix of creates, status changes and deletes —
 * including commits that fail and roll back (a taken id) beside commits that land in the same group —
 * and after a v2 file is upgraded (the migration's backfill).
 */
import { Database } from 'bun:sqlite';
import { afterAll, describe, expect, test } from 'bun:test';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRunRecord } from '../../testing/index.ts';
import type { Mutation, RunStatus } from '../storage.ts';
import { MIGRATIONS, WEFT_APPLICATION_ID } from './migrations.ts';
import { SQLiteStorage } from './sqlite-storage.ts';

const dir = mkdtempSync(join(tmpdir(), 'weft-run-counts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

const STATUSES: RunStatus[] = ['pending', 'running', 'suspended', 'completed', 'failed'];
const TYPES = ['order', 'refund', 'ship'];

const mutation = fc.oneof(
  fc.record({
    op: fc.constant('create'),
    id: fc.nat(30),
    status: fc.constantFrom(...STATUSES),
    type: fc.constantFrom(...TYPES),
  }),
  fc.record({ op: fc.constant('update'), id: fc.nat(30), status: fc.constantFrom(...STATUSES) }),
  fc.record({ op: fc.constant('delete'), id: fc.nat(30) }),
);
type Step = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function toMutation(step: Step): Mutation {
  const id = `run-${step.id}`;
  if (step.op === 'create')
    return { op: 'createRun', run: makeRunRecord({ id, status: step.status, type: step.type }) };
  if (step.op === 'update') return { op: 'updateRun', id, patch: { status: step.status, updatedAt: 2 } };
  return { op: 'deleteRun', id };
}

type Counts = Record<string, number>;

/** `run_counts` without its zero rows, and the same question asked of `runs` directly. */
function countsOf(path: string): { kept: Counts; fresh: Counts } {
  const db = new Database(path, { readonly: true });
  try {
    const read = (sql: string): Counts =>
      Object.fromEntries(
        (db.query(sql).all() as { status: string; type: string; n: number }[]).map((row) => [
          `${row.status}/${row.type}`,
          row.n,
        ]),
      );
    return {
      kept: read('SELECT status, type, n FROM run_counts WHERE n > 0'),
      fresh: read('SELECT status, type, count(*) AS n FROM runs GROUP BY status, type'),
    };
  } finally {
    db.close();
  }
}

describe('run_counts', () => {
  test('equals a fresh GROUP BY after any mix of creates, status changes, deletes and failed commits', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.array(mutation, { minLength: 1, maxLength: 4 }), { maxLength: 6 }), { maxLength: 8 }),
        async (groups) => {
          const path = join(dir, `counts-${++files}.db`);
          const storage = new SQLiteStorage({ path, readWorker: false });
          try {
            for (const group of groups) {
              // Issued together: one SQLite transaction, each commit in its own savepoint when one fails.
              await Promise.allSettled(group.map((commit) => storage.commit(commit.map(toMutation))));
            }
            const { kept, fresh } = countsOf(path);
            expect(kept).toEqual(fresh);
            const byStatus = await storage.aggregateRuns('status', {}, 100);
            const byType = await storage.aggregateRuns('type', { statuses: ['running', 'failed'] }, 100);
            const page = await storage.listRuns({ statuses: ['running'], types: ['order', 'ship'] }, { limit: 1 });
            const sum = (keep: (key: string) => boolean): number =>
              Object.entries(fresh).reduce((total, [key, n]) => total + (keep(key) ? n : 0), 0);
            expect(byStatus.total).toBe(sum(() => true));
            for (const group of byStatus.groups)
              expect(group.count).toBe(sum((key) => key.startsWith(`${group.key}/`)));
            expect(byType.total).toBe(sum((key) => key.startsWith('running/') || key.startsWith('failed/')));
            expect(page.total).toBe((fresh['running/order'] ?? 0) + (fresh['running/ship'] ?? 0));
          } finally {
            await storage.close();
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  test('a v2 database gains counts of the runs it already has when it is upgraded', async () => {
    const path = join(dir, `v2-${++files}.db`);
    const db = new Database(path, { create: true, strict: true });
    db.run('PRAGMA journal_mode = WAL');
    db.transaction(() => {
      for (const migration of MIGRATIONS.filter((m) => m.version <= 2)) {
        for (const statement of migration.statements) db.run(statement);
      }
      db.run(`PRAGMA application_id = ${WEFT_APPLICATION_ID}`);
      db.run('PRAGMA user_version = 2');
      const insert = db.prepare(
        "INSERT INTO runs (id, type, status, created_at, updated_at, input) VALUES (?, ?, ?, 1, 1, x'00')",
      );
      for (let i = 0; i < 50; i++) insert.run(`r${i}`, TYPES[i % 3] ?? 'order', STATUSES[i % 5] ?? 'pending');
    })();
    db.close();
    await using storage = new SQLiteStorage({ path, readWorker: false });
    const { kept, fresh } = countsOf(path);
    expect(Object.keys(fresh)).toHaveLength(15);
    expect(kept).toEqual(fresh);
    expect(await storage.aggregateRuns('status', {}, 10)).toMatchObject({ total: 50, truncated: false });
  });
});
