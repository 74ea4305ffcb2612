// Matches the original's text items to the redraw's by position and string, and scores the agreement.
import type { TextBox, TextItem } from './ocr';

export type TextMatchKind = 'same' | 'different' | 'missing' | 'extra';

/** One outcome: `original` and `render` are set as the kind says (both for same and different). */
export interface TextPair {
  kind: TextMatchKind;
  original?: TextItem;
  render?: TextItem;
}

export interface TextComparison {
  pairs: TextPair[];
  counts: Record<TextMatchKind, number>;
  /** See `textF1` below. */
  textF1: number;
  hasText: boolean;
}

export interface TextDifference {
  kind: Exclude<TextMatchKind, 'same'>;
  original?: string;
  render?: string;
  /** Where it is, in the original's pixels (the original's box when there is one). */
  box: TextBox;
  /** The box's area in pixels: how large the difference looks. */
  area: number;
}

/**
 * The string as compared: Unicode-compatible forms (x² → x2), lower case, no spaces, every dash and the
 * minus sign as "-", primes as "'", and each number in its shortest form (3.0 → 3, 05 → 5, −0 → 0).
 */
export function textKey(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[‐‑‒–—―−]/g, '-')
    .replace(/[′’‘`´]/g, "'")
    .replace(/\s+/g, '')
    .replace(/-?\d+(?:\.\d+)?/g, (n) => {
      const v = Number(n);
      return Number.isFinite(v) ? String(v === 0 ? 0 : v) : n;
    });
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

const digitsOf = (key: string) => key.match(/-?[\d.]+/g)?.join('|') ?? '';

/**
 * Whether OCR's reading of the original and the redraw's exact string say the same thing. Numbers must
 * agree exactly (they are the values); letters may differ by about one edit in five (OCR's confusions);
 * a degree sign OCR read as "0" or "o" or dropped still counts.
 */
export function sameText(original: string, render: string): boolean {
  const a = textKey(original), b = textKey(render);
  if (a === b) return true;
  if (b.endsWith('°')) {
    const bare = b.slice(0, -1);
    if (a === bare || a === bare + '0' || a === bare + 'o') return true;
  }
  const strip = (s: string) => s.replace(/°/g, '');
  const sa = strip(a), sb = strip(b);
  if (digitsOf(sa) !== digitsOf(sb)) return false;
  const letters = Math.max(sa.replace(/[\d.\-]/g, '').length, sb.replace(/[\d.\-]/g, '').length);
  const allowed = letters >= 4 ? Math.max(1, Math.round(Math.max(sa.length, sb.length) * 0.2)) : 0;
  return editDistance(sa, sb) <= allowed;
}

/** Whether two strings are near enough to be one reading of the same text: at most one edit in two (keys as `textKey`). */
export function resembles(a: string, b: string): boolean {
  const ka = textKey(a), kb = textKey(b);
  return editDistance(ka, kb) <= Math.max(1, Math.floor(Math.max(ka.length, kb.length) / 2));
}

const centre = (b: TextBox) => ({ x: b.x + b.width / 2, y: b.y + b.height / 2 });
const distance = (a: TextBox, b: TextBox) => {
  const p = centre(a), q = centre(b);
  return Math.hypot(p.x - q.x, p.y - q.y);
};

function union(boxes: TextBox[]): TextBox {
  const x0 = Math.min(...boxes.map((b) => b.x)), y0 = Math.min(...boxes.map((b) => b.y));
  const x1 = Math.max(...boxes.map((b) => b.x + b.width)), y1 = Math.max(...boxes.map((b) => b.y + b.height));
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/** Weight of an extra item: OCR misses some of the original's text, so text only the redraw shows counts half. */
export const extraWeight = 0.5;

/**
 * Pairs the original's text items (OCR, boxes in the original's pixels) with the redraw's (exact, boxes
 * in the same pixels after the fit), in this order:
 * 1. equal strings (`sameText`) whose centres lie within 15 % of the image diagonal, nearest first;
 * 2. one item on one side whose string is the others' strings joined, the others lying inside its box
 *    (OCR reads neighbouring tick labels as one line);
 * 3. remaining items whose centres lie within max(3 × text height, 4 % of the diagonal): `different`;
 * 4. the rest: `missing` (only in the original) or `extra` (only in the redraw).
 *
 * `textF1` = 2·S / (2·S + M + E) with S the same pairs (a merged group counts once), M the weight of the
 * original's unmatched text (each `different` or `missing` item weighs its OCR confidence, 0–1), E the
 * weight of the redraw's unmatched text (each `different` weighs 1, each `extra` 0.5). 1 when neither
 * image has text; 0 when only one side has any.
 */
export function matchText(original: TextItem[], render: TextItem[], size: { width: number; height: number }): TextComparison {
  const diagonal = Math.hypot(size.width, size.height) || 1;
  const pairs: TextPair[] = [];
  const usedO = new Set<number>(), usedR = new Set<number>();

  const candidates: { i: number; j: number; d: number }[] = [];
  original.forEach((o, i) => render.forEach((r, j) => candidates.push({ i, j, d: distance(o.box, r.box) })));
  candidates.sort((p, q) => p.d - q.d);

  for (const { i, j, d } of candidates) {
    if (usedO.has(i) || usedR.has(j) || d > 0.15 * diagonal) continue;
    if (!sameText(original[i]!.text, render[j]!.text)) continue;
    usedO.add(i);
    usedR.add(j);
    pairs.push({ kind: 'same', original: original[i], render: render[j] });
  }

  const groupMatch = (one: TextItem[], many: TextItem[], usedOne: Set<number>, usedMany: Set<number>, oneIsOriginal: boolean) => {
    one.forEach((item, i) => {
      if (usedOne.has(i)) return;
      const pad = item.box.height / 2;
      const inside = many
        .map((m, j) => ({ m, j }))
        .filter(({ m, j }) => {
          if (usedMany.has(j)) return false;
          const c = centre(m.box);
          return c.x >= item.box.x - pad && c.x <= item.box.x + item.box.width + pad && c.y >= item.box.y - pad && c.y <= item.box.y + item.box.height + pad;
        })
        .sort((p, q) => (item.rotated ? q.m.box.y - p.m.box.y : p.m.box.x - q.m.box.x));
      if (inside.length < 2) return;
      const joined = inside.map(({ m }) => m.text).join(' ');
      if (!sameText(oneIsOriginal ? item.text : joined, oneIsOriginal ? joined : item.text)) return;
      usedOne.add(i);
      for (const { j } of inside) usedMany.add(j);
      const merged: TextItem = { text: joined, box: union(inside.map(({ m }) => m.box)), confidence: Math.min(...inside.map(({ m }) => m.confidence)) };
      pairs.push(oneIsOriginal ? { kind: 'same', original: item, render: merged } : { kind: 'same', original: merged, render: item });
    });
  };
  groupMatch(original, render, usedO, usedR, true);
  groupMatch(render, original, usedR, usedO, false);

  for (const { i, j, d } of candidates) {
    if (usedO.has(i) || usedR.has(j)) continue;
    const o = original[i]!, r = render[j]!;
    if (d > Math.max(3 * Math.max(o.box.height, r.box.height), 0.04 * diagonal)) continue;
    usedO.add(i);
    usedR.add(j);
    pairs.push({ kind: 'different', original: o, render: r });
  }
  original.forEach((o, i) => {
    if (!usedO.has(i)) pairs.push({ kind: 'missing', original: o });
  });
  render.forEach((r, j) => {
    if (!usedR.has(j)) pairs.push({ kind: 'extra', render: r });
  });

  const counts: Record<TextMatchKind, number> = { same: 0, different: 0, missing: 0, extra: 0 };
  let s = 0, m = 0, e = 0;
  for (const p of pairs) {
    counts[p.kind]++;
    if (p.kind === 'same') s += 1;
    else if (p.kind === 'different') {
      m += p.original!.confidence;
      e += 1;
    } else if (p.kind === 'missing') m += p.original!.confidence;
    else e += extraWeight;
  }
  const hasText = original.length > 0;
  const textF1 = original.length === 0 && render.length === 0 ? 1 : s === 0 ? 0 : (2 * s) / (2 * s + m + e);
  return { pairs, counts, textF1: Math.round(textF1 * 10000) / 10000, hasText };
}

/** The differences, largest box first, at most `limit`. */
export function textDifferences(comparison: TextComparison, limit = 12): TextDifference[] {
  const out: TextDifference[] = [];
  for (const p of comparison.pairs) {
    if (p.kind === 'same') continue;
    const box = (p.original ?? p.render)!.box;
    const d: TextDifference = { kind: p.kind, box, area: Math.round(box.width * box.height) };
    if (p.original) d.original = p.original.text;
    if (p.render) d.render = p.render.text;
    out.push(d);
  }
  return out.sort((a, b) => b.area - a.area).slice(0, limit);
}
