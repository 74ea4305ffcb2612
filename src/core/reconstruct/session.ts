// One reconstruction session: the attempts, the one shown, the best, and every operation on them.
// The CLI commands and the panel are views over it; no front end renders, ranks or notes on its own.
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import type {
  Attempt,
  AttemptKind,
  ExportFormat,
  CaptionStyle,
  ImageInfo,
  Logger,
  ModelClient,
  ModelImage,
  Note,
  NoteCode,
  PresetName,
  ProgressEvent,
  Provider,
  ReconstructionResult,
  RenderOutcome,
  Renderer,
  Stage,
  TokenUsage,
} from '../types';
import { silentLogger } from '../types';
import { RefigureError, describeError, isAbort, throwIfAborted } from '../errors';
import { prepareForModel, readImage } from './input';
import { buildReconstructMessages } from './presets';
import { requireCodeOrBare } from './extract';
import { requestCaption } from './caption';
import { traceToCode } from '../offline/offline';
import { bestAttempt, buildRefineMessages, buildRepairMessages, defaultMinGain, defaultTarget, reachedTarget, renderSummary } from './refine';
import { type AttemptScore, type TextReader, confidentTextDifferences, scoreWithSecondLook, verdictOf } from '../fidelity/differences';
import { readText, type OcrCache, type OcrReader, createOcrCache, type TextItem } from '../fidelity/ocr';
import { round3 } from '../../shared/values';

/** Who wrote an attempt's code when it was not a model. */
export const offlineAuthor = 'offline-trace';
export const userAuthor = 'user';

export interface SessionOptions {
  renderer: Renderer;
  /** Caller-managed folder for the attempts' renders (`attempt-N.png`, `attempt-N.diff.png`). */
  workDir: string;
  renderTimeoutMs?: number;
  logger?: Logger;
  /**
   * Reads the original's text (OCR) for textF1 and the text differences; by default Tesseract with a cache
   * that lasts as long as the process. `false`: the pixel figures only.
   */
  readText?: OriginalTextReader | false;
}

/** The original's text items, boxes in its pixels. */
export type OriginalTextReader = TextReader;

/** A reader of originals' text with its own cache (one per eval run, one for the extension's lifetime). */
export function cachedTextReader(cache: OcrCache = createOcrCache(), reader?: OcrReader): OriginalTextReader {
  return (imagePath, signal, regions) => readText(imagePath, { cache, signal, reader, regions });
}

const processTextReader = cachedTextReader();

/** What every operation takes: how to stop it and where its progress goes. */
export interface OperationOptions {
  signal?: AbortSignal;
  onProgress?: (event: ProgressEvent) => void;
}

/** Seeds for the model's requests: the first answer's request carries `seed`, refinement round k `seed + k`. */
export interface Seeded {
  seed?: number;
}

export interface ReconstructRequest extends OperationOptions, Seeded {
  /** Absent: the offline trace provider is used. */
  model?: ModelClient;
  preset?: PresetName;
  captionStyle?: CaptionStyle;
  caption?: boolean;
  /** Refinement rounds after the first answer (repair when it fails, refine when it renders). */
  refine?: number;
  /** Independent first answers to choose the best from. */
  candidates?: number;
  /** Stop refining at this fidelity. */
  target?: number;
}

export interface RefineRequest extends OperationOptions, Seeded {
  model: ModelClient;
  preset?: PresetName;
  /** The attempt to refine (or repair); default: the one shown. */
  from?: number;
  /** Rounds to run; default 1. */
  rounds?: number;
  /** Stop early at this fidelity; by default every requested round runs (the user asked for them). */
  target?: number;
  /** Ask for a new caption when the best attempt changes; default true. */
  caption?: boolean;
}

export interface CaptionRequest extends OperationOptions {
  model: ModelClient;
  style?: CaptionStyle;
  /** The attempt to describe; default: the one shown. */
  attempt?: number;
}

