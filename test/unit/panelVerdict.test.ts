// What the panel says about a redraw: the verdict, the colour of each figure, differences, names and messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  differenceHover,
  errorText,
  figureName,
  figureRows,
  figureThresholds,
  leadActionFor,
  orderDifferences,
  relativizePaths,
  verdictFor,
  zoomPercent,
} from '../../src/extension/panelHtmlPure';
import type { Difference, Metrics } from '../../src/core/types';
import { verdictOf } from '../../src/core/fidelity/differences';

interface Reading extends Metrics {
  kind: 'exact' | 'shifted' | 'unrelated' | 'offline-trace';
  figure: string;
}
const readings = (JSON.parse(readFileSync(join(process.cwd(), 'test', 'calibration', 'panelThresholds.json'), 'utf8')) as { rows: Reading[] }).rows;

const metrics = (fidelity: number, rest: Partial<Metrics> = {}): Metrics => ({ fidelity, ssim: fidelity, pixelMatch: fidelity, edgeF1: fidelity, colorDistance: 1 - fidelity, ...rest });

test('the calibration covers the corpus: exact, shifted and unrelated pairs and offline traces', () => {
  for (const kind of ['exact', 'shifted', 'unrelated', 'offline-trace'] as const) {
    assert.ok(readings.filter((r) => r.kind === kind).length >= 20, `too few ${kind} readings`);
  }
});

test('every exact re-render of the corpus reads "Close match" and is green on every figure', () => {
  for (const r of readings.filter((x) => x.kind === 'exact')) {
    assert.equal(verdictFor({ ok: true, metrics: r }).code, 'close', `${r.figure}: fidelity ${r.fidelity}`);
    for (const row of figureRows(r)) assert.equal(row.tone, 'good', `${r.figure}: ${row.key} ${row.value} is not green`);
  }
});

test('every unrelated pair reads "Different figure" and no figure of it is green', () => {
  for (const r of readings.filter((x) => x.kind === 'unrelated')) {
    assert.equal(verdictFor({ ok: true, metrics: r }).code, 'different', `${r.figure}: fidelity ${r.fidelity}`);
    for (const row of figureRows(r)) assert.notEqual(row.tone, 'good', `${r.figure}: ${row.key} ${row.value} is green`);
  }
});

test('a shifted redraw is never "Close match"', () => {
  for (const r of readings.filter((x) => x.kind === 'shifted')) {
    assert.notEqual(verdictFor({ ok: true, metrics: r }).code, 'close', `${r.figure}: fidelity ${r.fidelity}`);
  }
});

test('the issue\'s bad redraw (0.319) is red, and colour distance is drawn as closeness', () => {
  const rows = figureRows(metrics(0.319, { colorDistance: 0.206 }));
  assert.equal(rows[0]?.tone, 'poor');
  const colour = rows.find((r) => r.key === 'colorCloseness');
  assert.ok(colour);
  assert.ok(Math.abs(colour.closeness - 0.794) < 1e-9, 'a colour distance of 0.206 is not drawn as closeness 0.794');
  assert.equal(colour.tone, 'poor');
  assert.equal(rows.find((r) => r.key === 'textF1'), undefined, 'text agreement shown before it was measured');
  assert.deepEqual(
    figureRows({ ...metrics(0.95), textF1: 0.5 } as Metrics).map((r) => r.key),
    ['fidelity', 'textF1', 'ssim', 'pixelMatch', 'edgeF1', 'colorCloseness'],
  );
  for (const { good, fair } of Object.values(figureThresholds)) assert.ok(good > fair && fair > 0 && good <= 1);
});

test('the verdict: a failed render, text that differs, and the session\'s own verdict first', () => {
  assert.deepEqual(verdictFor({ ok: false, metrics: metrics(0.99) }), { code: 'failed', tone: 'poor', textDifferences: 0 });
  const label: Difference = { kind: 'text-different', original: '3 cm', redraw: '5 cm', box: [1, 2, 3, 4] };
  const ink: Difference = { kind: 'missing-ink', box: [0, 0, 10, 10], area: 0.1 };
  const close = verdictFor({ ok: true, metrics: metrics(0.97), differences: [label, ink, { ...label, original: '4' }] });
  assert.equal(close.code, 'close-text-differs');
  assert.equal(close.textDifferences, 2);
  assert.equal(close.tone, 'fair');
  assert.equal(verdictFor({ ok: true, metrics: metrics(0.6) }).code, 'partial');
  assert.equal(verdictFor({ ok: true, metrics: metrics(0.97), verdict: { code: 'different', textDifferences: 5 } }).code, 'different');
});

