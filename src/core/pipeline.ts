// One reconstruction: input → model (or offline trace) → extract → render → compare → caption, cancellable throughout.
import { basename } from 'node:path';
import type {
  Attempt,
  CaptionStyle,
  ImageInfo,
  Logger,
  ModelClient,
  ModelImage,
  PresetName,
  ProgressEvent,
  ReconstructionResult,
  RenderOutcome,
  Renderer,
  Stage,
  TokenUsage,
} from './types';
import { silentLogger } from './types';
import { RefigureError, describeError, throwIfAborted } from './errors';
import { prepareForModel, readImage } from './input';
import { buildReconstructMessages } from './presets';
import { requireCode } from './extract';
import { requestCaption } from './caption';
import { traceToCode } from './offline';
import { bestAttempt, refineAttempts, renderSummary } from './refine';

export interface ReconstructOptions {
  imagePath: string;
  renderer: Renderer;
  /** Caller-managed folder for attempt renders (`attempt-N.png`, `attempt-N.diff.png`). */
  workDir: string;
  /** Absent: the offline trace provider is used. */
  model?: ModelClient;
  preset?: PresetName;
  captionStyle?: CaptionStyle;
  caption?: boolean;
  renderTimeoutMs?: number;
  /** Refinement rounds after the first answer (repair when it fails, refine when it renders). */
  refine?: number;
  /** Independent first answers to choose the best from. */
  candidates?: number;
  /** Stop refining at this fidelity. */
  target?: number;
  signal?: AbortSignal;
  onProgress?: (event: ProgressEvent) => void;
  logger?: Logger;
}

/** Everything a step of the reconstruction needs; shared with the refinement loop. */
export interface PipelineContext {
  info: ImageInfo;
  modelImage?: ModelImage;
  options: ReconstructOptions;
  attempts: Attempt[];
  logger: Logger;
  progress(stage: Stage, message: string): void;
  /** Render `code` as the next attempt, record it and report it. */
  renderAttempt(code: string, kind: Attempt['kind'], usage?: TokenUsage, seconds?: number): Promise<Attempt>;
}