export class ReconstructionSession {
  private readonly attemptList: Attempt[];
  private shownIndex: number | undefined;
  /** Counts the user's own choices of what is shown (select, edit): an operation running meanwhile leaves them be. */
  private choices = 0;
  private provider: Provider;
  private modelName: string;
  private endpoint: string | undefined;
  private preset: PresetName | undefined;
  private caption = '';
  private altText = '';
  private captionStyle: CaptionStyle = 'caption';
  private captionAttempt: number | null = null;
  private captionProvider: Provider | null = null;
  private notes: Note[] = [];
  private readonly timings: Record<string, number>;
  private modelImage: ModelImage | undefined;
  private nextStem: number;
  private readonly logger: Logger;
  private originalText: Promise<TextItem[] | undefined> | undefined;

  private constructor(
    readonly info: ImageInfo,
    private readonly options: SessionOptions,
    previous: ReconstructionResult | undefined,
  ) {
    this.logger = options.logger ?? silentLogger;
    this.attemptList = previous ? previous.attempts.map((a) => ({ ...a, render: { ...a.render } })) : [];
    this.shownIndex = previous && previous.attempts[previous.shown] ? previous.shown : undefined;
    this.provider = previous?.provider ?? 'offline';
    this.modelName = previous?.model ?? offlineAuthor;
    this.endpoint = previous?.endpoint;
    this.preset = previous?.preset;
    if (previous) {
      this.caption = previous.caption;
      this.altText = previous.altText;
      this.captionStyle = previous.captionStyle;
      this.captionAttempt = previous.captionAttempt;
      this.captionProvider = previous.captionProvider;
      this.notes = [...previous.notes];
    }
    this.timings = { ...(previous?.timings ?? {}) };
    this.nextStem = this.attemptList.length;
  }

  /** A session for an image: new, or continuing a saved result of the same image. */
  static async open(imagePath: string, options: SessionOptions, previous?: ReconstructionResult): Promise<ReconstructionSession> {
    const info = await readImage(imagePath);
    return new ReconstructionSession(info, options, previous);
  }

  /** Continues a saved result (its image must still be there). */
  static resume(result: ReconstructionResult, options: SessionOptions): Promise<ReconstructionSession> {
    return ReconstructionSession.open(result.image.path, options, result);
  }

  get imagePath(): string {
    return this.info.path;
  }

  get attempts(): readonly Attempt[] {
    return this.attemptList;
  }

  get best(): Attempt | undefined {
    return bestAttempt(this.attemptList);
  }

  /** The attempt the user sees: the one chosen or edited last, else the best. */
  get shown(): Attempt | undefined {
    return (this.shownIndex !== undefined ? this.attemptList[this.shownIndex] : undefined) ?? this.best;
  }

  get hasResult(): boolean {
    return this.attemptList.length > 0;
  }

  /** Shows another attempt of the history; Save, Open, Copy, Insert and Refine then act on it. */
  select(index: number): Attempt {
    const attempt = this.requireAttempt(index);
    this.shownIndex = index;
    this.choices++;
    return attempt;
  }

  /** The end of a reconstruct or refine shows the best, unless the user chose an attempt while it ran. */
  private showBestUnlessChosen(choicesAtStart: number): void {
    if (this.choices === choicesAtStart) this.shownIndex = this.best?.index;
  }

  /** The session as a result: the history, and the shown attempt's code, render and figures. */
  result(): ReconstructionResult {
    const shown = this.shown;
    const best = this.best;
    if (!shown || !best) throw new RefigureError('render', 'No attempt was made.', undefined, { code: 'no-attempt' });
    return {
      version: 2,
      image: { path: this.info.path, width: this.info.width, height: this.info.height, format: this.info.format },
      provider: this.provider,
      model: this.modelName,
      endpoint: this.endpoint,
      preset: this.preset,
      code: shown.code,
      caption: this.caption,
      altText: this.altText,
      captionStyle: this.captionStyle,
      captionAttempt: this.captionAttempt,
      captionProvider: this.captionProvider,
      shown: shown.index,
      best: best.index,
      render: renderSummary(shown.render),
      metrics: shown.metrics ?? null,
      differences: shown.differences ?? [],
      verdict: shown.verdict ?? (shown.render.ok && shown.metrics ? verdictOf(shown.metrics.pixelFidelity ?? shown.metrics.fidelity, 0) : { code: 'failed', textDifferences: 0 }),
      attempts: this.attemptList.map((a) => ({ ...a })),
      timings: { ...this.timings },
      notes: [...this.notes],
    };
  }

