// `refigure eval`'s run: each item reconstructed once, resumably, into one record per line of results.jsonl.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import type { Attempt, Difference, Logger, Metrics, ModelClient, PresetName, ReconstructionResult, Renderer, Verdict } from '../types';
import { type OriginalTextReader, cachedTextReader } from '../reconstruct/session';
import { confidentTextDifferences } from '../fidelity/differences';
import { OcrReader, createOcrCache } from '../fidelity/ocr';
import { silentLogger } from '../types';
import { RefigureError, describeError, errorCode, isAbort, throwIfAborted } from '../errors';
import { reconstruct } from '../reconstruct/pipeline';
import { bestAttempt } from '../reconstruct/refine';
import { judgeImages } from './judge';
import type { EvalItem } from './evalDataset';
import { type ReferenceScore, scoreAgainstReference, sha256File } from './evalReference';
import { sum } from '../../shared/values';

// ─── Records ────────────────────────────────────────────────────────────────

/**
 * `rendered`: the final answer rendered. `failed`: it did not render, or the model gave no code.
 * `timeout`: the item ran past `--item-timeout` (its best attempt so far is kept).
 * `error`: the run could not ask or render (endpoint down, bad image); left out of the figures and retried on a re-run.
 */
export type EvalStatus = 'rendered' | 'failed' | 'timeout' | 'error';

export interface EvalAttemptRecord {
  index: number;
  kind: Attempt['kind'];
  ok: boolean;
  fidelity: number | null;
  tokens: number;
  seconds: number;
  best: boolean;
  error?: string;
}

export interface EvalRecord {
  id: string;
  image: string;
  status: EvalStatus;
  provider: ReconstructionResult['provider'];
  model: string;
  /** Figures of the best attempt that rendered; null when none did. */
  metrics: Metrics | null;
  /** Whether the first answer rendered (the paper's single-shot execution rate). */
  firstRendered: boolean;
  firstFidelity: number | null;
  /** Repair and refine rounds used. */
  rounds: number;
  attempts: EvalAttemptRecord[];
  tokens: { prompt: number; completion: number };
  /** Wall-clock seconds of the whole item. */
  seconds: number;
  code: string;
  caption: string;
  /** Relative to the run folder. */
  png: string | null;
  diff: string | null;
  error?: string;
  judge?: { score: number | null; reply: string; tokens: number } | { error: string };
  hasReferenceCode: boolean;
  domain?: string;
  /** The best attempt's differences by kind (text: confident ones), and its verdict; absent when nothing rendered. */
  differences?: { text: number; textDifferent: number; textMissing: number; textExtra: number; ink: number };
  verdict?: Verdict['code'];
  /** Compatibility shims the final answer's render needed: it rendered "raw" when none fired. */
  compat?: string[];
  /** The seed of the item's first model request, when the endpoint took it (`itemSeed`). */
  seed?: number;
  /** SHA-256 of the final render's PNG: a rerun reproduces it byte for byte or says why not. */
  renderSha256?: string | null;
  /** The answer against the reference program (README, "Reference-code figures"), when the item has one. */
  reference?: ReferenceScore;
  finishedAt: string;
}

// ─── Running ────────────────────────────────────────────────────────────────

/**
 * The seed of an item's model requests: the first 31 bits of SHA-256("refigure-eval-seed\0" + id). The same item
 * gets the same seed in every run and on every machine, and items get different ones.
 */
export function itemSeed(id: string): number {
  return createHash('sha256').update(`refigure-eval-seed\0${id}`).digest().readUInt32BE(0) >>> 1;
}

export interface EvalOptions {
  items: EvalItem[];
  outDir: string;
  renderer: Renderer;
  /** Absent: the offline provider. */
  model?: ModelClient;
  judge?: ModelClient;
  preset?: PresetName;
  concurrency?: number;
  itemTimeoutMs?: number;
  renderTimeoutMs?: number;
  refine?: number;
  candidates?: number;
  target?: number;
  caption?: boolean;
  signal?: AbortSignal;
  onProgress?: (event: EvalProgress) => void;
  logger?: Logger;
}

export interface EvalProgress {
  kind: 'start' | 'item';
  total: number;
  /** Items finished in earlier runs and skipped now. */
  resumed: number;
  done: number;
  record?: EvalRecord;
}

export const resultsFile = 'results.jsonl';

