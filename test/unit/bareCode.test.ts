// Replies that are bare Python with no fence: accepted when Python's own parser accepts them; prose never.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RefigureError } from '../../src/core/errors';
import { bareCandidate, requireCodeOrBare } from '../../src/core/reconstruct/extract';
import { findPython, pythonParses } from '../../src/core/render/python';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startScriptedServer } from '../support/scriptedServer';
import { cliPath, repoRoot, scratch } from '../support/paths';

const bare = `import matplotlib.pyplot as plt
import numpy as np

x = np.linspace(0, 2 * np.pi, 100)
fig, ax = plt.subplots()
ax.plot(x, np.sin(x))
ax.set_title("sin x")
plt.show()
`;

async function parses(): Promise<(code: string) => Promise<boolean>> {
  const python = (await findPython({})).path;
  return (code) => pythonParses(python, code);
}

test('a reply that is entirely Python, with no fence, is taken as the code', async () => {
  assert.equal(await requireCodeOrBare(bare, await parses()), bare);
  // A reasoning model's thoughts before the bare answer are not part of it.
  assert.equal(await requireCodeOrBare(`<think>The figure shows a sine.</think>\n${bare}`, await parses()), bare);
});

test('prose, and prose that merely mentions code, is refused with the no-code error', async () => {
  const replies = [
    'The figure shows a sine wave from 0 to 2π with a title.',
    'Here is how you would do it: import matplotlib and call plt.plot(x, y) = done.',
    `I would write:\nimport matplotlib.pyplot as plt\nthen plot the sine wave over one period.`,
  ];
  for (const reply of replies) {
    await assert.rejects(requireCodeOrBare(reply, await parses()), (error: unknown) => {
      assert.ok(error instanceof RefigureError);
      assert.equal(error.code, 'no-code');
      assert.match(error.message, /replied without code/);
      return true;
    }, reply);
  }
});

test('a fenced block still wins, and bare code that does not parse is refused', async () => {
  const fenced = 'Sure.\n```python\nimport matplotlib.pyplot as plt\nplt.plot([1, 2])\n```\nDone.';
  assert.equal(await requireCodeOrBare(fenced, await parses()), 'import matplotlib.pyplot as plt\nplt.plot([1, 2])\n');
  assert.equal(bareCandidate('x = 1\n```\ncode\n```'), undefined, 'a reply with a fence is never bare code');
  await assert.rejects(requireCodeOrBare('import matplotlib.pyplot as plt\nplt.plot([1, 2)\n', await parses()), /replied without code/);
});

test('the parser check runs no code', async () => {
  const python = (await findPython({})).path;
  assert.equal(await pythonParses(python, 'import os\nos._exit(3)\nraise SystemExit(4)\n'), true);
  assert.equal(await pythonParses(python, 'def f(:\n'), false);
});

test('refigure reconstruct renders a bare-code reply, and refuses a prose one with exit 3', async () => {
  const work = scratch('refigure-bare-');
  const server = await startScriptedServer([{ reply: bare }, { reply: 'Caption: A sine curve.\nAlt text: A sine curve.' }]);
  const prose = await startScriptedServer([{ reply: 'It is a sine curve with a title.' }]);
  try {
    const image = join(repoRoot, 'media', 'samples', 'two-lines.png');
    const run = (out: string, url: string) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [cliPath, 'reconstruct', image, '--endpoint', url, '--model', 'm', '--out', join(work.dir, out), '--json']);
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
        child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      });
    const accepted = await run('bare', server.url);
    assert.equal(accepted.code, 0, accepted.stderr);
    const result = JSON.parse(accepted.stdout) as { code: string; render: { ok: boolean } };
    assert.equal(result.code, bare);
    assert.equal(result.render.ok, true);
    const refused = await run('prose', prose.url);
    assert.equal(refused.code, 3, refused.stderr);
    assert.match(refused.stderr, /replied without code/);
  } finally {
    await server.close();
    await prose.close();
    work.dispose();
  }
});
