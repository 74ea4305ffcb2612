// Worker-thread entry (dist/ocrWorker.js): prepares a figure for OCR and runs Tesseract on it, off the caller's thread.
import { parentPort, workerData } from 'node:worker_threads';
import { readFile } from 'node:fs/promises';
import { inflateSync, gunzipSync } from 'node:zlib';
import { join } from 'node:path';

/** What the caller sends: one image to read. */
export interface OcrJob {
  id: number;
  path: string;
  /** Read only the text inside these boxes (the original's pixels); the whole figure when absent. */
  regions?: Box[];
}

/** A box in an image's pixels, y from the top. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** One word as Tesseract reports it, in the original's pixels. */
export interface OcrWord {
  text: string;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  confidence: number;
}

/** One line of words; `rotated` lines were read on the image turned a quarter clockwise (text running upwards). */
export interface OcrLine {
  words: OcrWord[];
  rotated: boolean;
}

export type OcrReply = { id: number; ok: true; lines: OcrLine[]; width: number; height: number } | { id: number; ok: false; error: string };

export interface OcrWorkerData {
  /** Folder holding eng.traineddata.gz. */
  langPath: string;
}

interface Gray {
  width: number;
  height: number;
  data: Uint8Array;
}

// ---------------------------------------------------------------------------------------------
// Image preparation. Tesseract reads small figure text poorly and takes a circle or an axis touching
// a label for a picture, so the figure is turned grey, stripped of shapes too large to be glyphs,
// and enlarged before it is read.

/** Decodes a non-interlaced PNG into grey levels with transparency composited on white; undefined for anything else. */
export function decodePng(buf: Uint8Array): Gray | undefined {
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (buf.length < 33 || sig.some((b, i) => buf[i] !== b)) return undefined;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let pos = 8;
  let width = 0, height = 0, depth = 0, colour = 0, interlace = 0;
  let palette: Uint8Array | undefined;
  let trns: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  while (pos + 8 <= buf.length) {
    const len = view.getUint32(pos);
    const type = String.fromCharCode(buf[pos + 4]!, buf[pos + 5]!, buf[pos + 6]!, buf[pos + 7]!);
    const body = buf.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = view.getUint32(pos + 8);
      height = view.getUint32(pos + 12);
      depth = body[8]!;
      colour = body[9]!;
      interlace = body[12]!;
    } else if (type === 'PLTE') palette = body;
    else if (type === 'tRNS') trns = body;
    else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') break;
    pos += 12 + len;
  }
  const channels = ({ 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as Record<number, number>)[colour];
  if (!width || !height || !channels || interlace !== 0 || width * height > 80_000_000) return undefined;
  const raw = inflateSync(Buffer.concat(idat));
  const bitsPerPixel = channels * depth;
  const stride = Math.ceil((width * bitsPerPixel) / 8);
  const bpp = Math.max(1, bitsPerPixel >> 3);
  if (raw.length < height * (stride + 1)) return undefined;
  const cur = new Uint8Array(stride);
  let prev = new Uint8Array(stride);
  const out = new Uint8Array(width * height);
  const maxSample = (1 << depth) - 1;
  const sample = (row: Uint8Array, index: number): number => {
    if (depth === 8) return row[index]!;
    if (depth === 16) return row[index * 2]!;
    const bit = index * depth;
    return (row[bit >> 3]! >> (8 - depth - (bit & 7))) & maxSample;
  };
  const to8 = (v: number): number => (depth === 16 || depth === 8 ? v : Math.round((v * 255) / maxSample));
  for (let y = 0; y < height; y++) {
    const base = y * (stride + 1);
    const filter = raw[base]!;
    for (let i = 0; i < stride; i++) {
      const x = raw[base + 1 + i]!;
      const a = i >= bpp ? cur[i - bpp]! : 0;
      const b = prev[i]!;
      const c = i >= bpp ? prev[i - bpp]! : 0;
      let v = x;
      if (filter === 1) v = x + a;
      else if (filter === 2) v = x + b;
      else if (filter === 3) v = x + ((a + b) >> 1);
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        v = x + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
      }
      cur[i] = v & 255;
    }
    for (let x = 0; x < width; x++) {
      let r: number, g: number, bl: number, alpha = 255;
      if (colour === 3) {
        const k = sample(cur, x);
        r = palette?.[k * 3] ?? 0;
        g = palette?.[k * 3 + 1] ?? 0;
        bl = palette?.[k * 3 + 2] ?? 0;
        alpha = trns && k < trns.length ? trns[k]! : 255;
      } else if (colour === 0 || colour === 4) {
        r = g = bl = to8(sample(cur, x * channels));
        if (colour === 4) alpha = to8(sample(cur, x * channels + 1));
      } else {
        r = to8(sample(cur, x * channels));
        g = to8(sample(cur, x * channels + 1));
        bl = to8(sample(cur, x * channels + 2));
        if (colour === 6) alpha = to8(sample(cur, x * channels + 3));
      }
      const lum = 0.299 * r + 0.587 * g + 0.114 * bl;
      out[y * width + x] = Math.round((lum * alpha + 255 * (255 - alpha)) / 255);
    }
    prev = Uint8Array.from(cur);
  }
  return { width, height, data: out };
}

