/**
 * The CLI as a test runs it: `bun src/cli/main.ts <args>` as a real process in an environment
 * cleared of every variable the CLI reads (so a developer's own never leak in), and a child's
 * output read to its end in the background.
 */
import { join } from 'node:path';

export const root = join(import.meta.dir, '../..');
export const main = join(root, 'src/cli/main.ts');

/** Variables the CLI reads; each test sets the ones it means. */
const CLI_VARIABLES = [
  'WEFT_URL',
  'WEFT_API_KEY',
  'WEFT_API_KEYS',
  'WEFT_ALLOWED_HOSTS',
  'WEFT_SERVER_AUTHENTICATION_REQUIRED',
  'WEFT_DB',
];

/** The process environment without the CLI's variables, plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const name of CLI_VARIABLES) delete env[name];
  return { ...env, ...extra };
}

/** `weft <args>` started with piped output. */
export function spawnWeft(args: string[], env: Record<string, string> = {}) {
  return Bun.spawn([process.execPath, main, ...args], {
    cwd: root,
    env: cleanEnv(env),
    stdout: 'pipe',
    stderr: 'pipe',
  });
}

/** A child run to its end: exit code and both streams. */
export async function finished(child: ReturnType<typeof spawnWeft>) {
  const [code, stdout, stderr] = await Promise.all([
    child.exited,
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ]);
  return { code, stdout, stderr };
}

/**
 * A child's output, read to its end in the background (so nothing is lost after a kill), with
 * `until` to wait for some text to appear. (Breaking out of one branch of a `tee()` hangs in Bun.)
 */
export class Output {
  text = '';
  readonly ended: Promise<string>;
  #done = false;
  #changed = Promise.withResolvers<void>();

  constructor(stream: ReadableStream<Uint8Array>) {
    this.ended = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of stream) {
        this.text += decoder.decode(chunk, { stream: true });
        this.#notify();
      }
      this.#done = true;
      this.#notify();
      return this.text;
    })();
  }

  /** The output so far, once `done` holds for it or the stream has ended. */
  async until(done: (text: string) => boolean): Promise<string> {
    while (!done(this.text) && !this.#done) await this.#changed.promise;
    return this.text;
  }

  #notify(): void {
    this.#changed.resolve();
    this.#changed = Promise.withResolvers<void>();
  }
}
