// Where the endpoint, model and key come from, and the output files a reconstruction leaves.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { completeModel, resolveEndpoint } from '../../src/core/config';
import { RefigureError } from '../../src/core/errors';
import { checkOutputs, outputPaths, writeOutputs } from '../../src/core/reconstruct/outputs';
import type { ReconstructionResult } from '../../src/core/types';
import { scratch } from '../support/paths';

describe('resolveEndpoint', () => {
  it('takes flags first, then REFIGURE_*, then OPENAI_*', () => {
    const env = { REFIGURE_ENDPOINT: 'http://a:1/v1', REFIGURE_MODEL: 'ma', REFIGURE_API_KEY: 'ka', OPENAI_BASE_URL: 'http://b:2/v1', OPENAI_API_KEY: 'kb' };
    assert.deepEqual(resolveEndpoint({ env }), { baseURL: 'http://a:1/v1', model: 'ma', apiKey: 'ka', timeoutMs: undefined });
    assert.deepEqual(resolveEndpoint({ endpoint: 'http://c:3/v1/', model: 'mc', apiKey: 'kc', env, timeoutMs: 5 }), {
      baseURL: 'http://c:3/v1',
      model: 'mc',
      apiKey: 'kc',
      timeoutMs: 5,
    });
    assert.deepEqual(resolveEndpoint({ env: { OPENAI_BASE_URL: 'https://b/v1', OPENAI_API_KEY: 'kb' } }), {
      baseURL: 'https://b/v1',
      model: '',
      apiKey: 'kb',
      timeoutMs: undefined,
    });
  });

  it('is undefined with nothing configured (blank values count as nothing)', () => {
    assert.equal(resolveEndpoint({ env: {} }), undefined);
    assert.equal(resolveEndpoint({ endpoint: '  ', env: { REFIGURE_ENDPOINT: '' } }), undefined);
  });

  it('refuses what is not an http(s) URL, as bad usage', () => {
    for (const endpoint of ['localhost:8000', 'ftp://host/v1']) {
      assert.throws(
        () => resolveEndpoint({ endpoint, env: {} }),
        (error: unknown) => error instanceof RefigureError && error.kind === 'usage' && error.message.includes(endpoint),
      );
    }
  });
});

describe('completeModel', () => {
  const config = { baseURL: 'http://host/v1', model: '' };

  it('uses the only model an endpoint serves, and keeps a named one without asking', async () => {
    assert.equal((await completeModel(config, async () => ['Qwen2.5-VL-7B'])).model, 'Qwen2.5-VL-7B');
    let asked = false;
    const named = await completeModel({ ...config, model: 'm' }, async () => {
      asked = true;
      return [];
    });
    assert.equal(named.model, 'm');
    assert.equal(asked, false);
  });

  it('names the choices when there are several, and says when there are none', async () => {
    await assert.rejects(completeModel(config, async () => ['a', 'b']), /serves 2: a, b/);
    await assert.rejects(completeModel(config, async () => []), /lists none/);
  });
});

function result(imagePath: string, png: string | null, diff: string | null): ReconstructionResult {
  const render = { ok: png !== null, png: png ?? undefined, diffPng: diff ?? undefined, seconds: 0.1, sandbox: 'landlock' as const };
  return {
    version: 2,
    image: { path: imagePath, width: 10, height: 10, format: 'png' },
    provider: 'model',
    model: 'm',
    code: 'import matplotlib.pyplot as plt',
    caption: '',
    altText: '',
    captionStyle: 'caption',
    captionAttempt: null,
    captionProvider: null,
    shown: 1,
    best: 1,
    render: { ok: png !== null, png, diff, error: null, seconds: 0.1, sandbox: 'landlock' },
    metrics: null,
    attempts: [
      { index: 0, kind: 'initial', code: 'x', render: { ...render, ok: false, png: undefined, diffPng: undefined }, seconds: 0.1, best: false },
      { index: 1, kind: 'refine', code: 'import matplotlib.pyplot as plt', render, seconds: 0.1, best: true },
    ],
    timings: {},
    notes: [],
  };
}

describe('outputs', () => {
  it('names the four files after the image, in the output folder', () => {
    assert.deepEqual(outputPaths('/figs/plot.v2.png', '/out'), {
      code: '/out/plot.v2.refigure.py',
      png: '/out/plot.v2.refigure.png',
      diff: '/out/plot.v2.refigure.diff.png',
      json: '/out/plot.v2.refigure.json',
    });
  });

  it('writes code, render, diff and JSON; the JSON points at the written files; a rerun without a render removes the stale PNGs', async () => {
    const work = scratch();
    try {
      const image = join(work.dir, 'plot.png');
      writeFileSync(image, 'not read here');
      const attempts = join(work.dir, 'attempts');
      mkdirSync(attempts);
      writeFileSync(join(attempts, 'attempt-2.png'), 'PNG');
      writeFileSync(join(attempts, 'attempt-2.diff.png'), 'DIFF');
      const paths = outputPaths(image, join(work.dir, 'out'));
      await checkOutputs(image, paths);
      const written = await writeOutputs(result(image, join(attempts, 'attempt-2.png'), join(attempts, 'attempt-2.diff.png')), paths);

      assert.equal(readFileSync(paths.code, 'utf8'), 'import matplotlib.pyplot as plt\n');
      assert.equal(readFileSync(paths.png, 'utf8'), 'PNG');
      assert.equal(readFileSync(paths.diff, 'utf8'), 'DIFF');
      const json = JSON.parse(readFileSync(paths.json, 'utf8')) as ReconstructionResult;
      assert.deepEqual(json, JSON.parse(JSON.stringify(written)));
      assert.equal(json.render.png, paths.png);
      assert.deepEqual(json.outputs, { code: paths.code, png: paths.png, diff: paths.diff, json: paths.json });
      assert.equal(json.attempts[1]?.render.png, paths.png, 'the best attempt points at the written render');
      assert.equal(json.attempts[0]?.render.png, undefined, 'other attempts point at no file that is gone');
      assert.deepEqual(readdirSync(join(work.dir, 'out')).filter((name) => name.endsWith('.tmp')), [], 'no temporary file left');

      await writeOutputs(result(image, null, null), paths);
      assert.equal(existsSync(paths.png), false);
      assert.equal(existsSync(paths.diff), false);
      assert.equal(JSON.parse(readFileSync(paths.json, 'utf8')).render.ok, false);
    } finally {
      work.dispose();
    }
  });

  it('refuses outputs that belong to another image of the same name, and never the image itself', async () => {
    const work = scratch();
    try {
      const png = join(work.dir, 'plot.png');
      const jpg = join(work.dir, 'plot.jpg');
      const paths = outputPaths(png, work.dir);
      writeFileSync(paths.json, JSON.stringify({ image: { path: png } }));
      await checkOutputs(png, paths);
      await assert.rejects(checkOutputs(jpg, outputPaths(jpg, work.dir)), /another image/);
      const self = join(work.dir, 'x.refigure.png');
      await assert.rejects(checkOutputs(self, { ...outputPaths(self, work.dir), png: self }), /overwrite the input image/);
    } finally {
      work.dispose();
    }
  });
});
