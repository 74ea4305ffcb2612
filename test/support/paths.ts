// Paths the tests share: the repository, the shared fixtures beside it, a scratch folder per test file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(process.cwd());
export const sharedFixtures = resolve(repoRoot, '..', 'shared', 'fixtures');
export const stemFixtures = join(sharedFixtures, 'stem');
export const chartFixtures = join(sharedFixtures, 'charts');
export const cliPath = join(repoRoot, 'dist', 'cli.js');

/** A fresh temporary folder, removed by the returned function. */
export function scratch(prefix = 'refigure-test-'): { dir: string; dispose: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}
