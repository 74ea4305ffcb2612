// The checkout's one interpreter: setup records it, and the steps after it use that one even when a
// python3 without matplotlib comes first on PATH (a pyenv shim, a fresh venv).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliPath, repoRoot, scratch } from '../support/paths';

const recordFile = join(repoRoot, '.refigure-tools', 'python');
const recorded = existsSync(recordFile) ? readFileSync(recordFile, 'utf8').trim() : '';

function decoyPath(dir: string): string {
  // The same helper the VS Code test host uses: real interpreters that cannot import matplotlib.
  const script = `import('${join(repoRoot, 'scripts', 'python.mjs')}').then((m) => m.writePythonWithoutMatplotlib(process.argv[1]))`;
  const made = spawnSync(process.execPath, ['-e', script, dir], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  const probe = spawnSync(join(dir, 'python3'), ['-c', 'import matplotlib'], { encoding: 'utf8' });
  assert.notEqual(probe.status, 0, 'the decoy python3 must not import matplotlib');
  return `${dir}:${process.env.PATH ?? ''}`;
}

function envWithout(names: string[], extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const name of names) delete env[name];
  return env;
}

test('setup keeps the recorded interpreter when a python3 without matplotlib is first on PATH', { skip: !recorded && 'setup has not recorded an interpreter' }, () => {
  const tmp = scratch();
  try {
    const env = envWithout(['REFIGURE_PYTHON'], { PATH: decoyPath(tmp.dir) });
    const run = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'setup.mjs'), '--python-only'], { cwd: repoRoot, env, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, new RegExp(`Python: ${recorded.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(matplotlib \\d`));
    assert.equal(readFileSync(recordFile, 'utf8').trim(), recorded, 'the record is unchanged');
  } finally {
    tmp.dispose();
  }
});

test('the CLI in a checkout renders with the recorded interpreter, not the python3 first on PATH', { skip: !recorded && 'setup has not recorded an interpreter' }, () => {
  const tmp = scratch();
  try {
    const env = envWithout(['REFIGURE_PYTHON'], { PATH: decoyPath(join(tmp.dir, 'bin')) });
    const program = join(repoRoot, 'bench', 'corpus', '04_function_plot.py');
    const like = join(repoRoot, 'bench', 'corpus', '04_function_plot.png');
    const args = [join(repoRoot, 'scripts', 'run.mjs'), 'node', cliPath, 'render', program, '--like', like, '--out', tmp.dir, '--json', '--verbose'];
    const run = spawnSync(process.execPath, args, { cwd: repoRoot, env, encoding: 'utf8' });
    assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
    const result = JSON.parse(run.stdout) as { ok?: boolean; render?: { ok: boolean } };
    assert.equal(result.render?.ok ?? result.ok, true, run.stdout);
    assert.ok(run.stderr.includes(`Python: ${recorded}`), `the log names the interpreter used:\n${run.stderr}`);
  } finally {
    tmp.dispose();
  }
});