const inkThreshold = 170;

/**
 * Whitens every connected shape of ink too large to be a glyph (axes, circles, long edges, filled bars),
 * so that labels drawn near them are seen as text. A glyph touching such a shape goes with it. Grid lines
 * go too (`dropGridLines`). `glyphHeight`: the median height of the marks kept that are tall enough (6 px)
 * to be glyphs.
 */
export function removeLargeShapes(img: Gray): Gray & { glyphHeight?: number } {
  const { width, height, data } = img;
  const glyphHeights: number[] = [];
  const maxGlyph = Math.max(40, Math.round(0.09 * Math.min(width, height)));
  const label = new Int32Array(width * height).fill(-1);
  const stack = new Int32Array(width * height);
  const out = Uint8Array.from(data);
  for (let start = 0; start < width * height; start++) {
    if (data[start]! >= inkThreshold || label[start] !== -1) continue;
    let top = 0;
    stack[top++] = start;
    label[start] = start;
    let minX = width, minY = height, maxX = 0, maxY = 0;
    const members: number[] = [];
    while (top > 0) {
      const p = stack[--top]!;
      members.push(p);
      const px = p % width, py = (p - px) / width;
      if (px < minX) minX = px;
      if (px > maxX) maxX = px;
      if (py < minY) minY = py;
      if (py > maxY) maxY = py;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = py + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = px + dx;
          if (nx < 0 || nx >= width) continue;
          const q = ny * width + nx;
          if (label[q] === -1 && data[q]! < inkThreshold) {
            label[q] = start;
            stack[top++] = q;
          }
        }
      }
    }
    const w = maxX - minX + 1, h = maxY - minY + 1;
    const shape = w > maxGlyph * 3 || h > maxGlyph || (w > maxGlyph && h > maxGlyph / 2);
    if (!shape && h >= 6) glyphHeights.push(h);
    if (shape) {
      for (const p of members) out[p] = 255;
      // The light rim of a removed shape would otherwise leave ghost lines.
      for (const p of members) {
        const px = p % width, py = (p - px) / width;
        for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
          const nx = px + dx, ny = py + dy;
          if (nx >= 0 && ny >= 0 && nx < width && ny < height && label[ny * width + nx] === -1) out[ny * width + nx] = 255;
        }
      }
    }
  }
  dropGridLines(out, width, height);
  glyphHeights.sort((a, b) => a - b);
  return { width, height, data: out, glyphHeight: glyphHeights[glyphHeights.length >> 1] };
}

/**
 * Whitens long straight runs of light grey, along rows and columns: grid lines. Left in, they make Tesseract
 * take a gridded page for a table and read nothing. The light rims of glyphs are short runs and stay.
 */
