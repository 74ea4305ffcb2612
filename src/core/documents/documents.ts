// Captions in Markdown and LaTeX documents: alt text of `![alt](path)` and `\caption{…}` in the figure around `\includegraphics{path}`, as text edits.
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import { findImageLinks, toAltText } from './markdownImage';
import { rasterImageExtensions } from '../reconstruct/imagePick';

/** A replacement of `text.slice(start, end)` by `newText`; offsets are into the document's text as given. */
export interface TextEdit {
  start: number;
  end: number;
  newText: string;
}

export interface DocumentTarget {
  /** Absolute path of the document (relative image paths are resolved against its folder). */
  documentPath: string;
  /** Absolute path of the figure's image. */
  imagePath: string;
}

/**
 * The edit that sets the alt text of an image's Markdown link to `caption`: the link at `offset` when it still
 * points at the image, else the first one that does. Links inside fenced code are text, never figures.
 */
export function markdownAltTextEdit(
  text: string,
  where: { offset?: number; pointsAtImage(destination: string): boolean },
  caption: string,
): TextEdit | undefined {
  let first: TextEdit | undefined;
  let lineStart = 0;
  let fence: string | undefined;
  for (const line of text.split('\n')) {
    const fenceMatch = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (fenceMatch) {
      const marker = fenceMatch[1] as string;
      if (!fence) fence = marker;
      else if (marker[0] === fence[0] && marker.length >= fence.length) fence = undefined;
    } else if (!fence) {
      for (const link of findImageLinks(line)) {
        if (!where.pointsAtImage(link.path)) continue;
        const edit = { start: lineStart + link.altStart, end: lineStart + link.altEnd, newText: toAltText(caption) };
        if (where.offset !== undefined && where.offset >= lineStart + link.start && where.offset <= lineStart + link.end) return edit;
        first ??= edit;
      }
    }
    lineStart += line.length + 1;
  }
  return first;
}

export type LatexCaptionOutcome =
  /** An existing `\caption{…}` of the figure gets the new text. */
  | { kind: 'replace'; edit: TextEdit }
  /** The figure had no caption: one is inserted under the `\includegraphics`. */
  | { kind: 'insert'; edit: TextEdit }
  /** The image is included outside any figure environment, where `\caption` is an error. */
  | { kind: 'no-figure' }
  /** No `\includegraphics` in the document names the image. */
  | { kind: 'not-found' };

const figureEnvironments = new Set(['figure', 'figure*', 'subfigure', 'wrapfigure', 'SCfigure', 'sidewaysfigure', 'sidewaysfigure*']);

/**
 * The edit that puts `caption` into the figure environment around the first `\includegraphics` of `imagePath`
 * (paths as LaTeX resolves them: relative to the document or a `\graphicspath` folder, extension optional).
 */
export function latexCaptionEdit(text: string, target: DocumentTarget, caption: string): LatexCaptionOutcome {
  const masked = maskLatexComments(text);
  const include = findInclude(masked, target);
  if (!include) return { kind: 'not-found' };
  const env = enclosingFigure(masked, include.start);
  if (!env) return { kind: 'no-figure' };
  const body = escapeLatex(caption.replace(/\s+/g, ' ').trim());
  const existing = findCaption(masked, env.bodyStart, env.bodyEnd);
  if (existing) return { kind: 'replace', edit: { start: existing.argStart, end: existing.argEnd, newText: body } };
  const lineStart = text.lastIndexOf('\n', include.start - 1) + 1;
  const indent = /^[ \t]*/.exec(text.slice(lineStart))?.[0] ?? '';
  const lineEndAt = text.indexOf('\n', include.end);
  const lineEnd = lineEndAt === -1 ? text.length : lineEndAt;
  const restOfLine = masked.slice(include.end, lineEnd);
  if (restOfLine.trim() === '') {
    return { kind: 'insert', edit: { start: lineEnd, end: lineEnd, newText: `\n${indent}\\caption{${body}}` } };
  }
  return { kind: 'insert', edit: { start: include.end, end: include.end, newText: `\\caption{${body}}` } };
}

/** Text that LaTeX typesets as written: its special characters escaped. */
export function escapeLatex(text: string): string {
  const replacements: Record<string, string> = {
    '\\': '\\textbackslash{}',
    '{': '\\{',
    '}': '\\}',
    $: '\\$',
    '&': '\\&',
    '#': '\\#',
    '%': '\\%',
    _: '\\_',
    '~': '\\textasciitilde{}',
    '^': '\\textasciicircum{}',
  };
  return text.replace(/[\\{}$&#%_~^]/g, (ch) => replacements[ch] as string);
}

/** The text with LaTeX comments blanked out (same length, so offsets stay valid). */
function maskLatexComments(text: string): string {
  return text.replace(/(^|[^\\])((?:\\\\)*)%[^\n]*/g, (match, before: string, slashes: string) => {
    const kept = before.length + slashes.length;
    return match.slice(0, kept) + ' '.repeat(match.length - kept);
  });
}

interface Include {
  start: number;
  end: number;
  /** Where LaTeX would look for the file: the reference resolved against the document's folder and each `\graphicspath`. */
  candidates: string[];
}

function* includes(masked: string, documentPath: string): Generator<Include> {
  const baseDir = dirname(documentPath);
  const folders = [baseDir, ...graphicsPaths(masked).map((folder) => resolve(baseDir, folder))];
  const pattern = /\\includegraphics\*?\s*(?:\[[^\]]*\]\s*)?\{([^}]*)\}/g;
  for (let match = pattern.exec(masked); match; match = pattern.exec(masked)) {
    const ref = (match[1] as string).trim().replace(/^"(.*)"$/, '$1');
    if (!ref) continue;
    const candidates = isAbsolute(ref) ? [ref] : folders.map((folder) => resolve(folder, ref));
    yield { start: match.index, end: match.index + match[0].length, candidates };
  }
}

