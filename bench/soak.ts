/**
 * `npm run soak -- --minutes N --rate R [--read-share 0.1]`: issue 20's mixed load against a real
 * `weft serve` child process on a fresh SQLite file, at a fixed open-loop rate, with a row of figures
 * per minute, the slopes at the end, and a check that every run started got the right result.
 *
 * The mix, one request per slot of the schedule: with probability `--read-share` a read (a listing
 * `status=suspended&type=ticket`, or an aggregate by status, alternately); otherwise the next
 * follow-up of a flow already started (a fan-out's result wait; a ticket's signal, then its result
 * wait), or, when none is due, a new flow (fan-out and ticket starts alternately).
 *
 * Traps it avoids:
 * - A closed loop that hides a slow server. Requests go out on schedule whether or not earlier ones
 *   answered; at most `--max-in-flight` are outstanding, and a slot that finds the limit reached is
 *   counted as dropped (and one sent more than 50 ms after its slot as late) — never silently
 *   skipped, so a server that cannot keep up shows it in the rows instead of slowing the client.
 * - Trusting status codes. Every run's result is compared with what its input (and its signal)
 *   must give; runs whose result was not seen during the load are drained and checked at the end,
 *   and the database is opened afterwards for `integrity_check` and the count of completed runs.
 * - Leftovers. The schedule stops by itself, the child is stopped (SIGTERM, then SIGKILL) on every
 *   exit path including Ctrl-C, and the temporary directory is removed.
 *
 * Exit code 0 only when no request got an error response (any non-2xx, including 503 `overloaded`,
 * or a network error) and every run started had the right result; 1 otherwise; 2 for bad arguments.
 */
import { Database } from 'bun:sqlite';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FANOUT_WIDTH, fanoutResult } from './soak-workflows.ts';

const ROOT = join(import.meta.dir, '..');
/** A slot sent this much after its scheduled time counts as late. */
const LATE_MS = 50;
/** How long a single request may take before the client gives up on it (a result wait is 30 s). */
const REQUEST_TIMEOUT_MS = 60_000;
/** How many network errors are printed in full (the rest are only counted). */
const MAX_NET_ERRORS_SHOWN = 10;
/** How long the end of the run waits for requests in flight, then for the drain of unchecked runs. */
const DRAIN_MS = 120_000;
/** Concurrent requests of the final drain. */
const DRAIN_CONCURRENCY = 50;

const KINDS = [
  'fanout.start',
  'fanout.result',
  'ticket.start',
  'ticket.signal',
  'ticket.result',
  'list',
  'aggregate',
] as const;
type Kind = (typeof KINDS)[number];
/** Column labels of the rows, by kind. */
const LABEL: Record<Kind, string> = {
  'fanout.start': 'f.start',
  'fanout.result': 'f.result',
  'ticket.start': 't.start',
  'ticket.signal': 't.signal',
  'ticket.result': 't.result',
  list: 'list',
  aggregate: 'aggr',
};

interface Options {
  seconds: number;
  rate: number;
  readShare: number;
  maxInFlight: number;
  rowSeconds: number;
}

const USAGE = `usage: npm run soak -- --minutes N --rate R [--read-share 0.1] [--max-in-flight 5000]
       npm run soak -- --seconds S --rate R [--row-seconds 1]     (a short smoke run)`;

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      minutes: { type: 'string' },
      seconds: { type: 'string' },
      rate: { type: 'string', default: '200' },
      'read-share': { type: 'string', default: '0.1' },
      'max-in-flight': { type: 'string', default: '5000' },
      'row-seconds': { type: 'string' },
    },
  });
  const number = (name: string, text: string | undefined, ok: (n: number) => boolean): number => {
    const value = Number(text);
    if (text === undefined || !Number.isFinite(value) || !ok(value)) throw new UsageError(`--${name}: ${text}`);
    return value;
  };
  if ((values.minutes === undefined) === (values.seconds === undefined)) {
    throw new UsageError('give exactly one of --minutes and --seconds');
  }
  const seconds =
    values.seconds !== undefined
      ? number('seconds', values.seconds, (n) => n > 0)
      : 60 * number('minutes', values.minutes, (n) => n > 0);
  return {
    seconds,
    rate: number('rate', values.rate, (n) => n > 0),
    readShare: number('read-share', values['read-share'], (n) => n >= 0 && n <= 1),
    maxInFlight: number('max-in-flight', values['max-in-flight'], (n) => Number.isInteger(n) && n > 0),
    rowSeconds: number('row-seconds', values['row-seconds'] ?? String(Math.min(60, seconds)), (n) => n > 0),
  };
}

