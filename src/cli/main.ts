// The `refigure` command: reconstruct, render, caption and eval over the same core as the extension.
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { CaptionStyle, PresetName, ProgressEvent, ReconstructionResult, RenderOutcome } from '../core/types';
import { RefigureError, describeError, exitCodeFor } from '../core/errors';
import { completeModel, resolveEndpoint } from '../core/config';
import { createModelClient, listModels } from '../core/model';
import { createRenderer } from '../core/render';
import { reconstruct, renderCode } from '../core/pipeline';
import { renderSummary } from '../core/refine';
import { checkOutputs, outputPaths, writeOutputs } from '../core/outputs';
import { type CliIo, StatusLine, cliLogger, interruptSignal, processIo } from './io';
import { runCaption } from './caption';
import { runEval } from './eval';

const VERSION = '0.1.0';

const USAGE = `Usage: refigure <command> [options]

Commands:
  reconstruct IMAGE   Ask a model for matplotlib code that redraws IMAGE, render it, compare, caption
  render CODE.py      Render matplotlib code and compare it with an image (--like IMAGE)
  caption NOTEBOOK    Caption every figure of a Jupyter notebook
  eval DATASET        Evaluate a model over a folder of images or a STEM2Code-style JSONL

Run 'refigure <command> --help' for a command's options.
Environment: REFIGURE_ENDPOINT, REFIGURE_MODEL, REFIGURE_API_KEY (else OPENAI_BASE_URL, OPENAI_API_KEY),
REFIGURE_PYTHON.
Exit codes: 0 done, 2 bad usage or input, 3 model endpoint error, 4 the code did not render.
`;

const RECONSTRUCT_USAGE = `Usage: refigure reconstruct IMAGE [options]

Writes <name>.refigure.py, .png, .diff.png and .json beside IMAGE (or in --out).

Options:
  --endpoint URL        OpenAI-compatible base URL (default: $REFIGURE_ENDPOINT, $OPENAI_BASE_URL)
  --model NAME          model name (default: $REFIGURE_MODEL, or the endpoint's only model)
  --api-key-env VAR     read the API key from environment variable VAR (default: REFIGURE_API_KEY, OPENAI_API_KEY)
  --preset NAME         codepercept (default) or generic
  --offline             trace the figure without a model (also used when no endpoint is configured)
  --python PATH         Python interpreter with matplotlib (default: $REFIGURE_PYTHON, then discovery)
  --out DIR             output folder (default: the image's folder)
  --refine N            refinement rounds after the first answer (default 0)
  --candidates K        independent first answers; the best is kept (default 1)
  --target F            stop refining at this fidelity (default 0.95)
  --caption-style S     alt, caption (default) or detailed
  --no-caption          do not ask for a caption
  --timeout SECONDS     render time limit (default 30)
  --request-timeout S   model request time limit (default 600)
  --sandbox MODE        auto (default) or require-isolation
  --json                print the result JSON on stdout
  --verbose             log every step on stderr
  -h, --help            this help
`;

const RENDER_USAGE = `Usage: refigure render CODE.py --like IMAGE [options]

Renders CODE.py in the sandbox at IMAGE's size and compares the two.
Writes <name>.png and <name>.diff.png (in --out, default: the code's folder).

Options:
  --like IMAGE          the original to size and compare against (required)
  --out DIR             output folder
  --python PATH         Python interpreter with matplotlib
  --timeout SECONDS     render time limit (default 30)
  --sandbox MODE        auto (default) or require-isolation
  --json                print the render JSON on stdout
  -h, --help            this help
`;

