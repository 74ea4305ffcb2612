// Hostile and broken programs (test/hostile/*.py) against every kernel-enforced layer available here.
// Each layer runs every program twice: with the audit tripwire (the error names what was tried) and
// without it, where only the kernel layers stand. Whatever a program does, the same invariants hold:
// nothing outside scratch created or changed, no secret in any output, no process left behind, Node
// alive, the worker not replaced, and figures that match a recomputation.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createRenderer, type RenderService } from '../../src/core/render/render';
import { mplConfigDir } from '../../src/core/render/sandbox';
import type { RenderErrorKind, RenderOutcome } from '../../src/core/types';
import { repoRoot, scratch, stemFixtures } from '../support/paths';
import { descendants, describe as describeProcesses } from '../hostile/processes';

const hostileDir = join(repoRoot, 'test', 'hostile');
const secret = `sk-refigure-hostile-${process.pid}-do-not-leak`;
const fileSecret = `file-secret-${process.pid}-never-readable`;
const loopTimeoutMs = 3000;

interface Case {
  /** File name in test/hostile without `.py`. */
  name: string;
  /** The outcome with the tripwire on: `ok`, or the error kind(s) allowed. */
  expect: 'ok' | RenderErrorKind | RenderErrorKind[];
  /** The outcome with only the kernel layers (default: `ok` when `expect` is, else any failure). */
  kernelExpect?: 'ok' | 'failed' | 'any' | RenderErrorKind | RenderErrorKind[];
  /** The error message with the tripwire on. */
  message?: RegExp;
  /** The error message with only the kernel layers. */
  kernelMessage?: RegExp;
  /** Only on this CPU architecture (`process.arch`): the program uses its machine code or call table. */
  arch?: string;
  timeoutMs?: number;
  check?: (outcome: RenderOutcome, env: CaseEnv) => void;
}

interface CaseEnv {
  outside: string;
  homeTarget: string;
  secretFile: string;
  port: number;
  likeSize: { width: number; height: number };
  tripwire: boolean;
}

const blockedWrite = /write outside its scratch folder/;
const blockedProcess = /start a process \(blocked\)/;
const everyStopped = /every attempt was stopped/;
const diskCap = /wrote more than 512 MiB/;
const diskCapOrFull = new RegExp(`${diskCap.source}|No space left on device`);

