// Reads the text of an original figure with Tesseract (bundled, offline), in a worker thread, cached per file version.
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { basename, join } from 'node:path';
import { RefigureError, cancelled, throwIfAborted } from '../errors';
import { packageRoot } from '../paths';
import type { Box, OcrJob, OcrLine, OcrReply, OcrWord, OcrWorkerData } from './ocrWorker';

/** A box in an image's pixels, y from the top: the worker's own box type. */
export type TextBox = Box;

/** One piece of text in a figure: a label, a tick value, a title line. Boxes are in the image's pixels, y from the top. */
export interface TextItem {
  text: string;
  box: TextBox;
  /** 0–1; 1 for text read exactly from a render's artists. */
  confidence: number;
  /** Written upwards (a y-axis label) rather than left to right. */
  rotated?: boolean;
}

/** Results kept per file version, so a figure read once is not read again (in the extension, across an eval run). */
export interface OcrCache {
  get(key: string): TextItem[] | undefined;
  set(key: string, items: TextItem[]): void;
}

export interface ReadTextOptions {
  cache?: OcrCache;
  /** Read only the text inside these boxes (the image's pixels), for a second look at a few places. */
  regions?: TextBox[];
  signal?: AbortSignal;
  /** The reader to use; a shared one by default. */
  reader?: OcrReader;
}

/** A cache in memory, dropping the oldest entries beyond `limit`. */
export function createOcrCache(limit = 500): OcrCache {
  const entries = new Map<string, TextItem[]>();
  return {
    get: (key) => entries.get(key),
    set: (key, items) => {
      entries.delete(key);
      entries.set(key, items);
      while (entries.size > limit) entries.delete(entries.keys().next().value as string);
    },
  };
}

/** The cache key of a file version: path, modification time and size. */
export async function ocrCacheKey(imagePath: string): Promise<string> {
  const info = await stat(imagePath);
  return `${imagePath}\u0000${info.mtimeMs}\u0000${info.size}`;
}

/** The text items of an image: OCR in a worker thread, or the cached result for this version of the file. */
export async function readText(imagePath: string, options: ReadTextOptions = {}): Promise<TextItem[]> {
  throwIfAborted(options.signal);
  const key = options.cache ? `${await ocrCacheKey(imagePath)}${options.regions ? `\u0000${JSON.stringify(options.regions)}` : ''}` : undefined;
  const hit = key !== undefined ? options.cache?.get(key) : undefined;
  if (hit) return hit;
  const reader = options.reader ?? sharedReader();
  const lines = await reader.read(imagePath, options.signal, options.regions);
  const items = textItemsFromLines(lines);
  if (key !== undefined) options.cache?.set(key, items);
  return items;
}

let shared: OcrReader | undefined;
function sharedReader(): OcrReader {
  shared ??= new OcrReader();
  return shared;
}

/** Where the OCR worker and its data are: `dist/` beside the bundle (the .vsix carries them there). */
export function ocrAssetsDir(): string {
  return join(packageRoot(), 'dist');
}

interface Lane {
  worker: Worker | undefined;
  busy: boolean;
}

interface Waiter {
  take(lane: Lane): void;
  fail(error: Error): void;
}

/**
 * Worker threads running Tesseract, each started on first use and reused; each runs one job at a time,
 * and jobs beyond `threads` wait their turn. A cancelled job ends its worker (Tesseract cannot be
 * interrupted); the next job on that lane starts a new one.
 */
export class OcrReader {
  private readonly lanes: Lane[];
  private readonly waiting: Waiter[] = [];
  private nextId = 1;
  private epoch = 0;
  private readonly pending = new Map<number, { lane: Lane; resolve: (lines: OcrLine[]) => void; reject: (error: Error) => void }>();

  constructor(
    private readonly assetsDir: string = ocrAssetsDir(),
    threads = 1,
  ) {
    this.lanes = Array.from({ length: Math.max(1, Math.floor(threads)) }, () => ({ worker: undefined, busy: false }));
  }

  async read(imagePath: string, signal?: AbortSignal, regions?: TextBox[]): Promise<OcrLine[]> {
    throwIfAborted(signal);
    const epoch = this.epoch;
    const lane = await this.acquire(signal);
    try {
      // A read asked for before `dispose` ends with it, even one whose lane came free meanwhile.
      if (epoch !== this.epoch) throw cancelled();
      return await this.run(lane, { path: imagePath, regions }, signal);
    } finally {
      this.release(lane);
    }
  }