  // ── operations ─────────────────────────────────────────────────────────────

  /**
   * Asks the model (or traces offline) for new attempts, refines them, and captions the best. The new attempts
   * join the history; the best of the whole history is shown.
   */
  async reconstruct(request: ReconstructRequest): Promise<ReconstructionResult> {
    const { signal } = request;
    const started = Date.now();
    this.notes = [];
    const style = request.captionStyle ?? 'caption';
    // The worker boots and the original's text is read while the model answers, so the first render
    // finds both ready.
    this.options.renderer.warm?.();
    void this.readOriginalText(signal);
    const before = this.attemptList.length;
    const choices = this.choices;
    if (request.model) {
      const model = request.model;
      const preset = request.preset ?? 'codepercept';
      const image = await this.timed('input', () => this.imageForModel(request));
      const candidates = Math.max(1, Math.floor(request.candidates ?? 1));
      this.progress(request, 'model', `Asking ${model.config.model || 'the model'} for code`);
      const t0 = Date.now();
      const replies = await this.timed('model', () =>
        model.chat({
          messages: buildReconstructMessages(preset, image),
          preset,
          n: candidates,
          seed: request.seed,
          signal,
          onDelta: (text, tokens) => request.onProgress?.({ kind: 'tokens', text, tokens, elapsedMs: Date.now() - t0 }),
        }),
      );
      throwIfAborted(signal);
      this.progress(request, 'extract', 'Extracting the code');
      const codes = await Promise.all(
        replies.map(async (reply) => {
          try {
            return await codeOf(reply.text, this.options.renderer);
          } catch (error) {
            if (replies.length === 1) throw error;
            this.note('candidate-no-code', `A candidate came back without code: ${describeError(error)}`);
            return undefined;
          }
        }),
      );
      if (codes.every((code) => code === undefined)) await codeOf(replies[0]?.text ?? '', this.options.renderer);
      this.usedModel(model, preset);
      const perReply = (Date.now() - t0) / 1000 / Math.max(1, replies.length);
      const made: Attempt[] = [];
      for (const [i, code] of codes.entries()) {
        if (code === undefined) continue;
        const kind: AttemptKind = replies.length > 1 ? 'candidate' : 'initial';
        made.push(await this.renderAttempt(code, kind, { ...request, author: model.config.model, usage: replies[i]?.usage, seed: replies[i]?.seed, seconds: perReply }));
        throwIfAborted(signal);
      }
      const base = bestAttempt(made);
      if (base) await this.timed('refine', () => this.refineFrom(base, { ...request, model, preset, rounds: request.refine ?? 0, target: request.target ?? defaultTarget }));
    } else {
      this.note('offline', 'The offline trace made this redraw: it traces shapes and colours and reads the text; it does not perceive content.');
      this.progress(request, 'model', 'Tracing the figure offline (no model)');
      // Text read with confidence is written as text, not traced.
      const texts = await this.readOriginalText(signal);
      const trace = await this.timed('model', () => traceToCode(this.info, this.options.renderer, { scratchDir: this.options.workDir, signal, texts }));
      throwIfAborted(signal);
      const attempt = await this.renderAttempt(trace.code, 'initial', { ...request, author: offlineAuthor, seconds: trace.seconds });
      this.provider = 'offline';
      this.modelName = offlineAuthor;
      this.endpoint = undefined;
      this.preset = undefined;
      this.setCaption(trace, style, attempt.index, 'offline');
    }
    throwIfAborted(signal);
    const best = this.best;
    this.showBestUnlessChosen(choices);
    if (best && best.index < before && this.attemptList.length > before) {
      this.note('earlier-best', `Attempt ${best.index + 1}, made earlier, is still the best of the history; this run's attempts are kept beside it.`, best.index);
    }
    if (request.model && request.caption !== false && best) await this.captionAttemptIfNeeded(best, request.model, style, request);
    this.timings.total = round3((Date.now() - started) / 1000);
    this.progress(request, 'done', best?.render.ok ? 'Rendered' : 'The code did not render');
    return this.result();
  }

