// Notebook figures, caption cells and formatting-preserving edits, checked with nbformat's own validator.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RefigureError } from '../../src/core/errors';
import {
  NotebookEditor,
  type NotebookCell,
  type NotebookJson,
  captionSlot,
  figureBytes,
  findFigures,
  parseNotebook,
  refigureMark,
  splitSource,
} from '../../src/core/documents/notebook';
import { scratch, stemFixtures, chartFixtures } from '../support/paths';
import { type NotebookSpec, nbformatError, writeNotebook } from '../support/notebooks';

const plot = join(stemFixtures, 'algebra--image305.png');
const chart = join(chartFixtures, readFirstPng(chartFixtures));
const geometry = join(stemFixtures, 'analytic-geometry--image128.png');

function readFirstPng(dir: string): string {
  const name = readdirSync(dir).filter((n) => n.endsWith('.png')).sort()[0];
  if (!name) throw new Error(`no PNG fixture in ${dir}`);
  return name;
}

/** A notebook with every kind of figure, text around them, and an earlier Refigure caption. */
function richSpec(minor: 4 | 5): NotebookSpec {
  return {
    minor,
    cells: [
      { markdown: '# Results\n\nSome words before the figures.', id: 'intro' },
      { code: 'import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])', id: 'plot', count: 3, outputs: [{ png: plot, kind: 'execute_result' }, { stream: 'done\n' }] },
      { markdown: 'A note the user wrote under the plot.', id: 'note' },
      { code: 'show_chart()', id: 'chart', count: 4, outputs: [{ stream: 'loading\n' }, { jpeg: chart }] },
      { markdown: 'Linked:\n\n![old alt](figs/geometry.png "Geometry")\n\nand more text.', id: 'linked' },
      { markdown: 'Pasted: ![pasted](attachment:diagram.png)', id: 'pasted', attachments: { 'diagram.png': geometry } },
      { code: 'plt.show()', id: 'again', count: 5, outputs: [{ png: geometry }] },
      {
        markdown: 'An old Refigure caption.',
        id: 'oldcap',
        metadata: { refigure: { captionFor: minor === 5 ? 'cell:again/output/0' : 'PLACEHOLDER', style: 'caption' } },
      },
      { code: 'print(1)', id: 'text', count: 6, outputs: [{ stream: '1\n' }] },
    ],
  };
}