class UsageError extends Error {}

// ---- what was measured ---------------------------------------------------------------------------

/** One row's worth of measurements. */
class Window {
  readonly latencies = new Map<Kind, number[]>(KINDS.map((kind) => [kind, []]));
  /** `${kind} ${status}` → count; status `net` is a network error or client timeout. */
  readonly errors = new Map<string, number>();
  dropped = 0;
  late = 0;

  error(kind: Kind, status: number | 'net'): void {
    const key = `${kind} ${status}`;
    this.errors.set(key, (this.errors.get(key) ?? 0) + 1);
  }
}

interface RowFigures {
  atSeconds: number;
  rssMb: number | undefined;
  p99Ms: number;
  p99ByKind: Map<Kind, number>;
}

interface Run {
  kind: 'fanout' | 'ticket';
  input: { base: number; width: number } | { ticket: number };
  signalledBy?: string;
  verified: boolean;
}

type Step = { kind: Kind; id?: string };

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const fmt = (n: number, digits = 1): string => (Number.isNaN(n) ? '-' : n.toFixed(digits));

// ---- the server process --------------------------------------------------------------------------

interface Child {
  url: string;
  pid: number;
  stop(): Promise<number>;
}

/** The environment without the variables that would make the server demand a key the soak does not send. */
function serverEnv(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const name of ['WEFT_API_KEYS', 'WEFT_SERVER_AUTHENTICATION_REQUIRED', 'WEFT_ALLOWED_HOSTS']) delete env[name];
  return env;
}

async function startServer(dbPath: string): Promise<Child> {
  const child = Bun.spawn(
    [
      process.execPath,
      'src/cli/main.ts',
      'serve',
      '--db',
      dbPath,
      '--port',
      '0',
      '--workflows',
      'bench/soak-workflows.ts',
    ],
    { cwd: ROOT, stdout: 'pipe', stderr: 'ignore', env: serverEnv() },
  );
  let stopping: Promise<number> | undefined;
  const stop = (): Promise<number> =>
    (stopping ??= (async () => {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      try {
        return await child.exited;
      } finally {
        clearTimeout(killer);
      }
    })());
  const reader = child.stdout.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const deadline = setTimeout(() => void stop(), 30_000);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`weft serve exited before listening:\n${text}`);
      text += decoder.decode(value);
      const match = /weft server listening at (\S+)/.exec(text);
      if (match !== null) {
        // Keep reading so the child never blocks on a full pipe.
        void (async () => {
          while (!(await reader.read()).done);
        })().catch(() => undefined);
        return { url: match[1]!, pid: child.pid, stop };
      }
    }
  } catch (error) {
    await stop();
    throw error;
  } finally {
    clearTimeout(deadline);
  }
}

function rssMb(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? undefined : Number(match[1]) / 1024;
  } catch {
    return undefined;
  }
}

function fileMb(path: string): number {
  try {
    return statSync(path).size / (1024 * 1024);
  } catch {
    return 0;
  }
}

// ---- the load --------------------------------------------------------------------------------------

class Soak {
  readonly #url: string;
  readonly #options: Options;
  window = new Window();
  readonly runs = new Map<string, Run>();
  readonly #followUps: Step[] = [];
  inFlight = 0;
  #nextFlow = 0;
  #nextRead = 0;
  wrong: string[] = [];
  totals = { requests: 0, errors: 0, dropped: 0, late: 0, signals: 0 };
  #idle: (() => void) | undefined;
  #netErrorsShown = 0;

