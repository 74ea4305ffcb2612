// The offline provider on real figures: traced code renders at the original's size, resembles it, and is honest about having no model.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RefigureError } from '../../src/core/errors';
import { readImage } from '../../src/core/reconstruct/input';
import { traceToCode, type TraceResult } from '../../src/core/offline/offline';
import { createRenderer, type RenderService } from '../../src/core/render/render';
import type { ImageInfo } from '../../src/core/types';
import { pythonPath } from '../fixtures/images/helpers';
import { chartFixtures, scratch, stemFixtures } from '../support/paths';

const work = scratch('refigure-offline-');
let renderer: RenderService;
before(async () => {
  renderer = await createRenderer();
});
after(async () => {
  await renderer.close();
  work.dispose();
});

function pngSize(path: string): [number, number] {
  const bytes = readFileSync(path);
  assert.equal(bytes.toString('latin1', 1, 4), 'PNG');
  return [bytes.readUInt32BE(16), bytes.readUInt32BE(20)];
}

/** Top-level modules the program imports. */
function importedModules(code: string): string[] {
  const found: string[] = [];
  for (const line of code.split('\n')) {
    const m = /^\s*(?:from\s+([\w.]+)\s+import|import\s+([\w.]+(?:\s*,\s*[\w.]+)*))/.exec(line);
    if (m) found.push(...(m[1] ?? m[2]).split(',').map((s) => s.trim().split('.')[0]));
  }
  return found;
}

/** Runs the program as a user would (plain Python, Agg backend) and saves the figure it leaves. */
async function runStandalone(code: string, name: string): Promise<string> {
  const program = join(work.dir, `${name}.py`);
  const png = join(work.dir, `${name}.standalone.png`);
  writeFileSync(program, code);
  const runner = `import runpy, sys\nimport matplotlib.pyplot as plt\nrunpy.run_path(sys.argv[1], run_name='__main__')\nplt.gcf().savefig(sys.argv[2])\n`;
  execFileSync(await pythonPath(), ['-c', runner, program, png], { env: { ...process.env, MPLBACKEND: 'Agg' }, stdio: 'pipe' });
  return png;
}

async function traceAndRender(path: string, name: string): Promise<{ info: ImageInfo; trace: TraceResult; fidelity: number; blank: number }> {
  const info = await readImage(path);
  const trace = await traceToCode(info, renderer, { scratchDir: work.dir });
  const like = { path, width: info.width, height: info.height };
  const outcome = await renderer.render({ code: trace.code, like, outDir: work.dir, stem: name });
  assert.ok(outcome.ok, `${name} renders: ${outcome.error?.message ?? ''}\n${outcome.error?.traceback ?? ''}`);
  assert.ok(outcome.png && outcome.metrics);
  assert.deepEqual(pngSize(outcome.png), [info.width, info.height], `${name} renders at the original's size`);
  // The same program with every shape removed: what the figure's background alone scores.
  const emptied = trace.code.replace(/^LAYERS = \[[\s\S]*?^\]$/m, 'LAYERS = []');
  assert.notEqual(emptied, trace.code);
  const bare = await renderer.render({ code: emptied, like, outDir: work.dir, stem: `${name}.blank` });
  assert.ok(bare.ok && bare.metrics);
  return { info, trace, fidelity: outcome.metrics.fidelity, blank: bare.metrics.fidelity };
}

const figures: Array<[string, string]> = [
  ['line drawing', join(stemFixtures, 'plane-geometry--image171.png')],
  ['chart', join(chartFixtures, 'line_1.png')],
  ['photo-like 3D surface', join(chartFixtures, '3d_4.png')],
];

