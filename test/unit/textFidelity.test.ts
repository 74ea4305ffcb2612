// Fidelity that reads: real figures redrawn with their text perturbed, scored through the session with real OCR
// of the original and the redraw's exact text; every perturbation below the exact redraw, every text one below 0.95.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Attempt, ChatContent, Renderer } from '../../src/core/types';
import { createModelClient } from '../../src/core/reconstruct/model';
import { captionGuard } from '../../src/core/reconstruct/caption';
import { startScriptedServer } from '../support/scriptedServer';
import { replyWith } from '../support/modelBench';
import { createRenderer } from '../../src/core/render/render';
import { ReconstructionSession, cachedTextReader } from '../../src/core/reconstruct/session';
import { type TextReader, confidentTextDifferences, renderTextItems, scoreAttempt } from '../../src/core/fidelity/differences';
import type { TextBox } from '../../src/core/fidelity/ocr';
import { readImage } from '../../src/core/reconstruct/input';
import { matchText, textKey } from '../../src/core/fidelity/textMatch';
import { repoRoot, scratch, stemFixtures } from '../support/paths';

const corpus = join(repoRoot, 'bench', 'corpus');
const textFixtures = join(repoRoot, 'test', 'fixtures', 'text');
const program = (name: string) => readFileSync(name === 'triangle' ? join(textFixtures, 'triangle.py') : join(corpus, `${name}.py`), 'utf8');

interface Perturbation {
  name: string;
  /** Whether the text changes (the score must stay below 0.95 and the differences name the strings). */
  text: boolean;
  edit: (code: string) => string;
  /** Strings the differences must name (original or redraw side). */
  names?: string[];
}

function replaced(from: string, to: string): (code: string) => string {
  return (code) => {
    assert.ok(code.includes(from), `the program contains ${from}`);
    return code.replace(from, to);
  };
}

const figures: { name: string; perturbations: Perturbation[] }[] = [
  {
    // The case of the issue: the same shapes with the lengths 7 cm and 5 cm score as a near-perfect match on pixels.
    name: 'triangle',
    perturbations: [
      { name: 'both lengths wrong', text: true, edit: replaced('"4 cm", "3 cm"', '"7 cm", "5 cm"'), names: ['7 cm', '5 cm'] },
      { name: 'a vertex renamed', text: true, edit: replaced('"H", 0.12', '"K", 0.12'), names: ['K'] },
      { name: 'the altitude foot moved', text: false, edit: replaced('(16 / 25)', '(12 / 25)') },
    ],
  },
  {
    name: '01_triangle_angles',
    perturbations: [
      { name: 'one label changed', text: true, edit: replaced('"c = 6"', '"d = 6"'), names: ['d = 6'] },
      { name: 'a number changed', text: true, edit: replaced('"b = 4.0"', '"b = 4.5"'), names: ['b = 4.5'] },
      { name: 'a label missing', text: true, edit: replaced('ax.text(3.0, -0.45, "c = 6", ha="center", fontsize=12)', ''), names: ['c = 6'] },
      { name: 'an extra label', text: true, edit: replaced('ax.set_xlim(-1, 7)', 'ax.text(5.6, 3.4, "x = 2", fontsize=12)\nax.set_xlim(-1, 7)'), names: ['x = 2'] },
      { name: 'a geometric change with the same labels', text: false, edit: replaced('np.array([2.0, 3.5])', 'np.array([2.6, 3.3])') },
    ],
  },
  {
    name: '13_line_chart',
    perturbations: [
      { name: 'tick labels changed', text: true, edit: replaced('ax.set_xticks(t, months)', 'ax.set_xticks(t, [str(i + 1) for i in t])'), names: ['12'] },
      { name: 'the title changed', text: true, edit: replaced('"Average monthly temperature"', '"Average monthly rainfall"'), names: ['Average monthly rainfall'] },
      { name: 'a geometric change with the same labels', text: false, edit: replaced('"Singapore": 27 + 0.8', '"Singapore": 26 + 1.5') },
    ],
  },
];