  async dispose(): Promise<void> {
    this.epoch++;
    const workers = this.lanes.map((lane) => lane.worker);
    for (const lane of this.lanes) lane.worker = undefined;
    for (const waiter of this.waiting.splice(0)) waiter.fail(cancelled());
    this.failAll(cancelled());
    await Promise.all(workers.map((worker) => worker?.terminate()));
  }

  /** An idle lane, one whose worker has started first; or the next to come free. */
  private acquire(signal: AbortSignal | undefined): Promise<Lane> {
    const idle = this.lanes.find((lane) => !lane.busy && lane.worker) ?? this.lanes.find((lane) => !lane.busy);
    if (idle) {
      idle.busy = true;
      return Promise.resolve(idle);
    }
    return new Promise<Lane>((resolve, reject) => {
      const waiter: Waiter = {
        take: (lane) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(lane);
        },
        fail: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      const onAbort = () => {
        const at = this.waiting.indexOf(waiter);
        if (at >= 0) this.waiting.splice(at, 1);
        reject(cancelled());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  private release(lane: Lane): void {
    const next = this.waiting.shift();
    if (next) next.take(lane);
    else lane.busy = false;
  }

  private run(lane: Lane, job: Omit<OcrJob, 'id'>, signal: AbortSignal | undefined): Promise<OcrLine[]> {
    throwIfAborted(signal);
    const worker = this.start(lane);
    const id = this.nextId++;
    return new Promise<OcrLine[]>((resolve, reject) => {
      const onAbort = () => {
        reject(cancelled());
        this.pending.delete(id);
        if (lane.worker === worker) lane.worker = undefined;
        void worker.terminate();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        lane,
        resolve: (lines) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(lines);
        },
        reject: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(new RefigureError('input', `Reading the text of ${basename(job.path)} failed: ${error.message}`, undefined, { cause: error }));
        },
      });
      worker.ref();
      worker.postMessage({ id, ...job } satisfies OcrJob);
    });
  }

  private start(lane: Lane): Worker {
    if (lane.worker) return lane.worker;
    const script = join(this.assetsDir, 'ocrWorker.js');
    const langPath = join(this.assetsDir, 'tessdata');
    if (!existsSync(script) || !existsSync(join(langPath, 'eng.traineddata.gz'))) {
      throw new RefigureError('environment', `Refigure's OCR files are missing from ${this.assetsDir}.`, 'Rebuild Refigure (npm run build) or reinstall the extension.');
    }
    const worker = new Worker(script, { workerData: { langPath } satisfies OcrWorkerData });
    worker.on('message', (reply: OcrReply) => {
      const job = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      // An idle worker must not keep a command-line run alive.
      worker.unref();
      if (!job) return;
      if (reply.ok) job.resolve(reply.lines);
      else job.reject(new Error(reply.error));
    });
    worker.on('error', (error) => {
      if (lane.worker === worker) lane.worker = undefined;
      this.failAll(error, lane);
    });
    worker.on('exit', () => {
      if (lane.worker === worker) lane.worker = undefined;
    });
    worker.unref();
    lane.worker = worker;
    return worker;
  }

  private failAll(error: Error, lane?: Lane): void {
    for (const [id, job] of [...this.pending]) {
      if (lane && job.lane !== lane) continue;
      this.pending.delete(id);
      job.reject(error);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// From Tesseract's words to text items.

/** Characters OCR puts for the symbols figures use, and stray marks it reads from lines and markers. */
const symbolFixes: [RegExp, string][] = [
  [/[º˚]/g, '°'],
  [/[‘’`´]/g, "'"],
  [/[“”]/g, '"'],
  [/ﬁ/g, 'fi'],
  [/ﬂ/g, 'fl'],
];
const edgeJunk = /^[|_~¦«»"'“”‘’\-—–=.,:;]+|[|_~¦«»"“”‘\-—–=,:;]+$/g;

/** A word's text with OCR's symbol confusions mended and stray marks at its ends removed. */
export function cleanWord(text: string): string {
  let t = text.normalize('NFC');
  for (const [pattern, replacement] of symbolFixes) t = t.replace(pattern, replacement);
  // A minus before a number is read as a hyphen or dash: keep it as the minus sign.
  const signed = /^[-—–−](?=\d|\.\d)/.test(t);
  t = t.replace(edgeJunk, '');
  // "x = 3": keep an equals sign that stands alone between words.
  if (text === '=') return '=';
  if (signed && t) t = '−' + t.replace(/^[-—–−]/, '');
  // A prime after a number (feet, minutes of arc).
  t = t.replace(/(\d)'$/, '$1′');
  return t;
}

const letterOrDigit = /[\p{L}\p{N}]/u;

function meaningful(text: string, confidence: number): boolean {
  if (!letterOrDigit.test(text) && !/[°±=%π]/.test(text)) return false;
  if (text.length === 1) return confidence >= 60;
  return confidence >= 40;
}

interface Draft {
  words: OcrWord[];
  rotated: boolean;
}

function splitAtGaps(line: OcrLine): Draft[] {
  const words = line.words
    .map((w) => ({ ...w, text: cleanWord(w.text) }))
    .filter((w) => w.text.length > 0 && (w.text === '=' || meaningful(w.text, w.confidence)));
  if (!words.length) return [];
  // Along the text: x for upright lines, upwards (−y) for rotated ones.
  const along = (w: OcrWord) => (line.rotated ? -w.y1 : w.x0);
  const end = (w: OcrWord) => (line.rotated ? -w.y0 : w.x1);
  const size = (w: OcrWord) => (line.rotated ? w.x1 - w.x0 : w.y1 - w.y0);
  words.sort((a, b) => along(a) - along(b));
  const drafts: Draft[] = [{ words: [words[0]!], rotated: line.rotated }];
  for (const w of words.slice(1)) {
    const current = drafts[drafts.length - 1]!;
    const prev = current.words[current.words.length - 1]!;
    const gap = along(w) - end(prev);
    if (gap > 0.8 * Math.max(size(prev), size(w))) drafts.push({ words: [w], rotated: line.rotated });
    else current.words.push(w);
  }
  // An equals sign left alone at an end belongs to nothing.
  return drafts
    .map((d) => ({ ...d, words: trimEquals(d.words) }))
    .filter((d) => d.words.length > 0);
}

function trimEquals(words: OcrWord[]): OcrWord[] {
  let s = 0, e = words.length;
  while (s < e && words[s]!.text === '=') s++;
  while (e > s && words[e - 1]!.text === '=') e--;
  return words.slice(s, e);
}

function toItem(d: Draft): TextItem {
  const x0 = Math.min(...d.words.map((w) => w.x0)), y0 = Math.min(...d.words.map((w) => w.y0));
  const x1 = Math.max(...d.words.map((w) => w.x1)), y1 = Math.max(...d.words.map((w) => w.y1));
  const confidence = d.words.reduce((sum, w) => sum + w.confidence, 0) / d.words.length / 100;
  const item: TextItem = {
    text: d.words.map((w) => w.text).join(' '),
    box: { x: round1(x0), y: round1(y0), width: round1(x1 - x0), height: round1(y1 - y0) },
    confidence: Math.round(confidence * 1000) / 1000,
  };
  if (d.rotated) item.rotated = true;
  return item;
}

const round1 = (v: number) => Math.round(v * 10) / 10;

function overlapShare(a: TextBox, b: TextBox): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  if (w <= 0 || h <= 0) return 0;
  return (w * h) / Math.max(1, Math.min(a.width * a.height, b.width * b.height));
}

const weight = (item: TextItem) => item.confidence * (item.text.match(/[\p{L}\p{N}]/gu)?.length ?? 0);

/**
 * Text items from the worker's lines: words grouped into lines split at wide gaps, OCR's symbol
 * confusions mended, and the vertical reading kept only where it reads better than the upright one.
 */
export function textItemsFromLines(lines: OcrLine[]): TextItem[] {
  const upright: TextItem[] = [];
  const vertical: TextItem[] = [];
  for (const line of lines) {
    for (const draft of splitAtGaps(line)) {
      const item = toItem(draft);
      if (!draft.rotated) upright.push(item);
      // Read turned, horizontal text and glyph fragments come out as short confident noise: keep only
      // readings that are tall in the original, at least two characters and sure.
      else if (item.box.height >= 1.5 * item.box.width && (item.text.match(/[\p{L}\p{N}]/gu)?.length ?? 0) >= 2 && item.confidence >= 0.8)
        vertical.push(item);
    }
  }
  const dropped = new Set<TextItem>();
  const kept: TextItem[] = [];
  for (const v of vertical) {
    const rivals = upright.filter((u) => overlapShare(u.box, v.box) > 0.3);
    if (weight(v) > rivals.reduce((sum, u) => sum + weight(u), 0)) {
      for (const u of rivals) dropped.add(u);
      kept.push(v);
    }
  }
  return [...upright.filter((u) => !dropped.has(u)), ...kept].sort((a, b) => a.box.y - b.box.y || a.box.x - b.box.x);
}