export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'reconstruct':
        return await runReconstruct(rest, io);
      case 'render':
        return await runRender(rest, io);
      case 'caption':
        return await runCaption(rest, io);
      case 'eval':
        return await runEval(rest, io);
      case '--version':
      case '-V':
        io.out(`${VERSION}\n`);
        return 0;
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        io.out(USAGE);
        return command === undefined ? 2 : 0;
      default:
        io.err(`refigure: unknown command "${command}".\n\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    return reportError(error, io);
  }
}

export function reportError(error: unknown, io: CliIo): number {
  const code = exitCodeFor(error);
  if (code === 1 && error instanceof Error) io.err(`refigure: internal error: ${error.stack ?? error.message}\n`);
  else io.err(`refigure: ${describeError(error)}\n`);
  return code;
}

/** node:util parseArgs with our usage errors; with `--help` it prints `usage` and returns undefined. */
export function parseCommand<T extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  options: T,
  usage: string,
  io: CliIo,
): ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>> | undefined {
  try {
    const parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    if ((parsed.values as Record<string, unknown>).help) {
      io.out(usage);
      return undefined;
    }
    return parsed;
  } catch (error) {
    throw new RefigureError('usage', `${describeError(error)}\n\n${usage}`);
  }
}

export function numberOption(value: string | undefined, name: string, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < min) throw new RefigureError('usage', `--${name} needs a number ≥ ${min}, not "${value}".`);
  return parsed;
}

export function oneOf<T extends string>(value: string | undefined, name: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new RefigureError('usage', `--${name} must be one of ${allowed.join(', ')}, not "${value}".`);
}

/** The model client the flags and environment name, or undefined for the offline provider. */
export async function modelFromFlags(
  values: { endpoint?: string; model?: string; 'api-key-env'?: string; offline?: boolean; 'request-timeout'?: string },
  io: CliIo,
) {
  if (values.offline) return undefined;
  const keyVar = values['api-key-env'];
  if (keyVar !== undefined && !io.env[keyVar]) {
    throw new RefigureError('usage', `--api-key-env names ${keyVar}, which is not set.`);
  }
  const config = resolveEndpoint({
    endpoint: values.endpoint,
    model: values.model,
    apiKey: keyVar ? io.env[keyVar] : undefined,
    timeoutMs: numberOption(values['request-timeout'], 'request-timeout', 600, 1) * 1000,
    env: io.env,
  });
  if (!config) return undefined;
  const logger = cliLogger(io, false);
  return createModelClient(await completeModel(config, listModels), logger);
}

/** Flags every command that renders takes. */
export const renderOptions = {
  python: { type: 'string' },
  timeout: { type: 'string' },
  sandbox: { type: 'string' },
  out: { type: 'string' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Flags every command that asks a model takes (read by `modelFromFlags`). */
export const modelOptions = {
  endpoint: { type: 'string' },
  model: { type: 'string' },
  'api-key-env': { type: 'string' },
  offline: { type: 'boolean' },
  'request-timeout': { type: 'string' },
} as const;

const sharedRenderOptions = { ...renderOptions, json: { type: 'boolean' } } as const;

export async function rendererFromFlags(
  values: { python?: string; sandbox?: string; verbose?: boolean },
  io: CliIo,
  concurrency = 1,
) {
  return createRenderer({
    python: values.python ?? io.env.REFIGURE_PYTHON,
    sandbox: oneOf(values.sandbox, 'sandbox', ['auto', 'require-isolation'] as const, 'auto'),
    logger: cliLogger(io, Boolean(values.verbose)),
    concurrency,
  });
}

async function runReconstruct(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand(
    argv,
    {
      ...sharedRenderOptions,
      ...modelOptions,
      preset: { type: 'string' },
      refine: { type: 'string' },
      candidates: { type: 'string' },
      target: { type: 'string' },
      'caption-style': { type: 'string' },
      'no-caption': { type: 'boolean' },
    },
    RECONSTRUCT_USAGE,
    io,
  );
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new RefigureError('usage', `reconstruct takes one image.\n\n${RECONSTRUCT_USAGE}`);
  const imagePath = resolve(io.cwd, positionals[0] as string);
  const preset = oneOf<PresetName>(values.preset, 'preset', ['codepercept', 'generic'], 'codepercept');
  const captionStyle = oneOf<CaptionStyle>(values['caption-style'], 'caption-style', ['alt', 'caption', 'detailed'], 'caption');
  const refine = numberOption(values.refine, 'refine', 0);
  const candidates = numberOption(values.candidates, 'candidates', 1, 1);
  const target = numberOption(values.target, 'target', 0.95);
  const timeoutMs = numberOption(values.timeout, 'timeout', 30, 0.1) * 1000;
  await requireFile(imagePath);
  const paths = outputPaths(imagePath, values.out ? resolve(io.cwd, values.out) : dirname(imagePath));
  await checkOutputs(imagePath, paths);

  const model = await modelFromFlags(values, io);
  if (!model && !values.offline && !values.json) {
    io.err('No model endpoint configured (--endpoint or REFIGURE_ENDPOINT): using the offline trace provider.\n');
  }
  const status = new StatusLine(io);
  const renderer = await rendererFromFlags(values, io, Math.min(candidates, availableParallelism()));
  const workDir = await mkdtemp(join(tmpdir(), 'refigure-'));
  const interrupt = interruptSignal();
  try {
    const result = await reconstruct({
      imagePath,
      renderer,
      workDir,
      model,
      preset,
      captionStyle,
      caption: !values['no-caption'],
      renderTimeoutMs: timeoutMs,
      refine,
      candidates,
      target,
      signal: interrupt.signal,
      logger: cliLogger(io, Boolean(values.verbose)),
      onProgress: (event) => showProgress(event, status),
    });
    status.done();
    const written = await writeOutputs(result, paths);
    if (values.json) io.out(`${JSON.stringify(written, null, 2)}\n`);
    else io.out(summarize(written));
    return written.render.ok ? 0 : 4;
  } finally {
    status.done();
    interrupt.dispose();
    await renderer.close();
    await rm(workDir, { recursive: true, force: true });
  }
}

function showProgress(event: ProgressEvent, status: StatusLine): void {
  switch (event.kind) {
    case 'stage':
      status.update(event.message);
      break;
    case 'tokens':
      status.update(`Receiving code: ${event.tokens} tokens, ${(event.elapsedMs / 1000).toFixed(1)} s`, true);
      break;
    case 'attempt': {
      const { attempt } = event;
      status.update(
        attempt.render.ok
          ? `Attempt ${attempt.index + 1}: fidelity ${attempt.metrics?.fidelity.toFixed(3) ?? 'n/a'}`
          : `Attempt ${attempt.index + 1}: ${attempt.render.error?.message ?? 'did not render'}`,
      );
      break;
    }
  }
}

export function formatMetrics(metrics: ReconstructionResult['metrics']): string {
  if (!metrics) return '  (no figures)\n';
  return (
    `  fidelity ${metrics.fidelity.toFixed(3)}   ssim ${metrics.ssim.toFixed(3)}   pixelMatch ${metrics.pixelMatch.toFixed(3)}` +
    `   edgeF1 ${metrics.edgeF1.toFixed(3)}   colorDistance ${metrics.colorDistance.toFixed(3)}\n`
  );
}

function summarize(result: ReconstructionResult): string {
  const lines: string[] = [];
  const source = result.provider === 'offline' ? 'the offline trace (no model)' : `${result.model} (${result.preset})`;
  lines.push(`${result.render.ok ? 'Reconstructed' : 'Could not render'} ${result.image.path} with ${source}.`);
  if (result.render.ok) lines.push(formatMetrics(result.metrics).trimEnd());
  else if (result.render.error) {
    lines.push(`  ${result.render.error.message}`);
    if (result.render.error.traceback) lines.push(indent(result.render.error.traceback.trimEnd(), '    '));
  }
  if (result.attempts.length > 1) lines.push(`  attempts ${result.attempts.length}, best #${result.attempts.findIndex((a) => a.best) + 1}`);
  lines.push(`  sandbox  ${result.render.sandbox}`);
  const outputs = result.outputs;
  if (outputs) {
    lines.push(`  code     ${outputs.code}`);
    if (outputs.png) lines.push(`  render   ${outputs.png}`);
    if (outputs.diff) lines.push(`  diff     ${outputs.diff}`);
    lines.push(`  json     ${outputs.json}`);
  }
  if (result.caption) lines.push('', `Caption: ${result.caption}`);
  if (result.altText) lines.push(`Alt text: ${result.altText}`);
  for (const note of result.notes) lines.push(`Note: ${note}`);
  return `${lines.join('\n')}\n`;
}