describe('text fidelity on perturbed redraws', () => {
  let renderer: Renderer;
  const tmp = scratch('refigure-textfid-');
  const readText = cachedTextReader();
  before(async () => {
    renderer = await createRenderer();
  });
  after(async () => {
    await renderer.close();
    tmp.dispose();
  });

  for (const figure of figures) {
    test(figure.name, async (t) => {
      const source = program(figure.name);
      const made = await renderer.render({ code: source, outDir: join(tmp.dir, figure.name), stem: 'original' });
      assert.ok(made.ok && made.png, made.error?.message);
      const session = await ReconstructionSession.open(made.png, { renderer, workDir: join(tmp.dir, figure.name, 'work'), readText });
      const exact = await session.renderAttempt(source, 'edit');
      const line = (name: string, a: Attempt) =>
        `${figure.name} · ${name}: fidelity ${a.metrics?.fidelity} (pixel ${a.metrics?.pixelFidelity}, textF1 ${a.metrics?.textF1}), verdict ${a.verdict?.code}/${a.verdict?.textDifferences}; ` +
        confidentTextDifferences(a.differences).map((d) => `${d.kind} '${d.original ?? ''}'→'${d.redraw ?? ''}'`).join(', ');
      t.diagnostic(line('exact', exact));
      assert.ok((exact.metrics?.fidelity ?? 0) >= 0.99, line('exact', exact));
      assert.equal(exact.verdict?.code, 'close');
      assert.ok(exact.metrics?.textF1 !== undefined);
      for (const p of figure.perturbations) {
        const a = await session.renderAttempt(p.edit(source), 'edit');
        t.diagnostic(line(p.name, a));
        assert.ok(a.render.ok, a.render.error?.message);
        const fidelity = a.metrics?.fidelity ?? 1;
        assert.ok(fidelity < (exact.metrics?.fidelity ?? 0), `${p.name} scores below the exact redraw: ${line(p.name, a)}`);
        if (!p.text) continue;
        assert.ok(fidelity < 0.95, `${p.name} scores below 0.95: ${line(p.name, a)}`);
        assert.ok((a.verdict?.textDifferences ?? 0) > 0, line(p.name, a));
        assert.notEqual(a.verdict?.code, 'close');
        const named = confidentTextDifferences(a.differences).flatMap((d) => [textKey(d.original ?? ''), textKey(d.redraw ?? '')]);
        for (const s of p.names ?? []) assert.ok(named.some((n) => n.includes(textKey(s))), `the differences name '${s}': ${line(p.name, a)}`);
      }
      const result = session.result();
      assert.ok(Array.isArray(result.differences) && result.verdict);
    });
  }
});

describe('a second look at the render', () => {
  test('marks OCR reads as text in both images are not differences; a changed price still is', async (t) => {
    const renderer = await createRenderer();
    const tmp = scratch('refigure-secondlook-');
    try {
      const original = join(stemFixtures, 'algebra--image305.png');
      const code = readFileSync(join(textFixtures, 'priced-rows.py'), 'utf8');
      const cached = cachedTextReader();
      // What the second look asks OCR to read in a render.
      const asked: (TextBox[] | undefined)[] = [];
      const readText: TextReader = (path, signal, regions) => {
        if (path !== original) asked.push(regions);
        return cached(path, signal, regions);
      };
      const session = await ReconstructionSession.open(original, { renderer, workDir: join(tmp.dir, 'work'), readText });
      const faithful = await session.renderAttempt(code, 'edit');
      assert.ok(faithful.render.ok, faithful.render.error?.message);
      const info = await readImage(original);
      const originalText = await readText(original);
      const firstLook = scoreAttempt(faithful.render, originalText, info);
      const describe = (ds: Attempt['differences']) => confidentTextDifferences(ds).map((d) => `${d.kind} '${d.original ?? ''}'→'${d.redraw ?? ''}' (${d.confidence})`);
      t.diagnostic(`first look: fidelity ${firstLook.metrics?.fidelity}, textF1 ${firstLook.metrics?.textF1}; ${describe(firstLook.differences).join(', ')}`);
      t.diagnostic(`second look: fidelity ${faithful.metrics?.fidelity}, textF1 ${faithful.metrics?.textF1}; ${describe(faithful.differences).join(', ')}`);
      assert.ok(describe(firstLook.differences).length > 0, 'OCR reads the marks of the original as text');
      assert.ok(describe(faithful.differences).length < describe(firstLook.differences).length, 'the second look drops the misreadings the render shares');
      assert.ok((faithful.metrics?.textF1 ?? 0) > (firstLook.metrics?.textF1 ?? 1));
      // The render is read only around the doubtful items: a box each, together a small part of the figure.
      assert.equal(asked.length, 1);
      const regions = asked[0] ?? [];
      const share = regions.reduce((sum, r) => sum + r.width * r.height, 0) / (info.width * info.height);
      t.diagnostic(`second look: ${regions.length} regions, ${(share * 100).toFixed(1)} % of the figure`);
      assert.ok(regions.length >= describe(firstLook.differences).length && share < 0.5, `${regions.length} regions, ${share}`);
      // Only there: each region holds an item of the original that the redraw's text lacks or reads otherwise.
      const differing = matchText(originalText, renderTextItems(faithful.render.texts ?? []), info).pairs.filter((p) => p.kind === 'missing' || p.kind === 'different');
      for (const r of regions) {
        const holds = differing.some(({ original: o }) => o && r.x <= o.box.x && r.y <= o.box.y && r.x + r.width >= o.box.x + o.box.width && r.y + r.height >= o.box.y + o.box.height);
        assert.ok(holds, `a region around no differing item: ${JSON.stringify(r)}`);
      }
      for (const d of confidentTextDifferences(firstLook.differences).filter((d) => d.kind !== 'text-extra')) {
        const [x, y, w, h] = d.box;
        assert.ok(regions.some((r) => r.x <= x && r.y <= y && r.x + r.width >= x + w && r.y + r.height >= y + h), `a region holds '${d.original}'`);
      }

      // A price the redraw gets wrong is still a difference after the second look.
      const wrongPrice = await session.renderAttempt(code.replace("'$17'", "'$71'"), 'edit');
      const named = confidentTextDifferences(wrongPrice.differences).map((d) => `${d.original ?? ''}→${d.redraw ?? ''}`);
      t.diagnostic(`a wrong price: ${named.join(', ')}`);
      assert.ok(named.some((n) => n.includes('$71')), `the wrong price is named: ${named.join(', ')}`);
      assert.ok((wrongPrice.metrics?.fidelity ?? 1) < (faithful.metrics?.fidelity ?? 0));
    } finally {
      await renderer.close();
      tmp.dispose();
    }
  });
});

