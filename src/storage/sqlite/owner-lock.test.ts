/** One engine process per SQLite file: a live owner refuses others, a dead one blocks nobody. */
import { Database } from 'bun:sqlite';
import { afterAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lockPathOf, OWNER_META_KEY, readOwner } from './owner-lock.ts';
import { StorageLockedError } from './sqlite-errors.ts';
import { SQLiteStorage } from './sqlite-storage.ts';

const dir = mkdtempSync(join(tmpdir(), 'weft-sqlite-lock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const newPath = (): string => join(dir, `db-${++files}.db`);

function thrownBy(open: () => unknown): unknown {
  try {
    open();
  } catch (error) {
    return error;
  }
  throw new Error('Expected opening to throw');
}

/**
 * A child Bun process that opens `path` with SQLiteStorage, writes a timer and holds it until killed.
 * Like a real script it never touches the storage after that write, so the storage is garbage the
 * child's collector may finalize at any moment; with `forgetNow` the child drops every reference and
 * collects before it reports ready.
 */
async function spawnOwner(
  path: string,
  { forgetNow = false } = {},
): Promise<Bun.Subprocess<'ignore', 'pipe', 'inherit'>> {
  const script = join(dir, `owner-${++files}.ts`);
  const open = `const storage = new SQLiteStorage(${JSON.stringify(path)});
await storage.commit([{ op: 'putTimer', timer: { runId: 'child', key: 'k', fireAt: 1 } }]);`;
  writeFileSync(
    script,
    `import { SQLiteStorage } from ${JSON.stringify(join(import.meta.dir, 'index.ts'))};
${forgetNow ? `await (async () => { ${open} })();\nfor (let i = 0; i < 3; i++) { await Bun.sleep(10); Bun.gc(true); }` : open}
console.log('ready');
setInterval(() => {}, 60_000);`,
  );
  const child = Bun.spawn([process.execPath, script], { stdin: 'ignore', stdout: 'pipe', stderr: 'inherit' });
  const { value } = await child.stdout.getReader().read();
  expect(new TextDecoder().decode(value)).toContain('ready');
  return child;
}

/** A `bun -e` script that tries to open `path` and prints the error code, or 'opened'. */
function tryOpenScript(path: string): string {
  return `const { SQLiteStorage } = await import(${JSON.stringify(join(import.meta.dir, 'index.ts'))});
try { await new SQLiteStorage(${JSON.stringify(path)}).close(); console.log('opened'); }
catch (error) { console.log(error.code); }`;
}

describe('the owner lock', () => {
  test('a second open of a live database in the same process is refused with storage_locked naming the pid', async () => {
    const path = newPath();
    await using _owner = new SQLiteStorage(path);
    const error = thrownBy(() => new SQLiteStorage({ path }));
    expect(error).toBeInstanceOf(StorageLockedError);
    expect(error).toMatchObject({ code: 'storage_locked', details: { path, ownerPid: process.pid } });
    expect((error as Error).message).toContain(`process ${process.pid}`);
    // The refused attempt opened and closed the lock file; the owner's kernel lock must survive that.
    const child = Bun.spawnSync([process.execPath, '-e', tryOpenScript(path)]);
    expect(child.stdout.toString().trim()).toBe('storage_locked');
  });

  test('an open while another live process owns the database is refused with storage_locked naming that pid', async () => {
    const path = newPath();
    const child = await spawnOwner(path);
    try {
      expect(thrownBy(() => new SQLiteStorage(path))).toMatchObject({
        code: 'storage_locked',
        details: { ownerPid: child.pid },
      });
    } finally {
      child.kill('SIGKILL');
      await child.exited;
    }
  });

  test('an owner that dropped its storage without closing it still holds the lock while it lives', async () => {
    // bun:sqlite closes a collected Database; the lock connection must not be one the collector can reach.
    const path = newPath();
    const child = await spawnOwner(path, { forgetNow: true });
    try {
      expect(thrownBy(() => new SQLiteStorage(path))).toMatchObject({
        code: 'storage_locked',
        details: { ownerPid: child.pid },
      });
    } finally {
      child.kill('SIGKILL');
      await child.exited;
    }
    await using _next = new SQLiteStorage(path);
  });

  test('a lock left by a process killed with SIGKILL does not block the next open', async () => {
    const path = newPath();
    const child = await spawnOwner(path);
    child.kill('SIGKILL');
    await child.exited;
    await using storage = new SQLiteStorage(path);
    expect(await storage.listRunTimers('child')).toEqual([{ runId: 'child', key: 'k', fireAt: 1 }]);
    expect(readOwner(path)?.pid).toBe(process.pid);
  });

  test('a stale lock file whose recorded owner pid is dead does not block', async () => {
    const path = newPath();
    await new SQLiteStorage(path).close();
    const exited = Bun.spawn([process.execPath, '-e', '']);
    await exited.exited;
    const deadPid = exited.pid;
    const raw = new Database(path);
    raw
      .query('UPDATE meta SET value = ? WHERE key = ?')
      .run(JSON.stringify({ pid: deadPid, hostname: 'gone', since: 0 }), OWNER_META_KEY);
    raw.close();
    writeFileSync(lockPathOf(path), '');
    expect(readOwner(path)?.pid).toBe(deadPid);

    await using _storage = new SQLiteStorage(path);
    expect(readOwner(path)?.pid).toBe(process.pid);
  });

  test('close releases the lock for the next owner', async () => {
    const path = newPath();
    await new SQLiteStorage(path).close();
    const second = new SQLiteStorage(path);
    await second[Symbol.asyncDispose]();
    await using _third = new SQLiteStorage(path);
  });

  test('in-memory databases take no lock, so each one is private and independent', async () => {
    await using a = new SQLiteStorage(':memory:');
    await using b = new SQLiteStorage(':memory:');
    await a.commit([{ op: 'putTimer', timer: { runId: 'r', key: 'k', fireAt: 1 } }]);
    expect(await b.listTimers()).toEqual([]);
  });
});
