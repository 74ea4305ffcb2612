// The isolation around the render worker (DESIGN.md §5): which kernel-enforced layer renders run under,
// the bubblewrap arguments, matplotlib's persistent config folder and the scrubbed environment.
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, sep } from 'node:path';
import { execa } from 'execa';
import { RefigureError } from '../errors';
import { pythonDir } from '../paths';
import type { PythonInfo } from './python';
import type { Logger, SandboxLayer, SandboxMode } from '../types';

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

export type KernelProbe = { abi: number; seccomp: boolean; reason?: string };

const kernelProbes = new Map<string, Promise<KernelProbe>>();

/** What the kernel can enforce for a render child of this interpreter: the Landlock ABI and seccomp. Probed once. */
export function probeKernel(python: string): Promise<KernelProbe> {
  let probe = kernelProbes.get(python);
  if (!probe) {
    probe = runKernelProbe(python);
    kernelProbes.set(python, probe);
  }
  return probe;
}

async function runKernelProbe(python: string): Promise<KernelProbe> {
  if (process.platform !== 'linux') return { abi: 0, seccomp: false, reason: `Landlock only exists on Linux (this is ${process.platform})` };
  const result = await execa(python, ['-I', join(pythonDir(), 'refigure_jail.py'), '--probe'], { reject: false, timeout: 20_000, stdin: 'ignore' });
  try {
    const parsed = JSON.parse(String(result.stdout)) as { abi?: number; seccomp?: boolean };
    const abi = typeof parsed.abi === 'number' ? parsed.abi : 0;
    const seccomp = parsed.seccomp === true;
    const reason = abi < 1 ? 'this kernel has no Landlock (Linux 5.13+ with Landlock enabled)' : !seccomp ? 'this kernel does not load seccomp filters' : undefined;
    return { abi, seccomp, ...(reason ? { reason } : {}) };
  } catch {
    return { abi: 0, seccomp: false, reason: `the kernel probe failed: ${String(result.stderr ?? '').trim().split('\n').at(-1) ?? 'no answer'}` };
  }
}

/**
 * The layer renders run under. `auto`: bubblewrap, else Landlock, else Seatbelt on macOS; with none of them,
 * an error that says how to get one and names the explicit opt-in. A layer by name is used or refused.
 */
export async function chooseLayer(mode: SandboxMode, python: string, logger: Logger): Promise<SandboxLayer> {
  if (mode === 'none') {
    logger.warn('Rendering with no kernel-enforced sandbox, as asked (--sandbox none): the model\'s code can do what your user can.');
    return 'none';
  }
  const reasons: string[] = [];
  if (process.platform === 'darwin' && (mode === 'auto' || mode === 'require-isolation')) {
    if (existsSync('/usr/bin/sandbox-exec')) return 'seatbelt';
    reasons.push('macOS sandbox-exec is missing');
  }
  if (mode !== 'landlock' && process.platform === 'linux') {
    const bwrap = await probeBwrap();
    const kernel = await probeKernel(python);
    if (bwrap.usable && kernel.seccomp) return 'bwrap';
    reasons.push(bwrap.usable ? `bubblewrap works but ${kernel.reason ?? 'seccomp is unavailable'}` : bwrap.reason);
    if (mode === 'bwrap') throw noLayer(reasons);
  }
  if (process.platform === 'linux') {
    const kernel = await probeKernel(python);
    if (kernel.abi >= 1 && kernel.seccomp) {
      if (reasons.length) logger.info(`Rendering under Landlock: ${reasons.join('; ')}.`);
      return 'landlock';
    }
    reasons.push(kernel.reason ?? 'Landlock is unavailable');
  } else if (process.platform !== 'darwin') {
    reasons.push(`Refigure has no kernel-enforced sandbox on ${process.platform}`);
  }
  throw noLayer(reasons);
}

function noLayer(reasons: string[]): RefigureError {
  return new RefigureError(
    'environment',
    `No kernel-enforced sandbox is available to run the model's code: ${reasons.join('; ')}.`,
    process.platform === 'linux'
      ? 'Install bubblewrap (sudo apt-get install bubblewrap) or use a kernel with Landlock; or render without isolation at your own risk with --sandbox none (in VS Code: answer the prompt for this workspace).'
      : 'Render without isolation at your own risk with --sandbox none (in VS Code: answer the prompt for this workspace).',
    { code: 'no-sandbox' },
  );
}

/**
 * matplotlib's config and cache folder for one interpreter: per user, outside every render's folders,
 * kept between runs so the font cache is built once rather than at every start.
 */
export function mplConfigDir(python: Pick<PythonInfo, 'path' | 'matplotlib'>, env: NodeJS.ProcessEnv = process.env): string {
  const base =
    process.platform === 'win32'
      ? (env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local'))
      : process.platform === 'darwin'
        ? join(homedir(), 'Library', 'Caches')
        : (env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache'));
  const key = createHash('sha256').update(`${python.path}\0${python.matplotlib}`).digest('hex').slice(0, 16);
  const dir = join(base, 'refigure', `matplotlib-${python.matplotlib}-${key}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return realpathSync(dir);
}

/** What matplotlib, fontconfig and the dynamic loader read from /etc; the rest of /etc stays hidden. */
const etcEntries = ['fonts', 'matplotlibrc', 'alternatives', 'ld.so.cache', 'ld.so.conf', 'ld.so.conf.d', 'localtime', 'passwd', 'group', 'mime.types'];
const systemLinks = ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

/** Where, inside bubblewrap, the worker makes each render's scratch folder (env REFIGURE_SCRATCH_ROOT). */
export const bwrapScratchRoot = '/refigure-scratch';
/** The renders' disk cap under bubblewrap, for all the scratch a worker holds at once (one render at a time). */
export const scratchTmpfsBytes = 512 * 1024 * 1024;

export interface BwrapLayout {
  /** Folders the interpreter needs (its prefix, standard library, site-packages), bound read-only. */
  roots: readonly string[];
  /** Refigure's python/ folder, bound read-only. */
  pythonDir: string;
  /** The renderer's temporary root and matplotlib's config folder: the writable places (renders get less, by Landlock). */
  writable: readonly string[];
}

/**
 * bwrap arguments (before `--` and the command): no network or other namespaces shared, read-only
 * system, a private /tmp, the renderer's temporary root the only writable bind.
 */
export function bwrapArgs(layout: BwrapLayout): string[] {
  const args = ['--unshare-all', '--die-with-parent', '--new-session', '--cap-drop', 'ALL', '--ro-bind', '/usr', '/usr'];
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
  // Renders' scratch folders: a tmpfs whose size is the disk cap, enforced by the kernel.
  args.push('--size', String(scratchTmpfsBytes), '--tmpfs', bwrapScratchRoot);
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
  const writable = layout.writable.map(realOrSelf);
  for (const dir of writable) args.push('--bind', dir, dir);
  args.push('--chdir', writable[0] ?? '/');
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
