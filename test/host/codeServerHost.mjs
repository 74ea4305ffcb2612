// Runs a real VS Code (code-server's server + web workbench in headless Chromium) for integration and end-to-end tests.
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { format } from 'node:util';
import { setTimeout as delay } from 'node:timers/promises';
import { ensureCodeServer, defaultVersion, repoRoot } from './install.mjs';
import { launchChromium } from '../support/chromium.mjs';
import { recordedPython, writePythonWithoutMatplotlib } from '../../scripts/python.mjs';

export { repoRoot, defaultVersion };
export const resultsDir = join(repoRoot, 'test-results');


/** Settings every test profile starts with: nothing pops up over the workbench that the tests did not ask for. */
const baseSettings = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'git.enabled': false,
  'chat.disableAIFeatures': true,
  'security.workspace.trust.startupPrompt': 'never',
};

function hostLog(message) {
  process.stdout.write(`[refigure-host] ${message}\n`);
}

/** Every server this process started (process group → scratch folder), so an exit from any path can still clean up. */
const liveGroups = new Map();

function killAllNow() {
  for (const [pid, scratchRoot] of liveGroups) {
    killGroup(pid, 'SIGKILL');
    rmSync(scratchRoot, { recursive: true, force: true });
  }
  liveGroups.clear();
}
let exitHooked = false;
function hookExit() {
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', killAllNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(signal, () => {
      killAllNow();
      process.exit(128 + ({ SIGINT: 2, SIGTERM: 15, SIGHUP: 1 }[signal] ?? 0));
    });
  }
}

/**
 * A tiny detached watcher that kills a process group once this process is gone, however it went (SIGKILL included),
 * and exits by itself when the group ends first.
 */
const reaperSource = `
const [parent, group] = process.argv.slice(1, 3).map(Number);
const scratch = process.argv[3];
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };
setInterval(() => {
  if (!alive(-group)) process.exit(0);
  if (!alive(parent)) {
    try { process.kill(-group, 'SIGKILL'); } catch {}
    if (scratch) setTimeout(() => { require('node:fs').rmSync(scratch, { recursive: true, force: true }); process.exit(0); }, 1000);
    else process.exit(0);
  }
}, 500);`;

/** `scratch`, when given, is removed too if this process could not remove it itself. */
function watchGroup(pgid, scratch) {
  const args = ['-e', reaperSource, String(process.pid), String(pgid), ...(scratch ? [scratch] : [])];
  const reaper = spawn(process.execPath, args, { detached: true, stdio: 'ignore' });
  reaper.unref();
}

