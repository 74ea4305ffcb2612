// The macOS render sandbox: a Seatbelt (sandbox-exec) profile that allows the interpreter, reads of the system and its own
// prefix, and writes only in the request's scratch folder.

export interface SeatbeltOptions {
  /** The request's scratch folder: the only place a render may write. */
  scratch: string;
  /** Folders the interpreter loads from (its prefix, standard library, site-packages, Refigure's python/). */
  readRoots: readonly string[];
  /** The user's home folder: hidden, except for read roots inside it (a pyenv or venv interpreter). */
  home: string;
  /** The interpreter as launched and with symlinks resolved (a venv's python links elsewhere): the only programs that may start. */
  python: readonly string[];
  /**
   * Let the sandboxed process fork (never exec). Off for a render started on its own; a worker that
   * forks its renders under one profile needs it, and its children then share the profile.
   */
  allowFork?: boolean;
}

/** What matplotlib, the dynamic loader and Python's startup read outside their own prefix. */
const systemReads = ['/System', '/usr', '/Library', '/private/etc', '/private/var/db/timezone', '/private/var/db/dyld'];
const deviceReads = ['/dev/null', '/dev/urandom', '/dev/random', '/dev/zero'];
/** Mach services CoreText uses to find and load fonts. */
const fontServices = ['com.apple.fonts', 'com.apple.FontObjectsServer'];

/**
 * The SBPL text for `sandbox-exec -p`. Seatbelt applies the last rule that matches, so the order
 * below is the policy: deny everything, allow the system and the interpreter, hide the home folder
 * again, re-allow the interpreter's prefix inside it, allow scratch, and deny the network last.
 * Seatbelt compares resolved paths, so /tmp, /var and /etc are written as their /private targets.
 */
export function seatbeltProfile(options: SeatbeltOptions): string {
  const scratch = normalize(options.scratch, 'scratch');
  if (!options.home) throw new Error('the Seatbelt profile needs the home folder, to keep it hidden');
  const home = normalize(options.home, 'home');
  const python = options.python.map((path) => normalize(path, 'python'));
  const roots = options.readRoots.map((path) => normalize(path, 'read root'));
  for (const root of roots) {
    if (within(home, root)) throw new Error(`the read root ${root} would open the whole home folder ${home}`);
  }
  if (python.length === 0) throw new Error('the Seatbelt profile needs the interpreter, the one program it may start');
  if (scratch === '/' || within(home, scratch)) throw new Error(`the scratch folder ${scratch} would make the home folder writable`);
  const rootsInHome = roots.filter((root) => within(root, home));
  const reachable = [scratch, ...roots, ...python];
  const lines = [
    '(version 1)',
    '(deny default)',
    ';; Start the interpreter itself and nothing else.',
    rule('allow', 'process-exec', python.map(literal)),
    ...(options.allowFork ? ['(allow process-fork)'] : []),
    '(allow process-info* (target self))',
    '(allow signal (target self))',
    '(allow sysctl-read)',
    rule('allow', 'mach-lookup', fontServices.map((name) => `(global-name ${sbplString(name)})`)),
    rule('allow', 'file-read*', [...[...systemReads, ...roots].map(subpath), ...deviceReads.map(literal)]),
    ';; The home folder stays hidden even where a rule above reaches into it ...',
    rule('deny', 'file-read* file-write*', [subpath(home)]),
    ';; ... except the interpreter itself and its own prefix inside it.',
    rule('allow', 'file-read*', [...rootsInHome.map(subpath), ...python.map(literal)]),
    ';; Python resolves its own paths: the folders above what it may read can be looked at, not listed.',
    rule('allow', 'file-read-metadata', unique(reachable.flatMap(ancestors)).map(literal)),
    ';; Writes: scratch only.',
    rule('allow', 'file-write-data', [literal('/dev/null')]),
    rule('allow', 'file-read* file-write*', [subpath(scratch)]),
    ';; No network, whatever came before.',
    '(deny network*)',
  ];
  return `${lines.join('\n')}\n`;
}

/** sandbox-exec with the profile inline, then the interpreter and its arguments. */
export function seatbeltCommand(python: string, args: readonly string[], profile: string): { command: string; args: string[] } {
  return { command: '/usr/bin/sandbox-exec', args: ['-p', profile, python, ...args] };
}

/** An SBPL (Scheme) string literal: backslash and double quote escaped, so a path can never close it. */
export function sbplString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** One rule; never without a filter, since a rule without one matches everything. */
function rule(action: 'allow' | 'deny', operations: string, filters: readonly string[]): string {
  if (filters.length === 0) throw new Error(`a Seatbelt rule for ${operations} with nothing to match`);
  return `(${action} ${operations} ${filters.join(' ')})`;
}

function literal(path: string): string {
  return `(literal ${sbplString(path)})`;
}

function subpath(path: string): string {
  return `(subpath ${sbplString(path)})`;
}

function normalize(path: string, what: string): string {
  if (!path.startsWith('/')) throw new Error(`the ${what} path must be absolute: ${JSON.stringify(path)}`);
  // Control characters have no business in a path the profile names, and no agreed escape in SBPL.
  if (/[\u0000-\u001f\u007f]/.test(path)) throw new Error(`the ${what} path contains a control character: ${JSON.stringify(path)}`);
  const parts = path.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.includes('..')) throw new Error(`the ${what} path must not contain "..": ${JSON.stringify(path)}`);
  if (['tmp', 'var', 'etc'].includes(parts[0] ?? '')) parts.unshift('private');
  return `/${parts.join('/')}`;
}

/** Whether `path` is `folder` or inside it. */
function within(path: string, folder: string): boolean {
  return folder === '/' || path === folder || path.startsWith(`${folder}/`);
}

function ancestors(path: string): string[] {
  const parts = path.split('/').filter(Boolean);
  return parts.map((_, i) => `/${parts.slice(0, i).join('/')}`);
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
