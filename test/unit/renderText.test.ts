// The redraw's text read exactly (python/refigure_text.py), and the triangle case scored end to end with OCR.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { OcrReader, readText, type TextItem } from '../../src/core/fidelity/ocr';
import { matchText, textDifferences } from '../../src/core/fidelity/textMatch';
import { foldFidelity } from '../../src/core/fidelity/differences';
import { repoRoot, scratch } from '../support/paths';
import { testPython } from '../support/notebooks';

const fixtures = join(repoRoot, 'test', 'fixtures', 'text');
const runner = join(fixtures, 'render_text.py');
let python = '';

interface Rendered { width: number; height: number; png: string; items: TextItem[]; rotations: number[] }

function run(program: string, png: string, box?: { width: number; height: number }): Rendered {
  const out = JSON.parse(execFileSync(python, [runner, program, png, ...(box ? [String(box.width), String(box.height)] : [])], { encoding: 'utf8' })) as {
    width: number; height: number; texts: { text: string; box: number[]; rotation: number }[];
  };
  return {
    width: out.width,
    height: out.height,
    png,
    items: out.texts.map((t) => ({ text: t.text, box: { x: t.box[0]!, y: t.box[1]!, width: t.box[2]!, height: t.box[3]! }, confidence: 1 })),
    rotations: out.texts.map((t) => t.rotation),
  };
}

function readerText(source: string): string {
  const code = `import sys, json; sys.path.insert(0, ${JSON.stringify(join(repoRoot, 'python'))}); from refigure_text import reader_text; print(json.dumps(reader_text(sys.argv[1]), ensure_ascii=False))`;
  return JSON.parse(execFileSync(python, ['-c', code, source], { encoding: 'utf8' })) as string;
}

function pixelFidelity(a: string, b: string): number {
  const code = `import sys, json; sys.path.insert(0, ${JSON.stringify(join(repoRoot, 'python'))}); from refigure_compare import compare_files; print(json.dumps(compare_files(sys.argv[1], sys.argv[2])))`;
  return (JSON.parse(execFileSync(python, ['-c', code, a, b], { encoding: 'utf8' })) as { fidelity: number }).fidelity;
}

const tmp = scratch('refigure-text-');
before(async () => {
  const venv = join(repoRoot, '.refigure-tools', 'venv', 'bin', 'python');
  python = existsSync(venv) ? venv : await testPython();
});
after(() => tmp.dispose());

describe('mathtext as a reader sees it', () => {
  const cases: [string, string][] = [
    ['$30^\\circ$', '30°'],
    ['$\\theta$', 'θ'],
    ['$x^2$', 'x²'],
    ['$\\frac{1}{2}$', '1/2'],
    ['$\\mathrm{v}_0 = 3\\,\\mathrm{m/s}$', 'v₀ = 3 m/s'],
    ['$-5$', '−5'],
    ['angle $\\alpha = 45^{\\circ}$', 'angle α = 45°'],
    ['costs \\$5', 'costs $5'],
    ['$\\sqrt{2}$', '√2'],
  ];
  for (const [source, seen] of cases) test(`${source} → ${seen}`, () => assert.equal(readerText(source), seen));
});

describe('visible texts of a figure', () => {
  test('tick labels inside the view, a rotated y label, no hidden or empty text, boxes after the fit', () => {
    const program = join(tmp.dir, 'axes.py');
    execFileSync(python, ['-c', `open(${JSON.stringify(program)}, 'w').write('''
import matplotlib.pyplot as plt
fig, ax = plt.subplots(figsize=(4, 3))
ax.plot([0, 1, 2], [0, 1, 4])
ax.set_xlim(0, 2)
ax.set_ylabel("Height (m)")
ax.set_title("$v_0 = 3$")
ax.text(0.5, 3, "hidden", visible=False)
ax.text(0.5, 2, "")
''')`]);
    const whole = run(program, join(tmp.dir, 'axes.png'));
    const texts = whole.items.map((i) => i.text);
    assert.ok(texts.includes('Height (m)'));
    assert.ok(texts.includes('v₀ = 3'));
    assert.ok(!texts.includes('hidden'));
    assert.ok(!texts.includes(''));
    assert.ok(texts.includes('2.00') || texts.includes('2.0'), texts.join(','));
    assert.ok(!texts.includes('2.25'), 'ticks outside the view are not drawn');
    assert.equal(whole.rotations[texts.indexOf('Height (m)')], 90);
    const label = whole.items[texts.indexOf('Height (m)')]!;
    assert.ok(label.box.height > 2 * label.box.width, 'a vertical label has a tall box');
    // Fitted into a box twice as wide: scaled by the height, centred horizontally.
    const fitted = run(program, join(tmp.dir, 'axes-fit.png'), { width: 2 * whole.width, height: whole.height });
    const f = fitted.items[texts.indexOf('Height (m)')]!;
    assert.ok(Math.abs(f.box.x - (label.box.x + whole.width / 2)) < 1.5, `${f.box.x} vs ${label.box.x + whole.width / 2}`);
    assert.ok(Math.abs(f.box.y - label.box.y) < 1.5);
  });
});

describe('the triangle whose labels are wrong (CodePercept)', () => {
  const reader = new OcrReader(join(repoRoot, 'dist'));
  after(() => reader.dispose());

  test('wrong lengths score below a correct redraw and below a small geometric slip', async () => {
    const original = run(join(fixtures, 'triangle.py'), join(tmp.dir, 'triangle.png'));
    const read = await readText(original.png, { reader });
    const score = (variant: string) => {
      const redraw = run(join(fixtures, `${variant}.py`), join(tmp.dir, `${variant}-redraw.png`), original);
      const pixel = pixelFidelity(original.png, redraw.png);
      const m = matchText(read, redraw.items, original);
      return { pixel, m, folded: foldFidelity(pixel, m.textF1, m.hasText) };
    };
    const correct = score('triangle');
    const wrong = score('triangle_wrong_labels');
    const slip = score('triangle_moved_foot');
    assert.ok(correct.m.textF1 >= 0.99, `correct redraw textF1 ${correct.m.textF1}`);
    // Pixels alone rank the wrong lengths above the slip; the folded figure must not.
    assert.ok(wrong.pixel > slip.pixel);
    assert.ok(wrong.m.textF1 < 0.8, `wrong labels textF1 ${wrong.m.textF1}`);
    assert.ok(wrong.folded < 0.9, `wrong labels folded ${wrong.folded}`);
    assert.ok(wrong.folded < slip.folded - 0.02, `wrong ${wrong.folded} vs slip ${slip.folded}`);
    assert.ok(slip.folded < correct.folded);
    const named = textDifferences(wrong.m).map((d) => `${d.original}→${d.render}`);
    assert.ok(named.some((n) => /4 ?cm→7 cm/.test(n)), named.join(', '));
    assert.ok(named.some((n) => /3 ?cm→5 cm/.test(n)), named.join(', '));
  });
});
