// Hostile and broken programs (test/hostile/*.py) against every sandbox layer available here.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createRenderer, type RenderService } from '../../src/core/render';
import type { RenderErrorKind, RenderOutcome, SandboxLayer } from '../../src/core/types';
import { repoRoot, scratch, stemFixtures } from '../support/paths';
import { descendants, describe as describeProcesses } from '../hostile/processes';

const hostileDir = join(repoRoot, 'test', 'hostile');
const secret = `sk-refigure-hostile-${process.pid}-do-not-leak`;
const loopTimeoutMs = 3000;

interface Case {
  /** File name in test/hostile without `.py`. */
  name: string;
  /** The outcome: `ok`, or the error kind(s) allowed. */
  expect: 'ok' | RenderErrorKind | RenderErrorKind[];
  message?: RegExp;
  timeoutMs?: number;
  check?: (outcome: RenderOutcome, env: CaseEnv) => void;
}

interface CaseEnv {
  outside: string;
  homeTarget: string;
  port: number;
  likeSize: { width: number; height: number };
}

const blockedWrite = /write outside its scratch folder/;
const blockedProcess = /start a process \(blocked\)/;

const cases: Case[] = [
  { name: 'net_connect', expect: 'blocked', message: /network connection to 127\.0\.0\.1:\d+ \(blocked\)/ },
  { name: 'net_raw_connect', expect: 'blocked', message: /network connection to 127\.0\.0\.1:\d+ \(blocked\)/ },
  {
    name: 'net_urllib',
    // urllib wraps the refusal in its own URLError; the output still records what was blocked.
    expect: ['blocked', 'exception'],
    check: (o) => assert.match(o.output ?? '', /network connection to 127\.0\.0\.1:\d+ \(blocked\)/),
  },
  { name: 'dns_lookup', expect: 'blocked', message: /example\.com/ },
  { name: 'dns_gethostbyname', expect: 'blocked', message: /localhost/ },
  { name: 'server_bind', expect: 'blocked', message: /listen on 0\.0\.0\.0:0/ },
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
  { name: 'delete_scratch', expect: 'ok' },
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
    .replaceAll('{{HOME_TARGET}}', env.homeTarget);
}

test('every hostile program has a case and every case a program', () => {
  const files = readdirSync(hostileDir).filter((n) => n.endsWith('.py')).map((n) => n.slice(0, -3)).sort();
  assert.deepEqual(files, cases.map((c) => c.name).sort());
  assert.ok(cases.length >= 25);
});

const fixture = join(stemFixtures, readdirSync(stemFixtures).filter((n) => n.endsWith('.png')).sort()[0] ?? 'missing.png');
const fixtureBytes = readFileSync(fixture);
const likeSize = { width: fixtureBytes.readUInt32BE(16), height: fixtureBytes.readUInt32BE(20) };

// The same probe the render service makes; the bwrap layer is tested wherever it can work.
const bwrapUsable =
  process.platform === 'linux' &&
  spawnSync('bwrap', ['--ro-bind', '/', '/', '--unshare-all', '--die-with-parent', 'true'], { stdio: 'ignore' }).status === 0;
const layers: SandboxLayer[] = bwrapUsable ? ['bwrap', 'process'] : ['process'];

describe('hostile programs', { concurrency: layers.length }, () => {
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

  for (const layer of layers) {
    describe(`under the ${layer} layer`, { concurrency: 1 }, () => {
      let renderer: RenderService;
      let baseline: number[] = [];
      const out = scratch('refigure-hostile-out-');
      const outsideRoot = scratch('refigure-hostile-outside-');
      const env: CaseEnv = {
        outside: join(outsideRoot.dir, 'outside'),
        homeTarget: join(homedir(), `refigure-hostile-${process.pid}-${layer}.txt`),
        port: 0,
        likeSize,
      };

      const tree = () => descendants(renderer.workerPids()).filter((p) => p.state !== 'Z');

      before(async () => {
        env.port = port;
        renderer = await createRenderer({
          sandbox: layer === 'bwrap' ? 'require-isolation' : 'process',
          memoryLimitMb: 1024,
        });
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
          if (c.expect === 'ok') assert.equal(outcome.ok, true, shown);
          else {
            assert.equal(outcome.ok, false, shown);
            const kinds = Array.isArray(c.expect) ? c.expect : [c.expect];
            assert.ok(outcome.error && kinds.includes(outcome.error.kind), shown);
          }
          if (c.message) assert.match(outcome.error?.message ?? '', c.message, shown);
          c.check?.(outcome, env);

          // Whatever the program did: no secret leaked, nothing was written outside, no connection
          // was made, no process was left behind, and the next render works.
          assert.ok(!JSON.stringify(outcome).includes(secret), 'a secret reached the code');
          assert.deepEqual(readdirSync(env.outside), ['keep.txt']);
          assert.equal(readFileSync(join(env.outside, 'keep.txt'), 'utf8'), 'keep');
          assert.equal(existsSync(env.homeTarget), false);
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