function indent(text: string, prefix: string): string {
  return text
    .split('\n')
    .map((line) => prefix + line)
    .join('\n');
}

export async function requireFile(path: string): Promise<void> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new RefigureError('input', `No file at ${path}.`, 'Check the path.');
  }
  if (!info.isFile()) throw new RefigureError('input', `${path} is not a file.`);
}

async function runRender(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand(argv, { ...sharedRenderOptions, like: { type: 'string' } }, RENDER_USAGE, io);
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new RefigureError('usage', `render takes one Python file.\n\n${RENDER_USAGE}`);
  if (!values.like) throw new RefigureError('usage', `render needs --like IMAGE, the figure to size and compare against.\n\n${RENDER_USAGE}`);
  const codePath = resolve(io.cwd, positionals[0] as string);
  const imagePath = resolve(io.cwd, values.like);
  await requireFile(codePath);
  await requireFile(imagePath);
  const code = await readFile(codePath, 'utf8');
  const outDir = values.out ? resolve(io.cwd, values.out) : dirname(codePath);
  let stem = basename(codePath, extname(codePath));
  if (resolve(outDir, `${stem}.png`) === imagePath) stem = `${stem}.render`;
  const timeoutMs = numberOption(values.timeout, 'timeout', 30, 0.1) * 1000;
  const renderer = await rendererFromFlags(values, io);
  const interrupt = interruptSignal();
  let outcome: RenderOutcome;
  try {
    outcome = await renderCode({ code, imagePath, renderer, workDir: outDir, stem, renderTimeoutMs: timeoutMs, signal: interrupt.signal });
  } finally {
    interrupt.dispose();
    await renderer.close();
  }
  const record = {
    code: codePath,
    image: imagePath,
    render: renderSummary(outcome),
    metrics: outcome.metrics ?? null,
    output: outcome.output ?? '',
  };
  if (values.json) io.out(`${JSON.stringify(record, null, 2)}\n`);
  else if (outcome.ok) {
    io.out(`Rendered ${codePath} (${outcome.seconds.toFixed(2)} s, sandbox ${outcome.sandbox}).\n${formatMetrics(outcome.metrics ?? null)}`);
    io.out(`  render   ${outcome.png}\n`);
    if (outcome.diffPng) io.out(`  diff     ${outcome.diffPng}\n`);
  } else {
    io.out(`Could not render ${codePath}: ${outcome.error?.message ?? 'unknown error'}\n`);
    if (outcome.error?.traceback) io.out(`${indent(outcome.error.traceback.trimEnd(), '    ')}\n`);
  }
  return outcome.ok ? 0 : 4;
}
