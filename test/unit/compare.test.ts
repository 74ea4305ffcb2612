// The fidelity figures (python/refigure_compare.py) on real figures: exact, re-rendered, shifted, cut, unrelated, blank.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { findPython } from '../../src/core/render/python';
import type { Metrics } from '../../src/core/types';
import { chartFixtures, repoRoot, scratch, stemFixtures } from '../support/paths';

const compareScript = join(repoRoot, 'python', 'refigure_compare.py');
const renderCorpus = join(repoRoot, 'bench', 'renderCorpus.py');
const corpus = join(repoRoot, 'bench', 'corpus');

// Image edits done with Pillow + numpy so the tests make their own perturbed copies of real figures.
const editScript = `
import sys, json
import numpy as np
from PIL import Image
sys.path.insert(0, sys.argv[1])
from refigure_compare import load_rgb

def edit(op, src, out, extra):
  a = np.asarray(load_rgb(src)).copy()
  h, w = a.shape[:2]
  if op == "shift":
    d = int(extra[0])
    b = np.full_like(a, 255)
    b[d:, d:] = a[:h - d, :w - d]
  elif op == "cut":
    # Paint white the ninth of the drawing's bounding box that holds the most ink: an element goes missing.
    ink = (np.abs(a.astype(int) - 255) > 24).any(axis=2)
    ys, xs = np.nonzero(ink)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    cells = [(y0 + i * (y1 - y0) // 3, y0 + (i + 1) * (y1 - y0) // 3, x0 + j * (x1 - x0) // 3, x0 + (j + 1) * (x1 - x0) // 3)
             for i in range(3) for j in range(3)]
    cy0, cy1, cx0, cx1 = max(cells, key=lambda c: ink[c[0]:c[1], c[2]:c[3]].sum())
    b = a.copy()
    b[cy0:cy1, cx0:cx1] = 255
  elif op == "blank":
    b = np.full_like(a, 255)
  elif op == "scale":
    b = np.asarray(Image.fromarray(a).resize((int(extra[0]), int(extra[1])), Image.LANCZOS))
  else:
    raise SystemExit("unknown op " + op)
  Image.fromarray(b).save(out)
  return {"path": out, "samePixels": float((a == b).all(axis=2).mean()) if a.shape == b.shape else None}

print(json.dumps([edit(j["op"], j["src"], j["out"], j.get("extra", [])) for j in json.load(sys.stdin)]))
`;

// Counts of the diff map's colours: red = only in the original, blue = only in the render.
const diffColoursScript = `
import sys, json
import numpy as np
from PIL import Image
im = Image.open(sys.argv[1])
a = np.asarray(im.convert("RGB")).astype(int)
red = (a[..., 0] > 180) & (a[..., 1] < 90) & (a[..., 2] < 90)
blue = (a[..., 2] > 180) & (a[..., 0] < 90)
print(json.dumps({"width": im.width, "height": im.height, "red": int(red.sum()), "blue": int(blue.sum())}))
`;

// Many comparisons in one interpreter: the same compare_files the command line runs, without a start-up per pair.
const compareManyScript = `
import sys, json
sys.path.insert(0, sys.argv[1])
from refigure_compare import compare_files
print(json.dumps([compare_files(a, b, d) for a, b, d in json.load(sys.stdin)]))
`;

let python = '';
let work: { dir: string; dispose: () => void };

before(async () => {
  python = (await findPython({})).path;
  work = scratch('refigure-compare-');
});
after(() => work.dispose());

function checkFigures(metrics: Metrics, context: string): Metrics {
  for (const key of ['fidelity', 'ssim', 'pixelMatch', 'edgeF1', 'colorDistance'] as const) {
    assert.equal(typeof metrics[key], 'number', `${key} missing (${context})`);
    assert.ok(metrics[key] >= 0 && metrics[key] <= 1, `${key} out of [0, 1] (${context}): ${JSON.stringify(metrics)}`);
  }
  return metrics;
}

/** One comparison through the module's command line, exactly as a user or the README runs it. */
async function compare(original: string, rendered: string, diff?: string): Promise<Metrics> {
  const { stdout } = await execa(python, [compareScript, original, rendered, ...(diff ? ['--diff', diff] : [])]);
  return checkFigures(JSON.parse(stdout) as Metrics, `${original} vs ${rendered}`);
}

async function compareMany(pairs: Array<[string, string, string?]>): Promise<Metrics[]> {
  const input = JSON.stringify(pairs.map(([a, b, d]) => [a, b, d ?? null]));
  const { stdout } = await execa(python, ['-c', compareManyScript, join(repoRoot, 'python')], { input });
  return (JSON.parse(stdout) as Metrics[]).map((m, i) => checkFigures(m, `${pairs[i][0]} vs ${pairs[i][1]}`));
}

interface Edit {
  op: 'shift' | 'cut' | 'blank' | 'scale';
  src: string;
  name: string;
  extra?: string[];
}

