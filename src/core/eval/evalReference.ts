// An eval item's deterministic figures beyond the pixels: its render's hash and, with reference code, the code figures.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RenderOutcome, Renderer } from '../types';
import { type CodeFigures, codeFigures } from '../fidelity/codeFigures';
import { readImage } from '../reconstruct/input';

/** The item's answer against its reference program; `figures` is null when the answer did not render. */
export interface ReferenceScore {
  /** Whether the reference program rendered; when it did not, the item has no code figures. */
  ok: boolean;
  error?: string;
  /** SHA-256 of the reference's render. */
  sha256: string | null;
  figures: CodeFigures | null;
}

/** The reference program's file in an item's folder: a run folder carries everything a rerun renders. */
export const referenceFile = 'reference.py';

export async function sha256File(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

export interface ScoreOptions {
  renderer: Renderer;
  /** The original figure: both programs render at its size, as the answer did. */
  image: string;
  /** The answer's code, or null when it did not render. */
  code: string | null;
  referenceCode: string;
  workDir: string;
  renderTimeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Renders the reference and the answer with their artists described, in the same sandbox and at the same size,
 * and compares them. Returns the answer's render too (its figures and PNG), so a rerun takes everything from here.
 */
export async function scoreAgainstReference(options: ScoreOptions): Promise<{ score: ReferenceScore; answer?: RenderOutcome }> {
  await writeFile(join(options.workDir, referenceFile), options.referenceCode);
  const info = await readImage(options.image);
  const like = { path: info.path, width: info.width, height: info.height };
  const render = (code: string, stem: string) =>
    options.renderer.render({ code, like, outDir: options.workDir, stem, timeoutMs: options.renderTimeoutMs, signal: options.signal, artists: true });
  const reference = await render(options.referenceCode, 'reference');
  const score: ReferenceScore = { ok: reference.ok, sha256: reference.png ? await sha256File(reference.png) : null, figures: null };
  if (!reference.ok) {
    score.error = reference.error?.message ?? 'the reference did not render';
    return { score };
  }
  if (options.code === null) return { score };
  const answer = await render(options.code, 'answer');
  if (answer.ok) score.figures = codeFigures(reference, answer);
  return { score, answer };
}

/** The reference code stored in an item's folder by an earlier run, if any. */
export async function storedReference(workDir: string): Promise<string | undefined> {
  const path = join(workDir, referenceFile);
  return existsSync(path) ? readFile(path, 'utf8') : undefined;
}