describe('notebook', () => {
  let dir: string;
  let dispose: () => void;
  let path5: string;
  let path4: string;

  before(async () => {
    ({ dir, dispose } = scratch('refigure-notebook-'));
    mkdirSync(join(dir, 'figs'));
    copyFileSync(geometry, join(dir, 'figs', 'geometry.png'));
    path5 = join(dir, 'rich5.ipynb');
    path4 = join(dir, 'rich4.ipynb');
    await writeNotebook(richSpec(5), path5);
    const spec4 = richSpec(4);
    await writeNotebook(spec4, path4);
    // Without cell ids the figure id is a hash of the cell's source: read it back to mark the old caption.
    const figure4 = findFigures(parseNotebook(readFileSync(path4, 'utf8')).json).find((f) => f.kind === 'output' && f.cellIndex === 6);
    const text4 = readFileSync(path4, 'utf8').replace('PLACEHOLDER', figure4?.id ?? 'missing');
    writeFileSync(path4, text4);
  });
  after(() => dispose());

  it('finds image outputs, linked images and attachments, in reading order', () => {
    const { json } = parseNotebook(readFileSync(path5, 'utf8'));
    const figures = findFigures(json);
    assert.deepEqual(
      figures.map((f) => [f.kind, f.cellIndex, f.id]),
      [
        ['output', 1, 'cell:plot/output/0'],
        ['output', 3, 'cell:chart/output/1'],
        ['markdown', 4, 'cell:linked/image/0'],
        ['attachment', 5, 'cell:pasted/image/0'],
        ['output', 6, 'cell:again/output/0'],
      ],
    );
    const linked = figures[2];
    assert.equal(linked?.kind === 'markdown' && linked.path, 'figs/geometry.png');
    assert.equal(figures[1]?.kind === 'output' && figures[1].mime, 'image/jpeg');
  });

  it('decodes output and attachment bytes to the image they hold', () => {
    const { json } = parseNotebook(readFileSync(path5, 'utf8'));
    const figures = findFigures(json);
    const png = figureBytes(json, figures[0] as never);
    assert.deepEqual(png.bytes, readFileSync(plot));
    const jpeg = figureBytes(json, figures[1] as never);
    assert.equal(jpeg.mime, 'image/jpeg');
    assert.equal(jpeg.bytes[0], 0xff);
    const attachment = figureBytes(json, figures[3] as never);
    assert.deepEqual(attachment.bytes, readFileSync(geometry));
  });

  it('writes an untouched notebook back byte for byte', () => {
    for (const path of [path5, path4]) {
      const text = readFileSync(path, 'utf8');
      assert.equal(new NotebookEditor(parseNotebook(text)).toText(), text);
    }
  });

  for (const minor of [5, 4] as const) {
    it(`puts a caption under every figure of an nbformat 4.${minor} notebook, valid and otherwise unchanged`, async () => {
      const path = minor === 5 ? path5 : path4;
      const text = readFileSync(path, 'utf8');
      const before = parseNotebook(text).json;
      const editor = new NotebookEditor(parseNotebook(text));
      for (const figure of findFigures(before)) editor.upsertCaption(figure, `Caption of ${figure.id}: a line\nand a second line.`, 'caption');
      const out = join(dir, `captioned${minor}.ipynb`);
      writeFileSync(out, editor.toText());
      assert.equal(await nbformatError(out), undefined);

      const after = parseNotebook(readFileSync(out, 'utf8')).json;
      const own = after.cells.filter((cell) => refigureMark(cell.metadata));
      const theirs = after.cells.filter((cell) => !refigureMark(cell.metadata));
      // Every cell the user had is there, in order and identical (outputs and execution counts included).
      assert.deepEqual(theirs, before.cells.filter((cell) => !refigureMark(cell.metadata)));
      // Five figures, five captions: the old caption was replaced, not stacked.
      assert.equal(own.length, 5);
      assert.equal(after.cells.length, before.cells.length + 4);
      const figures = findFigures(before);
      for (const figure of figures) {
        const index = after.cells.findIndex((cell) => refigureMark(cell.metadata)?.captionFor === figure.id);
        assert.notEqual(index, -1, `a caption for ${figure.id}`);
        const figureCell = before.cells[figure.cellIndex] as NotebookCell;
        // Directly under its figure's cell.
        assert.deepEqual(after.cells[index - 1], figureCell);
        const caption = after.cells[index] as NotebookCell;
        assert.equal(caption.cell_type, 'markdown');
        assert.deepEqual(caption.source, [`Caption of ${figure.id}: a line\n`, 'and a second line.']);
        assert.equal('id' in caption, minor === 5);
      }
      // The user's own note stays under the caption of the plot above it.
      const plotCaption = after.cells.findIndex((cell) => refigureMark(cell.metadata)?.captionFor === figures[0]?.id);
      assert.deepEqual(after.cells[plotCaption + 1]?.source, ['A note the user wrote under the plot.']);
      if (minor === 5) {
        // The replaced caption keeps its cell id, so links to it survive.
        assert.equal(after.cells.find((cell) => refigureMark(cell.metadata)?.captionFor === 'cell:again/output/0')?.id, 'oldcap');
        const ids = after.cells.map((cell) => cell.id);
        assert.equal(new Set(ids).size, ids.length);
      }
      // Written as Jupyter writes: indent 1, sorted keys, trailing newline, and the untouched text kept.
      const written = readFileSync(out, 'utf8');
      assert.ok(written.endsWith('}\n'));
      assert.match(written, /\n {2}\{\n {3}"cell_type": "markdown",\n( {3}"id": "[0-9a-f]+",\n)? {3}"metadata": \{\n {4}"refigure": \{/);
      const firstCellText = text.slice(text.indexOf('  {'), text.indexOf('\n  },') + 4);
      assert.ok(written.includes(firstCellText));
    });
  }

  it('a second run replaces its captions instead of stacking them', () => {
    const first = new NotebookEditor(parseNotebook(readFileSync(path5, 'utf8')));
    for (const figure of findFigures(first.notebook)) first.upsertCaption(figure, 'first', 'caption');
    const once = first.toText();
    const parsed = parseNotebook(once);
    const second = new NotebookEditor(parsed);
    for (const figure of findFigures(parsed.json)) {
      const placed = second.upsertCaption(figure, 'second', 'alt');
      assert.equal(placed.replaced, true);
    }
    const twice = parseNotebook(second.toText()).json;
    assert.equal(twice.cells.length, parsed.json.cells.length);
    const captions = twice.cells.filter((cell) => refigureMark(cell.metadata));
    assert.equal(captions.length, 5);
    for (const cell of captions) {
      assert.deepEqual(cell.source, ['second']);
      assert.equal(refigureMark(cell.metadata)?.style, 'alt');
    }
  });

  it('sets alt text in the Markdown link and in the output metadata, and the result validates', async () => {
    const text = readFileSync(path5, 'utf8');
    const parsed = parseNotebook(text);
    const editor = new NotebookEditor(parsed);
    const figures = findFigures(parsed.json);
    for (const figure of figures) editor.setAltText(figure, `A [figure] with ${figure.kind}`);
    const out = join(dir, 'alt.ipynb');
    writeFileSync(out, editor.toText());
    assert.equal(await nbformatError(out), undefined);
    const after = parseNotebook(readFileSync(out, 'utf8')).json;
    const again = findFigures(after);
    assert.equal(again.length, figures.length);
    for (const figure of again) assert.equal(figure.alt, figure.kind === 'output' ? `A [figure] with output` : `A [figure] with ${figure.kind}`);
    assert.deepEqual(after.cells[4]?.source, ['Linked:\n', '\n', '![A \\[figure\\] with markdown](figs/geometry.png "Geometry")\n', '\n', 'and more text.']);
    const output = after.cells[1]?.outputs?.[0];
    assert.deepEqual(output?.metadata, { 'image/png': { alt: 'A [figure] with output' } });
    assert.deepEqual(output?.data, parsed.json.cells[1]?.outputs?.[0]?.data);
  });

  it('inserts a code cell with the reconstruction under the figure, empty outputs and no execution count', async () => {
    const parsed = parseNotebook(readFileSync(path5, 'utf8'));
    const editor = new NotebookEditor(parsed);
    const figure = findFigures(parsed.json)[0];
    assert.ok(figure);
    editor.upsertCaption(figure, 'A caption.', 'caption');
    const placed = editor.upsertCode(figure, 'import matplotlib.pyplot as plt\nplt.plot([0, 1])\n\n');
    const out = join(dir, 'code.ipynb');
    writeFileSync(out, editor.toText());
    assert.equal(await nbformatError(out), undefined);
    const cell = parseNotebook(readFileSync(out, 'utf8')).json.cells[placed.index];
    assert.equal(placed.index, 3);
    assert.equal(cell?.cell_type, 'code');
    assert.deepEqual(cell?.source, ['import matplotlib.pyplot as plt\n', 'plt.plot([0, 1])']);
    assert.deepEqual(cell?.outputs, []);
    assert.equal(cell?.execution_count, null);
  });

  it('keeps a one-line notebook on one line and a notebook without cells valid', async () => {
    const compact: NotebookJson = JSON.parse(readFileSync(path5, 'utf8')) as NotebookJson;
    const oneLine = JSON.stringify(compact);
    const editor = new NotebookEditor(parseNotebook(oneLine));
    const figure = findFigures(compact)[0];
    assert.ok(figure);
    editor.upsertCaption(figure, 'Compact.', 'caption');
    const text = editor.toText();
    assert.equal(text.includes('\n'), false);
    const out = join(dir, 'compact.ipynb');
    writeFileSync(out, text);
    assert.equal(await nbformatError(out), undefined);

    const empty = `{\n "cells": [],\n "metadata": {},\n "nbformat": 4,\n "nbformat_minor": 5\n}\n`;
    assert.equal(new NotebookEditor(parseNotebook(empty)).toText(), empty);
  });

  it('refuses what is not an nbformat 4 notebook, saying what it is', () => {
    const expectInput = (text: string, pattern: RegExp) =>
      assert.throws(() => parseNotebook(text, 'x.ipynb'), (error: unknown) => error instanceof RefigureError && error.kind === 'input' && pattern.test(error.message) && Boolean(error.hint));
    expectInput('print("hello")\n', /x\.ipynb is not JSON/);
    expectInput('', /empty/);
    expectInput('{"nbformat": 3, "nbformat_minor": 0, "worksheets": [], "metadata": {}}', /nbformat 3 notebook; Refigure reads nbformat 4 only/);
    assert.throws(() => parseNotebook('{"cells": [], "metadata": {}}', 'x.ipynb'), /no "nbformat" version/);
    assert.throws(() => parseNotebook('{"cells": [{"cell_type": "code", "source": "", "metadata": {}}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}', 'x.ipynb'), /Cell 1 .* without "outputs"/);
  });

  it('says which output does not decode', () => {
    const notebook = (data: Record<string, unknown>): NotebookJson => ({
      cells: [{ cell_type: 'code', metadata: {}, source: '', execution_count: 1, outputs: [{ output_type: 'display_data', data, metadata: {} }] }],
      metadata: {},
      nbformat: 4,
      nbformat_minor: 4,
    });
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ 'image/png': 'this is *not* base64!' }, /cell 1, output 1 \(image\/png\) is not valid base64/],
      [{ 'image/png': Buffer.from('just some text, no image').toString('base64') }, /decodes to 24 bytes that are not a PNG/],
      [{ 'image/png': '/9j/4AAQ' }, /labelled image\/png but its bytes are image\/jpeg/],
      [{ 'image/svg+xml': 'no svg here' }, /does not contain an <svg> element/],
    ];
    for (const [data, pattern] of cases) {
      const nb = notebook(data);
      const [figure] = findFigures(nb);
      assert.ok(figure);
      assert.throws(() => figureBytes(nb, figure), (error: unknown) => error instanceof RefigureError && error.kind === 'input' && pattern.test(error.message));
    }
  });

  it('splits text into Jupyter source lines and puts captions in the right slot', () => {
    assert.deepEqual(splitSource('a\nb\n'), ['a\n', 'b\n']);
    assert.deepEqual(splitSource('a\nb'), ['a\n', 'b']);
    assert.deepEqual(splitSource('one'), ['one']);
    assert.deepEqual(splitSource(''), []);
    const mark = (captionFor: string) => ({ captionFor });
    // Under the figure's cell, after the captions of that cell's earlier figures.
    assert.deepEqual(captionSlot([undefined, undefined, mark('c1/output/0'), undefined], 1, 'c1/output/1'), { insert: 3 });
    assert.deepEqual(captionSlot([undefined, undefined, mark('c1/output/0'), mark('c1/output/1')], 1, 'c1/output/1'), { replace: 3 });
    // A caption the user moved elsewhere is still found.
    assert.deepEqual(captionSlot([mark('c1/output/0'), undefined, undefined], 1, 'c1/output/0'), { replace: 0 });
    assert.deepEqual(captionSlot([undefined, undefined], 1, 'x'), { insert: 2 });
  });
});
