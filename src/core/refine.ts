// Choosing the best attempt, and the repair / refine rounds after the first answer(s).
import type {
  Attempt,
  ChatContent,
  ChatMessage,
  ImageInfo,
  Logger,
  Metrics,
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
import type { PipelineContext, ReconstructOptions } from './pipeline';
import { describeError, isAbort, throwIfAborted } from './errors';
import { prepareForModel, readImage } from './input';
import { getPreset } from './presets';
import { requireCode } from './extract';
import { requestCaption } from './caption';

/** Fidelity at which refinement stops unless told otherwise. */
export const defaultTarget = 0.95;
/** A refine round that gains less fidelity than this over the best so far ends the loop. */
export const defaultMinGain = 0.005;

export type StopReason = 'none' | 'target' | 'rounds' | 'no-improvement' | 'error';

export interface RefineOutcome {
  /** Rounds asked of the model (repairs and refinements). */
  rounds: number;
  stopReason: StopReason;
  /** One line for the result's notes, when there is something to say. */
  note?: string;
}

/** The `render` block of a result, from the render of the attempt the user gets. */
export function renderSummary(render: RenderOutcome): ReconstructionResult['render'] {
  return {
    ok: render.ok,
    png: render.png ?? null,
    diff: render.diffPng ?? null,
    error: render.error ?? null,
    seconds: render.seconds,
    sandbox: render.sandbox,
  };
}

/** The attempt the user gets: the highest fidelity among those that rendered; else the first. */
export function bestAttempt(attempts: readonly Attempt[]): Attempt | undefined {
  let best: Attempt | undefined;
  for (const attempt of attempts) {
    if (!best) best = attempt;
    else if (attempt.render.ok && (!best.render.ok || (attempt.metrics?.fidelity ?? 0) > (best.metrics?.fidelity ?? 0))) best = attempt;
  }
  return best;
}

/**
 * Further rounds after the first answer(s), at most `options.refine`:
 * - nothing rendered yet → **repair** the latest attempt with its traceback and failing lines;
 * - something rendered → **refine** the best one with the original, its render, the diff heat map,
 *   its code and figures.
 * Stops at the target fidelity, when a refine round does not beat the best by `defaultMinGain`
 * (a refine whose code fails counts as no improvement), when the rounds run out, or on cancel.
 * Repairs that still fail go on while rounds remain: a broken answer has nothing better to fall back to.
 * An endpoint error in a later round ends the loop without losing the attempts already made.
 */
export async function refineAttempts(context: PipelineContext, minGain = defaultMinGain): Promise<RefineOutcome> {
  const { options, attempts, logger } = context;
  const maxRounds = Math.max(0, Math.floor(options.refine ?? 0));
  const target = options.target ?? defaultTarget;
  const model = options.model;
  if (!model || maxRounds === 0) return { rounds: 0, stopReason: 'none' };
  const { signal } = options;
  const preset = options.preset ?? 'codepercept';

  let rounds = 0;
  while (rounds < maxRounds) {
    throwIfAborted(signal);
    const best = bestAttempt(attempts);
    if (!best) return { rounds, stopReason: 'none' };
    const bestFidelity = best.render.ok ? (best.metrics?.fidelity ?? 0) : undefined;
    if (bestFidelity !== undefined && bestFidelity >= target) {
      return { rounds, stopReason: 'target', note: rounds ? `Refinement reached the target fidelity ${target} after ${rounds} round(s).` : undefined };
    }
    const repairing = bestFidelity === undefined;
    const base = repairing ? (attempts[attempts.length - 1] ?? best) : best;
    rounds++;
    context.progress(
      'refine',
      repairing
        ? `Round ${rounds} of ${maxRounds}: repairing attempt ${base.index + 1} (${base.render.error?.message ?? 'it did not render'})`
        : `Round ${rounds} of ${maxRounds}: refining attempt ${base.index + 1} (fidelity ${fmt(bestFidelity)})`,
    );

    let attempt: Attempt;
    try {
      const image = context.modelImage ?? (await prepareForModel(context.info, options.renderer, options.workDir, signal));
      context.modelImage = image;
      const messages = repairing
        ? buildRepairMessages(preset, image, base)
        : buildRefineMessages(preset, image, base, await renderImages(context, base), target);
      throwIfAborted(signal);
      const t0 = Date.now();
      const [reply] = await model.chat({
        messages,
        preset,
        signal,
        onDelta: (text, tokens) => options.onProgress?.({ kind: 'tokens', text, tokens, elapsedMs: Date.now() - t0 }),
      });
      throwIfAborted(signal);
      const seconds = (Date.now() - t0) / 1000;
      if (!reply) throw new Error('The model sent no reply.');
      let code: string;
      try {
        code = requireCode(reply.text);
      } catch (error) {
        logger.warn(`Round ${rounds}: ${describeError(error)}`);
        if (repairing) continue;
        return { rounds, stopReason: 'no-improvement', note: `Refinement stopped after ${rounds} round(s): the last reply had no code.` };
      }
      attempt = await context.renderAttempt(code, repairing ? 'repair' : 'refine', reply.usage, seconds);
    } catch (error) {
      if (isAbort(error) || signal?.aborted) throw error;
      logger.warn(`Refinement round ${rounds} failed: ${describeError(error)}`);
      return { rounds, stopReason: 'error', note: `Refinement stopped after ${rounds} round(s): ${describeError(error)}` };
    }
    throwIfAborted(signal);

    if (!repairing) {
      const gained = attempt.render.ok ? (attempt.metrics?.fidelity ?? 0) - (bestFidelity ?? 0) : undefined;
      if (gained === undefined || gained < minGain) {
        const why = gained === undefined ? 'its code did not render' : `fidelity changed by ${gained >= 0 ? '+' : ''}${gained.toFixed(3)}`;
        logger.info(`Round ${rounds} did not improve (${why}); keeping attempt ${(bestAttempt(attempts)?.index ?? 0) + 1}.`);
        return { rounds, stopReason: 'no-improvement', note: `Refinement stopped after ${rounds} round(s): the last round did not improve (${why}).` };
      }
    }
  }
  const best = bestAttempt(attempts);
  if (best?.render.ok && (best.metrics?.fidelity ?? 0) >= target) {
    return { rounds, stopReason: 'target', note: `Refinement reached the target fidelity ${target} after ${rounds} round(s).` };
  }
  return { rounds, stopReason: 'rounds' };
}

const replyFormat = 'Answer with the whole corrected script in one ```python fenced block.';

/** A repair request: the original, the code that failed, its error and the lines around the failure. */
export function buildRepairMessages(preset: PresetName, original: ModelImage, failed: Attempt): ChatMessage[] {
  const error = failed.render.error;
  const parts: string[] = [
    'The matplotlib code below was written to reproduce the picture below, but it did not render.',
    '',
    'Code:',
    fence(failed.code),
    '',
    `Error (${error?.kind ?? 'unknown'}): ${error?.message ?? 'the code did not render'}`,
  ];
  if (error?.traceback) parts.push('', 'Traceback:', fence(clip(error.traceback, 4000), ''));
  const excerpt = error?.line ? failingLines(failed.code, error.line) : undefined;
  if (excerpt) parts.push('', `The failing lines (line ${error?.line} marked with >>):`, fence(excerpt, ''));
  parts.push('', 'Fix the code so that it runs and still reproduces the picture. ' + replyFormat);
  return withSystem(preset, [
    { type: 'text', text: parts.join('\n') },
    { type: 'text', text: 'The picture:' },
    { type: 'image_url', image_url: { url: original.dataUrl } },
  ]);
}

/** A refine request: original, render and diff heat map in a labelled order, then the code and its figures. */
export function buildRefineMessages(
  preset: PresetName,
  original: ModelImage,
  current: Attempt,
  images: { render: ModelImage; diff?: ModelImage },
  target: number,
): ChatMessage[] {
  const content: ChatContent[] = [
    { type: 'text', text: 'You wrote matplotlib code to reproduce a picture. Compare its render with the original and improve the code.' },
    { type: 'text', text: 'Image 1 — the original picture:' },
    { type: 'image_url', image_url: { url: original.dataUrl } },
    { type: 'text', text: 'Image 2 — the render of your current code:' },
    { type: 'image_url', image_url: { url: images.render.dataUrl } },
  ];
  if (images.diff) {
    content.push(
      {
        type: 'text',
        text: 'Image 3 — difference heat map: red = in the original but missing from the render; blue = drawn in the render but not in the original; orange = drawn in both but in clearly different colours; light gray = matching.',
      },
      { type: 'image_url', image_url: { url: images.diff.dataUrl } },
    );
  }
  content.push({
    type: 'text',
    text: [
      'Your current code:',
      fence(current.code),
      '',
      `Its figures (1 = identical): ${describeMetrics(current.metrics)}; target fidelity ${target}.`,
      '',
      'Make the render match the original; keep what already matches. Fix positions, sizes, missing or extra elements, text and colours. ' + replyFormat,
    ].join('\n'),
  });
  return withSystem(preset, content);
}

/** The failing line with two lines of context either side, numbered as in the code. */
export function failingLines(code: string, line: number, context = 2): string | undefined {
  const lines = code.split('\n');
  if (line < 1 || line > lines.length) return undefined;
  const from = Math.max(1, line - context);
  const to = Math.min(lines.length, line + context);
  const width = String(to).length;
  const out: string[] = [];
  for (let n = from; n <= to; n++) out.push(`${n === line ? '>>' : '  '} ${String(n).padStart(width)} | ${lines[n - 1] ?? ''}`);
  return out.join('\n');
}

function describeMetrics(metrics: Metrics | undefined): string {
  if (!metrics) return 'not measured';
  return `fidelity ${fmt(metrics.fidelity)}, SSIM ${fmt(metrics.ssim)}, edge F1 ${fmt(metrics.edgeF1)}, pixel match ${fmt(metrics.pixelMatch)}, colour distance ${fmt(metrics.colorDistance)} (0 = same colours)`;
}

function withSystem(preset: PresetName, content: ChatContent[]): ChatMessage[] {
  const { system } = getPreset(preset);
  const messages: ChatMessage[] = [];
  if (system) messages.push({ role: 'system', content: system });
  messages.push({ role: 'user', content });
  return messages;
}

async function renderImages(context: PipelineContext, attempt: Attempt): Promise<{ render: ModelImage; diff?: ModelImage }> {
  const { renderer, workDir, signal } = context.options;
  const asModelImage = async (png: string) => prepareForModel(await readImage(png), renderer, workDir, signal);
  if (!attempt.render.png) throw new Error(`Attempt ${attempt.index + 1} rendered but left no PNG.`);
  const render = await asModelImage(attempt.render.png);
  const diff = attempt.render.diffPng ? await asModelImage(attempt.render.diffPng) : undefined;
  return { render, diff };
}

function fence(code: string, lang = 'python'): string {
  return `\`\`\`${lang}\n${code.replace(/\s+$/, '')}\n\`\`\``;
}

function clip(text: string, max: number): string {
  return text.length > max ? `…${text.slice(text.length - max)}` : text;
}

function fmt(value: number | undefined): string {
  return value === undefined ? 'n/a' : value.toFixed(3);
}

export interface RefineOnceOptions {
  /** The reconstruction to continue (from `reconstruct` or an earlier `refineOnce`). */
  result: ReconstructionResult;
  model: ModelClient;
  renderer: Renderer;
  /** Where the new attempts' renders go (`attempt-N.png`). */
  workDir: string;
  preset?: PresetName;
  /** Rounds to run; default 1. */
  rounds?: number;
  /** Stop early at this fidelity; by default every requested round runs (the user asked for one). */
  target?: number;
  renderTimeoutMs?: number;
  /** Ask for a new caption when the best attempt changes; default true. */
  caption?: boolean;
  signal?: AbortSignal;
  onProgress?: (event: ProgressEvent) => void;
  logger?: Logger;
}

/**
 * One more refinement of an existing reconstruction (the panel's Refine action): the same rounds the
 * pipeline runs, starting from the result's attempts. Returns an updated copy; the input is not changed.
 */
export async function refineOnce(options: RefineOnceOptions): Promise<ReconstructionResult> {
  const logger = options.logger ?? silentLogger;
  const { result, signal } = options;
  const started = Date.now();
  const info: ImageInfo = await readImage(result.image.path);
  throwIfAborted(signal);
  const attempts: Attempt[] = result.attempts.map((a) => ({ ...a }));
  const notes = [...result.notes];
  const progress = (stage: Stage, message: string): void => {
    logger.debug(`[${stage}] ${message}`);
    options.onProgress?.({ kind: 'stage', stage, message });
  };
  const reconstructOptions: ReconstructOptions = {
    imagePath: result.image.path,
    renderer: options.renderer,
    workDir: options.workDir,
    model: options.model,
    preset: options.preset ?? result.preset ?? 'codepercept',
    refine: options.rounds ?? 1,
    target: options.target ?? Number.POSITIVE_INFINITY,
    renderTimeoutMs: options.renderTimeoutMs,
    signal,
    onProgress: options.onProgress,
    logger,
  };
  const context: PipelineContext = {
    info,
    options: reconstructOptions,
    attempts,
    logger,
    progress,
    async renderAttempt(code: string, kind: Attempt['kind'], usage?: TokenUsage, seconds = 0): Promise<Attempt> {
      const index = attempts.length;
      progress('render', `Rendering attempt ${index + 1}`);
      const render = await options.renderer.render({
        code,
        like: { path: info.path, width: info.width, height: info.height },
        outDir: options.workDir,
        stem: `attempt-${index + 1}`,
        timeoutMs: options.renderTimeoutMs,
        signal,
      });
      const attempt: Attempt = { index, kind, code, render, metrics: render.metrics, usage, seconds: round3(seconds + render.seconds), best: false };
      attempts.push(attempt);
      const best = bestAttempt(attempts);
      for (const a of attempts) a.best = a === best;
      options.onProgress?.({ kind: 'attempt', attempt });
      return attempt;
    },
  };
  const previousBest = bestAttempt(attempts);
  // A result that has no rendered attempt yet is repaired from its last attempt; with no attempt at all there is nothing to refine.
  const outcome = attempts.length ? await refineAttempts(context) : { rounds: 0, stopReason: 'none' as const };
  if (outcome.note) notes.push(outcome.note);
  const best = bestAttempt(attempts);
  if (!best) return result;

  let { caption, altText } = result;
  if (best !== previousBest && best.render.ok && options.caption !== false) {
    progress('caption', 'Writing a caption grounded in the new code');
    try {
      const image = context.modelImage ?? (await prepareForModel(info, options.renderer, options.workDir, signal));
      ({ caption, altText } = await requestCaption(options.model, { image, code: best.code, style: result.captionStyle, signal }));
    } catch (error) {
      if (isAbort(error) || signal?.aborted) throw error;
      notes.push(`The caption could not be updated: ${describeError(error)}`);
    }
  }
  const asked = outcome.rounds > 0;
  return {
    ...result,
    provider: asked ? 'model' : result.provider,
    model: asked ? options.model.config.model : result.model,
    endpoint: asked ? options.model.config.baseURL : result.endpoint,
    preset: asked ? reconstructOptions.preset : result.preset,
    code: best.code,
    caption,
    altText,
    render: renderSummary(best.render),
    metrics: best.metrics ?? null,
    attempts,
    timings: { ...result.timings, refine: round3((result.timings.refine ?? 0) + (Date.now() - started) / 1000) },
    notes,
  };
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