  constructor(url: string, options: Options) {
    this.#url = url;
    this.#options = options;
  }

  /** Sends one request for the slot scheduled at `scheduledAt` (performance.now() ms). */
  slot(scheduledAt: number): void {
    if (this.inFlight >= this.#options.maxInFlight) {
      this.window.dropped += 1;
      this.totals.dropped += 1;
      return;
    }
    if (performance.now() - scheduledAt > LATE_MS) {
      this.window.late += 1;
      this.totals.late += 1;
    }
    void this.send(this.#pick());
  }

  #pick(): Step {
    if (Math.random() < this.#options.readShare) return { kind: this.#nextRead++ % 2 === 0 ? 'list' : 'aggregate' };
    const next = this.#followUps.shift();
    if (next !== undefined) return next;
    const n = this.#nextFlow++;
    return n % 2 === 0 ? { kind: 'fanout.start', id: `f-${n}` } : { kind: 'ticket.start', id: `t-${n}` };
  }

  /** Sends `step`, times it, checks its answer; follow-ups of a flow are queued for later slots. */
  async send(step: Step, window?: Window): Promise<boolean> {
    this.inFlight += 1;
    this.totals.requests += 1;
    const started = performance.now();
    let status: number | 'net' = 'net';
    let body: unknown;
    try {
      const response = await fetch(this.#url + pathOf(step), {
        ...requestOf(step),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      status = response.status;
      body = await response.json().catch(() => undefined);
    } catch (error) {
      status = 'net';
      // The first few network errors are printed whole: a count alone cannot say what went wrong.
      if (this.#netErrorsShown < MAX_NET_ERRORS_SHOWN) {
        this.#netErrorsShown += 1;
        const { name, message, code } = error as { name?: string; message?: string; code?: string };
        console.error(
          `soak: ${step.kind} network error after ${Math.round(performance.now() - started)} ms: ${name} ${code ?? ''} ${message}`,
        );
      }
    } finally {
      this.inFlight -= 1;
      if (this.inFlight === 0) this.#idle?.();
    }
    const into = window ?? this.window;
    if (status === 'net' || status >= 300) {
      into.error(step.kind, status);
      this.totals.errors += 1;
      return false;
    }
    into.latencies.get(step.kind)!.push(performance.now() - started);
    this.#answered(step, body);
    return true;
  }

  #answered(step: Step, body: unknown): void {
    const id = step.id!;
    switch (step.kind) {
      case 'fanout.start': {
        const n = Number(id.slice(2));
        this.runs.set(id, { kind: 'fanout', input: { base: n, width: FANOUT_WIDTH }, verified: false });
        this.#followUps.push({ kind: 'fanout.result', id });
        return;
      }
      case 'ticket.start':
        this.runs.set(id, { kind: 'ticket', input: { ticket: Number(id.slice(2)) }, verified: false });
        this.#followUps.push({ kind: 'ticket.signal', id });
        return;
      case 'ticket.signal':
        this.runs.get(id)!.signalledBy = agentOf(id);
        this.totals.signals += 1;
        this.#followUps.push({ kind: 'ticket.result', id });
        return;
      case 'fanout.result':
      case 'ticket.result':
        this.#check(id, (body as { result?: unknown } | undefined)?.result);
        return;
      default:
        return;
    }
  }

  #check(id: string, result: unknown): void {
    const run = this.runs.get(id)!;
    const expected =
      run.kind === 'fanout'
        ? fanoutResult(run.input as { base: number; width: number })
        : { ticket: (run.input as { ticket: number }).ticket, by: run.signalledBy ?? null };
    if (JSON.stringify(result) === JSON.stringify(expected)) run.verified = true;
    else this.wrong.push(`${id}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(result)}`);
  }

  /** Resolves once nothing is in flight, or after `ms`. */
  async idle(ms: number): Promise<void> {
    if (this.inFlight === 0) return;
    const done = Promise.withResolvers<void>();
    this.#idle = done.resolve;
    const timer = setTimeout(done.resolve, ms);
    await done.promise;
    clearTimeout(timer);
    this.#idle = undefined;
  }

