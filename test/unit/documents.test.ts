// Captions in Markdown alt text and LaTeX figure environments, as text edits.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyEdits, escapeLatex, latexCaptionEdit, latexImageAt, markdownAltTextEdits } from '../../src/core/documents';

const doc = '/proj/paper/notes.md';
const tex = '/proj/paper/main.tex';
const image = '/proj/paper/figs/plot.png';

function latex(text: string, caption: string, imagePath = image): { kind: string; text?: string } {
  const outcome = latexCaptionEdit(text, { documentPath: tex, imagePath }, caption);
  return 'edit' in outcome ? { kind: outcome.kind, text: applyEdits(text, [outcome.edit]) } : { kind: outcome.kind };
}

describe('Markdown alt text', () => {
  it('replaces the alt text of every link to the image, and only those', () => {
    const text = [
      '# Notes',
      'See ![old](figs/plot.png "The plot") and ![other](figs/other.png).',
      '![](./figs/plot.png)',
      '```',
      '![inside a fence](figs/plot.png)',
      '```',
      '![remote](https://example.com/figs/plot.png) ![abs](/proj/paper/figs/plot.png)',
      '![spaced](<figs/plot.png>)',
    ].join('\n');
    const edits = markdownAltTextEdits(text, { documentPath: doc, imagePath: image }, 'A line [with brackets]\nover two lines.');
    const out = applyEdits(text, edits);
    assert.equal(
      out,
      [
        '# Notes',
        'See ![A line \\[with brackets\\] over two lines.](figs/plot.png "The plot") and ![other](figs/other.png).',
        '![A line \\[with brackets\\] over two lines.](./figs/plot.png)',
        '```',
        '![inside a fence](figs/plot.png)',
        '```',
        '![remote](https://example.com/figs/plot.png) ![A line \\[with brackets\\] over two lines.](/proj/paper/figs/plot.png)',
        '![A line \\[with brackets\\] over two lines.](<figs/plot.png>)',
      ].join('\n'),
    );
  });

  it('has nothing to do when the alt text is already the caption or the image is not linked', () => {
    assert.deepEqual(markdownAltTextEdits('![Same.](figs/plot.png)', { documentPath: doc, imagePath: image }, 'Same.'), []);
    assert.deepEqual(markdownAltTextEdits('![x](figs/other.png)', { documentPath: doc, imagePath: image }, 'Caption'), []);
  });

  it('resolves percent-escaped destinations', () => {
    const text = '![x](my%20figs/plot%201.png)';
    const edits = markdownAltTextEdits(text, { documentPath: doc, imagePath: '/proj/paper/my figs/plot 1.png' }, 'Decoded');
    assert.equal(applyEdits(text, edits), '![Decoded](my%20figs/plot%201.png)');
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