function dropGridLines(data: Uint8Array, width: number, height: number): void {
  const light = (v: number) => v >= inkThreshold && v < 250;
  const minRun = Math.max(20, Math.round(0.05 * Math.max(width, height)));
  // Both directions are found on the image as it is, so that whitened rows do not cut the columns' runs.
  const grid = new Uint8Array(width * height);
  const runs = (count: number, length: number, at: (i: number, j: number) => number) => {
    for (let i = 0; i < count; i++) {
      let start = -1;
      for (let j = 0; j <= length; j++) {
        if (j < length && light(data[at(i, j)]!)) {
          if (start < 0) start = j;
          continue;
        }
        if (start >= 0 && j - start >= minRun) for (let k = start; k < j; k++) grid[at(i, k)] = 1;
        start = -1;
      }
    }
  };
  runs(height, width, (y, x) => y * width + x);
  runs(width, height, (x, y) => y * width + x);
  for (let p = 0; p < grid.length; p++) if (grid[p]) data[p] = 255;
}

export function enlarge(img: Gray, scale: number): Gray {
  if (scale === 1) return img;
  const width = Math.round(img.width * scale), height = Math.round(img.height * scale);
  const out = new Uint8Array(width * height);
  const src = img.data;
  for (let y = 0; y < height; y++) {
    const sy = Math.min(img.height - 1, Math.max(0, (y + 0.5) / scale - 0.5));
    const y0 = Math.floor(sy), y1 = Math.min(img.height - 1, y0 + 1), fy = sy - y0;
    for (let x = 0; x < width; x++) {
      const sx = Math.min(img.width - 1, Math.max(0, (x + 0.5) / scale - 0.5));
      const x0 = Math.floor(sx), x1 = Math.min(img.width - 1, x0 + 1), fx = sx - x0;
      const top = src[y0 * img.width + x0]! * (1 - fx) + src[y0 * img.width + x1]! * fx;
      const bottom = src[y1 * img.width + x0]! * (1 - fx) + src[y1 * img.width + x1]! * fx;
      out[y * width + x] = Math.round(top * (1 - fy) + bottom * fy);
    }
  }
  return { width, height, data: out };
}

/** The image turned a quarter clockwise: text written upwards (a y-axis label) reads left to right. */
export function turnClockwise(img: Gray): Gray {
  const { width, height, data } = img;
  const out = new Uint8Array(width * height);
  // Output is `height` wide and `width` tall; output (x', y') shows input (y', height - 1 - x').
  for (let yy = 0; yy < width; yy++) for (let xx = 0; xx < height; xx++) out[yy * height + xx] = data[(height - 1 - xx) * width + yy]!;
  return { width: height, height: width, data: out };
}

/** The image with the given boxes (and a margin of `pad` pixels) painted white. */
export function whitenBoxes(img: Gray, boxes: { x0: number; y0: number; x1: number; y1: number }[], pad = 2): Gray {
  const { width, height } = img;
  const data = Uint8Array.from(img.data);
  for (const b of boxes) {
    const x0 = Math.max(0, Math.floor(b.x0) - pad), x1 = Math.min(width, Math.ceil(b.x1) + pad);
    const y0 = Math.max(0, Math.floor(b.y0) - pad), y1 = Math.min(height, Math.ceil(b.y1) + pad);
    for (let y = y0; y < y1; y++) data.fill(255, y * width + x0, y * width + Math.max(x0, x1));
  }
  return { width, height, data };
}

/** The image with everything outside the given boxes painted white. */
export function keepOnly(img: Gray, boxes: Box[]): Gray {
  const { width, height } = img;
  const data = new Uint8Array(width * height).fill(255);
  for (const b of boxes) {
    const x0 = Math.max(0, Math.floor(b.x)), x1 = Math.min(width, Math.ceil(b.x + b.width));
    const y0 = Math.max(0, Math.floor(b.y)), y1 = Math.min(height, Math.ceil(b.y + b.height));
    for (let y = y0; y < y1 && x1 > x0; y++) data.set(img.data.subarray(y * width + x0, y * width + x1), y * width + x0);
  }
  return { width, height, data };
}

/** The box around every inked pixel, grown by `margin` and kept inside the image; undefined for a blank image. */
export function inkBounds(img: Gray, margin: number): Box | undefined {
  const { width, height, data } = img;
  let minX = width, minY = height, maxX = -1, maxY = -1;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      if (data[row + x]! >= inkThreshold) continue;
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
    }
  }
  if (maxX < 0) return undefined;
  const x = Math.max(0, minX - margin), y = Math.max(0, minY - margin);
  return { x, y, width: Math.min(width, maxX + margin + 1) - x, height: Math.min(height, maxY + margin + 1) - y };
}

