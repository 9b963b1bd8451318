/**
 * Listing and aggregate cost at scale (issue 19): builds a SQLite store of `--runs` runs (default
 * 1,000,000) with raw SQL inserts into a file the storage created — ~20 s, where starting workflows
 * would take minutes — then times each list filter's first page and each aggregate through
 * `SQLiteStorage` (inline reads: the query alone), beside the page statement the storage ran,
 * executed on a plain `bun:sqlite` connection. Not part of `npm run bench` (the build alone is ~20 s).
 *
 *   bun bench/list-scale.ts [--runs 1000000] [--iterations 9] [--keep path] [--only filters|aggregates|pages]
 *
 * `pages` compares a deep page by `offset` with the same page by keyset (`after`, what a `cursor`
 * decodes to): pages 1, 200 and 5,000 of 20, each through the storage (page and total, one run
 * more than the page as `engine.list` asks) and as the raw page statement alone.
 *
 * Traps it avoids:
 * - A store the migration never saw. The file is created by `SQLiteStorage` (current schema) and
 *   filled after, so triggers keep `run_counts` exactly as live writes would.
 * - A fixture with no empty answers. No ticket is ever suspended: the soak's
 *   `status=suspended&type=ticket` dashboard query matches nothing, among 400,000 tickets.
 */
import { Database } from 'bun:sqlite';
import type { SQLQueryBindings } from 'bun:sqlite';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chooseDriver } from '../src/storage/sqlite/list-plan.ts';
import { queryTerms } from '../src/storage/sqlite/query-terms.ts';
import { listRunsSql } from '../src/storage/sqlite/run-query.ts';
import { SQLiteStorage } from '../src/storage/sqlite/index.ts';
import { StatementCache } from '../src/storage/sqlite/statement-cache.ts';
import type { RunGroupBy, RunQuery } from '../src/storage/storage.ts';

function flag(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at === -1 ? fallback : (process.argv[at + 1] ?? fallback);
}
const N = Number(flag('--runs', '1000000'));
const ITERATIONS = Number(flag('--iterations', '9'));
const keep = flag('--keep', '');
const only = flag('--only', '');
const sections = only === '' ? ['filters', 'aggregates', 'pages'] : only.split(',');
const dir = mkdtempSync(join(tmpdir(), 'weft-list-scale-'));
const path = keep === '' ? join(dir, 'scale.db') : keep;
const NEWEST = Date.UTC(2026, 0, 1);
const H = 3_600_000;

/** A fixed-seed generator: every process builds the same file. */
let state = 12_345;
const random = (): number => {
  state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
  return state / 2 ** 32;
};
const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)] as T;

async function build(): Promise<void> {
  const created = new SQLiteStorage({ path, readWorker: false });
  await created.close();
  const db = new Database(path);
  db.run('PRAGMA journal_mode = WAL');
  db.run('PRAGMA synchronous = OFF');
  const TYPES = ['ticket', 'ticket', 'ticket', 'ticket', 'fanout', 'fanout', 'order', 'payment', 'report', 'notify'];
  const CATEGORIES = ['activity', 'activity', 'activity', 'workflow', 'internal'];
  const REGIONS = ['eu-west', 'us-east', 'us-west', 'ap-southeast', 'sa-east'];
  const insertRun = db.prepare<never, SQLQueryBindings[]>(
    `INSERT INTO runs (id, type, version, status, failure_category, idempotency_key, parent_id, created_at,
      updated_at, deadline, error, input, result) VALUES (?, ?, NULL, ?, ?, NULL, ?, ?, ?, ?, NULL, x'00', NULL)`,
  );
  const insertAttribute = db.prepare<never, SQLQueryBindings[]>(
    "INSERT INTO attributes (run_id, key, kind, value) VALUES (?, ?, 's', ?)",
  );
  const write = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const type = pick(TYPES);
      const r = random();
      // 0.1% suspended (never tickets), 0.05% running, 2% failed, 0.3% cancelled, the rest completed.
      const drawn =
        r < 0.001
          ? 'suspended'
          : r < 0.0015
            ? 'running'
            : r < 0.0215
              ? 'failed'
              : r < 0.0245
                ? 'cancelled'
                : 'completed';
      const status = drawn === 'suspended' && type === 'ticket' ? 'completed' : drawn;
      const category = status === 'failed' ? pick(CATEGORIES) : null;
      const createdAt = NEWEST - (N - i) * 2000;
      const id = `${type}-${Math.floor(random() * 2 ** 32)
        .toString(16)
        .padStart(8, '0')}${i.toString(16).padStart(6, '0')}`;
      const parent = i % 20 === 0 && i > 0 ? `order-parent-${i - 1}` : null;
      const deadline = i % 5 === 0 ? createdAt + H : null;
      insertRun.run(id, type, status, category, parent, createdAt, createdAt + Math.floor(random() * 60_000), deadline);
      if (i % 2 === 0) {
        insertAttribute.run(id, 'customer', `c-${Math.floor(random() * 1000)}`);
        insertAttribute.run(id, 'region', pick(REGIONS));
      }
    }
  });
  for (let i = 0; i < N; i += 50_000) write(i, Math.min(N, i + 50_000));
  db.run('PRAGMA wal_checkpoint(TRUNCATE)');
  db.close();
}

