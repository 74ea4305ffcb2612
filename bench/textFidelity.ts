// Calibration for text fidelity: OCR time and recall on the bench corpus (whose programs state their text),
// and the triangle case scored with the redraw's text read exactly and by OCR.
// Run: npx esbuild bench/textFidelity.ts --bundle --platform=node --outfile=/tmp/textFidelity.js && node /tmp/textFidelity.js
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { OcrReader, createOcrCache, readText, type TextItem } from '../src/core/fidelity/ocr';
import { matchText } from '../src/core/fidelity/textMatch';
import { foldFidelity } from '../src/core/fidelity/differences';

const root = process.cwd();
const python = join(root, '.refigure-tools', 'venv', 'bin', 'python');
const runner = join(root, 'test', 'fixtures', 'text', 'render_text.py');
const work = mkdtempSync(join(tmpdir(), 'refigure-text-'));

interface Rendered { width: number; height: number; items: TextItem[]; png: string }

function render(program: string, name: string, width?: number, height?: number): Rendered {
  const png = join(work, `${name}.png`);
  const args = [runner, program, png, ...(width && height ? [String(width), String(height)] : [])];
  const out = JSON.parse(execFileSync(python, args, { encoding: 'utf8' })) as { width: number; height: number; texts: { text: string; box: number[]; rotation: number }[] };
  const items = out.texts.map((t) => ({ text: t.text, box: { x: t.box[0]!, y: t.box[1]!, width: t.box[2]!, height: t.box[3]! }, confidence: 1, rotated: Math.abs(t.rotation - 90) < 1 || undefined }));
  return { width: out.width, height: out.height, items, png };
}

function pixelFidelity(a: string, b: string): number {
  const code = `import sys, json; sys.path.insert(0, ${JSON.stringify(join(root, 'python'))}); from refigure_compare import compare_files; print(json.dumps(compare_files(sys.argv[1], sys.argv[2])))`;
  return (JSON.parse(execFileSync(python, ['-c', code, a, b], { encoding: 'utf8' })) as { fidelity: number }).fidelity;
}

async function main(): Promise<void> {
  const reader = new OcrReader(join(root, 'dist'));
  const cache = createOcrCache();
  const corpus = join(root, 'bench', 'corpus');
  let same = 0, exactTotal = 0, ocrTotal = 0;
  const times: number[] = [];
  console.log('figure | ms | exact items | OCR items | same | recall | precision');
  for (const file of readdirSync(corpus).filter((f) => f.endsWith('.py')).sort()) {
    const name = basename(file, '.py');
    const png = join(corpus, `${name}.png`);
    const t0 = performance.now();
    const ocr = await readText(png, { reader, cache });
    times.push(performance.now() - t0);
    const exact = render(join(corpus, file), name);
    const m = matchText(ocr, exact.items, exact);
    same += m.counts.same;
    exactTotal += exact.items.length;
    ocrTotal += ocr.length;
    console.log(`${name} | ${Math.round(times[times.length - 1]!)} | ${exact.items.length} | ${ocr.length} | ${m.counts.same} | ${(m.counts.same / Math.max(1, exact.items.length)).toFixed(2)} | ${(m.counts.same / Math.max(1, ocr.length)).toFixed(2)}`);
  }
  const t1 = performance.now();
  for (const file of readdirSync(corpus).filter((f) => f.endsWith('.png'))) await readText(join(corpus, file), { reader, cache });
  const cachedMs = (performance.now() - t1) / 25;
  times.sort((a, b) => a - b);
  console.log(`OCR: median ${Math.round(times[times.length >> 1]!)} ms, max ${Math.round(times[times.length - 1]!)} ms (first includes start-up); cached ${cachedMs.toFixed(2)} ms`);
  console.log(`Corpus: recall ${(same / exactTotal).toFixed(3)} (${same}/${exactTotal}), precision ${(same / ocrTotal).toFixed(3)} (${same}/${ocrTotal})`);

  const fixtures = join(root, 'test', 'fixtures', 'text');
  const original = render(join(fixtures, 'triangle.py'), 'triangle');
  const ocrOriginal = await readText(original.png, { reader });
  console.log('\ncase | pixel | textF1 exact | folded exact | textF1 OCR-both | folded OCR-both | differences (exact)');
  for (const variant of ['triangle', 'triangle_wrong_labels', 'triangle_moved_foot']) {
    const redraw = render(join(fixtures, `${variant}.py`), `${variant}-redraw`, original.width, original.height);
    const pixel = pixelFidelity(original.png, redraw.png);
    const exact = matchText(ocrOriginal, redraw.items, original);
    const both = matchText(ocrOriginal, await readText(redraw.png, { reader }), original);
    const diffs = exact.pairs.filter((p) => p.kind !== 'same').map((p) => `${p.kind}:${p.original?.text ?? ''}→${p.render?.text ?? ''}`).join(', ');
    console.log(`${variant} | ${pixel.toFixed(4)} | ${exact.textF1.toFixed(3)} | ${foldFidelity(pixel, exact.textF1, exact.hasText).toFixed(4)} | ${both.textF1.toFixed(3)} | ${foldFidelity(pixel, both.textF1, both.hasText).toFixed(4)} | ${diffs}`);
  }
  await reader.dispose();
}

void main();
