// Runs test/integration inside a real VS Code: code-server here (offline), downloaded desktop VS Code with REFIGURE_VSCODE=desktop.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runTests } from '@vscode/test-electron';
import { repoRoot, runExtensionTests, installVsix } from './codeServerHost.mjs';
import { versions, defaultVersion } from './install.mjs';
import { prepareWorkspace, codeExecutable } from './workspace.mjs';

export const integrationOut = join(repoRoot, 'out', 'test', 'integration');

function parseArgs(argv) {
  const opts = { versions: [], vsix: undefined, grep: undefined, untrusted: false };
  for (let i = 0; i < argv.length; i++) {
    const [name, inline] = argv[i].split(/=(.*)/s, 2);
    const value = () => inline ?? argv[++i];
    if (name === '--vscode') opts.versions.push(value());
    else if (name === '--all') opts.versions.push(...Object.keys(versions));
    else if (name === '--vsix') opts.vsix = resolve(value());
    else if (name === '--grep') opts.grep = value();
    else if (name === '--untrusted') opts.untrusted = true;
    else throw new Error(`Unknown argument "${argv[i]}". Usage: runIntegration.mjs [--vscode 1.139|1.100 | --all] [--vsix refigure.vsix] [--grep TEXT] [--untrusted]`);
  }
  if (!opts.versions.length) opts.versions.push(process.env.REFIGURE_VSCODE_VERSION ?? defaultVersion);
  // The packaged extension gets the smoke suite unless asked for more (`--grep .` runs everything).
  if (opts.vsix && opts.grep === undefined) opts.grep = 'extension host smoke';
  for (const v of opts.versions) if (!versions[v]) throw new Error(`Unknown VS Code version "${v}"; use one of ${Object.keys(versions).join(', ')}.`);
  return opts;
}

async function runOne(version, opts) {
  const workspace = prepareWorkspace();
  const extensionTestsPath = join(integrationOut, 'index');
  const env = {
    REFIGURE_TEST_WORKSPACE: workspace.dir,
    REFIGURE_TEST_IMAGE: workspace.image,
    ...(opts.grep ? { REFIGURE_TEST_GREP: opts.grep } : {}),
    // Workspace trust stays on only for --untrusted runs; the folder then opens in restricted mode.
    REFIGURE_EXPECT_TRUSTED: opts.untrusted ? 'false' : 'true',
    ...(opts.untrusted ? { REFIGURE_WORKSPACE_TRUST: 'on' } : {}),
  };
  let extensionsDir;
  try {
    if (opts.vsix) {
      // As users get it: installed from the vsix into an extensions folder, no development path.
      extensionsDir = mkdtempSync(join(tmpdir(), 'refigure-ext-'));
      process.stdout.write(`[refigure-host] ${installVsix(opts.vsix, extensionsDir, { version })}\n`);
      return await runExtensionTests({
        version,
        folder: workspace.dir,
        extensionDevelopmentPath: null,
        extensionTestsPath,
        extensionsDir,
        trust: opts.untrusted,
        env: { ...env, REFIGURE_EXPECT_EXTENSION_ROOT: extensionsDir },
      });
    }
    env.REFIGURE_EXPECT_EXTENSION_ROOT = repoRoot;
    if (process.env.REFIGURE_VSCODE === 'desktop') {
      return await runDesktop({
        version: process.env.REFIGURE_VSCODE_DESKTOP_VERSION ?? 'stable',
        extensionDevelopmentPath: repoRoot,
        extensionTestsPath,
        launchArgs: [workspace.dir],
        extensionTestsEnv: env,
      });
    }
    return await runTests({
      vscodeExecutablePath: codeExecutable,
      // The host makes a fresh profile per run; .vscode-test/ profile folders would only pile up.
      reuseMachineInstall: true,
      extensionDevelopmentPath: repoRoot,
      extensionTestsPath,
      launchArgs: [workspace.dir],
      extensionTestsEnv: { ...env, REFIGURE_VSCODE_VERSION: version },
    });
  } catch (error) {
    // runTests rejects on a non-zero exit; the code is what matters here.
    if (error && typeof error === 'object' && 'code' in error && typeof error.code === 'number') return error.code;
    throw error;
  } finally {
    workspace.dispose();
    if (extensionsDir) rmSync(extensionsDir, { recursive: true, force: true });
  }
}

/** Desktop VS Code through the standard runner; it downloads VS Code, so say plainly when that cannot work here. */
async function runDesktop(options) {
  try {
    return await runTests(options);
  } catch (error) {
    if (/ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT/.test(String(error?.message ?? error))) {
      throw new Error(
        `Downloading desktop VS Code failed (${error.message}). This machine cannot reach update.code.visualstudio.com: ` +
          'unset REFIGURE_VSCODE to run the tests on the code-server host instead.',
      );
    }
    throw error;
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (!existsSync(join(integrationOut, 'index.js'))) {
    process.stderr.write(`${join(integrationOut, 'index.js')} is missing: run \`node scripts/build.mjs --tests\` first.\n`);
    return 2;
  }
  if (opts.vsix && !existsSync(opts.vsix)) {
    process.stderr.write(`${opts.vsix} does not exist: build it with \`npm run package\`.\n`);
    return 2;
  }
  let worst = 0;
  for (const version of opts.versions) {
    const started = Date.now();
    const code = await runOne(version, opts);
    process.stdout.write(`[refigure-host] integration tests on VS Code ${process.env.REFIGURE_VSCODE === 'desktop' && !opts.vsix ? 'desktop' : versions[version].vscode}${opts.vsix ? ' (installed vsix)' : ''}: exit ${code} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    if (code !== 0) worst = code;
  }
  return worst;
}

process.exitCode = await main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  return 1;
});
