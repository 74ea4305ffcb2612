// The image quick pick: which files are images, most recently modified first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { utimesSync, writeFileSync, statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { imageGlob, isImagePath, orderImagePicks } from '../../src/core/reconstruct/imagePick';
import { scratch } from '../support/paths';

test('image extensions are recognised case-insensitively; others and folders with dots are not', () => {
  for (const path of ['a.png', 'b.JPG', 'c.jpeg', 'd.webp', 'e.gif', 'f.bmp', 'g.svg', '/x/y.Png']) assert.ok(isImagePath(path), path);
  for (const path of ['a.py', 'b.pdf', 'png', 'dir.png/file', 'a.png.txt', '.png/x']) assert.ok(!isImagePath(path), path);
  assert.match(imageGlob, /png/);
  assert.match(imageGlob, /svg/);
});

test('orders real files by modification time, newest first, dropping non-images', () => {
  const { dir, dispose } = scratch();
  try {
    const names = ['old.png', 'middle.jpg', 'newest.svg', 'notes.txt'];
    const base = Date.now() / 1000 - 10_000;
    names.forEach((name, i) => {
      const path = join(dir, name);
      writeFileSync(path, 'x');
      utimesSync(path, base + i * 100, base + [0, 200, 300, 400][i]!);
    });
    utimesSync(join(dir, 'old.png'), base, base + 250);
    const candidates = readdirSync(dir).map((name) => ({ path: join(dir, name), label: name, mtimeMs: statSync(join(dir, name)).mtimeMs }));
    const ordered = orderImagePicks(candidates);
    assert.deepEqual(ordered.map((c) => c.label), ['newest.svg', 'old.png', 'middle.jpg']);
  } finally {
    dispose();
  }
});

test('equal times keep a stable order by label, and the input is not mutated', () => {
  const input = [
    { path: 'b.png', label: 'b.png', mtimeMs: 5 },
    { path: 'a.png', label: 'a.png', mtimeMs: 5 },
    { path: 'c.png', label: 'c.png', mtimeMs: 9 },
  ];
  const copy = input.map((c) => ({ ...c }));
  assert.deepEqual(orderImagePicks(input).map((c) => c.label), ['c.png', 'a.png', 'b.png']);
  assert.deepEqual(input, copy);
});
