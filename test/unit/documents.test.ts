// Captions in Markdown alt text and LaTeX figure environments, as text edits.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type TextEdit, escapeLatex, latexCaptionEdit, latexImageAt, markdownAltTextEdit } from '../../src/core/documents/documents';

const tex = '/proj/paper/main.tex';
const image = '/proj/paper/figs/plot.png';

function applyEdit(text: string, edit: TextEdit | undefined): string {
  assert.ok(edit, 'there is an edit');
  return text.slice(0, edit.start) + edit.newText + text.slice(edit.end);
}

/** The links the extension would take for the image: this test names them by destination. */
const linksTo = (...destinations: string[]) => (destination: string) => destinations.includes(destination);

function latex(text: string, caption: string, imagePath = image): { kind: string; text?: string } {
  const outcome = latexCaptionEdit(text, { documentPath: tex, imagePath }, caption);
  return 'edit' in outcome ? { kind: outcome.kind, text: applyEdit(text, outcome.edit) } : { kind: outcome.kind };
}

describe('Markdown alt text', () => {
  const text = [
    '# Notes',
    'See ![old](figs/plot.png "The plot") and ![other](figs/other.png).',
    '```',
    '![inside a fence](figs/plot.png)',
    '```',
    '![spaced](<figs/plot.png>)',
  ].join('\n');
  const pointsAtImage = linksTo('figs/plot.png');

  it('replaces the alt text of the link the panel was opened from', () => {
    const offset = text.indexOf('![spaced]');
    const out = applyEdit(text, markdownAltTextEdit(text, { offset, pointsAtImage }, 'A line [with brackets]\nover two lines.'));
    assert.equal(out, text.replace('![spaced]', '![A line \\[with brackets\\] over two lines.]'));
  });

  it('falls back to the first link to the image outside fenced code when the one at the offset is gone', () => {
    const inFence = text.indexOf('![inside a fence]');
    assert.equal(applyEdit(text, markdownAltTextEdit(text, { offset: inFence, pointsAtImage }, 'New')), text.replace('![old]', '![New]'));
    const fencedOnly = '```\n![x](figs/plot.png)\n```\n![y](figs/other.png)';
    assert.equal(markdownAltTextEdit(fencedOnly, { pointsAtImage }, 'New'), undefined, 'a link in fenced code is never a figure');
    assert.equal(markdownAltTextEdit('![x](figs/other.png)', { pointsAtImage }, 'Caption'), undefined);
  });
});

describe('LaTeX captions', () => {
  it('inserts a caption under \\includegraphics in a figure without one, at its indentation', () => {
    const text = '\\begin{figure}[t]\n  \\centering\n  \\includegraphics[width=\\linewidth]{figs/plot.png}\n  \\label{fig:plot}\n\\end{figure}\n';
    assert.deepEqual(latex(text, 'Sales rose 50% in Q4 & fell_again; cost ~$3^2.'), {
      kind: 'insert',
      text:
        '\\begin{figure}[t]\n  \\centering\n  \\includegraphics[width=\\linewidth]{figs/plot.png}\n' +
        '  \\caption{Sales rose 50\\% in Q4 \\& fell\\_again; cost \\textasciitilde{}\\$3\\textasciicircum{}2.}\n  \\label{fig:plot}\n\\end{figure}\n',
    });
  });

  it('replaces the text of an existing caption, keeping its short form and nested braces balanced', () => {
    const text = '\\begin{figure*}\n\\includegraphics{figs/plot}\n\\caption[Short]{Old {\\em nested} text}\n\\end{figure*}';
    assert.deepEqual(latex(text, 'New text.'), { kind: 'replace', text: '\\begin{figure*}\n\\includegraphics{figs/plot}\n\\caption[Short]{New text.}\n\\end{figure*}' });
  });

  it('puts the caption in the subfigure that holds the image, not in the outer figure', () => {
    const text = [
      '\\begin{figure}',
      '\\begin{subfigure}{0.5\\linewidth}\\includegraphics{figs/other.png}\\caption{Other}\\end{subfigure}',
      '\\begin{subfigure}{0.5\\linewidth}',
      '\\includegraphics{figs/plot.png}',
      '\\end{subfigure}',
      '\\caption{Both}',
      '\\end{figure}',
    ].join('\n');
    const out = latex(text, 'Mine');
    assert.equal(out.kind, 'insert');
    assert.equal(out.text, text.replace('\\includegraphics{figs/plot.png}\n', '\\includegraphics{figs/plot.png}\n\\caption{Mine}\n'));
  });

  it('ignores commented-out lines and follows \\graphicspath', () => {
    const text = '\\graphicspath{{figs/}}\n% \\includegraphics{plot.png}\n\\begin{figure}\\includegraphics{plot.png} % the plot\n% \\caption{commented}\n\\end{figure}';
    assert.deepEqual(latex(text, 'Found'), {
      kind: 'insert',
      text: '\\graphicspath{{figs/}}\n% \\includegraphics{plot.png}\n\\begin{figure}\\includegraphics{plot.png} % the plot\n\\caption{Found}\n% \\caption{commented}\n\\end{figure}',
    });
  });

  it('says when the image is outside any figure, or not in the document', () => {
    assert.deepEqual(latex('Inline: \\includegraphics{figs/plot.png}\n', 'x'), { kind: 'no-figure' });
    assert.deepEqual(latex('\\begin{figure}\\includegraphics{figs/other.png}\\end{figure}', 'x'), { kind: 'not-found' });
    assert.deepEqual(latex('\\begin{figure}\\includegraphics{figs/plot.png}\\end{figure}', 'x', '/elsewhere/figs/plot.png'), { kind: 'not-found' });
  });

  it('escapes every character LaTeX treats specially', () => {
    assert.equal(escapeLatex('a\\b{c}#d'), 'a\\textbackslash{}b\\{c\\}\\#d');
  });
});

describe('LaTeX image under the cursor', () => {
  const files = new Set(['/proj/paper/figs/plot.png', '/proj/paper/shared/diagram.jpg', '/proj/paper/figs/photo.jpeg']);
  const exists = (path: string) => files.has(path);
  const text = [
    '\\graphicspath{{shared/}}',
    '\\begin{figure}',
    '  \\includegraphics[width=\\linewidth]{figs/plot.png}',
    '  % \\includegraphics{figs/photo}',
    '  \\includegraphics{diagram}',
    '  \\includegraphics{figs/missing}',
    '\\end{figure}',
  ].join('\n');
  const at = (needle: string, delta = 3) => text.indexOf(needle) + delta;

  it('finds the file of the include under the cursor, with or without extension, through \\graphicspath', () => {
    assert.equal(latexImageAt(text, at('\\includegraphics[width'), tex, exists), '/proj/paper/figs/plot.png');
    assert.equal(latexImageAt(text, at('{figs/plot.png}'), tex, exists), '/proj/paper/figs/plot.png');
    assert.equal(latexImageAt(text, at('\\includegraphics{diagram}'), tex, exists), '/proj/paper/shared/diagram.jpg');
  });

  it('finds nothing off an include, in a comment, or for a file that is not there', () => {
    assert.equal(latexImageAt(text, at('\\begin{figure}'), tex, exists), undefined);
    assert.equal(latexImageAt(text, at('% \\includegraphics{figs/photo}', 6), tex, exists), undefined);
    assert.equal(latexImageAt(text, at('\\includegraphics{figs/missing}'), tex, exists), undefined);
  });
});
