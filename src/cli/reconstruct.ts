// `refigure reconstruct IMAGE` and `refigure refine RESULT.json`: one session, started or continued, written beside the image.
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Metrics, ProgressEvent, ReconstructionResult } from '../core/types';
import { RefigureError } from '../core/errors';
import { ReconstructionSession, type SessionOptions } from '../core/reconstruct/session';
import { defaultTarget } from '../core/reconstruct/refine';
import { presetNames } from '../core/reconstruct/presets';
import { captionStyles } from '../core/reconstruct/caption';
import { readResultFile } from '../core/reconstruct/resultFile';
import { checkOutputs, outputPaths, writeOutputs, type OutputPaths } from '../core/reconstruct/outputs';
import { type CliIo, StatusLine, cliLogger, interruptSignal } from './io';
import { modelFromFlags, modelOptions, numberOption, oneOf, parseCommand, renderOptions, rendererFromFlags, requireFile } from './flags';

export const RECONSTRUCT_USAGE = `Usage: refigure reconstruct IMAGE [options]

Writes <name>.refigure.py, .png, .diff.png and .json beside IMAGE (or in --out).

Options:
  --endpoint URL        OpenAI-compatible base URL (default: $REFIGURE_ENDPOINT, $OPENAI_BASE_URL)
  --model NAME          model name (default: $REFIGURE_MODEL, or the endpoint's only model)
  --api-key-env VAR     read the API key from environment variable VAR (default: REFIGURE_API_KEY, OPENAI_API_KEY)
  --preset NAME         ${presetNames.join(' or ')} (default ${presetNames[0]})
  --offline             trace the figure without a model (also used when no endpoint is configured)
  --python PATH         Python interpreter with matplotlib (default: $REFIGURE_PYTHON, then discovery)
  --out DIR             output folder (default: the image's folder)
  --refine N            refinement rounds after the first answer (default 0)
  --candidates K        independent first answers; the best is kept (default 1)
  --target F            stop refining at this fidelity (default ${defaultTarget})
  --caption-style S     ${captionStyles.join(', ')} (default caption)
  --no-caption          do not ask for a caption
  --timeout SECONDS     render time limit (default 30)
  --request-timeout S   model request time limit (default 600)
  --sandbox MODE        auto (default: the strongest kernel-enforced layer, else refuse) or none (no isolation, at your own risk)
  --json                print the result JSON on stdout
  --verbose             log every step on stderr
  -h, --help            this help
`;

export const REFINE_USAGE = `Usage: refigure refine RESULT.json [options]

Continues a saved reconstruction (the .refigure.json that reconstruct wrote): more rounds with the
model from the attempt shown (or --from N), appended to its history. Rewrites the four files.

Options:
  --from N              refine attempt N of the history (default: the one shown, the best)
  --rounds N            rounds to run (default 1)
  --target F            stop early at this fidelity (default: run every round)
  --no-caption          keep the caption even when the best attempt changes
  --endpoint URL, --model NAME, --api-key-env VAR, --request-timeout S   as for reconstruct
  --python PATH, --timeout SECONDS, --sandbox MODE                       as for reconstruct
  --out DIR             output folder (default: the folder of RESULT.json)
  --json                print the result JSON on stdout
  --verbose             log every step on stderr
  -h, --help            this help
`;

const sessionFlags = { ...renderOptions, ...modelOptions, json: { type: 'boolean' }, target: { type: 'string' }, 'no-caption': { type: 'boolean' } } as const;

export async function runReconstruct(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand(
    argv,
    { ...sessionFlags, preset: { type: 'string' }, refine: { type: 'string' }, candidates: { type: 'string' }, 'caption-style': { type: 'string' } },
    RECONSTRUCT_USAGE,
    io,
  );
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new RefigureError('usage', `reconstruct takes one image.\n\n${RECONSTRUCT_USAGE}`);
  const imagePath = resolve(io.cwd, positionals[0] as string);
  const preset = oneOf(values.preset, 'preset', presetNames, 'codepercept');
  const captionStyle = oneOf(values['caption-style'], 'caption-style', captionStyles, 'caption');
  const refine = numberOption(values.refine, 'refine', 0);
  const candidates = numberOption(values.candidates, 'candidates', 1, 1);
  const target = numberOption(values.target, 'target', defaultTarget);
  await requireFile(imagePath);
  const paths = outputPaths(imagePath, values.out ? resolve(io.cwd, values.out) : dirname(imagePath));
  await checkOutputs(imagePath, paths);

  const model = await modelFromFlags(values, io);
  if (!model && !values.offline && !values.json) {
    io.err('No model endpoint configured (--endpoint or REFIGURE_ENDPOINT): using the offline trace provider.\n');
  }
  return withSession(values, io, paths, Math.min(candidates, availableParallelism()), async (options, onProgress, signal) => {
    const session = await ReconstructionSession.open(imagePath, options);
    return session.reconstruct({ model, preset, captionStyle, caption: !values['no-caption'], refine, candidates, target, signal, onProgress });
  });
}

