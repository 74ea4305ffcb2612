// Jupyter notebooks (.ipynb, nbformat 4): the figures they hold, Refigure's caption cells, and edits that keep the file's own formatting.
import { createHash, randomBytes } from 'node:crypto';
import type { CaptionStyle } from '../types';
import { RefigureError, describeError } from '../errors';
import { findImageLinks, toAltText } from './markdownImage';
import { isRecord } from '../../shared/values';

export type MultilineString = string | string[];

export interface NotebookOutput {
  output_type: string;
  data?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface NotebookCell {
  cell_type: string;
  id?: string;
  metadata: Record<string, unknown>;
  source: MultilineString;
  outputs?: NotebookOutput[];
  execution_count?: number | null;
  attachments?: Record<string, Record<string, unknown>>;
  [key: string]: unknown;
}

export interface NotebookJson {
  cells: NotebookCell[];
  metadata: Record<string, unknown>;
  nbformat: number;
  nbformat_minor: number;
  [key: string]: unknown;
}

/** The marker Refigure puts in `metadata.refigure` of the cells it inserts, so a second run replaces them. */
export interface RefigureMark {
  captionFor: string;
  style?: CaptionStyle;
  kind?: 'caption' | 'code';
}

export const imageOutputTypes = ['image/png', 'image/jpeg', 'image/svg+xml'] as const;
export type ImageMime = (typeof imageOutputTypes)[number];

/** A figure in a notebook; `id` is stable across runs as long as the cell that holds it keeps its id (or, without ids, its source). */
export type NotebookFigure =
  | { kind: 'output'; id: string; cellIndex: number; outputIndex: number; mime: ImageMime; alt?: string }
  | { kind: 'attachment'; id: string; cellIndex: number; linkIndex: number; name: string; mime: string; alt: string; altStart: number; altEnd: number }
  | { kind: 'markdown'; id: string; cellIndex: number; linkIndex: number; path: string; alt: string; altStart: number; altEnd: number };

/** A notebook read from text, with what is needed to write it back the way it was written. */
export interface ParsedNotebook {
  json: NotebookJson;
  /** The text without a byte-order mark; `bom` is the mark when the file had one. */
  text: string;
  bom: string;
  layout: Layout;
}

interface Layout {
  /** One level of indentation as the file uses it ('' when the file is on one line). */
  indent: string;
  newline: string;
  /** Spans of the `cells` array and of each cell in `text`. */
  cellsStart: number;
  cellsEnd: number;
  cellSpans: Span[];
}

interface Span {
  start: number;
  end: number;
}

/** Parses and checks an .ipynb text; `name` is used in messages. Throws RefigureError('input') on anything that is not an nbformat 4 notebook. */
export function parseNotebook(text: string, name = 'The notebook'): ParsedNotebook {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (body.trim() === '') throw new RefigureError('input', `${name} is empty.`, 'Give a Jupyter notebook (.ipynb) saved by Jupyter or VS Code.');
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    throw new RefigureError(
      'input',
      `${name} is not JSON (${describeError(error)}), so it is not a Jupyter notebook.`,
      'Give an .ipynb file saved by Jupyter or VS Code; a .py or Markdown notebook must be converted first (e.g. `jupytext --to ipynb`).',
    );
  }
  const json = checkNotebook(value, name);
  return { json, text: body, bom: body === text ? '' : '\ufeff', layout: scanLayout(body) };
}

