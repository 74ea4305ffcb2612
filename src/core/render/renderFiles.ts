// What the render side leaves behind is untrusted: fixed names only, never through a link, regular files
// only, size-capped, and PNGs checked for their signature and pixel count before anything uses them.
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { RefigureError } from '../errors';
import type { ExportFormat } from '../types';

/** The largest render or difference map a worker writes: 2 × 4096² pixels, and its bytes. */
export const maxRenderPixels = 2 * 4096 * 4096;
export const maxRenderBytes = 128 * 1024 * 1024;
const pngSignature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The bytes of a regular file, opened without following a link or blocking on a FIFO. */
export async function readRegularFile(path: string, limit: number, what: string): Promise<Buffer> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    throw new RefigureError('render', `The ${what} cannot be read: ${(error as NodeJS.ErrnoException).code ?? String(error)}.`);
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new RefigureError('render', `The ${what} is not a regular file.`);
    if (stat.size > limit) throw new RefigureError('render', `The ${what} is ${stat.size} bytes, more than the ${limit} allowed.`);
    const bytes = Buffer.alloc(stat.size);
    const { bytesRead } = await handle.read(bytes, 0, stat.size, 0);
    return bytes.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** Width and height from a PNG's header, after checking that it is a PNG within the pixel cap. */
export function checkPng(bytes: Buffer, what: string): { width: number; height: number } {
  if (bytes.length < 24 || !bytes.subarray(0, 8).equals(pngSignature) || bytes.toString('latin1', 12, 16) !== 'IHDR') {
    throw new RefigureError('render', `The ${what} is not a PNG image.`);
  }
  const width = bytes.readUInt32BE(16);
  const height = bytes.readUInt32BE(20);
  if (width === 0 || height === 0 || width * height > maxRenderPixels) {
    throw new RefigureError('render', `The ${what} declares ${width} × ${height} pixels, which no render has.`);
  }
  return { width, height };
}

/** The largest vector export (SVG or PDF) taken from a render. */
export const maxExportBytes = 32 * 1024 * 1024;

/**
 * A vector export must be a figure and nothing that acts: an SVG without scripts, event handlers, foreign
 * objects, animation or references outside itself (embedded PNGs excepted); a PDF without actions,
 * JavaScript, links, embedded files or object streams (which would hide dictionaries from this check).
 * matplotlib writes none of these for a figure; code that makes them is refused, with what was found.
 */
export function checkVector(bytes: Buffer, format: ExportFormat): void {
  const refuse = (why: string) => {
    throw new RefigureError('render', `The ${format.toUpperCase()} export ${why}; it was not written.`);
  };
  if (format === 'pdf') {
    if (bytes.toString('latin1', 0, 5) !== '%PDF-') refuse('is not a PDF');
    // Page content is compressed: only the dictionaries outside streams are read.
    const dictionaries = bytes.toString('latin1').replace(/stream\r?\n[\s\S]*?endstream/g, '');
    const active = /\/(JavaScript|JS|Launch|EmbeddedFiles?|OpenAction|AA|URI|SubmitForm|ImportData|RichMedia|GoToR|GoToE|ObjStm)\b/.exec(dictionaries);
    if (active) refuse(`carries /${active[1]}`);
    return;
  }
  // Embedded images are base64, which a check for attributes could misread; comments (matplotlib writes each
  // text there) are inert.
  const text = bytes
    .toString('utf8')
    .replace(/data:image\/(?:png|jpeg);base64,[A-Za-z0-9+/=\s]*/g, 'data:')
    .replace(/<!--[\s\S]*?-->/g, '');
  if (!/^\uFEFF?\s*(?:<\?xml[^>]*\?>\s*)?(?:<!DOCTYPE svg[^>]*>\s*)?<svg[\s>]/.test(text)) refuse('is not an SVG');
  // Only markup is read: what a figure's labels say is the figure's business.
  const markup = [...text.matchAll(/<[^>]*>/g)].map((m) => m[0]).join('\n');
  const styles = [...text.matchAll(/<style\b[^>]*>([\s\S]*?)<\/style>/gi)].map((m) => m[1]).join('\n');
  const active =
    /<\s*(script|foreignObject|iframe|embed|object|handler|animate\w*|set)\b/i.exec(markup) ??
    /\s(on[a-z]+)\s*=/i.exec(markup) ??
    /(javascript:)/i.exec(markup) ??
    /((?:href|src)\s*=\s*["'](?!#|data:["']))/i.exec(markup) ??
    /(url\(\s*["']?(?!#))/i.exec(`${markup}\n${styles}`) ??
    /(@import)/i.exec(styles);
  if (active) refuse(`contains ${active[1]}`);
}

/** Reads a PNG the worker wrote under a fixed name, with every check above. */
export async function readRenderPng(path: string, what: string): Promise<{ bytes: Buffer; width: number; height: number }> {
  const bytes = await readRegularFile(path, maxRenderBytes, what);
  return { bytes, ...checkPng(bytes, what) };
}

/** Writes `bytes` to `path`, replacing a file there but never writing through a link. */
export async function writeOutput(path: string, bytes: Buffer): Promise<void> {
  const handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o644);
  try {
    await handle.writeFile(bytes);
  } finally {
    await handle.close();
  }
}
