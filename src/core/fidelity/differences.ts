// An attempt's text scored against the original's, folded into its fidelity, and its differences and verdict.
import type { Difference, DiffRegion, Metrics, RenderOutcome, RenderText, Verdict } from '../types';
import type { TextBox, TextItem } from './ocr';
import { matchText, extraWeight, resembles, sameText, type TextPair } from './textMatch';

/** How much text disagreement takes off the pixel fidelity: `pixel × (1 − textWeight × (1 − textF1))`. */
export const textWeight = 0.6;
/**
 * While a confident text difference remains, fidelity is at most `textCap − textCapStep × (n − 1)` for n
 * such differences: below the refinement target 0.95 however many labels the figure has (one wrong label
 * among twenty leaves textF1 near 0.95), and lower for each further one, so a round that fixes one label
 * still gains.
 */
export const textCap = 0.94;
export const textCapStep = 0.02;
/** A text difference counts (in the verdict, the cap, refinement) from this confidence on. */
export const confidentText = 0.5;
/**
 * The verdict's lines on pixel fidelity, calibrated on `test/calibration/panelThresholds.json`: `close` sits just
 * below the lowest exact re-render of the bench corpus (a moved vertex scores ≈ 0.84–0.87), `partial` just above the
 * highest pairing of unrelated figures, so a different figure never reads as similar.
 */
export const verdictLines = { close: 0.9, partial: 0.47 } as const;
/** Regions of the difference map listed among the differences: a box of at least this share of the image. */
export const largeRegion = 0.001;
/** At most this many differences are listed. */
export const differenceLimit = 20;

export interface AttemptScore {
  metrics?: Metrics;
  differences: Difference[];
  verdict: Verdict;
}

const toBox = (b: TextBox): [number, number, number, number] => [b.x, b.y, b.width, b.height];

function overlaps(a: [number, number, number, number], b: [number, number, number, number], pad = 0): boolean {
  return a[0] - pad < b[0] + b[2] && b[0] - pad < a[0] + a[2] && a[1] - pad < b[1] + b[3] && b[1] - pad < a[1] + a[3];
}

/** The render's texts as text items (exact, confidence 1), in the original's pixels. */
export function renderTextItems(texts: readonly RenderText[]): TextItem[] {
  return texts
    .filter((t) => t.text.trim() && t.box[2] > 0 && t.box[3] > 0)
    .map((t) => {
      const item: TextItem = { text: t.text, box: { x: t.box[0], y: t.box[1], width: t.box[2], height: t.box[3] }, confidence: 1 };
      if (Math.abs(Math.abs(t.rotation) - 90) < 1) item.rotated = true;
      return item;
    });
}

/**
 * How sure a text pair's disagreement is. Where the difference map shows nothing in either item's box the
 * pixels there are the same, so a disagreement is OCR misreading the original: confidence 0. Where a region
 * about the text's size (at most 6 × its box) changed, a `different` or `missing` item is as sure as OCR was
 * of the original's word, and an `extra` item is sure (0.9) when the change there is only extra ink; where only a larger change passes by (a moved
 * line), a `different` or `missing` item is unsure (at most 0.3) and an `extra` one does not count. Without a difference map, OCR's confidence alone
 * (and half for an extra item, which may be text OCR missed).
 */
function pairConfidence(pair: TextPair, regions: readonly DiffRegion[] | undefined): number {
  const boxes = [pair.original, pair.render].filter((t): t is TextItem => !!t).map((t) => toBox(t.box));
  const pad = Math.max(2, ...boxes.map((b) => b[3] * 0.25));
  // 2: a region about the text's size (the changed glyphs); 1: only a larger change (a moved line) passes by.
  const near = (kinds: DiffRegion['kind'][]) =>
    Math.max(0, ...(regions ?? []).filter((r) => kinds.includes(r.kind)).flatMap((r) => boxes.filter((b) => overlaps(b, r.box, pad)).map((b) => (r.box[2] * r.box[3] <= 6 * Math.max(1, b[2] * b[3]) ? 2 : 1))));
  // Text that moved a little leaves missing ink beside the extra; text the original lacks leaves only extra ink.
  if (pair.kind === 'extra') return regions ? (near(['extra-ink']) === 2 && near(['missing-ink', 'colour']) === 0 ? 0.9 : 0) : extraWeight;
  const ocr = pair.original?.confidence ?? 0;
  if (!regions) return ocr;
  const seen = near(['missing-ink', 'extra-ink', 'colour']);
  return seen === 2 ? ocr : seen === 1 ? Math.min(ocr, 0.3) : 0;
}

/**
 * The second look, at what OCR reads in the render where the original's item is. The disagreement is OCR's,
 * not the redraw's, when OCR reads there what it read in the original (both images carry the same ink), or,
 * for an item the redraw lacks, when OCR finds text there though the redraw drew none: that ink is marks
 * (stars, triangles) OCR takes for text, in the render as in the original.
 */
