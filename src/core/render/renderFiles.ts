// What the render side leaves behind is untrusted: fixed names only, never through a link, regular files
// only, size-capped, and PNGs checked for their signature and pixel count before anything uses them.
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { RefigureError } from '../errors';

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
