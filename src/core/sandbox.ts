// The isolation around the render worker (DESIGN.md §5): the bubblewrap probe and arguments, and the scrubbed environment.
import { existsSync, lstatSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';
import { execa } from 'execa';

export type BwrapProbe = { usable: true; path: string } | { usable: false; reason: string };

let probed: Promise<BwrapProbe> | undefined;

/** Whether `bwrap` can build a sandbox here: installed, and allowed to create namespaces. Probed once. */
export function probeBwrap(): Promise<BwrapProbe> {
  probed ??= runProbe();
  return probed;
}

async function runProbe(): Promise<BwrapProbe> {
  if (process.platform !== 'linux') return { usable: false, reason: `bubblewrap only exists on Linux (this is ${process.platform})` };
  const result = await execa('bwrap', ['--ro-bind', '/', '/', '--unshare-all', '--die-with-parent', 'true'], {
    reject: false,
    timeout: 10_000,
    stdin: 'ignore',
  });
  if (!result.failed && result.exitCode === 0) return { usable: true, path: 'bwrap' };
  const code = (result.cause as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return { usable: false, reason: 'bubblewrap (bwrap) is not installed' };
  const detail = String(result.stderr ?? '').trim().split('\n').at(-1) ?? '';
  return { usable: false, reason: `bwrap cannot create a sandbox here${detail ? `: ${detail}` : ` (exit status ${result.exitCode ?? '?'})`}` };
}

/** What matplotlib, fontconfig and the dynamic loader read from /etc; the rest of /etc stays hidden. */
const etcEntries = ['fonts', 'matplotlibrc', 'alternatives', 'ld.so.cache', 'ld.so.conf', 'ld.so.conf.d', 'localtime', 'passwd', 'group', 'mime.types'];
const systemLinks = ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

export interface BwrapLayout {
  /** Folders the interpreter needs (its prefix, standard library, site-packages), bound read-only. */
  roots: readonly string[];
  /** Refigure's python/ folder, bound read-only. */
  pythonDir: string;
  /** The renderer's temporary root: the one writable place. */
  writable: string;
}

/**
 * bwrap arguments (before `--` and the command): no network or other namespaces shared, read-only
 * system, a private /tmp, the renderer's temporary root the only writable bind.
 */
export function bwrapArgs(layout: BwrapLayout): string[] {
  const args = ['--unshare-all', '--die-with-parent', '--new-session', '--ro-bind', '/usr', '/usr'];
  for (const dir of systemLinks) {
    try {
      const stat = lstatSync(dir);
      if (stat.isSymbolicLink()) args.push('--symlink', readlinkSync(dir), dir);
      else if (stat.isDirectory()) args.push('--ro-bind', dir, dir);
    } catch {
      // absent on this system
    }
  }
  for (const entry of etcEntries) args.push('--ro-bind-try', join('/etc', entry), join('/etc', entry));
  args.push('--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp');
  const bound: string[] = ['/usr'];
  const covered = (path: string) => bound.some((b) => path === b || path.startsWith(b.endsWith(sep) ? b : b + sep));
  // Binds below /tmp must come after the tmpfs, and shorter paths first so none hides another.
  const extra = [...layout.roots].map(realOrSelf).filter((p) => existsSync(p) && statSync(p).isDirectory());
  extra.sort((a, b) => a.length - b.length);
  for (const root of extra) {
    if (covered(root) || root === '/' ) continue;
    args.push('--ro-bind', root, root);
    bound.push(root);
  }
  const pythonDir = realOrSelf(layout.pythonDir);
  if (!covered(pythonDir)) args.push('--ro-bind', pythonDir, pythonDir);
  const writable = realOrSelf(layout.writable);
  args.push('--bind', writable, writable, '--chdir', writable);
  return args;
}

function realOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

const secretName = /KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH|COOKIE|SESSION|PROXY/i;
const keptName = /^(PATH|Path|PATHEXT|LANG|LANGUAGE|LC_[A-Z_]+|TZ|SYSTEMROOT|SystemRoot|WINDIR|COMSPEC)$/;

/**
 * The worker's environment: only what Python and matplotlib need. No API keys, tokens or proxies,
 * HOME inside the renderer's temporary root, one BLAS thread per process.
 */
export function scrubbedEnv(base: NodeJS.ProcessEnv, dirs: { home: string; mplConfig: string; temp: string }): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(base)) {
    if (value === undefined || secretName.test(name) || !keptName.test(name)) continue;
    env[name] = value;
  }
  Object.assign(env, {
    HOME: dirs.home,
    MPLCONFIGDIR: dirs.mplConfig,
    TMPDIR: dirs.temp,
    PYTHONUNBUFFERED: '1',
    PYTHONIOENCODING: 'utf-8',
    PYTHONDONTWRITEBYTECODE: '1',
    OPENBLAS_NUM_THREADS: '1',
    OMP_NUM_THREADS: '1',
    MKL_NUM_THREADS: '1',
    MPLBACKEND: 'Agg',
  });
  if (process.platform === 'win32') Object.assign(env, { USERPROFILE: dirs.home, TEMP: dirs.temp, TMP: dirs.temp });
  return env;
}
