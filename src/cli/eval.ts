// `refigure eval DATASET --out DIR`: evaluate a model (or the offline provider) over a data set, resumably.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import type { ModelClient, PresetName } from '../core/types';
import { RefigureError } from '../core/errors';
import { resolveEndpoint } from '../core/config';
import { createModelClient } from '../core/reconstruct/model';
import { loadDataset } from '../core/eval/evalDataset';
import { type EvalProgress, type EvalRecord, readResults, runEvaluation } from '../core/eval/evalRun';
import { compareRuns, summarize, writeSummary } from '../core/eval/evalSummary';
import { makeThumbnails, renderReport } from '../core/eval/report';
import { defaultTarget } from '../core/reconstruct/refine';
import { presetNames, samplingFor } from '../core/reconstruct/presets';
import { fingerprintDataset, runEnvironment, seedsOf } from '../core/eval/runEnvironment';
import { runRerun } from './evalRerun';
import { type CliIo, cliLogger, interruptSignal } from './io';
import { modelFromFlags, modelOptions, numberOption, oneOf, parseCommand, renderOptions, rendererFromFlags } from './flags';

export const EVAL_USAGE = `Usage: refigure eval DATASET --out DIR [options]

DATASET is a folder of images or a STEM2Code-style JSONL file (chat records with the image
path and the reference code; relative paths resolve against the JSONL's folder).
Writes DIR/results.jsonl (one line per item, appended as items finish), DIR/summary.json,
DIR/summary.md and DIR/report.html. Running the same command again resumes: finished items
are skipped; items that hit an endpoint or input error are retried.

Options:
  --out DIR               the run folder (required)
  --endpoint URL          OpenAI-compatible base URL (default: $REFIGURE_ENDPOINT, $OPENAI_BASE_URL)
  --model NAME            model name (default: $REFIGURE_MODEL, or the endpoint's only model)
  --api-key-env VAR       read the API key from environment variable VAR
  --preset NAME           codepercept (default) or generic
  --offline               run the offline trace provider (no model): a baseline
  --concurrency N         items in flight at once (default 2)
  --refine N              refinement rounds per item (default 0, as in the paper's protocol)
  --candidates K          independent first answers per item (default 1)
  --target F              stop refining at this fidelity (default ${defaultTarget})
  --caption               also ask for a caption per item (default: off)
  --item-timeout S        time limit per item, model and renders included (default 600)
  --timeout S             render time limit per attempt (default 30, as the published harness)
  --request-timeout S     model request time limit (default 600)
  --judge-endpoint URL    also score each render with the STEM2Code-Eval image rubric on this endpoint
  --judge-model NAME      the judge model (required with --judge-endpoint)
  --judge-api-key-env VAR the judge's API key variable (default: REFIGURE_JUDGE_API_KEY)
  --compare-with DIR      compare item by item with an earlier run's folder (wins, losses, paired bootstrap and sign test)
  --rerun RUN_DIR         render RUN_DIR's stored code again into --out (no model asked) and check that every
                          deterministic figure reproduces; exits 1 and names the figures and environment changes when not
  --limit N               only the first N items
  --python PATH           Python interpreter with matplotlib
  --sandbox MODE          auto (default: the strongest kernel-enforced layer, else refuse) or none (no isolation, at your own risk)
  --json                  print summary.json on stdout instead of the tables
  --verbose               log every step on stderr
  -h, --help              this help
`;

/** The settings a run folder is tied to: resuming with other settings would mix two experiments. */
interface RunSettings {
  dataset: string;
  provider: 'model' | 'offline';
  model: string;
  endpoint: string | null;
  preset: PresetName | null;
  refine: number;
  candidates: number;
  target: number;
  caption: boolean;
  judgeModel: string | null;
}

