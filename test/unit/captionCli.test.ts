// `refigure caption NOTEBOOK.ipynb`: the built command line against a scripted OpenAI-compatible server, real Python and real notebooks.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, chmodSync, constants, copyFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type NotebookCell, findFigures, parseNotebook, refigureMark } from '../../src/core/documents/notebook';
import { type RecordedRequest, type ScriptedServer, type Step, startScriptedServer } from '../support/scriptedServer';
import { cliPath, scratch, stemFixtures } from '../support/paths';
import { nbformatError, writeNotebook } from '../support/notebooks';

const plot = join(stemFixtures, 'algebra--image305.png');
// A graph of unlabelled nodes: no text for a redraw to get wrong.
const geometry = join(stemFixtures, 'graph-theory--image237.png');

const goodCode = ['```python', 'import matplotlib.pyplot as plt', 'fig, ax = plt.subplots(figsize=(4, 4))', "ax.plot([0, 1, 2], [0, 1, 4], color='black')", '```'].join('\n');
const badCode = ['```python', 'import matplotlib.pyplot as plt', "raise ValueError('no luck')", '```'].join('\n');

function isCaptionRequest(request: RecordedRequest): boolean {
  return JSON.stringify(request.body).includes('Alt text');
}

/** Code for reconstruction requests, a caption naming the figure's size for caption requests. */
function modelScript(code = goodCode): (request: RecordedRequest) => Step {
  return (request) => (isCaptionRequest(request) ? { reply: 'Caption: A black curve rising to the right on white axes.\nAlt text: A rising black curve.' } : { reply: code });
}

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The built CLI in a child process (asynchronously, so the scripted server in this process can answer). */
function runCli(args: string[], cwd: string): Promise<CliRun> {
  const env: NodeJS.ProcessEnv = {};
  // No endpoint or key from this environment; the interpreter the tests render with stays.
  for (const [key, value] of Object.entries(process.env)) if (!/^(REFIGURE_|OPENAI_)/.test(key) || key === 'REFIGURE_PYTHON') env[key] = value;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, 'caption', ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function userCells(cells: NotebookCell[]): NotebookCell[] {
  return cells.filter((cell) => !refigureMark(cell.metadata));
}

describe('refigure caption', () => {
  let dir: string;
  let dispose: () => void;
  let server: ScriptedServer;
  const started: ScriptedServer[] = [];
  const serve = async (script: Parameters<typeof startScriptedServer>[0]) => {
    server = await startScriptedServer(script);
    started.push(server);
    return server;
  };
  let notebook: string;
  let original: string;

  before(async () => {
    ({ dir, dispose } = scratch('refigure-caption-cli-'));
    copyFileSync(geometry, join(dir, 'geometry.png'));
    notebook = join(dir, 'analysis.ipynb');
    await writeNotebook(
      {
        minor: 5,
        cells: [
          { markdown: '# Analysis', id: 'title' },
          { code: 'plot()', id: 'plot', count: 1, outputs: [{ stream: 'plotting\n' }, { png: plot }] },
          { markdown: 'Below, a diagram:\n\n![diagram](geometry.png)', id: 'diagram' },
          { code: 'print(2)', id: 'text', count: 2, outputs: [{ stream: '2\n' }] },
        ],
      },
      notebook,
    );
    original = readFileSync(notebook, 'utf8');
  });
  after(async () => {
    // Every server a test started, also one whose test failed before closing it.
    for (const each of started) await each.close();
    dispose();
  });

  it('writes no caption where the redraw reads differently from the figure, says why, and exits 5', async () => {
    server = await serve(modelScript());
    const run = await runCli(['analysis.ipynb', '--out', 'guarded.ipynb', '--endpoint', server.url, '--model', 'scripted-model'], dir);
    assert.equal(run.code, 5, run.stderr);
    // The scripted model draws a bare curve: the table's prices are not in it; the graph has no text to differ.
    assert.match(run.stdout, /cell 2, output 2 \(image\/png\) +text differs: \d+ labels? differs?: .*no caption written \(--force writes it\)/);
    assert.match(run.stdout, /cell 3, image geometry\.png +caption added/);
    const guarded = parseNotebook(readFileSync(join(dir, 'guarded.ipynb'), 'utf8')).json;
    assert.deepEqual(guarded.cells.filter((cell) => refigureMark(cell.metadata)).map((cell) => refigureMark(cell.metadata)?.captionFor), ['cell:diagram/image/0']);
    assert.equal(readFileSync(notebook, 'utf8'), original, 'the input notebook is left alone');
    await server.close();
  });

  it('puts a caption grounded in the model under every figure and writes a valid notebook (--force)', async () => {
    server = await serve(modelScript());
    const run = await runCli(['analysis.ipynb', '--out', 'captioned.ipynb', '--endpoint', server.url, '--model', 'scripted-model', '--force'], dir);
    assert.equal(run.code, 0, run.stderr);
    const out = join(dir, 'captioned.ipynb');
    assert.equal(await nbformatError(out), undefined);
    assert.equal(readFileSync(notebook, 'utf8'), original, 'the input notebook is left alone');

    const before = parseNotebook(original).json;
    const after = parseNotebook(readFileSync(out, 'utf8')).json;
    assert.deepEqual(userCells(after.cells), before.cells);
    for (const figure of findFigures(before)) {
      const index = after.cells.findIndex((cell) => refigureMark(cell.metadata)?.captionFor === figure.id);
      assert.deepEqual(after.cells[index - 1], before.cells[figure.cellIndex], `caption of ${figure.id} sits under its cell`);
      assert.deepEqual(after.cells[index]?.source, ['A black curve rising to the right on white axes.']);
    }
    // One code request and one caption request per figure.
    const chats = server.chatRequests();
    assert.equal(chats.length, 4);
    assert.equal(chats.filter(isCaptionRequest).length, 2);
    assert.match(run.stdout, /cell 2, output 2 \(image\/png\) +caption added \(cell 3\), fidelity \d\.\d{3}/);
    assert.match(run.stdout, /cell 3, image geometry\.png +caption added \(cell 5\)/);
    assert.match(run.stdout, /2 of 2 figures captioned/);
    await server.close();
  });

  it('--in-place keeps the first version as .bak and replaces its captions on a second run', async () => {
    server = await serve(modelScript());
    const copy = join(dir, 'inplace.ipynb');
    copyFileSync(notebook, copy);
    const first = await runCli(['inplace.ipynb', '--in-place', '--endpoint', server.url, '--model', 'm', '--style', 'alt', '--force'], dir);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(readFileSync(`${copy}.bak`, 'utf8'), original);
    const once = parseNotebook(readFileSync(copy, 'utf8')).json;
    assert.equal(once.cells.length, 6);

    const second = await runCli(['inplace.ipynb', '--in-place', '--endpoint', server.url, '--model', 'm', '--style', 'caption', '--force'], dir);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(await nbformatError(copy), undefined);
    const twice = parseNotebook(readFileSync(copy, 'utf8')).json;
    assert.equal(twice.cells.length, 6, 'captions replaced, not stacked');
    assert.deepEqual(twice.cells.filter((cell) => refigureMark(cell.metadata)).map((cell) => refigureMark(cell.metadata)?.style), ['caption', 'caption']);
    assert.match(second.stdout, /caption replaced/);
    assert.equal(readFileSync(`${copy}.bak`, 'utf8'), original, 'the .bak is still the first version');
    assert.deepEqual(readdirSync(dir).filter((name) => name.endsWith('.tmp')), []);
    await server.close();
  });

  it('refuses to write without --out or --in-place, saying what it would do', async () => {
    server = await serve(modelScript());
    const listing = readdirSync(dir).sort();
    const run = await runCli(['analysis.ipynb', '--endpoint', server.url, '--model', 'm'], dir);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /has 2 figures/);
    assert.match(run.stderr, /cell 2, output 2 \(image\/png\)/);
    assert.match(run.stderr, /Nothing written: give --out NEW\.ipynb .* or --in-place/);
    assert.deepEqual(readdirSync(dir).sort(), listing);
    assert.equal(server.chatRequests().length, 0, 'no model time spent');
    await server.close();
  });

  it('goes on past a figure whose code does not render, and exits 4', async () => {
    let codeRequests = 0;
    server = await serve((request) => {
      if (isCaptionRequest(request)) return { reply: 'Caption: A diagram.\nAlt text: A diagram.' };
      // The first figure's code raises; the second one's renders.
      codeRequests++;
      return { reply: codeRequests === 1 ? badCode : goodCode };
    });
    const run = await runCli(['analysis.ipynb', '--out', 'partial.ipynb', '--endpoint', server.url, '--model', 'm'], dir);
    assert.equal(run.code, 4, run.stderr);
    assert.match(run.stdout, /cell 2, output 2 \(image\/png\) +not rendered: /);
    assert.match(run.stdout, /cell 3, image geometry\.png +caption added/);
    const after = parseNotebook(readFileSync(join(dir, 'partial.ipynb'), 'utf8')).json;
    assert.deepEqual(after.cells.filter((cell) => refigureMark(cell.metadata)).map((cell) => refigureMark(cell.metadata)?.captionFor), ['cell:diagram/image/0']);
    await server.close();
  });

  it('exits 3 and writes nothing when the endpoint refuses', async () => {
    server = await serve(() => ({ status: 401, body: { error: { message: 'Invalid API key' } } }));
    const run = await runCli(['analysis.ipynb', '--out', 'refused.ipynb', '--endpoint', server.url, '--model', 'm'], dir);
    assert.equal(run.code, 3, run.stderr);
    assert.match(run.stdout, /failed: /);
    assert.match(run.stdout, /nothing was written/);
    assert.equal(existsSync(join(dir, 'refused.ipynb')), false);
    await server.close();
  });

  describe('bad input: a clear message, exit 2, nothing written', () => {
    async function expectRefusal(name: string, content: string | undefined, args: string[], pattern: RegExp): Promise<void> {
      if (content !== undefined) writeFileSync(join(dir, name), content);
      const before = readdirSync(dir).sort();
      const run = await runCli([name, ...args], dir);
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, pattern);
      assert.deepEqual(readdirSync(dir).sort(), before);
      if (content !== undefined) assert.equal(readFileSync(join(dir, name), 'utf8'), content);
    }

    it('no endpoint and no --offline: captions need a model', () =>
      expectRefusal('analysis.ipynb', undefined, ['--out', 'traced.ipynb'], /Captions need a model endpoint.*--offline/s));

    it('--offline traces and reports every figure and writes nothing, as the extension does', async () => {
      const before = readdirSync(dir).sort();
      const content = readFileSync(notebook, 'utf8');
      const run = await runCli(['analysis.ipynb', '--out', 'traced.ipynb', '--offline'], dir);
      assert.equal(run.code, 0, run.stderr);
      assert.equal((run.stdout.match(/traced, fidelity \d\.\d{3}: offline trace; no caption written/g) ?? []).length, 2, run.stdout);
      assert.match(run.stdout, /No figure was captioned; nothing was written\./);
      assert.deepEqual(readdirSync(dir).sort(), before, 'no notebook written');
      assert.equal(readFileSync(notebook, 'utf8'), content);
    });
    it('a notebook that is not JSON', () => expectRefusal('script.ipynb', 'import numpy as np\n', ['--out', 'x.ipynb', '--offline'], /script\.ipynb is not JSON.*jupytext/s));

    it('an nbformat 3 notebook', () =>
      expectRefusal('old.ipynb', JSON.stringify({ nbformat: 3, nbformat_minor: 0, metadata: {}, worksheets: [] }), ['--in-place', '--offline'], /nbformat 3 notebook.*nbconvert --to notebook --nbformat 4/s));

    it('an image output that does not decode', () => {
      const broken = JSON.parse(original) as { cells: NotebookCell[] };
      const output = broken.cells[1]?.outputs?.[1];
      assert.ok(output?.data);
      output.data['image/png'] = 'iVBORw0KGgo=@@@not base64@@@';
      return expectRefusal('broken.ipynb', `${JSON.stringify(broken, null, 1)}\n`, ['--in-place', '--offline'], /cell 2, output 2 \(image\/png\) is not valid base64.*Re-run the cell/s);
    });

    it('a missing notebook and conflicting flags', async () => {
      await expectRefusal('missing.ipynb', undefined, ['--out', 'x.ipynb'], /No file at .*missing\.ipynb/);
      await expectRefusal('analysis.ipynb', undefined, ['--out', 'x.ipynb', '--in-place'], /--out and --in-place exclude each other/);
      await expectRefusal('analysis.ipynb', undefined, ['--out', 'x.ipynb', '--style', 'poem'], /--style must be one of alt, caption, detailed/);
    });

    it('a read-only notebook with --in-place', async (t) => {
      const path = join(dir, 'readonly.ipynb');
      writeFileSync(path, original);
      chmodSync(path, 0o444);
      // root ignores file modes; the immutable attribute stops root too.
      const immutable = process.getuid?.() === 0 && spawnSync('chattr', ['+i', path]).status === 0;
      try {
        let writable = true;
        try {
          accessSync(path, constants.W_OK);
        } catch {
          writable = false;
        }
        if (writable) {
          t.skip('this user can write read-only files and cannot make them immutable');
          return;
        }
        await expectRefusal('readonly.ipynb', undefined, ['--in-place', '--offline'], /readonly\.ipynb is read-only.*--out NEW\.ipynb/s);
        assert.equal(readFileSync(path, 'utf8'), original);
        assert.equal(existsSync(`${path}.bak`), false);
      } finally {
        if (immutable) spawnSync('chattr', ['-i', path]);
        chmodSync(path, 0o644);
      }
    });
  });
});
