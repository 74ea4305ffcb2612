// One idempotent set-up step before `npm run demo` and `npm test`: npm packages, and a Python
// with matplotlib, numpy and Pillow. With --tests, also what the test suites need.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { recordedPython, recordFile, recordPython, repoRoot } from './python.mjs';

const forTests = process.argv.includes('--tests');
// --python-only: just choose and record the interpreter (the tests check that choice).
const pythonOnly = process.argv.includes('--python-only');
const root = repoRoot;
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const hasApt = spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
let aptUpdated = false;

function say(text) {
  process.stderr.write(`setup: ${text}\n`);
}

function run(command, args, options = {}) {
  say(`${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  return result.status === 0;
}

function aptInstall(packages) {
  if (!aptUpdated) {
    run('apt-get', ['update', '-qq']);
    aptUpdated = true;
  }
  return run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

// 1. npm packages: install when node_modules is missing or older than package.json / the lock file.
const marker = join(root, 'node_modules', '.package-lock.json');
const newest = Math.max(...['package.json', 'package-lock.json'].filter((f) => existsSync(f)).map((f) => statSync(f).mtimeMs));
if (!pythonOnly && (!existsSync(marker) || statSync(marker).mtimeMs < newest)) {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  if (!run(npm, ['install', '--no-audit', '--no-fund'])) {
    say('npm install failed; see above.');
    process.exit(1);
  }
}

// 2. One Python with matplotlib, numpy and Pillow, chosen once and recorded (scripts/python.mjs): every
//    later step (the CLI in a checkout, the bench, the tests, the VS Code test host) uses that one.
//    Order: REFIGURE_PYTHON; the recorded one while it still works; the first interpreter discovery
//    would find that already has everything; else a project venv in .refigure-tools/venv with the newest
//    packages from pip (the user's own interpreters stay untouched, and a pyenv shim switching versions
//    cannot change what the tests use); else Debian's packages as root.
const need = forTests ? ['matplotlib', 'numpy', 'PIL', 'nbformat'] : ['matplotlib', 'numpy', 'PIL'];
const pipPackages = ['matplotlib', 'numpy', 'pillow', ...(forTests ? ['nbformat'] : [])];
const candidates = ['python3', 'python', '/usr/bin/python3', '/usr/local/bin/python3'];
const venvDir = join(root, '.refigure-tools', 'venv');
const venvPython = join(venvDir, process.platform === 'win32' ? 'Scripts/python.exe' : 'bin/python');

/** The interpreter's own executable when it imports `modules` under -I (as the renderer runs it), else undefined. */
function usable(python, modules = need) {
  const probe = spawnSync(python, ['-I', '-c', `import sys, ${modules.join(', ')}; print(sys.executable)`], { encoding: 'utf8', timeout: 60_000 });
  return probe.status === 0 ? probe.stdout.trim() || python : undefined;
}

function choosePython() {
  if (process.env.REFIGURE_PYTHON) {
    const chosen = usable(process.env.REFIGURE_PYTHON);
    if (!chosen) {
      say(`REFIGURE_PYTHON=${process.env.REFIGURE_PYTHON} cannot import ${need.join(', ')}. Install them into it, or unset REFIGURE_PYTHON.`);
      process.exit(1);
    }
    return chosen;
  }
  const recorded = recordedPython();
  if (recorded && usable(recorded)) return recorded;
  if (existsSync(venvPython)) {
    // A venv of ours that lacks a package (nbformat, for the tests) is completed rather than replaced.
    if (usable(venvPython) || pipInstall(venvPython)) return usable(venvPython);
  }
  for (const python of candidates) {
    const found = usable(python);
    if (found) return found;
  }
  const base = candidates.find((python) => usable(python, ['venv', 'ensurepip']));
  if (base) {
    if (run(base, ['-m', 'venv', venvDir]) && pipInstall(venvPython)) {
      const found = usable(venvPython);
      if (found) return found;
    }
    rmSync(venvDir, { recursive: true, force: true });
  }
  if (hasApt && isRoot && aptInstall(['python3-matplotlib', 'python3-numpy', 'python3-pil', ...(forTests ? ['python3-nbformat'] : [])])) {
    const found = usable('/usr/bin/python3');
    if (found) return found;
  }
  const command = hasApt
    ? `sudo apt-get install python3-matplotlib python3-numpy python3-pil${forTests ? ' python3-nbformat' : ''}`
    : `python3 -m pip install ${pipPackages.join(' ')}`;
  say(`no Python with ${need.join(', ')} was found (tried ${candidates.join(', ')}, and a venv with pip). Run:\n  ${command}\nthen run this again (or set REFIGURE_PYTHON to such an interpreter).`);
  process.exit(1);
}

function pipInstall(python) {
  return run(python, ['-m', 'pip', 'install', '--disable-pip-version-check', '--timeout', '15', '--retries', '0', ...pipPackages]);
}

const python = choosePython();
if (python !== recordedPython()) recordPython(python);
const versions = spawnSync(python, ['-I', '-c', 'import matplotlib, numpy; print(matplotlib.__version__, numpy.__version__)'], { encoding: 'utf8' }).stdout.trim().split(' ');
say(`Python: ${python} (matplotlib ${versions[0]}, NumPy ${versions[1]}), recorded in ${relative(root, recordFile)}`);

// 3. For the tests: the sandbox (bubblewrap), a browser, headers code-server needs, and the VS Code test host.
if (forTests && !pythonOnly && process.platform === 'linux') {
  const missing = [];
  if (spawnSync('bwrap', ['--version'], { stdio: 'ignore' }).status !== 0) missing.push('bubblewrap');
  if (!existsSync('/usr/bin/chromium')) missing.push('chromium');
  if (!existsSync('/usr/include/gssapi/gssapi.h')) missing.push('libkrb5-dev');
  if (missing.length) {
    if (hasApt && isRoot) aptInstall(missing);
    else say(`the tests need Debian packages ${missing.join(', ')}: sudo apt-get install ${missing.join(' ')}`);
  }
  if (existsSync(join(root, 'test', 'host', 'install.mjs'))) {
    execFileSync(process.execPath, [join(root, 'test', 'host', 'install.mjs')], { stdio: 'inherit' });
  }
}
