// One idempotent set-up step before `npm run demo` and `npm test`: npm packages, and a Python
// with matplotlib, numpy and Pillow. With --tests, also what the test suites need.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

const forTests = process.argv.includes('--tests');
const root = process.cwd();
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
if (!existsSync(marker) || statSync(marker).mtimeMs < newest) {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  if (!run(npm, ['install', '--no-audit', '--no-fund'])) {
    say('npm install failed; see above.');
    process.exit(1);
  }
}

// 2. A Python that can import matplotlib, numpy and Pillow (the same order the renderer uses).
const need = forTests ? ['matplotlib', 'numpy', 'PIL', 'nbformat'] : ['matplotlib', 'numpy', 'PIL'];
const candidates = [process.env.REFIGURE_PYTHON, 'python3', 'python', '/usr/bin/python3', '/usr/local/bin/python3'].filter(Boolean);

function works(python, modules = need) {
  // -I as the renderer runs it: packages in the user's site folder are not seen there.
  const probe = spawnSync(python, ['-I', '-c', `import ${modules.join(', ')}`], { stdio: 'ignore', timeout: 60_000 });
  return probe.status === 0;
}

function findPython() {
  return candidates.find((python) => works(python));
}

if (!findPython()) {
  const pipPackages = ['matplotlib', 'numpy', 'pillow', ...(forTests ? ['nbformat'] : [])];
  const withPip = candidates.find((python) => works(python, ['pip']));
  let ok = false;
  if (withPip) {
    ok = run(withPip, ['-m', 'pip', 'install', '--timeout', '15', '--retries', '0', ...pipPackages]) && Boolean(findPython());
  }
  if (!ok && hasApt && isRoot) {
    ok = aptInstall(['python3-matplotlib', 'python3-numpy', 'python3-pil', ...(forTests ? ['python3-nbformat'] : [])]) && Boolean(findPython());
  }
  if (!ok) {
    const command = hasApt
      ? `sudo apt-get install python3-matplotlib python3-numpy python3-pil${forTests ? ' python3-nbformat' : ''}`
      : `python3 -m pip install ${pipPackages.join(' ')}`;
    say(`no Python with ${need.join(', ')} was found (tried ${candidates.join(', ')}). Run:\n  ${command}\nthen run this again (or set REFIGURE_PYTHON to such an interpreter).`);
    process.exit(1);
  }
}
say(`Python: ${findPython()}`);

// 3. For the tests: the sandbox (bubblewrap), a browser, headers code-server needs, and the VS Code test host.
if (forTests && process.platform === 'linux') {
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
