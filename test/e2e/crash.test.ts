/**
 * Crash safety with real processes: a child Bun process runs workflows on SQLite and is killed
 * with SIGKILL at random moments, then restarted, until its runs finish. Afterwards nothing
 * acknowledged is lost, no journaled step ran again, and the database is intact.
 */
import { Database } from 'bun:sqlite';
import { afterAll, expect, test } from 'bun:test';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCodec } from '../../src/core/codec.ts';
import { SQLiteStorage } from '../../src/storage/sqlite/index.ts';

const codec = createCodec();
const decode = (bytes: Uint8Array): unknown => codec.decode(bytes);

const RUNS = 60;
const LANES = 4;
const KILLS = 24;
const dir = mkdtempSync(join(tmpdir(), 'weft-crash-'));
afterAll(() => {
  if (process.env.WEFT_CRASH_KEEP) console.log(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
});

const worker = join(import.meta.dir, 'crash-worker.ts');
let paths = { db: '', ledger: '', acks: '' };
let evict = false;

function spawnWorker(incarnation: number) {
  return Bun.spawn([process.execPath, worker, paths.db, paths.ledger, paths.acks, String(incarnation), String(RUNS)], {
    stdout: 'pipe',
    stderr: 'pipe',
    env: { ...process.env, WEFT_CRASH_EVICT: evict ? '1' : '0' },
  });
}

async function readUntil(stream: ReadableStream<Uint8Array>, marker: string): Promise<string> {
  let text = '';
  const decoder = new TextDecoder();
  for await (const chunk of stream) {
    text += decoder.decode(chunk);
    if (text.includes(marker)) break;
  }
  return text;
}

function journaledActivityKeys(): string[] {
  if (!existsSync(paths.db)) return [];
  const db = new Database(paths.db);
  try {
    const rows = db.query("SELECT run_id, seq FROM journal WHERE kind = 'activity'").all() as {
      run_id: string;
      seq: number;
    }[];
    return rows.map((r) => `${r.run_id}:${r.seq}`);
  } finally {
    db.close();
  }
}

const expected = Array.from({ length: RUNS }, (_, n) => {
  const a = n + 1;
  const b = a + 1;
  const c = a + 11;
  return b + c + 3 + 1000 * n + 100_000 + n * 2;
});

for (const mode of ['resident', 'evicting'] as const)
  test(
    `runs killed with SIGKILL at random points complete with the right results, nothing lost or run twice (${mode} suspended runs)`,
    async () => {
      const sub = join(dir, mode);
      mkdirSync(sub);
      paths = { db: join(sub, 'weft.db'), ledger: join(sub, 'ledger.txt'), acks: join(sub, 'acks.txt') };
      evict = mode === 'evicting';
      let incarnation = 0;
      let kills = 0;
      let finished = false;
      /** Activity step key → the incarnation by whose end it was journaled. */
      const journaledBefore = new Map<string, number>();
      // Kill phase: each incarnation runs for a random while after it is ready, then dies.
      while (kills < KILLS) {
        const child = spawnWorker(incarnation);
        const ready = await readUntil(child.stdout, 'ready');
        if (!ready.includes('ready'))
          throw new Error(`worker failed to start: ${await new Response(child.stderr).text()}`);
        const delay = 5 + Math.random() * 30;
        const exited = await Promise.race([child.exited.then(() => true), Bun.sleep(delay).then(() => false)]);
        if (exited) {
          finished = true;
          break;
        }
        child.kill('SIGKILL');
        await child.exited;
        // What is journaled now must never execute again in a later incarnation.
        for (const key of journaledActivityKeys()) if (!journaledBefore.has(key)) journaledBefore.set(key, incarnation);
        kills++;
        incarnation++;
      }
      // Final incarnation: let it finish.
      let output = '';
      if (!finished) {
        const child = spawnWorker(incarnation);
        // A lost signal or timer would leave a run waiting forever: give up loudly instead.
        const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
        output = await new Response(child.stdout).text();
        const code = await child.exited;
        clearTimeout(guard);
        if (code !== 0) throw new Error(`final worker exited ${code}: ${await new Response(child.stderr).text()}`);
      }
      expect(kills).toBeGreaterThanOrEqual(20);
      if (output) expect(JSON.parse(output.split('done ')[1]!.trim())).toEqual(expected);

      const db = new Database(paths.db, { readonly: true });
      try {
        expect(db.query('PRAGMA integrity_check').get()).toEqual({ integrity_check: 'ok' });
        const runs = db.query('SELECT id, status FROM runs ORDER BY id').all() as { id: string; status: string }[];
        // One run per idempotency key and one child each, every one completed.
        expect(runs).toHaveLength(RUNS * 2);
        expect(runs.every((r) => r.status === 'completed')).toBe(true);
      } finally {
        db.close();
      }
      await checkMessagesAndLogs(paths.db);

      // Every acknowledged start and signal belongs to a completed run (nothing acknowledged was lost).
      const acks = readFileSync(paths.acks, 'utf8').split('\n').filter(Boolean);
      expect(acks.filter((a) => a.startsWith('start')).length).toBeGreaterThanOrEqual(RUNS);

      // Side effects: each step ran at least once; a step ran again only in a later incarnation,
      // never twice within one, and only a few steps (those in flight at a kill) ran twice.
      const ledger = existsSync(paths.ledger) ? readFileSync(paths.ledger, 'utf8').split('\n').filter(Boolean) : [];
      const byKey = new Map<string, number[]>();
      for (const line of ledger) {
        const [inc, key] = line.split(' ') as [string, string];
        byKey.set(key, [...(byKey.get(key) ?? []), Number(inc)]);
      }
      expect(byKey.size).toBe(RUNS * 6);
      const maxInFlightPerKill = LANES * 2;
      const repeatsByIncarnation = new Map<number, number>();
      for (const incarnations of byKey.values()) {
        expect(new Set(incarnations).size).toBe(incarnations.length);
        for (const inc of incarnations.slice(0, -1)) {
          repeatsByIncarnation.set(inc, (repeatsByIncarnation.get(inc) ?? 0) + 1);
        }
      }
      for (const repeats of repeatsByIncarnation.values()) expect(repeats).toBeLessThanOrEqual(maxInFlightPerKill);
      // The strict form: no step journaled by the end of incarnation k executed in any incarnation after k.
      const violations = ledger.filter((line) => {
        const [inc, key] = line.split(' ') as [string, string];
        const journaledIn = journaledBefore.get(key);
        return journaledIn !== undefined && Number(inc) > journaledIn;
      });
      expect(violations).toEqual([]);
      if (process.env.WEFT_CRASH_VERBOSE) {
        const repeats = [...repeatsByIncarnation.values()].reduce((sum, r) => sum + r, 0);
        console.log({
          kills,
          incarnations: incarnation + 1,
          executions: ledger.length,
          repeats,
          finishedEarly: finished,
        });
      }
      expect(journaledBefore.size).toBeGreaterThan(0);
    },
    { timeout: 120_000 },
  );

/**
 * Updates, attributes, child runs, stream chunks, the event log and the watch log: each exactly once
 * in the stored data, through the storage contract (not the schema).
 */
async function checkMessagesAndLogs(dbPath: string): Promise<void> {
  await using storage = new SQLiteStorage(dbPath);
  const parents = await storage.listRuns({ types: ['crashy'] }, { limit: RUNS });
  expect(parents.total).toBe(RUNS);
  const children = await storage.listRuns({ types: ['kid'] }, { limit: RUNS });
  expect(children.runs.map((r) => r.parentId).sort()).toEqual(parents.runs.map((r) => r.id).sort());
  for (let n = 0; n < RUNS; n++) {
    const id = `run-${n}`;
    expect(await storage.getAttributes(id)).toEqual({ lane: n % 4 });
    const update = await storage.findUpdateByIdempotencyKey(id, `bump-${n}`);
    expect(update?.status).toBe('completed');
    const chunks = await storage.readChunks(id, 0, 100);
    expect(chunks.map((c) => c.seq)).toEqual([1, 2, 3]);
    expect(chunks.map((c) => decode(c.data))).toEqual([`begin-${n}`, `signalled-${n}`, `end-${n}`]);
    for (const runId of [id, `${id}-2`]) {
      const frames = await storage.readWatch(runId, 0, 1000);
      expect(frames.map((f) => f.seq)).toEqual(frames.map((_, i) => i + 1));
      expect(frames[0]?.type).toBe('workflow:started');
      expect(frames.at(-1)?.type).toBe('workflow:completed');
      expect(frames.filter((f) => f.type === 'workflow:completed')).toHaveLength(1);
    }
  }
  // The fleet log: sequence numbers strictly increase, and each run started and completed once.
  const events = await storage.readEvents(0, 1_000_000);
  expect(events.map((e) => e.seq)).toEqual([...events.map((e) => e.seq)].sort((a, b) => a - b));
  expect(new Set(events.map((e) => e.seq)).size).toBe(events.length);
  for (const type of ['workflow:started', 'workflow:completed', 'update:completed']) {
    const byRun = new Map<string, number>();
    for (const e of events) if (e.type === type) byRun.set(e.runId!, (byRun.get(e.runId!) ?? 0) + 1);
    expect([...byRun.values()].every((count) => count === 1)).toBe(true);
    expect(byRun.size).toBe(type === 'update:completed' ? RUNS : RUNS * 2);
  }
}