/** The records of a run folder (or a results.jsonl), the last record per item winning. */
export async function readResults(pathOrDir: string): Promise<EvalRecord[]> {
  let file = resolve(pathOrDir);
  if (existsSync(file) && (await stat(file)).isDirectory()) file = join(file, resultsFile);
  if (!existsSync(file)) {
    throw new RefigureError('usage', `No results at ${file}.`, 'Give the --out folder of an earlier `refigure eval` run.');
  }
  const byId = new Map<string, EvalRecord>();
  for (const line of (await readFile(file, 'utf8')).split('\n')) {
    if (!line.trim()) continue;
    try {
      const record = JSON.parse(line) as EvalRecord;
      if (typeof record.id === 'string') byId.set(record.id, record);
    } catch {
      // A line cut short by an interrupted run; the item is simply run again.
    }
  }
  return [...byId.values()];
}

/** Runs every item not finished in an earlier run into `outDir`; returns all records of the items, old and new. */
export async function runEvaluation(options: EvalOptions): Promise<EvalRecord[]> {
  const logger = options.logger ?? silentLogger;
  const outDir = resolve(options.outDir);
  await mkdir(join(outDir, 'items'), { recursive: true });
  const resultsPath = join(outDir, resultsFile);
  const previous = existsSync(resultsPath) ? await readResults(resultsPath) : [];
  const finished = new Map(previous.filter((r) => r.status !== 'error').map((r) => [r.id, r]));
  const pending = options.items.filter((item) => !finished.has(item.id));
  const resumed = options.items.length - pending.length;
  if (resumed) logger.info(`Resuming: ${resumed} of ${options.items.length} items are already done.`);
  const records = new Map<string, EvalRecord>();
  for (const item of options.items) {
    const done = finished.get(item.id);
    if (done) records.set(item.id, done);
  }
  let done = 0;
  options.onProgress?.({ kind: 'start', total: options.items.length, resumed, done });

  const lanes = Math.max(1, Math.min(options.concurrency ?? 1, pending.length || 1));
  // Each original's text is read once per run, however many attempts meet it, by as many OCR threads as
  // there are lanes: one thread would make the lanes wait for each other's reading.
  const ocr = new OcrReader(undefined, lanes);
  const readText = cachedTextReader(createOcrCache(), ocr);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      throwIfAborted(options.signal);
      const item = pending[next++];
      if (!item) return;
      const record = await evaluateItem(item, options, outDir, logger, readText);
      throwIfAborted(options.signal);
      await appendFile(resultsPath, `${JSON.stringify(record)}\n`);
      records.set(item.id, record);
      done++;
      options.onProgress?.({ kind: 'item', total: options.items.length, resumed, done, record });
    }
  };
  try {
    await Promise.all(Array.from({ length: lanes }, worker));
  } finally {
    await ocr.dispose();
  }
  return options.items.map((item) => records.get(item.id)).filter((r): r is EvalRecord => r !== undefined);
}

/** The best attempt's differences, counted by kind: text counts only confident ones (as the verdict does). */
function differenceCounts(differences: readonly Difference[] | undefined): NonNullable<EvalRecord['differences']> {
  const text = confidentTextDifferences(differences);
  return {
    text: text.length,
    textDifferent: text.filter((d) => d.kind === 'text-different').length,
    textMissing: text.filter((d) => d.kind === 'text-missing').length,
    textExtra: text.filter((d) => d.kind === 'text-extra').length,
    ink: (differences ?? []).filter((d) => d.kind === 'missing-ink' || d.kind === 'extra-ink' || d.kind === 'colour').length,
  };
}

