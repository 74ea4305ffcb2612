// Compatibility shims (python/refigure_compat.py): each old-API program fails plainly where the installed
// matplotlib or NumPy lacks that API, and renders through the shims with exactly that shim reported.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../support/paths';

const python = process.env.REFIGURE_PYTHON || join(repoRoot, '.refigure-tools', 'venv', 'bin', 'python');
const programs = join(repoRoot, 'test', 'compat');
const runner = join(programs, 'run.py');

type Library = 'matplotlib' | 'numpy';

interface ShimCase {
  /** The shim's id, and the name of its program in test/compat. */
  id: string;
  library: Library;
  /** The first release in which the program fails without the shim. */
  failsFrom: string;
  /** The exception the program then ends with. */
  error: string;
}

const cases: readonly ShimCase[] = [
  { id: 'boxplot-labels', library: 'matplotlib', failsFrom: '3.11', error: 'TypeError' },
  { id: 'cm-get_cmap', library: 'matplotlib', failsFrom: '3.11', error: 'AttributeError' },
  { id: 'cm-register_cmap', library: 'matplotlib', failsFrom: '3.9', error: 'AttributeError' },
  { id: 'colorbar-no-axes', library: 'matplotlib', failsFrom: '3.8', error: 'ValueError' },
  { id: 'style-seaborn', library: 'matplotlib', failsFrom: '3.8', error: 'OSError' },
  { id: 'grid-b', library: 'matplotlib', failsFrom: '3.7', error: 'ValueError' },
  { id: 'hist-normed', library: 'matplotlib', failsFrom: '3.1', error: 'AttributeError' },
  { id: 'line-set_data-scalars', library: 'matplotlib', failsFrom: '3.9', error: 'RuntimeError' },
  { id: 'tick-label', library: 'matplotlib', failsFrom: '3.8', error: 'AttributeError' },
  { id: 'gca-projection', library: 'matplotlib', failsFrom: '3.6', error: 'TypeError' },
  { id: 'canvas-window_title', library: 'matplotlib', failsFrom: '3.6', error: 'AttributeError' },
  { id: 'plot_date', library: 'matplotlib', failsFrom: '3.11', error: 'AttributeError' },
  // Before 3.6 Axes3D(fig) added itself; since, the figure renders blank, which the program asserts against.
  { id: 'axes3d-auto-add', library: 'matplotlib', failsFrom: '3.6', error: 'AssertionError' },
  { id: 'axes3d-w_axis', library: 'matplotlib', failsFrom: '3.8', error: 'AttributeError' },
  { id: 'numpy-aliases', library: 'numpy', failsFrom: '1.24', error: 'AttributeError' },
  { id: 'numpy2-names', library: 'numpy', failsFrom: '2.0', error: 'AttributeError' },
  // NumPy 1.25-2.3 only warn about it; no warnings filter turns that into a failure here.
  { id: 'numpy-scalar-conversion', library: 'numpy', failsFrom: '2.4', error: 'TypeError' },
];

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface ProgramReport {
  program: string;
  ok: boolean;
  error: { type: string; message: string; traceback: string } | null;
  applied: string[];
}

interface RunReport {
  ok: boolean;
  error: { type: string; message: string; traceback: string } | null;
  applied: string[];
  messages: string[];
  installed: string[];
  reinstalled: string[] | null;
}

function run(args: readonly string[]): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, ['-I', ...args], {
      cwd: programs,
      env: { ...process.env, MPLBACKEND: 'Agg', PYTHONIOENCODING: 'utf-8' },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 120_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The program as the plain harness runs it: `python -I program.py`. */
function runPlain(program: string): Promise<Outcome> {
  return run([join(programs, program)]);
}

/** The program as the render child runs it: shims installed first, the figure saved. */
async function runShimmed(program: string, ...flags: string[]): Promise<RunReport> {
  const outcome = await run([runner, join(programs, program), ...flags]);
  assert.equal(outcome.code, 0, `the runner itself failed:\n${outcome.stderr}`);
  return JSON.parse(outcome.stdout) as RunReport;
}

/** The exception type a Python traceback on stderr ends with. */
function raised(stderr: string): string | undefined {
  const lines = stderr.trimEnd().split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const match = /^([A-Za-z_][\w.]*)(?::|$)/.exec(lines[i] ?? '');
    if (match && /(Error|Exception)$/.test(match[1] ?? '')) return match[1]?.split('.').pop();
  }
  return undefined;
}

function release(version: string): number[] {
  return version.split('.').map((part) => Number.parseInt(part, 10) || 0);
}