  /** After the load: signals tickets that never got theirs and waits for every unchecked result. */
  async drain(window: Window): Promise<void> {
    const pending = [...this.runs].filter(([, run]) => !run.verified).map(([id]) => id);
    const deadline = performance.now() + DRAIN_MS;
    const worker = async (): Promise<void> => {
      for (let id = pending.pop(); id !== undefined && performance.now() < deadline; id = pending.pop()) {
        const run = this.runs.get(id)!;
        if (run.kind === 'ticket' && run.signalledBy === undefined) {
          if (!(await this.send({ kind: 'ticket.signal', id }, window))) continue;
        }
        await this.send({ kind: run.kind === 'fanout' ? 'fanout.result' : 'ticket.result', id }, window);
      }
    };
    this.#followUps.length = 0;
    await Promise.all(Array.from({ length: DRAIN_CONCURRENCY }, worker));
  }
}

function agentOf(id: string): string {
  return `agent-${Number(id.slice(2)) % 7}`;
}

function pathOf(step: Step): string {
  const id = encodeURIComponent(step.id ?? '');
  switch (step.kind) {
    case 'fanout.start':
    case 'ticket.start':
      return '/api/v1/workflows';
    case 'ticket.signal':
      return `/api/v1/workflows/${id}/signal/resolve`;
    case 'fanout.result':
    case 'ticket.result':
      return `/api/v1/workflows/${id}/result`;
    case 'list':
      return '/api/v1/workflows?status=suspended&type=ticket&limit=20';
    default:
      return '/api/v1/workflows/aggregate?groupBy=status';
  }
}

function requestOf(step: Step): RequestInit {
  const json = (body: unknown): RequestInit => ({
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const n = Number(step.id?.slice(2));
  switch (step.kind) {
    case 'fanout.start':
      return json({ type: 'fanout', id: step.id, input: { base: n, width: FANOUT_WIDTH } });
    case 'ticket.start':
      return json({ type: 'ticket', id: step.id, input: { ticket: n } });
    case 'ticket.signal':
      return json({ payload: { by: agentOf(step.id!) } });
    default:
      return { method: 'GET' };
  }
}

// ---- rows and the summary ------------------------------------------------------------------------

function printLegend(options: Options, dbPath: string): void {
  console.log(
    `soak: ${options.seconds} s at ${options.rate} req/s, read share ${options.readShare}, at most ${options.maxInFlight} in flight; db ${dbPath}`,
  );
  console.log(
    'each row: time, req/s answered, then per kind "answered/s p50/p99 ms", errors by kind and status,\n' +
      'server RSS, DB and WAL size, requests in flight, slots dropped (in-flight limit) and late (> 50 ms),\n' +
      "and the server's own event-loop lag, commit queue depth and starts refused (503), from /v1/metrics",
  );
}

/** The server's own view, scraped from `GET /v1/metrics` once a second. */
interface ServerView {
  lagMs: number | undefined;
  queueDepth: number | undefined;
  shed: number;
}

/** The values of every sample of metric `name` in Prometheus text. */
function samples(text: string, name: string): number[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .map((line) => Number(line.slice(line.lastIndexOf(' ') + 1)));
}

/** Keeps `view` up to date until `signal` aborts. */
async function scrapeMetrics(url: string, view: ServerView, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    try {
      const text = await (await fetch(`${url}/v1/metrics`, { signal })).text();
      const lag = samples(text, 'weft_event_loop_lag_seconds')[0];
      view.lagMs = lag === undefined ? undefined : lag * 1000;
      view.queueDepth = samples(text, 'weft_commit_queue_depth')[0];
      view.shed = samples(text, 'weft_overload_shed_total').reduce((sum, n) => sum + n, 0);
    } catch {
      // A missed scrape keeps the last view; the load's own figures are what counts.
    }
    await Bun.sleep(1000);
  }
}

function row(
  window: Window,
  atSeconds: number,
  spanSeconds: number,
  pid: number,
  dbPath: string,
  inFlight: number,
  server: ServerView,
): RowFigures {
  const all: number[] = [];
  const p99ByKind = new Map<Kind, number>();
  const cells: string[] = [];
  for (const kind of KINDS) {
    const sorted = window.latencies.get(kind)!.sort((a, b) => a - b);
    all.push(...sorted);
    p99ByKind.set(kind, percentile(sorted, 99));
    cells.push(
      `${LABEL[kind]} ${fmt(sorted.length / spanSeconds, 0)} ${fmt(percentile(sorted, 50))}/${fmt(percentile(sorted, 99))}`,
    );
  }
  all.sort((a, b) => a - b);
  const errors = [...window.errors].map(([key, count]) => `${key}: ${count}`).join(', ') || 'none';
  const rss = rssMb(pid);
  console.log(
    `${String(Math.round(atSeconds)).padStart(5)} s | ${fmt(all.length / spanSeconds, 0)} req/s | ${cells.join(' | ')} | errors ${errors} | ` +
      `RSS ${rss === undefined ? '-' : fmt(rss, 0)} MB, DB ${fmt(fileMb(dbPath))} MB, WAL ${fmt(fileMb(`${dbPath}-wal`))} MB | ` +
      `in flight ${inFlight}, dropped ${window.dropped}, late ${window.late} | ` +
      `server lag ${server.lagMs === undefined ? '-' : fmt(server.lagMs)} ms, commit queue ${server.queueDepth ?? '-'}, shed ${server.shed}`,
  );
  return { atSeconds, rssMb: rss, p99Ms: percentile(all, 99), p99ByKind };
}

/** Least-squares slope of `y` over `x`. */
function slope(points: [number, number][]): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const num = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const den = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return den === 0 ? Number.NaN : num / den;
}

