// Reads a figure from disk, checks it honestly by its bytes, and encodes it for the model.
import { randomBytes } from 'node:crypto';
import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { RefigureError, throwIfAborted } from '../errors';
import type { ImageFormat, ImageInfo, ModelImage, Renderer } from '../types';

/** Pillow's hard decompression-bomb limit (twice its warning threshold). */
export const MAX_DECLARED_PIXELS = 178_956_970;
/** Largest side any of the formats we read can honestly carry, and Pillow's practical limit. */
export const MAX_SIDE = 65_535;
/** The model side's pixel cap (CodePercept / Qwen-VL serving, DESIGN.md §3). */
export const MAX_MODEL_PIXELS = 1_310_720;
/** Reading a file into memory to check it is bounded; no figure is this large. */
const MAX_FILE_BYTES = 512 * 1024 * 1024;

const mediaTypes: Record<ImageFormat, string> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  bmp: 'image/bmp',
  webp: 'image/webp',
  svg: 'image/svg+xml',
};

/** Formats the OpenAI-compatible vision APIs accept as they are. */
const modelFormats = new Set<ImageFormat>(['png', 'jpeg', 'gif', 'webp']);

/** What the header says beyond ImageInfo: things that decide whether the bytes can go to the model unchanged. */
interface Inspection {
  format: Exclude<ImageFormat, 'svg'>;
  /** Upright size (EXIF orientation applied). */
  width: number;
  height: number;
  /** Needs decoding and re-encoding before a model API will take it or show it upright. */
  reencode: string | undefined;
}

const exportHint = 'Export or save the figure again as PNG (or JPEG) and try that file.';

function inputError(message: string, hint: string = exportHint): RefigureError {
  return new RefigureError('input', message, hint);
}

/** Read and check an image file; the format comes from the bytes, never from the extension. */
export async function readImage(path: string, opts: { maxPixels?: number } = {}): Promise<ImageInfo> {
  const bytes = await readChecked(path);
  const found = inspect(path, bytes, opts.maxPixels ?? MAX_DECLARED_PIXELS);
  return {
    path,
    format: found.format,
    mediaType: mediaTypes[found.format],
    width: found.width,
    height: found.height,
    bytes: bytes.length,
  };
}

async function readChecked(path: string): Promise<Buffer> {
  let size: number;
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw inputError(`${path} is a folder, not an image file.`, 'Pick an image file inside it.');
    if (!info.isFile()) throw inputError(`${path} is not a regular file.`, 'Pick an image file (PNG, JPEG, GIF, BMP or WebP).');
    size = info.size;
  } catch (error) {
    if (error instanceof RefigureError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw inputError(`No file at ${path}.`, 'Check the path, or pick the image again.');
    if (code === 'EACCES' || code === 'EPERM') throw inputError(`${path} cannot be read (permission denied).`, 'Check the file permissions.');
    throw inputError(`${path} cannot be read: ${(error as Error).message}`, 'Check the path and try again.');
  }
  if (size === 0) throw inputError(`${path} is empty (0 bytes).`, 'The file was probably not written completely; export the figure again.');
  if (size > MAX_FILE_BYTES) {
    throw inputError(`${path} is ${(size / 1024 / 1024).toFixed(0)} MB, too large for a figure.`, 'Downscale or re-export it as PNG or JPEG.');
  }
  return readFile(path);
}

function inspect(path: string, b: Buffer, maxPixels: number): Inspection {
  const head = b.subarray(0, 16);
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return inspectPng(path, b, maxPixels);
  if (startsWith(head, [0xff, 0xd8, 0xff])) return inspectJpeg(path, b, maxPixels);
  if (head.toString('latin1', 0, 6) === 'GIF87a' || head.toString('latin1', 0, 6) === 'GIF89a') return inspectGif(path, b, maxPixels);
  if (head.toString('latin1', 0, 2) === 'BM' && b.length >= 26) return inspectBmp(path, b, maxPixels);
  if (head.toString('latin1', 0, 4) === 'RIFF' && head.toString('latin1', 8, 12) === 'WEBP') return inspectWebp(path, b, maxPixels);
  if (looksLikeSvg(b)) {
    // Refused before anything parses it, so nothing it references (images, fonts, stylesheets) is ever fetched.
    throw inputError(
      `${path} is an SVG; SVG figures are not supported yet.`,
      'Export it as PNG (for example with Inkscape or a browser) and reconstruct the PNG.',
    );
  }
  throw inputError(
    `${path} is not an image Refigure can read: its bytes look like ${describeBytes(b)}. ` +
      'The file extension does not decide the format; the bytes do.',
    'Use a PNG, JPEG, GIF, BMP or WebP file (export the figure again if needed).',
  );
}

