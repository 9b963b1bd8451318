/**
 * `npm run soak` in miniature: three seconds of the mixed load at 50 requests/s against a real
 * `weft serve` child. It proves the script runs end to end — the server starts, rows are printed,
 * every run is checked, the database is opened afterwards, the child and the files are cleaned up
 * — not how fast anything is (the long runs are the lead's, by hand).
 */
import { expect, test } from 'bun:test';
import { join } from 'node:path';

test('a three-second soak answers every request, checks every run and exits 0', async () => {
  const child = Bun.spawn([process.execPath, 'bench/soak.ts', '--seconds', '3', '--rate', '50', '--row-seconds', '1'], {
    cwd: join(import.meta.dir, '../..'),
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const [code, out] = await Promise.all([child.exited, new Response(child.stdout).text()]);
  expect({ code, out }).toMatchObject({ code: 0 });
  expect(out).toMatch(/^ +1 s \| \d+ req\/s \| f\.start /m);
  expect(out).toMatch(/runs started [1-9]\d* .* wrong 0, unchecked 0/);
  expect(out).toContain('database: integrity_check ok');
  expect(out).toContain('soak: ok');
  const dbPath = /db (\S+soak\.db)/.exec(out)?.[1];
  expect(dbPath).toBeDefined();
  expect(await Bun.file(dbPath!).exists()).toBe(false);
}, 60_000);