function secondLookClears(pair: TextPair, renderRead: readonly TextItem[] | undefined, renderExact: readonly TextItem[]): boolean {
  const original = pair.original;
  if (!renderRead || !original || pair.kind === 'extra') return false;
  const box = toBox(original.box);
  const pad = Math.max(2, box[3] * 0.5);
  const readThere = renderRead.filter((read) => overlaps(box, toBox(read.box), pad));
  if (readThere.some((read) => sameText(original.text, read.text))) return true;
  // Where the redraw draws known text, OCR reads only strings unlike it: marks there are read as letters,
  // in the render as in the original, and the original's reading there is no better.
  if (pair.kind === 'different' && pair.render && readThere.length > 0 && readThere.every((read) => !resembles(read.text, pair.render!.text))) return true;
  return pair.kind === 'missing' && readThere.length > 0 && !renderExact.some((text) => overlaps(box, toBox(text.box), pad));
}

/** Where the second look reads around an item of the original: its box grown as `secondLookClears` searches, and by half its length along the text. */
function lookArea(item: TextItem, size: { width: number; height: number }): TextBox {
  const { box } = item;
  const pad = Math.max(2, box.height * 0.5) + 2;
  const alongX = item.rotated ? 0 : box.width * 0.5, alongY = item.rotated ? box.height * 0.5 : 0;
  const x = Math.max(0, box.x - pad - alongX), y = Math.max(0, box.y - pad - alongY);
  return { x, y, width: Math.min(size.width, box.x + box.width + pad + alongX) - x, height: Math.min(size.height, box.y + box.height + pad + alongY) - y };
}

/** The text pairs of a render against the original's text, each with how sure the difference is (1 for same). */
function scoredPairs(render: RenderOutcome, original: readonly TextItem[], size: { width: number; height: number }, renderRead?: readonly TextItem[]): { pair: TextPair; confidence: number }[] {
  const exact = renderTextItems(render.texts ?? []);
  return matchText([...original], exact, size).pairs.map((pair) => ({
    pair,
    confidence: pair.kind === 'same' ? 1 : secondLookClears(pair, renderRead, exact) ? 0 : pairConfidence(pair, render.regions),
  }));
}

/** A reader of an image's text (OCR), boxes in its pixels. */
export type TextReader = (imagePath: string, signal?: AbortSignal, regions?: TextBox[]) => Promise<TextItem[]>;

/**
 * `scoreAttempt`, and when OCR's reading of the original leaves text differences, a second look: the render is
 * read by the same OCR, and a difference the second look clears is dropped (see `secondLookClears`). The one scoring of the session, the eval and its rerun.
 */
export async function scoreWithSecondLook(
  render: RenderOutcome,
  original: readonly TextItem[] | undefined,
  size: { width: number; height: number },
  read: TextReader | undefined,
  signal?: AbortSignal,
): Promise<AttemptScore> {
  if (!render.ok || !render.metrics || !original) return scoreAttempt(render, original, size);
  const pairs = scoredPairs(render, original, size);
  const first = scoreFrom(render, original, pairs);
  if (!read || !render.png) return first;
  // OCR reads the render only where the original's doubtful items are, in the area `secondLookClears`
  // looks in, with room for a longer reading there.
  const regions = pairs
    .filter(({ pair, confidence }) => pair.original && (pair.kind === 'missing' || pair.kind === 'different') && confidence > 0)
    .map(({ pair }) => lookArea(pair.original!, size));
  if (!regions.length) return first;
  const renderRead = await read(render.png, signal, regions).catch((error: unknown) => {
    if (signal?.aborted) throw error;
    return undefined;
  });
  return renderRead ? scoreFrom(render, original, scoredPairs(render, original, size, renderRead)) : first;
}

/**
 * textF1 over the matched pairs: 2·S / (2·S + M + E) as in `matchText`, with each unmatched item weighed by
 * its confidence (`pairConfidence`), so OCR's misreadings where the pixels agree cost nothing: S counts
 * same pairs and the pairs whose pixels agree. 1 when neither side has text.
 */
function weightedTextF1(scored: { pair: TextPair; confidence: number }[], hasAny: boolean): number {
  if (!hasAny) return 1;
  let s = 0, m = 0, e = 0;
  for (const { pair, confidence } of scored) {
    if (pair.kind === 'same') s += 1;
    // Where the pixels agree: a misread or unread word of the original is the same text; a reading
    // with nothing in the redraw there is ink the redraw draws otherwise, and counts for neither side.
    else if (confidence === 0) s += pair.kind === 'missing' ? 0 : 1;
    if (pair.kind === 'same' || confidence === 0) continue;
    if (pair.kind === 'different') {
      m += confidence;
      e += confidence;
    } else if (pair.kind === 'missing') m += confidence;
    else e += extraWeight * confidence;
  }
  return s === 0 ? 0 : Math.round(((2 * s) / (2 * s + m + e)) * 10000) / 10000;
}

