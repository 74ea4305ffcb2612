// The Markdown image-link finder: which link the cursor is on, and the alt-text range a caption replaces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findImageLinkAt, findImageLinks, linkTargetPath, toAltText } from '../../src/core/documents/markdownImage';

test('finds the link when the cursor is inside it, at either end, and not outside', () => {
  const text = 'See ![a circle](figs/circle.png) here.';
  const start = text.indexOf('!');
  const end = text.indexOf(')') + 1;
  for (const offset of [start, start + 5, end - 1, end]) {
    const link = findImageLinkAt(text, offset);
    assert.ok(link, `offset ${offset}`);
    assert.equal(link.path, 'figs/circle.png');
    assert.equal(link.alt, 'a circle');
    assert.equal(text.slice(link.start, link.end), '![a circle](figs/circle.png)');
  }
  assert.equal(findImageLinkAt(text, start - 1), undefined);
  assert.equal(findImageLinkAt(text, end + 1), undefined);
});

test('the alt range covers exactly the alt text, also when it is empty', () => {
  const text = 'x\n![](a.png) and ![old alt](b.png)';
  const empty = findImageLinkAt(text, text.indexOf('a.png'));
  assert.ok(empty);
  assert.equal(empty.altStart, empty.altEnd);
  assert.equal(text.slice(empty.altStart - 2, empty.altStart), '![');
  const full = findImageLinkAt(text, text.indexOf('b.png'));
  assert.ok(full);
  assert.equal(text.slice(full.altStart, full.altEnd), 'old alt');
  const replaced = text.slice(0, full.altStart) + 'new' + text.slice(full.altEnd);
  assert.equal(replaced, 'x\n![](a.png) and ![new](b.png)');
});

test('titles in double quotes, single quotes and parentheses are separated from the path', () => {
  for (const [source, title] of [
    ['![t](plot.png "A plot")', 'A plot'],
    ["![t](plot.png 'A plot')", 'A plot'],
    ['![t](plot.png (A plot))', 'A plot'],
  ] as const) {
    const link = findImageLinkAt(source, 3);
    assert.ok(link, source);
    assert.equal(link.path, 'plot.png');
    assert.equal(link.title, title);
    assert.equal(link.end, source.length);
  }
});

test('angle-bracket destinations may contain spaces and parentheses', () => {
  const text = '![graph](<my figures/graph (v2).png> "t")';
  const link = findImageLinkAt(text, 2);
  assert.ok(link);
  assert.equal(link.path, 'my figures/graph (v2).png');
  assert.equal(link.title, 't');
});

test('reference-style images and plain links are ignored', () => {
  assert.equal(findImageLinkAt('![alt][ref]\n\n[ref]: a.png', 3), undefined);
  assert.equal(findImageLinkAt('[not an image](a.png)', 3), undefined);
  assert.equal(findImageLinkAt('\\![escaped](a.png)', 4), undefined);
  assert.equal(findImageLinkAt('![unclosed](a.png', 4), undefined);
});

test('several links on one line: the one under the cursor is chosen', () => {
  const line = '![one](1.png) ![two](2.png) ![three](3.png)';
  assert.deepEqual(findImageLinks(line).map((l) => l.path), ['1.png', '2.png', '3.png']);
  assert.equal(findImageLinkAt(line, line.indexOf('two'))?.path, '2.png');
  assert.equal(findImageLinkAt(line, line.indexOf('3.png'))?.alt, 'three');
  // Between two links (on the space) nothing is chosen.
  assert.equal(findImageLinkAt(line, line.indexOf(' ![two]') + 1)?.path, '2.png');
  assert.equal(findImageLinkAt('![a](1.png)  ![b](2.png)', 12), undefined);
});

test('links on other lines do not match the cursor line', () => {
  const text = '![first](1.png)\nplain text\n![second](2.png)';
  assert.equal(findImageLinkAt(text, text.indexOf('plain') + 2), undefined);
  assert.equal(findImageLinkAt(text, text.length)?.path, '2.png');
});

test('alt text with brackets and escapes', () => {
  const link = findImageLinkAt('![f[x] \\] y](f.png)', 1);
  assert.ok(link);
  assert.equal(link.alt, 'f[x] ] y');
});

test('link targets: remote URLs refused, escapes decoded, query and fragment dropped', () => {
  assert.equal(linkTargetPath('https://example.com/a.png'), undefined);
  assert.equal(linkTargetPath('data:image/png;base64,AAAA'), undefined);
  assert.equal(linkTargetPath('my%20fig.png?raw=1#x'), 'my fig.png');
  assert.equal(linkTargetPath('file:///tmp/a.png'), '/tmp/a.png');
  assert.equal(linkTargetPath('C:\\figs\\a.png'), 'C:\\figs\\a.png');
});

test('a caption becomes one line of alt text with brackets escaped, and round-trips through the finder', () => {
  const caption = 'A triangle [ABC]\nwith a right angle at C \\ note';
  const alt = toAltText(caption);
  assert.ok(!alt.includes('\n'));
  const doc = `![${alt}](t.png)`;
  const link = findImageLinkAt(doc, 1);
  assert.ok(link);
  assert.equal(link.path, 't.png');
  assert.equal(link.alt, 'A triangle [ABC] with a right angle at C \\ note');
});
