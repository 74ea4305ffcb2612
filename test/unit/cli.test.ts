// The `refigure` command end to end: real HTTP to a scripted server, real Python rendering, real files.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startScriptedServer, type ScriptedServer } from '../support/scriptedServer';
import { cliPath, repoRoot, scratch, stemFixtures } from '../support/paths';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, REFIGURE_PYTHON: process.env.REFIGURE_PYTHON, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

const fence = '```';
const exactCode = [
  'import matplotlib.pyplot as plt',
  'import numpy as np',
  'fig, ax = plt.subplots(figsize=(4, 3), dpi=100)',
  'x = np.linspace(0, 2 * np.pi, 200)',
  "ax.plot(x, np.sin(x), color='tab:blue', lw=2)",
  "ax.plot(x, np.cos(x), color='tab:red', ls='--')",
  "ax.set_title('sin and cos')",
  "ax.set_xlabel('x')",
  'ax.grid(True)',
].join('\n');
const reply = (code: string) => `Here is the code.\n\n${fence}python\n${code}\n${fence}\n`;
const captionReply = 'Caption: Sine (solid blue) and cosine (dashed red) over 0 to 2π, with a grid.\nAlt text: Plot of sine and cosine curves.';

describe('refigure command line', () => {
  let server: ScriptedServer;
  let work: ReturnType<typeof scratch>;
  let original: string;

  before(async () => {
    server = await startScriptedServer([]);
    work = scratch('refigure-cli-');
    // The original is made by rendering the exact code once, so a model that answers it is an exact re-render.
    writeFileSync(join(work.dir, 'make.py'), exactCode);
    const seed = join(repoRoot, 'media', 'samples', 'two-lines.png');
    const made = await runCli(['render', join(work.dir, 'make.py'), '--like', seed, '--out', work.dir, '--json']);
    assert.equal(made.code, 0, made.stderr);
    original = join(work.dir, 'original.png');
    copyFileSync(JSON.parse(made.stdout).render.png, original);
  });

  after(async () => {
    await server.close();
    work.dispose();
  });

  it('reconstructs an image: four files, the documented JSON, exit 0', async () => {
    server.push({ reply: reply(exactCode) }, { reply: captionReply });
    const out = join(work.dir, 'exact');
    const run = await runCli(['reconstruct', original, '--out', out, '--json'], {
      REFIGURE_ENDPOINT: server.url,
      REFIGURE_MODEL: 'scripted-model',
      REFIGURE_API_KEY: 'sk-test-secret',
    });
    assert.equal(run.code, 0, run.stderr);
    const result = JSON.parse(run.stdout);
    for (const name of ['original.refigure.py', 'original.refigure.png', 'original.refigure.diff.png', 'original.refigure.json']) {
      assert.ok(existsSync(join(out, name)), `${name} written`);
    }
    assert.deepEqual(JSON.parse(readFileSync(join(out, 'original.refigure.json'), 'utf8')), result);
    assert.equal(result.image.path, original);
    assert.equal(result.model, 'scripted-model');
    assert.equal(result.code.trim(), exactCode);
    assert.equal(result.render.ok, true);
    assert.equal(result.render.png, join(out, 'original.refigure.png'));
    assert.equal(typeof result.render.seconds, 'number');
    assert.ok(result.metrics.fidelity >= 0.99, `exact re-render fidelity ${result.metrics.fidelity}`);
    for (const key of ['ssim', 'pixelMatch', 'edgeF1', 'colorDistance']) assert.equal(typeof result.metrics[key], 'number');
    assert.equal(result.attempts.length, 1);
    assert.match(result.caption, /Sine/);
    assert.equal(result.altText, 'Plot of sine and cosine curves.');
    assert.ok(result.timings.total > 0);
    // The key went to the server and nowhere else.
    const chat = server.chatRequests();
    assert.equal(chat.at(-2)?.headers.authorization, 'Bearer sk-test-secret');
    assert.ok(!run.stdout.includes('sk-test-secret') && !run.stderr.includes('sk-test-secret'));
  });

  it('a reply without code ends with exit 3 and shows the start of the reply', async () => {
    server.push({ reply: 'I am sorry, I cannot see any figure in this image.' });
    const run = await runCli(['reconstruct', original, '--out', join(work.dir, 'nocode'), '--no-caption'], {
      REFIGURE_ENDPOINT: server.url,
      REFIGURE_MODEL: 'scripted-model',
    });
    assert.equal(run.code, 3, run.stderr);
    assert.match(run.stderr, /without code/i);
    assert.match(run.stderr, /cannot see any figure/);
  });

  it('code that raises ends with exit 4, and the code and JSON are still written', async () => {
    const broken = `${exactCode}\nax.plot(undefined_name)`;
    server.push({ reply: reply(broken) });
    const out = join(work.dir, 'broken');
    const run = await runCli(['reconstruct', original, '--out', out, '--json'], {
      REFIGURE_ENDPOINT: server.url,
      REFIGURE_MODEL: 'scripted-model',
    });
    assert.equal(run.code, 4, run.stderr);
    const result = JSON.parse(readFileSync(join(out, 'original.refigure.json'), 'utf8'));
    assert.equal(result.render.ok, false);
    assert.match(result.render.error.message + result.render.error.traceback, /undefined_name/);
    assert.equal(result.render.error.line, broken.split('\n').length);
    assert.equal(readFileSync(join(out, 'original.refigure.py'), 'utf8').trim(), broken);
    assert.ok(!existsSync(join(out, 'original.refigure.png')));
    assert.equal(result.caption, '');
  });

  it('an endpoint with no server is exit 3 with the URL named', async () => {
    const run = await runCli(['reconstruct', original, '--out', join(work.dir, 'down')], {
      REFIGURE_ENDPOINT: 'http://127.0.0.1:9/v1',
      REFIGURE_MODEL: 'm',
    });
    assert.equal(run.code, 3, run.stderr);
    assert.match(run.stderr, /127\.0\.0\.1:9/);
  });

  it('a refused key is exit 3 and says so', async () => {
    server.push({ status: 401, body: { error: { message: 'Invalid API key', type: 'invalid_request_error' } } });
    const run = await runCli(['reconstruct', original, '--out', join(work.dir, 'key')], {
      REFIGURE_ENDPOINT: server.url,
      REFIGURE_MODEL: 'scripted-model',
      REFIGURE_API_KEY: 'wrong',
    });
    assert.equal(run.code, 3, run.stderr);
    assert.match(run.stderr, /key/i);
  });

  it('bad input is exit 2 with a message: missing, empty, not an image, bad flags', async () => {
    const empty = join(work.dir, 'empty.png');
    writeFileSync(empty, '');
    const text = join(work.dir, 'notes.png');
    writeFileSync(text, 'these are notes, not pixels\n');
    const cases: [string[], RegExp][] = [
      [['reconstruct', join(work.dir, 'missing.png'), '--offline'], /No file at/],
      [['reconstruct', empty, '--offline'], /empty/],
      [['reconstruct', text, '--offline'], /not an image|not a (PNG|supported)/i],
      [['reconstruct'], /one image/],
      [['reconstruct', original, '--preset', 'nope'], /--preset must be one of/],
      [['reconstruct', original, '--refine', 'x'], /--refine needs a number/],
      [['render', join(work.dir, 'make.py')], /--like/],
      [['frobnicate'], /unknown command/],
    ];
    for (const [args, message] of cases) {
      const run = await runCli(args);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, message, args.join(' '));
    }
    assert.deepEqual(
      readdirSync(work.dir).filter((name) => name.includes('.refigure.')),
      [],
      'nothing written for bad input',
    );
  });

  it('refuses to replace the outputs of another image with the same name', async () => {
    const folder = join(work.dir, 'same-stem');
    const png = join(folder, 'plot.png');
    const other = join(folder, 'plot.jpg');
    mkdirSync(folder);
    copyFileSync(original, png);
    copyFileSync(original, other);
    server.push({ reply: reply(exactCode) });
    const first = await runCli(['reconstruct', png, '--no-caption'], { REFIGURE_ENDPOINT: server.url, REFIGURE_MODEL: 'scripted-model' });
    assert.equal(first.code, 0, first.stderr);
    const second = await runCli(['reconstruct', other, '--no-caption'], { REFIGURE_ENDPOINT: server.url, REFIGURE_MODEL: 'scripted-model' });
    assert.equal(second.code, 2, second.stderr);
    assert.match(second.stderr, /another image/);
    assert.equal(JSON.parse(readFileSync(join(folder, 'plot.refigure.json'), 'utf8')).image.path, png);
  });

  it('render: figures for good code (exit 0) and the traceback for bad code (exit 4)', async () => {
    const good = await runCli(['render', join(work.dir, 'make.py'), '--like', original, '--out', join(work.dir, 'r'), '--json']);
    assert.equal(good.code, 0, good.stderr);
    const record = JSON.parse(good.stdout);
    assert.ok(record.metrics.fidelity >= 0.99);
    assert.ok(existsSync(record.render.png) && existsSync(record.render.diff));
    const badPath = join(work.dir, 'bad.py');
    writeFileSync(badPath, 'import matplotlib.pyplot as plt\n\nplt.plot([1, 2], [3])\n');
    const bad = await runCli(['render', badPath, '--like', original, '--out', join(work.dir, 'r')]);
    assert.equal(bad.code, 4, bad.stderr);
    assert.match(bad.stdout, /same first dimension|ValueError/);

    const exported = await runCli(['render', join(work.dir, 'make.py'), '--like', original, '--out', join(work.dir, 'r'), '--export', 'svg']);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stdout, /svg +\S+make\.svg/);
    assert.match(readFileSync(join(work.dir, 'r', 'make.svg'), 'utf8'), /^<\?xml[\s\S]*<svg/);
    const wrongFormat = await runCli(['render', join(work.dir, 'make.py'), '--like', original, '--export', 'eps']);
    assert.equal(wrongFormat.code, 2);
    assert.match(wrongFormat.stderr, /--export must be one of svg, pdf/);
  });

  it('with no endpoint it says so and reconstructs with the offline trace', async () => {
    const out = join(work.dir, 'offline');
    const fixture = join(stemFixtures, 'plane-geometry--image26.png');
    const run = await runCli(['reconstruct', fixture, '--out', out]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /No model endpoint configured/);
    const result = JSON.parse(readFileSync(join(out, 'plane-geometry--image26.refigure.json'), 'utf8'));
    assert.equal(result.provider, 'offline');
    assert.equal(result.render.ok, true);
    assert.ok(result.metrics.fidelity > 0.8, `offline fidelity ${result.metrics.fidelity}`);
    assert.match(result.caption, /no model/i);
  });

  it('refine RESULT.json continues a saved reconstruction: its history grows and the four files follow the best', async () => {
    const out = join(work.dir, 'continue');
    const shifted = exactCode.replace("color='tab:blue', lw=2", "color='tab:blue', lw=6").replace("'sin and cos'", "'sin'");
    server.push({ reply: reply(shifted) });
    const env = { REFIGURE_ENDPOINT: server.url, REFIGURE_MODEL: 'scripted-model' };
    const first = await runCli(['reconstruct', original, '--out', out, '--no-caption'], env);
    assert.equal(first.code, 0, first.stderr);
    const json = join(out, 'original.refigure.json');
    const saved = JSON.parse(readFileSync(json, 'utf8'));
    assert.equal(saved.attempts.length, 1);

    server.push({ reply: reply(exactCode) }, { reply: captionReply });
    const before = server.chatRequests().length;
    const run = await runCli(['refine', json, '--json'], env);
    assert.equal(run.code, 0, run.stderr);
    const refined = JSON.parse(run.stdout);
    assert.deepEqual(JSON.parse(readFileSync(json, 'utf8')), refined, 'the result file is rewritten');
    assert.deepEqual(refined.attempts.map((a: { kind: string }) => a.kind), ['initial', 'refine']);
    assert.equal(refined.attempts[1].from, 0);
    assert.equal(refined.best, 1);
    assert.equal(refined.shown, 1);
    assert.equal(refined.code.trim(), exactCode);
    assert.equal(readFileSync(join(out, 'original.refigure.py'), 'utf8').trim(), exactCode);
    assert.ok(refined.metrics.fidelity > saved.metrics.fidelity);
    assert.match(refined.caption, /Sine/, 'the new best is captioned');
    const requests = server.chatRequests().slice(before);
    assert.ok(JSON.stringify(requests[0]?.body).includes('lw=6'), 'the saved attempt was the one refined');

    const noModel = await runCli(['refine', json]);
    assert.equal(noModel.code, 2, noModel.stderr);
    assert.match(noModel.stderr, /needs a model endpoint/);
    const badFrom = await runCli(['refine', json, '--from', '9'], env);
    assert.equal(badFrom.code, 2, badFrom.stderr);
  });

  it('prints no terminal control sequence a caption or an error carries; the JSON keeps them exactly', async () => {
    const clipboard = '\u001b]52;c;cm0gLXJmIH4=\u0007';
    const link = '\u001b]8;;https://evil.example\u001b\\innocent\u001b]8;;\u001b\\';
    const clear = '\u001b[2J';
    const csi = '\u009b31m';
    const hostile = `Caption: A plot ${clipboard}${link}${clear}${csi} of lines.\nAlt text: Lines ${clear}here.`;
    const env = { REFIGURE_ENDPOINT: server.url, REFIGURE_MODEL: 'scripted-model' };

    server.push({ reply: reply(exactCode) }, { reply: hostile });
    const text = await runCli(['reconstruct', original, '--out', join(work.dir, 'hostile-text')], env);
    assert.equal(text.code, 0, text.stderr);
    for (const stream of [text.stdout, text.stderr]) {
      assert.ok(!/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.test(stream), `no control characters: ${JSON.stringify(stream.slice(-300))}`);
    }
    assert.match(text.stdout, /Caption: A plot \]52;c;cm0gLXJmIH4=\]8;;https:\/\/evil\.example\\innocent/);

    server.push({ reply: reply(exactCode) }, { reply: hostile });
    const json = await runCli(['reconstruct', original, '--out', join(work.dir, 'hostile-json'), '--json'], env);
    assert.equal(json.code, 0, json.stderr);
    assert.ok(!/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.test(json.stdout), 'the JSON text carries escapes, not control characters');
    const parsed = JSON.parse(json.stdout);
    assert.ok(parsed.caption.includes(`${clipboard}${link}${clear}${csi}`), 'the JSON value is exact');

    // An exception message and its traceback, written by the code, reach the terminal inert too.
    const raising = join(work.dir, 'raising.py');
    writeFileSync(raising, `raise ValueError("boom ${clear}${clipboard} end")\n`);
    const failed = await runCli(['render', raising, '--like', original, '--out', join(work.dir, 'hostile-render')]);
    assert.equal(failed.code, 4, failed.stderr);
    assert.match(failed.stdout, /boom \[2J\]52;c;cm0gLXJmIH4= end/);
    for (const stream of [failed.stdout, failed.stderr]) assert.ok(!/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.test(stream), JSON.stringify(stream));
  });
});