async function evaluateItem(item: EvalItem, options: EvalOptions, outDir: string, logger: Logger, readText: OriginalTextReader): Promise<EvalRecord> {
  const workDir = join(outDir, 'items', safeName(item.id));
  await mkdir(workDir, { recursive: true });
  const controller = new AbortController();
  let timedOut = false;
  const onAbort = () => controller.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const timer = options.itemTimeoutMs
    ? setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, options.itemTimeoutMs)
    : undefined;
  const seen: Attempt[] = [];
  const started = Date.now();
  const provider = options.model ? 'model' : 'offline';
  const modelName = options.model?.config.model ?? 'offline-trace';
  try {
    const result = await reconstruct({
      imagePath: item.image,
      renderer: options.renderer,
      workDir,
      model: options.model,
      preset: options.preset,
      caption: options.caption ?? false,
      renderTimeoutMs: options.renderTimeoutMs,
      refine: options.refine,
      candidates: options.candidates,
      target: options.target,
      seed: options.model ? itemSeed(item.id) : undefined,
      readText,
      signal: controller.signal,
      onProgress: (event) => {
        if (event.kind === 'attempt') seen.push(event.attempt);
      },
      logger,
    });
    const record = recordFrom(item, result.attempts, outDir, started, result.provider, result.model);
    record.caption = result.caption;
    if (options.judge && record.png) record.judge = await judgeItem(options.judge, item.image, join(outDir, record.png), options, workDir, controller.signal);
    record.renderSha256 = record.png ? await sha256File(join(outDir, record.png)) : null;
    if (item.referenceCode !== undefined) {
      const scored = await scoreAgainstReference({
        renderer: options.renderer,
        image: item.image,
        code: record.png ? record.code : null,
        referenceCode: item.referenceCode,
        workDir,
        renderTimeoutMs: options.renderTimeoutMs,
        signal: controller.signal,
      });
      record.reference = scored.score;
    }
    return record;
  } catch (error) {
    if (options.signal?.aborted) throw error;
    if (timedOut && isAbort(error)) {
      const record = recordFrom(item, seen, outDir, started, provider, modelName);
      record.status = 'timeout';
      record.error = `The item ran longer than ${(options.itemTimeoutMs ?? 0) / 1000} s.`;
      return record;
    }
    const record = recordFrom(item, seen, outDir, started, provider, modelName);
    record.error = describeError(error);
    // A reply without code is the model's failure, like code that does not run; anything else is the run's.
    const noCode = errorCode(error) === 'no-code';
    record.status = noCode ? 'failed' : 'error';
    logger.warn(`${item.id}: ${record.error}`);
    return record;
  } finally {
    if (timer) clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

async function judgeItem(
  judge: ModelClient,
  referencePath: string,
  png: string,
  options: EvalOptions,
  workDir: string,
  signal: AbortSignal,
): Promise<EvalRecord['judge']> {
  try {
    const verdict = await judgeImages(judge, { referencePath, generatedPng: png, renderer: options.renderer, workDir, signal });
    return { score: verdict.score, reply: verdict.reply, tokens: verdict.usage.promptTokens + verdict.usage.completionTokens };
  } catch (error) {
    if (isAbort(error)) throw error;
    return { error: describeError(error) };
  }
}

function recordFrom(
  item: EvalItem,
  attempts: readonly Attempt[],
  outDir: string,
  started: number,
  provider: EvalRecord['provider'],
  model: string,
): EvalRecord {
  const best = bestAttempt(attempts);
  const rendered = best?.render.ok ? best : undefined;
  const first = attempts[0];
  const prompt = sum(attempts.map((a) => a.usage?.promptTokens ?? 0));
  const completion = sum(attempts.map((a) => a.usage?.completionTokens ?? 0));
  const rel = (path: string | undefined) => (path ? relative(outDir, path) : null);
  return {
    id: item.id,
    image: item.image,
    status: rendered ? 'rendered' : 'failed',
    provider,
    model,
    metrics: rendered?.metrics ?? null,
    ...(rendered ? { differences: differenceCounts(rendered.differences), verdict: rendered.verdict?.code } : {}),
    ...(first?.seed !== undefined ? { seed: first.seed } : {}),
    firstRendered: first?.render.ok ?? false,
    firstFidelity: first?.render.ok ? (first.metrics?.fidelity ?? null) : null,
    rounds: attempts.filter((a) => a.kind === 'repair' || a.kind === 'refine').length,
    attempts: attempts.map((a) => ({
      index: a.index,
      kind: a.kind,
      ok: a.render.ok,
      fidelity: a.metrics?.fidelity ?? null,
      tokens: (a.usage?.promptTokens ?? 0) + (a.usage?.completionTokens ?? 0),
      seconds: a.seconds,
      best: a === best,
      error: a.render.error?.message,
    })),
    tokens: { prompt, completion },
    seconds: Math.round(Date.now() - started) / 1000,
    code: best?.code ?? '',
    caption: '',
    png: rel(rendered?.render.png),
    diff: rel(rendered?.render.diffPng),
    error: best && !best.render.ok ? best.render.error?.message : undefined,
    hasReferenceCode: item.referenceCode !== undefined,
    ...(item.domain ? { domain: item.domain } : {}),
    compat: rendered?.render.compat ?? [],
    finishedAt: new Date().toISOString(),
  };
}

export function safeName(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 120) || 'item';
}