function startsWith(b: Buffer, sig: number[]): boolean {
  return b.length >= sig.length && sig.every((v, i) => b[i] === v);
}

function checkSize(path: string, width: number, height: number, maxPixels: number): void {
  if (width <= 0 || height <= 0) {
    throw inputError(`${path} declares a ${width}×${height} image, which has no pixels.`, exportHint);
  }
  if (width > MAX_SIDE || height > MAX_SIDE || width * height > maxPixels) {
    throw inputError(
      `${path} declares ${width}×${height} pixels, which is too large (at most ${MAX_SIDE} per side and ${maxPixels.toLocaleString('en-US')} in all).`,
      'Downscale the figure (e.g. to at most 8192 pixels on its long side) and try again.',
    );
  }
}

function truncated(path: string, what: string): RefigureError {
  return inputError(`${path} is truncated or corrupt: ${what}.`, 'The file was probably cut short; export or download it again.');
}

function inspectPng(path: string, b: Buffer, maxPixels: number): Inspection {
  if (b.length < 33 || b.toString('latin1', 12, 16) !== 'IHDR') throw truncated(path, 'the PNG header (IHDR) is incomplete');
  const width = b.readUInt32BE(16);
  const height = b.readUInt32BE(20);
  checkSize(path, width, height, maxPixels);
  // Walk the chunks: a complete PNG has image data and ends with IEND, and no chunk runs past the end.
  let offset = 8;
  let sawData = false;
  for (;;) {
    if (offset + 12 > b.length) throw truncated(path, 'the PNG ends before its IEND chunk');
    const length = b.readUInt32BE(offset);
    const type = b.toString('latin1', offset + 4, offset + 8);
    if (offset + 12 + length > b.length) throw truncated(path, `the PNG's ${type} chunk is cut short`);
    if (type === 'IDAT') sawData = true;
    if (type === 'IEND') break;
    offset += 12 + length;
  }
  if (!sawData) throw truncated(path, 'the PNG has no image data (IDAT)');
  return { format: 'png', width, height, reencode: undefined };
}

const sofMarkers = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

function inspectJpeg(path: string, b: Buffer, maxPixels: number): Inspection {
  let offset = 2;
  let size: { width: number; height: number; components: number; precision: number } | undefined;
  let orientation = 1;
  let scanAt = -1;
  while (offset < b.length) {
    if (b[offset] !== 0xff) throw truncated(path, `the JPEG has no marker where one should be (byte ${offset})`);
    while (offset < b.length && b[offset] === 0xff) offset++;
    if (offset >= b.length) break;
    const marker = b[offset++];
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue;
    if (marker === 0xd9) break;
    if (offset + 2 > b.length) break;
    const length = b.readUInt16BE(offset);
    if (length < 2 || offset + length > b.length) throw truncated(path, 'a JPEG segment is cut short');
    if (sofMarkers.has(marker)) {
      if (length < 8) throw truncated(path, 'the JPEG frame header is incomplete');
      size = { precision: b[offset + 2], height: b.readUInt16BE(offset + 3), width: b.readUInt16BE(offset + 5), components: b[offset + 7] };
    } else if (marker === 0xe1 && b.toString('latin1', offset + 2, offset + 6) === 'Exif') {
      orientation = exifOrientation(b.subarray(offset + 8, offset + length)) ?? orientation;
    } else if (marker === 0xda) {
      scanAt = offset + length;
      break;
    }
    offset += length;
  }
  if (!size) throw truncated(path, 'the JPEG has no frame header (SOF), so its size is unknown');
  const upright = orientation >= 5 && orientation <= 8 ? { width: size.height, height: size.width } : { width: size.width, height: size.height };
  checkSize(path, upright.width, upright.height, maxPixels);
  if (scanAt < 0) throw truncated(path, 'the JPEG has no image data (SOS)');
  // The entropy-coded data ends with an EOI marker; some writers append trailing bytes after it, so search rather than test the last two bytes.
  if (b.lastIndexOf(Buffer.from([0xff, 0xd9])) < scanAt) throw truncated(path, 'the JPEG ends before its end-of-image marker');
  let reencode: string | undefined;
  if (orientation !== 1) reencode = 'EXIF orientation applied';
  else if (size.components === 4) reencode = 'CMYK converted to RGB';
  else if (size.precision !== 8) reencode = `${size.precision}-bit JPEG converted to 8-bit`;
  return { format: 'jpeg', ...upright, reencode };
}

