// The one Python interpreter a checkout uses: chosen once by scripts/setup.mjs and recorded in
// .refigure-tools/python, so the CLI in a checkout, the bench, the tests and the VS Code test host
// all render with the interpreter that setup installed matplotlib into.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const recordFile = join(repoRoot, '.refigure-tools', 'python');

/** The interpreter setup chose, or undefined when setup has not run (or it has gone since). */
export function recordedPython() {
  try {
    const path = readFileSync(recordFile, 'utf8').trim();
    return path && existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

export function recordPython(path) {
  mkdirSync(dirname(recordFile), { recursive: true });
  writeFileSync(recordFile, `${path}\n`);
}

/** `env` with REFIGURE_PYTHON set to the recorded interpreter, unless the caller chose one already. */
export function withRecordedPython(env = process.env) {
  if (env.REFIGURE_PYTHON) return env;
  const python = recordedPython();
  return python ? { ...env, REFIGURE_PYTHON: python } : env;
}

/**
 * Writes `python3` and `python` into `dir`: real interpreters that cannot import matplotlib (no site
 * folders), for tests that put one first on PATH to prove the recorded interpreter is the one used.
 */
export function writePythonWithoutMatplotlib(dir, base = recordedPython() ?? 'python3') {
  mkdirSync(dir, { recursive: true });
  for (const name of ['python3', 'python']) {
    writeFileSync(join(dir, name), `#!/bin/sh\nexec '${base.replace(/'/g, `'\\''`)}' -S "$@"\n`, { mode: 0o755 });
  }
  return dir;
}
