// `refigure eval`'s data sets: a folder of images, or a STEM2Code-style JSONL of chat records.
import { readFile, readdir, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RefigureError } from '../errors';
import { extractCode } from '../reconstruct/extract';
import { isRasterImagePath } from '../reconstruct/imagePick';
import { isRecord } from '../../shared/values';

// ─── Data sets ──────────────────────────────────────────────────────────────

export interface EvalItem {
  /** Stable across runs: resuming and `--compare-with` match items by it. */
  id: string;
  /** Absolute path of the figure. */
  image: string;
  /** The reference code: a STEM2Code-style record's answer, or `NAME.py` beside `NAME.png` in a folder. */
  referenceCode?: string;
  /** The record's `domain` (or `category`, `subject`), for the per-domain rows of the table. */
  domain?: string;
}

/** The items of a folder of images (sorted by name) or of a STEM2Code-style JSONL file. */
export async function loadDataset(path: string): Promise<EvalItem[]> {
  const full = resolve(path);
  let info;
  try {
    info = await stat(full);
  } catch {
    throw new RefigureError('usage', `No data set at ${full}.`, 'Give a folder of images or a STEM2Code-style .jsonl file.');
  }
  const items = info.isDirectory() ? await loadFolder(full) : await loadJsonl(full);
  if (items.length === 0) {
    throw new RefigureError(
      'input',
      info.isDirectory() ? `${full} holds no images (png, jpg, jpeg, webp, gif, bmp).` : `${full} holds no records.`,
      'Point eval at a folder of figures or a JSONL file with one chat record per line.',
    );
  }
  const missing = items.filter((item) => !existsSync(item.image));
  if (missing.length) {
    const shown = missing.slice(0, 5).map((m) => m.image).join(', ');
    throw new RefigureError(
      'input',
      `${missing.length} image(s) listed in ${full} do not exist: ${shown}${missing.length > 5 ? ', …' : ''}.`,
      'Fix the paths; relative paths are resolved against the JSONL file\'s folder.',
    );
  }
  return items;
}

async function loadFolder(dir: string): Promise<EvalItem[]> {
  const names = (await readdir(dir)).filter((name) => isRasterImagePath(name)).sort();
  return Promise.all(
    names.map(async (name) => {
      const program = join(dir, `${basename(name, extname(name))}.py`);
      return existsSync(program) ? { id: name, image: join(dir, name), referenceCode: await readFile(program, 'utf8') } : { id: name, image: join(dir, name) };
    }),
  );
}

async function loadJsonl(file: string): Promise<EvalItem[]> {
  const text = await readFile(file, 'utf8');
  const base = dirname(file);
  const items: EvalItem[] = [];
  const seen = new Map<string, number>();
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (!line) continue;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch (error) {
      throw new RefigureError('input', `Line ${i + 1} of ${file} is not JSON: ${(error as Error).message}`, 'Each line must be one JSON chat record.');
    }
    const parsed = parseRecord(record);
    if (!parsed.image) {
      throw new RefigureError(
        'input',
        `Line ${i + 1} of ${file} names no image.`,
        'Put the image in a user message part {"type":"image","image":PATH} or {"type":"image_url","image_url":{"url":PATH}}, or in "images": [PATH].',
      );
    }
    const image = resolveImagePath(parsed.image, base, `line ${i + 1} of ${file}`);
    let id = parsed.id ?? `${String(i + 1).padStart(4, '0')}-${basename(image)}`;
    const count = seen.get(id) ?? 0;
    seen.set(id, count + 1);
    if (count) id = `${id}#${count + 1}`;
    items.push({ id, image, referenceCode: parsed.reference ? (extractCode(parsed.reference) ?? parsed.reference) : undefined, ...(parsed.domain ? { domain: parsed.domain } : {}) });
  }
  return items;
}

/** Reads the fields the published harness uses; anything else in the record is ignored. */
function parseRecord(record: unknown): { id?: string; image?: string; reference?: string; domain?: string } {
  const out: { id?: string; image?: string; reference?: string; domain?: string } = {};
  if (!isRecord(record)) return out;
  if (typeof record.id === 'string' || typeof record.id === 'number') out.id = String(record.id);
  const domain = [record.domain, record.category, record.subject].find((d) => typeof d === 'string' && d.trim());
  if (typeof domain === 'string') out.domain = domain.trim().slice(0, 80);
  const images = record.images;
  if (Array.isArray(images) && typeof images[0] === 'string') out.image = images[0];
  else if (typeof record.image === 'string') out.image = record.image;
  const messages = Array.isArray(record.messages) ? record.messages : [];
  for (const message of messages) {
    if (!isRecord(message)) continue;
    const { role, content } = message;
    if (role === 'user' && !out.image && Array.isArray(content)) {
      for (const part of content) {
        if (!isRecord(part)) continue;
        if (part.type === 'image' && typeof part.image === 'string') out.image = part.image;
        else if (part.type === 'image_url') {
          const url = part.image_url;
          if (typeof url === 'string') out.image = url;
          else if (isRecord(url) && typeof url.url === 'string') out.image = url.url;
        }
        if (out.image) break;
      }
    }
    if (role === 'assistant' && out.reference === undefined) {
      if (typeof content === 'string') out.reference = content;
      else if (Array.isArray(content)) {
        out.reference = content.map((p) => (isRecord(p) && typeof p.text === 'string' ? p.text : '')).join('\n');
      }
    }
  }
  return out;
}

function resolveImagePath(ref: string, base: string, where: string): string {
  if (/^file:/i.test(ref)) return fileURLToPath(ref);
  if (/^(https?|data):/i.test(ref)) {
    throw new RefigureError('input', `The image of ${where} is a ${ref.slice(0, ref.indexOf(':'))} URL; eval reads local files only.`, 'Download the images and list their paths.');
  }
  return isAbsolute(ref) ? ref : resolve(base, ref);
}