export async function runEval(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand(
    argv,
    {
      ...renderOptions,
      ...modelOptions,
      preset: { type: 'string' },
      concurrency: { type: 'string' },
      refine: { type: 'string' },
      candidates: { type: 'string' },
      target: { type: 'string' },
      caption: { type: 'boolean' },
      'item-timeout': { type: 'string' },
      'judge-endpoint': { type: 'string' },
      'judge-model': { type: 'string' },
      'judge-api-key-env': { type: 'string' },
      'compare-with': { type: 'string' },
      rerun: { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean' },
    },
    EVAL_USAGE,
    io,
  );
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  if (values.rerun) {
    if (positionals.length) throw new RefigureError('usage', '--rerun takes the run folder, not a data set: the data set is the one the run recorded.');
    return runRerun(values, io, (n) => rendererFromFlags(values, io, n));
  }
  if (positionals.length !== 1) throw new RefigureError('usage', `eval takes one data set.\n\n${EVAL_USAGE}`);
  if (!values.out) throw new RefigureError('usage', 'eval needs --out DIR, the run folder.', 'Name a folder; running again with the same folder resumes the run.');
  const datasetPath = resolve(io.cwd, positionals[0] as string);
  const outDir = resolve(io.cwd, values.out);
  const preset = oneOf(values.preset, 'preset', presetNames, 'codepercept');
  const concurrency = Math.floor(numberOption(values.concurrency, 'concurrency', 2, 1));
  const refine = Math.floor(numberOption(values.refine, 'refine', 0));
  const candidates = Math.floor(numberOption(values.candidates, 'candidates', 1, 1));
  const target = numberOption(values.target, 'target', defaultTarget);
  const itemTimeoutMs = numberOption(values['item-timeout'], 'item-timeout', 600, 1) * 1000;
  const renderTimeoutMs = numberOption(values.timeout, 'timeout', 30, 0.1) * 1000;
  const limit = values.limit === undefined ? undefined : Math.floor(numberOption(values.limit, 'limit', 1, 1));
  if (values['judge-endpoint'] && !values['judge-model']) {
    throw new RefigureError('usage', '--judge-endpoint needs --judge-model NAME.', 'Name the judge model served at that endpoint.');
  }
  if (values['judge-model'] && !values['judge-endpoint']) {
    throw new RefigureError('usage', '--judge-model needs --judge-endpoint URL.');
  }

  const logger = cliLogger(io, Boolean(values.verbose));
  let items = await loadDataset(datasetPath);
  if (limit !== undefined) items = items.slice(0, limit);
  const other = values['compare-with'] ? await readResults(resolve(io.cwd, values['compare-with'])) : undefined;

  const model = await modelFromFlags(values, io);
  if (!model && !values.offline) io.err('No model endpoint configured (--endpoint or REFIGURE_ENDPOINT): evaluating the offline trace provider.\n');
  const judge = judgeFromFlags(values, io);
  const settings: RunSettings = {
    dataset: datasetPath,
    provider: model ? 'model' : 'offline',
    model: model?.config.model ?? 'offline-trace',
    endpoint: model?.config.baseURL ?? null,
    preset: model ? preset : null,
    refine,
    candidates,
    target,
    caption: Boolean(values.caption),
    judgeModel: judge?.config.model ?? null,
  };
  await mkdir(outDir, { recursive: true });
  await checkRunSettings(outDir, settings);

  const renderer = await rendererFromFlags(values, io, Math.max(1, Math.min(concurrency, availableParallelism())));
  const interrupt = interruptSignal();
  const progress = new ProgressBar(io);
  const started = Date.now();
  try {
    let records: EvalRecord[];
    try {
      records = await runEvaluation({
        items,
        outDir,
        renderer,
        model,
        judge,
        preset,
        concurrency,
        itemTimeoutMs,
        renderTimeoutMs,
        refine,
        candidates,
        target,
        caption: Boolean(values.caption),
        signal: interrupt.signal,
        logger,
        onProgress: (event) => progress.update(event),
      });
    } catch (error) {
      progress.done();
      if (interrupt.signal.aborted) {
        io.err(`Interrupted. Finished items are kept in ${join(outDir, 'results.jsonl')}; run the same command again to resume.\n`);
        return 130;
      }
      throw error;
    }
    progress.done();
    const provenance = {
      environment: runEnvironment(await renderer.environment(), renderer.sandbox),
      model: { provider: settings.provider, model: settings.model, endpoint: settings.endpoint, preset: settings.preset, sampling: model ? { ...samplingFor(preset) } : null, seeds: seedsOf(records) },
      dataset: await fingerprintDataset(datasetPath, items),
    };
    const comparison = other ? compareRuns(records, other, resolve(io.cwd, values['compare-with'] as string)) : undefined;
    const summary = summarize(records, {
      dataset: datasetPath,
      items: items.length,
      settings: { ...settings, concurrency, itemTimeoutS: itemTimeoutMs / 1000, renderTimeoutS: renderTimeoutMs / 1000 },
      judgeModel: judge?.config.model,
      wallSeconds: Math.round(Date.now() - started) / 1000,
      comparison,
      provenance,
    });
    const written = await writeSummary(outDir, summary);
    const thumbs = await makeThumbnails(records, outDir, renderer, interrupt.signal);
    const reportPath = join(outDir, 'report.html');
    await writeFile(reportPath, renderReport(summary, records, thumbs));
    if (values.json) io.json(summary);
    else {
      io.out(`${summary.markdown}\n\n`);
      io.out(`  results  ${join(outDir, 'results.jsonl')}\n  summary  ${written.json}\n  tables   ${written.markdown}\n  report   ${reportPath}\n`);
    }
    if (summary.execution.errors) {
      io.err(`${summary.execution.errors} item(s) could not be evaluated; see results.jsonl, then run the same command again to retry them.\n`);
      return 3;
    }
    return 0;
  } finally {
    progress.done();
    interrupt.dispose();
    await renderer.close();
  }
}

function judgeFromFlags(
  values: { 'judge-endpoint'?: string; 'judge-model'?: string; 'judge-api-key-env'?: string; 'request-timeout'?: string },
  io: CliIo,
): ModelClient | undefined {
  if (!values['judge-endpoint']) return undefined;
  const keyVar = values['judge-api-key-env'] ?? 'REFIGURE_JUDGE_API_KEY';
  if (values['judge-api-key-env'] && !io.env[keyVar]) throw new RefigureError('usage', `--judge-api-key-env names ${keyVar}, which is not set.`);
  // Only the judge's own flags count: the model's REFIGURE_ENDPOINT must not leak into the judge.
  const config = resolveEndpoint({
    endpoint: values['judge-endpoint'],
    model: values['judge-model'],
    apiKey: io.env[keyVar],
    timeoutMs: numberOption(values['request-timeout'], 'request-timeout', 600, 1) * 1000,
    env: {},
  });
  if (!config) return undefined;
  return createModelClient(config, cliLogger(io, false));
}

async function checkRunSettings(outDir: string, settings: RunSettings): Promise<void> {
  const file = join(outDir, 'run.json');
  if (existsSync(file)) {
    let earlier: Partial<RunSettings> = {};
    try {
      earlier = JSON.parse(await readFile(file, 'utf8')) as Partial<RunSettings>;
    } catch {
      // An unreadable run.json is replaced below.
    }
    const differs = (Object.keys(settings) as (keyof RunSettings)[]).filter((key) => key in earlier && earlier[key] !== settings[key]);
    if (differs.length && existsSync(join(outDir, 'results.jsonl'))) {
      const what = differs.map((key) => `${key} ${JSON.stringify(earlier[key])} → ${JSON.stringify(settings[key])}`).join(', ');
      throw new RefigureError(
        'usage',
        `${outDir} holds a run with other settings (${what}); resuming would mix two experiments.`,
        'Use another --out folder, or the same settings as before.',
      );
    }
  }
  await writeFile(file, `${JSON.stringify(settings, null, 2)}\n`);
}

/** A progress bar with rate and ETA on a terminal (stderr); one plain line per item otherwise. */
export class ProgressBar {
  private started = Date.now();
  private rendered = 0;
  private failed = 0;
  private fidelitySum = 0;
  private drawn = false;

  constructor(private readonly io: CliIo) {}

  update(event: EvalProgress): void {
    if (event.kind === 'start') {
      this.started = Date.now();
      const pending = event.total - event.resumed;
      this.io.err(`Evaluating ${pending} item(s)${event.resumed ? ` (${event.resumed} already done, skipped)` : ''}.\n`);
      return;
    }
    const record = event.record;
    if (record?.metrics) {
      this.rendered++;
      this.fidelitySum += record.metrics.fidelity;
    } else if (record) this.failed++;
    const text = progressText({
      done: event.done,
      pending: event.total - event.resumed,
      elapsedMs: Date.now() - this.started,
      rendered: this.rendered,
      failed: this.failed,
      meanFidelity: this.rendered ? this.fidelitySum / this.rendered : null,
    });
    if (this.io.isTTY) {
      this.io.status(text);
      this.drawn = true;
    } else if (record) {
      const outcome = record.metrics ? `fidelity ${record.metrics.fidelity.toFixed(3)}` : record.status;
      this.io.err(`${text} | ${record.id}: ${outcome}, ${record.rounds} round(s), ${record.seconds.toFixed(1)} s\n`);
    }
  }

  done(): void {
    if (this.drawn) this.io.err('\n');
    this.drawn = false;
  }
}

/** One progress line: bar, counts, rate, ETA and the running mean fidelity. */
export function progressText(state: {
  done: number;
  pending: number;
  elapsedMs: number;
  rendered: number;
  failed: number;
  meanFidelity: number | null;
}): string {
  const width = 24;
  const share = state.pending ? state.done / state.pending : 1;
  const filled = Math.round(share * width);
  const rate = state.elapsedMs > 0 ? state.done / (state.elapsedMs / 1000) : 0;
  const eta = rate > 0 ? (state.pending - state.done) / rate : undefined;
  return [
    `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${state.done}/${state.pending} ${Math.round(share * 100)}%`,
    `${rate >= 1 ? rate.toFixed(1) : rate.toFixed(2)} items/s`,
    `ETA ${eta === undefined ? '?' : clock(eta)}`,
    `${state.rendered} rendered, ${state.failed} not`,
    state.meanFidelity === null ? '' : `mean fidelity ${state.meanFidelity.toFixed(3)}`,
  ]
    .filter(Boolean)
    .join(' · ');
}

function clock(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}
