/**
 * The engine a CLI command hosts: the workflows of a module registered over a SQLite file,
 * unfinished runs resumed. If the engine cannot open, the database is closed before the error
 * travels on, so its lock is released for the next attempt.
 */
import type { AnyWorkflowDefinition } from '../define/workflow.ts';
import { Engine } from '../engine/engine.ts';
import { SQLiteStorage } from '../storage/sqlite/sqlite-storage.ts';

/** An engine and the storage under it; close the engine first, then the storage. */
export interface HostedEngine {
  engine: Engine;
  storage: SQLiteStorage;
}

/**
 * Opens `dbPath` and an engine over it with `workflows`.
 *
 * @example
 * const { engine, storage } = await openEngine('./weft.db', await loadWorkflows('examples/workflows.ts'));
 */
export async function openEngine(dbPath: string, workflows: AnyWorkflowDefinition[]): Promise<HostedEngine> {
  const storage = new SQLiteStorage(dbPath);
  try {
    return { engine: await Engine.create({ storage, workflows }), storage };
  } catch (error) {
    await storage.close();
    throw error;
  }
}