const filters: [string, RunQuery][] = [
  ['none', {}],
  ['status=suspended', { statuses: ['suspended'] }],
  ['status=completed', { statuses: ['completed'] }],
  ['type=ticket', { types: ['ticket'] }],
  ['status=suspended type=ticket (none)', { statuses: ['suspended'], types: ['ticket'] }],
  ['status=suspended type=fanout', { statuses: ['suspended'], types: ['fanout'] }],
  ['status=failed type=order', { statuses: ['failed'], types: ['order'] }],
  ['status=running,suspended', { statuses: ['running', 'suspended'] }],
  ['status=running,suspended type=order,fanout', { statuses: ['running', 'suspended'], types: ['order', 'fanout'] }],
  ['idPrefix=ticket- (40%)', { idPrefix: 'ticket-' }],
  ['idPrefix=order-00 (few)', { idPrefix: 'order-00' }],
  ['idPrefix=zzz (none)', { idPrefix: 'zzz' }],
  ['idPrefix=ticket- status=suspended (none)', { idPrefix: 'ticket-', statuses: ['suspended'] }],
  ['failureCategory=activity', { failureCategories: ['activity'] }],
  ['failureCategory=internal type=report', { failureCategories: ['internal'], types: ['report'] }],
  ['failureCategory=internal type=nope (none)', { failureCategories: ['internal'], types: ['nope'] }],
  ['createdAfter=-1h', { createdAfter: NEWEST - H }],
  ['created in a 1h window 10 days ago', { createdAfter: NEWEST - 240 * H, createdBefore: NEWEST - 239 * H }],
  ['createdBefore=-20d', { createdBefore: NEWEST - 480 * H }],
  ['createdAfter=future (none)', { createdAfter: NEWEST + H }],
  ['updatedAfter=-1h', { updatedAfter: NEWEST - H }],
  ['updatedBefore=-20d', { updatedBefore: NEWEST - 480 * H }],
  ['updatedAfter=future (none)', { updatedAfter: NEWEST + H }],
  ['deadlineAfter=now', { deadlineAfter: NEWEST }],
  ['deadlineBefore=-20d', { deadlineBefore: NEWEST - 480 * H }],
  ['deadlineAfter=future (none)', { deadlineAfter: NEWEST + 10 * H }],
  ['attr region=eu-west', { attributes: { region: 'eu-west' } }],
  ['attr customer=c-5', { attributes: { customer: 'c-5' } }],
  ['attr customer=c-5 region=eu-west', { attributes: { customer: 'c-5', region: 'eu-west' } }],
  ['attr region=eu-west status=suspended', { attributes: { region: 'eu-west' }, statuses: ['suspended'] }],
  [
    'attr region=eu-west status=suspended type=ticket (none)',
    { attributes: { region: 'eu-west' }, statuses: ['suspended'], types: ['ticket'] },
  ],
  ['attr region=mars (none)', { attributes: { region: 'mars' } }],
  ['parentId', { parentId: 'order-parent-499999' }],
  ['status=completed createdBefore=-20d', { statuses: ['completed'], createdBefore: NEWEST - 480 * H }],
  [
    'type=ticket status=failed updatedAfter=-1d',
    { types: ['ticket'], statuses: ['failed'], updatedAfter: NEWEST - 24 * H },
  ],
];
const aggregates: [RunGroupBy, RunQuery][] = [
  ['status', {}],
  ['type', {}],
  ['failureCategory', {}],
  ['status', { types: ['ticket'] }],
  ['type', { statuses: ['suspended'] }],
];

function p50(samples: number[]): number {
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)] ?? 0;
}

async function time(call: () => unknown): Promise<number> {
  await call();
  await call();
  const samples: number[] = [];
  for (let k = 0; k < ITERATIONS; k++) {
    const start = performance.now();
    await call();
    samples.push(performance.now() - start);
  }
  return p50(samples);
}

/** Filters with enough matches for page 5,000 of 20 (or 200), for offset against keyset. */
const paged: [string, RunQuery][] = [
  ['none', {}],
  ['status=completed', { statuses: ['completed'] }],
  ['type=ticket', { types: ['ticket'] }],
  ['status=completed type=ticket', { statuses: ['completed'], types: ['ticket'] }],
  ['idPrefix=ticket- (40%)', { idPrefix: 'ticket-' }],
  ['attr region=eu-west', { attributes: { region: 'eu-west' } }],
  ['failureCategory=activity', { failureCategories: ['activity'] }],
  ['createdBefore=-20d', { createdBefore: NEWEST - 480 * H }],
];
const PAGE = 20;