/**
 * The text figures, folded fidelity, differences and verdict of one render against the original's text.
 * `original` undefined: the original's text was not read, and the pixel figures stand alone.
 */
export function scoreAttempt(
  render: RenderOutcome,
  original: readonly TextItem[] | undefined,
  size: { width: number; height: number },
  renderRead?: readonly TextItem[],
): AttemptScore {
  return scoreFrom(render, original, render.ok && render.metrics && original ? scoredPairs(render, original, size, renderRead) : undefined);
}

/** `scoreAttempt` from the text pairs already scored (`scoredPairs`), undefined when the original's text was not read. */
function scoreFrom(render: RenderOutcome, original: readonly TextItem[] | undefined, scored: { pair: TextPair; confidence: number }[] | undefined): AttemptScore {
  if (!render.ok || !render.metrics) return { metrics: render.metrics, differences: [], verdict: { code: 'failed', textDifferences: 0 } };
  const pixel = render.metrics;
  const regions = render.regions;
  const textDiffs: Difference[] = [];
  let metrics: Metrics = { ...pixel };
  let confidentCount = 0;
  if (original && scored) {
    const textF1 = weightedTextF1(scored, original.length > 0 || (render.texts?.length ?? 0) > 0);
    for (const { pair, confidence } of scored) {
      if (pair.kind === 'same' || confidence === 0) continue;
      const at = (pair.original ?? pair.render)!;
      const d: Difference = { kind: `text-${pair.kind}`, box: toBox(at.box), confidence: Math.round(confidence * 1000) / 1000 };
      if (pair.original) d.original = pair.original.text;
      if (pair.render) d.redraw = pair.render.text;
      textDiffs.push(d);
      if (confidence >= confidentText) confidentCount++;
    }
    metrics = { ...pixel, textF1, pixelFidelity: pixel.fidelity, fidelity: foldFidelity(pixel.fidelity, textF1, original.length > 0, confidentCount) };
  }
  const byArea = (d: Difference) => d.box[2] * d.box[3];
  const sure = (d: Difference) => 'confidence' in d && (d.confidence ?? 0) >= confidentText;
  textDiffs.sort((a, b) => Number(sure(b)) - Number(sure(a)) || byArea(b) - byArea(a));
  const shownText = textDiffs.filter(sure);
  // A region that is a listed text difference's own ink is not listed twice.
  const inkDiffs: Difference[] = (regions ?? [])
    .filter((r) => r.area >= largeRegion && !shownText.some((d) => overlaps(d.box, r.box) && r.box[2] * r.box[3] <= 4 * byArea(d)))
    .sort((a, b) => b.area - a.area)
    .map((r) => ({ kind: r.kind, box: r.box, area: r.area }));
  const differences = [...shownText, ...inkDiffs, ...textDiffs.filter((d) => !shownText.includes(d))].slice(0, differenceLimit);
  return { metrics, differences, verdict: verdictOf(pixel.fidelity, confidentCount) };
}

/**
 * The composite with text folded in: `pixel × (1 − 0.6 × (1 − textF1))` when the original has text, else
 * `pixel`; then at most `textCap − textCapStep × (n − 1)` while n confident text differences remain.
 */
export function foldFidelity(pixelFidelity: number, textF1: number, hasText: boolean, confidentDifferences = 0): number {
  let folded = hasText ? pixelFidelity * (1 - textWeight * (1 - Math.min(1, Math.max(0, textF1)))) : pixelFidelity;
  if (confidentDifferences > 0) folded = Math.min(folded, Math.max(0, textCap - textCapStep * (confidentDifferences - 1)));
  return Math.round(folded * 10000) / 10000;
}

/**
 * The one verdict, for the CLI's result, the eval and the panel: `close` when the pixels are close and the text
 * agrees, `close-text-differs` when only the text disagrees, `partial` in the middle band, `different` below it.
 */
export function verdictOf(pixelFidelity: number, textDifferences: number): Verdict {
  if (pixelFidelity >= verdictLines.close) return { code: textDifferences ? 'close-text-differs' : 'close', textDifferences };
  return { code: pixelFidelity >= verdictLines.partial ? 'partial' : 'different', textDifferences };
}

/** The text differences that count (confidence ≥ `confidentText`). */
export function confidentTextDifferences(differences: readonly Difference[] | undefined): TextDifference[] {
  return (differences ?? []).filter((d): d is TextDifference => 'confidence' in d && (d.confidence ?? 0) >= confidentText);
}

/** A difference in the text: what the original reads, what the redraw reads, where. */
export type TextDifference = Extract<Difference, { kind: 'text-different' | 'text-missing' | 'text-extra' }>;
