// The `refigure` command: reconstruct, refine, render, caption and eval over the same core as the extension.
import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, resolve } from 'node:path';
import type { RenderOutcome } from '../core/types';
import { RefigureError, describeError, exitCodeFor } from '../core/errors';
import { renderCode } from '../core/reconstruct/pipeline';
import { renderSummary } from '../core/reconstruct/refine';
import { type CliIo, interruptSignal, processIo } from './io';
import { numberOption, oneOf, parseCommand, renderOptions, rendererFromFlags, requireFile } from './flags';
import { formatMetrics, indentedTraceback, runReconstruct, runRefine } from './reconstruct';
import { runCaption } from './caption';
import { runEval } from './eval';

const VERSION = '0.1.0';

const USAGE = `Usage: refigure <command> [options]

Commands:
  reconstruct IMAGE   Ask a model for matplotlib code that redraws IMAGE, render it, compare, caption
  refine RESULT.json  Continue a saved reconstruction with more rounds, appended to its history
  render CODE.py      Render matplotlib code and compare it with an image (--like IMAGE)
  caption NOTEBOOK    Caption every figure of a Jupyter notebook
  eval DATASET        Evaluate a model over a folder of images or a STEM2Code-style JSONL

Run 'refigure <command> --help' for a command's options.
Environment: REFIGURE_ENDPOINT, REFIGURE_MODEL, REFIGURE_API_KEY (else OPENAI_BASE_URL, OPENAI_API_KEY),
REFIGURE_PYTHON.
Exit codes: 0 done, 2 bad usage or input, 3 model endpoint error, 4 the code did not render.
`;

const RENDER_USAGE = `Usage: refigure render CODE.py --like IMAGE [options]

Renders CODE.py in the sandbox at IMAGE's size and compares the two.
Writes <name>.png and <name>.diff.png (in --out, default: the code's folder).

Options:
  --like IMAGE          the original to size and compare against (required)
  --out DIR             output folder
  --python PATH         Python interpreter with matplotlib
  --timeout SECONDS     render time limit (default 30)
  --export svg|pdf      also save the figure as <name>.svg or <name>.pdf, by matplotlib, for papers
  --sandbox MODE        auto (default: the strongest kernel-enforced layer, else refuse) or none (no isolation, at your own risk)
  --json                print the render JSON on stdout
  -h, --help            this help
`;

export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'reconstruct':
        return await runReconstruct(rest, io);
      case 'refine':
        return await runRefine(rest, io);
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

async function runRender(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand(argv, { ...renderOptions, json: { type: 'boolean' }, like: { type: 'string' }, export: { type: 'string' } }, RENDER_USAGE, io);
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
  const exportFormat = values.export === undefined ? undefined : oneOf(values.export, 'export', ['svg', 'pdf'] as const, 'svg');
  const renderer = await rendererFromFlags(values, io);
  const interrupt = interruptSignal();
  let outcome: RenderOutcome;
  try {
    outcome = await renderCode({ code, imagePath, renderer, workDir: outDir, stem, renderTimeoutMs: timeoutMs, signal: interrupt.signal, export: exportFormat });
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
    ...(exportFormat ? { export: outcome.export ?? null, exportError: outcome.exportError ?? null } : {}),
  };
  // A render without the export asked for has not done what it was asked.
  const exported = !exportFormat || outcome.export !== undefined;
  if (values.json) io.json(record);
  else if (outcome.ok) {
    io.out(`Rendered ${codePath} (${outcome.seconds.toFixed(2)} s, sandbox ${outcome.sandbox}).\n${formatMetrics(outcome.metrics ?? null)}`);
    io.out(`  render   ${outcome.png}\n`);
    if (outcome.diffPng) io.out(`  diff     ${outcome.diffPng}\n`);
    if (outcome.export) io.out(`  ${exportFormat}      ${outcome.export}\n`);
    if (outcome.exportError) io.err(`${outcome.exportError}\n`);
  } else {
    io.out(`Could not render ${codePath}: ${outcome.error?.message ?? 'unknown error'}${indentedTraceback(outcome.error ?? {})}`);
  }
  return outcome.ok && exported ? 0 : 4;
}
