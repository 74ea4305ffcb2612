// Attacks on the Landlock + seccomp confinement of python/refigure_jail.py, each in a forked child confined as a render is.
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { repoRoot, scratch } from '../support/paths';

const python = process.env.REFIGURE_PYTHON || join(repoRoot, '.refigure-tools', 'venv', 'bin', 'python');
const moduleDir = join(repoRoot, 'python');
const runner = join(repoRoot, 'test', 'jail', 'runner.py');
/** What a render may read besides the interpreter's own prefixes (the runner adds those). */
const systemReads = ['/usr', '/lib', '/lib64', '/lib32', '/bin', '/etc/ld.so.cache', '/etc/fonts', '/etc/localtime'];

interface Probe {
  abi: number;
  seccomp: boolean;
  arch: string | null;
}

function probe(): Probe | string {
  if (process.platform !== 'linux') return `Landlock and seccomp are Linux only (this is ${process.platform})`;
  if (!existsSync(python)) return `no interpreter at ${python} (set REFIGURE_PYTHON)`;
  const run = spawnSync(python, ['-I', join(moduleDir, 'refigure_jail.py'), '--probe'], { encoding: 'utf8' });
  if (run.status !== 0) return `the probe failed: ${run.stderr}`;
  const found = JSON.parse(run.stdout) as Probe;
  if (found.abi < 1) return 'this kernel has no Landlock';
  if (!found.seccomp) return 'this kernel has no seccomp filters';
  return found;
}

const probed = probe();
const skip = typeof probed === 'string' ? probed : false;
const abi = typeof probed === 'string' ? 0 : probed.abi;
const arch = typeof probed === 'string' ? null : probed.arch;

// ---------------------------------------------------------------------------------------------
// One run: a case folder, the runner, and what it left behind
// ---------------------------------------------------------------------------------------------

type Mode = 'confine' | 'landlock' | 'seccomp' | 'none';
type Listener = 'tcp' | 'unix' | 'abstract';

interface Report {
  outcome: 'done' | 'blocked' | 'error' | 'jail-error' | 'setup-error';
  errno?: string;
  message?: string;
  value?: unknown;
  applied?: Record<string, number | boolean> | null;
}

interface Run {
  /** The child's report; missing when it was killed or replaced itself by exec. */
  report?: Report;
  /** The child's exit status as Python gives it: negative for a signal. */
  childStatus?: number;
  /** The stand-in worker survived and saw its child end. */
  parentAlive: boolean;
  output: string;
  filesChanged: boolean;
  secretSeen: boolean;
  connections: number;
  leftBehind: number[];
  scratch: string;
}

let root: { dir: string; dispose: () => void } | undefined;
let caseCount = 0;

before(() => {
  root = scratch('refigure-jail-');
  mkdirSync(join(root.dir, 'mplconfig'));
});
after(() => root?.dispose());

/** Everything under the case folder except scratch, by content: what "nothing changed outside" means. */
function snapshot(dir: string, skipName: string): string {
  const entries: string[] = [];
  const walk = (path: string, rel: string): void => {
    for (const name of readdirSync(path).sort()) {
      if (rel === '' && name === skipName) continue;
      const full = join(path, name);
      const stat = lstatSync(full);
      let detail = '';
      if (stat.isSymbolicLink()) detail = `-> ${readlinkSync(full)}`;
      else if (stat.isFile()) detail = createHash('sha256').update(readFileSync(full)).digest('hex');
      entries.push(`${rel}${name} ${stat.mode.toString(8)} ${stat.size} ${stat.mtimeMs} ${detail}`);
      if (stat.isDirectory()) walk(full, `${rel}${name}/`);
    }
  };
  walk(dir, '');
  return entries.join('\n');
}

/** Processes still in the session the child made for itself (its pid is the session id). */
function sessionMembers(session: number): number[] {
  const members: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[3]) === session) members.push(Number(name));
    } catch {
      // gone while we looked
    }
  }
  return members;
}

