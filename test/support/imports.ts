// The import graph of the project's own modules (TypeScript and Python), and the circles in it.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

export type ImportGraph = Map<string, string[]>;

function filesUnder(root: string, pattern: RegExp): string[] {
  const found: string[] = [];
  for (const name of readdirSync(root)) {
    const path = join(root, name);
    if (statSync(path).isDirectory()) found.push(...filesUnder(path, pattern));
    else if (pattern.test(name)) found.push(resolve(path));
  }
  return found;
}

/** Relative imports and re-exports of every .ts file under the roots, type-only ones included. */
export function typescriptGraph(roots: readonly string[]): ImportGraph {
  const graph: ImportGraph = new Map();
  for (const file of roots.flatMap((root) => filesUnder(root, /\.ts$/))) {
    const text = readFileSync(file, 'utf8');
    const targets: string[] = [];
    for (const match of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;'"]*?\bfrom\s*['"](\.{1,2}\/[^'"]+)['"]|(?:^|\n)\s*import\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
      const base = resolve(dirname(file), match[1] ?? match[2]);
      const target = [`${base}.ts`, join(base, 'index.ts'), base].find((candidate) => existsSync(candidate) && statSync(candidate).isFile());
      if (target) targets.push(target);
    }
    graph.set(file, targets);
  }
  return graph;
}

/** `import x` / `from x import` of sibling modules in one flat Python folder. */
export function pythonGraph(root: string): ImportGraph {
  const graph: ImportGraph = new Map();
  const modules = new Map(filesUnder(root, /\.py$/).map((file) => [file.slice(file.lastIndexOf('/') + 1, -3), file]));
  for (const file of modules.values()) {
    const text = readFileSync(file, 'utf8');
    const targets = [...text.matchAll(/^\s*(?:import|from)\s+([A-Za-z_][A-Za-z0-9_]*)/gm)].map((m) => modules.get(m[1])).filter((t): t is string => t !== undefined && t !== file);
    graph.set(file, targets);
  }
  return graph;
}

/** The strongly connected groups of more than one module (and modules importing themselves), as paths relative to `base`. */
export function importCircles(graph: ImportGraph, base: string): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  const visit = (node: string) => {
    index.set(node, counter);
    low.set(node, counter);
    counter++;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, index.get(next)!));
    }
    if (low.get(node) !== index.get(node)) return;
    const group: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      group.push(member);
    } while (member !== node);
    if (group.length > 1 || (graph.get(node) ?? []).includes(node)) circles.push(group.map((p) => relative(base, p)).sort());
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return circles;
}