  /** Renders code the user edited as a new attempt and shows it. */
  async acceptEdit(code: string, options: OperationOptions = {}): Promise<Attempt> {
    const from = this.shown?.index;
    const attempt = await this.renderAttempt(code, 'edit', { ...options, from, author: userAuthor });
    throwIfAborted(options.signal);
    this.notes = [];
    this.shownIndex = attempt.index;
    this.choices++;
    return attempt;
  }

  /** More rounds with the model, from the attempt shown (or `from`): a repair when it failed, a refinement when it rendered. */
  async refine(request: RefineRequest): Promise<ReconstructionResult> {
    const started = Date.now();
    const base = this.requireAttempt(request.from ?? this.shown?.index);
    const preset = request.preset ?? this.preset ?? 'codepercept';
    this.notes = [];
    const previousBest = this.best;
    const choices = this.choices;
    try {
      await this.refineFrom(base, { ...request, preset, rounds: request.rounds ?? 1, target: request.target ?? Number.POSITIVE_INFINITY });
    } finally {
      this.timings.refine = round3((this.timings.refine ?? 0) + (Date.now() - started) / 1000);
    }
    const best = this.best;
    this.showBestUnlessChosen(choices);
    if (best && best !== previousBest && request.caption !== false) await this.captionAttemptIfNeeded(best, request.model, this.captionStyle, request);
    return this.result();
  }

  /**
   * The attempt shown (or `attempt`) as SVG or PDF, saved by matplotlib from its code at the figure's own size
   * (not fitted to the original's): the file in the work folder.
   */
  async exportAttempt(format: ExportFormat, options: OperationOptions & { attempt?: number } = {}): Promise<string> {
    const attempt = this.requireAttempt(options.attempt ?? this.shown?.index);
    if (!attempt.render.ok) {
      throw new RefigureError('render', `Attempt ${attempt.index + 1} did not render; only a redraw that rendered can be exported.`, 'Fix the code first.');
    }
    this.progress(options, 'render', `Saving attempt ${attempt.index + 1} as ${format.toUpperCase()}`);
    const render = await this.options.renderer.render({
      code: attempt.code,
      outDir: this.options.workDir,
      stem: `export-${++this.nextStem}`,
      timeoutMs: this.options.renderTimeoutMs,
      signal: options.signal,
      export: format,
    });
    throwIfAborted(options.signal);
    if (!render.ok) throw new RefigureError('render', `The code did not render this time: ${render.error?.message ?? 'unknown error'}`);
    if (!render.export) throw new RefigureError('render', render.exportError ?? `No ${format.toUpperCase()} was made.`);
    return render.export;
  }

  /** A caption grounded in an attempt's code (default: the one shown); it must have rendered. */
  async recaption(request: CaptionRequest): Promise<{ caption: string; altText: string }> {
    const attempt = this.requireAttempt(request.attempt ?? this.shown?.index);
    if (!attempt.render.ok) {
      throw new RefigureError('render', `Attempt ${attempt.index + 1} did not render; a caption is grounded only in code that rendered.`, 'Fix the code first.');
    }
    const style = request.style ?? this.captionStyle;
    this.progress(request, 'caption', 'Writing a caption grounded in the code');
    const image = await this.imageForModel(request);
    const written = await this.timed('caption', () => requestCaption(request.model, { image, code: attempt.code, style, signal: request.signal }));
    throwIfAborted(request.signal);
    this.setCaption(written, style, attempt.index, 'model');
    return { caption: written.caption, altText: written.altText };
  }

