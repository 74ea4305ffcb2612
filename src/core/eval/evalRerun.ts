// `refigure eval --rerun RUN_DIR`: the stored code of a run rendered again, no model asked, and every deterministic figure checked.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import type { RenderOutcome, Renderer } from '../types';
import { RefigureError, throwIfAborted } from '../errors';
import { type EvalRecord, readResults, resultsFile, safeName } from './evalRun';
import type { EvalSummary } from './evalSummary';
import { type ReferenceScore, scoreAgainstReference, sha256File, storedReference } from './evalReference';
import { codeFigureNames } from '../fidelity/codeFigures';
import { type RunEnvironment, environmentChanges } from './runEnvironment';
import { readImage } from '../reconstruct/input';
import { scoreWithSecondLook } from '../fidelity/differences';
import { cachedTextReader } from '../reconstruct/session';

/** The originals' text, read once per file version for the whole rerun. */
const originalText = cachedTextReader();

export interface FigureDifference {
  id: string;
  /** `status`, `render` (the PNG's bytes), `compat`, a pixel figure (`fidelity`, `ssim`, …), `reference.render` or `reference.<code figure>`. */
  figure: string;
  before: unknown;
  after: unknown;
}

export interface Reproduction {
  /** The run rendered again. */
  from: string;
  items: number;
  /** Items whose every deterministic figure, and the render's bytes, came out the same. */
  reproduced: number;
  differences: FigureDifference[];
  /** Why they may differ: what changed in the environment since the run. */
  environment: Array<{ field: string; before: unknown; after: unknown }>;
  /** True when nothing differs. */
  exact: boolean;
}

export interface RerunOptions {
  runDir: string;
  outDir: string;
  renderer: Renderer;
  /** The environment rendering now, compared with the one the run recorded. */
  environment: RunEnvironment;
  renderTimeoutMs?: number;
  concurrency?: number;
  signal?: AbortSignal;
}

/** The run's summary.json, which a rerun needs for the environment it compares against. */
export async function readRunSummary(runDir: string): Promise<EvalSummary> {
  const file = join(resolve(runDir), 'summary.json');
  if (!existsSync(file)) throw new RefigureError('usage', `No summary.json in ${runDir}.`, 'Give the --out folder of a finished `refigure eval` run.');
  return JSON.parse(await readFile(file, 'utf8')) as EvalSummary;
}

/** Renders every stored answer (and reference) of `runDir` again into `outDir`; returns the new records and what differs. */
export async function rerunEvaluation(options: RerunOptions): Promise<{ records: EvalRecord[]; reproduction: Reproduction; summary: EvalSummary }> {
  const runDir = resolve(options.runDir);
  const outDir = resolve(options.outDir);
  if (runDir === outDir) throw new RefigureError('usage', '--rerun needs another --out folder than the run it renders again.');
  const summary = await readRunSummary(runDir);
  const old = await readResults(runDir);
  await mkdir(join(outDir, 'items'), { recursive: true });
  const records: EvalRecord[] = new Array<EvalRecord>(old.length);
  const differences: FigureDifference[][] = old.map(() => []);
  let next = 0;
  const lane = async (): Promise<void> => {
    for (;;) {
      throwIfAborted(options.signal);
      const i = next++;
      const record = old[i];
      if (!record) return;
      records[i] = await rerunItem(record, runDir, outDir, options);
      differences[i] = compareRecords(record, records[i] as EvalRecord);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 1, old.length || 1)) }, lane));
  await writeFile(join(outDir, resultsFile), records.map((r) => `${JSON.stringify(r)}\n`).join(''));
  const flat = differences.flat();
  const reproduction: Reproduction = {
    from: runDir,
    items: old.length,
    reproduced: differences.filter((d) => d.length === 0).length,
    differences: flat,
    environment: environmentChanges(summary.provenance?.environment ?? {}, options.environment),
    exact: flat.length === 0,
  };
  await writeFile(join(outDir, 'reproduction.json'), `${JSON.stringify(reproduction, null, 2)}\n`);
  return { records, reproduction, summary };
}

