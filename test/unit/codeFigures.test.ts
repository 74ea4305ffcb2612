// The reference-code figures on program pairs whose one difference is known, rendered in the real sandbox; CIEDE2000 on published data.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type RenderService, createRenderer } from '../../src/core/render/render';
import { type CodeFigures, codeFigureNames, codeFigures, deltaE2000 } from '../../src/core/fidelity/codeFigures';
import type { RenderOutcome } from '../../src/core/types';
import { repoRoot, scratch } from '../support/paths';

const pairs = join(repoRoot, 'test', 'fixtures', 'pairs');
const baseCode = readFileSync(join(pairs, 'base.py'), 'utf8');
/** Each variant: one replacement in base.py, and the figures it must lower. */
const variants = JSON.parse(readFileSync(join(pairs, 'variants.json'), 'utf8')) as Record<string, { replace: [string, string]; lowers: Array<keyof CodeFigures> }>;

function variantCode(name: string): string {
  const [from, to] = variants[name]!.replace;
  assert.equal(baseCode.split(from).length, 2, `${name}: the replaced text occurs once in base.py`);
  return baseCode.replace(from, to);
}

describe('reference-code figures', () => {
  let renderer: RenderService;
  let dir: string;
  let dispose: () => void;
  const renders = new Map<string, RenderOutcome>();

  const render = async (name: string, artists = true): Promise<RenderOutcome> => {
    const code = name === 'base' ? baseCode : variantCode(name);
    const outcome = await renderer.render({ code, outDir: dir, stem: name, artists });
    assert.ok(outcome.ok, `${name}: ${outcome.error?.message}`);
    return outcome;
  };

  before(async () => {
    ({ dir, dispose } = scratch('refigure-codefigures-'));
    renderer = await createRenderer();
    for (const name of ['base', ...Object.keys(variants)]) renders.set(name, await render(name));
  });
  after(async () => {
    await renderer.close();
    dispose();
  });

  test('the artists describe the reference: two axes on a 2 × 2 grid, two line calls, a circle, a text', () => {
    const artists = renders.get('base')?.artists;
    assert.ok(artists);
    assert.deepEqual(artists.axes.map((a) => a.grid), [[2, 2, 0, 0, 0, 0], [2, 2, 1, 1, 1, 1]]);
    assert.deepEqual(artists.axes[1]?.xlim, [-2, 2]);
    assert.deepEqual(artists.elements.map((e) => e.type), ['line', 'line', 'patch:circle', 'text']);
    assert.deepEqual(artists.elements[2]?.circle, [0, 0, 1]);
    assert.deepEqual(artists.elements[1]?.ends, [0, 9, 3, 0]);
    assert.notEqual(artists.elements[0]?.call, artists.elements[1]?.call);
  });

  test('a render that does not ask for artists carries none', async () => {
    assert.equal((await render('base', false)).artists, undefined);
  });

  test('the reference against itself scores 1 on every figure', () => {
    const base = renders.get('base') as RenderOutcome;
    const figures = codeFigures(base, base);
    for (const name of codeFigureNames) assert.equal(figures[name], 1, name);
  });

  for (const [variant, { lowers: lowered }] of Object.entries(variants)) {
    test(`${variant}: lowers ${lowered.join(' and ')} and nothing else`, (t) => {
      const figures = codeFigures(renders.get('base') as RenderOutcome, renders.get(variant) as RenderOutcome);
      t.diagnostic(JSON.stringify(figures));
      for (const name of codeFigureNames) {
        const value = figures[name];
        assert.ok(value !== null, `${name} is defined`);
        if (lowered.includes(name)) assert.ok(value < 1, `${name} = ${value} should drop`);
        else assert.equal(value, 1, `${name} should stay 1`);
      }
    });
  }

  test('one bar call is one element, however many bars; ten add_patch calls are ten', async () => {
    const code = (body: string) => `import matplotlib.pyplot as plt\nfrom matplotlib.patches import Rectangle\nfig, ax = plt.subplots()\n${body}\n`;
    const bars = await renderer.render({ code: code('ax.bar(range(10), range(1, 11))'), outDir: dir, stem: 'bars', artists: true });
    const patches = await renderer.render({ code: code('for i in range(10):\n    ax.add_patch(Rectangle((i, 0), 0.8, i + 1))'), outDir: dir, stem: 'patches', artists: true });
    assert.equal(new Set(bars.artists?.elements.map((e) => e.call)).size, 1);
    assert.equal(new Set(patches.artists?.elements.map((e) => e.call)).size, 10);
    // One rectangle kind against ten: recall 1, precision 1/10.
    assert.ok(Math.abs((codeFigures(bars, patches).typeF1 ?? 0) - 2 / 11) < 1e-9);
  });
});

describe('CIEDE2000', () => {
  // Sharma, Wu and Dalal (2005), table 1: pairs 1, 7, 17 and 25.
  const cases: Array<[number[], number[], number]> = [
    [[50, 2.6772, -79.7751], [50, 0, -82.7485], 2.0425],
    [[50, 0, 0], [50, -1, 2], 2.3669],
    [[50, 2.5, 0], [73, 25, -18], 27.1492],
    [[60.2574, -34.0099, 36.2677], [60.4626, -34.1751, 39.4387], 1.2644],
  ];
  for (const [a, b, want] of cases) {
    test(`${JSON.stringify(a)} vs ${JSON.stringify(b)} = ${want}`, () => {
      assert.ok(Math.abs(deltaE2000(a, b) - want) < 1e-4, String(deltaE2000(a, b)));
      assert.ok(Math.abs(deltaE2000(b, a) - want) < 1e-4);
    });
  }
});