export function crop(img: Gray, area: Box): Gray {
  const data = new Uint8Array(area.width * area.height);
  for (let y = 0; y < area.height; y++) {
    const from = (area.y + y) * img.width + area.x;
    data.set(img.data.subarray(from, from + area.width), y * area.width);
  }
  return { width: area.width, height: area.height, data };
}

function pgm(img: Gray): Uint8Array {
  const header = Buffer.from(`P5\n${img.width} ${img.height}\n255\n`, 'ascii');
  return Buffer.concat([header, img.data]);
}

/** Enlargement that brings typical figure text (10–14 px high) towards the 25–40 px Tesseract reads best. */
export function ocrScale(width: number, height: number, glyphHeight?: number): number {
  const side = Math.max(width, height);
  const bySide = side <= 700 ? 3 : side <= 1400 ? 2 : 1;
  // Large lettering (a scanned textbook figure's vertex names) needs less, or none.
  return glyphHeight && glyphHeight >= 20 ? Math.max(1, Math.min(bySide, Math.round((2 * 30) / glyphHeight) / 2)) : bySide;
}

// ---------------------------------------------------------------------------------------------
// Tesseract, run in this thread through its own worker script's dispatcher. Its network fetch is
// replaced by a refusal: the trained data is read from `langPath` or the OCR fails loudly.

interface TessPacket {
  workerId: string;
  jobId: string;
  action: string;
  payload: unknown;
}
interface TessReply {
  status: 'resolve' | 'reject' | 'progress';
  data: unknown;
}
interface TessScript {
  dispatchHandlers(packet: TessPacket, send: (reply: TessReply) => void): void;
  setAdapter(adapter: object): void;
}
interface TessWord {
  text: string;
  confidence: number;
  bbox: { x0: number; y0: number; x1: number; y1: number };
}
interface TessBlocks {
  blocks: { paragraphs: { lines: { words: TessWord[] }[] }[] }[] | null;
}

/* eslint-disable @typescript-eslint/no-require-imports */
const tess = require('tesseract.js/src/worker-script/index.js') as TessScript;
const getCore = require('tesseract.js/src/worker-script/node/getCore.js') as unknown;
/* eslint-enable @typescript-eslint/no-require-imports */

tess.setAdapter({
  getCore,
  gunzip: gunzipSync,
  fetch: (url: string) => Promise.reject(new Error(`Refigure's OCR reads only bundled data; refused to fetch ${url}.`)),
  readCache: (path: string) => readFile(path),
  writeCache: () => Promise.resolve(),
  deleteCache: () => Promise.resolve(),
  checkCache: () => Promise.resolve(false),
});

let jobCounter = 0;
function call(action: string, payload: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    tess.dispatchHandlers({ workerId: 'refigure', jobId: `job-${++jobCounter}`, action, payload }, (reply) => {
      if (reply.status === 'resolve') resolve(reply.data);
      else if (reply.status === 'reject') reject(new Error(String(reply.data)));
    });
  });
}

let ready: Promise<void> | undefined;
function start(langPath: string): Promise<void> {
  ready ??= (async () => {
    // The node core loader takes the engine mode here (1, LSTM only) and picks the LSTM-only WebAssembly build.
    await call('load', { options: { lstmOnly: 1, corePath: '', logging: false } });
    await call('loadLanguage', { langs: 'eng', options: { langPath, cacheMethod: 'none', gzip: true, lstmOnly: true } });
    await call('initialize', { langs: 'eng', oem: 1 });
    await call('setParameters', {
      params: {
        // One block of text: unlike sparse mode it keeps isolated letters and digits (vertex names, tick values);
        // far-apart words on one line are split again by the caller.
        tessedit_pageseg_mode: '6',
        preserve_interword_spaces: '1',
        user_defined_dpi: '300',
        debug_file: '/dev/null',
      },
    });
  })();
  return ready;
}

async function recognize(image: Uint8Array): Promise<TessWord[][]> {
  const result = (await call('recognize', { image, options: {}, output: { blocks: true, text: false, hocr: false, tsv: false } })) as TessBlocks;
  const lines: TessWord[][] = [];
  for (const block of result.blocks ?? []) for (const para of block.paragraphs) for (const line of para.lines) lines.push(line.words);
  return lines;
}