async function edit(edits: Edit[]): Promise<Array<{ path: string; samePixels: number | null }>> {
  const input = JSON.stringify(edits.map((e) => ({ op: e.op, src: e.src, out: join(work.dir, e.name), extra: e.extra ?? [] })));
  const { stdout } = await execa(python, ['-c', editScript, join(repoRoot, 'python')], { input });
  return JSON.parse(stdout) as Array<{ path: string; samePixels: number | null }>;
}

/** Renders corpus programs (names or paths) in one interpreter; returns the PNG paths in order. */
async function renderPrograms(programs: string[], outDir: string): Promise<string[]> {
  const { stdout } = await execa(python, [renderCorpus, '--out', outDir, ...programs]);
  return stdout
    .trim()
    .split('\n')
    .map((line) => (JSON.parse(line) as { png: string }).png);
}

async function diffColours(png: string): Promise<{ width: number; height: number; red: number; blue: number }> {
  const { stdout } = await execa(python, ['-c', diffColoursScript, png]);
  return JSON.parse(stdout) as { width: number; height: number; red: number; blue: number };
}

function pngSize(path: string): { width: number; height: number } {
  const bytes = readFileSync(path);
  assert.equal(bytes.toString('latin1', 1, 4), 'PNG', `${path} is not a PNG`);
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

const baseName = (path: string): string => path.split('/').pop() ?? path;

const lineDrawings = [
  join(stemFixtures, 'plane-geometry--image26.png'),
  join(stemFixtures, 'graph-theory--image237.png'),
  join(stemFixtures, 'scientific-figure--image274.png'),
];
const charts = [join(chartFixtures, 'line_1.png'), join(chartFixtures, 'contour_1.png'), join(chartFixtures, 'quiver_2.png')];
const corpusPngs = ['01_triangle_angles', '09_surface_3d', '11_weighted_graph'].map((stem) => join(corpus, `${stem}.png`));

describe('fidelity ordering on real figures', () => {
  const originals = [...lineDrawings, ...charts, ...corpusPngs];
  const results = new Map<string, { identical: Metrics; shifted: Metrics; cut: Metrics; unrelated: Metrics }>();

  before(async () => {
    const edited = await edit(
      originals.flatMap((src): Edit[] => [
        { op: 'shift', src, name: `shift-${baseName(src)}`, extra: ['4'] },
        { op: 'cut', src, name: `cut-${baseName(src)}` },
      ]),
    );
    // Unrelated: a figure of another family, fitted to this one's size by the module itself.
    const unrelatedTo = (i: number): string => {
      const family = lineDrawings.includes(originals[i]) ? charts : lineDrawings;
      return family[i % family.length];
    };
    const pairs = originals.flatMap((src, i): Array<[string, string]> => [
      [src, src],
      [src, edited[2 * i].path],
      [src, edited[2 * i + 1].path],
      [src, unrelatedTo(i)],
    ]);
    const metrics = await compareMany(pairs);
    originals.forEach((src, i) => {
      const [identical, shifted, cut, unrelated] = metrics.slice(4 * i, 4 * i + 4);
      results.set(src, { identical, shifted, cut, unrelated });
    });
  });

  for (const original of originals) {
    test(`${baseName(original)}: identical > shifted, cut > unrelated`, () => {
      const r = results.get(original);
      assert.ok(r, 'comparisons missing');
      const { identical, shifted, cut, unrelated } = r;
      assert.ok(identical.fidelity >= 0.99, `identical ${JSON.stringify(identical)}`);
      assert.equal(identical.colorDistance, 0);
      assert.ok(shifted.fidelity <= identical.fidelity - 0.1, `shifted ${JSON.stringify(shifted)}`);
      assert.ok(cut.fidelity <= identical.fidelity - 0.03, `cut ${JSON.stringify(cut)}`);
      assert.ok(cut.edgeF1 < identical.edgeF1, `a cut removes edges: ${JSON.stringify(cut)}`);
      assert.ok(unrelated.fidelity < shifted.fidelity, `unrelated ${unrelated.fidelity} vs shifted ${shifted.fidelity}`);
      assert.ok(unrelated.fidelity < cut.fidelity, `unrelated ${unrelated.fidelity} vs cut ${cut.fidelity}`);
    });
  }
});

describe('corpus programs', () => {
  test('rendering corpus programs again reproduces the same PNGs, and their committed ones across versions', async () => {
    const stems = ['02_circle_tangent', '08_circuit_rc', '12_bar_chart', '18_contour'];
    const first = await renderPrograms(stems, join(work.dir, 'first'));
    const again = await renderPrograms(stems, join(work.dir, 'again'));
    const same = await compareMany(stems.map((_stem, i): [string, string] => [first[i], again[i]]));
    same.forEach((m, i) => assert.ok(m.fidelity >= 0.99, `${stems[i]}: ${JSON.stringify(m)}`));
    // The committed PNGs come from one matplotlib; text rendering differs a little between versions.
    const committed = await compareMany(stems.map((stem, i): [string, string] => [join(corpus, `${stem}.png`), again[i]]));
    committed.forEach((m, i) => assert.ok(m.fidelity >= 0.9, `${stems[i]}: ${JSON.stringify(m)}`));
  });

  test('a program with one element left out scores lower, and the diff shows it in red', async () => {
    const cases: Array<[string, RegExp]> = [
      ['02_circle_tangent', /^ax\.plot\(tangent\[/m],
      ['08_circuit_rc', /^resistor_vertical\(/m],
      ['21_phasor', /^ax\.quiver\(0, 0, vr, vl - vc/m],
    ];
    const programs = cases.map(([stem, line]) => {
      const source = readFileSync(join(corpus, `${stem}.py`), 'utf8');
      assert.match(source, line, `${stem}.py no longer has the line this test removes`);
      const program = join(work.dir, `${stem}_cut.py`);
      writeFileSync(program, source.replace(line, '# removed: '));
      return program;
    });
    const rendered = await renderPrograms(programs, join(work.dir, 'cut'));
    // Against the whole program rendered by this same interpreter, so only the cut differs.
    const whole = await renderPrograms(cases.map(([stem]) => stem), join(work.dir, 'whole'));
    const diffs = cases.map(([stem]) => join(work.dir, `${stem}.diff.png`));
    const metrics = await compareMany(cases.map((_case, i): [string, string, string] => [whole[i], rendered[i], diffs[i]]));
    for (const [i, [stem]] of cases.entries()) {
      assert.ok(metrics[i].fidelity <= 0.97, `${stem}: ${JSON.stringify(metrics[i])}`);
      const colours = await diffColours(diffs[i]);
      assert.ok(colours.red > 0, `${stem}: the missing element should be red in the diff`);
      assert.ok(colours.red > colours.blue, `${stem}: nothing was added, yet blue ${colours.blue} >= red ${colours.red}`);
    }
  });
});

describe('blank images', () => {
  test('a line drawing against a blank page is low although most pixels agree', async () => {
    const blanks = await edit(lineDrawings.map((src): Edit => ({ op: 'blank', src, name: `blank-${baseName(src)}` })));
    const metrics = await compareMany(lineDrawings.map((src, i): [string, string] => [src, blanks[i].path]));
    for (const [i, m] of metrics.entries()) {
      assert.ok((blanks[i].samePixels ?? 0) > 0.8, `premise: most pixels are white background (${blanks[i].samePixels})`);
      assert.ok(m.fidelity < 0.35, `${lineDrawings[i]}: ${JSON.stringify(m)}`);
      assert.equal(m.edgeF1, 0);
      assert.ok(m.pixelMatch < 0.2, `pixelMatch counts ink, not background: ${JSON.stringify(m)}`);
    }
  });

  test('blank against blank is a perfect match', async () => {
    const [blank] = await edit([{ op: 'blank', src: lineDrawings[0], name: 'blank-a.png' }]);
    const m = await compare(blank.path, blank.path);
    assert.equal(m.fidelity, 1);
    assert.equal(m.edgeF1, 1);
    assert.equal(m.pixelMatch, 1);
  });
});

describe('sizes and the diff map', () => {
  test('the diff PNG has the original size, also when the render has another size or aspect', async () => {
    const original = join(chartFixtures, 'quiver_2.png');
    const { width, height } = pngSize(original);
    const [bigger, wide] = await edit([
      { op: 'scale', src: original, name: 'bigger.png', extra: [String(width * 2), String(height * 2)] },
      { op: 'scale', src: original, name: 'wide.png', extra: [String(width * 2), String(height)] },
    ]);
    const diffBigger = join(work.dir, 'bigger.diff.png');
    const scaled = await compare(original, bigger.path, diffBigger);
    assert.deepEqual(pngSize(diffBigger), { width, height });
    assert.ok(scaled.fidelity >= 0.85, `same figure at twice the size: ${JSON.stringify(scaled)}`);

    // A wide render is letterboxed into the original's box rather than stretched back into shape.
    const diffWide = join(work.dir, 'wide.diff.png');
    const squeezed = await compare(original, wide.path, diffWide);
    assert.deepEqual(pngSize(diffWide), { width, height });
    assert.ok(squeezed.fidelity < scaled.fidelity, `letterboxed ${squeezed.fidelity} vs scaled ${scaled.fidelity}`);
  });

  test('identical images give a diff with nothing only in one of them', async () => {
    const original = join(stemFixtures, 'solid-geometry--image126.png');
    const diff = join(work.dir, 'same.diff.png');
    await compare(original, original, diff);
    const colours = await diffColours(diff);
    assert.deepEqual({ width: colours.width, height: colours.height }, pngSize(original));
    assert.equal(colours.red, 0);
    assert.equal(colours.blue, 0);
  });

  test('a missing file is reported with what to do', async () => {
    const result = await execa(python, [compareScript, join(work.dir, 'nope.png'), lineDrawings[0]], { reject: false });
    assert.equal(result.exitCode, 2);
    assert.match(result.stderr, /not found.*nope\.png.*Check the path/);
  });
});
