/**
 * The raw `bun:sqlite` baselines that Weft's figures stand beside: batched inserts of a row
 * comparable to a run record (same columns, same payload size) and single-row commits, with the
 * adapter's WAL / `synchronous=NORMAL` settings. Shared by `run.ts` and `workloads.ts`, so both
 * tables measure their baseline the same way in the same process.
 */
import { Database } from 'bun:sqlite';

/** Rows per second of `count` inserts of a run-sized row, `batch` rows per transaction. */
export function rawInsertsPerSecond(path: string, count: number, batch: number): number {
  const db = new Database(path);
  db.run('PRAGMA journal_mode = WAL');
  db.run('PRAGMA synchronous = NORMAL');
  db.run(
    `CREATE TABLE runs (id TEXT PRIMARY KEY, type TEXT, status TEXT, input BLOB, created_at INTEGER, updated_at INTEGER)`,
  );
  const insert = db.prepare('INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?)');
  const payload = new Uint8Array(24).fill(7);
  const insertBatch = db.transaction((from: number) => {
    for (let i = from; i < Math.min(from + batch, count); i++) {
      insert.run(`run-${i}`, 'bench', 'running', payload, Date.now(), Date.now());
    }
  });
  const start = performance.now();
  for (let i = 0; i < count; i += batch) insertBatch(i);
  const seconds = (performance.now() - start) / 1000;
  db.close();
  return count / seconds;
}

/** Milliseconds of each of `count` single-row transactions, one after another. */
export function rawSingleInsertLatencyMs(path: string, count: number): number[] {
  const db = new Database(path);
  db.run('PRAGMA journal_mode = WAL');
  db.run('PRAGMA synchronous = NORMAL');
  db.run(`CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)`);
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
  const one = db.transaction(() => insert.run(new Uint8Array(24)));
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    one();
    samples.push(performance.now() - start);
  }
  db.close();
  return samples;
}