describe('refinement is told the text differences', () => {
  test('a wrong label in the first reply is named in the refine request, the second reply fixes it and is kept as best', async () => {
    const renderer = await createRenderer();
    const tmp = scratch('refigure-textrefine-');
    const server = await startScriptedServer();
    try {
      const source = program('triangle');
      const made = await renderer.render({ code: source, outDir: tmp.dir, stem: 'original' });
      assert.ok(made.ok && made.png, made.error?.message);
      const model = createModelClient({ baseURL: server.url, model: 'scripted-model', maxRetries: 0 });
      server.push(replyWith(source.replace('"4 cm", "3 cm"', '"4 cm", "5 cm"')), replyWith(source));
      const session = await ReconstructionSession.open(made.png, { renderer, workDir: join(tmp.dir, 'work'), readText: cachedTextReader() });
      const result = await session.reconstruct({ model, preset: 'generic', refine: 3, caption: false });

      const [first, second] = result.attempts;
      assert.ok(first && second, 'two attempts');
      assert.equal(first.verdict?.code, 'close-text-differs');
      assert.ok((first.metrics?.fidelity ?? 1) < 0.95, `the wrong label keeps it below the target: ${first.metrics?.fidelity}`);
      const requests = server.chatRequests();
      assert.equal(requests.length, 2, 'the fixed attempt reaches the target: no third request');
      const body = requests[1]?.body as { messages: { role: string; content: string | ChatContent[] }[] };
      const words = body.messages.flatMap((m) => (Array.isArray(m.content) ? m.content : [])).map((p) => (p.type === 'text' ? p.text : '')).join('\n');
      assert.match(words, /the original reads '3 ?cm' at \(\d+, \d+\) px; your redraw reads '5 cm'/);
      assert.equal(second.kind, 'refine');
      assert.equal(second.verdict?.code, 'close');
      assert.equal(result.best, second.index);
      assert.equal(result.shown, second.index);
      assert.deepEqual(result.verdict, { code: 'close', textDifferences: 0 });
      assert.ok(result.notes.some((n) => n.code === 'refine-target'));
      // The caption guard: a caption grounded in the first attempt would state its wrong length.
      const held = captionGuard({ attempts: result.attempts, captionAttempt: first.index, shown: result.shown });
      assert.equal(held.ask, true);
      assert.equal(held.code, 'text-differs');
      assert.match(held.reason, /^1 label differs: the original reads '3 ?cm', the redraw '5 cm'/);
      assert.deepEqual(captionGuard({ ...result, captionAttempt: second.index }).ask, false);
    } finally {
      await server.close();
      await renderer.close();
      tmp.dispose();
    }
  });
});

describe('the offline trace writes the text it read', () => {
  test('the bundled sample: its labels become ax.text calls and the caption lists them', async () => {
    const renderer = await createRenderer();
    const tmp = scratch('refigure-textoffline-');
    try {
      const sample = join(repoRoot, 'media', 'samples', 'circle-sector.png');
      const session = await ReconstructionSession.open(sample, { renderer, workDir: tmp.dir, readText: cachedTextReader() });
      const result = await session.reconstruct({});
      const texts = [...result.code.matchAll(/^ax\.text\([^,]+, [^,]+, '([^']*)'/gm)].map((m) => textKey(m[1] ?? ''));
      for (const label of ['30°', 'r = 3']) assert.ok(texts.some((t) => t === textKey(label) || t === textKey(label).replace('°', '')), `ax.text for ${label}: ${texts.join(' | ')}`);
      assert.match(result.caption, /no model used/);
      assert.match(result.caption, /Labels read: .*r ?= ?3/);
      assert.ok(result.render.ok);
    } finally {
      await renderer.close();
      tmp.dispose();
    }
  });
});