  /**
   * Renders `code` as the next attempt, records it, marks the best and reports it: the one place an
   * attempt is made, whoever wrote the code.
   */
  async renderAttempt(
    code: string,
    kind: AttemptKind,
    extra: OperationOptions & { from?: number; author?: string; usage?: TokenUsage; seed?: number; seconds?: number } = {},
  ): Promise<Attempt> {
    const stem = `attempt-${++this.nextStem}`;
    this.progress(extra, 'render', `Rendering attempt ${this.attemptList.length + 1}`);
    const { render, metrics, differences, verdict } = await this.timed('render', () => this.render(code, stem, extra.signal));
    const index = this.attemptList.length;
    const attempt: Attempt = {
      index,
      kind,
      from: extra.from,
      author: extra.author,
      code,
      render,
      metrics,
      usage: extra.usage,
      ...(extra.seed !== undefined ? { seed: extra.seed } : {}),
      seconds: round3((extra.seconds ?? 0) + render.seconds),
      best: false,
      differences,
      verdict,
    };
    this.attemptList.push(attempt);
    const best = bestAttempt(this.attemptList);
    for (const a of this.attemptList) a.best = a === best;
    this.logger.info(
      render.ok
        ? `Attempt ${index + 1} (${kind}) rendered in ${render.seconds.toFixed(2)} s, fidelity ${render.metrics?.fidelity ?? 'n/a'}.`
        : `Attempt ${index + 1} (${kind}) did not render: ${render.error?.message ?? 'unknown error'}`,
    );
    if (render.output) this.logger.debug(`Render output of attempt ${index + 1}:\n${render.output}`);
    extra.onProgress?.({ kind: 'attempt', attempt });
    return attempt;
  }

  // ── the refinement loop ────────────────────────────────────────────────────

  /**
   * At most `rounds` rounds from `base`:
   * - `base` did not render → **repair** it with its traceback and failing lines; repairs go on while rounds remain;
   * - it rendered → **refine** it with the original, its render, the diff heat map, its code and figures.
   * Stops at the target fidelity, when a refinement gains less than `defaultMinGain` over the attempt it refined
   * (code that fails counts as no gain), when the rounds run out, or on cancel. An endpoint error in a later round
   * ends the loop with a note, keeping the attempts made.
   */
  private async refineFrom(
    base: Attempt,
    request: OperationOptions & Seeded & { model: ModelClient; preset: PresetName; rounds: number; target: number },
  ): Promise<number> {
    const { model, preset, signal, target } = request;
    const maxRounds = Math.max(0, Math.floor(request.rounds));
    let current = base;
    let rounds = 0;
    const reached = () =>
      this.note('refine-target', `Refinement reached the target fidelity ${target} after ${rounds} round(s).`, current.index);
    while (rounds < maxRounds) {
      throwIfAborted(signal);
      const fidelity = current.render.ok ? (current.metrics?.fidelity ?? 0) : undefined;
      if (reachedTarget(current, target)) {
        if (rounds) reached();
        return rounds;
      }
      const repairing = fidelity === undefined;
      rounds++;
      this.progress(
        request,
        'refine',
        repairing
          ? `Round ${rounds} of ${maxRounds}: repairing attempt ${current.index + 1} (${current.render.error?.message ?? 'it did not render'})`
          : `Round ${rounds} of ${maxRounds}: refining attempt ${current.index + 1} (fidelity ${fidelity.toFixed(3)})`,
      );
      let attempt: Attempt;
      try {
        const image = await this.imageForModel(request);
        const messages = repairing
          ? buildRepairMessages(preset, image, current)
          : buildRefineMessages(preset, image, current, await this.renderImages(current, signal), target);
        throwIfAborted(signal);
        const t0 = Date.now();
        const [reply] = await model.chat({
          messages,
          preset,
          seed: request.seed === undefined ? undefined : request.seed + rounds,
          signal,
          onDelta: (text, tokens) => request.onProgress?.({ kind: 'tokens', text, tokens, elapsedMs: Date.now() - t0 }),
        });
        throwIfAborted(signal);
        if (!reply) throw new RefigureError('endpoint', 'The model sent no reply.');
        this.usedModel(model, preset);
        let code: string;
        try {
          code = await codeOf(reply.text, this.options.renderer);
        } catch (error) {
          this.logger.warn(`Round ${rounds}: ${describeError(error)}`);
          if (repairing) continue;
          this.note('refine-no-code', `Refinement stopped after ${rounds} round(s): the last reply had no code.`);
          return rounds;
        }
        const seconds = (Date.now() - t0) / 1000;
        attempt = await this.renderAttempt(code, repairing ? 'repair' : 'refine', { ...request, from: current.index, author: model.config.model, usage: reply.usage, seed: reply.seed, seconds });
      } catch (error) {
        if (isAbort(error) || signal?.aborted) throw error;
        this.logger.warn(`Refinement round ${rounds} failed: ${describeError(error)}`);
        this.note('refine-failed', `Refinement stopped after ${rounds} round(s): ${describeError(error)}`);
        return rounds;
      }
      throwIfAborted(signal);
      if (repairing) {
        current = attempt;
        continue;
      }
      const gained = attempt.render.ok ? (attempt.metrics?.fidelity ?? 0) - (fidelity ?? 0) : undefined;
      // Fixing a label is progress even when the pixels barely move.
      const fewerTextDifferences = attempt.render.ok && confidentTextDifferences(attempt.differences).length < confidentTextDifferences(current.differences).length;
      if (gained === undefined || (gained < defaultMinGain && !fewerTextDifferences)) {
        const why =
          gained === undefined
            ? `the code of attempt ${attempt.index + 1} did not render`
            : `attempt ${attempt.index + 1} changed fidelity by ${gained >= 0 ? '+' : ''}${gained.toFixed(3)} over attempt ${current.index + 1}`;
        const best = this.best;
        this.note('refine-stalled', `Refinement stopped after ${rounds} round(s): ${why}. Attempt ${(best?.index ?? 0) + 1} is the best.`, best?.index);
        return rounds;
      }
      current = attempt;
    }
    if (reachedTarget(current, target)) reached();
    return rounds;
  }

