/**
 * Prepared statements for SQL that is built at run time (listings, aggregates), kept by SQL text.
 *
 * Traps it avoids:
 * - Re-parsing the same query shape on every call. A dashboard polls the same filter over and over;
 *   its SQL text is the same each time (values are bound, never spliced in), so it compiles once.
 * - Unbounded growth. Shapes vary with the filter's fields and array lengths; the least recently used
 *   statement is finalized once more than `capacity` are held.
 * - Keeping the file open after `close()`. `bun:sqlite` closes a connection only once every statement
 *   prepared on it is finalized; `finalizeAll` is called before the database closes.
 */
import type { Database, SQLQueryBindings, Statement } from 'bun:sqlite';

export const DEFAULT_STATEMENT_CACHE_CAPACITY = 64;

export class StatementCache {
  readonly #db: Database;
  readonly #capacity: number;
  /** In use order: a Map iterates in insertion order, and a hit is moved to the end. */
  readonly #statements = new Map<string, Statement>();

  constructor(db: Database, capacity = DEFAULT_STATEMENT_CACHE_CAPACITY) {
    this.#db = db;
    this.#capacity = Math.max(1, capacity);
  }

  get size(): number {
    return this.#statements.size;
  }

  /** The statement for `sql`, prepared on first use. */
  get<Row>(sql: string): Statement<Row, SQLQueryBindings[]> {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      if (this.#statements.size >= this.#capacity) this.#evictOldest();
    } else {
      this.#statements.delete(sql);
    }
    this.#statements.set(sql, statement);
    return statement as Statement<Row, SQLQueryBindings[]>;
  }

  finalizeAll(): void {
    for (const statement of this.#statements.values()) statement.finalize();
    this.#statements.clear();
  }

  #evictOldest(): void {
    const oldest = this.#statements.entries().next();
    if (oldest.done === true) return;
    const [sql, statement] = oldest.value;
    this.#statements.delete(sql);
    statement.finalize();
  }
}