function atLeast(installed: string, wanted: string): boolean {
  const [a, b] = [release(installed), release(wanted)];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const [x, y] = [a[i] ?? 0, b[i] ?? 0];
    if (x !== y) return x > y;
  }
  return true;
}

function describeShimmed(report: RunReport | ProgramReport): string {
  return report.error ? `${report.error.type}: ${report.error.message}\n${report.error.traceback}` : 'no error';
}

const probe = spawnSync(python, ['-I', runner, '--versions'], { cwd: programs, encoding: 'utf8', env: { ...process.env, MPLBACKEND: 'Agg' } });
const versions = probe.status === 0 ? (JSON.parse(probe.stdout) as Record<Library, string>) : undefined;

describe('compatibility shims', { concurrency: 2 }, () => {
  test('the interpreter runs the compatibility runner', () => {
    assert.ok(versions, `${python} cannot run test/compat/run.py (set REFIGURE_PYTHON): ${probe.error?.message ?? probe.stderr}`);
  });
  if (!versions) return;

  for (const shim of cases) {
    const installed = versions[shim.library];
    const lacks = atLeast(installed, shim.failsFrom);
    const situation = lacks
      ? `${shim.library} ${installed} lacks the old API (gone in ${shim.failsFrom}): fails plainly with ${shim.error}, renders with the shim`
      : `${shim.library} ${installed} still has the old API (gone in ${shim.failsFrom}): runs plainly, and the shim stays silent`;
    test(`${shim.id}: ${situation}`, async () => {
      const program = `${shim.id}.py`;
      const plain = await runPlain(program);
      if (lacks) {
        assert.notEqual(plain.code, 0, `${program} ran plainly, yet ${shim.library} ${installed} should lack the API`);
        assert.equal(raised(plain.stderr), shim.error, plain.stderr);
      } else {
        assert.equal(plain.code, 0, plain.stderr);
      }
      const report = await runShimmed(program);
      assert.ok(report.ok, describeShimmed(report));
      assert.deepEqual(report.applied, lacks ? [shim.id] : []);
      assert.equal(report.messages.length, report.applied.length, 'one log line per shim that fired');
      for (const message of report.messages) assert.doesNotMatch(message, /\n/, 'a log line is one line');
    });
  }

  test('code written against current APIs fires no shim, and float/int/isinstance/dtype behave as usual', async () => {
    const plain = await runPlain('current.py');
    assert.equal(plain.code, 0, plain.stderr);
    const report = await runShimmed('current.py');
    assert.ok(report.ok, describeShimmed(report));
    assert.deepEqual(report.applied, []);
    assert.deepEqual(report.messages, []);
  });

  test('installing twice patches nothing again and reports a shim once', async () => {
    const report = await runShimmed('boxplot-labels.py', '--twice');
    assert.ok(report.ok, describeShimmed(report));
    assert.ok(report.installed.includes('boxplot-labels'), `installed: ${report.installed.join(', ')}`);
    assert.deepEqual(report.reinstalled, []);
    const fires = atLeast(versions.matplotlib, '3.11');
    assert.deepEqual(report.applied, fires ? ['boxplot-labels'] : []);
    assert.equal(report.messages.length, fires ? 1 : 0);
  });

  test('switched off (a raw run), the installed shims leave every program failing as it does plainly', async () => {
    const outcome = await run([runner, ...cases.map((shim) => join(programs, `${shim.id}.py`)), join(programs, 'current.py'), '--disabled']);
    assert.equal(outcome.code, 0, `the runner itself failed:\n${outcome.stderr}`);
    const reports = JSON.parse(outcome.stdout) as ProgramReport[];
    for (const shim of cases) {
      const report = reports.find((r) => r.program === `${shim.id}.py`);
      assert.ok(report, `no report for ${shim.id}`);
      const lacks = atLeast(versions[shim.library], shim.failsFrom);
      assert.equal(report.ok, !lacks, `${shim.id}: ${describeShimmed(report)}`);
      if (lacks) assert.equal(report.error?.type, shim.error, `${shim.id}: ${describeShimmed(report)}`);
      assert.deepEqual(report.applied, [], `${shim.id} fired while switched off`);
    }
    const control = reports.find((r) => r.program === 'current.py');
    assert.ok(control?.ok, control ? describeShimmed(control) : 'no report for current.py');
  });

  test('every shim has its program, and every program is a tested shim or the current-API control', () => {
    const files = readdirSync(programs).filter((name) => name.endsWith('.py') && name !== 'run.py' && name !== 'current.py');
    assert.deepEqual(files.map((name) => name.slice(0, -3)).sort(), cases.map((shim) => shim.id).sort());
  });
});
