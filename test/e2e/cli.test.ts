/**
 * `npm start` from a user's side: the CLI hosts the engine on a SQLite file, runs the bundled
 * examples, and shuts down cleanly on SIGTERM.
 */
import { afterAll, expect, test } from 'bun:test';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'weft-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const main = join(import.meta.dir, '../../src/cli/main.ts');

/** Reads a child's output until `done` holds for everything read so far (or the stream ends). */
async function readUntil(stream: ReadableStream<Uint8Array>, done: (text: string) => boolean): Promise<string> {
  let text = '';
  const decoder = new TextDecoder();
  for await (const chunk of stream) {
    text += decoder.decode(chunk);
    if (done(text)) break;
  }
  return text;
}

test('weft run --demo completes the example workflows on SQLite and closes cleanly on SIGTERM', async () => {
  const db = join(dir, 'demo.db');
  const child = Bun.spawn([process.execPath, main, 'run', '--demo', '--db', db], {
    cwd: join(import.meta.dir, '../..'),
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const results = ['"result":30', '"status":"shipped"', 'stretch your legs', '"followUp"'];
  const output = await readUntil(child.stdout, (text) => results.every((r) => text.includes(r)));
  child.kill('SIGTERM');
  expect(await child.exited).toBe(0);
  for (const result of results) expect(output).toContain(result);
  // The ticket: escalated by an update, queried, and its token stream printed as it arrived.
  expect(output).toContain('"priority":"high"');
  expect(output).toContain('"stream":"resolved: password reset"');
  expect(existsSync(db)).toBe(true);
  expect(existsSync(`${db}-wal`)).toBe(false);
}, 30_000);

test('weft with no command prints usage and exits with 2', async () => {
  const child = Bun.spawn([process.execPath, main], { stdout: 'pipe', stderr: 'pipe' });
  expect(await child.exited).toBe(2);
  expect(await new Response(child.stdout).text()).toContain('usage: weft run');
});

test('weft run opens the database named by WEFT_DB when no --db is given', async () => {
  const db = join(dir, 'from-env.db');
  const child = Bun.spawn([process.execPath, main, 'run'], {
    cwd: join(import.meta.dir, '../..'),
    env: { ...process.env, WEFT_DB: db },
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const output = await readUntil(child.stdout, (text) => text.includes('engine running'));
  child.kill('SIGTERM');
  expect(await child.exited).toBe(0);
  expect(output).toContain(`engine running on ${db}`);
  expect(existsSync(db)).toBe(true);
});
