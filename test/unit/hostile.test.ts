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
import { createRenderer, type RenderService } from '../../src/core/render';
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
];

function expand(source: string, env: CaseEnv): string {
  return source
    .replaceAll('{{PORT}}', String(env.port))
    .replaceAll('{{OUTSIDE}}', env.outside)
    .replaceAll('{{HOME_TARGET}}', env.homeTarget)
    .replaceAll('{{SECRET_FILE}}', env.secretFile)
    .replaceAll('{{NODE_PID}}', String(process.pid))
    .replaceAll('{{REPO}}', repoRoot);
}

/** Every file under `dir` with its content and mode: what "nothing outside changed" compares. */
function snapshot(dir: string): string {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .sort()
    .map((name) => {
      const path = join(dir, name);
      const stat = lstatSync(path);
      return `${name} ${stat.mode.toString(8)} ${stat.mtimeMs} ${stat.isFile() ? readFileSync(path, 'utf8') : ''}`;
    })
    .join('\n');
}

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

      before(async () => {
        env.port = port;
        renderer = await createRenderer({ sandbox: layer, tripwire, memoryLimitMb: 1024 });
        assert.equal(renderer.sandbox, layer);
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
        test(c.name, async () => {
          rmSync(env.outside, { recursive: true, force: true });
          mkdirSync(env.outside);
          writeFileSync(join(env.outside, 'keep.txt'), 'keep');
          writeFileSync(env.secretFile, fileSecret, { mode: 0o644 });
          const before = snapshot(env.outside);
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
          c.check?.(outcome, env);

          // Whatever the program did: no secret leaked, nothing outside was created or changed, no
          // connection was made, no process was left behind, the figures are the worker's own, and
          // the next render works in the same worker.
          const everything = JSON.stringify(outcome) + (outcome.png ? readFileSync(outcome.png, 'latin1') : '') + (outcome.diffPng ? readFileSync(outcome.diffPng, 'latin1') : '');
          assert.ok(!everything.includes(secret), 'a secret from the environment reached the outcome');
          assert.ok(!everything.includes(fileSecret), 'a secret file reached the outcome');
          assert.equal(snapshot(env.outside), before, 'a file outside scratch was created or changed');
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
