// The reference-code figures: text, element-type, colour and layout F1 and geometry agreement between two programs' renders.
import type { ArtistAxes, ArtistElement, FigureArtists, RenderText } from '../types';

/** What one render contributes: the texts it painted and its artists (`RenderRequest.artists`). */
export interface FigureReading {
  texts?: readonly RenderText[];
  artists?: FigureArtists;
}

/** Each in [0, 1]; null when neither program has anything of that kind (nothing to agree on). */
export interface CodeFigures {
  textF1: number | null;
  typeF1: number | null;
  colorF1: number | null;
  layoutF1: number | null;
  geometry: number | null;
}

export const codeFigureNames = ['textF1', 'typeF1', 'colorF1', 'layoutF1', 'geometry'] as const satisfies ReadonlyArray<keyof CodeFigures>;

/** Two colours match when their CIEDE2000 difference is at most this (about where a reader calls them "the same colour"). */
export const colorMatchDeltaE = 10;
/** Two axes without grid positions are the same subplot when their boxes overlap at least this much (intersection over union). */
export const layoutMinIoU = 0.5;
/** A line end or circle this far off, as a share of the axes' extent, scores 0 (linearly from 1 at no distance). */
export const geometryTolerance = 0.1;

export function codeFigures(reference: FigureReading, candidate: FigureReading): CodeFigures {
  const ra = reference.artists ?? { axes: [], elements: [] };
  const ca = candidate.artists ?? { axes: [], elements: [] };
  return {
    textF1: multisetF1(textBag(reference.texts ?? []), textBag(candidate.texts ?? [])),
    typeF1: multisetF1(typeBag(ra.elements), typeBag(ca.elements)),
    colorF1: colorF1(colorEntries(ra.elements), colorEntries(ca.elements)),
    layoutF1: layoutF1(ra.axes, ca.axes),
    geometry: geometry(ra, ca),
  };
}

function f1(matched: number, nReference: number, nCandidate: number): number | null {
  if (nReference === 0 && nCandidate === 0) return null;
  if (matched === 0) return 0;
  const precision = matched / nCandidate;
  const recall = matched / nReference;
  return (2 * precision * recall) / (precision + recall);
}

function multisetF1(reference: Map<string, number>, candidate: Map<string, number>): number | null {
  let matched = 0;
  for (const [key, count] of reference) matched += Math.min(count, candidate.get(key) ?? 0);
  return f1(matched, total(reference), total(candidate));
}

function total(bag: Map<string, number>): number {
  let n = 0;
  for (const count of bag.values()) n += count;
  return n;
}

function bagOf(keys: Iterable<string>): Map<string, number> {
  const bag = new Map<string, number>();
  for (const key of keys) bag.set(key, (bag.get(key) ?? 0) + 1);
  return bag;
}

/** A drawn string as compared: trimmed, inner whitespace collapsed, the typographic minus as a hyphen. */
export function normaliseText(text: string): string {
  return text.replace(/\u2212/g, '-').replace(/\s+/g, ' ').trim();
}

function textBag(texts: readonly RenderText[]): Map<string, number> {
  return bagOf(texts.map((t) => normaliseText(t.text)).filter(Boolean));
}

/** One entry per plotting call and element type: ten bars of one `bar` call count once, ten `add_patch` calls ten times. */
function typeBag(elements: readonly ArtistElement[]): Map<string, number> {
  const groups = new Set<string>();
  for (const e of elements) groups.add(`${e.call}\u0000${e.axes}\u0000${e.type}`);
  return bagOf([...groups].map((g) => g.split('\u0000')[2] as string));
}

interface ColorEntry {
  type: string;
  lab: [number, number, number];
}

