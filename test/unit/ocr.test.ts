// OCR of real figures whose text is known: labels, symbols, a rotated axis label; the per-version cache; cancelling.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { OcrReader, cleanWord, createOcrCache, readText } from '../../src/core/fidelity/ocr';
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

  test('names in a table (DynaMath statistics)', async () => {
    const texts = (await readText(join(stemFixtures, 'statistics--image3.png'), { reader })).map((i) => i.text);
    for (const name of ['Arianna', 'Joel', 'Carson', 'Nate', 'Damon', 'Henry']) assert.ok(found(texts, name), `${name} in ${texts.join(' | ')}`);
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