function printSlopes(rows: RowFigures[]): void {
  const rss = rows.filter((r) => r.rssMb !== undefined).map((r) => [r.atSeconds / 60, r.rssMb!] as [number, number]);
  const after5 = rss.filter(([minute]) => minute > 5);
  const [points, label] = after5.length >= 2 ? [after5, 'after minute 5'] : [rss, 'whole run (not past minute 5)'];
  console.log(`RSS slope (${label}): ${fmt(slope(points), 2)} MB/min`);
  if (rows.length >= 3) {
    const second = rows[1]!;
    const last = rows.at(-1)!;
    const ratios = (['fanout.start', 'ticket.start', 'ticket.signal', 'list', 'aggregate'] as const).map(
      (kind) => `${LABEL[kind]} ${fmt(last.p99ByKind.get(kind)! / second.p99ByKind.get(kind)!, 2)}x`,
    );
    console.log(
      `p99 last row vs second row: all ${fmt(last.p99Ms)} / ${fmt(second.p99Ms)} ms = ${fmt(last.p99Ms / second.p99Ms, 2)}x; ${ratios.join(', ')}`,
    );
  } else {
    console.log('p99 last row vs second row: needs at least three rows');
  }
}

/** The database after the server stopped: integrity, and the runs by type and status. */
function checkDatabase(dbPath: string, started: number): string[] {
  const problems: string[] = [];
  const db = new Database(dbPath, { readonly: true });
  try {
    const integrity = db.query<{ integrity_check: string }, []>('PRAGMA integrity_check').all();
    const ok = integrity.length === 1 && integrity[0]!.integrity_check === 'ok';
    if (!ok) problems.push(`integrity_check: ${integrity.map((r) => r.integrity_check).join('; ')}`);
    const counts = db
      .query<{ type: string; status: string; n: number }, []>(
        'SELECT type, status, count(*) AS n FROM runs GROUP BY type, status',
      )
      .all();
    console.log(
      `database: integrity_check ${ok ? 'ok' : 'FAILED'}; runs ${counts.map((c) => `${c.type}/${c.status} ${c.n}`).join(', ') || 'none'}`,
    );
    const completed = counts.filter((c) => c.status === 'completed').reduce((s, c) => s + c.n, 0);
    if (completed < started) problems.push(`${started} runs started but ${completed} completed in the database`);
    for (const c of counts) if (c.status !== 'completed') problems.push(`${c.n} ${c.type} runs ${c.status}`);
  } finally {
    db.close();
  }
  return problems;
}