/** Chromium is started by Playwright in its own process group; find it among this process's children (Linux /proc). */
function chromiumChildren() {
  const found = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === process.pid && /chrom/i.test(stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')))) found.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

function groupAlive(pid) {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A scratch HOME with XDG folders, so neither code-server nor Chromium writes into the real home. */
function makeScratch() {
  const root = mkdtempSync(join(tmpdir(), 'refigure-vscode-'));
  const dirs = { root, home: join(root, 'home'), tmp: join(root, 'tmp'), config: join(root, 'xdg-config'), data: join(root, 'xdg-data'), cache: join(root, 'xdg-cache') };
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
  return dirs;
}

function scratchEnv(scratch) {
  return {
    HOME: scratch.home,
    TMPDIR: scratch.tmp,
    XDG_CONFIG_HOME: scratch.config,
    XDG_DATA_HOME: scratch.data,
    XDG_CACHE_HOME: scratch.cache,
  };
}

/**
 * Starts code-server on a free port with a fresh profile. `extensionsDir` may be given to use extensions installed
 * earlier (the packaged-vsix path); `trust: true` keeps workspace trust on, for tests of untrusted behaviour.
 */
export async function startCodeServer(options = {}) {
  const version = options.version ?? process.env.REFIGURE_VSCODE_VERSION ?? defaultVersion;
  const installed = ensureCodeServer(version);
  hookExit();
  const scratch = makeScratch();
  const userDataDir = join(scratch.root, 'user-data');
  const extensionsDir = options.extensionsDir ? resolve(options.extensionsDir) : join(scratch.root, 'extensions');
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  // The interpreter setup recorded renders; a python3 without matplotlib first on PATH proves it is that one.
  const python = recordedPython();
  const settings = { ...baseSettings, ...(python ? { 'refigure.pythonPath': python } : {}), ...options.settings };
  writeFileSync(join(userDataDir, 'User', 'settings.json'), JSON.stringify(settings, null, 2));
  // In a remote window (code-server is one) machine-scoped settings come from the machine's own file.
  mkdirSync(join(userDataDir, 'Machine'), { recursive: true });
  writeFileSync(join(userDataDir, 'Machine', 'settings.json'), JSON.stringify(python ? { 'refigure.pythonPath': python } : {}, null, 2));
  const configFile = join(scratch.root, 'config.yaml');
  writeFileSync(configFile, 'auth: none\n');

  const args = [
    installed.entry,
    '--bind-addr', '127.0.0.1:0',
    '--auth', 'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    '--user-data-dir', userDataDir,
    '--extensions-dir', extensionsDir,
    '--config', configFile,
  ];
  if (installed.smokeTestDriverOption) args.push('--vscode-option', 'enable-smoke-test-driver');
  if (!options.trust) args.push('--disable-workspace-trust');
  const decoyBin = writePythonWithoutMatplotlib(join(scratch.root, 'decoy-bin'));
  const env = { ...process.env, ...scratchEnv(scratch), PATH: `${decoyBin}:${process.env.PATH ?? ''}`, ...options.env };
  delete env.REFIGURE_PYTHON;
  // The extension host must not pick up an inspector or a debugger from the process that runs the tests.
  delete env.NODE_OPTIONS;
  delete env.ELECTRON_RUN_AS_NODE;
  delete env.VSCODE_IPC_HOOK_CLI;

  const logFile = join(scratch.root, 'code-server.log');
  const logStream = createWriteStream(logFile);
  const child = spawn(installed.node, args, { cwd: scratch.home, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  liveGroups.set(child.pid, scratch.root);
  watchGroup(child.pid, scratch.root);
  child.stdout.pipe(logStream, { end: false });
  child.stderr.pipe(logStream, { end: false });

  const server = {
    version: installed.vscode,
    codeServerVersion: installed.codeServer,
    pid: child.pid,
    port: 0,
    origin: '',
    scratch: scratch.root,
    userDataDir,
    extensionsDir,
    logFile,
    stop: async () => {
      await stopGroup(child.pid);
      liveGroups.delete(child.pid);
      logStream.end();
      if (!options.keepScratch) rmSync(scratch.root, { recursive: true, force: true });
    },
  };

  try {
    server.port = await waitForPort(child, options.startTimeoutMs ?? 60_000);
    server.origin = `http://127.0.0.1:${server.port}`;
    await waitForHealth(server.origin, child, options.startTimeoutMs ?? 60_000);
  } catch (error) {
    const log = safeRead(logFile);
    await server.stop();
    throw new Error(`code-server ${installed.codeServer} did not start: ${error.message}\n--- code-server log ---\n${log.slice(-4000)}`);
  }
  return server;
}

function safeRead(file) {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** code-server picks the port itself (bind to :0) and logs it, which avoids racing another process for a "free" port. */
function waitForPort(child, timeoutMs) {
  return new Promise((resolvePort, reject) => {
    let buffered = '';
    const timer = setTimeout(() => finish(new Error(`no "HTTP server listening" line within ${timeoutMs / 1000} s`)), timeoutMs);
    const onData = (chunk) => {
      buffered += chunk.toString();
      const match = /HTTP server listening on https?:\/\/127\.0\.0\.1:(\d+)/.exec(buffered);
      if (match) finish(undefined, Number(match[1]));
    };
    const onExit = (code, signal) => finish(new Error(`it exited early (${code ?? signal})`));
    function finish(error, port) {
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.stderr.off('data', onData);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolvePort(port);
    }
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', onExit);
  });
}

async function waitForHealth(origin, child, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`it exited (${child.exitCode})`);
    try {
      const response = await fetch(`${origin}/healthz`);
      if (response.ok) return;
    } catch {
      // not answering yet
    }
    await delay(200);
  }
  throw new Error(`${origin}/healthz did not answer within ${timeoutMs / 1000} s`);
}

async function stopGroup(pid) {
  if (!groupAlive(pid)) return;
  killGroup(pid, 'SIGTERM');
  for (let i = 0; i < 25 && groupAlive(pid); i++) await delay(200);
  if (groupAlive(pid)) killGroup(pid, 'SIGKILL');
  for (let i = 0; i < 25 && groupAlive(pid); i++) await delay(100);
}

/** The workbench URL for a folder, with extension development and test paths passed the way the web workbench takes them. */
export function workbenchUrl(server, { folder, extensionDevelopmentPath, extensionTestsPath } = {}) {
  const url = new URL(`${server.origin}/`);
  if (folder) url.searchParams.set('folder', resolve(folder));
  const payload = [];
  const remote = (p) => `vscode-remote://127.0.0.1:${server.port}${resolve(p)}`;
  if (extensionDevelopmentPath) payload.push(['extensionDevelopmentPath', remote(extensionDevelopmentPath)]);
  if (extensionTestsPath) payload.push(['extensionTestsPath', remote(extensionTestsPath)]);
  if (payload.length) url.searchParams.set('payload', JSON.stringify(payload));
  return url.toString();
}

/**
 * Opens the workbench in headless Chromium. `onAutomationLog` / `onAutomationExit` receive what the workbench
 * reports through `codeAutomationLog` / `codeAutomationExit` when it runs extension tests.
 */
export async function openWorkbench(server, options = {}) {
  const before = new Set(chromiumChildren());
  const browser = await launchChromium();
  for (const pid of chromiumChildren()) if (!before.has(pid)) watchGroup(pid);
  try {
    const context = await browser.newContext({ viewport: options.viewport ?? { width: 1400, height: 900 } });
    const page = await context.newPage();
    await page.exposeFunction('codeAutomationLog', (type, args) => (options.onAutomationLog ?? printAutomationLog)(type, args));
    await page.exposeFunction('codeAutomationExit', (code) => options.onAutomationExit?.(code));
    if (options.onConsole) page.on('console', (message) => options.onConsole(message));
    page.on('pageerror', (error) => options.onPageError?.(error));
    await page.goto(workbenchUrl(server, options), { waitUntil: 'domcontentloaded' });
    await page.locator('.monaco-workbench').waitFor({ timeout: options.readyTimeoutMs ?? 60_000 });
    return { browser, context, page, close: () => browser.close().catch(() => undefined) };
  } catch (error) {
    await browser.close().catch(() => undefined);
    throw error;
  }
}

const offlineNoise = new Set();

/** Prints the workbench's log the way the extension host wrote it (console arguments are printf-style). */
function printAutomationLog(type, args) {
  let text = format(...(Array.isArray(args) ? args : [args]));
  // Without internet the marketplace lookups fail on every start; one line per host says so, not a stack each time.
  const offline = /getaddrinfo (ENOTFOUND|EAI_AGAIN) (\S+?):/.exec(text);
  if (offline) {
    if (offlineNoise.has(offline[2])) return;
    offlineNoise.add(offline[2]);
    text = `(offline) ${text.split('\n')[0]}`;
  }
  (type === 'error' ? process.stderr : process.stdout).write(text.endsWith('\n') ? text : `${text}\n`);
}

/**
 * Runs extension tests (a module exporting `run()`) inside code-server's extension host and resolves with the
 * test run's exit code. The server and browser are always torn down, also on failure and timeout.
 */
export async function runExtensionTests(options) {
  const started = Date.now();
  const timeoutMs = options.timeoutMs ?? 300_000;
  const server = await startCodeServer(options);
  hostLog(`VS Code ${server.version} (code-server ${server.codeServerVersion}) on ${server.origin}, started in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  let workbench;
  let timer;
  try {
    let reportExit;
    const exited = new Promise((r) => (reportExit = r));
    // The extension host runs extensionTestsPath only beside a development path; an empty folder adds no extension,
    // so the installed extensions are the ones under test.
    let developmentPath = options.extensionDevelopmentPath === undefined ? repoRoot : options.extensionDevelopmentPath;
    if (developmentPath === null) {
      developmentPath = join(server.scratch, 'no-development-extension');
      mkdirSync(developmentPath, { recursive: true });
    }
    workbench = await openWorkbench(server, {
      ...options,
      extensionDevelopmentPath: developmentPath,
      onAutomationExit: (code) => reportExit(typeof code === 'number' ? code : 1),
      onPageError: (error) => hostLog(`workbench error: ${error.message}`),
    });
    const timedOut = new Promise((r) => {
      timer = setTimeout(() => r('timeout'), timeoutMs);
    });
    const outcome = await Promise.race([exited, timedOut]);
    if (outcome === 'timeout') {
      mkdirSync(resultsDir, { recursive: true });
      const shot = join(resultsDir, `timeout-${Date.now()}.png`);
      await workbench.page.screenshot({ path: shot }).catch(() => undefined);
      hostLog(`the test run did not finish within ${timeoutMs / 1000} s (screenshot: ${shot})`);
      printServerLogTail(server);
      keepServerLog(server);
      return 1;
    }
    hostLog(`test run exited with ${outcome} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (outcome !== 0) keepServerLog(server);
    return outcome;
  } finally {
    clearTimeout(timer);
    await workbench?.close();
    await server.stop();
  }
}

/** A failed run's server log goes to test-results/, since the scratch folder it was written in is removed. */
function keepServerLog(server) {
  mkdirSync(resultsDir, { recursive: true });
  const kept = join(resultsDir, `code-server-${server.codeServerVersion}-${Date.now()}.log`);
  writeFileSync(kept, safeRead(server.logFile));
  hostLog(`code-server log: ${kept}`);
}

function printServerLogTail(server) {
  const log = safeRead(server.logFile).trim();
  if (log) process.stderr.write(`--- code-server log (tail) ---\n${log.slice(-3000)}\n`);
}

/** Installs a packaged extension into an extensions folder the way users install it (`--install-extension`). */
export function installVsix(vsixPath, extensionsDir, options = {}) {
  const installed = ensureCodeServer(options.version ?? process.env.REFIGURE_VSCODE_VERSION ?? defaultVersion);
  const scratch = makeScratch();
  try {
    mkdirSync(extensionsDir, { recursive: true });
    const result = spawnSync(
      installed.node,
      [installed.entry, '--user-data-dir', join(scratch.root, 'user-data'), '--extensions-dir', resolve(extensionsDir), '--install-extension', resolve(vsixPath), '--force'],
      { env: { ...process.env, ...scratchEnv(scratch) }, encoding: 'utf8', timeout: 120_000 },
    );
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim();
    if (result.status !== 0 || !/successfully installed/i.test(output)) {
      throw new Error(`Installing ${vsixPath} into ${extensionsDir} failed (exit ${result.status ?? result.signal}):\n${output}`);
    }
    return output;
  } finally {
    rmSync(scratch.root, { recursive: true, force: true });
  }
}