function findInclude(masked: string, target: DocumentTarget): Include | undefined {
  const wanted = resolve(target.imagePath);
  const wantedBare = wanted.slice(0, wanted.length - extname(wanted).length);
  for (const include of includes(masked, target.documentPath)) {
    if (include.candidates.some((c) => c === wanted || (extname(c) === '' && c === wantedBare))) return include;
  }
  return undefined;
}

/** Extensions tried, in order, for `\includegraphics{name}` without one (the raster formats Refigure reads). */
const latexImageExtensions = rasterImageExtensions.map((extension) => `.${extension}`);

/**
 * The image file of the `\includegraphics{…}` under `offset`, found as LaTeX finds it (the document's folder,
 * then each `\graphicspath` folder; the extension may be left out); undefined when the cursor is on none.
 */
export function latexImageAt(text: string, offset: number, documentPath: string, exists: (path: string) => boolean): string | undefined {
  const masked = maskLatexComments(text);
  for (const include of includes(masked, documentPath)) {
    if (offset < include.start || offset > include.end) continue;
    for (const candidate of include.candidates) {
      const tries = extname(candidate) ? [candidate] : latexImageExtensions.map((ext) => candidate + ext);
      const found = tries.find(exists);
      if (found) return found;
    }
    return undefined;
  }
  return undefined;
}

function graphicsPaths(masked: string): string[] {
  const match = /\\graphicspath\s*\{((?:\s*\{[^}]*\})*)\s*\}/.exec(masked);
  if (!match) return [];
  return [...(match[1] as string).matchAll(/\{([^}]*)\}/g)].map((m) => m[1] as string);
}

function enclosingFigure(masked: string, offset: number): { bodyStart: number; bodyEnd: number } | undefined {
  const stack: { name: string; bodyStart: number }[] = [];
  const pattern = /\\(begin|end)\s*\{([^}]*)\}/g;
  let innermost: { bodyStart: number; bodyEnd: number } | undefined;
  for (let match = pattern.exec(masked); match; match = pattern.exec(masked)) {
    const name = (match[2] as string).trim();
    if (match[1] === 'begin') {
      stack.push({ name, bodyStart: match.index + match[0].length });
      continue;
    }
    const at = stack.map((entry) => entry.name).lastIndexOf(name);
    if (at === -1) continue;
    const open = stack[at] as { name: string; bodyStart: number };
    stack.length = at;
    if (figureEnvironments.has(name) && open.bodyStart <= offset && offset < match.index) {
      // Environments close inside out, so the first figure that closes around the offset is the innermost one.
      if (!innermost) innermost = { bodyStart: open.bodyStart, bodyEnd: match.index };
    }
  }
  return innermost;
}

/** A `\caption[short]{…}` at the top level of the figure body (not in a nested subfigure). */
function findCaption(masked: string, bodyStart: number, bodyEnd: number): { argStart: number; argEnd: number } | undefined {
  const body = masked.slice(bodyStart, bodyEnd);
  let depth = 0;
  const pattern = /\\(begin|end)\s*\{([^}]*)\}|\\caption(?![a-zA-Z@])\*?/g;
  for (let match = pattern.exec(body); match; match = pattern.exec(body)) {
    if (match[1] === 'begin') {
      if (figureEnvironments.has((match[2] as string).trim())) depth++;
      continue;
    }
    if (match[1] === 'end') {
      if (figureEnvironments.has((match[2] as string).trim())) depth--;
      continue;
    }
    if (depth !== 0) continue;
    let k = match.index + match[0].length;
    while (/\s/.test(body[k] ?? '')) k++;
    if (body[k] === '[') {
      const close = closing(body, k, '[', ']');
      if (close === -1) return undefined;
      k = close + 1;
      while (/\s/.test(body[k] ?? '')) k++;
    }
    if (body[k] !== '{') return undefined;
    const close = closing(body, k, '{', '}');
    if (close === -1) return undefined;
    return { argStart: bodyStart + k + 1, argEnd: bodyStart + close };
  }
  return undefined;
}

function closing(text: string, open: number, opener: string, closer: string): number {
  let depth = 0;
  for (let k = open; k < text.length; k++) {
    const ch = text[k];
    if (ch === '\\') {
      k++;
      continue;
    }
    if (ch === opener) depth++;
    else if (ch === closer) {
      depth--;
      if (depth === 0) return k;
    }
  }
  return -1;
}