/** The EXIF orientation tag (1–8) from a TIFF structure, if present. */
function exifOrientation(tiff: Buffer): number | undefined {
  if (tiff.length < 8) return undefined;
  const order = tiff.toString('latin1', 0, 2);
  if (order !== 'II' && order !== 'MM') return undefined;
  const le = order === 'II';
  const u16 = (o: number): number => (le ? tiff.readUInt16LE(o) : tiff.readUInt16BE(o));
  const u32 = (o: number): number => (le ? tiff.readUInt32LE(o) : tiff.readUInt32BE(o));
  const ifd = u32(4);
  if (ifd + 2 > tiff.length) return undefined;
  const count = u16(ifd);
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > tiff.length) return undefined;
    if (u16(entry) === 0x0112) {
      const value = u16(entry + 8);
      return value >= 1 && value <= 8 ? value : undefined;
    }
  }
  return undefined;
}

function inspectGif(path: string, b: Buffer, maxPixels: number): Inspection {
  if (b.length < 13) throw truncated(path, 'the GIF header is incomplete');
  const width = b.readUInt16LE(6);
  const height = b.readUInt16LE(8);
  checkSize(path, width, height, maxPixels);
  // Walk the blocks to count frames and make sure the file reaches its trailer.
  let offset = 13;
  if (b[10] & 0x80) offset += 3 * (1 << ((b[10] & 0x07) + 1));
  let frames = 0;
  const skipSubBlocks = (): void => {
    for (;;) {
      if (offset >= b.length) throw truncated(path, 'the GIF ends inside a data block');
      const n = b[offset++];
      if (n === 0) return;
      offset += n;
    }
  };
  for (;;) {
    if (offset >= b.length) throw truncated(path, 'the GIF ends before its trailer');
    const kind = b[offset++];
    if (kind === 0x3b) break;
    if (kind === 0x21) {
      offset++;
      skipSubBlocks();
    } else if (kind === 0x2c) {
      if (offset + 9 > b.length) throw truncated(path, 'a GIF frame header is cut short');
      const flags = b[offset + 8];
      offset += 9;
      if (flags & 0x80) offset += 3 * (1 << ((flags & 0x07) + 1));
      offset++; // LZW minimum code size
      skipSubBlocks();
      frames++;
    } else {
      throw truncated(path, `the GIF has an unknown block (0x${kind.toString(16)})`);
    }
  }
  if (frames === 0) throw truncated(path, 'the GIF has no frames');
  return { format: 'gif', width, height, reencode: frames > 1 ? 'first frame of an animated GIF' : undefined };
}

function inspectBmp(path: string, b: Buffer, maxPixels: number): Inspection {
  const dataOffset = b.readUInt32LE(10);
  const headerSize = b.readUInt32LE(14);
  let width: number;
  let height: number;
  let bpp: number;
  let compression = 0;
  if (headerSize === 12) {
    width = b.readUInt16LE(18);
    height = b.readInt16LE(20);
    bpp = b.readUInt16LE(24);
  } else if (headerSize >= 40 && b.length >= 34) {
    width = b.readInt32LE(18);
    height = b.readInt32LE(22);
    bpp = b.readUInt16LE(28);
    compression = b.readUInt32LE(30);
  } else {
    throw truncated(path, 'the BMP header is incomplete or of an unknown kind');
  }
  // A negative height marks a top-down bitmap; the size is its absolute value.
  height = Math.abs(height);
  checkSize(path, width, height, maxPixels);
  if (compression === 0 || compression === 3) {
    const stride = Math.ceil((width * bpp) / 32) * 4;
    if (dataOffset + stride * height > b.length) throw truncated(path, 'the BMP has fewer pixel rows than its header declares');
  } else if (dataOffset >= b.length) {
    throw truncated(path, 'the BMP has no pixel data');
  }
  return { format: 'bmp', width, height, reencode: 'BMP re-encoded as PNG' };
}