/** A word's box in a part of the prepared image, mapped back to the original's pixels. */
type ToOriginal = (box: TessWord['bbox']) => { x0: number; y0: number; x1: number; y1: number };

async function recognizeLines(img: Gray, rotated: boolean, toOriginal: ToOriginal): Promise<OcrLine[]> {
  return (await recognize(pgm(img))).map((words) => ({ rotated, words: words.map((w) => ({ text: w.text, confidence: w.confidence, ...toOriginal(w.bbox) })) }));
}

/**
 * Reads one figure, or only the text inside `regions`: upright, then turned for vertical text; boxes in the
 * original's pixels. Only the box around the ink left to read is handed to Tesseract, so reading a few
 * regions costs little more than their text.
 */
export async function readFigure(bytes: Uint8Array, langPath: string, regions?: Box[]): Promise<{ lines: OcrLine[]; width: number; height: number }> {
  await start(langPath);
  const gray = decodePng(bytes);
  if (!gray) {
    // Not a PNG this reader decodes: Tesseract's own decoder reads it as it is, upright only.
    const lines = (await recognize(bytes)).map((words) => ({ words: words.map((w) => ({ text: w.text, confidence: w.confidence, ...w.bbox })), rotated: false }));
    return { lines, width: 0, height: 0 };
  }
  const size = { width: gray.width, height: gray.height };
  // Shapes are told from glyphs on the whole figure, so that a region is prepared as it would be in it.
  const cleaned = removeLargeShapes(gray);
  const scale = ocrScale(gray.width, gray.height, cleaned.glyphHeight);
  let prepared = enlarge(cleaned, scale);
  if (regions) prepared = keepOnly(prepared, regions.map((r) => ({ x: r.x * scale, y: r.y * scale, width: r.width * scale, height: r.height * scale })));
  const area = inkBounds(prepared, 6);
  if (!area) return { lines: [], ...size };
  const part = crop(prepared, area);
  const upright = await recognizeLines(part, false, (b) => ({ x0: (b.x0 + area.x) / scale, y0: (b.y0 + area.y) / scale, x1: (b.x1 + area.x) / scale, y1: (b.y1 + area.y) / scale }));
  // Text written upwards is looked for only in what the upright pass left: the words it read surely are
  // whitened, and the turned pass reads the box around the ink that remains, or is skipped when none does.
  // Single letters stay: the upright pass reads pieces of a label written upwards as letters.
  const sure = upright.flatMap((line) => line.words).filter((w) => w.confidence >= 90 && w.text.trim().length >= 2);
  const rest = whitenBoxes(part, sure.map((w) => ({ x0: w.x0 * scale - area.x, y0: w.y0 * scale - area.y, x1: w.x1 * scale - area.x, y1: w.y1 * scale - area.y })));
  const restArea = inkBounds(rest, 6);
  if (!restArea) return { lines: upright, ...size };
  const turnedPart = crop(rest, restArea);
  // Turned output (x', y') shows the part (y', h - 1 - x'), and part (x, y) is prepared (x + ox, y + oy):
  // a box maps back to x = y' + ox, y = h - x' + oy.
  const h = turnedPart.height, ox = area.x + restArea.x, oy = area.y + restArea.y;
  const rotated = await recognizeLines(turnClockwise(turnedPart), true, (b) => ({ x0: (b.y0 + ox) / scale, x1: (b.y1 + ox) / scale, y0: (h - b.x1 + oy) / scale, y1: (h - b.x0 + oy) / scale }));
  return { lines: [...upright, ...rotated], ...size };
}

const port = parentPort;
if (port) {
  const { langPath } = workerData as OcrWorkerData;
  port.on('message', (job: OcrJob) => {
    readFile(job.path)
      .then((bytes) => readFigure(new Uint8Array(bytes), langPath, job.regions))
      .then(
        (read) => port.postMessage({ id: job.id, ok: true, ...read } satisfies OcrReply),
        (error: unknown) => port.postMessage({ id: job.id, ok: false, error: error instanceof Error ? error.message : String(error) } satisfies OcrReply),
      );
  });
}

export const defaultLangFolder = (root: string): string => join(root, 'dist', 'tessdata');
