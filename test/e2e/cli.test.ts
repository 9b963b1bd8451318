/**
 * `npm start` from a user's side: `weft serve` answers HTTP on a SQLite file with the bundled
 * examples, `weft run` hosts the engine alone, and both shut down cleanly on SIGTERM.
 */
import { afterAll, expect, test } from 'bun:test';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SQLiteStorage } from '../../src/storage/sqlite/index.ts';

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

test('weft with no command prints usage of both commands and exits with 2', async () => {
  const child = Bun.spawn([process.execPath, main], { stdout: 'pipe', stderr: 'pipe' });
  expect(await child.exited).toBe(2);
  const usage = await new Response(child.stdout).text();
  expect(usage).toContain('weft serve');
  expect(usage).toContain('weft run');
});

test('weft serve --port 0 starts the examples over HTTP, resumes runs after a restart, and exits 0 on SIGTERM', async () => {
  const db = join(dir, 'serve.db');
  const start = () =>
    Bun.spawn([process.execPath, main, 'serve', '--port', '0', '--db', db], {
      cwd: join(import.meta.dir, '../..'),
      stdout: 'pipe',
      stderr: 'pipe',
    });
  const listening = /weft server listening at (http:\/\/127\.0\.0\.1:\d+)/;

  const first = start();
  const firstOutput = await readUntil(first.stdout, (text) => listening.test(text));
  const url = listening.exec(firstOutput)?.[1];
  expect(url).toBeDefined();
  const post = (path: string, body: unknown) =>
    fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const started = await post('/api/v1/workflows', { type: 'fan-out', input: { numbers: [1, 2, 3] }, id: 'sum' });
  expect(started.status).toBe(201);
  expect(await (await fetch(`${url}/api/v1/workflows/sum/result`)).json()).toEqual({ result: 14 });
  // An order waits for its approval signal: still unfinished when the server stops.
  const order = { sku: 'book', quantity: 1, amount: 25 };
  expect((await post('/api/v1/workflows', { type: 'order', input: order, id: 'o-1' })).status).toBe(201);
  first.kill('SIGTERM');
  expect(await first.exited).toBe(0);

  const second = start();
  const secondOutput = await readUntil(second.stdout, (text) => listening.test(text));
  expect(secondOutput).toContain('resumed 1 unfinished run');
  const again = listening.exec(secondOutput)?.[1];
  const signalled = await fetch(`${again}/api/v1/workflows/o-1/signal/approval`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ payload: { approved: true, by: 'e2e' } }),
  });
  expect(signalled.status).toBe(200);
  const result = (await (await fetch(`${again}/api/v1/workflows/o-1/result`)).json()) as { result: { status: string } };
  expect(result.result.status).toBe('shipped');
  second.kill('SIGTERM');
  expect(await second.exited).toBe(0);
  expect(existsSync(`${db}-wal`)).toBe(false);
}, 30_000);

test('weft serve on a taken port exits 1 and releases the database it had opened', async () => {
  const cwd = join(import.meta.dir, '../..');
  const first = Bun.spawn([process.execPath, main, 'serve', '--port', '0', '--db', join(dir, 'first.db')], {
    cwd,
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const output = await readUntil(first.stdout, (text) => /listening at http:\/\/127\.0\.0\.1:\d+/.test(text));
  const port = /listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1] ?? '';
  const db = join(dir, 'second.db');
  const second = Bun.spawn([process.execPath, main, 'serve', '--port', port, '--db', db], {
    cwd,
    stdout: 'pipe',
    stderr: 'pipe',
  });
  expect(await second.exited).toBe(1);
  expect(await new Response(second.stderr).text()).toContain('in use');
  // The database is free again: another owner can open it.
  const storage = new SQLiteStorage(db);
  await storage.close();
  first.kill('SIGTERM');
  expect(await first.exited).toBe(0);
}, 30_000);

test('weft serve refuses a bad port with usage and exit code 2', async () => {
  const child = Bun.spawn([process.execPath, main, 'serve', '--port', 'http'], { stdout: 'pipe', stderr: 'pipe' });
  expect(await child.exited).toBe(2);
  expect(await new Response(child.stderr).text()).toContain('--port must be');
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

test('weft serve with WEFT_API_KEYS requires one of the keys; health stays public', async () => {
  const child = Bun.spawn([process.execPath, main, 'serve', '--port', '0', '--db', join(dir, 'keys.db')], {
    cwd: join(import.meta.dir, '../..'),
    env: { ...process.env, WEFT_API_KEYS: 'first-key, second-key' },
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const output = await readUntil(child.stdout, (text) => /listening at http:\/\/127\.0\.0\.1:\d+/.test(text));
  const url = /listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1] ?? '';
  expect((await fetch(`${url}/api/v1/health`)).status).toBe(200);
  expect((await fetch(`${url}/api/v1/workflows`)).status).toBe(401);
  const withKey = await fetch(`${url}/api/v1/workflows`, { headers: { authorization: 'Bearer second-key' } });
  expect(withKey.status).toBe(200);
  const guessed = await fetch(`${url}/api/v1/workflows`, { headers: { 'x-api-key': 'guessed-key-123' } });
  expect(guessed.status).toBe(401);
  child.kill('SIGTERM');
  expect(await child.exited).toBe(0);
  // The refusal's audit line (console.warn → stderr) names the operation and never a key.
  const logged = await new Response(child.stderr).text();
  expect(logged).toContain('"type":"weft.auth-audit"');
  expect(logged).toContain('"reason":"missing_credential"');
  expect(logged).toContain('"reason":"invalid_credential","credentialFingerprint":"sha256:');
  expect(logged).not.toContain('second-key');
  expect(logged).not.toContain('guessed-key-123');
  expect(logged).not.toContain('NO AUTHENTICATION');
}, 30_000);

test('weft serve without keys warns loudly; with WEFT_SERVER_AUTHENTICATION_REQUIRED=1 it refuses to start', async () => {
  const cwd = join(import.meta.dir, '../..');
  const open = Bun.spawn([process.execPath, main, 'serve', '--port', '0', '--db', join(dir, 'open.db')], {
    cwd,
    env: { ...process.env, WEFT_API_KEYS: '', WEFT_SERVER_AUTHENTICATION_REQUIRED: '' },
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const warning = await readUntil(open.stderr, (text) => text.includes('NO AUTHENTICATION'));
  expect(warning).toContain('NO AUTHENTICATION');
  open.kill('SIGTERM');
  expect(await open.exited).toBe(0);

  const db = join(dir, 'refused.db');
  const refused = Bun.spawn([process.execPath, main, 'serve', '--port', '0', '--db', db], {
    cwd,
    env: { ...process.env, WEFT_API_KEYS: '', WEFT_SERVER_AUTHENTICATION_REQUIRED: '1' },
    stdout: 'pipe',
    stderr: 'pipe',
  });
  expect(await refused.exited).toBe(1);
  expect(await new Response(refused.stderr).text()).toContain('WEFT_SERVER_AUTHENTICATION_REQUIRED');
  // The database it opened was released on the way out.
  const storage = new SQLiteStorage(db);
  await storage.close();
}, 30_000);
