/**
 * The determinism rule, run through ESLint's own API the way a user's `eslint.config.js` runs it:
 * first with only the shipped `configs.recommended`, then with this repository's config.
 */
import { describe, expect, test } from 'bun:test';
import path from 'node:path';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import weft from './eslint.js';

const root = path.resolve(import.meta.dirname, '../..');

const fixture = `
import { randomUUID } from 'node:crypto';
import { workflow } from '@lostgradient/weft';

export const order = workflow({ name: 'order' })
  .activities({
    charge: async () => ({ at: Date.now(), id: crypto.randomUUID(), jitter: Math.random() }),
    wait: () => new Promise((resolve) => setTimeout(resolve, 10)),
  })
  .execute(async function* (ctx) {
    const started = Date.now();
    const id = crypto.randomUUID();
    const other = randomUUID();
    if (Math.random() < 0.5) yield* ctx.run('charge', undefined);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    ctx.onUpdate('stamp', () => new Date());
    const fine = [ctx.now(), ctx.random(), ctx.uuid(), new Date(ctx.now())];
    return { started, id, other, fine };
  });
`;

/** Line and message of each problem the rule reports. */
async function lint(eslint: ESLint, code: string, filePath: string) {
  const [result] = await eslint.lintText(code, { filePath });
  return result!.messages.map((message) => ({ line: message.line, rule: message.ruleId, message: message.message }));
}

describe('weft/deterministic-workflows', () => {
  test('is what @lostgradient/weft/eslint exports', async () => {
    const exported = await import('@lostgradient/weft/eslint');
    expect(exported.default).toBe(weft);
    expect(weft.configs.recommended.rules).toEqual({ 'weft/deterministic-workflows': 'error' });
  });

  const recommended = new ESLint({
    cwd: root,
    overrideConfigFile: true,
    overrideConfig: [
      { files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } },
      { files: ['**/*.ts'], ...weft.configs.recommended },
    ],
  });

  test('flags time, randomness and timers in a workflow body, each naming the ctx call to use, and nothing in activities', async () => {
    const problems = await lint(recommended, fixture, 'workflows.ts');
    expect(
      problems.map(({ line, message }) => [line, message.slice(0, message.indexOf(' in a workflow body'))]),
    ).toEqual([
      [11, 'Date.now()'],
      [12, 'crypto.randomUUID()'],
      [13, 'randomUUID()'],
      [14, 'Math.random()'],
      [15, 'setTimeout()'],
      [16, 'new Date()'],
    ]);
    expect(problems.every(({ rule }) => rule === 'weft/deterministic-workflows')).toBe(true);
    const messages = problems.map(({ message }) => message);
    expect(messages[0]).toContain('use ctx.now()');
    expect(messages[1]).toContain('use ctx.uuid()');
    expect(messages[2]).toContain('use ctx.uuid()');
    expect(messages[3]).toContain('use ctx.random()');
    expect(messages[4]).toContain('use yield* ctx.sleep(duration)');
    expect(messages[5]).toContain('use new Date(ctx.now())');
  });

  test('a local binding of the same name, or a call outside any workflow body, is not flagged', async () => {
    const code = `
      const Math = { random: () => 4 };
      const jitter = () => globalThis.Math.random();
      export const wf = workflow({ name: 'w' }).execute(async function* (ctx) {
        const setTimeout = (fn: () => void) => fn();
        setTimeout(() => Math.random());
        return jitter();
      });
      export const handler = { execute: async () => Date.now() };
    `;
    expect(await lint(recommended, code, 'local.ts')).toEqual([]);
  });

  test('{ everywhere: true } flags every call in the file, through globalThis too', async () => {
    const eslint = new ESLint({
      cwd: root,
      overrideConfigFile: true,
      overrideConfig: [
        { files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } },
        { files: ['**/*.ts'], ...weft.configs.recommended },
        { files: ['**/*.ts'], rules: { 'weft/deterministic-workflows': ['error', { everywhere: true }] } },
      ],
    });
    const problems = await lint(eslint, 'export const stamp = () => globalThis.Date.now();', 'helper.ts');
    expect(problems).toHaveLength(1);
    expect(problems[0]!.message).toStartWith('Date.now() in a workflow body');
  });

  test("this repository's config applies it to workflow bodies and to all of src/define", async () => {
    const eslint = new ESLint({ cwd: root, overrideConfigFile: path.join(root, 'eslint.config.js') });
    const body = await lint(eslint, fixture, path.join(root, 'examples/workflows.ts'));
    expect(body.filter(({ rule }) => rule === 'weft/deterministic-workflows').map(({ line }) => line)).toEqual([
      11, 12, 13, 14, 15, 16,
    ]);
    const define = await lint(
      eslint,
      'export const stamp = (): number => Date.now();\n',
      path.join(root, 'src/define/workflow.ts'),
    );
    expect(define.filter(({ rule }) => rule === 'weft/deterministic-workflows')).toHaveLength(1);
  }, 60_000);

  test('loads and reports under Node, where users run ESLint', async () => {
    const script = `
      import { ESLint } from 'eslint';
      import weft from '@lostgradient/weft/eslint';
      const eslint = new ESLint({ overrideConfigFile: true, overrideConfig: [{ files: ['**/*.js'], ...weft.configs.recommended }] });
      const [result] = await eslint.lintText(process.argv[1], { filePath: 'workflows.js' });
      console.log(JSON.stringify(result.messages.map((m) => [m.line, m.ruleId])));
    `;
    const code =
      "workflow({ name: 'w' })\n  .activities({ a: async () => Date.now() })\n  .execute(async function* () {\n    return Math.random();\n  });\n";
    const node = Bun.spawn(['node', '--input-type=module', '-e', script, code], {
      cwd: root,
      stdout: 'pipe',
      stderr: 'pipe',
    });
    const [exit, out, err] = await Promise.all([
      node.exited,
      new Response(node.stdout).text(),
      new Response(node.stderr).text(),
    ]);
    expect({ exit, err }).toEqual({ exit: 0, err: '' });
    expect(JSON.parse(out)).toEqual([[4, 'weft/deterministic-workflows']]);
  });
});
