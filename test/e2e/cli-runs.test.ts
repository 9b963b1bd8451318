/**
 * The client commands from a user's side: each `weft <command>` is a real process (`bun
 * src/cli/main.ts …`) talking to a real server — `serve()` on port 0 in this process, over an
 * engine with the workflows of cli-runs-workflows.ts — or to a SQLite file with `--db`. Covers the
 * text and `--json` outputs, filters, exit codes, `--wait` progress, `watch` and `events --follow`,
 * API keys from WEFT_API_KEY, and what `--db` does and refuses.
 */
import { afterAll, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../src/engine/engine.ts';
import { SQLiteStorage } from '../../src/storage/sqlite/index.ts';
import { testServers, type TestServer } from '../../src/testing/test-servers.ts';
import { finished, Output, spawnWeft as startWeft } from './weft-process.ts';
import { declined, fanOut, hanging, hangingStarted, order, ticket } from './cli-runs-workflows.ts';

const dir = mkdtempSync(join(tmpdir(), 'weft-cli-runs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const { start, defer } = testServers([order, fanOut, ticket, declined, hanging]);

const book = { sku: 'book', quantity: 1, amount: 25 };

/** `weft <args>`, killed after the test if still running. */
function spawnWeft(args: string[], env: Record<string, string> = {}) {
  const child = startWeft(args, env);
  defer(() => child.kill('SIGKILL'));
  return child;
}

/** `weft <args>` run to its end: exit code and both streams. */
function weft(args: string[], env: Record<string, string> = {}) {
  return finished(spawnWeft(args, env));
}

/** `weft <args> --url <server>`. */
const at = (server: TestServer, args: string[], env: Record<string, string> = {}) =>
  weft([...args, '--url', server.url], env);

/** Starts `order` runs (suspended, waiting for approval) and a completed `fan-out`, and tags a ticket. */
async function seed(server: TestServer) {
  const { engine } = server;
  await engine.start(order, book, { id: 'order-1' });
  await engine.start(order, { ...book, sku: 'pen' }, { id: 'order-2' });
  const sum = await engine.start(fanOut, { numbers: [1, 2, 3] }, { id: 'sum-1' });
  expect(await sum.result()).toBe(14);
  await engine.start(ticket, { customer: 'acme', subject: 'password reset' }, { id: 'ticket-1' });
  await engine.start(ticket, { customer: 'globex', subject: 'invoice' }, { id: 'ticket-2' });
  const failed = await engine.start(declined, { amount: 5 }, { id: 'declined-1' });
  await failed.result().catch(() => undefined);
  // Every run has reached its first wait (or its end) before a command reads it.
  for (const id of ['order-1', 'order-2', 'ticket-1', 'ticket-2']) {
    while ((await engine.get(id))?.status !== 'suspended') await Bun.sleep(5);
  }
}

/** The lines of a table after its header, as arrays of cells. */
function rows(table: string): string[][] {
  return table
    .trimEnd()
    .split('\n')
    .slice(1)
    .map((line) => line.split(/\s{2,}/));
}

test('weft list prints runs newest first as an aligned table, and --json prints the list route answer', async () => {
  const server = await start();
  await seed(server);
  const { code, stdout, stderr } = await at(server, ['list']);
  expect(code).toBe(0);
  const [header, ...lines] = stdout.trimEnd().split('\n');
  expect(header).toMatch(/^ID\s+TYPE\s+STATUS\s+FAILURE\s+CREATED\s+UPDATED$/);
  // Newest first, as the list route orders them (runs created in one millisecond by id, descending).
  const newestFirst = (await server.engine.list()).items.map((run) => run.id);
  expect(newestFirst).toHaveLength(6);
  expect(lines.map((line) => line.split(/\s+/)[0])).toEqual(newestFirst);
  // Columns line up: every row's status starts where the header's STATUS does.
  const statusAt = header!.indexOf('STATUS');
  for (const line of lines) expect(line.slice(statusAt)).toMatch(/^(suspended|completed|failed)\s/);
  const declinedLine = lines.find((line) => line.startsWith('declined-1 '));
  expect(declinedLine).toMatch(/failed\s+activity\s+\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z\s+\d{4}-/);
  expect(stderr).toContain('1-6 of 6 runs');

  const json = await at(server, ['list', '--json', '--limit', '2']);
  expect(json.code).toBe(0);
  const page = JSON.parse(json.stdout) as { items: { id: string }[]; total: number; limit: number };
  const fromApi = await server.engine.list({ limit: 2, include: ['failureCategory'] });
  expect(page.items.map((item) => item.id)).toEqual(fromApi.items.map((item) => item.id));
  expect(page).toMatchObject({ total: 6, limit: 2 });
  const direct = (await (
    await fetch(`${server.url}/api/v1/workflows?limit=2&include=failureCategory`)
  ).json()) as object;
  expect(JSON.parse(json.stdout)).toEqual(direct);
}, 30_000);

test('weft list filters as the REST list: status, type, id prefix, attributes, dates, limit', async () => {
  const server = await start();
  await seed(server);
  const ids = async (...args: string[]) => {
    const { code, stdout } = await at(server, ['list', ...args]);
    expect(code).toBe(0);
    return rows(stdout)
      .map((cells) => cells[0])
      .sort();
  };
  expect(await ids('--status', 'completed,failed')).toEqual(['declined-1', 'sum-1']);
  expect(await ids('--status', 'completed', '--status', 'failed')).toEqual(['declined-1', 'sum-1']);
  expect(await ids('--type', 'order')).toEqual(['order-1', 'order-2']);
  expect(await ids('--id-prefix', 'ticket-')).toEqual(['ticket-1', 'ticket-2']);
  expect(await ids('--attribute', 'customer=acme')).toEqual(['ticket-1']);
  expect(await ids('--failure-category', 'activity')).toEqual(['declined-1']);
  expect(await ids('--created-after', '1h', '--type', 'fan-out')).toEqual(['sum-1']);
  const [first, second] = (await server.engine.list()).items.map((run) => run.id);
  expect(await ids('--limit', '1')).toEqual([first]);
  expect(await ids('--limit', '1', '--offset', '1')).toEqual([second]);
  const none = await at(server, ['list', '--created-after', '2999-01-01']);
  expect(none).toMatchObject({ code: 0, stdout: '' });
  expect(none.stderr).toContain('no runs match');
}, 30_000);

test('weft list refuses a malformed filter as a usage error (exit 2), whether the CLI or the server notices', async () => {
  const server = await start();
  const attribute = await at(server, ['list', '--attribute', 'customer']);
  expect(attribute.code).toBe(2);
  expect(attribute.stderr).toStartWith("weft: usage: --attribute takes name=value, not 'customer'");
  expect(attribute.stderr).toContain('usage: weft list');
  const date = await at(server, ['list', '--created-after', 'yesterday']);
  expect(date.code).toBe(2);
  expect(date.stderr).toStartWith('weft: usage: --created-after takes a date');
  const limit = await at(server, ['list', '--limit', 'ten']);
  expect(limit.code).toBe(2);
  expect(limit.stderr).toContain('--limit');
  const status = await at(server, ['list', '--status', 'runing']);
  expect(status.code).toBe(2);
  expect(status.stderr).toStartWith('weft: invalid_params: ');
  const unknown = await at(server, ['list', '--colour']);
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toContain("Unknown option '--colour'");
}, 30_000);

test('weft show prints state, input, attributes, and a failed run its error and category', async () => {
  const server = await start();
  await seed(server);
  const shown = await at(server, ['show', 'ticket-1']);
  expect(shown.code).toBe(0);
  expect(shown.stdout).toMatch(/^id {10}ticket-1$/m);
  expect(shown.stdout).toMatch(/^type {8}ticket \(version 1\)$/m);
  expect(shown.stdout).toMatch(/^status {6}suspended$/m);
  expect(shown.stdout).toMatch(/^created {5}\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/m);
  expect(shown.stdout).toMatch(/^attributes {2}customer=acme$/m);
  expect(shown.stdout).toContain('input       {"customer":"acme","subject":"password reset"}');

  const failed = await at(server, ['show', 'declined-1']);
  expect(failed.code).toBe(0);
  expect(failed.stdout).toMatch(/^status {6}failed$/m);
  expect(failed.stdout).toMatch(/^error {7}activity_failed: Activity 'charge' failed .*card declined$/m);
  expect(failed.stdout).toMatch(/^details$/m);
  expect(failed.stdout).toMatch(/^ {14}"activity": "charge",$/m);
  expect(failed.stdout).toMatch(/^category {4}activity$/m);

  const json = await at(server, ['show', 'ticket-1', '--json']);
  const workflow = (await (await fetch(`${server.url}/api/v1/workflows/ticket-1`)).json()) as object;
  expect(JSON.parse(json.stdout)).toEqual({ workflow, attributes: { customer: 'acme' } });

  const missing = await at(server, ['show', 'no-such-run']);
  expect(missing.code).toBe(3);
  expect(missing.stderr).toStartWith("weft: workflow_not_found: No workflow with id 'no-such-run'");
  const noId = await at(server, ['show']);
  expect(noId.code).toBe(2);
  expect(noId.stderr).toStartWith('weft: usage: missing <id>');
}, 30_000);

test('weft result prints a completed run result, exits 4 for a failed run and 5 for an unfinished one', async () => {
  const server = await start();
  await seed(server);
  const done = await at(server, ['result', 'sum-1']);
  expect(done).toMatchObject({ code: 0, stdout: '14\n' });
  const json = await at(server, ['result', 'sum-1', '--json']);
  expect(JSON.parse(json.stdout)).toEqual({ result: 14 });

  const failed = await at(server, ['result', 'declined-1']);
  expect(failed.code).toBe(4);
  expect(failed.stderr).toStartWith("weft: workflow_failed: Workflow 'declined-1' failed (activity): ");
  const failedJson = await at(server, ['result', 'declined-1', '--json']);
  expect(failedJson.code).toBe(4);
  const answer = await fetch(`${server.url}/api/v1/workflows/declined-1/result`);
  expect(answer.status).toBe(422);
  expect(JSON.parse(failedJson.stdout)).toEqual(await answer.json());

  const unfinished = await at(server, ['result', 'order-1']);
  expect(unfinished.code).toBe(5);
  expect(unfinished.stderr).toStartWith("weft: not_finished: run 'order-1' is suspended");
  expect((await at(server, ['result', 'nope'])).code).toBe(3);
}, 30_000);

test('weft result --wait shows progress on stderr while it long-polls, and prints the result once the run ends', async () => {
  // Short long-polls, so the wait repeats (and reports) several times before the run ends.
  const server = await start({ resultTimeoutMs: 100 });
  await server.engine.start(order, book, { id: 'order-w' });
  while ((await server.engine.get('order-w'))?.status !== 'suspended') await Bun.sleep(5);
  const child = spawnWeft(['result', 'order-w', '--wait', '--url', server.url]);
  const stdout = new Output(child.stdout);
  const stderr = new Output(child.stderr);
  await stderr.until((text) => text.includes('waiting for order-w (order, suspended)'));
  await stderr.until((text) => (text.match(/order-w still suspended after \d+s/g) ?? []).length >= 2);
  await server.engine.signal('order-w', 'approval', { approved: true, by: 'cli-test' });
  expect(await child.exited).toBe(0);
  const result = JSON.parse(await stdout.ended) as { status: string; approvedBy: string };
  expect(result).toMatchObject({ status: 'shipped', approvedBy: 'cli-test' });
}, 30_000);

test('weft start prints the new id; --input errors name the flag; taken ids and unknown types fail', async () => {
  const server = await start();
  const started = await at(server, ['start', 'fan-out', '--input', '{"numbers":[2,3]}', '--id', 'sum-2']);
  expect(started).toMatchObject({ code: 0, stdout: 'sum-2\n' });
  expect(await server.engine.handle('sum-2').result()).toBe(13);

  const generated = await at(server, ['start', 'fan-out', '--input', '{"numbers":[1]}', '--json']);
  const { id } = JSON.parse(generated.stdout) as { id: string };
  expect((await server.engine.get(id))?.type).toBe('fan-out');

  const keyed = ['start', 'fan-out', '--input', '{"numbers":[4]}', '--idempotency-key', 'req-1'];
  const first = await at(server, keyed);
  const second = await at(server, keyed);
  expect(second.stdout).toBe(first.stdout);

  const badJson = await at(server, ['start', 'fan-out', '--input', '{numbers:[1]}']);
  expect(badJson.code).toBe(2);
  expect(badJson.stderr).toStartWith('weft: usage: --input is not valid JSON');
  const taken = await at(server, ['start', 'fan-out', '--input', '{"numbers":[1]}', '--id', 'sum-2']);
  expect(taken.code).toBe(1);
  expect(taken.stderr).toStartWith('weft: workflow_already_exists: ');
  const unknownType = await at(server, ['start', 'no-such-type']);
  expect(unknownType.code).toBe(2);
  expect(unknownType.stderr).toStartWith('weft: workflow_type_not_registered: ');
}, 30_000);

test('weft signal delivers a payload that completes the run; weft cancel cancels one', async () => {
  const server = await start();
  await seed(server);
  const sent = await at(server, ['signal', 'order-1', 'approval', '--payload', '{"approved":true,"by":"ann"}']);
  expect(sent).toMatchObject({ code: 0, stdout: "signal 'approval' sent to order-1\n" });
  expect(await server.engine.handle('order-1').result()).toMatchObject({ status: 'shipped', approvedBy: 'ann' });
  const json = await at(server, [
    'signal',
    'order-2',
    'approval',
    '--payload',
    '{"approved":false,"by":"bo"}',
    '--json',
  ]);
  expect(JSON.parse(json.stdout)).toEqual({ ok: true });

  const badPayload = await at(server, ['signal', 'ticket-1', 'resolved', '--payload', 'done']);
  expect(badPayload.code).toBe(2);
  expect(badPayload.stderr).toStartWith('weft: usage: --payload is not valid JSON');
  expect((await at(server, ['signal', 'nope', 'approval'])).code).toBe(3);
  expect((await at(server, ['signal', 'ticket-1'])).stderr).toStartWith('weft: usage: missing <name>');

  const cancelled = await at(server, ['cancel', 'ticket-1']);
  expect(cancelled).toMatchObject({ code: 0, stdout: 'cancelled ticket-1\n' });
  expect((await server.engine.get('ticket-1'))?.status).toBe('cancelled');
  const cancelledJson = await at(server, ['cancel', 'ticket-2', '--json']);
  expect(cancelledJson.stdout).toBe('null\n');
  const result = await at(server, ['result', 'ticket-1']);
  expect(result.code).toBe(4);
  expect(result.stderr).toStartWith('weft: workflow_cancelled: ');
  expect((await at(server, ['cancel', 'nope'])).code).toBe(3);
  const again = await at(server, ['cancel', 'ticket-1']);
  expect(again.code).toBe(1);
  expect(again.stderr).toStartWith('weft: workflow_not_running: ');
}, 30_000);

test('weft watch prints one line per state change until the run ends, then exits 0 (4 when cancelled)', async () => {
  const server = await start();
  await server.engine.start(order, book, { id: 'order-watched' });
  const child = spawnWeft(['watch', 'order-watched', '--url', server.url]);
  const stdout = new Output(child.stdout);
  const stderr = new Output(child.stderr);
  await stdout.until((text) => text.includes('workflow:suspended'));
  expect(await stderr.until((text) => text.includes('watching'))).toContain('weft: watching order-watched (order, ');
  await server.engine.signal('order-watched', 'approval', { approved: true, by: 'watcher' });
  expect(await child.exited).toBe(0);
  const lines = (await stdout.ended).trimEnd().split('\n');
  expect(lines[0]).toMatch(
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z {2}#1 {2}running {4}workflow:started {2}\{"workflowType":"order"\}$/,
  );
  expect(lines.at(-1)).toMatch(/#\d+ {2}completed {2}workflow:completed/);

  await server.engine.start(order, book, { id: 'order-dropped' });
  const json = spawnWeft(['watch', 'order-dropped', '--json', '--url', server.url]);
  const jsonOut = new Output(json.stdout);
  await jsonOut.until((text) => text.includes('"status":"suspended"'));
  await server.engine.cancel('order-dropped');
  expect(await json.exited).toBe(4);
  const frames = (await jsonOut.ended)
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as { seq: number; status: string });
  expect(frames.map((frame) => frame.seq)).toEqual(frames.map((_frame, index) => index + 1));
  expect(frames.at(-1)?.status).toBe('cancelled');
  expect((await at(server, ['watch', 'nope'])).code).toBe(3);

  // Stopped before the run ends: 130, like any command a SIGINT ends.
  await server.engine.start(order, book, { id: 'order-left' });
  const left = spawnWeft(['watch', 'order-left', '--url', server.url]);
  await new Output(left.stdout).until((text) => text.includes('workflow:suspended'));
  left.kill('SIGINT');
  expect(await left.exited).toBe(130);
}, 30_000);

test('weft events lists the event log; --follow prints new events as they happen until SIGTERM', async () => {
  const server = await start();
  await seed(server);
  const listed = await at(server, ['events', '--limit', '3']);
  expect(listed.code).toBe(0);
  const [header, ...lines] = listed.stdout.trimEnd().split('\n');
  expect(header).toMatch(/^SEQ\s+TIME\s+TYPE\s+WORKFLOW\s+DATA$/);
  expect(lines).toHaveLength(3);
  expect(lines[0]).toMatch(
    /^1\s+\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z\s+workflow:started\s+order-1\s+\{"workflowType":"order"\}$/,
  );
  expect(listed.stderr).toContain('--after 3');
  const json = await at(server, ['events', '--after', '2', '--limit', '2', '--json']);
  const page = (await (await fetch(`${server.url}/api/v1/events?after=2&limit=2`)).json()) as object;
  expect(JSON.parse(json.stdout)).toEqual(page);

  const [last] = (await server.engine.readEvents({ after: -1, limit: 1000 })).slice(-1);
  const child = spawnWeft(['events', '--follow', '--after', String(last!.seq), '--url', server.url]);
  const stdout = new Output(child.stdout);
  const stderr = new Output(child.stderr);
  await stderr.until((text) => text.includes(`following events after seq ${last!.seq}`));
  await server.engine.start(fanOut, { numbers: [5] }, { id: 'sum-followed' });
  const followed = await stdout.until((text) => /workflow:completed\s+sum-followed/.test(text));
  expect(followed).toMatch(new RegExp(`^${last!.seq + 1}\\s+\\S+Z\\s+workflow:started\\s+sum-followed`));
  child.kill('SIGTERM');
  expect(await child.exited).toBe(0);

  const refused = await at(server, ['events', '--follow', '--limit', '5']);
  expect(refused.code).toBe(2);
}, 30_000);

test('weft result --wait against a weft serve process keeps waiting across a server restart', async () => {
  const db = join(dir, 'restart.db');
  const listening = /weft server listening at (http:\/\/127\.0\.0\.1:(\d+))/;
  const serveOn = async (port: string) => {
    const child = spawnWeft(['serve', '--port', port, '--db', db]);
    const output = await new Output(child.stdout).until((text) => listening.test(text));
    const [, url, bound] = listening.exec(output)!;
    return { child, url: url!, port: bound! };
  };
  const first = await serveOn('0');
  const started = await weft([
    'start',
    'order',
    '--input',
    JSON.stringify(book),
    '--id',
    'order-r',
    '--url',
    first.url,
  ]);
  expect(started.code).toBe(0);
  const waiting = spawnWeft(['result', 'order-r', '--wait', '--url', first.url]);
  const stdout = new Output(waiting.stdout);
  const stderr = new Output(waiting.stderr);
  await stderr.until((text) => text.includes('waiting for order-r (order, suspended)'));
  first.child.kill('SIGTERM');
  expect(await first.child.exited).toBe(0);
  await stderr.until((text) => text.includes('trying again'));
  const second = await serveOn(first.port);
  const signalled = await weft([
    'signal',
    'order-r',
    'approval',
    '--payload',
    '{"approved":true,"by":"restart"}',
    '--url',
    second.url,
  ]);
  expect(signalled.code).toBe(0);
  expect(await waiting.exited).toBe(0);
  expect(JSON.parse(await stdout.ended)).toMatchObject({ status: 'shipped', approvedBy: 'restart' });
  expect(await stderr.ended).toContain(`weft: unreachable: cannot reach ${first.url}`);
  second.child.kill('SIGTERM');
  expect(await second.child.exited).toBe(0);
}, 30_000);

test('with API keys on the server, commands send WEFT_API_KEY; without it they are refused with a hint', async () => {
  const server = await start({ auth: { apiKeys: ['cli-test-key'], auditSink: () => undefined } });
  await server.engine.start(fanOut, { numbers: [1] }, { id: 'sum-auth' });
  const refused = await at(server, ['list']);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toStartWith('weft: unauthenticated: ');
  expect(refused.stderr).toContain('set WEFT_API_KEY');
  const wrong = await at(server, ['list'], { WEFT_API_KEY: 'guessed-key' });
  expect(wrong.code).toBe(1);
  expect(wrong.stderr).not.toContain('set WEFT_API_KEY');
  const allowed = await at(server, ['show', 'sum-auth'], { WEFT_API_KEY: 'cli-test-key' });
  expect(allowed.code).toBe(0);
  expect(allowed.stdout).toMatch(/^status {6}completed$/m);
  // WEFT_URL names the server as --url does.
  const fromEnv = await weft(['result', 'sum-auth'], { WEFT_URL: server.url, WEFT_API_KEY: 'cli-test-key' });
  expect(fromEnv).toMatchObject({ code: 0, stdout: '1\n' });
  // A key is never a flag, and a refusal never echoes it.
  const flag = await at(server, ['list', '--api-key=cli-test-key']);
  expect(flag.code).toBe(2);
  expect(flag.stderr).toContain('set WEFT_API_KEY');
  expect(flag.stderr).not.toContain('cli-test-key');
  const empty = await at(server, ['list'], { WEFT_API_KEY: '' });
  expect(empty.code).toBe(2);
  expect(empty.stderr).toStartWith('weft: usage: WEFT_API_KEY is set but empty');
}, 30_000);

test('a server that is not there is a failure (exit 1) naming the URL', async () => {
  const server = await start();
  const url = server.url;
  await server.stop();
  const { code, stderr } = await weft(['list', '--url', url]);
  expect(code).toBe(1);
  expect(stderr).toStartWith(`weft: unreachable: cannot reach ${url}`);
  const badUrl = await weft(['list', '--url', 'localhost:3000']);
  expect(badUrl.code).toBe(2);
}, 30_000);

test('--db reads a database without running its workflows, cancels, and refuses what needs a server', async () => {
  const db = join(dir, 'direct.db');
  const storage = new SQLiteStorage(db);
  const engine = await Engine.create({ storage, workflows: [order, fanOut, hanging], shutdownGracePeriod: 0 });
  await engine.start(order, book, { id: 'order-db' });
  await (await engine.start(fanOut, { numbers: [3] }, { id: 'sum-db' })).result();
  await engine.start(hanging, null, { id: 'hanging-db' });
  await hangingStarted.promise;
  while ((await engine.get('order-db'))?.status !== 'suspended') await Bun.sleep(5);

  // While this process owns the database, a direct open is refused and points to --url.
  const locked = await weft(['list', '--db', db]);
  expect(locked.code).toBe(1);
  expect(locked.stderr).toStartWith(`weft: storage_locked: '${db}' is in use by process ${process.pid}`);
  expect(locked.stderr).toContain('--url');
  await engine.close();
  await storage.close();

  const listed = await weft(['list', '--db', db]);
  expect(listed.code).toBe(0);
  expect(rows(listed.stdout).map((cells) => [cells[0], cells[2]])).toEqual([
    ['hanging-db', 'running'],
    ['sum-db', 'completed'],
    ['order-db', 'suspended'],
  ]);
  expect((await weft(['show', 'hanging-db', '--db', db])).stdout).toMatch(/^status {6}running$/m);
  expect(await weft(['result', 'sum-db', '--db', db])).toMatchObject({ code: 0, stdout: '9\n' });
  expect((await weft(['result', 'hanging-db', '--db', db])).code).toBe(5);
  const events = JSON.parse((await weft(['events', '--db', db, '--json', '--limit', '1000'])).stdout) as {
    items: unknown[];
  };

  for (const args of [
    ['start', 'fan-out', '--input', '{"numbers":[1]}'],
    ['signal', 'order-db', 'approval', '--payload', '{"approved":true,"by":"x"}'],
    ['result', 'order-db', '--wait'],
    ['watch', 'order-db'],
    ['events', '--follow'],
  ]) {
    const refused = await weft([...args, '--db', db]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toStartWith('weft: needs_server: ');
    expect(refused.stderr).toContain(`npx weft serve --db ${db}`);
  }
  const cancelled = await weft(['cancel', 'order-db', '--db', db]);
  expect(cancelled).toMatchObject({ code: 0, stdout: 'cancelled order-db\n' });
  expect((await weft(['result', 'order-db', '--db', db])).code).toBe(4);
  expect((await weft(['show', 'nope', '--db', db])).code).toBe(3);
  expect((await weft(['list', '--db', join(dir, 'missing.db')])).code).toBe(3);
  expect((await weft(['list', '--db', db, '--url', 'http://127.0.0.1:1'])).code).toBe(2);

  // Nothing ran: the hanging run is still where its host left it, and the only new events are the cancel's.
  const after = new SQLiteStorage(db);
  const reader = await Engine.create({ storage: after, recover: false });
  expect((await reader.get('hanging-db'))?.status).toBe('running');
  const newEvents = (await reader.readEvents({ after: -1, limit: 1000 })).slice(events.items.length);
  expect(newEvents.map((event) => [event.type, event.workflowId])).toEqual([['workflow:cancelled', 'order-db']]);
  await reader.close();
  await after.close();
}, 30_000);

test('weft <command> --help prints that command usage with the shared options; weft --help lists every command', async () => {
  const help = await weft(['list', '--help']);
  expect(help.code).toBe(0);
  expect(help.stdout).toStartWith('usage: weft list');
  expect(help.stdout).toContain('WEFT_API_KEY');
  const all = await weft(['--help']);
  for (const name of [
    'serve',
    'run',
    'mcp',
    'list',
    'show',
    'result',
    'start',
    'signal',
    'cancel',
    'watch',
    'events',
  ]) {
    expect(all.stdout).toContain(`weft ${name} `);
  }
});
