// `refigure eval`: run the pipeline over a data set, resumably, and summarise the deterministic figures (and judge scores).
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Attempt, Logger, Metrics, ModelClient, PresetName, ReconstructionResult, Renderer } from './types';
import { silentLogger } from './types';
import { RefigureError, describeError, errorCode, isAbort, throwIfAborted } from './errors';
import { round3 } from '../shared/values';
import { reconstruct } from './pipeline';
import { extractCode } from './extract';
import { bestAttempt } from './refine';
import { judgeImages } from './judge';

// ─── Data sets ──────────────────────────────────────────────────────────────

export interface EvalItem {
  /** Stable across runs: resuming and `--compare-with` match items by it. */
  id: string;
  /** Absolute path of the figure. */
  image: string;
  /** The reference code of a STEM2Code-style record, when it has one. */
  referenceCode?: string;
}

const imageExtensions = new Set(['.png', '.jpg', '.jpeg', '.webp', '.gif', '.bmp']);

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
  const names = (await readdir(dir)).filter((name) => imageExtensions.has(extname(name).toLowerCase())).sort();
  return names.map((name) => ({ id: name, image: join(dir, name) }));
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
    items.push({ id, image, referenceCode: parsed.reference ? (extractCode(parsed.reference) ?? parsed.reference) : undefined });
  }
  return items;
}

/** Reads the fields the published harness uses; anything else in the record is ignored. */
function parseRecord(record: unknown): { id?: string; image?: string; reference?: string } {
  const out: { id?: string; image?: string; reference?: string } = {};
  if (!isObject(record)) return out;
  if (typeof record.id === 'string' || typeof record.id === 'number') out.id = String(record.id);
  const images = record.images;
  if (Array.isArray(images) && typeof images[0] === 'string') out.image = images[0];
  else if (typeof record.image === 'string') out.image = record.image;
  const messages = Array.isArray(record.messages) ? record.messages : [];
  for (const message of messages) {
    if (!isObject(message)) continue;
    const { role, content } = message;
    if (role === 'user' && !out.image && Array.isArray(content)) {
      for (const part of content) {
        if (!isObject(part)) continue;
        if (part.type === 'image' && typeof part.image === 'string') out.image = part.image;
        else if (part.type === 'image_url') {
          const url = part.image_url;
          if (typeof url === 'string') out.image = url;
          else if (isObject(url) && typeof url.url === 'string') out.image = url.url;
        }
        if (out.image) break;
      }
    }
    if (role === 'assistant' && out.reference === undefined) {
      if (typeof content === 'string') out.reference = content;
      else if (Array.isArray(content)) {
        out.reference = content.map((p) => (isObject(p) && typeof p.text === 'string' ? p.text : '')).join('\n');
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

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

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
  finishedAt: string;
}

// ─── Running ────────────────────────────────────────────────────────────────

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

  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      throwIfAborted(options.signal);
      const item = pending[next++];
      if (!item) return;
      const record = await evaluateItem(item, options, outDir, logger);
      throwIfAborted(options.signal);
      await appendFile(resultsPath, `${JSON.stringify(record)}\n`);
      records.set(item.id, record);
      done++;
      options.onProgress?.({ kind: 'item', total: options.items.length, resumed, done, record });
    }
  };
  const lanes = Math.max(1, Math.min(options.concurrency ?? 1, pending.length || 1));
  await Promise.all(Array.from({ length: lanes }, worker));
  return options.items.map((item) => records.get(item.id)).filter((r): r is EvalRecord => r !== undefined);
}

async function evaluateItem(item: EvalItem, options: EvalOptions, outDir: string, logger: Logger): Promise<EvalRecord> {
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
      signal: controller.signal,
      onProgress: (event) => {
        if (event.kind === 'attempt') seen.push(event.attempt);
      },
      logger,
    });
    const record = recordFrom(item, result.attempts, outDir, started, result.provider, result.model);
    record.caption = result.caption;
    if (options.judge && record.png) record.judge = await judgeItem(options.judge, item.image, join(outDir, record.png), options, workDir, controller.signal);
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
    finishedAt: new Date().toISOString(),
  };
}

