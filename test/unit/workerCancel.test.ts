// Cancelling a render at the worker's edges: a cancel that arrives together with its render, and a child
// killed before it has made its own process group. Both used to leave the worker waiting for the code to
// finish by itself, so Node killed the whole worker after its grace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { findPython } from '../../src/core/render/python';
import { pythonDir } from '../../src/core/paths';
import { mplConfigDir, scrubbedEnv } from '../../src/core/render/sandbox';
import { scratch } from '../support/paths';

const posix = process.platform !== 'win32';

/** Runs the worker outside any sandbox and speaks its protocol directly. */
async function startWorker(root: string) {
  const info = await findPython({});
  const env = scrubbedEnv(process.env, { home: join(root, 'home'), mplConfig: mplConfigDir(info), temp: join(root, 'tmp') });
  for (const folder of ['home', 'tmp']) mkdirSync(join(root, folder), { recursive: true });
  const child = spawn(info.path, ['-I', '-u', join(pythonDir(), 'refigure_worker.py')], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  const replies: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  let buffer = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    buffer += chunk;
    for (let newline = buffer.indexOf('\n'); newline >= 0; newline = buffer.indexOf('\n')) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      if (line.trim()) replies.push(JSON.parse(line) as Record<string, unknown>);
      for (const wake of waiters.splice(0)) wake();
    }
  });
  child.stderr.resume();
  const next = (match: (reply: Record<string, unknown>) => boolean) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const look = () => {
        const found = replies.find(match);
        if (found) return resolve(found);
        if (child.exitCode !== null) return reject(new Error(`the worker exited (${child.exitCode}) without the reply`));
        waiters.push(look);
      };
      child.once('exit', () => look());
      look();
    });
  await next((reply) => reply.type === 'hello');
  return { child, next, write: (text: string) => child.stdin.write(text) };
}

test('a cancel that arrives in the same read as its render ends that render at once', { timeout: 40_000, skip: !posix && 'POSIX only' }, async () => {
  const root = scratch('refigure-cancel-');
  const worker = await startWorker(root.dir);
  try {
    const dir = join(root.dir, 'request');
    mkdirSync(join(dir, 'work'), { recursive: true });
    const render = { id: 1, op: 'render', code: 'import time\ntime.sleep(60)\n', dir, timeout: 90, confine: { kernel: false, landlock: false, tmpfs: false }, tripwire: false, limits: {} };
    // One write, so the worker reads both lines together.
    worker.write(`${JSON.stringify(render)}\n${JSON.stringify({ id: 2, op: 'cancel', target: 1 })}\n`);
    const reply = await worker.next((r) => r.id === 1);
    assert.equal(reply.ok, false);
    assert.equal((reply.error as { kind?: string }).kind, 'cancelled', JSON.stringify(reply));
    // The worker is still the same one and answers.
    worker.write(`${JSON.stringify({ id: 3, op: 'ping' })}\n`);
    assert.equal((await worker.next((r) => r.id === 3)).type, 'pong');
  } finally {
    worker.child.kill('SIGKILL');
    root.dispose();
  }
});

test('a child killed before its setsid() is killed itself, not waited for', { timeout: 40_000, skip: !posix && 'POSIX only' }, async () => {
  const python = (await findPython({})).path;
  // The child has not yet made its own process group when the kill comes: killpg() finds no group.
  const program = `
import json, os, sys, time
sys.path.insert(0, ${JSON.stringify(pythonDir())})
import refigure_worker as w
r, wr = os.pipe()
pid = os.fork()
if pid == 0:
    os.write(wr, b"x")
    time.sleep(1.5)
    os.setsid()
    time.sleep(25)
    os._exit(0)
os.read(r, 1)
child = object.__new__(w.Child)
child.pid, child.process, child.status = pid, None, None
child.kill()
print(json.dumps({"signalled": os.WIFSIGNALED(child.status), "exited": os.WIFEXITED(child.status)}))
`;
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(python, ['-I', '-c', program], { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (text += chunk));
    child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`exit ${code}: ${text}`))));
  });
  assert.deepEqual(JSON.parse(output.trim()), { signalled: true, exited: false });
});