function checkNotebook(value: unknown, name: string): NotebookJson {
  if (!isRecord(value)) throw new RefigureError('input', `${name} is JSON but not a notebook: its top level is not an object.`);
  const nbformat = value.nbformat;
  if (typeof nbformat !== 'number') {
    throw new RefigureError('input', `${name} is JSON but not a Jupyter notebook: it has no "nbformat" version.`, 'Give an .ipynb file saved by Jupyter or VS Code.');
  }
  if (nbformat !== 4) {
    throw new RefigureError(
      'input',
      `${name} is an nbformat ${nbformat} notebook; Refigure reads nbformat 4 only.`,
      nbformat < 4 ? 'Convert it first: `jupyter nbconvert --to notebook --nbformat 4 --output NEW.ipynb OLD.ipynb`.' : 'Save it with a Jupyter version that writes nbformat 4.',
    );
  }
  if (typeof value.nbformat_minor !== 'number') throw new RefigureError('input', `${name} has no "nbformat_minor" version.`);
  if (!Array.isArray(value.cells)) throw new RefigureError('input', `${name} has no "cells" list.`);
  if (!isRecord(value.metadata)) throw new RefigureError('input', `${name} has no "metadata" object.`);
  value.cells.forEach((cell: unknown, index: number) => {
    const where = `Cell ${index + 1} of ${name.replace(/^The /, 'the ')}`;
    if (!isRecord(cell)) throw new RefigureError('input', `${where} is not an object.`);
    if (typeof cell.cell_type !== 'string') throw new RefigureError('input', `${where} has no "cell_type".`);
    if (!isMultiline(cell.source)) throw new RefigureError('input', `${where} has no "source" text.`);
    if (!isRecord(cell.metadata)) throw new RefigureError('input', `${where} has no "metadata" object.`);
    if (cell.cell_type === 'code' && !Array.isArray(cell.outputs)) throw new RefigureError('input', `${where} is a code cell without "outputs".`);
  });
  return value as NotebookJson;
}

// ── figures ──────────────────────────────────────────────────────────────────

/** Every image output and every Markdown image (linked file or attachment) of the notebook, in reading order. */
export function findFigures(notebook: NotebookJson): NotebookFigure[] {
  const figures: NotebookFigure[] = [];
  notebook.cells.forEach((cell, cellIndex) => {
    const key = cellKey(cell);
    if (cell.cell_type === 'code') {
      (cell.outputs ?? []).forEach((output, outputIndex) => {
        const mime = imageMimeOf(output);
        if (!mime) return;
        const alt = outputAlt(output, mime);
        figures.push({ kind: 'output', id: `${key}/output/${outputIndex}`, cellIndex, outputIndex, mime, ...(alt !== undefined ? { alt } : {}) });
      });
    } else if (cell.cell_type === 'markdown') {
      markdownImages(joinSource(cell.source)).forEach((link, n) => {
        const id = `${key}/image/${n}`;
        const attachment = /^attachment:(.+)$/.exec(link.path);
        if (attachment) {
          const name = attachment[1] as string;
          const bundle = cell.attachments?.[name];
          const mime = bundle ? Object.keys(bundle).find((m) => m.startsWith('image/')) : undefined;
          if (!mime) return; // a dangling attachment reference shows nothing in Jupyter either
          figures.push({ kind: 'attachment', id, cellIndex, linkIndex: n, name, mime, alt: link.alt, altStart: link.altStart, altEnd: link.altEnd });
        } else {
          figures.push({ kind: 'markdown', id, cellIndex, linkIndex: n, path: link.path, alt: link.alt, altStart: link.altStart, altEnd: link.altEnd });
        }
      });
    }
  });
  return figures;
}

/** Where a figure is, in words a user recognises: "cell 3, output 1 (image/png)". */
export function describeFigure(figure: NotebookFigure): string {
  const cell = `cell ${figure.cellIndex + 1}`;
  switch (figure.kind) {
    case 'output':
      return `${cell}, output ${figure.outputIndex + 1} (${figure.mime})`;
    case 'attachment':
      return `${cell}, attachment ${figure.name}`;
    case 'markdown':
      return `${cell}, image ${figure.path}`;
  }
}

