/**
 * The documentation as a new user meets it, after `git clone` and `npm ci`: every file it points
 * to is in the repository, and every shell example can be pasted as it stands. `npm ci` installs
 * no `weft` on the `PATH`, so a shell line must call the CLI as `npx weft` or through `npm start`.
 */
import { expect, test } from 'bun:test';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = join(import.meta.dir, '../..');
const pages = ['README.md', ...readdirSync(join(root, 'docs')).map((name) => `docs/${name}`)].filter((page) =>
  page.endsWith('.md'),
);

/**
 * Relative targets of Markdown links, and relative `.md` paths written in backticks (a page named
 * like a link). Backticked code paths are left alone: they are often relative to a source folder.
 */
function relativeTargets(text: string): string[] {
  const links = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1]!);
  const quoted = [...text.matchAll(/`(\.\.?\/[^`\s]+\.md)`/g)].map((match) => match[1]!);
  return [...links, ...quoted]
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target) && !target.startsWith('#'))
    .map((target) => target.split('#')[0]!);
}

/** The command lines of the fenced `sh`/`bash` blocks, without comments and leading `VAR=value`s. */
function shellCommands(text: string): string[] {
  const blocks = [...text.matchAll(/```(?:sh|bash|shell)\n([^]*?)```/g)].map((match) => match[1]!);
  return blocks
    .flatMap((block) => block.split('\n'))
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter((line) => line !== '')
    .map((line) => line.replace(/^(?:[A-Z_][A-Z0-9_]*=\S*\s+)+/, ''));
}

test('every relative link and path in README.md and docs/ points to a file inside the repository', () => {
  const broken: string[] = [];
  for (const page of pages) {
    for (const target of relativeTargets(readFileSync(join(root, page), 'utf8'))) {
      const file = resolve(root, dirname(page), target);
      if (relative(root, file).startsWith('..') || !existsSync(file)) broken.push(`${page}: ${target}`);
    }
  }
  expect(broken).toEqual([]);
});

test('shell examples in README.md and docs/ run the CLI through npx or npm, never a bare weft', () => {
  const bare: string[] = [];
  for (const page of pages) {
    for (const command of shellCommands(readFileSync(join(root, page), 'utf8'))) {
      if (/^weft(\s|$)/.test(command)) bare.push(`${page}: ${command}`);
    }
  }
  expect(bare).toEqual([]);
});