function safeName(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 120) || 'item';
}

// ─── Summary ────────────────────────────────────────────────────────────────

export interface Distribution {
  n: number;
  mean: number | null;
  std: number | null;
  min: number | null;
  p10: number | null;
  p25: number | null;
  median: number | null;
  p75: number | null;
  p90: number | null;
  max: number | null;
}

export interface EvalSummary {
  version: 1;
  dataset: string;
  model: string;
  provider: ReconstructionResult['provider'];
  settings: Record<string, string | number | boolean | null>;
  items: number;
  /** Items with a record other than `error`: the denominator of every rate. */
  evaluated: number;
  execution: { rendered: number; failed: number; timeouts: number; errors: number; rate: number | null; firstAnswerRate: number | null };
  /** Over rendered items. */
  fidelity: Distribution;
  /** Mean fidelity with items that did not render counted as 0 (comparable to the paper's scores). */
  fidelityAll: number | null;
  /** Fidelity of the first answer over items whose first answer rendered. */
  firstFidelity: Distribution;
  histogram: { edges: number[]; counts: number[] };
  ssim: Distribution;
  edgeF1: Distribution;
  pixelMatch: Distribution;
  colorDistance: Distribution;
  rounds: { mean: number | null; total: number; counts: Record<string, number> };
  tokens: { prompt: number; completion: number; meanPerItem: number | null };
  seconds: { total: number; mean: number | null; median: number | null; wall?: number };
  judge?: { model: string; judged: number; errors: number; score: Distribution; scoreAll: number | null };
  comparison?: Comparison;
  markdown: string;
}

/** Quantile with linear interpolation between order statistics (numpy's default, "type 7"). */
export function quantile(sorted: readonly number[], q: number): number | null {
  if (!sorted.length) return null;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (pos - lo);
}

export function distribution(values: readonly number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const mean = n ? sum(sorted) / n : null;
  const std = n && mean !== null ? Math.sqrt(sum(sorted.map((v) => (v - mean) ** 2)) / n) : null;
  return {
    n,
    mean,
    std,
    min: n ? (sorted[0] as number) : null,
    p10: quantile(sorted, 0.1),
    p25: quantile(sorted, 0.25),
    median: quantile(sorted, 0.5),
    p75: quantile(sorted, 0.75),
    p90: quantile(sorted, 0.9),
    max: n ? (sorted[n - 1] as number) : null,
  };
}

/** Ten bins of width 0.1 over [0, 1]; 1.0 falls in the last bin. */
export function histogram(values: readonly number[]): { edges: number[]; counts: number[] } {
  const counts = new Array<number>(10).fill(0);
  for (const v of values) counts[Math.min(9, Math.max(0, Math.floor(v * 10)))]! += 1;
  return { edges: Array.from({ length: 11 }, (_, i) => i / 10), counts };
}