/** The image bytes of an output or attachment figure, checked to be what their media type says. */
export function figureBytes(notebook: NotebookJson, figure: NotebookFigure): { bytes: Buffer; mime: string; extension: string } {
  if (figure.kind === 'markdown') throw new Error('A linked Markdown image has no bytes in the notebook.');
  const cell = notebook.cells[figure.cellIndex];
  const raw =
    figure.kind === 'output'
      ? cell?.outputs?.[figure.outputIndex]?.data?.[figure.mime]
      : cell?.attachments?.[figure.name]?.[figure.mime];
  const mime = figure.mime;
  const where = describeFigure(figure);
  const fix = 'Re-run the cell (or clear its output) and save the notebook again.';
  if (!isMultiline(raw)) throw new RefigureError('input', `The image in ${where} has no data.`, fix);
  const text = joinSource(raw);
  if (mime === 'image/svg+xml') {
    if (!/<svg[\s>]/.test(text)) throw new RefigureError('input', `The SVG in ${where} does not contain an <svg> element.`, fix);
    return { bytes: Buffer.from(text, 'utf8'), mime, extension: 'svg' };
  }
  const compact = text.replace(/\s+/g, '');
  if (compact === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact) || compact.length % 4 === 1) {
    throw new RefigureError('input', `The image in ${where} is not valid base64, so it does not decode.`, fix);
  }
  const bytes = Buffer.from(compact, 'base64');
  const sniffed = sniffImage(bytes);
  if (!sniffed) throw new RefigureError('input', `The image in ${where} decodes to ${bytes.length} bytes that are not a PNG, JPEG, GIF or WebP image.`, fix);
  if (figure.kind === 'output' && sniffed.mime !== mime) {
    throw new RefigureError('input', `The image in ${where} is labelled ${mime} but its bytes are ${sniffed.mime}.`, fix);
  }
  return { bytes, mime: sniffed.mime, extension: sniffed.extension };
}