describe('traceToCode on real figures', () => {
  for (const [kind, path] of figures) {
    it(`${kind}: self-contained code that renders at size and resembles the original`, async () => {
      const { info, trace, fidelity, blank } = await traceAndRender(path, kind.replace(/\W+/g, '-'));
      assert.deepEqual(
        [...new Set(importedModules(trace.code))].filter((m) => m !== 'matplotlib' && m !== 'numpy'),
        [],
        'imports nothing beyond matplotlib and numpy',
      );
      assert.doesNotMatch(trace.code, /open\(|imread|savefig\(|https?:/, 'reads and fetches nothing');
      assert.ok(trace.paths > 0);
      assert.ok(trace.colors.length > 0 && trace.colors.every((c) => /^#[0-9a-f]{6}$/.test(c)));
      assert.equal(trace.codeBytes, Buffer.byteLength(trace.code, 'utf8'));
      assert.ok(trace.codeBytes <= 400 * 1024, `${kind}: ${trace.codeBytes} bytes of code`);
      assert.ok(trace.seconds > 0);
      assert.ok(fidelity >= 0.8, `${kind}: fidelity ${fidelity.toFixed(3)}`);
      assert.ok(fidelity > blank + 0.1, `${kind}: fidelity ${fidelity.toFixed(3)} vs ${blank.toFixed(3)} for the background alone`);
      assert.deepEqual(pngSize(await runStandalone(trace.code, `${kind.replace(/\W+/g, '-')}-alone`)), [info.width, info.height]);
    });
  }

  it('a figure over a megapixel is traced smaller and drawn back at full size', async () => {
    const path = join(stemFixtures, 'solid-geometry--image187.png');
    const info = await readImage(path);
    assert.ok(info.width * info.height > 2_000_000);
    const trace = await traceToCode(info, renderer, { scratchDir: work.dir });
    assert.match(trace.code, new RegExp(`^WIDTH, HEIGHT = ${info.width}, ${info.height}$`, 'm'));
    const layers = /^LAYERS = \[[\s\S]*?^\]$/m.exec(trace.code)?.[0] ?? '';
    const coords = [...layers.matchAll(/(?<=[ '])\d+(?:\.\d)?(?=[ '])/g)].map((m) => Number(m[0]));
    const longSide = Math.max(info.width, info.height);
    assert.ok(coords.length > 100);
    assert.ok(Math.max(...coords) > longSide * 0.8, 'coordinates are scaled back to the original size');
    assert.ok(Math.max(...coords) <= longSide + 1);
    assert.deepEqual(pngSize(await runStandalone(trace.code, 'large')), [info.width, info.height]);
  });
});

describe('traceToCode says what it is', () => {
  it('caption and alt text say no model was used and give only what tracing knows', async () => {
    const info = await readImage(join(stemFixtures, 'plane-geometry--image171.png'));
    const trace = await traceToCode(info, renderer, { scratchDir: work.dir });
    for (const text of [trace.caption, trace.altText]) {
      assert.match(text, /no model|without a model/i);
      assert.match(text, new RegExp(`${info.width}×${info.height}`));
      assert.match(text, new RegExp(`\\b${trace.paths} filled shape`));
    }
    assert.match(trace.caption, new RegExp(`in ${trace.colors.length} colours?`));
    assert.match(trace.code, /No model was used/);
  });

  it('names the colours of a black-and-grey drawing as greys, never as hues', async () => {
    const info = await readImage(join(stemFixtures, 'plane-geometry--image26.png'));
    const trace = await traceToCode(info, renderer, { scratchDir: work.dir });
    const neutral = (hex: string) => {
      const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];
      return Math.max(r, g, b) - Math.min(r, g, b) <= 24;
    };
    assert.ok(trace.colors.every(neutral), `layer colours ${trace.colors.join(', ')}`);
    assert.doesNotMatch(trace.caption, /\b(green|blue|red|orange|yellow|purple|pink|brown|cyan|beige)\b/);
    assert.match(trace.caption, /grey|black/);
  });

  it('fewer colours give no more colour layers than asked', async () => {
    const info = await readImage(join(chartFixtures, '3d_4.png'));
    const few = await traceToCode(info, renderer, { scratchDir: work.dir, colors: 4 });
    assert.ok(few.colors.length <= 3, `${few.colors.length} colour layers besides the background`);
  });

  it('refuses SVG, bad colour counts, and stops when cancelled', async () => {
    const info = await readImage(join(stemFixtures, 'plane-geometry--image171.png'));
    const svg: ImageInfo = { ...info, format: 'svg', mediaType: 'image/svg+xml' };
    await assert.rejects(traceToCode(svg, renderer, { scratchDir: work.dir }), (e: unknown) => e instanceof RefigureError && e.kind === 'input');
    await assert.rejects(traceToCode(info, renderer, { scratchDir: work.dir, colors: 1 }), (e: unknown) => e instanceof RefigureError && e.kind === 'usage');
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(
      traceToCode(info, renderer, { scratchDir: work.dir, signal: controller.signal }),
      (e: unknown) => e instanceof RefigureError && e.kind === 'cancelled',
    );
  });
});
