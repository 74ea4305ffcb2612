// Takes VS Code's command-line arguments and runs them on the code-server host, so standard test runners can drive it.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { runExtensionTests, installVsix, defaultVersion } from './codeServerHost.mjs';
import { versions } from './install.mjs';

/** Flags desktop runners pass that make no sense for, or are always true of, a fresh code-server profile. */
const ignoredFlags = new Set([
  '--no-sandbox',
  '--disable-gpu-sandbox',
  '--disable-gpu',
  '--disable-updates',
  '--skip-welcome',
  '--skip-release-notes',
  '--disable-telemetry',
  '--disable-extensions',
  '--new-window',
  '--wait',
]);
const flagsWithValue = new Set(['extensionDevelopmentPath', 'extensionTestsPath', 'extensions-dir', 'user-data-dir', 'install-extension', 'locale', 'log']);

export function parseArgs(argv) {
  const parsed = { folders: [], extensionDevelopmentPaths: [], trust: true, ignored: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      parsed.folders.push(resolve(arg));
      continue;
    }
    let [name, value] = arg.slice(2).split(/=(.*)/s, 2);
    if (flagsWithValue.has(name) && value === undefined) value = argv[++i];
    switch (name) {
      case 'extensionDevelopmentPath': parsed.extensionDevelopmentPaths.push(resolve(value)); break;
      case 'extensionTestsPath': parsed.extensionTestsPath = resolve(value); break;
      case 'extensions-dir': parsed.extensionsDir = resolve(value); break;
      case 'install-extension': parsed.installExtension = resolve(value); break;
      // Runners pass this flag unconditionally; REFIGURE_WORKSPACE_TRUST=on keeps trust on for tests of restricted mode.
      case 'disable-workspace-trust': parsed.trust = process.env.REFIGURE_WORKSPACE_TRUST === 'on'; break;
      case 'version': parsed.version = true; break;
      case 'help': parsed.help = true; break;
      default:
        // The profile is always fresh, and locale/log settings do not apply to the web workbench.
        if (!ignoredFlags.has(`--${name}`)) parsed.ignored.push(arg);
    }
  }
  return parsed;
}

const usage = `usage: test/host/code [--extensionDevelopmentPath=DIR] --extensionTestsPath=MODULE [--extensions-dir=DIR] [--disable-workspace-trust] [FOLDER]
       test/host/code --install-extension X.vsix --extensions-dir=DIR
Runs VS Code extension tests in code-server (web workbench in headless Chromium).
Environment: REFIGURE_VSCODE_VERSION=${Object.keys(versions).join('|')} (default ${defaultVersion}), REFIGURE_TEST_TIMEOUT_S (default 300),
REFIGURE_WORKSPACE_TRUST=on (keep workspace trust on despite --disable-workspace-trust).`;

export async function main(argv) {
  const args = parseArgs(argv);
  const versionKey = process.env.REFIGURE_VSCODE_VERSION ?? defaultVersion;
  if (args.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  if (!versions[versionKey]) {
    process.stderr.write(`REFIGURE_VSCODE_VERSION="${versionKey}" is not one of ${Object.keys(versions).join(', ')}.\n`);
    return 2;
  }
  if (args.version) {
    process.stdout.write(`${versions[versionKey].vscode}\ncode-server-${versions[versionKey].codeServer}\nx64\n`);
    return 0;
  }
  if (args.ignored.length) process.stdout.write(`[refigure-host] ignoring arguments the code-server host does not use: ${args.ignored.join(' ')}\n`);
  if (args.installExtension) {
    if (!args.extensionsDir) {
      process.stderr.write('--install-extension needs --extensions-dir=DIR (the host never installs into a shared profile).\n');
      return 2;
    }
    process.stdout.write(`${installVsix(args.installExtension, args.extensionsDir, { version: versionKey })}\n`);
    return 0;
  }
  if (!args.extensionTestsPath) {
    process.stderr.write(`This host only runs extension tests: pass --extensionTestsPath.\n${usage}\n`);
    return 2;
  }
  if (args.extensionDevelopmentPaths.length > 1) {
    process.stderr.write('The code-server host takes one --extensionDevelopmentPath.\n');
    return 2;
  }
  const folder = args.folders[0];
  if (folder && !(existsSync(folder) && statSync(folder).isDirectory())) {
    process.stderr.write(`The workspace folder ${folder} does not exist (the host opens folders, not files or .code-workspace files).\n`);
    return 2;
  }
  const timeoutS = Number(process.env.REFIGURE_TEST_TIMEOUT_S ?? 300);
  return runExtensionTests({
    version: versionKey,
    folder,
    extensionDevelopmentPath: args.extensionDevelopmentPaths[0] ?? null,
    extensionTestsPath: args.extensionTestsPath.replace(/\.js$/, ''),
    extensionsDir: args.extensionsDir,
    trust: args.trust,
    timeoutMs: timeoutS * 1000,
  });
}