function sniffImage(bytes: Buffer): { mime: string; extension: string } | undefined {
  if (bytes.length >= 8 && bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return { mime: 'image/png', extension: 'png' };
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return { mime: 'image/jpeg', extension: 'jpg' };
  if (bytes.length >= 6 && /^GIF8[79]a$/.test(bytes.subarray(0, 6).toString('latin1'))) return { mime: 'image/gif', extension: 'gif' };
  if (bytes.length >= 12 && bytes.subarray(0, 4).toString('latin1') === 'RIFF' && bytes.subarray(8, 12).toString('latin1') === 'WEBP') return { mime: 'image/webp', extension: 'webp' };
  return undefined;
}

function imageMimeOf(output: NotebookOutput): ImageMime | undefined {
  if (output.output_type !== 'display_data' && output.output_type !== 'execute_result') return undefined;
  if (!isRecord(output.data)) return undefined;
  const data = output.data;
  // Raster first: it is what the kernel drew; the SVG of the same figure is the fallback.
  return imageOutputTypes.find((mime) => data[mime] !== undefined);
}

function outputAlt(output: NotebookOutput, mime: string): string | undefined {
  const perMime = output.metadata?.[mime];
  return isRecord(perMime) && typeof perMime.alt === 'string' ? perMime.alt : undefined;
}

/** Inline image links of a Markdown text, with offsets into that text. */
export function markdownImages(text: string): { path: string; alt: string; altStart: number; altEnd: number }[] {
  const found: { path: string; alt: string; altStart: number; altEnd: number }[] = [];
  let lineStart = 0;
  for (const line of text.split('\n')) {
    for (const link of findImageLinks(line)) {
      found.push({ path: link.path, alt: link.alt, altStart: link.altStart + lineStart, altEnd: link.altEnd + lineStart });
    }
    lineStart += line.length + 1;
  }
  return found;
}

/** A key for a cell that survives re-execution: its id when the notebook has ids, else a hash of its source. */
export function cellKey(cell: Pick<NotebookCell, 'id' | 'source'>): string {
  if (typeof cell.id === 'string' && cell.id !== '') return `cell:${cell.id}`;
  return `src:${createHash('sha256').update(joinSource(cell.source)).digest('hex').slice(0, 12)}`;
}

// ── caption cells ────────────────────────────────────────────────────────────

/** Refigure's marker in a cell's metadata, if it has one. */
export function refigureMark(metadata: unknown): RefigureMark | undefined {
  if (!isRecord(metadata)) return undefined;
  const mark = metadata.refigure;
  if (!isRecord(mark) || typeof mark.captionFor !== 'string') return undefined;
  const style = mark.style === 'alt' || mark.style === 'caption' || mark.style === 'detailed' ? mark.style : undefined;
  const kind = mark.kind === 'code' ? 'code' : 'caption';
  return { captionFor: mark.captionFor, ...(style ? { style } : {}), kind };
}

/**
 * Where the cell Refigure adds for `figureId` goes: over its earlier one, or at the end of the run of Refigure
 * cells directly under the figure's cell (so the captions of one cell's several figures stay in order).
 */
export function captionSlot(
  marks: readonly (RefigureMark | undefined)[],
  figureCellIndex: number,
  figureId: string,
  kind: 'caption' | 'code' = 'caption',
): { replace: number } | { insert: number } {
  let index = figureCellIndex + 1;
  while (index < marks.length) {
    const mark = marks[index];
    if (!mark) break;
    if (mark.captionFor === figureId && (mark.kind ?? 'caption') === kind) return { replace: index };
    index++;
  }
  // An earlier caption that drifted away from its figure (the user moved cells) is still the one to replace.
  const elsewhere = marks.findIndex((mark) => mark?.captionFor === figureId && (mark.kind ?? 'caption') === kind);
  if (elsewhere !== -1) return { replace: elsewhere };
  return { insert: index };
}

/** Jupyter's way of storing text: a list of lines, each but the last ending in "\n". */
export function splitSource(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n').map((line) => `${line}\n`);
  const last = lines.length - 1;
  lines[last] = (lines[last] as string).slice(0, -1);
  if (lines[last] === '') lines.pop();
  return lines;
}

export function joinSource(source: MultilineString): string {
  return Array.isArray(source) ? source.join('') : source;
}

/** The Markdown text of a caption cell. */
export function captionMarkdown(caption: string, style: CaptionStyle): string {
  const text = caption.trim();
  return style === 'alt' ? text.replace(/\s+/g, ' ') : text;
}

/** Whether the notebook's cells carry ids (nbformat 4.5 and later require them; 4.4 and earlier forbid them). */
export function usesCellIds(notebook: Pick<NotebookJson, 'nbformat' | 'nbformat_minor'>): boolean {
  return notebook.nbformat > 4 || (notebook.nbformat === 4 && notebook.nbformat_minor >= 5);
}

export function newCellId(taken: ReadonlySet<string>): string {
  for (;;) {
    const id = randomBytes(6).toString('hex');
    if (!taken.has(id)) return id;
  }
}

// ── editing a notebook file ──────────────────────────────────────────────────

/**
 * Changes to a notebook read from text. Cells that are not touched are written back byte for byte;
 * new or changed cells are written as Jupyter writes them (sorted keys, the file's indentation).
 */
export class NotebookEditor {
  /** `original`: the cell's index in the notebook as read; `text`: its original text while unchanged. */
  private readonly cells: { cell: NotebookCell; text?: string; original?: number }[];
  private readonly takenIds: Set<string>;

  constructor(private readonly parsed: ParsedNotebook) {
    this.cells = parsed.json.cells.map((cell, i) => {
      const span = parsed.layout.cellSpans[i] as Span;
      return { cell, text: parsed.text.slice(span.start, span.end), original: i };
    });
    this.takenIds = new Set(parsed.json.cells.map((cell) => cell.id).filter((id): id is string => typeof id === 'string'));
  }

  /** The notebook as it is now (with the changes made so far). */
  get notebook(): NotebookJson {
    return { ...this.parsed.json, cells: this.cells.map((entry) => entry.cell) };
  }

  /** Inserts Refigure's caption cell for a figure, or replaces the earlier one; returns the index of the caption cell. */
  upsertCaption(figure: Pick<NotebookFigure, 'id' | 'cellIndex'>, caption: string, style: CaptionStyle): { index: number; replaced: boolean } {
    const text = captionMarkdown(caption, style);
    return this.upsert(figure, 'caption', (id) => sortedCell({
      cell_type: 'markdown',
      ...(id ? { id } : {}),
      metadata: { refigure: { captionFor: figure.id, style } },
      source: splitSource(text),
    }));
  }

  /** Inserts the reconstruction code as a code cell under the figure (or replaces the earlier one). */
  upsertCode(figure: Pick<NotebookFigure, 'id' | 'cellIndex'>, code: string): { index: number; replaced: boolean } {
    return this.upsert(figure, 'code', (id) => sortedCell({
      cell_type: 'code',
      execution_count: null,
      ...(id ? { id } : {}),
      metadata: { refigure: { captionFor: figure.id, kind: 'code' } },
      outputs: [],
      source: splitSource(code.replace(/\n+$/, '')),
    }));
  }

  /** Sets the alt text of a figure: in the Markdown link for images, in `metadata[mime].alt` for outputs. */
  setAltText(figure: NotebookFigure, alt: string): void {
    const index = this.indexOfCell(figure.cellIndex);
    const entry = this.cells[index] as { cell: NotebookCell; original?: number };
    if (figure.kind === 'output') {
      const outputs = (entry.cell.outputs ?? []).map((output, i) => {
        if (i !== figure.outputIndex) return output;
        const metadata = { ...(output.metadata ?? {}) };
        const perMime = isRecord(metadata[figure.mime]) ? { ...(metadata[figure.mime] as Record<string, unknown>) } : {};
        perMime.alt = alt.replace(/\s+/g, ' ').trim();
        metadata[figure.mime] = sortKeys(perMime);
        return { ...output, metadata: sortKeys(metadata) };
      });
      this.cells[index] = { cell: { ...entry.cell, outputs }, original: entry.original };
    } else {
      const source = joinSource(entry.cell.source);
      // Offsets are re-read from the current text: an earlier alt change in the same cell moved them.
      const link = markdownImages(source)[figure.linkIndex];
      if (!link) throw new Error(`The image ${figure.linkIndex + 1} of cell ${figure.cellIndex + 1} is no longer there.`);
      const next = source.slice(0, link.altStart) + toAltText(alt) + source.slice(link.altEnd);
      this.cells[index] = { cell: { ...entry.cell, source: Array.isArray(entry.cell.source) ? splitSource(next) : next }, original: entry.original };
    }
  }

  /** The notebook's text: the original text outside the cells list, each untouched cell as it was. */
  toText(): string {
    const { text, layout } = this.parsed;
    const { indent, newline } = layout;
    const cellIndent = newline ? indent.repeat(2) : '';
    const originalSeparator = layout.cellSpans.length >= 2
      ? text.slice((layout.cellSpans[0] as Span).end, (layout.cellSpans[1] as Span).start)
      : `,${newline}${cellIndent}`;
    const body = this.cells
      .map((entry) => entry.text ?? serialize(entry.cell, indent, newline, cellIndent))
      .join(originalSeparator);
    let head: string;
    let tail: string;
    if (layout.cellSpans.length > 0) {
      head = text.slice(0, (layout.cellSpans[0] as Span).start);
      tail = text.slice((layout.cellSpans[layout.cellSpans.length - 1] as Span).end);
    } else {
      head = text.slice(0, layout.cellsStart + 1) + (this.cells.length && newline ? `${newline}${cellIndent}` : '');
      tail = (this.cells.length && newline ? `${newline}${indent}` : '') + text.slice(layout.cellsEnd - 1);
    }
    return this.parsed.bom + head + body + tail;
  }

  private upsert(figure: Pick<NotebookFigure, 'id' | 'cellIndex'>, kind: 'caption' | 'code', make: (id: string | undefined) => NotebookCell) {
    const marks = this.cells.map((entry) => refigureMark(entry.cell.metadata));
    const slot = captionSlot(marks, this.indexOfCell(figure.cellIndex), figure.id, kind);
    if ('replace' in slot) {
      const previous = this.cells[slot.replace]?.cell;
      const cell = make(typeof previous?.id === 'string' ? previous.id : undefined);
      this.cells[slot.replace] = { cell };
      return { index: slot.replace, replaced: true };
    }
    const id = usesCellIds(this.parsed.json) ? newCellId(this.takenIds) : undefined;
    if (id) this.takenIds.add(id);
    this.cells.splice(slot.insert, 0, { cell: make(id) });
    return { index: slot.insert, replaced: false };
  }

  /** Cell indices in figures refer to the notebook as read; cells inserted since shift them. */
  private indexOfCell(originalIndex: number): number {
    const at = this.cells.findIndex((entry) => entry.original === originalIndex);
    if (at === -1) throw new Error(`Cell ${originalIndex + 1} is no longer in the notebook.`);
    return at;
  }
}

/** Serializes like Jupyter (`json.dumps(indent=…)`), continued lines indented to sit at `baseIndent`. */
function serialize(value: unknown, indent: string, newline: string, baseIndent: string): string {
  if (!newline) return JSON.stringify(value);
  return JSON.stringify(value, null, indent).split('\n').join(`${newline}${baseIndent}`);
}

function sortedCell(cell: NotebookCell): NotebookCell {
  return sortKeys(cell) as NotebookCell;
}

function sortKeys<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.keys(value).sort().map((key) => [key, value[key]])) as T;
}