export async function runRefine(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand(argv, { ...sessionFlags, from: { type: 'string' }, rounds: { type: 'string' } }, REFINE_USAGE, io);
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new RefigureError('usage', `refine takes one result file.\n\n${REFINE_USAGE}`);
  const jsonPath = resolve(io.cwd, positionals[0] as string);
  await requireFile(jsonPath);
  const saved = await readResultFile(jsonPath);
  const from = values.from === undefined ? undefined : Math.floor(numberOption(values.from, 'from', 1, 1)) - 1;
  if (from !== undefined && !saved.attempts[from]) throw new RefigureError('usage', `--from ${from + 1}: ${jsonPath} holds ${saved.attempts.length} attempt(s).`);
  const rounds = Math.floor(numberOption(values.rounds, 'rounds', 1, 1));
  const target = values.target === undefined ? undefined : numberOption(values.target, 'target', defaultTarget);
  const imagePath = saved.image.path;
  await requireFile(imagePath);
  const paths: OutputPaths = values.out ? outputPaths(imagePath, resolve(io.cwd, values.out)) : { ...outputPaths(imagePath, dirname(jsonPath)), json: jsonPath };
  await checkOutputs(imagePath, paths);
  const model = await modelFromFlags(values, io);
  if (!model) {
    throw new RefigureError('usage', 'Refining needs a model endpoint, and none is configured.', 'Give --endpoint URL or set REFIGURE_ENDPOINT.', { code: 'no-model' });
  }
  return withSession(values, io, paths, 1, async (options, onProgress, signal) => {
    const session = await ReconstructionSession.resume(saved, options);
    return session.refine({ model, from, rounds, target, caption: !values['no-caption'], signal, onProgress });
  });
}

/** Runs one session operation with a renderer, a scratch folder, Ctrl-C and a status line, then writes and reports the result. */
async function withSession(
  values: { python?: string; sandbox?: string; verbose?: boolean; timeout?: string; json?: boolean },
  io: CliIo,
  paths: OutputPaths,
  concurrency: number,
  run: (options: SessionOptions, onProgress: (event: ProgressEvent) => void, signal: AbortSignal) => Promise<ReconstructionResult>,
): Promise<number> {
  const renderTimeoutMs = numberOption(values.timeout, 'timeout', 30, 0.1) * 1000;
  const status = new StatusLine(io);
  const renderer = await rendererFromFlags(values, io, concurrency);
  const workDir = await mkdtemp(join(tmpdir(), 'refigure-'));
  const interrupt = interruptSignal();
  try {
    const logger = cliLogger(io, Boolean(values.verbose));
    const result = await run({ renderer, workDir, renderTimeoutMs, logger }, (event) => showProgress(event, status), interrupt.signal);
    status.done();
    const written = await writeOutputs(result, paths);
    if (values.json) io.json(written);
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

export function formatMetrics(metrics: Metrics | null): string {
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
  else if (result.render.error) lines.push(`  ${result.render.error.message}${indentedTraceback(result.render.error)}`.trimEnd());
  if (result.attempts.length > 1) lines.push(`  attempts ${result.attempts.length}, best #${result.best + 1}, shown #${result.shown + 1}`);
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
  for (const note of result.notes) lines.push(`Note: ${note.message}`);
  return `${lines.join('\n')}\n`;
}

/** A render error's traceback on the lines after its message, indented, as both `reconstruct` and `render` print it. */
export function indentedTraceback(error: { traceback?: string }): string {
  if (!error.traceback) return '\n';
  return `\n${error.traceback
    .trimEnd()
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n')}\n`;
}
