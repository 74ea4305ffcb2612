// The render service with real Python and matplotlib: sizes, redirections, errors, timeouts, cancel, restarts, the pool.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRenderer, type RenderService } from '../../src/core/render/render';
import { RefigureError } from '../../src/core/errors';
import type { Logger } from '../../src/core/types';
import { repoRoot, scratch, stemFixtures } from '../support/paths';
import { descendants, describe as describeProcesses, isAlive, processTable } from '../hostile/processes';

function pngSize(path: string): { width: number; height: number } {
  const bytes = readFileSync(path);
  assert.equal(bytes.subarray(1, 4).toString('latin1'), 'PNG', `${path} is not a PNG`);
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (m) => lines.push(m), warn: (m) => lines.push(m), error: (m) => lines.push(m), debug: () => undefined };
}

const fixture = join(stemFixtures, readdirSync(stemFixtures).filter((n) => n.endsWith('.png')).sort()[0] ?? 'missing.png');
const fixtureSize = pngSize(fixture);
const like = { path: fixture, ...fixtureSize };

const simplePlot = 'import matplotlib.pyplot as plt\nplt.plot([0, 1, 2], [0, 1, 4])\n';

/** Resolves with the first truthy value of `check`, looked at every 20 ms: a wait on what the processes do, not a guess at how long they take. */
async function until<T>(check: () => T | undefined, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The worker tree once the render child of a new request is running. */
function renderChildRunning(renderer: RenderService, baseline: readonly unknown[]): Promise<ReturnType<typeof idleTree>> {
  return until(() => {
    const tree = idleTree(renderer);
    return tree.length === baseline.length + 1 ? tree : undefined;
  }, 'a render child to run');
}

/** Processes below the workers, once the render service is idle. */
function idleTree(renderer: RenderService) {
  return descendants(renderer.workerPids()).filter((p) => p.state !== 'Z');
}

describe('render service', () => {
  let renderer: RenderService;
  const logger = recordingLogger();
  const out = scratch('refigure-render-');

  before(async () => {
    renderer = await createRenderer({ logger });
  });
  after(async () => {
    await renderer.close();
    out.dispose();
  });

  test('renders at the original pixel size when the code leaves the figure size alone', async () => {
    const outcome = await renderer.render({ code: simplePlot, like, outDir: out.dir, stem: 'size' });
    assert.equal(outcome.ok, true, JSON.stringify(outcome.error));
    assert.equal(outcome.sandbox, renderer.sandbox);
    assert.equal(outcome.png, join(out.dir, 'size.png'));
    assert.deepEqual(pngSize(outcome.png), fixtureSize);
    assert.deepEqual({ width: outcome.width, height: outcome.height }, fixtureSize);
    assert.ok(outcome.metrics, 'a render with an original is compared with it');
    assert.ok(outcome.diffPng && existsSync(outcome.diffPng));
    assert.ok(outcome.metrics.fidelity >= 0 && outcome.metrics.fidelity <= 1);
  });

  test('a figure of another size is fitted into the original box', async () => {
    const code = 'import matplotlib.pyplot as plt\nfig = plt.figure(figsize=(3, 9), dpi=80)\nplt.plot([0, 1], [1, 0])\n';
    const outcome = await renderer.render({ code, like, outDir: out.dir, stem: 'fitted' });
    assert.equal(outcome.ok, true, JSON.stringify(outcome.error));
    assert.deepEqual(pngSize(outcome.png ?? ''), fixtureSize);
  });

  test('plt.show() does nothing and the code carries on', async () => {
    const code = `${simplePlot}plt.show()\nprint("after show")\n`;
    const outcome = await renderer.render({ code, like, outDir: out.dir, stem: 'show', timeoutMs: 10_000 });
    assert.equal(outcome.ok, true, JSON.stringify(outcome.error));
    assert.match(outcome.output ?? '', /after show/);
  });

  test('savefig is redirected into scratch: nothing appears in the working folder or at an absolute path', async () => {
    const name = `refigure-redirect-${process.pid}.png`;
    const elsewhere = scratch('refigure-elsewhere-');
    try {
      const target = join(elsewhere.dir, 'absolute.png');
      const code = `${simplePlot}plt.savefig(${JSON.stringify(name)})\nplt.savefig(${JSON.stringify(target)}, dpi=300)\nimport os\nprint(sorted(os.listdir('.')))\n`;
      const outcome = await renderer.render({ code, like, outDir: out.dir, stem: 'redirect' });
      assert.equal(outcome.ok, true, JSON.stringify(outcome.error));
      assert.equal(existsSync(join(repoRoot, name)), false);
      assert.equal(existsSync(join(process.cwd(), name)), false);
      assert.deepEqual(readdirSync(elsewhere.dir), []);
      // Both files landed in the code's own scratch folder, which it listed.
      assert.match(outcome.output ?? '', new RegExp(`'absolute.png', '${name.replace(/\./g, '\\.')}'`));
      assert.equal(existsSync(join(out.dir, name)), false);
    } finally {
      elsewhere.dispose();
    }
  });

  test('the figure the code saved last is the one rendered; with no savefig the current figure is', async () => {
    const saved = 'import matplotlib.pyplot as plt\nf1 = plt.figure()\nplt.axvspan(0, 1, color="red")\nplt.savefig("first.png")\nf2 = plt.figure()\nplt.axvspan(0, 1, color="blue")\n';
    const unsaved = 'import matplotlib.pyplot as plt\nf1 = plt.figure()\nplt.axvspan(0, 1, color="red")\nf2 = plt.figure()\nplt.axvspan(0, 1, color="blue")\n';
    const dominant = async (code: string, stem: string): Promise<'red' | 'blue'> => {
      const outcome = await renderer.render({ code, like, outDir: out.dir, stem });
      assert.equal(outcome.ok, true, JSON.stringify(outcome.error));
      const raw = join(out.dir, `${stem}.rgba`);
      const { width, height } = await renderer.convertImage({ input: outcome.png ?? '', output: raw, format: 'rgba' });
      const pixels = readFileSync(raw);
      assert.equal(pixels.length, width * height * 4);
      let red = 0;
      let blue = 0;
      for (let i = 0; i < pixels.length; i += 4) {
        const [r = 0, g = 0, b = 0] = pixels.subarray(i, i + 3);
        if (r > 200 && g < 60 && b < 60) red++;
        if (b > 200 && r < 60 && g < 60) blue++;
      }
      assert.ok(red + blue > width * height * 0.2, `too few coloured pixels: red ${red}, blue ${blue}`);
      return red > blue ? 'red' : 'blue';
    };
    assert.equal(await dominant(saved, 'saved-first'), 'red');
    assert.equal(await dominant(unsaved, 'current'), 'blue');
  });

  test('nothing drawn is reported as no-figure', async () => {
    const outcome = await renderer.render({ code: 'x = 1 + 1\nprint(x)\n', like, outDir: out.dir, stem: 'nothing' });
    assert.equal(outcome.ok, false);
    assert.equal(outcome.error?.kind, 'no-figure');
    assert.equal(existsSync(join(out.dir, 'nothing.png')), false);
  });

  test("an exception reports the model's line and a traceback trimmed to the model's code", async () => {
    const code = 'import matplotlib.pyplot as plt\n\ndef values():\n    return [1, 2] + None\n\nplt.plot(values())\n';
    const outcome = await renderer.render({ code, like, outDir: out.dir, stem: 'raises' });
    assert.equal(outcome.ok, false);
    assert.equal(outcome.error?.kind, 'exception');
    assert.equal(outcome.error?.line, 4);
    assert.match(outcome.error?.message ?? '', /TypeError/);
    const traceback = outcome.error?.traceback ?? '';
    assert.match(traceback, /File "<figure>", line 6, in <module>/);
    assert.match(traceback, /File "<figure>", line 4, in values\n\s+return \[1, 2\] \+ None/);
    assert.doesNotMatch(traceback, /refigure_worker/);
  });

  test('a syntax error names its line', async () => {
    const outcome = await renderer.render({ code: 'import matplotlib.pyplot as plt\nplt.plot([1, 2]\nx = (\n', like, outDir: out.dir, stem: 'syntax' });
    assert.equal(outcome.ok, false);
    assert.equal(outcome.error?.kind, 'syntax');
    assert.ok(outcome.error?.line === 2 || outcome.error?.line === 3, `line ${outcome.error?.line}`);
  });

  test('a timeout kills the running child and leaves no process behind', async () => {
    await renderer.render({ code: simplePlot, outDir: out.dir, stem: 'warm' });
    const baseline = idleTree(renderer);
    const pending = renderer.render({ code: 'while True:\n    pass\n', outDir: out.dir, stem: 'loop', timeoutMs: 2500 });
    const during = await renderChildRunning(renderer, baseline);
    const outcome = await pending;
    assert.equal(outcome.error?.kind, 'timeout');
    assert.match(outcome.error?.message ?? '', /longer than 2\.5 s/);
    assert.deepEqual(idleTree(renderer).map((p) => p.pid), baseline.map((p) => p.pid), describeProcesses(idleTree(renderer)));
    const [child] = during.filter((p) => !baseline.some((b) => b.pid === p.pid));
    assert.ok(child && !existsSync(`/proc/${child.pid}`), 'the timed-out child is gone (and reaped)');
  });

  test('cancelling through the AbortSignal kills the child and rejects as cancelled', async () => {
    const baseline = idleTree(renderer);
    const controller = new AbortController();
    const pending = renderer.render({ code: 'import time\ntime.sleep(60)\n', outDir: out.dir, stem: 'cancel', signal: controller.signal });
    await renderChildRunning(renderer, baseline);
    controller.abort();
    await assert.rejects(pending, (error: unknown) => error instanceof RefigureError && error.kind === 'cancelled');
    assert.deepEqual(idleTree(renderer).map((p) => p.pid), baseline.map((p) => p.pid));
    const next = await renderer.render({ code: simplePlot, like, outDir: out.dir, stem: 'after-cancel' });
    assert.equal(next.ok, true);
  });

  test('a worker killed mid-request is replaced and the request retried once', async () => {
    await renderer.render({ code: simplePlot, outDir: out.dir, stem: 'warm2' });
    const [victim] = renderer.workerPids();
    assert.ok(victim);
    const baseline = idleTree(renderer);
    const pending = renderer.render({ code: `import time\ntime.sleep(1.5)\n${simplePlot}`, like, outDir: out.dir, stem: 'retried' });
    await renderChildRunning(renderer, baseline);
    process.kill(-victim, 'SIGKILL');
    const outcome = await pending;
    assert.equal(outcome.ok, true, JSON.stringify(outcome.error));
    assert.ok(logger.lines.some((l) => /retrying the request on a fresh worker/.test(l)), logger.lines.join('\n'));
    const [replacement] = renderer.workerPids();
    assert.ok(replacement && replacement !== victim);
    assert.equal(isAlive(victim), false);
  });
});

test('an untrusted workspace refuses every render without starting Python code', async () => {
  const out = scratch();
  const renderer = await createRenderer({ trusted: false });
  try {
    const outcome = await renderer.render({ code: simplePlot, like, outDir: out.dir, stem: 'refused' });
    assert.equal(outcome.ok, false);
    assert.equal(outcome.error?.kind, 'refused');
    assert.match(outcome.error?.message ?? '', /not trusted/);
    assert.match(outcome.error?.traceback ?? '', /Trust/);
    assert.deepEqual(renderer.workerPids(), []);
    assert.deepEqual(readdirSync(out.dir), []);
  } finally {
    await renderer.close();
    out.dispose();
  }
});

test('a pool of two runs two renders at the same time', async () => {
  const out = scratch();
  const renderer = await createRenderer({ concurrency: 2 });
  try {
    // Each render prints when it started and ended (renders cannot see each other's folders): the two
    // spans overlap only if both ran at once.
    const code = ['import time', 'start = time.time()', 'time.sleep(1.5)', 'print("span", start, time.time())', simplePlot].join('\n');
    // Both workers first: on a loaded machine one can take longer to start than a render takes.
    await Promise.all(['warm-a', 'warm-b'].map((stem) => renderer.render({ code: simplePlot, outDir: out.dir, stem })));
    assert.equal(renderer.workerPids().length, 2, 'two renders waiting start a second worker');
    const [a, b] = await Promise.all([
      renderer.render({ code, like, outDir: out.dir, stem: 'a', timeoutMs: 20_000 }),
      renderer.render({ code, like, outDir: out.dir, stem: 'b', timeoutMs: 20_000 }),
    ]);
    assert.equal(a.ok, true, JSON.stringify(a.error));
    assert.equal(b.ok, true, JSON.stringify(b.error));
    const span = (output = '') => (/span ([\d.]+) ([\d.]+)/.exec(output) ?? []).slice(1).map(Number);
    const [startA, endA] = span(a.output);
    const [startB, endB] = span(b.output);
    assert.ok(startA !== undefined && startB !== undefined && endA !== undefined && endB !== undefined, `${a.output} / ${b.output}`);
    assert.ok(startA < endB && startB < endA, `the renders ran one after the other: ${a.output} / ${b.output}`);
    assert.equal(renderer.workerPids().length, 2);
  } finally {
    const pids = renderer.workerPids();
    await renderer.close();
    out.dispose();
    for (const pid of pids) assert.equal(existsSync(`/proc/${pid}`), false, `worker ${pid} still running after close`);
  }
});

test('cold mode renders each program in a fresh interpreter, with the same result', async () => {
  const out = scratch();
  const renderer = await createRenderer({ cold: true });
  try {
    const code = `${simplePlot}import os\nprint("pid", os.getpid())\n`;
    const first = await renderer.render({ code, like, outDir: out.dir, stem: 'cold1' });
    const second = await renderer.render({ code, like, outDir: out.dir, stem: 'cold2' });
    assert.equal(first.ok, true, JSON.stringify(first.error));
    assert.equal(second.ok, true, JSON.stringify(second.error));
    assert.deepEqual(pngSize(first.png ?? ''), fixtureSize);
    assert.notEqual(first.output, second.output, 'each render ran in its own process');
    const blocked = await renderer.render({ code: 'import os\nos.system("true")\n', outDir: out.dir, stem: 'cold3' });
    assert.equal(blocked.error?.kind, 'blocked');
  } finally {
    await renderer.close();
    out.dispose();
  }
});

test('a missing original is bad input, and the comparison works on two existing images', async () => {
  const out = scratch();
  const renderer = await createRenderer({});
  try {
    await assert.rejects(
      renderer.render({ code: simplePlot, like: { ...like, path: join(out.dir, 'gone.png') }, outDir: out.dir, stem: 'x' }),
      (error: unknown) => error instanceof RefigureError && error.kind === 'input' && error.message.includes('gone.png'),
    );
    const diff = join(out.dir, 'self.diff.png');
    const metrics = await renderer.compare(fixture, fixture, diff);
    assert.ok(metrics.fidelity >= 0.99, JSON.stringify(metrics));
    assert.deepEqual(pngSize(diff), fixtureSize);
  } finally {
    await renderer.close();
    out.dispose();
  }
});

test('warm() starts a worker before any render, and the first render uses it', async () => {
  const out = scratch();
  const renderer = await createRenderer({});
  try {
    assert.deepEqual(renderer.workerPids(), [], 'no worker before it is needed');
    renderer.warm();
    renderer.warm(); // a second call while starting starts nothing more
    await until(() => renderer.workerPids().length > 0, 'warm() to start a worker', 15_000);
    const warmed = renderer.workerPids();
    assert.equal(warmed.length, 1, 'one worker started by warm()');
    const outcome = await renderer.render({ code: simplePlot, outDir: out.dir, stem: 'after-warm' });
    assert.equal(outcome.ok, true, JSON.stringify(outcome.error));
    assert.deepEqual(renderer.workerPids(), warmed, 'the render ran on the warmed worker');
  } finally {
    await renderer.close();
    out.dispose();
  }
  assert.deepEqual(renderer.workerPids(), []);
});

test('a render asked for while warm() is still starting the worker succeeds on one worker', async () => {
  const out = scratch();
  const renderer = await createRenderer({});
  try {
    renderer.warm();
    const outcome = await renderer.render({ code: simplePlot, outDir: out.dir, stem: 'during-warm' });
    assert.equal(outcome.ok, true, JSON.stringify(outcome.error));
    assert.equal(renderer.workerPids().length, 1, 'one worker serves both');
    const started = processTable().filter((p) => p.ppid === process.pid && p.state !== 'Z' && p.cmdline.includes('refigure_worker.py'));
    assert.equal(started.length, 1, `worker processes started: ${describeProcesses(started)}`);
  } finally {
    await renderer.close();
    out.dispose();
  }
});