export function summarize(
  records: readonly EvalRecord[],
  meta: { dataset: string; items: number; settings: EvalSummary['settings']; judgeModel?: string; wallSeconds?: number; comparison?: Comparison },
): EvalSummary {
  const evaluated = records.filter((r) => r.status !== 'error');
  const rendered = evaluated.filter((r) => r.metrics);
  const metric = (key: keyof Metrics) => rendered.map((r) => (r.metrics as Metrics)[key]);
  const fidelities = metric('fidelity');
  const n = evaluated.length;
  const roundCounts: Record<string, number> = {};
  for (const r of evaluated) roundCounts[String(r.rounds)] = (roundCounts[String(r.rounds)] ?? 0) + 1;
  const prompt = sum(evaluated.map((r) => r.tokens.prompt));
  const completion = sum(evaluated.map((r) => r.tokens.completion));
  const seconds = evaluated.map((r) => r.seconds);
  const first = records[0];
  const summary: EvalSummary = {
    version: 1,
    dataset: meta.dataset,
    model: first?.model ?? String(meta.settings.model ?? ''),
    provider: first?.provider ?? 'offline',
    settings: meta.settings,
    items: meta.items,
    evaluated: n,
    execution: {
      rendered: rendered.length,
      failed: evaluated.filter((r) => r.status === 'failed').length,
      timeouts: evaluated.filter((r) => r.status === 'timeout').length,
      errors: records.length - n,
      rate: n ? rendered.length / n : null,
      firstAnswerRate: n ? evaluated.filter((r) => r.firstRendered).length / n : null,
    },
    fidelity: distribution(fidelities),
    fidelityAll: n ? sum(fidelities) / n : null,
    firstFidelity: distribution(evaluated.flatMap((r) => (r.firstFidelity === null ? [] : [r.firstFidelity]))),
    histogram: histogram(fidelities),
    ssim: distribution(metric('ssim')),
    edgeF1: distribution(metric('edgeF1')),
    pixelMatch: distribution(metric('pixelMatch')),
    colorDistance: distribution(metric('colorDistance')),
    rounds: { mean: n ? sum(evaluated.map((r) => r.rounds)) / n : null, total: sum(evaluated.map((r) => r.rounds)), counts: roundCounts },
    tokens: { prompt, completion, meanPerItem: n ? (prompt + completion) / n : null },
    seconds: { total: round3(sum(seconds)), mean: n ? sum(seconds) / n : null, median: quantile([...seconds].sort((a, b) => a - b), 0.5), wall: meta.wallSeconds },
    comparison: meta.comparison,
    markdown: '',
  };
  if (meta.judgeModel) {
    const scores = evaluated.flatMap((r) => (r.judge && 'score' in r.judge && r.judge.score !== null ? [r.judge.score] : []));
    summary.judge = {
      model: meta.judgeModel,
      judged: scores.length,
      errors: evaluated.filter((r) => r.judge && 'error' in r.judge).length,
      score: distribution(scores),
      // Items that did not render score 0, as in the published harness.
      scoreAll: n ? sum(scores) / n : null,
    };
  }
  summary.markdown = summaryMarkdown(summary);
  return summary;
}

// ─── Comparison ─────────────────────────────────────────────────────────────

export interface ComparisonRow {
  id: string;
  /** Fidelity of this run and of the other (0 when it did not render). */
  ours: number | null;
  theirs: number | null;
  delta: number | null;
  outcome: 'win' | 'loss' | 'tie' | 'only-ours' | 'only-theirs';
}

export interface Comparison {
  other: string;
  otherModel: string;
  /** Differences smaller than this are ties. */
  margin: number;
  common: number;
  wins: number;
  losses: number;
  ties: number;
  meanDelta: number | null;
  execution: { ours: number; theirs: number };
  rows: ComparisonRow[];
}

/**
 * Item by item, on the items both runs evaluated. An item that did not render counts as fidelity 0,
 * so rendering where the other run failed is a win.
 */
export function compareRuns(ours: readonly EvalRecord[], theirs: readonly EvalRecord[], other: string, margin = 0.005): Comparison {
  const score = (r: EvalRecord) => r.metrics?.fidelity ?? 0;
  const theirsById = new Map(theirs.filter((r) => r.status !== 'error').map((r) => [r.id, r]));
  const oursById = new Map(ours.filter((r) => r.status !== 'error').map((r) => [r.id, r]));
  const rows: ComparisonRow[] = [];
  for (const [id, a] of oursById) {
    const b = theirsById.get(id);
    if (!b) {
      rows.push({ id, ours: score(a), theirs: null, delta: null, outcome: 'only-ours' });
      continue;
    }
    const delta = score(a) - score(b);
    rows.push({ id, ours: score(a), theirs: score(b), delta, outcome: delta > margin ? 'win' : delta < -margin ? 'loss' : 'tie' });
  }
  for (const [id, b] of theirsById) if (!oursById.has(id)) rows.push({ id, ours: null, theirs: score(b), delta: null, outcome: 'only-theirs' });
  const common = rows.filter((r) => r.delta !== null);
  return {
    other,
    otherModel: theirs[0]?.model ?? '',
    margin,
    common: common.length,
    wins: rows.filter((r) => r.outcome === 'win').length,
    losses: rows.filter((r) => r.outcome === 'loss').length,
    ties: rows.filter((r) => r.outcome === 'tie').length,
    meanDelta: common.length ? sum(common.map((r) => r.delta as number)) / common.length : null,
    execution: {
      ours: common.filter((r) => oursById.get(r.id)?.metrics).length,
      theirs: common.filter((r) => theirsById.get(r.id)?.metrics).length,
    },
    rows,
  };
}