  // ── helpers ────────────────────────────────────────────────────────────────

  /** Renders code against the original and scores it: pixel figures, the text read beside them, differences, verdict. */
  private async render(code: string, stem: string, signal: AbortSignal | undefined): Promise<{ render: RenderOutcome } & AttemptScore> {
    const { info } = this;
    // The original's text is read (or found in the cache) while the code renders.
    const text = this.readOriginalText(signal);
    const render = await this.options.renderer.render({
      code,
      like: { path: info.path, width: info.width, height: info.height },
      outDir: this.options.workDir,
      stem,
      timeoutMs: this.options.renderTimeoutMs,
      signal,
    });
    const original = render.ok ? await text : undefined;
    throwIfAborted(signal);
    const score = await scoreWithSecondLook(render, original, info, this.textReader(), signal);
    throwIfAborted(signal);
    return { render, ...score };
  }

  private textReader(): OriginalTextReader | undefined {
    return this.options.readText === undefined ? processTextReader : this.options.readText || undefined;
  }

  private readOriginalText(signal: AbortSignal | undefined): Promise<TextItem[] | undefined> {
    const reader = this.textReader();
    if (!reader) return Promise.resolve(undefined);
    this.originalText ??= reader(this.info.path, signal).catch((error: unknown) => {
      this.originalText = undefined;
      if (isAbort(error) || signal?.aborted) throw error;
      this.logger.warn(`The original's text could not be read; fidelity is measured on pixels only: ${describeError(error)}`);
      return undefined;
    });
    const pending = this.originalText;
    // An unread result must not become an unhandled rejection when the render fails first.
    pending.catch(() => undefined);
    return pending;
  }

  /** The render of an attempt whose files are gone (a saved result keeps only the shown one's) is made again. */
  private async ensureRendered(attempt: Attempt, signal: AbortSignal | undefined): Promise<RenderOutcome> {
    if (!attempt.render.ok || (attempt.render.png && existsSync(attempt.render.png))) return attempt.render;
    const { render, metrics, differences, verdict } = await this.render(attempt.code, `attempt-${++this.nextStem}`, signal);
    attempt.render = render;
    attempt.metrics = metrics;
    attempt.differences = differences;
    attempt.verdict = verdict;
    return render;
  }

