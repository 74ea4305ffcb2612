// Finds a Python that can render: the first interpreter, in a fixed order, that imports matplotlib, numpy and Pillow.
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { execa } from 'execa';
import { RefigureError } from '../errors';
import type { Logger } from '../types';
import { silentLogger } from '../types';

export interface PythonInfo {
  /** The interpreter's own executable (`sys.executable`), so shims and launchers are resolved once. */
  path: string;
  version: string;
  matplotlib: string;
  numpy: string;
  pillow: string;
  /** Folders the interpreter loads its standard library and packages from (a sandbox must show them). */
  roots?: string[];
}

export interface FindPythonOptions {
  /** `--python` or the `refigure.pythonPath` setting: used alone, an error when it does not work. */
  explicit?: string;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /** Well-known locations tried after PATH; defaults to the platform's usual system interpreters. */
  systemPaths?: readonly string[];
}

interface Candidate {
  /** How the user would recognise it in a message, e.g. `python3 (/usr/bin/python3)`. */
  label: string;
  command: string;
  args: string[];
}

// Finds the packages without importing them (an import of matplotlib costs most of a second; the worker
// imports them anyway and reports a broken install when it starts).
const probeScript = `
import json, os, sys
if sys.version_info < (3, 9):
    sys.stderr.write("Python %d.%d is too old: Refigure needs Python 3.9 or newer\\n" % sys.version_info[:2])
    sys.exit(3)
import importlib.util
versions, roots = {}, [sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix, os.path.dirname(os.path.realpath(sys.executable))]
roots += [p for p in sys.path if p and os.path.isdir(p)]
for module, dist in (("matplotlib", "matplotlib"), ("numpy", "numpy"), ("PIL", "pillow")):
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.origin:
        sys.stderr.write("ModuleNotFoundError: No module named '%s'\\n" % module)
        sys.exit(1)
    try:
        from importlib.metadata import version
        versions[module] = version(dist)
    except Exception:
        versions[module] = getattr(__import__(module), "__version__", "?")
    roots.append(os.path.dirname(os.path.dirname(os.path.realpath(spec.origin))))
seen = []
for r in roots:
    r = os.path.realpath(r)
    if r not in seen:
        seen.append(r)
print(json.dumps({"path": sys.executable, "version": sys.version.split()[0], "matplotlib": versions["matplotlib"],
                  "numpy": versions["numpy"], "pillow": versions["PIL"], "roots": seen}))
`;

const cache = new Map<string, Promise<PythonInfo>>();

/** Forget every cached discovery (after the user installs matplotlib, for example). */
export function clearPythonCache(): void {
  cache.clear();
}

export async function findPython(opts: FindPythonOptions = {}): Promise<PythonInfo> {
  const env = opts.env ?? process.env;
  const key = [opts.explicit ?? '', env.REFIGURE_PYTHON ?? '', env.PATH ?? env.Path ?? '', (opts.systemPaths ?? []).join(delimiter)].join('\0');
  let found = cache.get(key);
  if (!found) {
    found = discover(opts, env);
    cache.set(key, found);
    // A failure is not cached: the user may fix the environment and try again.
    found.catch(() => cache.delete(key));
  }
  return found;
}

async function discover(opts: FindPythonOptions, env: NodeJS.ProcessEnv): Promise<PythonInfo> {
  const logger = opts.logger ?? silentLogger;
  if (opts.explicit) {
    const candidate = candidateFor(opts.explicit, env);
    const result = await probe(candidate, env);
    if ('info' in result) {
      logger.info(`Python: ${result.info.path} (Python ${result.info.version}, matplotlib ${result.info.matplotlib}).`);
      return result.info;
    }
    throw new RefigureError(
      'environment',
      `The Python interpreter ${opts.explicit} cannot render figures: ${result.reason}.`,
      `Point --python (or the refigure.pythonPath setting) at a Python 3.9+ that has matplotlib, numpy and Pillow, or install them: ${installCommand(opts.explicit)}`,
    );
  }

  const tried: string[] = [];
  const seen = new Set<string>();
  for (const candidate of candidates(env, opts.systemPaths)) {
    const identity = `${candidate.command}\0${candidate.args.join(' ')}`;
    if (seen.has(identity)) continue;
    seen.add(identity);
    const result = await probe(candidate, env);
    if ('info' in result) {
      if (tried.length) logger.info(`Skipped ${tried.join('; ')}.`);
      logger.info(`Python: ${result.info.path} (Python ${result.info.version}, matplotlib ${result.info.matplotlib}).`);
      return result.info;
    }
    logger.debug(`Python candidate ${candidate.label}: ${result.reason}.`);
    tried.push(`${candidate.label}: ${result.reason}`);
  }
  const list = tried.length ? tried.map((t) => `\n  - ${t}`).join('') : ' (no interpreter was found at all)';
  throw new RefigureError(
    'environment',
    `No Python interpreter that can render figures was found. Tried:${list}`,
    `Install matplotlib, numpy and Pillow: ${installCommand()} (or set REFIGURE_PYTHON / --python to an interpreter that has them).`,
  );
}