function inspectWebp(path: string, b: Buffer, maxPixels: number): Inspection {
  if (b.length < 30) throw truncated(path, 'the WebP header is incomplete');
  if (b.readUInt32LE(4) + 8 > b.length) throw truncated(path, 'the WebP is shorter than its RIFF header declares');
  const chunk = b.toString('latin1', 12, 16);
  let width: number;
  let height: number;
  let animated = false;
  if (chunk === 'VP8 ') {
    if (b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a) throw truncated(path, 'the WebP (VP8) frame header is invalid');
    width = b.readUInt16LE(26) & 0x3fff;
    height = b.readUInt16LE(28) & 0x3fff;
  } else if (chunk === 'VP8L') {
    if (b[20] !== 0x2f) throw truncated(path, 'the WebP (VP8L) header is invalid');
    const bits = b.readUInt32LE(21);
    width = (bits & 0x3fff) + 1;
    height = ((bits >>> 14) & 0x3fff) + 1;
  } else if (chunk === 'VP8X') {
    animated = (b[20] & 0x02) !== 0;
    width = b.readUIntLE(24, 3) + 1;
    height = b.readUIntLE(27, 3) + 1;
  } else {
    throw truncated(path, `the WebP has an unknown first chunk "${chunk}"`);
  }
  checkSize(path, width, height, maxPixels);
  return { format: 'webp', width, height, reencode: animated ? 'first frame of an animated WebP' : undefined };
}

function looksLikeSvg(b: Buffer): boolean {
  let text = b.subarray(0, 4096).toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  text = text.trimStart();
  if (/^<svg[\s>]/i.test(text)) return true;
  return /^<(\?xml|!--|!doctype\s+svg)/i.test(text) && /<svg[\s>]/i.test(text);
}