  private async renderImages(attempt: Attempt, signal: AbortSignal | undefined): Promise<{ render: ModelImage; diff?: ModelImage }> {
    const render = await this.ensureRendered(attempt, signal);
    if (!render.png) throw new RefigureError('render', `Attempt ${attempt.index + 1} rendered but left no PNG.`);
    const { renderer, workDir } = this.options;
    const asModelImage = async (png: string) => prepareForModel(await readImage(png), renderer, workDir, signal);
    return { render: await asModelImage(render.png), diff: render.diffPng ? await asModelImage(render.diffPng) : undefined };
  }

  private async imageForModel(options: OperationOptions): Promise<ModelImage> {
    if (!this.modelImage) {
      this.progress(options, 'input', `Preparing ${basename(this.info.path)} for the model`);
      this.modelImage = await prepareForModel(this.info, this.options.renderer, this.options.workDir, options.signal);
    }
    throwIfAborted(options.signal);
    return this.modelImage;
  }

  private async captionAttemptIfNeeded(attempt: Attempt, model: ModelClient, style: CaptionStyle, options: OperationOptions): Promise<void> {
    if (!attempt.render.ok) {
      this.note('caption-not-rendered', 'No caption: the code did not render, and captions are grounded only in code that rendered.');
      return;
    }
    if (this.captionAttempt === attempt.index && this.captionProvider === 'model' && this.captionStyle === style && this.caption) return;
    try {
      await this.recaption({ ...options, model, style, attempt: attempt.index });
    } catch (error) {
      if (isAbort(error) || options.signal?.aborted) throw error;
      this.logger.warn(`Caption failed: ${describeError(error)}`);
      this.note('caption-failed', `The caption could not be written: ${describeError(error)}`);
    }
  }

  private setCaption(written: { caption: string; altText: string }, style: CaptionStyle, attempt: number, provider: Provider): void {
    this.caption = written.caption;
    this.altText = written.altText;
    this.captionStyle = style;
    this.captionAttempt = attempt;
    this.captionProvider = provider;
  }

  private usedModel(model: ModelClient, preset: PresetName): void {
    this.provider = 'model';
    this.modelName = model.config.model;
    this.endpoint = model.config.baseURL;
    this.preset = preset;
  }

  private requireAttempt(index: number | undefined): Attempt {
    const attempt = index !== undefined ? this.attemptList[index] : undefined;
    if (attempt) return attempt;
    if (!this.attemptList.length) throw new RefigureError('usage', 'There is no attempt yet.', 'Reconstruct the figure first.', { code: 'no-attempt' });
    throw new RefigureError('usage', `There is no attempt ${(index ?? -1) + 1}; the history has ${this.attemptList.length}.`, undefined, { code: 'no-attempt' });
  }

  private note(code: NoteCode, message: string, attempt?: number): void {
    this.notes.push(attempt === undefined ? { code, message } : { code, message, attempt });
  }

  private progress(options: OperationOptions, stage: Stage, message: string): void {
    this.logger.debug(`[${stage}] ${message}`);
    options.onProgress?.({ kind: 'stage', stage, message });
  }

  private async timed<T>(name: string, work: () => Promise<T>): Promise<T> {
    const t0 = Date.now();
    try {
      return await work();
    } finally {
      this.timings[name] = round3((this.timings[name] ?? 0) + (Date.now() - t0) / 1000);
    }
  }
}

/**
 * The code of a reply: its fenced block, else the whole reply when Python's parser accepts it (bare code);
 * a reply without code is an error with the code `no-code`.
 */
export async function codeOf(reply: string, renderer: Pick<Renderer, 'parses'>): Promise<string> {
  try {
    return await requireCodeOrBare(reply, (code) => renderer.parses?.(code) ?? Promise.resolve(false));
  } catch (error) {
    if (error instanceof RefigureError) throw new RefigureError(error.kind, error.message, error.hint, { cause: error, code: 'no-code' });
    throw error;
  }
}
