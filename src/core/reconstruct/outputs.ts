// The files a reconstruction leaves beside the image (or in --out): code, render, diff and JSON.
import { copyFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import type { ReconstructionResult } from '../types';
import { RefigureError } from '../errors';

export interface OutputPaths {
  code: string;
  png: string;
  diff: string;
  json: string;
}

/** `<stem>.refigure.{py,png,diff.png,json}` in `outDir`, where `stem` is the image's name without extension. */
export function outputPaths(imagePath: string, outDir: string): OutputPaths {
  const stem = basename(imagePath, extname(imagePath));
  const at = (suffix: string) => resolve(outDir, `${stem}.refigure${suffix}`);
  return { code: at('.py'), png: at('.png'), diff: at('.diff.png'), json: at('.json') };
}

/**
 * Refuses to write when an output would replace the input image, or when the outputs there
 * belong to another image (e.g. `plot.png` and `plot.jpg` in the same folder).
 */
export async function checkOutputs(imagePath: string, paths: OutputPaths): Promise<void> {
  const image = resolve(imagePath);
  for (const path of Object.values(paths)) {
    if (resolve(path) === image) {
      throw new RefigureError('usage', `Refusing to overwrite the input image ${image}.`, 'Choose another folder with --out.');
    }
  }
  let previous: string | undefined;
  try {
    previous = (JSON.parse(await readFile(paths.json, 'utf8')) as Partial<ReconstructionResult>).image?.path;
  } catch {
    return; // no earlier result, or not ours: nothing to protect
  }
  if (previous && resolve(previous) !== image) {
    throw new RefigureError(
      'usage',
      `${paths.json} holds the reconstruction of another image (${previous}).`,
      'Choose another folder with --out, or remove the old files.',
    );
  }
}

/**
 * Writes the four files of the attempt shown, with the whole history in the JSON, and returns the result with
 * paths pointing at them. Only the shown attempt keeps its render and diff paths: the others' files are not kept. The render and diff are
 * copied out of the work folder; stale ones from an earlier run of the same image are removed when
 * this run has none. Each file is written to a temporary name first and renamed, so a reader never
 * sees half a file.
 */
export async function writeOutputs(result: ReconstructionResult, paths: OutputPaths): Promise<ReconstructionResult> {
  await mkdir(resolve(paths.json, '..'), { recursive: true });
  await atomicWrite(paths.code, result.code.endsWith('\n') ? result.code : `${result.code}\n`);
  const png = await copyOrRemove(result.render.png, paths.png);
  const diff = await copyOrRemove(result.render.diff, paths.diff);
  const attempts = result.attempts.map((attempt) => ({
    ...attempt,
    render: {
      ...attempt.render,
      png: attempt.index === result.shown ? (png ?? undefined) : undefined,
      diffPng: attempt.index === result.shown ? (diff ?? undefined) : undefined,
    },
  }));
  const written: ReconstructionResult = {
    ...result,
    render: { ...result.render, png, diff },
    attempts,
    outputs: { code: paths.code, png, diff, json: paths.json },
  };
  await atomicWrite(paths.json, `${JSON.stringify(written, null, 2)}\n`);
  return written;
}

async function copyOrRemove(from: string | null, to: string): Promise<string | null> {
  if (!from) {
    await rm(to, { force: true });
    return null;
  }
  const temporary = `${to}.${process.pid}.tmp`;
  await copyFile(from, temporary);
  await rename(temporary, to);
  return to;
}

export async function atomicWrite(path: string, content: string | Uint8Array): Promise<void> {
  const temporary = join(resolve(path, '..'), `.${basename(path)}.${process.pid}.tmp`);
  await writeFile(temporary, content);
  await rename(temporary, path);
}
