// Where Refigure's own files are, whether running from a checkout, a bundle in dist/ or a test bundle in out/.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

let cached: string | undefined;

/** The folder holding Refigure's package.json and python/ worker. */
export function packageRoot(start: string = __dirname): string {
  if (cached) return cached;
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, 'python', 'refigure_worker.py')) && existsSync(join(dir, 'package.json'))) {
      cached = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`Refigure's python/ folder was not found above ${start}.`);
    dir = parent;
  }
}

export function pythonDir(): string {
  return join(packageRoot(), 'python');
}