test('the session\'s verdict and the panel\'s are one: the same words for the same figures at every fidelity', () => {
  for (let step = 0; step <= 100; step++) {
    const fidelity = step / 100;
    for (const textDifferences of [0, 2]) {
      const label: Difference = { kind: 'text-different', original: '3', redraw: '5', box: [0, 0, 1, 1] };
      const session = verdictOf(fidelity, textDifferences);
      const panel = verdictFor({ ok: true, metrics: metrics(fidelity), differences: Array.from({ length: textDifferences }, () => label) });
      assert.equal(panel.code, session.code, `fidelity ${fidelity}, ${textDifferences} text differences`);
      // The fidelity bar's colour says what the verdict says.
      const bar = figureRows(metrics(fidelity))[0]!;
      assert.equal(bar.tone, { close: 'good', 'close-text-differs': 'good', partial: 'fair', different: 'poor', failed: 'poor' }[session.code], `fidelity ${fidelity}`);
    }
  }
  // A redraw at 0.76 is similar with visible differences, in the CLI's result as in the panel.
  assert.equal(verdictOf(0.76, 0).code, 'partial');
  // The composite fidelity folds text in; the verdict reads the pixels and counts the text separately.
  assert.equal(verdictFor({ ok: true, metrics: { ...metrics(0.8), pixelFidelity: 0.97 } as Metrics }).code, 'close');
});

test('differences: text first, then regions by area; a text difference hovers as "original · redraw"', () => {
  const small: Difference = { kind: 'extra-ink', box: [0, 0, 1, 1], area: 0.01 };
  const large: Difference = { kind: 'colour', box: [0, 0, 9, 9], area: 0.2 };
  const text: Difference = { kind: 'text-missing', original: 'x', box: [0, 0, 1, 1] };
  assert.deepEqual(orderDifferences([small, large, text]), [text, large, small]);
  const words = { original: 'original', redraw: 'redraw' };
  assert.equal(differenceHover({ kind: 'text-different', original: '3 cm', redraw: '5 cm', box: [0, 0, 1, 1] }, words), "original: '3 cm' · redraw: '5 cm'");
  assert.equal(differenceHover(text, words), "original: 'x' · redraw: —");
  assert.equal(differenceHover(large, words), undefined);
});

test('one lead action per state', () => {
  const base = { busy: false, hasResult: true, shownOk: true, verdictTone: 'fair' as const, canRefine: true, endpointFailed: false };
  assert.equal(leadActionFor(base), 'refine');
  assert.equal(leadActionFor({ ...base, verdictTone: 'good' }), 'none');
  assert.equal(leadActionFor({ ...base, shownOk: false }), 'fixError');
  assert.equal(leadActionFor({ ...base, shownOk: false, canRefine: false }), 'reconstruct');
  assert.equal(leadActionFor({ ...base, endpointFailed: true }), 'retry');
  assert.equal(leadActionFor({ ...base, hasResult: false }), 'reconstruct');
  assert.equal(leadActionFor({ ...base, busy: true }), 'none');
});

test('a notebook figure is named by its notebook and cell, a file by its name', () => {
  const words = { cell: 'Cell' };
  assert.equal(figureName('/s/work/59a4bbf6e22d14df.png', { kind: 'notebook', notebookPath: '/w/analysis.ipynb', cell: 2 }, words), 'analysis.ipynb · Cell 3');
  assert.equal(figureName('/w/figures/a.png', { kind: 'file' }, words), 'a.png');
});

test('messages: paths relative to the workspace, a hint that does not repeat the reason, blocked ports', () => {
  assert.equal(relativizePaths('/w/ws/figures/a.png is bad', ['/w/ws']), 'figures/a.png is bad');
  assert.equal(relativizePaths('/w/a/x.png and /w/b/y.png', ['/w/a', '/w/b']), 'a/x.png and b/y.png');
  const corrupt = errorText(
    { message: "/w/ws/broken.png is truncated or corrupt: the PNG's IDAT chunk is cut short.", hint: 'The file was probably cut short; export or download it again.' },
    ['/w/ws'],
  );
  assert.equal(corrupt, "broken.png is truncated or corrupt: the PNG's IDAT chunk is cut short. Export or download it again.");
  assert.equal(corrupt.match(/cut short/g)?.length, 1);
  assert.ok(!corrupt.includes('/w/ws'));
  assert.equal(errorText({ message: 'No endpoint.', hint: 'Set one; then retry.' }), 'No endpoint. Set one; then retry.');
  assert.equal(zoomPercent(1), '100 %');
  assert.equal(zoomPercent(0.254), '25 %');
});