// ── layout scan ──────────────────────────────────────────────────────────────

/** Finds the `cells` array and its elements in the text, and the indentation the file uses. */
function scanLayout(text: string): Layout {
  const scanner = new Scanner(text);
  scanner.ws();
  if (text[scanner.pos] !== '{') throw new Error('not an object');
  scanner.pos++;
  let layout: Layout | undefined;
  for (;;) {
    scanner.ws();
    if (text[scanner.pos] === '}') break;
    const key = scanner.string();
    scanner.ws();
    scanner.pos++; // ':'
    scanner.ws();
    if (key === 'cells' && text[scanner.pos] === '[') {
      const cellsStart = scanner.pos;
      const spans: Span[] = [];
      scanner.pos++;
      for (;;) {
        scanner.ws();
        if (text[scanner.pos] === ']') break;
        const start = scanner.pos;
        scanner.value();
        spans.push({ start, end: scanner.pos });
        scanner.ws();
        if (text[scanner.pos] === ',') scanner.pos++;
      }
      scanner.pos++;
      layout = { ...indentation(text), cellsStart, cellsEnd: scanner.pos, cellSpans: spans };
    } else {
      scanner.value();
    }
    scanner.ws();
    if (text[scanner.pos] === ',') scanner.pos++;
  }
  if (!layout) throw new Error('no cells');
  return layout;
}

