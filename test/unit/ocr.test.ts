// OCR of real figures whose text is known: labels, symbols, a rotated axis label; the per-version cache; cancelling.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { OcrReader, type TextBox, cleanWord, createOcrCache, readText } from '../../src/core/fidelity/ocr';
import { sameText } from '../../src/core/fidelity/textMatch';
import { chartFixtures, repoRoot, scratch, stemFixtures } from '../support/paths';

const reader = new OcrReader(join(repoRoot, 'dist'));
const tmp = scratch('refigure-ocr-');
after(async () => {
  await reader.dispose();
  tmp.dispose();
});

const found = (texts: string[], wanted: string) => texts.some((t) => sameText(t, wanted));

describe('reading known figures', () => {
  test('a sector labelled 30° and r = 3 (DynaMath plane geometry)', async () => {
    const items = await readText(join(stemFixtures, 'plane-geometry--image26.png'), { reader });
    const texts = items.map((i) => i.text);
    assert.ok(texts.includes('30°'), texts.join(' | '));
    assert.ok(found(texts, 'r = 3'), texts.join(' | '));
    const degrees = items.find((i) => i.text === '30°')!;
    // Where the figure shows it: left of the centre, just below the radius (400 × 400 image).
    assert.ok(degrees.box.x > 150 && degrees.box.x < 200 && degrees.box.y > 195 && degrees.box.y < 240, JSON.stringify(degrees.box));
  });

  test('a rotated axis label and tick values (ChartMimic line chart)', async () => {
    const items = await readText(join(chartFixtures, 'line_1.png'), { reader });
    const texts = items.map((i) => i.text);
    const label = items.find((i) => sameText(i.text, 'Classification Accuracy (%)'));
    assert.ok(label?.rotated, texts.join(' | '));
    assert.ok(label.box.height > 3 * label.box.width);
    assert.ok(found(texts, 'SNR'), texts.join(' | '));
    const ticks = ['0', '20', '40', '60', '80', '100', '5', '10', '15'].filter((t) => found(texts, t));
    assert.ok(ticks.length >= 7, `tick values read: ${ticks.join(', ')} in ${texts.join(' | ')}`);
  });

  test('tick labels on a grey grid (DynaMath analytic geometry)', async () => {
    // Left in, the grid makes Tesseract take the page for a table and read none of the 32 tick labels.
    const texts = (await readText(join(stemFixtures, 'analytic-geometry--image128.png'), { reader })).map((i) => i.text);
    const ticks = ['−8', '−7', '−6', '−5', '−4', '−3', '−2', '−1', '1', '2', '3', '4', '5', '6', '7', '8'];
    const read = ticks.filter((t) => found(texts, t));
    assert.ok(read.length >= 8, `tick values read: ${read.join(', ')} in ${texts.join(' | ')}`);
  });

  test('large vertex letters of a scanned figure (DynaMath plane geometry)', async () => {
    // 60 px letters: enlarged by the figure's size alone, they were taken for shapes and removed.
    const texts = (await readText(join(stemFixtures, 'plane-geometry--image11.png'), { reader })).map((i) => i.text);
    const letters = ['F', 'C', 'A', 'O', 'B', 'D'].filter((t) => texts.includes(t));
    assert.ok(letters.length >= 4, `letters read: ${letters.join(', ')} in ${texts.join(' | ')}`);
  });

  test('names in a table (DynaMath statistics)', async () => {
    const texts = (await readText(join(stemFixtures, 'statistics--image3.png'), { reader })).map((i) => i.text);
    for (const name of ['Arianna', 'Joel', 'Carson', 'Nate', 'Damon', 'Henry']) assert.ok(found(texts, name), `${name} in ${texts.join(' | ')}`);
  });
});