/** The distinct colours (to 1/255) of each element type across the figure. */
function colorEntries(elements: readonly ArtistElement[]): ColorEntry[] {
  const seen = new Set<string>();
  const out: ColorEntry[] = [];
  for (const e of elements) {
    for (const rgb of e.colors) {
      const key = `${e.type}|${rgb.map((v) => Math.round(v * 255)).join(',')}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ type: e.type, lab: rgbToLab(rgb) });
    }
  }
  return out;
}

function colorF1(reference: ColorEntry[], candidate: ColorEntry[]): number | null {
  const pairs: Array<[number, number, number]> = [];
  reference.forEach((r, i) =>
    candidate.forEach((c, j) => {
      if (r.type !== c.type) return;
      const d = deltaE2000(r.lab, c.lab);
      if (d <= colorMatchDeltaE) pairs.push([d, i, j]);
    }),
  );
  return f1(greedyMatches(pairs).length, reference.length, candidate.length);
}

/** Pairs (cost, i, j) taken cheapest first while both sides are free; ties by index, so the result is deterministic. */
function greedyMatches(pairs: Array<[number, number, number]>): Array<[number, number, number]> {
  pairs.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
  const usedI = new Set<number>();
  const usedJ = new Set<number>();
  const out: Array<[number, number, number]> = [];
  for (const pair of pairs) {
    if (usedI.has(pair[1]) || usedJ.has(pair[2])) continue;
    usedI.add(pair[1]);
    usedJ.add(pair[2]);
    out.push(pair);
  }
  return out;
}

function layoutF1(reference: readonly ArtistAxes[], candidate: readonly ArtistAxes[]): number | null {
  const pairs: Array<[number, number, number]> = [];
  reference.forEach((r, i) =>
    candidate.forEach((c, j) => {
      if (r.grid && c.grid) {
        if (r.grid.every((v, k) => v === c.grid?.[k])) pairs.push([0, i, j]);
      } else {
        const overlap = iou(r.box, c.box);
        if (overlap >= layoutMinIoU) pairs.push([1 - overlap, i, j]);
      }
    }),
  );
  return f1(greedyMatches(pairs).length, reference.length, candidate.length);
}

function iou(a: readonly number[], b: readonly number[]): number {
  const [ax0, ay0, ax1, ay1] = a as [number, number, number, number];
  const [bx0, by0, bx1, by1] = b as [number, number, number, number];
  const w = Math.max(0, Math.min(ax1, bx1) - Math.max(ax0, bx0));
  const h = Math.max(0, Math.min(ay1, by1) - Math.max(ay0, by0));
  const inter = w * h;
  const union = (ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * Mean of component scores, axes paired in figure order: each pair's x and y limits, each line's end points
 * and each circle's centre and radius (lines and circles matched nearest first within the pair). Distances
 * are shares of the reference axes' extent; anything without a counterpart scores 0.
 */
function geometry(reference: FigureArtists, candidate: FigureArtists): number | null {
  const scores: number[] = [];
  const n = Math.max(reference.axes.length, candidate.axes.length);
  for (let i = 0; i < n; i++) {
    const r = reference.axes[i];
    const c = candidate.axes[i];
    const rLines = r ? lineEnds(reference.elements, i) : [];
    const cLines = c ? lineEnds(candidate.elements, i) : [];
    const rCircles = r ? circles(reference.elements, i) : [];
    const cCircles = c ? circles(candidate.elements, i) : [];
    const hasLimits = (a?: ArtistAxes) => Boolean(a?.xlim && a.ylim);
    if (!r || !c) {
      if (hasLimits(r ?? c)) scores.push(0);
      for (let k = 0; k < Math.max(rLines.length, cLines.length) + Math.max(rCircles.length, cCircles.length); k++) scores.push(0);
      continue;
    }
    if (!hasLimits(r) || !hasLimits(c)) {
      if (hasLimits(r) !== hasLimits(c)) scores.push(0);
      continue;
    }
    const sx = scaleOf(r.xscale);
    const sy = scaleOf(r.yscale);
    const rx = (r.xlim as [number, number]).map(sx) as [number, number];
    const ry = (r.ylim as [number, number]).map(sy) as [number, number];
    const cx = (c.xlim as [number, number]).map(sx) as [number, number];
    const cy = (c.ylim as [number, number]).map(sy) as [number, number];
    const ex = extent(rx);
    const ey = extent(ry);
    const limit = (a: [number, number], b: [number, number], e: number) => clamp01(1 - (Math.abs(a[0] - b[0]) + Math.abs(a[1] - b[1])) / (2 * e));
    scores.push((limit(rx, cx, ex) + limit(ry, cy, ey)) / 2);
    const point = (x: number, y: number): [number, number] => [sx(x) / ex, sy(y) / ey];
    const lineDistance = (a: readonly number[], b: readonly number[]) => {
      const [a0, a1, b0, b1] = [point(a[0]!, a[1]!), point(a[2]!, a[3]!), point(b[0]!, b[1]!), point(b[2]!, b[3]!)];
      // A line drawn end to start is the same line.
      return Math.min((dist(a0, b0) + dist(a1, b1)) / 2, (dist(a0, b1) + dist(a1, b0)) / 2);
    };
    scores.push(...matchedScores(rLines, cLines, lineDistance));
    const circleDistance = (a: readonly number[], b: readonly number[]) => dist(point(a[0]!, a[1]!), point(b[0]!, b[1]!)) + Math.abs(a[2]! - b[2]!) / Math.abs(r.xlim![1] - r.xlim![0] || 1);
    scores.push(...matchedScores(rCircles, cCircles, circleDistance));
  }
  if (!scores.length) return null;
  return scores.reduce((a, b) => a + b, 0) / scores.length;
}

function matchedScores(reference: number[][], candidate: number[][], distance: (a: number[], b: number[]) => number): number[] {
  const pairs: Array<[number, number, number]> = [];
  reference.forEach((r, i) => candidate.forEach((c, j) => pairs.push([distance(r, c), i, j])));
  const matched = greedyMatches(pairs);
  const scores = matched.map(([d]) => clamp01(1 - d / geometryTolerance));
  for (let k = matched.length; k < Math.max(reference.length, candidate.length); k++) scores.push(0);
  return scores;
}

function lineEnds(elements: readonly ArtistElement[], axes: number): number[][] {
  return elements.filter((e) => e.axes === axes && e.type === 'line' && e.ends).map((e) => [...(e.ends as number[])]);
}

function circles(elements: readonly ArtistElement[], axes: number): number[][] {
  return elements.filter((e) => e.axes === axes && e.circle).map((e) => [...(e.circle as number[])]);
}

function scaleOf(name: string | undefined): (v: number) => number {
  return name === 'log' ? (v) => (v > 0 ? Math.log10(v) : 0) : (v) => v;
}

function extent(range: [number, number]): number {
  return Math.abs(range[1] - range[0]) || 1;
}

function dist(a: [number, number], b: [number, number]): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1]);
}

function clamp01(v: number): number {
  return Math.max(0, Math.min(1, v));
}

// ─── Colour science ─────────────────────────────────────────────────────────

/** sRGB in [0, 1] to CIELAB under D65. */
export function rgbToLab(rgb: readonly number[]): [number, number, number] {
  const lin = rgb.map((c) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4)) as [number, number, number];
  const x = (0.4124564 * lin[0] + 0.3575761 * lin[1] + 0.1804375 * lin[2]) / 0.95047;
  const y = 0.2126729 * lin[0] + 0.7151522 * lin[1] + 0.072175 * lin[2];
  const z = (0.0193339 * lin[0] + 0.119192 * lin[1] + 0.9503041 * lin[2]) / 1.08883;
  const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 * t + 16) / 116);
  const [fx, fy, fz] = [f(x), f(y), f(z)];
  return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
}

/** CIEDE2000 colour difference (Sharma, Wu and Dalal 2005), kL = kC = kH = 1. */
export function deltaE2000(lab1: readonly number[], lab2: readonly number[]): number {
  const [L1, a1, b1] = lab1 as [number, number, number];
  const [L2, a2, b2] = lab2 as [number, number, number];
  const rad = Math.PI / 180;
  const C1 = Math.hypot(a1, b1);
  const C2 = Math.hypot(a2, b2);
  const Cbar7 = ((C1 + C2) / 2) ** 7;
  const G = 0.5 * (1 - Math.sqrt(Cbar7 / (Cbar7 + 25 ** 7)));
  const a1p = (1 + G) * a1;
  const a2p = (1 + G) * a2;
  const C1p = Math.hypot(a1p, b1);
  const C2p = Math.hypot(a2p, b2);
  const hue = (b: number, a: number) => (b === 0 && a === 0 ? 0 : (Math.atan2(b, a) / rad + 360) % 360);
  const h1p = hue(b1, a1p);
  const h2p = hue(b2, a2p);
  const dLp = L2 - L1;
  const dCp = C2p - C1p;
  let dhp = 0;
  if (C1p * C2p !== 0) {
    dhp = h2p - h1p;
    if (dhp > 180) dhp -= 360;
    else if (dhp < -180) dhp += 360;
  }
  const dHp = 2 * Math.sqrt(C1p * C2p) * Math.sin((dhp / 2) * rad);
  const Lbarp = (L1 + L2) / 2;
  const Cbarp = (C1p + C2p) / 2;
  let hbarp = h1p + h2p;
  if (C1p * C2p !== 0) {
    if (Math.abs(h1p - h2p) <= 180) hbarp = (h1p + h2p) / 2;
    else hbarp = h1p + h2p < 360 ? (h1p + h2p + 360) / 2 : (h1p + h2p - 360) / 2;
  }
  const T = 1 - 0.17 * Math.cos((hbarp - 30) * rad) + 0.24 * Math.cos(2 * hbarp * rad) + 0.32 * Math.cos((3 * hbarp + 6) * rad) - 0.2 * Math.cos((4 * hbarp - 63) * rad);
  const dTheta = 30 * Math.exp(-(((hbarp - 275) / 25) ** 2));
  const Cbarp7 = Cbarp ** 7;
  const Rc = 2 * Math.sqrt(Cbarp7 / (Cbarp7 + 25 ** 7));
  const Sl = 1 + (0.015 * (Lbarp - 50) ** 2) / Math.sqrt(20 + (Lbarp - 50) ** 2);
  const Sc = 1 + 0.045 * Cbarp;
  const Sh = 1 + 0.015 * Cbarp * T;
  const Rt = -Math.sin(2 * dTheta * rad) * Rc;
  return Math.sqrt((dLp / Sl) ** 2 + (dCp / Sc) ** 2 + (dHp / Sh) ** 2 + Rt * (dCp / Sc) * (dHp / Sh));
}
