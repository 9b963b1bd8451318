/**
 * `npm start` from a user's side: `weft serve` answers HTTP on a SQLite file with the bundled
 * examples, `weft run` hosts the engine alone, and both shut down cleanly on SIGTERM; a command
 * line or environment the CLI cannot use is refused with a message and a non-zero exit.
 */
import { afterAll, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SQLiteStorage } from '../../src/storage/sqlite/index.ts';
import { cleanEnv, finished, main, Output, root, spawnWeft } from './weft-process.ts';

const dir = mkdtempSync(join(tmpdir(), 'weft-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `weft <args>` run to its end: exit code and both streams. */
function weft(args: string[], env: Record<string, string> = {}) {
  return finished(spawnWeft(args, env));
}

/** The status a server answers for `GET path` sent with this `Host` header (fetch cannot set it). */
function statusWithHost(url: string, path: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const sent = request(new URL(path, url), { headers: { host } }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    sent.on('error', reject);
    sent.end();
  });
}

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

test('weft run --demo completes the example workflows, stays up until SIGTERM, then closes cleanly', async () => {
  const db = join(dir, 'demo.db');
  const child = Bun.spawn([process.execPath, main, 'run', '--demo', '--db', db], {
    cwd: root,
    env: cleanEnv(),
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const stdout = new Output(child.stdout);
  const results = ['"result":30', '"status":"shipped"', 'stretch your legs', '"followUp"'];
  const output = await stdout.until((text) => results.every((r) => text.includes(r)));
  expect(output).toContain('(Ctrl-C to stop)');
  // Every demo run has finished: nothing keeps the loop busy, yet the host waits for its signal.
  child.kill('SIGTERM');
  expect(await child.exited).toBe(0);
  const printed = await stdout.ended;
  for (const result of results) expect(printed).toContain(result);
  // The ticket: escalated by an update, queried, and its token stream printed as it arrived.
  expect(printed).toContain('"priority":"high"');
  expect(printed).toContain('"stream":"resolved: password reset"');
  expect(printed).toContain('weft: closing');
  expect(existsSync(db)).toBe(true);
  expect(existsSync(`${db}-wal`)).toBe(false);
}, 30_000);

test('weft run with nothing to do keeps hosting the engine until SIGTERM', async () => {
  const db = join(dir, 'idle.db');
  const child = Bun.spawn([process.execPath, main, 'run', '--db', db], {
    cwd: root,
    env: cleanEnv(),
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const stdout = new Output(child.stdout);
  await stdout.until((text) => text.includes('engine running'));
  // The database is still owned by the running host: a second owner is refused.
  expect(() => new SQLiteStorage(db)).toThrow();
  child.kill('SIGTERM');
  expect(await child.exited).toBe(0);
  expect(await stdout.ended).toContain('weft: closing');
}, 30_000);

test('weft with no command prints usage of both commands and exits with 2', async () => {
  const { code, stdout } = await weft([]);
  expect(code).toBe(2);
  expect(stdout).toContain('weft serve');
  expect(stdout).toContain('weft run');
});

test('weft with an unknown command says it is unknown on stderr and exits with 2', async () => {
  const { code, stdout, stderr } = await weft(['srve', '--port', '0']);
  expect(code).toBe(2);
  expect(stdout).toBe('');
  expect(stderr).toStartWith("weft: unknown command 'srve'");
  expect(stderr).toContain('usage: weft <command>');
  // A name every object has is no command either.
  expect((await weft(['toString'])).stderr).toStartWith("weft: unknown command 'toString'");
  expect((await weft(['--verbose'])).stderr).toStartWith("weft: unknown option '--verbose'");
});

test('weft --version prints the version of the package', async () => {
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  const { code, stdout } = await weft(['--version']);
  expect(code).toBe(0);
  expect(stdout).toBe(`${version}\n`);
});

test('the weft bin is an executable file with a shebang, and SQLite lock files are not tracked', () => {
  expect(() => accessSync(main, constants.X_OK)).not.toThrow();
  expect(readFileSync(main, 'utf8')).toStartWith('#!/usr/bin/env bun\n');
  const mode = spawnSync('git', ['ls-files', '--stage', 'src/cli/main.ts'], { cwd: root, encoding: 'utf8' });
  expect(mode.stdout).toStartWith('100755 ');
  const ignored = spawnSync('git', ['check-ignore', '--no-index', 'weft.db.lock', 'data/weft.db.lock-wal'], {
    cwd: root,
  });
  expect(ignored.status).toBe(0);
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
    env: cleanEnv({ WEFT_DB: db }),
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
    env: cleanEnv({ WEFT_API_KEYS: 'first-key, second-key' }),
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

test('weft serve without keys warns loudly in CLI terms; with WEFT_SERVER_AUTHENTICATION_REQUIRED=1 it refuses to start', async () => {
  const open = Bun.spawn([process.execPath, main, 'serve', '--port', '0', '--db', join(dir, 'open.db')], {
    cwd: root,
    env: cleanEnv(),
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const warning = await readUntil(open.stderr, (text) => /NO AUTHENTICATION[^]*!{78}/.test(text));
  expect(warning).toContain('NO AUTHENTICATION');
  // Told what a CLI user sets, not the serve() options an embedder would pass.
  expect(warning).toContain('WEFT_API_KEYS=<key>');
  expect(warning).toContain('WEFT_SERVER_AUTHENTICATION_REQUIRED=1');
  expect(warning).not.toContain('serve({ auth })');
  expect(warning).not.toContain('unauthenticatedAccess');
  open.kill('SIGTERM');
  expect(await open.exited).toBe(0);

  const db = join(dir, 'refused.db');
  const refused = Bun.spawn([process.execPath, main, 'serve', '--port', '0', '--db', db], {
    cwd: root,
    env: cleanEnv({ WEFT_SERVER_AUTHENTICATION_REQUIRED: '1' }),
    stdout: 'pipe',
    stderr: 'pipe',
  });
  expect(await refused.exited).toBe(1);
  expect(await new Response(refused.stderr).text()).toContain('WEFT_SERVER_AUTHENTICATION_REQUIRED');
  // The database it opened was released on the way out.
  const storage = new SQLiteStorage(db);
  await storage.close();
}, 30_000);

test.each([
  ['empty', '', 'WEFT_API_KEYS is set but lists nothing'],
  ['only separators', ' , ,', 'WEFT_API_KEYS is set but lists nothing'],
  ['an empty entry', 'first-key,,second-key', 'WEFT_API_KEYS entry 2 of 3 is empty'],
  ['a trailing comma', 'first-key,', 'WEFT_API_KEYS entry 2 of 2 is empty'],
  ['a key with a space', 'first-key,secret key', 'WEFT_API_KEYS entry 2 of 2 is not a key'],
])(
  'weft serve with WEFT_API_KEYS set to %s refuses to start, exit 2, without opening anything',
  async (_case, keys, message) => {
    const db = join(dir, `keys-refused-${keys.length}.db`);
    const { code, stdout, stderr } = await weft(['serve', '--port', '0', '--db', db], { WEFT_API_KEYS: keys });
    expect(code).toBe(2);
    expect(stderr).toStartWith(`weft: ${message}`);
    expect(stdout).not.toContain('listening');
    expect(stderr).not.toContain('NO AUTHENTICATION');
    expect(stderr).not.toContain('secret key');
    expect(existsSync(db)).toBe(false);
  },
);

test('weft serve --allowed-host answers that Host name besides loopback ones and refuses others', async () => {
  const listening = /listening at (http:\/\/127\.0\.0\.1:\d+)/;
  const ways: [string, string[], Record<string, string>][] = [
    ['flags', ['--allowed-host', 'weft.internal', '--allowed-host', '.example.org'], {}],
    ['environment', [], { WEFT_ALLOWED_HOSTS: 'weft.internal, .example.org' }],
  ];
  for (const [name, args, env] of ways) {
    const db = join(dir, `hosts-${name}.db`);
    const child = Bun.spawn([process.execPath, main, 'serve', '--port', '0', '--db', db, ...args], {
      cwd: root,
      env: cleanEnv(env),
      stdout: 'pipe',
      stderr: 'pipe',
    });
    const url = listening.exec(await readUntil(child.stdout, (text) => listening.test(text)))?.[1] ?? '';
    expect(await statusWithHost(url, '/api/v1/workflows', 'localhost')).toBe(200);
    expect(await statusWithHost(url, '/api/v1/workflows', 'weft.internal')).toBe(200);
    expect(await statusWithHost(url, '/api/v1/workflows', 'api.example.org:8080')).toBe(200);
    expect(await statusWithHost(url, '/api/v1/workflows', 'rebind.evil.example')).toBeGreaterThanOrEqual(400);
    child.kill('SIGTERM');
    expect(await child.exited).toBe(0);
  }
  const empty = await weft(['serve', '--port', '0', '--db', join(dir, 'hosts.db')], { WEFT_ALLOWED_HOSTS: ' , ' });
  expect(empty.code).toBe(2);
  expect(empty.stderr).toStartWith('weft: WEFT_ALLOWED_HOSTS is set but lists nothing');
}, 30_000);