describe('reading regions', () => {
  const inside = (box: TextBox, area: TextBox) => {
    const cx = box.x + box.width / 2, cy = box.y + box.height / 2;
    return cx >= area.x && cx <= area.x + area.width && cy >= area.y && cy <= area.y + area.height;
  };
  const around = (box: TextBox, pad: number): TextBox => ({ x: box.x - pad, y: box.y - pad, width: box.width + 2 * pad, height: box.height + 2 * pad });

  test('only the text inside the boxes is read, as the whole reading reads it there', async () => {
    const figure = join(stemFixtures, 'plane-geometry--image26.png');
    const whole = await readText(figure, { reader });
    const degrees = whole.find((i) => i.text === '30°');
    assert.ok(degrees, whole.map((i) => i.text).join(' | '));
    const area = around(degrees.box, 8);
    const part = await readText(figure, { reader, regions: [area] });
    assert.deepEqual(part.map((i) => i.text), ['30°']);
    const read = part[0]!.box;
    assert.ok(Math.abs(read.x - degrees.box.x) <= 2 && Math.abs(read.y - degrees.box.y) <= 2, `${JSON.stringify(read)} vs ${JSON.stringify(degrees.box)}`);
    assert.ok(whole.filter((i) => !inside(i.box, area)).length > 0, 'the figure has text outside the region');
  });

  test('a label written upwards is read in its region, in the figure\'s pixels', async () => {
    const figure = join(chartFixtures, 'line_1.png');
    const whole = await readText(figure, { reader });
    const label = whole.find((i) => sameText(i.text, 'Classification Accuracy (%)'));
    assert.ok(label?.rotated, whole.map((i) => i.text).join(' | '));
    const part = await readText(figure, { reader, regions: [around(label.box, 10)] });
    const again = part.find((i) => sameText(i.text, 'Classification Accuracy (%)'));
    assert.ok(again?.rotated, part.map((i) => i.text).join(' | '));
    assert.ok(Math.abs(again.box.y - label.box.y) <= 3 && Math.abs(again.box.x - label.box.x) <= 3, `${JSON.stringify(again.box)} vs ${JSON.stringify(label.box)}`);
    assert.ok(part.length < whole.length);
  });

  test('a region with no ink reads nothing', async () => {
    assert.deepEqual(await readText(join(stemFixtures, 'plane-geometry--image26.png'), { reader, regions: [{ x: 0, y: 0, width: 12, height: 12 }] }), []);
  });
});

describe('a reader of two threads', () => {
  test('reads figures side by side with the results of one thread; a read cancelled while waiting rejects, the rest go on', async () => {
    const pair = new OcrReader(join(repoRoot, 'dist'), 2);
    try {
      const figures = [join(stemFixtures, 'plane-geometry--image26.png'), join(stemFixtures, 'statistics--image3.png'), join(chartFixtures, 'line_1.png')];
      const controller = new AbortController();
      const reads = figures.map((f) => readText(f, { reader: pair }));
      // Both threads are busy: this one waits, and is cancelled while it waits.
      const waiting = readText(figures[0]!, { reader: pair, signal: controller.signal });
      controller.abort();
      await assert.rejects(waiting, (e: Error & { kind?: string }) => e.kind === 'cancelled');
      const side = await Promise.all(reads);
      for (const [i, figure] of figures.entries()) assert.deepEqual(side[i], await readText(figure, { reader }), figure);
    } finally {
      await pair.dispose();
    }
  });

  test('dispose rejects the reads that wait for a thread', async () => {
    const one = new OcrReader(join(repoRoot, 'dist'), 1);
    const outcomes = Promise.allSettled([one.read(join(stemFixtures, 'plane-geometry--image26.png')), one.read(join(stemFixtures, 'statistics--image3.png'))]);
    await one.dispose();
    const [running, waiting] = await outcomes;
    assert.equal(running?.status, 'rejected');
    assert.equal(waiting?.status, 'rejected');
    assert.equal((waiting as PromiseRejectedResult).reason.kind, 'cancelled');
  });
});

describe('cache and cancelling', () => {
  test('a second read of the same file version comes from the cache; a new version is read again', async () => {
    const path = join(tmp.dir, 'figure.png');
    copyFileSync(join(stemFixtures, 'plane-geometry--image26.png'), path);
    let reads = 0;
    const counting = { read: (p: string, s?: AbortSignal) => (reads++, reader.read(p, s)) } as unknown as OcrReader;
    const cache = createOcrCache();
    const first = await readText(path, { reader: counting, cache });
    const second = await readText(path, { reader: counting, cache });
    assert.equal(reads, 1);
    assert.deepEqual(second, first);
    utimesSync(path, new Date(), new Date(Date.now() + 5000));
    await readText(path, { reader: counting, cache });
    assert.equal(reads, 2);
  });

  test('an aborted read rejects as cancelled and the reader still works afterwards', async () => {
    const controller = new AbortController();
    const pending = readText(join(chartFixtures, 'line_1.png'), { reader, signal: controller.signal });
    controller.abort();
    await assert.rejects(pending, (e: Error & { kind?: string }) => e.kind === 'cancelled');
    const items = await readText(join(stemFixtures, 'plane-geometry--image26.png'), { reader });
    assert.ok(items.some((i) => i.text === '30°'));
  });

  test('missing OCR files are reported, never fetched', async () => {
    await assert.rejects(new OcrReader(tmp.dir).read(join(stemFixtures, 'plane-geometry--image26.png')), /OCR files are missing/);
  });
});

describe('word clean-up', () => {
  test("OCR's symbol confusions are mended", () => {
    assert.equal(cleanWord('30º'), '30°');
    assert.equal(cleanWord('–5'), '−5');
    assert.equal(cleanWord('|Oslo'), 'Oslo');
    assert.equal(cleanWord("45'"), '45′');
  });
});
