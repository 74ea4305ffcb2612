// No module of the project imports itself back, directly or through others: not in the TypeScript sources
// (type-only imports count), not in the render worker's Python.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { importCircles, pythonGraph, typescriptGraph } from '../support/imports';
import { repoRoot, scratch } from '../support/paths';

test('the TypeScript sources (extension, CLI, core, webview) have no import circle', () => {
  const graph = typescriptGraph(['src', 'webview'].map((folder) => join(repoRoot, folder)));
  assert.ok(graph.size > 50, `only ${graph.size} modules found`);
  assert.ok([...graph.values()].some((targets) => targets.length > 0), 'no import was read');
  assert.deepEqual(importCircles(graph, repoRoot), []);
});

test('the render worker\'s Python modules have no import circle', () => {
  const graph = pythonGraph(join(repoRoot, 'python'));
  assert.ok(graph.get(join(repoRoot, 'python', 'refigure_worker.py'))?.length, 'the worker\'s imports were read');
  assert.deepEqual(importCircles(graph, repoRoot), []);
});

test('a circle through a type-only import, a re-export and a folder index is found', () => {
  const tree = scratch('refigure-imports-');
  try {
    mkdirSync(join(tree.dir, 'src', 'steps'), { recursive: true });
    writeFileSync(join(tree.dir, 'src', 'a.ts'), "import type { B } from './steps';\nexport type A = B;\n");
    writeFileSync(join(tree.dir, 'src', 'steps', 'index.ts'), "export { B } from './b';\n");
    writeFileSync(join(tree.dir, 'src', 'steps', 'b.ts'), "import {\n  type A,\n} from '../a';\nexport type B = A | 1;\n");
    writeFileSync(join(tree.dir, 'src', 'c.ts'), "import './a';\n");
    const circles = importCircles(typescriptGraph([join(tree.dir, 'src')]), tree.dir);
    assert.deepEqual(circles, [['src/a.ts', 'src/steps/b.ts', 'src/steps/index.ts']]);
    mkdirSync(join(tree.dir, 'py'));
    writeFileSync(join(tree.dir, 'py', 'one.py'), 'import two\n');
    writeFileSync(join(tree.dir, 'py', 'two.py'), 'def f():\n    from one import g\n');
    assert.deepEqual(importCircles(pythonGraph(join(tree.dir, 'py')), tree.dir), [['py/one.py', 'py/two.py']]);
  } finally {
    tree.dispose();
  }
});

test('the README\'s layout names every source folder there is, and no folder that is gone', () => {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const block = /Layout \(no module imports itself back[\s\S]*?```text\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(block, 'the README has its layout block');
  const folders = (parent: string) => readdirSync(join(repoRoot, parent), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  const expected = [...folders('src').map((f) => `src/${f}/`), ...folders('src/core').map((f) => `${f}/`)].sort();
  const named = [...block.matchAll(/^(?:src\/[a-z]+\/|  [a-z]+\/)/gm)].map((m) => m[0].trim()).sort();
  assert.deepEqual(named, expected);
});
