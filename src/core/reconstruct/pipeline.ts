// One reconstruction from scratch, and a render of code against an original: shortcuts over the session for batch work.
import type { ExportFormat, ReconstructionResult, RenderOutcome, Renderer } from '../types';
import { throwIfAborted } from '../errors';
import { readImage } from './input';
import { ReconstructionSession, type ReconstructRequest, type SessionOptions } from './session';

export interface ReconstructOptions extends ReconstructRequest, SessionOptions {
  imagePath: string;
}

/** A new session for the image, reconstructed once: what `refigure reconstruct`, `caption` and `eval` run per figure. */
export async function reconstruct(options: ReconstructOptions): Promise<ReconstructionResult> {
  options.renderer.warm?.();
  const session = await ReconstructionSession.open(options.imagePath, options);
  throwIfAborted(options.signal);
  return session.reconstruct(options);
}

export interface RenderCodeOptions {
  code: string;
  imagePath: string;
  renderer: Renderer;
  workDir: string;
  stem: string;
  renderTimeoutMs?: number;
  signal?: AbortSignal;
  /** Also save the figure as SVG or PDF (`RenderOutcome.export`). */
  export?: ExportFormat;
}

/** Code rendered at the original's size and compared with it, outside any history (`refigure render`). */
export async function renderCode(options: RenderCodeOptions): Promise<RenderOutcome> {
  const info = await readImage(options.imagePath);
  throwIfAborted(options.signal);
  return options.renderer.render({
    code: options.code,
    like: { path: info.path, width: info.width, height: info.height },
    outDir: options.workDir,
    stem: options.stem,
    timeoutMs: options.renderTimeoutMs,
    signal: options.signal,
    export: options.export,
  });
}
