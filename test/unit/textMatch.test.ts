// Text matching and the folded fidelity: numbers as numbers, OCR's confusions, merged tick labels, the triangle case.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TextItem } from '../../src/core/fidelity/ocr';
import { matchText, resembles, sameText, textDifferences, textKey } from '../../src/core/fidelity/textMatch';
import { confidentTextDifferences, foldFidelity, scoreAttempt } from '../../src/core/fidelity/differences';
import type { RenderOutcome } from '../../src/core/types';

const item = (text: string, x: number, y: number, confidence = 0.9, width = 40, height = 20): TextItem => ({ text, box: { x, y, width, height }, confidence });
const size = { width: 500, height: 400 };

describe('text keys and equality', () => {
  test('numbers compare as numbers, the minus sign and dashes as one', () => {
    assert.equal(textKey('3.0'), textKey('3'));
    assert.equal(textKey('−2.50'), textKey('-2.5'));
    assert.ok(sameText('x²', 'x2'));
    assert.ok(sameText('Class  A', 'class a'));
    assert.ok(!sameText('4 cm', '7 cm'));
    assert.ok(!sameText('3', '30'));
  });
  test("OCR's confusions pass for words but never for values", () => {
    assert.ok(sameText('Mackenize', 'Mackenzie'));
    assert.ok(sameText('300', '30°'));
    assert.ok(sameText('30', '30°'));
    assert.ok(!sameText('31', '30°'));
    assert.ok(!sameText('a=4.5', 'a=4.6'));
  });
});

describe('matching', () => {
  const original = [item('A', 120, 80), item('B', 400, 280), item('4 cm', 240, 300), item('3 cm', 70, 185)];
  test('an exact redraw is all same, textF1 1', () => {
    const m = matchText(original, original.map((o) => ({ ...o, box: { ...o.box, x: o.box.x + 2 }, confidence: 1 })), size);
    assert.equal(m.counts.same, 4);
    assert.equal(m.textF1, 1);
  });
  test('changed, missing and extra labels are named, largest first', () => {
    const render = [item('A', 121, 80, 1), item('7 cm', 242, 302, 1, 60, 22), item('3 cm', 70, 186, 1), item('H', 300, 200, 1)];
    const m = matchText(original, render, size);
    assert.deepEqual(m.counts, { same: 2, different: 1, missing: 1, extra: 1 });
    const diffs = textDifferences(m);
    assert.equal(diffs[0]!.kind, 'different');
    assert.equal(diffs[0]!.original, '4 cm');
    assert.equal(diffs[0]!.render, '7 cm');
    assert.ok(m.textF1 < 0.7 && m.textF1 > 0.4, String(m.textF1));
  });
  test('tick labels OCR read as one line match the separate labels', () => {
    const m = matchText([item('Mar Apr May', 100, 300, 0.9, 120, 20)], [item('Mar', 100, 300, 1), item('Apr', 140, 300, 1), item('May', 180, 300, 1)], size);
    assert.equal(m.counts.same, 1);
    assert.equal(m.textF1, 1);
  });
  test('a label far from where the original has it is not taken for it', () => {
    const m = matchText([item('5', 10, 10)], [item('6', 450, 350, 1)], size);
    assert.deepEqual(m.counts, { same: 0, different: 0, missing: 1, extra: 1 });
  });
});

describe('folded fidelity', () => {
  test('no text leaves the pixel figure alone; wrong text pulls it down', () => {
    assert.equal(foldFidelity(0.93, 0, false), 0.93);
    assert.equal(foldFidelity(1, 1, true), 1);
    assert.ok(foldFidelity(0.99, 0.69, true) < 0.85);
    assert.ok(foldFidelity(0.99, 0.69, true) < foldFidelity(0.9, 1, true));
  });
});

describe('the second look at a label read differently', () => {
  const pixels = { fidelity: 0.9, ssim: 0.9, pixelMatch: 0.9, edgeF1: 0.9, colorDistance: 0.05 };
  // The render draws '1.' exactly where OCR read the original's row of marks as '1% %'.
  const render = (text: string): RenderOutcome => ({ ok: true, png: '/render.png', seconds: 0.1, sandbox: 'bwrap', metrics: pixels, texts: [{ text, box: [80, 94, 20, 20], rotation: 0, fontsize: 15 }] });
  const original = [item('1% %', 80, 94, 0.67, 189, 32)];
  const confident = (read: TextItem[], drawn = '1.') => confidentTextDifferences(scoreAttempt(render(drawn), original, size, read).differences).map((d) => `${d.original}→${d.redraw}`);

  test('where OCR reads the render unlike the text it draws, the original\'s reading there is doubted too', () => {
    assert.deepEqual(confident([]), ['1% %→1.'], 'without a second look the difference stands');
    assert.deepEqual(confident([item('Kh', 100, 97)]), []);
  });

  test('a reading of the render like its text keeps the difference: the labels differ', () => {
    assert.deepEqual(confident([item('1.', 80, 97)]), ['1% %→1.']);
    // OCR's slip on the render ('5 cn' for '5 cm') still resembles what is drawn: a wrong length stays named.
    const triangle = [item('3 cm', 80, 94, 0.9)];
    const named = confidentTextDifferences(scoreAttempt(render('5 cm'), triangle, size, [item('5 cn', 80, 94)]).differences).map((d) => `${d.original}→${d.redraw}`);
    assert.deepEqual(named, ['3 cm→5 cm']);
    assert.ok(resembles('5 cn', '5 cm') && !resembles('Kh', '1.'));
  });
});
