// The workspace the integration tests open: a fresh folder with one real STEM figure and a Markdown file that shows it.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { repoRoot } from './install.mjs';
import { recordedPython } from '../../scripts/python.mjs';

export const sharedFixtures = resolve(repoRoot, '..', 'shared', 'fixtures');
/** The VS Code-style executable that runs tests on the code-server host. */
export const codeExecutable = join(repoRoot, 'test', 'host', 'code');

/**
 * A fresh workspace holding one real figure (and a Markdown file that shows it). `fixture` is `stem/<name>.png` or
 * `charts/<name>.png` from the shared fixtures (REFIGURE_TEST_FIXTURE); by default the first STEM figure.
 */
export function prepareWorkspace(fixture = process.env.REFIGURE_TEST_FIXTURE) {
  const [set, wanted] = fixture ? fixture.split('/', 2) : ['stem', undefined];
  const sourceDir = join(sharedFixtures, set);
  if (!existsSync(sourceDir)) throw new Error(`The shared fixtures are missing: ${sourceDir} (they sit beside the checkout, in ../shared/fixtures).`);
  const chosen = wanted ?? readdirSync(sourceDir).filter((f) => f.endsWith('.png')).sort()[0];
  if (!chosen || !existsSync(join(sourceDir, chosen))) throw new Error(`No figure ${fixture ?? `*.png in ${sourceDir}`}; use stem/<name>.png or charts/<name>.png.`);
  const dir = mkdtempSync(join(tmpdir(), 'refigure-ws-'));
  mkdirSync(join(dir, 'figures'));
  const image = join('figures', chosen);
  copyFileSync(join(sourceDir, chosen), join(dir, image));
  writeFileSync(join(dir, 'notes.md'), `# Notes\n\n![a figure](${image})\n`);
  // The interpreter setup recorded, as a user would pick it for this workspace.
  const python = recordedPython();
  if (python) {
    mkdirSync(join(dir, '.vscode'));
    writeFileSync(join(dir, '.vscode', 'settings.json'), JSON.stringify({ 'refigure.pythonPath': python }, null, 2));
  }
  return { dir, image, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}