async function rerunItem(record: EvalRecord, runDir: string, outDir: string, options: RerunOptions): Promise<EvalRecord> {
  // An item the run could not evaluate (endpoint down) has no answer to render: it stays as it was.
  if (record.status === 'error' || !record.code) return record;
  const workDir = join(outDir, 'items', safeName(record.id));
  await mkdir(workDir, { recursive: true });
  const referenceCode = await storedReference(join(runDir, 'items', safeName(record.id)));
  let answer: RenderOutcome | undefined;
  let reference: ReferenceScore | undefined;
  if (referenceCode !== undefined) {
    const scored = await scoreAgainstReference({ renderer: options.renderer, image: record.image, code: record.code, referenceCode, workDir, renderTimeoutMs: options.renderTimeoutMs, signal: options.signal });
    reference = scored.score;
    answer = scored.answer;
  }
  const info = await readImage(record.image);
  if (!answer) {
    answer = await options.renderer.render({ code: record.code, like: { path: info.path, width: info.width, height: info.height }, outDir: workDir, stem: 'answer', timeoutMs: options.renderTimeoutMs, signal: options.signal });
  }
  // Scored as the run scored it: the pixel figures with the original's text folded in.
  const original = answer.ok ? await originalText(record.image, options.signal).catch(() => undefined) : undefined;
  const scored = await scoreWithSecondLook(answer, original, info, originalText, options.signal);
  const rel = (path: string | undefined) => (path ? relative(outDir, path) : null);
  const rendered = answer.ok && scored.metrics !== undefined;
  return {
    ...record,
    status: rendered ? 'rendered' : record.status === 'timeout' ? 'timeout' : 'failed',
    metrics: rendered ? (scored.metrics ?? null) : null,
    png: rendered ? rel(answer.png) : null,
    diff: rendered ? rel(answer.diffPng) : null,
    error: rendered ? undefined : answer.error?.message,
    compat: rendered ? (answer.compat ?? []) : [],
    renderSha256: rendered && answer.png ? await sha256File(answer.png) : null,
    ...(reference ? { reference } : {}),
    finishedAt: new Date().toISOString(),
  };
}

/** Every deterministic figure of two records of one item, compared exactly. */
export function compareRecords(before: EvalRecord, after: EvalRecord): FigureDifference[] {
  const out: FigureDifference[] = [];
  const check = (figure: string, a: unknown, b: unknown) => {
    if (JSON.stringify(a ?? null) !== JSON.stringify(b ?? null)) out.push({ id: before.id, figure, before: a ?? null, after: b ?? null });
  };
  check('status', before.status === 'rendered', after.status === 'rendered');
  for (const name of ['fidelity', 'ssim', 'pixelMatch', 'edgeF1', 'colorDistance'] as const) check(name, before.metrics?.[name], after.metrics?.[name]);
  check('render', before.renderSha256, after.renderSha256);
  check('compat', before.compat ?? [], after.compat ?? []);
  if (before.reference || after.reference) {
    check('reference.render', before.reference?.sha256, after.reference?.sha256);
    for (const name of codeFigureNames) check(`reference.${name}`, before.reference?.figures?.[name], after.reference?.figures?.[name]);
  }
  return out;
}

/** The reproduction in words, for the terminal and summary.md. */
export function reproductionMarkdown(r: Reproduction): string {
  const lines = [`Rerun of ${r.from}: ${r.reproduced} of ${r.items} item(s) reproduced exactly${r.exact ? ' — every deterministic figure and every render byte for byte.' : '.'}`];
  if (r.environment.length) {
    lines.push('', 'Environment changes since the run:', '', '| what | run | now |', '|---|---|---|');
    for (const c of r.environment) lines.push(`| ${c.field} | ${JSON.stringify(c.before)} | ${JSON.stringify(c.after)} |`);
  }
  if (r.differences.length) {
    lines.push('', '| item | figure | run | now |', '|---|---|---|---|');
    for (const d of r.differences.slice(0, 200)) lines.push(`| ${d.id.replace(/\|/g, '\\|')} | ${d.figure} | ${JSON.stringify(d.before)} | ${JSON.stringify(d.after)} |`);
    if (r.differences.length > 200) lines.push(`| … ${r.differences.length - 200} more in reproduction.json | | | |`);
  }
  return lines.join('\n');
}