// ─── Markdown ───────────────────────────────────────────────────────────────

/** Tables a researcher can paste into a paper or README. */
export function summaryMarkdown(s: EvalSummary): string {
  const pct = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(1)}`);
  const f3 = (v: number | null) => (v === null ? '–' : v.toFixed(3));
  const f1 = (v: number | null) => (v === null ? '–' : v.toFixed(1));
  const judge = s.judge;
  const head = ['Model', 'Items', 'Exec %', 'Exec % (1st answer)', 'Fidelity mean', 'Fidelity median', 'Fidelity (fail = 0)', 'SSIM', 'Edge F1', 'Pixel match', 'Colour dist.'];
  const row = [
    escapeCell(s.model),
    String(s.evaluated),
    pct(s.execution.rate),
    pct(s.execution.firstAnswerRate),
    f3(s.fidelity.mean),
    f3(s.fidelity.median),
    f3(s.fidelityAll),
    f3(s.ssim.mean),
    f3(s.edgeF1.mean),
    f3(s.pixelMatch.mean),
    f3(s.colorDistance.mean),
  ];
  if (judge) {
    head.push(`Judge score (${escapeCell(judge.model)})`, 'Judge (fail = 0)');
    row.push(f1(judge.score.mean), f1(judge.scoreAll));
  }
  head.push('Rounds / item', 'Tokens / item', 's / item');
  row.push(f1(s.rounds.mean === null ? null : s.rounds.mean), s.tokens.meanPerItem === null ? '–' : Math.round(s.tokens.meanPerItem).toString(), f1(s.seconds.mean));
  const lines = [table(head, [row])];

  const d = s.fidelity;
  lines.push(
    '',
    table(
      ['Fidelity (rendered items)', 'n', 'mean', 'std', 'min', 'p10', 'p25', 'median', 'p75', 'p90', 'max'],
      [['', String(d.n), f3(d.mean), f3(d.std), f3(d.min), f3(d.p10), f3(d.p25), f3(d.median), f3(d.p75), f3(d.p90), f3(d.max)]],
    ),
  );
  const edges = s.histogram.edges;
  lines.push(
    '',
    table(
      ['Fidelity bin', ...s.histogram.counts.map((_, i) => `${(edges[i] ?? 0).toFixed(1)}–${(edges[i + 1] ?? 1).toFixed(1)}`)],
      [['items', ...s.histogram.counts.map(String)]],
    ),
  );
  if (s.comparison) {
    const c = s.comparison;
    lines.push(
      '',
      table(
        ['vs', 'Common items', 'Wins', 'Losses', 'Ties', 'Mean Δ fidelity', 'Exec (ours / theirs)'],
        [[escapeCell(`${c.otherModel} (${c.other})`), String(c.common), String(c.wins), String(c.losses), String(c.ties), c.meanDelta === null ? '–' : signed(c.meanDelta), `${c.execution.ours} / ${c.execution.theirs}`]],
      ),
    );
  }
  if (s.execution.errors) lines.push('', `${s.execution.errors} item(s) could not be evaluated (endpoint or input errors) and are left out; run again to retry them.`);
  return lines.join('\n');
}

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function signed(v: number): string {
  return `${v >= 0 ? '+' : ''}${v.toFixed(3)}`;
}

function sum(values: readonly number[]): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

/** Writes summary.json and summary.md into the run folder. */
export async function writeSummary(outDir: string, summary: EvalSummary): Promise<{ json: string; markdown: string }> {
  const json = join(outDir, 'summary.json');
  const markdown = join(outDir, 'summary.md');
  await writeFile(json, `${JSON.stringify(summary, null, 2)}\n`);
  await writeFile(markdown, `${summary.markdown}\n`);
  return { json, markdown };
}