/**
 * A server the attack may try to reach. Connections are accepted in arrival order, so once our own
 * sentinel connection is seen, every connection the attack made has been counted: no sleeps.
 */
async function listen(kind: Listener, dir: string): Promise<{ where: string | number; count: () => Promise<number>; close: () => void }> {
  const sockets: Socket[] = [];
  let sentinelIndex: ((index: number) => void) | undefined;
  const sentinelSeen = new Promise<number>((resolve) => (sentinelIndex = resolve));
  const server: Server = createServer((socket) => {
    const index = sockets.push(socket) - 1;
    socket.on('data', (data) => {
      if (data.toString().includes('SENTINEL')) sentinelIndex?.(index);
    });
    socket.on('error', () => undefined);
  });
  const address =
    kind === 'tcp' ? { port: 0, host: '127.0.0.1' } : { path: kind === 'unix' ? join(dir, 'worker.sock') : `\0refigure-jail-${randomBytes(6).toString('hex')}` };
  await new Promise<void>((resolve) => server.listen(address, resolve));
  const bound = server.address();
  const where = kind === 'tcp' && bound && typeof bound === 'object' ? bound.port : (address as { path: string }).path;
  return {
    where,
    count: async () => {
      const client = typeof where === 'number' ? connect(where, '127.0.0.1') : connect(where);
      client.on('error', () => undefined);
      client.write('SENTINEL');
      const index = await sentinelSeen;
      client.destroy();
      return index;
    },
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

async function run(attack: string, mode: Mode, options: { listener?: Listener; preload?: boolean } = {}): Promise<Run> {
  assert.ok(root, 'the test folder exists');
  const dir = join(root.dir, `case-${++caseCount}`);
  const outside = join(dir, 'outside');
  const scratchDir = join(dir, 'scratch');
  mkdirSync(outside, { recursive: true });
  mkdirSync(scratchDir);
  const fileSecret = `file-secret-${randomBytes(8).toString('hex')}`;
  const envSecret = `sk-env-secret-${randomBytes(8).toString('hex')}`;
  writeFileSync(join(outside, 'secret.txt'), `${fileSecret}\n`);
  writeFileSync(join(outside, 'canary.txt'), 'original\n');
  const server = options.listener ? await listen(options.listener, outside) : undefined;
  const before = snapshot(dir, 'scratch');
  const config = {
    module_dir: moduleDir,
    scratch: scratchDir,
    outside,
    system_reads: systemReads,
    attack,
    mode,
    port: server && typeof server.where === 'number' ? server.where : 0,
    unix_path: options.listener === 'unix' ? server?.where : join(outside, 'no.sock'),
    abstract_name: options.listener === 'abstract' && typeof server?.where === 'string' ? server.where.slice(1) : 'refigure-jail-none',
    preload: options.preload ?? false,
  };
  // Its own process group, so an attack on the group hits the stand-in worker and never this test.
  const child = spawn(python, ['-I', '-B', runner, JSON.stringify(config)], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', REFIGURE_API_KEY: envSecret, MPLCONFIGDIR: join(root.dir, 'mplconfig') },
  });
  let output = '';
  child.stdout.on('data', (data: Buffer) => (output += data.toString()));
  child.stderr.on('data', (data: Buffer) => (output += data.toString()));
  const timer = setTimeout(() => process.kill(-(child.pid ?? 0), 'SIGKILL'), 60_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
  clearTimeout(timer);
  const connections = server ? await server.count() : 0;
  const filesChanged = snapshot(dir, 'scratch') !== before;
  server?.close(); // after the snapshot: closing removes the socket file
  const resultLine = output.split('\n').find((line) => line.startsWith('RESULT '));
  const parentLine = output.split('\n').find((line) => line.startsWith('PARENT '));
  assert.ok(!output.includes('SETUP '), output);
  const parent = parentLine ? (JSON.parse(parentLine.slice(7)) as { child_pid: number; child_status: number }) : undefined;
  return {
    report: resultLine ? (JSON.parse(resultLine.slice(7)) as Report) : undefined,
    childStatus: parent?.child_status,
    parentAlive: code === 0 && signal === null && parent !== undefined,
    output,
    filesChanged,
    secretSeen: output.includes(fileSecret) || output.includes(envSecret),
    connections,
    leftBehind: parent ? sessionMembers(parent.child_pid) : [],
    scratch: scratchDir,
  };
}

// ---------------------------------------------------------------------------------------------
// The attacks
// ---------------------------------------------------------------------------------------------

/** Signs that an attack did harm; an unconfined control run shows the ones it names. */
type Harm = 'files' | 'secret' | 'parent' | 'connection' | 'marker' | 'succeeded';
type Expect = { errno: string } | { signal: number };
const markers = ['SPAWNED-A-SHELL', 'EXECUTED-A-PROGRAM'];
const SIGSYS = 31;

interface Attack {
  /** A function in test/jail/attacks.py. */
  name: string;
  what: string;
  harm: readonly Harm[];
  confined: Expect;
  /** Modes in which one layer on its own already stops the attack. */
  alone?: Partial<Record<'landlock' | 'seccomp', Expect>>;
  listener?: Listener;
  /** The unconfined control would act on this machine itself (a real mount): not run. */
  noControl?: string;
  onlyArch?: string;
}

const EACCES = { errno: 'EACCES' };
const EPERM = { errno: 'EPERM' };

const attacks: Attack[] = [
  { name: 'write_new_outside', what: 'creates a file outside scratch', harm: ['files'], confined: EACCES, alone: { landlock: EACCES } },
  { name: 'overwrite_canary', what: 'overwrites a file outside scratch', harm: ['files'], confined: EACCES, alone: { landlock: EACCES } },
  { name: 'truncate_canary', what: 'truncates a file outside scratch', harm: ['files'], confined: EACCES, alone: { landlock: EACCES } },
  { name: 'read_secret', what: 'reads a secret file outside the read paths', harm: ['secret'], confined: EACCES, alone: { landlock: EACCES } },
  { name: 'symlink_outside', what: 'makes a symlink outside scratch', harm: ['files'], confined: EACCES },
  { name: 'read_through_symlink', what: 'reads the secret through a symlink made in scratch', harm: ['secret'], confined: EACCES },
  { name: 'hardlink_secret_in', what: 'hard-links the secret into scratch', harm: ['secret'], confined: { errno: 'EXDEV' } },
  { name: 'hardlink_out', what: 'hard-links a scratch file outside', harm: ['files'], confined: EACCES },
  { name: 'rename_out', what: 'renames a scratch file to outside', harm: ['files'], confined: EACCES },
  { name: 'rename_canary_in', what: 'renames an outside file into scratch', harm: ['files'], confined: EACCES },
  { name: 'create_with_parent_dir_fd', what: 'creates a file through a descriptor of scratch’s parent opened before confinement', harm: ['files'], confined: EACCES, alone: { landlock: EACCES } },
  { name: 'fchmod_read_only_fd', what: 'makes a file setuid through a read-only descriptor', harm: ['files'], confined: EPERM, alone: { seccomp: EPERM } },
  { name: 'chmod_canary', what: 'changes the mode of a file outside scratch', harm: ['files'], confined: EPERM, alone: { seccomp: EPERM } },
  { name: 'socket_inet', what: 'makes an IPv4 socket', harm: ['succeeded'], confined: EPERM, alone: { seccomp: EPERM } },
  { name: 'connect_tcp', what: 'connects to a port on 127.0.0.1 and sends data', harm: ['connection'], confined: EPERM, listener: 'tcp', alone: { landlock: EACCES, seccomp: EPERM } },
  { name: 'connect_unix', what: 'connects to a listening Unix socket by path', harm: ['connection'], confined: EPERM, listener: 'unix', alone: { seccomp: EPERM } },
  { name: 'connect_abstract', what: 'connects to an abstract Unix socket', harm: ['connection'], confined: EPERM, listener: 'abstract', alone: { landlock: EPERM, seccomp: EPERM } },
  { name: 'fork', what: 'forks', harm: ['succeeded'], confined: EPERM, alone: { seccomp: EPERM } },
  { name: 'run_subprocess', what: 'runs a shell with subprocess', harm: ['marker'], confined: EPERM, alone: { seccomp: EPERM } },
  { name: 'execv', what: 'replaces itself with another program', harm: ['marker'], confined: EPERM, alone: { seccomp: EPERM } },
  { name: 'kill_parent', what: 'SIGKILLs the worker', harm: ['parent'], confined: EPERM, alone: { landlock: EPERM, seccomp: EPERM } },
  { name: 'killpg_parent', what: 'SIGKILLs the worker’s process group', harm: ['parent'], confined: EPERM, alone: { landlock: EPERM, seccomp: EPERM } },
  { name: 'tgkill_parent', what: 'SIGKILLs the worker with tgkill', harm: ['parent'], confined: EPERM, alone: { landlock: EPERM, seccomp: EPERM } },
  { name: 'pidfd_open_parent', what: 'opens a pidfd of the worker', harm: ['succeeded'], confined: EPERM, alone: { seccomp: EPERM } },
  { name: 'pidfd_getfd_parent', what: 'takes the worker’s open files with pidfd_getfd', harm: ['secret'], confined: EPERM, alone: { landlock: EPERM, seccomp: EPERM } },
  { name: 'pidfd_send_signal_parent', what: 'SIGKILLs the worker through a pidfd', harm: ['parent'], confined: EPERM, alone: { landlock: EPERM, seccomp: EPERM } },
  { name: 'ptrace_parent', what: 'attaches to the worker with ptrace', harm: ['succeeded'], confined: EPERM, alone: { landlock: EPERM, seccomp: EPERM } },
  { name: 'process_vm_readv_parent', what: 'reads the worker’s memory', harm: ['secret'], confined: EPERM, alone: { landlock: EPERM, seccomp: EPERM } },
  { name: 'proc_environ_parent', what: 'reads the worker’s environment from /proc', harm: ['secret'], confined: EACCES, alone: { landlock: EACCES } },
  { name: 'unshare_user', what: 'makes a new user namespace', harm: ['succeeded'], confined: EPERM, alone: { seccomp: EPERM } },
  { name: 'mount_tmpfs', what: 'mounts a tmpfs over scratch', harm: ['succeeded'], confined: EPERM, alone: { landlock: EPERM, seccomp: EPERM }, noControl: 'an unconfined mount would change this machine' },
  { name: 'fsopen_tmpfs', what: 'starts a mount with the new mount API', harm: ['succeeded'], confined: EPERM, alone: { seccomp: EPERM } },
  { name: 'io_uring', what: 'sets up an io_uring (system calls the filter never sees)', harm: ['succeeded'], confined: EPERM, alone: { seccomp: EPERM } },
  { name: 'x32_syscall', what: 'makes a system call through the x32 table', harm: ['succeeded'], confined: { signal: SIGSYS }, alone: { seccomp: { signal: SIGSYS } }, onlyArch: 'x86_64' },
];

function assertContained(result: Run, expect: Expect, label: string): void {
  const detail = `${label}\n${result.output}`;
  assert.equal(result.filesChanged, false, `nothing outside scratch changes: ${detail}`);
  assert.equal(result.secretSeen, false, `no secret in the output: ${detail}`);
  assert.equal(result.parentAlive, true, `the worker stand-in is alive: ${detail}`);
  assert.equal(result.connections, 0, `no connection arrives: ${detail}`);
  for (const marker of markers) assert.ok(!result.output.includes(marker), `no other program ran: ${detail}`);
  assert.deepEqual(result.leftBehind, [], `no process is left behind: ${detail}`);
  if ('errno' in expect) {
    assert.equal(result.report?.outcome, 'blocked', detail);
    assert.equal(result.report?.errno, expect.errno, detail);
  } else {
    assert.equal(result.report, undefined, detail);
    assert.equal(result.childStatus, -expect.signal, detail);
  }
}

function harmDone(result: Run, harm: Harm): boolean {
  switch (harm) {
    case 'files':
      return result.filesChanged;
    case 'secret':
      return result.secretSeen;
    case 'parent':
      return !result.parentAlive;
    case 'connection':
      return result.connections > 0;
    case 'marker':
      return markers.some((marker) => result.output.includes(marker));
    case 'succeeded':
      return result.report?.outcome === 'done';
  }
}

for (const attack of attacks) {
  const archSkip = attack.onlyArch && arch !== attack.onlyArch ? `only on ${attack.onlyArch}` : false;
  const options = { skip: skip || archSkip };
  test(`confined: a render that ${attack.what} is stopped`, options, async () => {
    const result = await run(attack.name, 'confine', { listener: attack.listener });
    assertContained(result, attack.confined, attack.name);
  });
  for (const [layer, expect] of Object.entries(attack.alone ?? {}) as ['landlock' | 'seccomp', Expect][]) {
    test(`${layer} alone: a render that ${attack.what} is stopped`, options, async () => {
      const result = await run(attack.name, layer, { listener: attack.listener });
      assertContained(result, expect, `${attack.name} under ${layer} alone`);
    });
  }
  test(`control: unconfined, a render that ${attack.what} does harm the checks see`, { skip: skip || archSkip || attack.noControl || false }, async (t: TestContext) => {
    const result = await run(attack.name, 'none', { listener: attack.listener });
    const seen = attack.harm.filter((harm) => harmDone(result, harm));
    if (seen.length === 0 && result.report?.outcome === 'blocked' && ['EPERM', 'EACCES'].includes(result.report.errno ?? '')) {
      t.skip(`this system refuses it even unconfined (${result.report.errno}), so the check cannot be shown to fire here`);
      return;
    }
    assert.deepEqual(seen, attack.harm, result.output);
  });
}

// ---------------------------------------------------------------------------------------------
// Work a figure needs still succeeds
// ---------------------------------------------------------------------------------------------

async function benign(name: string, preload = false): Promise<Run> {
  const result = await run(name, 'confine', { preload });
  assert.equal(result.report?.outcome, 'done', result.output);
  assert.deepEqual(result.report?.applied, { landlock: abi, seccomp: true, no_new_privs: true, no_capabilities: true, disk: 'polled' });
  assert.equal(result.filesChanged, false, result.output);
  assert.equal(result.parentAlive, true, result.output);
  return result;
}

test('confined: threads run numpy', { skip }, async () => {
  const result = await benign('benign_threads', true);
  assert.deepEqual(result.report?.value, [40000, 40000, 40000, 40000]);
});

test('confined: files are made, renamed, linked, read and removed inside scratch', { skip }, async () => {
  const result = await benign('benign_files');
  assert.deepEqual(result.report?.value, { data: { x: [1, 2, 3] }, listing: ['data.json'] });
});

test('confined: matplotlib, loaded before confinement as in the worker, draws and saves a PNG into scratch', { skip }, async () => {
  const result = await benign('benign_plot', true);
  const png = readFileSync(join(result.scratch, 'figure.png'));
  assert.equal(png.length, result.report?.value);
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.ok(png.length > 2000, `a real figure, not an empty image (${png.length} bytes)`);
});

test('confined: the code may still signal itself', { skip }, async () => {
  const result = await benign('benign_signal_self');
  assert.deepEqual(result.report?.value, ['kill', 'raise']);
});

test('confined: no_new_privs is set, a seccomp filter is loaded and no capability is left', { skip }, async () => {
  const result = await benign('benign_flags');
  assert.deepEqual(result.report?.value, { no_new_privs: 1, seccomp_mode: 2, effective_caps: 0, permitted_caps: 0 });
});

// ---------------------------------------------------------------------------------------------
// Refusals: confinement that cannot be applied is an error, never a silent partial jail
// ---------------------------------------------------------------------------------------------

function pythonJson(code: string): Record<string, unknown> {
  const run = spawnSync(python, ['-I', '-c', `import sys, json; sys.path.insert(0, ${JSON.stringify(moduleDir)}); import refigure_jail as jail\n${code}`], {
    encoding: 'utf8',
  });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

test('confine refuses, before changing anything, when scratch is missing or other threads already run', { skip }, () => {
  const tmp = scratch('refigure-jail-refuse-');
  try {
    const found = pythonJson(`
import ctypes, threading
out = {}
try:
    jail.confine(${JSON.stringify(join(tmp.dir, 'missing'))}, [])
except jail.JailError as error:
    out["missing"] = str(error)
stop = threading.Event()
worker = threading.Thread(target=stop.wait)
worker.start()
try:
    jail.confine(${JSON.stringify(tmp.dir)}, [])
except jail.JailError as error:
    out["threads"] = str(error)
stop.set()
worker.join()
out["no_new_privs"] = ctypes.CDLL(None).prctl(39, 0, 0, 0, 0)
print(json.dumps(out))`);
    assert.match(String(found.missing), /scratch folder .*missing does not exist/);
    assert.match(String(found.threads), /Landlock confines one thread and this process has 2: confine before starting threads/);
    assert.equal(found.no_new_privs, 0, 'a refused confinement leaves the process as it was');
  } finally {
    tmp.dispose();
  }
});

// ---------------------------------------------------------------------------------------------
// The filter's logic on both architectures, run by a small classic-BPF interpreter
// ---------------------------------------------------------------------------------------------

const AUDIT_ARCH = { x86_64: 0xc000003e, aarch64: 0xc00000b7, i386: 0x40000003 } as const;
const RET_ALLOW = 0x7fff0000;
const RET_KILL_PROCESS = 0x80000000;
const errnoRet = (code: number): number => (0x00050000 | code) >>> 0;
const RET_EPERM = errnoRet(1);
const RET_ENOSYS = errnoRet(38);
const ownPid = 4242;

/** Runs the program against one seccomp_data (nr, arch, args) and returns the action, as the kernel would. */
function evaluate(program: Buffer, call: { arch: number; nr: number; args?: readonly bigint[] }): number {
  assert.equal(program.length % 8, 0, 'whole sock_filter instructions');
  const count = program.length / 8;
  assert.ok(count > 0 && count <= 4096, `within the kernel's limit (${count})`);
  const data = Buffer.alloc(64);
  data.writeUInt32LE(call.nr >>> 0, 0);
  data.writeUInt32LE(call.arch >>> 0, 4);
  (call.args ?? []).forEach((arg, i) => data.writeBigUInt64LE(BigInt.asUintN(64, arg), 16 + 8 * i));
  let pc = 0;
  let a = 0;
  for (;;) {
    assert.ok(pc < count, `jump past the end at ${pc}`);
    const code = program.readUInt16LE(pc * 8);
    const jt = program.readUInt8(pc * 8 + 2);
    const jf = program.readUInt8(pc * 8 + 3);
    const k = program.readUInt32LE(pc * 8 + 4);
    switch (code) {
      case 0x20: // BPF_LD | BPF_W | BPF_ABS
        assert.ok(k % 4 === 0 && k < 64, `a load inside seccomp_data (${k})`);
        a = data.readUInt32LE(k);
        pc += 1;
        break;
      case 0x15: // BPF_JMP | BPF_JEQ | BPF_K
        pc += 1 + (a === k ? jt : jf);
        break;
      case 0x45: // BPF_JMP | BPF_JSET | BPF_K
        pc += 1 + ((a & k) !== 0 ? jt : jf);
        break;
      case 0x06: // BPF_RET | BPF_K
        return k;
      default:
        assert.fail(`unexpected opcode 0x${code.toString(16)} at ${pc}`);
    }
  }
}

function filterFor(archName: 'x86_64' | 'aarch64', options: { allowExec?: boolean; allowFork?: boolean; ownPid?: number | null } = {}): Buffer {
  const pid = options.ownPid === undefined ? ownPid : options.ownPid;
  const call = `jail.seccomp_filter(${JSON.stringify(archName)}, allow_exec=${options.allowExec ? 'True' : 'False'}, own_pid=${pid ?? 'None'}, allow_fork=${options.allowFork ? 'True' : 'False'})`;
  const run = spawnSync(python, ['-I', '-c', `import sys; sys.path.insert(0, ${JSON.stringify(moduleDir)}); import refigure_jail as jail; sys.stdout.buffer.write(${call})`]);
  assert.equal(run.status, 0, run.stderr.toString());
  return run.stdout;
}

/** System call numbers written out independently of the module's table, to catch a mix-up between the two. */
const NR = {
  x86_64: { read: 0, openat: 257, getpid: 39, mmap: 9, ioctl: 16, execve: 59, clone: 56, clone3: 435, kill: 62, tgkill: 234, socket: 41, ptrace: 101, pidfd_getfd: 438, mount: 165, fchmodat: 268, unshare: 272 },
  aarch64: { read: 63, openat: 56, getpid: 172, mmap: 222, ioctl: 29, execve: 221, clone: 220, clone3: 435, kill: 129, tgkill: 131, socket: 198, ptrace: 117, pidfd_getfd: 438, mount: 40, fchmodat: 53, unshare: 97 },
} as const;
const THREAD_FLAGS = 0x3d0f00n; // what glibc's pthread_create passes: CLONE_VM|FS|FILES|SIGHAND|THREAD|SYSVSEM|SETTLS|PARENT_SETTID|CHILD_CLEARTID
const FORK_FLAGS = 0x1200011n; // fork(): SIGCHLD|CLONE_CHILD_SETTID|CLONE_CHILD_CLEARTID
const SPAWN_FLAGS = 0x4111n; // posix_spawn: CLONE_VM|CLONE_VFORK|SIGCHLD
const CLONE_NEWUSER = 0x10000000n;

for (const archName of ['x86_64', 'aarch64'] as const) {
  test(`the ${archName} filter allows ordinary calls and threads, and denies processes, exec, sockets and reaching other processes`, { skip: existsSync(python) ? false : `no interpreter at ${python}` }, () => {
    const program = filterFor(archName);
    const nr = NR[archName];
    const own = AUDIT_ARCH[archName];
    const verdict = (name: keyof typeof nr, ...args: bigint[]): number => evaluate(program, { arch: own, nr: nr[name], args });
    for (const name of ['read', 'openat', 'getpid', 'mmap'] as const) assert.equal(verdict(name), RET_ALLOW, name);
    for (const name of ['execve', 'socket', 'ptrace', 'pidfd_getfd', 'mount', 'fchmodat', 'unshare'] as const) assert.equal(verdict(name), RET_EPERM, name);
    assert.equal(verdict('clone', THREAD_FLAGS), RET_ALLOW, 'threads');
    assert.equal(verdict('clone', FORK_FLAGS), RET_EPERM, 'fork');
    assert.equal(verdict('clone', SPAWN_FLAGS), RET_EPERM, 'posix_spawn');
    assert.equal(verdict('clone', THREAD_FLAGS | CLONE_NEWUSER), RET_EPERM, 'a thread in a new namespace');
    assert.equal(verdict('clone3'), RET_ENOSYS, 'clone3 sends glibc back to clone');
    assert.equal(verdict('kill', BigInt(ownPid), 9n), RET_ALLOW, 'itself');
    assert.equal(verdict('kill', 0n, 9n), RET_ALLOW, 'its own group');
    assert.equal(verdict('kill', BigInt(ownPid + 1), 9n), RET_EPERM, 'another process');
    assert.equal(verdict('kill', -1n, 9n), RET_EPERM, 'every process');
    assert.equal(verdict('tgkill', BigInt(ownPid), 77n, 10n), RET_ALLOW, 'one of its threads');
    assert.equal(verdict('tgkill', BigInt(ownPid - 1), 77n, 10n), RET_EPERM, 'a thread elsewhere');
    assert.equal(verdict('ioctl', 1n, 0x5412n), RET_EPERM, 'TIOCSTI types into a terminal');
    assert.equal(verdict('ioctl', 1n, 0x541bn), RET_ALLOW, 'FIONREAD');
    const foreign = archName === 'x86_64' ? AUDIT_ARCH.i386 : AUDIT_ARCH.x86_64;
    assert.equal(evaluate(program, { arch: foreign, nr: nr.getpid }), RET_KILL_PROCESS, 'another architecture’s table');
    if (archName === 'x86_64') assert.equal(evaluate(program, { arch: own, nr: 0x40000000 + nr.getpid }), RET_KILL_PROCESS, 'the x32 table');
  });

  test(`the ${archName} filter's options: exec, a worker's own children, no known pid`, { skip: existsSync(python) ? false : `no interpreter at ${python}` }, () => {
    const nr = NR[archName];
    const own = AUDIT_ARCH[archName];
    const exec = filterFor(archName, { allowExec: true });
    assert.equal(evaluate(exec, { arch: own, nr: nr.execve }), RET_ALLOW);
    assert.equal(evaluate(exec, { arch: own, nr: nr.clone, args: [FORK_FLAGS] }), RET_EPERM, 'exec alone does not allow new processes');
    const worker = filterFor(archName, { allowFork: true, ownPid: null });
    assert.equal(evaluate(worker, { arch: own, nr: nr.clone, args: [FORK_FLAGS] }), RET_ALLOW, 'a worker forks renders');
    assert.equal(evaluate(worker, { arch: own, nr: nr.kill, args: [1234n, 9n] }), RET_ALLOW, 'and kills them');
    assert.equal(evaluate(worker, { arch: own, nr: nr.clone, args: [FORK_FLAGS | CLONE_NEWUSER] }), RET_EPERM, 'but makes no namespaces');
    assert.equal(evaluate(worker, { arch: own, nr: nr.execve }), RET_EPERM);
    assert.equal(evaluate(worker, { arch: own, nr: nr.pidfd_getfd }), RET_EPERM);
    const anonymous = filterFor(archName, { ownPid: null });
    assert.equal(evaluate(anonymous, { arch: own, nr: nr.kill, args: [BigInt(ownPid), 9n] }), RET_EPERM, 'without a pid only the group');
    assert.equal(evaluate(anonymous, { arch: own, nr: nr.kill, args: [0n, 9n] }), RET_ALLOW);
  });
}

test('the command line writes the same filter as the function, for bwrap --seccomp', { skip }, () => {
  assert.ok(arch === 'x86_64' || arch === 'aarch64');
  const cli = spawnSync(python, ['-I', join(moduleDir, 'refigure_jail.py'), '--bpf', '--own-pid', String(ownPid)]);
  assert.equal(cli.status, 0, cli.stderr.toString());
  assert.deepEqual(cli.stdout, filterFor(arch));
  const withExec = spawnSync(python, ['-I', join(moduleDir, 'refigure_jail.py'), '--bpf', '--allow-exec', '--own-pid', String(ownPid)]);
  assert.deepEqual(withExec.stdout, filterFor(arch, { allowExec: true }));
  assert.notDeepEqual(withExec.stdout, cli.stdout);
});