function indentation(text: string): { indent: string; newline: string } {
  const match = /^\s*\{(\r?\n)([ \t]*)"/.exec(text);
  if (!match) return { indent: '', newline: '' };
  return { newline: match[1] as string, indent: (match[2] as string) || ' ' };
}

/** Skips JSON values in text already known to be valid JSON. */
class Scanner {
  pos = 0;
  constructor(private readonly text: string) {}

  ws(): void {
    while (this.pos < this.text.length && ' \t\r\n'.includes(this.text[this.pos] as string)) this.pos++;
  }

  string(): string {
    const start = this.pos;
    let i = this.pos + 1;
    for (;;) {
      const quote = this.text.indexOf('"', i);
      let backslashes = 0;
      for (let k = quote - 1; this.text[k] === '\\'; k--) backslashes++;
      i = quote + 1;
      if (backslashes % 2 === 0) break;
    }
    this.pos = i;
    return JSON.parse(this.text.slice(start, i)) as string;
  }

  value(): void {
    const ch = this.text[this.pos];
    if (ch === '"') {
      this.string();
      return;
    }
    if (ch === '{' || ch === '[') {
      const close = ch === '{' ? '}' : ']';
      this.pos++;
      for (;;) {
        this.ws();
        if (this.text[this.pos] === close) break;
        if (ch === '{') {
          this.string();
          this.ws();
          this.pos++;
          this.ws();
        }
        this.value();
        this.ws();
        if (this.text[this.pos] === ',') this.pos++;
      }
      this.pos++;
      return;
    }
    while (this.pos < this.text.length && !',}] \t\r\n'.includes(this.text[this.pos] as string)) this.pos++;
  }
}


function isMultiline(value: unknown): value is MultilineString {
  return typeof value === 'string' || (Array.isArray(value) && value.every((line) => typeof line === 'string'));
}