const knownSignatures: Array<[RegExp | number[], string]> = [
  [/^%PDF-/, 'a PDF document'],
  [[0x50, 0x4b, 0x03, 0x04], 'a ZIP archive (or an Office document)'],
  [[0x1f, 0x8b], 'gzip-compressed data'],
  [[0x49, 0x49, 0x2a, 0x00], 'a TIFF image (not supported)'],
  [[0x4d, 0x4d, 0x00, 0x2a], 'a TIFF image (not supported)'],
  [[0x00, 0x00, 0x01, 0x00], 'a Windows icon (ICO, not supported)'],
  [/^8BPS/, 'a Photoshop document (PSD)'],
  [/^%!PS/, 'a PostScript file'],
  [/^\s*<(!doctype html|html)/i, 'an HTML page'],
  [/^\s*[{[]/, 'JSON text'],
];

function describeBytes(b: Buffer): string {
  const ftyp = b.toString('latin1', 4, 12);
  if (ftyp.startsWith('ftyp')) {
    const brand = ftyp.slice(4);
    if (/^(heic|heix|mif1|msf1|hevc)/.test(brand)) return 'a HEIC/HEIF image (not supported)';
    if (/^avi[fs]/.test(brand)) return 'an AVIF image (not supported)';
    return 'an MP4/QuickTime media file';
  }
  const latin = b.toString('latin1', 0, 64);
  for (const [sig, what] of knownSignatures) {
    if (sig instanceof RegExp ? sig.test(latin) : startsWith(b, sig)) return what;
  }
  const sample = b.subarray(0, 512);
  const printable = sample.filter((c) => c === 9 || c === 10 || c === 13 || (c >= 32 && c < 127) || c >= 128).length;
  if (printable === sample.length && !sample.includes(0)) {
    const first = b.toString('utf8', 0, 40).split(/\r?\n/)[0];
    return `plain text (starting "${first}")`;
  }
  const hex = [...b.subarray(0, 8)].map((c) => c.toString(16).padStart(2, '0')).join(' ');
  return `unknown binary data (first bytes ${hex})`;
}

/** Python's round(): halves go to the even neighbour, as the published smart_resize does. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * The Qwen2.5-VL `smart_resize` rule: both sides multiples of `factor`, aspect kept,
 * pixels within [minPixels, maxPixels], and (beyond the published rule) the long side at most `maxLongSide`.
 */
export function smartResize(
  width: number,
  height: number,
  opts: { factor?: number; minPixels?: number; maxPixels?: number; maxLongSide?: number } = {},
): { width: number; height: number } {
  const f = opts.factor ?? 32;
  const minPixels = opts.minPixels ?? 4 * f * f;
  const maxPixels = opts.maxPixels ?? MAX_MODEL_PIXELS;
  const maxLongSide = opts.maxLongSide ?? 8192;
  if (!(width > 0 && height > 0)) throw new RefigureError('input', `Cannot resize a ${width}×${height} image.`);
  const floorBy = (x: number): number => Math.max(f, Math.floor(x / f) * f);
  let h = Math.max(f, roundHalfEven(height / f) * f);
  let w = Math.max(f, roundHalfEven(width / f) * f);
  if (h * w > maxPixels) {
    const beta = Math.sqrt((height * width) / maxPixels);
    h = floorBy(height / beta);
    w = floorBy(width / beta);
  } else if (h * w < minPixels) {
    const beta = Math.sqrt(minPixels / (height * width));
    h = Math.ceil((height * beta) / f) * f;
    w = Math.ceil((width * beta) / f) * f;
  }
  if (Math.max(w, h) > maxLongSide) {
    // Very long strips: cap the long side, then round the short side to keep the aspect as close as the factor allows.
    const scale = Math.floor(maxLongSide / f) * f / Math.max(width, height);
    const longSide = Math.floor(maxLongSide / f) * f;
    let shortSide = Math.max(f, roundHalfEven((Math.min(width, height) * scale) / f) * f);
    if (shortSide * longSide > maxPixels) shortSide = floorBy(maxPixels / longSide);
    if (width >= height) [w, h] = [longSide, shortSide];
    else [w, h] = [shortSide, longSide];
  }
  return { width: w, height: h };
}

/**
 * The image as a data URL for the model. Bytes go unchanged when the API takes them as they are;
 * otherwise they are decoded and re-encoded (and downscaled by smart resize when over the pixel cap)
 * through `renderer.convertImage`. The media type always comes from the bytes actually sent.
 */
export async function prepareForModel(
  info: ImageInfo,
  renderer: Pick<Renderer, 'convertImage'>,
  scratchDir: string,
  signal?: AbortSignal,
): Promise<ModelImage> {
  throwIfAborted(signal);
  if (info.format === 'svg') throw inputError(`${info.path} is an SVG; SVG figures are not supported yet.`, 'Export it as PNG and reconstruct the PNG.');
  // Read again: the file may have changed since readImage, and the header decides what may be sent as is.
  const bytes = await readChecked(info.path);
  const found = inspect(info.path, bytes, MAX_DECLARED_PIXELS);
  throwIfAborted(signal);
  const tooLarge = found.width * found.height > MAX_MODEL_PIXELS;
  if (!tooLarge && !found.reencode && modelFormats.has(found.format)) {
    const mediaType = mediaTypes[found.format];
    return { dataUrl: `data:${mediaType};base64,${bytes.toString('base64')}`, mediaType, width: found.width, height: found.height, resized: false };
  }
  const target = tooLarge ? smartResize(found.width, found.height) : { width: found.width, height: found.height };
  // Photographs stay JPEG (smaller); drawings, palettes and everything else become lossless PNG.
  const format = found.format === 'jpeg' ? 'jpeg' : 'png';
  const output = join(scratchDir, `model-input-${randomBytes(6).toString('hex')}.${format === 'jpeg' ? 'jpg' : 'png'}`);
  try {
    let converted: { width: number; height: number };
    try {
      converted = await renderer.convertImage({ input: info.path, output, format, width: target.width, height: target.height, signal });
    } catch (error) {
      if (error instanceof RefigureError) throw error;
      throw inputError(`${info.path} could not be decoded: ${(error as Error).message}`);
    }
    throwIfAborted(signal);
    const encoded = await readFile(output);
    const sent = inspect(output, encoded, MAX_DECLARED_PIXELS);
    const mediaType = mediaTypes[sent.format];
    return {
      dataUrl: `data:${mediaType};base64,${encoded.toString('base64')}`,
      mediaType,
      width: converted.width,
      height: converted.height,
      resized: true,
    };
  } finally {
    await rm(output, { force: true });
  }
}