const existing = keep !== '' && (await Bun.file(keep).exists());
const buildStart = performance.now();
if (existing) console.error(`reusing ${keep}`);
else {
  await build();
  console.error(`built ${N} runs in ${((performance.now() - buildStart) / 1000).toFixed(1)} s`);
}
const storage = new SQLiteStorage({ path, readWorker: false });
const raw = new Database(path, { readonly: true });
const rawStatements = new StatementCache(raw);
const ms = (value: number): string => (value < 10 ? value.toFixed(2) : value.toFixed(1));
try {
  if (sections.includes('filters')) {
    console.log('| query | weft p50 ms | raw page SQL p50 ms | runs | total |');
    console.log('| --- | ---: | ---: | ---: | ---: |');
  }
  for (const [name, query] of sections.includes('filters') ? filters : []) {
    const options = { limit: 20, offset: 0 };
    let answer = { runs: [] as unknown[], total: 0, totalIsExact: true };
    const weft = await time(async () => {
      answer = await storage.listRuns(query, options);
    });
    const terms = queryTerms(query);
    const driver = terms && chooseDriver(rawStatements, terms, query.parentId !== undefined, 20);
    const sql = listRunsSql(query, options, driver);
    const page = sql && raw.query<unknown, SQLQueryBindings[]>(sql.page.sql);
    const rawMs = page && sql ? await time(() => page.all(...sql.page.params)) : 0;
    const total = `${answer.total}${answer.totalIsExact ? '' : '+'}`;
    console.log(`| list ${name} | ${ms(weft)} | ${ms(rawMs)} | ${answer.runs.length} | ${total} |`);
  }
  for (const [groupBy, query] of sections.includes('aggregates') ? aggregates : []) {
    let total = 0;
    const weft = await time(async () => {
      total = (await storage.aggregateRuns(groupBy, query, 1000)).total;
    });
    const column = groupBy === 'failureCategory' ? 'failure_category' : groupBy;
    const statement = raw.query(`SELECT ${column} AS k, count(*) AS n FROM runs GROUP BY ${column}`);
    const rawMs = await time(() => statement.all());
    console.log(
      `| aggregate ${groupBy} ${JSON.stringify(query)} | ${ms(weft)} | ${ms(rawMs)} (GROUP BY over runs) | - | ${total} |`,
    );
  }
  if (sections.includes('pages')) await pages();
} finally {
  rawStatements.finalizeAll();
  raw.close();
  await storage.close();
  if (keep === '') rmSync(dir, { recursive: true, force: true });
}

/**
 * Page 1, 200 and 5,000 of 20 by offset and by keyset: through the storage (what `engine.list`
 * asks: one run more than the page, and the total) and the raw page statement the storage ran.
 */
async function pages(): Promise<void> {
  console.log('');
  console.log('| query | page | offset p50 ms | cursor p50 ms | raw offset page | raw cursor page | total |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const [name, query] of paged) {
    for (const page of [1, 200, 5000]) {
      const offset = (page - 1) * PAGE;
      // The key a cursor of the page before would carry: the last run of that page.
      const before =
        offset === 0 ? undefined : (await storage.listRuns(query, { limit: 1, offset: offset - 1 })).runs[0];
      if (offset > 0 && before === undefined) continue;
      const after = before && { createdAt: before.createdAt, id: before.id };
      const byOffset = { limit: PAGE + 1, offset };
      const byKey = after === undefined ? { limit: PAGE + 1 } : { limit: PAGE + 1, after };
      let answer = { runs: [] as { id: string }[], total: 0, totalIsExact: true };
      let keyed = answer;
      const offsetMs = await time(async () => {
        answer = await storage.listRuns(query, byOffset);
      });
      const cursorMs = await time(async () => {
        keyed = await storage.listRuns(query, byKey);
      });
      if (answer.runs.map((run) => run.id).join() !== keyed.runs.map((run) => run.id).join()) {
        throw new Error(`${name} page ${page}: the keyset page differs from the offset page`);
      }
      const terms = queryTerms(query);
      const rawOf = async (options: { limit: number; offset?: number; after?: { createdAt: number; id: string } }) => {
        const driver = terms && chooseDriver(rawStatements, terms, query.parentId !== undefined, PAGE + 1);
        const sql = listRunsSql(query, options, driver);
        const statement = sql && raw.query<unknown, SQLQueryBindings[]>(sql.page.sql);
        return statement && sql ? time(() => statement.all(...sql.page.params)) : 0;
      };
      const total = `${answer.total}${answer.totalIsExact ? '' : '+'}`;
      console.log(
        `| ${name} | ${page} | ${ms(offsetMs)} | ${ms(cursorMs)} | ${ms(await rawOf(byOffset))} | ${ms(await rawOf(byKey))} | ${total} |`,
      );
    }
  }
}