// ---- main ------------------------------------------------------------------------------------------

async function main(argv: string[]): Promise<number> {
  let options: Options;
  try {
    options = parseOptions(argv);
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const dir = mkdtempSync(join(tmpdir(), 'weft-soak-'));
  const dbPath = join(dir, 'soak.db');
  let child: Child | undefined;
  const interrupted = async (): Promise<void> => {
    await child?.stop();
    rmSync(dir, { recursive: true, force: true });
    process.exit(130);
  };
  process.once('SIGINT', () => void interrupted());
  process.once('SIGTERM', () => void interrupted());
  try {
    child = await startServer(dbPath);
    printLegend(options, dbPath);
    const soak = new Soak(child.url, options);
    const rows = await drive(soak, options, child.pid, dbPath, child.url);

    await soak.idle(DRAIN_MS);
    const drainWindow = new Window();
    await soak.drain(drainWindow);
    const drainErrors = [...drainWindow.errors].map(([key, count]) => `${key}: ${count}`).join(', ');
    printSlopes(rows);

    const started = soak.runs.size;
    const verified = [...soak.runs.values()].filter((run) => run.verified).length;
    const tickets = [...soak.runs.values()].filter((run) => run.kind === 'ticket');
    console.log(
      `requests ${soak.totals.requests}, error responses ${soak.totals.errors}${drainErrors === '' ? '' : ` (in the final drain: ${drainErrors})`}, ` +
        `dropped ${soak.totals.dropped}, late ${soak.totals.late}`,
    );
    console.log(
      `runs started ${started} (fan-out ${started - tickets.length}, tickets ${tickets.length}), results correct ${verified}, ` +
        `wrong ${soak.wrong.length}, unchecked ${started - verified - soak.wrong.length}; signals applied ${soak.totals.signals}`,
    );
    for (const line of soak.wrong.slice(0, 10)) console.log(`  wrong: ${line}`);

    const exitCode = await child.stop();
    child = undefined;
    const problems = checkDatabase(dbPath, started);
    for (const problem of problems) console.log(`  database: ${problem}`);
    const failed =
      soak.totals.errors > 0 || soak.wrong.length > 0 || verified < started || problems.length > 0 || exitCode !== 0;
    console.log(failed ? 'soak: FAILED' : 'soak: ok — no error response, every run correct');
    return failed ? 1 : 0;
  } finally {
    await child?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The open-loop schedule: slot k is due at start + k / rate; a row is printed every `rowSeconds`. */
async function drive(soak: Soak, options: Options, pid: number, dbPath: string, url: string): Promise<RowFigures[]> {
  const rows: RowFigures[] = [];
  const server: ServerView = { lagMs: undefined, queueDepth: undefined, shed: 0 };
  const scraping = new AbortController();
  const scraper = scrapeMetrics(url, server, scraping.signal);
  const start = performance.now();
  const end = start + options.seconds * 1000;
  let issued = 0;
  let nextRow = start + options.rowSeconds * 1000;
  let rowStart = start;
  for (let now = performance.now(); now < end; now = performance.now()) {
    const due = Math.floor(((now - start) * options.rate) / 1000);
    for (; issued < due; issued++) soak.slot(start + (issued * 1000) / options.rate);
    if (now >= nextRow) {
      rows.push(row(soak.window, (now - start) / 1000, (now - rowStart) / 1000, pid, dbPath, soak.inFlight, server));
      soak.window = new Window();
      rowStart = now;
      nextRow += options.rowSeconds * 1000;
    }
    await Bun.sleep(2);
  }
  const now = performance.now();
  if (now - rowStart > 100)
    rows.push(row(soak.window, (now - start) / 1000, (now - rowStart) / 1000, pid, dbPath, soak.inFlight, server));
  scraping.abort();
  await scraper;
  return rows;
}

if (import.meta.main) process.exit(await main(process.argv.slice(2)));