const cases: Case[] = [
  { name: 'net_connect', expect: 'blocked', message: /network connection to 127\.0\.0\.1:\d+ \(blocked\)/ },
  { name: 'net_raw_connect', expect: 'blocked', message: /open a network socket \(blocked\)/ },
  {
    name: 'net_urllib',
    // urllib wraps the refusal in its own URLError; the output still records what was blocked.
    expect: ['blocked', 'exception'],
    check: (o, env) => {
      if (env.tripwire) assert.match(o.output ?? '', /network (connection to 127\.0\.0\.1:\d+|socket) \(blocked\)/);
    },
  },
  { name: 'dns_lookup', expect: 'blocked', message: /example\.com/ },
  { name: 'dns_gethostbyname', expect: 'blocked', message: /localhost/ },
  { name: 'server_bind', expect: 'blocked', message: /open a network socket \(blocked\)/ },
  { name: 'write_home', expect: 'blocked', message: blockedWrite },
  { name: 'write_tmp', expect: 'blocked', message: blockedWrite },
  { name: 'symlink_out', expect: 'blocked', message: blockedWrite },
  { name: 'os_open_write', expect: 'blocked', message: blockedWrite },
  { name: 'chdir_write', expect: 'blocked', message: blockedWrite },
  { name: 'remove_outside', expect: 'blocked', message: blockedWrite },
  { name: 'rename_outside', expect: 'blocked', message: blockedWrite },
  { name: 'rmtree_outside', expect: 'blocked', message: blockedWrite },
  { name: 'tempfile_outside', expect: 'blocked', message: blockedWrite },
  { name: 'subprocess_run', expect: 'blocked', message: blockedProcess },
  { name: 'os_system', expect: 'blocked', message: blockedProcess },
  { name: 'os_popen', expect: 'blocked', message: blockedProcess },
  { name: 'os_exec', expect: 'blocked', message: blockedProcess },
  { name: 'posix_spawn', expect: 'blocked', message: blockedProcess },
  { name: 'os_fork', expect: 'blocked', message: blockedProcess },
  { name: 'fork_bomb', expect: 'blocked', message: blockedProcess },
  { name: 'pty_spawn', expect: 'blocked', message: blockedProcess },
  { name: 'multiprocessing_start', expect: 'blocked', message: blockedProcess },
  { name: 'posixsubprocess_direct', expect: 'blocked', message: blockedProcess },
  { name: 'posixsubprocess_reimport', expect: 'blocked', message: blockedProcess },
  { name: 'posixsubprocess_create_builtin', expect: 'blocked', message: blockedProcess },
  { name: 'ctypes_system', expect: 'blocked', message: /ctypes/ },
  { name: 'kill_parent', expect: 'blocked', message: /signal/ },
  { name: 'killpg_all', expect: 'blocked', message: /signal/ },
  { name: 'setrlimit_raise', expect: 'blocked', message: /resource\.setrlimit/ },
  { name: 'gc_referrers', expect: 'blocked', message: /gc\.get_objects/ },
  {
    name: 'env_dump',
    expect: 'ok',
    check: (o) => {
      assert.match(o.output ?? '', /MPLCONFIGDIR/, 'the environment was printed');
      assert.doesNotMatch(o.output ?? '', /OPENAI_API_KEY|REFIGURE_API_KEY|HTTPS?_PROXY/i);
    },
  },
  { name: 'infinite_loop', expect: 'timeout', timeoutMs: loopTimeoutMs, message: /longer than 3 s/ },
  { name: 'sleep_forever', expect: 'timeout', timeoutMs: loopTimeoutMs, message: /longer than 3 s/ },
  { name: 'sigterm_ignore', expect: 'timeout', timeoutMs: loopTimeoutMs, message: /longer than 3 s/ },
  { name: 'memory_bomb', expect: 'memory', message: /memory limit of 1024 MiB/ },
  { name: 'numpy_bomb', expect: 'memory', message: /memory limit of 1024 MiB/ },
  {
    name: 'huge_stdout',
    expect: 'ok',
    check: (o) => {
      assert.ok((o.output ?? '').length < 70_000, `output of ${(o.output ?? '').length} characters`);
      assert.match(o.output ?? '', /truncated/);
    },
  },
  { name: 'huge_figure', expect: 'exception', message: /100000 × 100000 pixels, too large/ },
  {
    name: 'large_figure',
    expect: 'ok',
    check: (o, env) => assert.deepEqual({ width: o.width, height: o.height }, env.likeSize),
  },
  { name: 'sys_exit', expect: 'exit', message: /sys\.exit\(3\)/ },
  { name: 'os_exit', expect: 'exit', message: /exit status 7/ },
  {
    name: 'unicode_output',
    expect: 'ok',
    check: (o) => {
      assert.ok((o.output ?? '').includes('π ≈ 3.14159 — ∑ 😀'), o.output);
      assert.ok((o.output ?? '').includes('odd bytes: \ufffd\ufffd'), o.output);
    },
  },
  // Landlock grants rights beneath scratch, not over scratch itself: the folder stays.
  { name: 'delete_scratch', expect: 'exception', message: /Permission denied/ },
  {
    name: 'forge_protocol',
    expect: 'ok',
    check: (o) => {
      assert.ok((o.output ?? '').includes('"png": "/etc/passwd"'), 'the forged line stayed in the output');
      assert.ok(o.png && !o.png.includes('passwd'));
    },
  },
  { name: 'read_stdin', expect: 'exception', message: /EOFError/ },
  { name: 'backend_switch', expect: 'ok' },
  { name: 'big_file', expect: 'exception', message: /File too large/ },
  { name: 'recursion', expect: 'exception', message: /RecursionError/ },
  // Attacks on the kernel layers themselves. Each program tries every route it names for real (raw
  // system calls through ctypes where a Python-level hook would see the call) and prints a marker
  // for any that gets through, which fails the test; when all are stopped it raises PermissionError
  // naming each route with the refusal it met (an errno, or the tripwire). With the tripwire on,
  // ctypes itself is refused first; the kernel runs show which layer stopped each route.

  // The worker's protocol channel and the processes around the render.
  {
    name: 'pidfd_getfd_channel',
    expect: 'exception',
    message: everyStopped,
    kernelMessage: /pidfd_open\(worker\): EPERM; open \/proc\/<worker> as a pidfd: EACCES; pidfd_getfd\(worker's descriptors\): EPERM/,
  },
  { name: 'pidfd_signal_worker', expect: 'exception', message: everyStopped, kernelMessage: /pidfd_open\(worker\): EPERM; pidfd_send_signal\(worker, SIGKILL\) #0: EPERM/ },
  {
    name: 'pidfd_signal_node',
    expect: 'exception',
    message: everyStopped,
    kernelMessage: /pidfd_open\(Node\): EPERM;.* pidfd_send_signal\(Node, 0\): EPERM; pidfd_send_signal\(Node, SIGKILL\): EPERM/,
  },
  {
    name: 'kill_syscall_worker',
    expect: 'blocked',
    message: /ctypes/,
    kernelExpect: 'exception',
    kernelMessage: /kill\(worker\): EPERM; kill\(-worker group\): EPERM; tkill\(worker\): EPERM; tgkill\(worker\): EPERM; rt_sigqueueinfo\(worker\): EPERM; rt_tgsigqueueinfo\(worker\): EPERM/,
  },
  {
    name: 'kill_syscall_node',
    expect: 'blocked',
    message: /ctypes/,
    kernelExpect: 'exception',
    kernelMessage: /kill\(Node, 0\): EPERM; kill\(Node\): EPERM; tkill\(Node\): EPERM; tgkill\(Node\): EPERM; rt_sigqueueinfo\(Node\): EPERM/,
  },
  {
    name: 'sigio_owner',
    expect: 'exception',
    message: /F_SETOWN\(worker\), SIGKILL: EPERM/,
    kernelMessage: /F_SETOWN\(worker\), SIGKILL: EPERM; F_SETOWN\(worker's group\), SIGKILL: EPERM; F_SETOWN_EX\(worker\), SIGKILL: EPERM; F_SETOWN\(Node\), SIGWINCH: EPERM/,
  },
  {
    name: 'prlimit_others',
    expect: 'exception',
    message: everyStopped,
    kernelMessage: /prlimit64\(worker, RLIMIT_CPU = 1 s\): EPERM; prlimit64\(Node\) read: EPERM; prlimit64\(Node\) write: EPERM/,
  },
  {
    name: 'sched_others',
    expect: 'exception',
    message: everyStopped,
    // Node is not in bubblewrap's pid namespace (ESRCH); under Landlock alone it is, and refused.
    kernelMessage: /setpriority\(worker\): EPERM; sched_setaffinity\(worker\): EPERM; sched_setscheduler\(worker\): EPERM; setpriority\(Node\): (EPERM|ESRCH)/,
  },
  {
    name: 'ptrace_vm',
    expect: 'blocked',
    message: /ctypes/,
    kernelExpect: 'exception',
    kernelMessage: /ptrace\(PTRACE_ATTACH, worker\): EPERM; ptrace\(PTRACE_SEIZE, Node\): EPERM; ptrace\(PTRACE_TRACEME\): EPERM; process_vm_readv\(worker\): EPERM; process_vm_writev\(worker\): EPERM; process_vm_readv\(Node\): EPERM/,
  },
  {
    name: 'proc_environ',
    expect: 'exception',
    message: /\/proc\/<Node>\/environ: (EACCES|ENOENT).*\/proc\/<worker>\/environ: EACCES/,
    kernelMessage: /\/proc\/<Node>\/environ: (EACCES|ENOENT).*\/proc\/<worker>\/environ: EACCES.*list \/proc: EACCES/,
  },
  { name: 'proc_fd_reopen', expect: 'exception', message: everyStopped, kernelMessage: /open \/proc\/<worker>\/fd\/1 for writing: EACCES.*read through \/proc\/<worker>\/root: (EACCES|ENOENT)/ },
  { name: 'inherited_fds', expect: 'ok' },

  // The worker's fixed names, the render root and matplotlib's shared config.
  // The tripwire sees only the relative name; the kernel refuses.
  { name: 'symlink_out_dirfd', expect: 'exception', message: /symlink out\.png \(descriptor 0\): EACCES; symlink diff\.png \(descriptor 0\): EACCES/ },
  {
    name: 'link_fixed_names',
    expect: 'exception',
    message: /symlink \.\.\/out\.png: Blocked \(tripwire\)/,
    kernelMessage: /symlink \.\.\/out\.png: EACCES; .*hard link of a scratch file as \.\.\/out\.png: (EACCES|EXDEV); .*rename a scratch file to \.\.\/out\.png: (EACCES|EXDEV)/,
  },
  {
    name: 'render_root_write',
    expect: 'exception',
    message: everyStopped,
    // Under bubblewrap the scratch folder is on the worker's own tmpfs: the render root is not even there.
    kernelMessage: /write \.\.\/original\.png: (EACCES|ENOENT).*write \.\.\/\.\.\/home\/\.bashrc: (EACCES|ENOENT); write \.\.\/\.\.\/tmp\/planted\.txt: (EACCES|ENOENT); write \.\.\/\.\.\/planted\.txt: EACCES; mkdir \.\.\/\.\.\/r-forged: EACCES.*list the render root and write into every folder: EACCES/,
  },
  { name: 'mplconfig_poison', expect: 'exception', message: everyStopped, kernelMessage: /write matplotlibrc: EACCES; mkdir stylelib: EACCES; write a font cache: EACCES/ },
  { name: 'dirfd_create', expect: 'exception', message: /create \S+ in \S+: EACCES/, kernelMessage: /create \S+ in \S+: EACCES.*create dirfd\.txt in \.\.: EACCES.*create dirfd\.txt in \.\.\/\.\.: EACCES/ },
  { name: 'fifo_outputs', expect: 'exception', message: /mkfifo \.\.\/out\.png: EPERM/, kernelMessage: /mkfifo \.\.\/out\.png: EPERM; mkfifo \.\.\/diff\.png: EPERM; mkfifo \.\.\/original\.png: EPERM; mkfifo fifo\.png: EPERM; replace the staged original with a FIFO: (EACCES|ENOENT)/ },
  { name: 'mknod_devices', expect: 'exception', message: /mknod \/dev\/mem: EPERM; mknod a disk: EPERM; mknod \/dev\/null: EPERM; mknod a socket: EPERM; mknod a regular file: EPERM/ },

  // Writes and reads outside scratch by routes the tripwire does not see (no audit event, or a
  // check of one path only); bubblewrap does not mount the canary at all (ENOENT), Landlock refuses.
  { name: 'link_source_outside', expect: 'exception', message: /link the secret into scratch: (EXDEV|ENOENT); link package\.json into scratch: (EXDEV|ENOENT)/ },
  { name: 'sqlite_outside', expect: 'exception', message: /VACUUM INTO the canary folder: OperationalError; ATTACH a new database in the canary folder: OperationalError; ATTACH the secret file: OperationalError; VACUUM INTO the secret: OperationalError/ },
  { name: 'dbm_outside', expect: 'exception', message: everyStopped, kernelMessage: /dbm\.dumb database in the canary folder: (EACCES|ENOENT)/ },
  { name: 'readline_history', expect: 'exception', message: /write_history_file in the canary folder: (EACCES|ENOENT); append_history_file to the secret: (EACCES|ENOENT); read_history_file of the secret: (EACCES|ENOENT)/ },
  {
    name: 'rename_race',
    expect: 'ok',
    check: (o) => assert.match(o.output ?? '', /race over after \d+ swaps/),
  },
  {
    name: 'fchmod_readonly',
    expect: 'exception',
    message: /fchmod\(read-only descriptor, setuid\): EPERM; chmod\(scratch file, setuid\): EPERM/,
    kernelMessage: /fchmod\(read-only descriptor, setuid\): EPERM; chmod\(scratch file, setuid\): EPERM; chmod\(secret, setuid\): EPERM;.* fchmodat2\(O_PATH descriptor, '', AT_EMPTY_PATH\): EPERM; fchmodat\(secret\): EPERM/,
  },
  {
    name: 'utime_chown',
    expect: 'exception',
    message: everyStopped,
    kernelMessage: /utime \S+secret\.txt: EPERM; setxattr \S+secret\.txt: EPERM; chown victim: EPERM.*fchownat\(descriptor, '', AT_EMPTY_PATH\): EPERM; utimensat\(descriptor, NULL\): EPERM; utimensat\(secret\): EPERM/,
  },
  {
    name: 'read_secret',
    expect: 'exception',
    message: everyStopped,
    kernelMessage: /read the secret: (EACCES|ENOENT); read package\.json: (EACCES|ENOENT); read \.git\/config: (EACCES|ENOENT); list the repository: EACCES; list the home folder: EACCES/,
  },

  // New processes, other programs, and the kernel's larger interfaces.
  { name: 'fork_exec_direct', expect: 'exception', message: /subprocess\._fork_exec: EPERM/, kernelMessage: /subprocess\._fork_exec: EPERM; a fresh _posixsubprocess from the original import function: EPERM/ },
  { name: 'setsid_survivor', expect: 'exception', message: /fork, setsid, fork: Blocked \(tripwire\)/, kernelMessage: /fork, setsid, fork: EPERM/ },
  { name: 'clone_raw', expect: 'exception', message: everyStopped, kernelMessage: /clone\(SIGCHLD\): EPERM; clone\(CLONE_PARENT\): EPERM; clone\(thread \+ CLONE_NEWUSER\): EPERM; clone3: ENOSYS/ },
  { name: 'execve_ctypes', expect: 'exception', message: everyStopped, kernelMessage: /libc execve: EPERM; execve system call: EPERM; execveat of a copy in scratch: EPERM/ },
  { name: 'namespaces_ctypes', expect: 'exception', message: everyStopped, kernelMessage: /unshare\(user \+ mount\): EPERM; unshare\(network\): EPERM; unshare\(pid\): EPERM; open pid 1's mount namespace: EACCES; setns: EPERM; mount a tmpfs: EPERM; chroot: EPERM; pivot_root: EPERM/ },
  {
    name: 'sockets_ctypes',
    expect: 'exception',
    message: everyStopped,
    kernelMessage: /socket\(AF_INET\): EPERM; socket\(AF_INET6\): EPERM; socket\(AF_UNIX\): EPERM; socket\(AF_NETLINK route\): EPERM; socket\(AF_NETLINK audit\): EPERM; socket\(AF_PACKET\): EPERM; socket\(AF_VSOCK\): EPERM; socket\(AF_ALG\): EPERM; socketpair\(AF_UNIX\): EPERM/,
  },
  { name: 'io_uring_setup', expect: 'blocked', message: /ctypes/, kernelExpect: 'exception', kernelMessage: /io_uring_setup: EPERM; io_uring_enter: EPERM; io_uring_register: EPERM/ },
  { name: 'bpf_syscall', expect: 'blocked', message: /ctypes/, kernelExpect: 'exception', kernelMessage: /bpf\(BPF_MAP_CREATE\): EPERM; bpf\(BPF_PROG_LOAD\): EPERM/ },
  { name: 'keyctl_keys', expect: 'blocked', message: /ctypes/, kernelExpect: 'exception', kernelMessage: /add_key: EPERM; request_key: EPERM; keyctl\(KEYCTL_READ, user keyring\): EPERM/ },
  { name: 'perf_event', expect: 'blocked', message: /ctypes/, kernelExpect: 'exception', kernelMessage: /perf_event_open\(worker\): EPERM; perf_event_open\(whole CPU\): EPERM; perf_event_open\(self\): EPERM/ },
  { name: 'userfaultfd_open', expect: 'exception', message: everyStopped, kernelMessage: /userfaultfd: EPERM; open \/dev\/userfaultfd: (EACCES|ENOENT)/ },
  // The render has no terminal: EPERM (the filter) rather than ENOTTY shows the call itself is refused.
  { name: 'tiocsti_inject', expect: 'exception', message: /TIOCSTI on descriptor 0: EPERM; TIOCLINUX on descriptor 0: EPERM; TIOCSTI on descriptor 1: EPERM/ },
  { name: 'sysv_ipc', expect: 'exception', message: everyStopped, kernelMessage: /shared memory: EPERM; message queue: EPERM; semaphore: EPERM; mq_open: EPERM/ },
  { name: 'inotify_watch', expect: 'exception', message: everyStopped, kernelMessage: /watch \S+: EPERM; watch \S+: EPERM; watch \.\.\/\.\.: EPERM/ },
  { name: 'abi_x32', arch: 'x64', expect: 'blocked', message: /ctypes/, kernelExpect: 'blocked', kernelMessage: /system call the sandbox forbids \(signal 31\)/ },
  {
    name: 'abi_i386',
    arch: 'x64',
    expect: 'blocked',
    message: /ctypes/,
    // The filter kills a 32-bit call (SIGSYS); a kernel without the 32-bit entry point faults first (SIGSEGV).
    kernelExpect: ['blocked', 'exit'],
    kernelMessage: /system call the sandbox forbids \(signal 31\)|crashed the Python process \(signal 11\)/,
  },

  // Resources the limits must hold: memory the address-space limit does not count, and disk.
  { name: 'memfd_hoard', expect: 'exception', message: /Operation not permitted/ },
  {
    name: 'disk_fill',
    // Under bubblewrap the size-capped tmpfs refuses the write itself (ENOSPC); elsewhere the worker stops it.
    expect: ['memory', 'exception'],
    kernelExpect: ['memory', 'exception'],
    message: diskCapOrFull,
    check: (o) => {
      // No more than the cap written: the file that crosses it may complete, none after it.
      const written = [...(o.output ?? '').matchAll(/wrote (\d+) MiB/g)].map((m) => Number(m[1]));
      assert.ok(Math.max(0, ...written) <= 512 + 60, `wrote ${Math.max(0, ...written)} MiB`);
    },
  },
  { name: 'disk_fallocate_fast', expect: ['memory', 'exception'], kernelExpect: ['memory', 'exception'], message: diskCapOrFull },
  // A size-capped tmpfs under the scratch (bubblewrap's, or the render's own under Landlock) counts
  // files unlinked while open, which no folder walk sees.
  { name: 'disk_unlinked', expect: ['memory', 'exception'], kernelExpect: ['memory', 'exception'], message: diskCapOrFull },
  { name: 'disk_hidden_dir', expect: ['memory', 'exception'], kernelExpect: ['memory', 'exception'], message: diskCapOrFull },

  {
    // Control sequences arrive intact in the outcome (JSON output is exact); the CLI strips them
    // before a terminal sees them, which its own tests check.
    name: 'terminal_escapes',
    expect: 'exception',
    message: /\x1b\]0;owned\x07: \x1b\]52;c;/,
    check: (o) => assert.ok((o.output ?? '').includes('\x1b]52;c;') && (o.output ?? '').includes('\x1b[2J')),
  },

  // What the child reports: a forged result frame is only "what the code said".
  { name: 'forged_frame_huge', expect: 'worker', message: /declares 30000 x 30000 pixels, more than a render may have/ },
  {
    name: 'forged_frame_metrics',
    expect: 'ok',
    check: (o) => {
      // The figures are recomputed by the harness below; the paths the frame named are not used.
      assert.ok(o.png && o.diffPng && !JSON.stringify(o).includes('secret.txt'));
      assert.ok(!(o.compat ?? []).some((c) => c.includes('\x1b')), JSON.stringify(o.compat));
    },
  },
  { name: 'forged_frame_notes', expect: 'ok', check: (o) => assert.ok((o.output ?? '').length < 70_000, `output of ${(o.output ?? '').length} characters`) },
  {
    name: 'huge_error_message',
    expect: 'exception',
    check: (o) => {
      const text = (o.error?.message ?? '') + (o.error?.traceback ?? '');
      assert.ok(text.length < 70_000, `an error of ${text.length} characters`);
    },
  },
];

/** The shared helpers a program names with `# {{PRELUDE name}}` (test/hostile/prelude/name.py), inlined. */
function withPreludes(source: string): string {
  return source.replace(/^# \{\{PRELUDE (\w+)\}\}$/gm, (_line, name: string) => readFileSync(join(hostileDir, 'prelude', `${name}.py`), 'utf8'));
}

function expand(source: string, env: CaseEnv): string {
  return withPreludes(source)
    .replaceAll('{{PORT}}', String(env.port))
    .replaceAll('{{OUTSIDE}}', env.outside)
    .replaceAll('{{HOME_TARGET}}', env.homeTarget)
    .replaceAll('{{SECRET_FILE}}', env.secretFile)
    .replaceAll('{{NODE_PID}}', String(process.pid))
    .replaceAll('{{REPO}}', repoRoot);
}

/**
 * Every file under `dir` with its content, mode, owner, link count and times: what "nothing outside
 * changed" compares. The change time moves with any change of metadata (mode, owner, times, links,
 * extended attributes), so it catches those too.
 */
function snapshot(dir: string): string {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .sort()
    .map((name) => {
      const path = join(dir, name);
      const stat = lstatSync(path);
      const meta = `${stat.mode.toString(8)} ${stat.uid}:${stat.gid} ${stat.nlink} ${stat.mtimeMs} ${stat.ctimeMs}`;
      return `${name} ${meta} ${stat.isFile() ? readFileSync(path, 'utf8') : ''}`;
    })
    .join('\n');
}

/** What a program prints when one of its attacks got through (built so the program text never matches). */
const holeMarker = /REFIGURE-HOLE/;

test('every hostile program has a case and every case a program', () => {
  const files = readdirSync(hostileDir).filter((n) => n.endsWith('.py')).map((n) => n.slice(0, -3)).sort();
  assert.deepEqual(files, cases.map((c) => c.name).sort());
  assert.ok(cases.length >= 25);
});

const fixture = join(stemFixtures, readdirSync(stemFixtures).filter((n) => n.endsWith('.png')).sort()[0] ?? 'missing.png');
const fixtureBytes = readFileSync(fixture);
const likeSize = { width: fixtureBytes.readUInt32BE(16), height: fixtureBytes.readUInt32BE(20) };

// The same probes the render service makes; each layer is tested wherever it can work.
const bwrapUsable =
  process.platform === 'linux' &&
  spawnSync('bwrap', ['--ro-bind', '/', '/', '--unshare-all', '--die-with-parent', 'true'], { stdio: 'ignore' }).status === 0;
const python = process.env.REFIGURE_PYTHON || 'python3';
const kernelProbe = spawnSync(python, ['-I', join(repoRoot, 'python', 'refigure_jail.py'), '--probe'], { encoding: 'utf8' });
const kernel = kernelProbe.status === 0 ? (JSON.parse(kernelProbe.stdout) as { abi: number; seccomp: boolean }) : { abi: 0, seccomp: false };
const layers: Array<'bwrap' | 'landlock'> = [...(bwrapUsable && kernel.seccomp ? ['bwrap' as const] : []), ...(kernel.abi > 0 && kernel.seccomp ? ['landlock' as const] : [])];
const configs = layers.flatMap((layer) => [true, false].map((tripwire) => ({ layer, tripwire })));

describe('hostile programs', { concurrency: 2 }, () => {
  let server: Server;
  let connections = 0;
  let port = 0;
  const saved = { REFIGURE_API_KEY: process.env.REFIGURE_API_KEY, OPENAI_API_KEY: process.env.OPENAI_API_KEY, HTTPS_PROXY: process.env.HTTPS_PROXY };

  before(async () => {
    server = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
    // The worker's environment is scrubbed: secrets in ours must never reach the code.
    process.env.REFIGURE_API_KEY = secret;
    process.env.OPENAI_API_KEY = secret;
    process.env.HTTPS_PROXY = `http://user:${secret}@127.0.0.1:${port}`;
  });

  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  test('a layer is available to test here', () => assert.ok(layers.length > 0, 'neither bubblewrap nor Landlock works on this machine'));

  for (const { layer, tripwire } of configs) {
    describe(`under the ${layer} layer ${tripwire ? 'with the tripwire' : 'with only the kernel layers'}`, { concurrency: 1 }, () => {
      let renderer: RenderService;
      let baseline: number[] = [];
      const out = scratch('refigure-hostile-out-');
      const outsideRoot = scratch('refigure-hostile-outside-');
      const env: CaseEnv = {
        outside: join(outsideRoot.dir, 'outside'),
        homeTarget: join(homedir(), `refigure-hostile-${process.pid}-${layer}-${tripwire}.txt`),
        secretFile: join(outsideRoot.dir, 'outside', 'secret.txt'),
        port: 0,
        likeSize,
        tripwire,
      };

      const tree = () => descendants(renderer.workerPids()).filter((p) => p.state !== 'Z');
      let mplConfig = '';

      before(async () => {
        env.port = port;
        renderer = await createRenderer({ sandbox: layer, tripwire, memoryLimitMb: 1024 });
        assert.equal(renderer.sandbox, layer);
        mplConfig = mplConfigDir(renderer.python);
        const warm = await renderer.render({ code: 'import matplotlib.pyplot as plt\nplt.plot([0, 1])\n', outDir: out.dir, stem: 'warm' });
        assert.equal(warm.ok, true, JSON.stringify(warm.error));
        baseline = tree().map((p) => p.pid);
      });

      after(async () => {
        await renderer.close();
        rmSync(env.homeTarget, { force: true });
        out.dispose();
        outsideRoot.dispose();
      });

      for (const c of cases) {
        test(c.name, { skip: c.arch && c.arch !== process.arch ? `${c.arch} only` : false }, async () => {
          rmSync(env.outside, { recursive: true, force: true });
          mkdirSync(env.outside);
          writeFileSync(join(env.outside, 'keep.txt'), 'keep');
          writeFileSync(env.secretFile, fileSecret, { mode: 0o644 });
          const before = snapshot(env.outside);
          const configBefore = snapshot(mplConfig);
          const code = expand(readFileSync(join(hostileDir, `${c.name}.py`), 'utf8'), env);
          const outcome = await renderer.render({
            code,
            like: { path: fixture, ...likeSize },
            outDir: out.dir,
            stem: c.name,
            timeoutMs: c.timeoutMs ?? 20_000,
          });
          const shown = JSON.stringify({ ...outcome, output: outcome.output?.slice(0, 400) });
          assert.equal(outcome.sandbox, layer);
          const expected = tripwire ? c.expect : (c.kernelExpect ?? (c.expect === 'ok' ? 'ok' : 'failed'));
          if (expected === 'ok') assert.equal(outcome.ok, true, shown);
          else if (expected === 'failed') assert.equal(outcome.ok, false, shown);
          else if (expected !== 'any') {
            assert.equal(outcome.ok, false, shown);
            const kinds = Array.isArray(expected) ? expected : [expected];
            assert.ok(outcome.error && kinds.includes(outcome.error.kind), shown);
          }
          if (tripwire && c.message) assert.match(outcome.error?.message ?? '', c.message, shown);
          if (!tripwire && c.kernelMessage) assert.match(outcome.error?.message ?? '', c.kernelMessage, shown);
          c.check?.(outcome, env);

          // Whatever the program did: no secret leaked, nothing outside was created or changed, no
          // connection was made, no process was left behind, the figures are the worker's own, and
          // the next render works in the same worker.
          const everything = JSON.stringify(outcome) + (outcome.png ? readFileSync(outcome.png, 'latin1') : '') + (outcome.diffPng ? readFileSync(outcome.diffPng, 'latin1') : '');
          assert.ok(!everything.includes(secret), 'a secret from the environment reached the outcome');
          assert.ok(!everything.includes(fileSecret), 'a secret file reached the outcome');
          assert.doesNotMatch(everything, holeMarker, `the program reports an attack that got through:\n${outcome.output ?? ''}`);
          assert.equal(snapshot(env.outside), before, 'a file outside scratch was created or changed');
          assert.equal(snapshot(mplConfig), configBefore, "matplotlib's config folder was changed");
          assert.equal(existsSync(env.homeTarget), false);
          if (outcome.ok && outcome.metrics && outcome.png) {
            const recomputed = await renderer.compare(fixture, outcome.png);
            assert.deepEqual(outcome.metrics, recomputed, 'the figures are not those of the PNG delivered');
          }
          assert.equal(connections, 0, 'the listener saw a connection');
          const now = tree();
          assert.deepEqual(now.map((p) => p.pid), baseline, `processes left behind:\n${describeProcesses(now)}`);
          const next = await renderer.render({ code: 'import matplotlib.pyplot as plt\nplt.plot([1, 0])\n', outDir: out.dir, stem: 'next' });
          assert.equal(next.ok, true, JSON.stringify(next.error));
          assert.deepEqual(tree().map((p) => p.pid), baseline, 'the worker was not replaced');
        });
      }
    });
  }
});