/** The command that installs what Refigure needs on this system. */
export function installCommand(python?: string): string {
  if (process.platform === 'linux' && existsSync('/etc/debian_version') && (!python || python.startsWith('/usr/bin/'))) {
    return 'sudo apt-get install python3-matplotlib';
  }
  if (process.platform === 'win32') return `${python ?? 'py -3'} -m pip install matplotlib numpy pillow`;
  return `${python ?? 'python3'} -m pip install matplotlib numpy pillow`;
}

function* candidates(env: NodeJS.ProcessEnv, systemPaths?: readonly string[]): Generator<Candidate> {
  if (env.REFIGURE_PYTHON) yield { ...candidateFor(env.REFIGURE_PYTHON, env), label: `REFIGURE_PYTHON=${env.REFIGURE_PYTHON}` };
  for (const name of ['python3', 'python']) {
    const path = whichOnPath(name, env);
    if (path) yield { label: `${name} on PATH (${path})`, command: path, args: [] };
  }
  const system = systemPaths ?? (process.platform === 'win32' ? [] : ['/usr/bin/python3', '/usr/local/bin/python3', '/opt/homebrew/bin/python3']);
  for (const path of system) {
    if (existsSync(path)) yield { label: path, command: path, args: [] };
  }
  if (!systemPaths && process.platform === 'win32') {
    const launcher = whichOnPath('py', env);
    if (launcher) yield { label: 'py -3', command: launcher, args: ['-3'] };
  }
}

function candidateFor(spec: string, env: NodeJS.ProcessEnv): Candidate {
  // `py -3` style values name a launcher and its arguments; anything else is one executable.
  if (!isAbsolute(spec) && /^py(\.exe)?\s+-\d/.test(spec)) {
    const [command = 'py', ...args] = spec.split(/\s+/);
    return { label: spec, command, args };
  }
  const resolved = isAbsolute(spec) || spec.includes('/') || spec.includes('\\') ? spec : (whichOnPath(spec, env) ?? spec);
  return { label: spec, command: resolved, args: [] };
}

function whichOnPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  const path = env.PATH ?? env.Path ?? '';
  const extensions = process.platform === 'win32' ? (env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';') : [''];
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    for (const ext of extensions) {
      const full = join(dir, name + ext);
      try {
        if (!statSync(full).isFile()) continue;
        if (process.platform !== 'win32') accessSync(full, constants.X_OK);
        return full;
      } catch {
        // not here, or not executable: keep looking
      }
    }
  }
  return undefined;
}

type ProbeResult = { info: PythonInfo } | { reason: string };

async function probe(candidate: Candidate, env: NodeJS.ProcessEnv): Promise<ProbeResult> {
  const result = await execa(candidate.command, [...candidate.args, '-I', '-c', probeScript], {
    env: probeEnv(env),
    extendEnv: false,
    reject: false,
    timeout: 60_000,
    stdin: 'ignore',
    windowsHide: true,
  });
  if (result.failed || result.exitCode !== 0) {
    const code = (result.cause as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'ENOENT') return { reason: 'not found' };
    if (code === 'EACCES') return { reason: 'not executable' };
    if (result.timedOut) return { reason: 'did not answer within 60 s' };
    return { reason: lastLine(String(result.stderr ?? '')) || `exited with status ${result.exitCode ?? result.signal ?? '?'}` };
  }
  try {
    const parsed = JSON.parse(lastLine(String(result.stdout))) as PythonInfo;
    if (typeof parsed.path !== 'string' || typeof parsed.matplotlib !== 'string') throw new Error('unexpected answer');
    return { info: parsed };
  } catch {
    return { reason: `answered something unexpected: ${lastLine(String(result.stdout)).slice(0, 200)}` };
  }
}

function lastLine(text: string): string {
  const lines = text.trim().split(/\r?\n/).filter((l) => l.trim());
  return (lines.at(-1) ?? '').trim();
}

function probeEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { PYTHONUNBUFFERED: '1', PYTHONIOENCODING: 'utf-8' };
  // pyenv shims and Windows launchers need their own variables to pick an interpreter.
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (/KEY|TOKEN|SECRET|PASSWORD/i.test(name)) continue;
    if (/^(PATH|Path|PATHEXT|HOME|USERPROFILE|SYSTEMROOT|SystemRoot|WINDIR|TEMP|TMP|LANG|LC_.*|PYENV.*|LOCALAPPDATA|APPDATA)$/.test(name)) {
      out[name] = value;
    }
  }
  return out;
}

/** Whether Python's own parser accepts `code` (a reply that may be bare code). Runs no code. */
export async function pythonParses(python: string, code: string, signal?: AbortSignal): Promise<boolean> {
  const result = await execa(python, ['-I', '-c', 'import ast, sys\nast.parse(sys.stdin.buffer.read())'], {
    input: code,
    reject: false,
    timeout: 20_000,
    ...(signal ? { cancelSignal: signal } : {}),
    env: { PYTHONIOENCODING: 'utf-8' },
    extendEnv: false,
  });
  return result.exitCode === 0;
}