export async function reconstruct(options: ReconstructOptions): Promise<ReconstructionResult> {
  const logger = options.logger ?? silentLogger;
  const { signal } = options;
  const timings: Record<string, number> = {};
  const started = Date.now();
  const timed = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    try {
      return await work();
    } finally {
      timings[name] = round3((timings[name] ?? 0) + (Date.now() - t0) / 1000);
    }
  };
  const progress = (stage: Stage, message: string): void => {
    logger.debug(`[${stage}] ${message}`);
    options.onProgress?.({ kind: 'stage', stage, message });
  };
  const notes: string[] = [];

  // The worker boots while the image is read and the model answers, so the first render finds it warm.
  options.renderer.warm?.();
  progress('input', `Reading ${basename(options.imagePath)}`);
  const info = await timed('input', () => readImage(options.imagePath));
  throwIfAborted(signal);

  const attempts: Attempt[] = [];
  const context: PipelineContext = {
    info,
    options,
    attempts,
    logger,
    progress,
    async renderAttempt(code, kind, usage, seconds = 0) {
      progress('render', `Rendering attempt ${attempts.length + 1}`);
      const index = attempts.length;
      const render = await timed('render', () =>
        renderFor(options.renderer, code, info, options.workDir, `attempt-${index + 1}`, options.renderTimeoutMs, signal),
      );
      const attempt: Attempt = { index, kind, code, render, metrics: render.metrics, usage, seconds: round3(seconds + render.seconds), best: false };
      attempts.push(attempt);
      markBest(attempts);
      logger.info(
        render.ok
          ? `Attempt ${index + 1} (${kind}) rendered in ${render.seconds.toFixed(2)} s, fidelity ${render.metrics?.fidelity ?? 'n/a'}.`
          : `Attempt ${index + 1} (${kind}) did not render: ${render.error?.message ?? 'unknown error'}`,
      );
      options.onProgress?.({ kind: 'attempt', attempt });
      return attempt;
    },
  };

  let caption = '';
  let altText = '';
  const style = options.captionStyle ?? 'caption';

  if (options.model) {
    const model = options.model;
    progress('input', 'Preparing the image for the model');
    context.modelImage = await timed('input', () => prepareForModel(info, options.renderer, options.workDir, signal));
    throwIfAborted(signal);
    const candidates = Math.max(1, options.candidates ?? 1);
    progress('model', `Asking ${model.config.model || 'the model'} for code`);
    const t0 = Date.now();
    const replies = await timed('model', () =>
      model.chat({
        messages: buildReconstructMessages(options.preset ?? 'codepercept', context.modelImage as ModelImage),
        preset: options.preset ?? 'codepercept',
        n: candidates,
        signal,
        onDelta: (text, tokens) => options.onProgress?.({ kind: 'tokens', text, tokens, elapsedMs: Date.now() - t0 }),
      }),
    );
    throwIfAborted(signal);
    progress('extract', 'Extracting the code');
    const codes = replies.map((reply) => {
      try {
        return requireCode(reply.text);
      } catch (error) {
        if (replies.length === 1) throw error;
        logger.warn(`A candidate came back without code: ${describeError(error)}`);
        return undefined;
      }
    });
    if (codes.every((code) => code === undefined)) requireCode(replies[0]?.text ?? '');
    const perReply = (Date.now() - t0) / 1000 / Math.max(1, replies.length);
    for (const [i, code] of codes.entries()) {
      if (code === undefined) continue;
      await context.renderAttempt(code, replies.length > 1 ? 'candidate' : 'initial', replies[i]?.usage, perReply);
      throwIfAborted(signal);
    }
    const refined = await timed('refine', () => refineAttempts(context));
    if (refined.note) notes.push(refined.note);
    throwIfAborted(signal);
  } else {
    notes.push('No model endpoint configured: the offline trace provider was used. It traces shapes and colours; it does not perceive content.');
    progress('model', 'Tracing the figure offline (no model)');
    const trace = await timed('model', () => traceToCode(info, options.renderer, { scratchDir: options.workDir, signal }));
    throwIfAborted(signal);
    caption = trace.caption;
    altText = trace.altText;
    await context.renderAttempt(trace.code, 'initial', undefined, trace.seconds);
    throwIfAborted(signal);
  }

  const best = bestAttempt(attempts);
  if (!best) throw new RefigureError('render', 'No attempt was made.');

  if (options.model && options.caption !== false) {
    if (best.render.ok) {
      progress('caption', 'Writing a caption grounded in the code');
      try {
        const result = await timed('caption', () =>
          requestCaption(options.model as ModelClient, { image: context.modelImage as ModelImage, code: best.code, style, signal }),
        );
        caption = result.caption;
        altText = result.altText;
      } catch (error) {
        if (signal?.aborted) throw error;
        notes.push(`The caption could not be written: ${describeError(error)}`);
        logger.warn(`Caption failed: ${describeError(error)}`);
      }
    } else {
      notes.push('No caption: the code did not render, and captions are grounded only in code that rendered.');
    }
  }
  throwIfAborted(signal);
  timings.total = round3((Date.now() - started) / 1000);
  progress('done', best.render.ok ? 'Rendered' : 'The code did not render');

  return {
    version: 1,
    image: { path: info.path, width: info.width, height: info.height, format: info.format },
    provider: options.model ? 'model' : 'offline',
    model: options.model ? options.model.config.model : 'offline-trace',
    endpoint: options.model?.config.baseURL,
    preset: options.model ? (options.preset ?? 'codepercept') : undefined,
    code: best.code,
    caption,
    altText,
    captionStyle: style,
    render: renderSummary(best.render),
    metrics: best.metrics ?? null,
    attempts,
    timings,
    notes,
  };
}

export interface RenderCodeOptions {
  code: string;
  imagePath: string;
  renderer: Renderer;
  workDir: string;
  stem: string;
  renderTimeoutMs?: number;
  signal?: AbortSignal;
}

/** Render edited code against the same original: the live loop, Re-render and `refigure render`. */
export async function renderCode(options: RenderCodeOptions): Promise<RenderOutcome> {
  const info = await readImage(options.imagePath);
  throwIfAborted(options.signal);
  return renderFor(options.renderer, options.code, info, options.workDir, options.stem, options.renderTimeoutMs, options.signal);
}

/** A caption for code that rendered (Generate Caption, or after the user finished the code by hand). */
export async function captionFor(options: {
  imagePath: string;
  code: string;
  model: ModelClient;
  renderer: Renderer;
  workDir: string;
  style: CaptionStyle;
  signal?: AbortSignal;
}): Promise<{ caption: string; altText: string }> {
  const info = await readImage(options.imagePath);
  const image = await prepareForModel(info, options.renderer, options.workDir, options.signal);
  throwIfAborted(options.signal);
  const { caption, altText } = await requestCaption(options.model, { image, code: options.code, style: options.style, signal: options.signal });
  return { caption, altText };
}

function renderFor(
  renderer: Renderer,
  code: string,
  info: ImageInfo,
  outDir: string,
  stem: string,
  timeoutMs: number | undefined,
  signal: AbortSignal | undefined,
): Promise<RenderOutcome> {
  return renderer.render({ code, like: { path: info.path, width: info.width, height: info.height }, outDir, stem, timeoutMs, signal });
}

function markBest(attempts: Attempt[]): void {
  const best = bestAttempt(attempts);
  for (const attempt of attempts) attempt.best = attempt === best;
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
