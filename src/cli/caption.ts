// `refigure caption NOTEBOOK.ipynb`: reconstruct every figure of a notebook and put a caption cell under each.
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, chmod, copyFile, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type { CaptionStyle, ReconstructionResult } from '../core/types';
import { RefigureError, describeError, exitCodeFor, isAbort } from '../core/errors';
import { reconstruct } from '../core/reconstruct/pipeline';
import { captionDescribesFigure, captionGuard, captionStyles } from '../core/reconstruct/caption';
import { findPython } from '../core/render/python';
import { linkTargetPath } from '../core/documents/markdownImage';
import { NotebookEditor, type NotebookFigure, describeFigure, figureBytes, findFigures, parseNotebook } from '../core/documents/notebook';
import { type CliIo, StatusLine, cliLogger, interruptSignal } from './io';
import { modelFromFlags, modelOptions, oneOf, parseCommand, renderOptions, rendererFromFlags, requireFile } from './flags';

export const CAPTION_USAGE = `Usage: refigure caption NOTEBOOK.ipynb (--out NEW.ipynb | --in-place) [options]

Reconstructs every image output and every Markdown image of the notebook and puts a caption
cell (Markdown) directly under the cell that holds it. Running it again replaces those cells
instead of adding more.

Options:
  --out FILE            write the captioned notebook to FILE
  --in-place            replace NOTEBOOK.ipynb (after the new version validates), keeping
                        NOTEBOOK.ipynb.bak of the first version
  --style S             alt, caption (default) or detailed
  --force               also caption figures whose redraw's text differs from the original's
                        (by default they are reported and left without a caption)
  --endpoint URL        OpenAI-compatible base URL (default: $REFIGURE_ENDPOINT, $OPENAI_BASE_URL)
  --model NAME          model name (default: $REFIGURE_MODEL, or the endpoint's only model)
  --api-key-env VAR     read the API key from environment variable VAR
  --offline             trace and report the figures without a model; no caption is written (the
                        trace describes shapes and colours, not the figure)
  --python PATH         Python interpreter with matplotlib (default: $REFIGURE_PYTHON, then discovery)
  --timeout SECONDS     render time limit per figure (default 30)
  --request-timeout S   model request time limit (default 600)
  --sandbox MODE        auto (default: the strongest kernel-enforced layer, else refuse) or none (no isolation, at your own risk)
  --verbose             log every step on stderr
  -h, --help            this help

Exit codes: 0 done, 2 bad usage or input, 3 model endpoint error, 4 a figure did not render,
5 a figure's redraw reads differently from it, so its caption was held back.
`;

/** What happened to one figure. */
export interface FigureReport {
  figure: string;
  id: string;
  status: 'captioned' | 'traced' | 'not-rendered' | 'text-differs' | 'skipped' | 'failed';
  message?: string;
  fidelity?: number;
  /** Index of the caption cell in the written notebook. */
  captionCell?: number;
  replaced?: boolean;
  exitCode: number;
}

export async function runCaption(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand(
    argv,
    {
      ...renderOptions,
      ...modelOptions,
      'in-place': { type: 'boolean' },
      style: { type: 'string' },
      force: { type: 'boolean' },
    },
    CAPTION_USAGE,
    io,
  );
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new RefigureError('usage', `caption takes one notebook.\n\n${CAPTION_USAGE}`);
  if (values.out !== undefined && values['in-place']) {
    throw new RefigureError('usage', '--out and --in-place exclude each other.', 'Give --out NEW.ipynb to keep the notebook as it is, or --in-place to replace it.');
  }
  const style = oneOf(values.style, 'style', captionStyles, 'caption');
  const timeoutSeconds = values.timeout === undefined ? 30 : Number(values.timeout);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds < 0.1) throw new RefigureError('usage', `--timeout needs a number ≥ 0.1, not "${values.timeout}".`);

  const notebookPath = resolve(io.cwd, positionals[0] as string);
  await requireFile(notebookPath);
  const text = await readFile(notebookPath, 'utf8');
  const parsedNotebook = parseNotebook(text, basename(notebookPath));
  const figures = findFigures(parsedNotebook.json);
  // A corrupt output is the notebook's problem, not one figure's: say so before spending any model time.
  const bytes = new Map<string, ReturnType<typeof figureBytes>>();
  for (const figure of figures) if (figure.kind !== 'markdown') bytes.set(figure.id, figureBytes(parsedNotebook.json, figure));

  const target = values['in-place'] ? notebookPath : values.out !== undefined ? resolve(io.cwd, values.out) : undefined;
  if (!target) {
    io.err(
      `${describePlan(figures, notebookPath, style)}\n` +
        'Nothing written: give --out NEW.ipynb to write a captioned copy, or --in-place to replace the notebook (a .bak of it is kept).\n',
    );
    return 2;
  }
  if (!values['in-place'] && target === notebookPath) {
    throw new RefigureError('usage', `--out names the notebook itself (${notebookPath}).`, 'Use --in-place to replace it (a .bak is kept), or give another file.');
  }
  await checkWritable(target, Boolean(values['in-place']));
  if (figures.length === 0) {
    io.err(`${basename(notebookPath)} has no image outputs or Markdown images; nothing to caption.\n`);
    if (!values['in-place']) await writeValidated(text, target, notebookPath, false, values.python ?? io.env.REFIGURE_PYTHON, io);
    return 0;
  }

  const model = await modelFromFlags(values, io);
  if (!model && !values.offline) {
    // A traced figure's caption only says that nothing was perceived: it is not put into a notebook unasked.
    throw new RefigureError(
      'usage',
      'Captions need a model endpoint, and none is configured (--endpoint or REFIGURE_ENDPOINT).',
      'Configure one, or pass --offline to trace and report the figures (nothing is written).',
    );
  }
  if (!model) io.err('Offline: the figures are traced and reported; no caption is written, as the trace describes shapes and colours, not the figure.\n');
  const logger = cliLogger(io, Boolean(values.verbose));
  const renderer = await rendererFromFlags(values, io);
  const workDir = await mkdtemp(join(tmpdir(), 'refigure-caption-'));
  const interrupt = interruptSignal();
  const status = new StatusLine(io);
  const editor = new NotebookEditor(parsedNotebook);
  const reports: FigureReport[] = [];
  try {
    for (const [n, figure] of figures.entries()) {
      const where = describeFigure(figure);
      if (io.isTTY) status.update(`${progressBar(n, figures.length)} ${n + 1}/${figures.length} ${where}`);
      const report: FigureReport = { figure: where, id: figure.id, status: 'failed', exitCode: 0 };
      reports.push(report);
      const imagePath = await figureFile(figure, bytes.get(figure.id), notebookPath, workDir, n, report);
      if (!imagePath) continue;
      const figureDir = join(workDir, `figure-${n + 1}`);
      await mkdir(figureDir, { recursive: true });
      let result: ReconstructionResult;
      try {
        result = await reconstruct({
          imagePath,
          renderer,
          workDir: figureDir,
          model,
          captionStyle: style,
          renderTimeoutMs: timeoutSeconds * 1000,
          signal: interrupt.signal,
          logger,
          onProgress: (event) => {
            if (io.isTTY && event.kind === 'stage') status.update(`${progressBar(n, figures.length)} ${n + 1}/${figures.length} ${where}: ${event.message}`, true);
          },
        });
      } catch (error) {
        if (isAbort(error) || interrupt.signal.aborted) throw error;
        report.message = describeError(error);
        if (error instanceof RefigureError && error.kind === 'input') report.status = 'skipped';
        else report.exitCode = exitCodeFor(error);
        continue;
      }
      const caption = style === 'alt' ? result.altText || result.caption : result.caption || result.altText;
      if (!result.render.ok) {
        report.status = 'not-rendered';
        report.message = result.render.error?.message ?? 'the code did not render';
        report.exitCode = 4;
        continue;
      }
      report.fidelity = result.metrics?.fidelity;
      // As in the extension: the trace's notes never go into a document.
      if (!captionDescribesFigure(result)) {
        report.status = 'traced';
        report.message = 'offline trace; no caption written';
        continue;
      }
      if (!caption.trim()) {
        report.status = 'failed';
        report.message = result.notes.find((note) => note.code === 'caption-failed')?.message ?? 'no caption came back';
        report.exitCode = 3;
        continue;
      }
      // A caption states the labels of the code it describes: where they disagree with the figure's, it waits for --force.
      const guard = captionGuard(result);
      if (guard.code === 'text-differs' && !values.force) {
        report.status = 'text-differs';
        report.message = `${guard.reason}; no caption written (--force writes it)`;
        report.exitCode = 5;
        continue;
      }
      const placed = editor.upsertCaption(figure, caption, style);
      report.status = 'captioned';
      report.replaced = placed.replaced;
      if (guard.code === 'text-differs') report.message = `${report.message ? `${report.message}, ` : ''}written with --force although ${guard.reason}`;
    }
  } finally {
    status.done();
    interrupt.dispose();
    await renderer.close();
    await rm(workDir, { recursive: true, force: true });
  }

  // Cell indices of the captions as written (earlier insertions shift later ones).
  const written = editor.notebook;
  for (const report of reports) {
    if (report.status !== 'captioned') continue;
    const index = written.cells.findIndex((cell) => (cell.metadata.refigure as { captionFor?: string } | undefined)?.captionFor === report.id);
    if (index !== -1) report.captionCell = index;
  }
  const changed = reports.some((report) => report.status === 'captioned');
  if (changed) await writeValidated(editor.toText(), target, notebookPath, Boolean(values['in-place']), values.python ?? io.env.REFIGURE_PYTHON, io);
  io.out(summarize(reports, target, changed));
  return reports.reduce((code, report) => worse(code, report.exitCode), 0);
}

/** The image file a figure's reconstruction reads: output and attachment bytes go to the work folder. */
async function figureFile(
  figure: NotebookFigure,
  data: ReturnType<typeof figureBytes> | undefined,
  notebookPath: string,
  workDir: string,
  n: number,
  report: FigureReport,
): Promise<string | undefined> {
  if (figure.kind !== 'markdown') {
    if (!data) return undefined;
    if (data.mime === 'image/svg+xml') {
      report.status = 'skipped';
      report.message = 'SVG outputs are not supported yet; have the notebook also emit PNG (`%config InlineBackend.figure_formats = ["png", "svg"]`)';
      return undefined;
    }
    const path = join(workDir, `figure-${n + 1}.${data.extension}`);
    await writeFile(path, data.bytes);
    return path;
  }
  const target = linkTargetPath(figure.path);
  if (target === undefined) {
    report.status = 'skipped';
    report.message = `${figure.path} is a remote address; Refigure does not download images`;
    return undefined;
  }
  const path = resolve(dirname(notebookPath), target);
  try {
    if (!(await stat(path)).isFile()) throw new Error('not a file');
  } catch {
    report.status = 'skipped';
    report.message = `no image file at ${path}`;
    return undefined;
  }
  return path;
}

/** Fails before any work when the result could not be written, so no model time is wasted. */
async function checkWritable(target: string, inPlace: boolean): Promise<void> {
  const folder = dirname(target);
  try {
    if (!(await stat(folder)).isDirectory()) throw new Error('not a folder');
  } catch {
    throw new RefigureError('usage', `The folder ${folder} does not exist.`, 'Create it first or choose another --out.');
  }
  if (inPlace) {
    try {
      await access(target, constants.W_OK);
    } catch {
      throw new RefigureError('input', `${target} is read-only, so it cannot be replaced.`, 'Make it writable, or write a copy with --out NEW.ipynb.');
    }
  } else {
    try {
      await access(target, constants.W_OK);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new RefigureError('input', `${target} exists and is read-only.`, 'Choose another --out or make it writable.');
      }
    }
  }
  try {
    await access(folder, constants.W_OK);
  } catch {
    throw new RefigureError('input', `The folder ${folder} is read-only, so nothing can be written there.`, inPlace ? 'Write a copy elsewhere with --out.' : 'Choose another --out.');
  }
}

/**
 * Writes a temporary file beside the target, checks it (our own parse, then nbformat's validator when the
 * Python has it) and only then renames it over the target. In place, the first version is kept as `.bak`.
 */
async function writeValidated(text: string, target: string, original: string, inPlace: boolean, python: string | undefined, io?: CliIo): Promise<void> {
  const temporary = join(dirname(target), `.${basename(target)}.refigure-${process.pid}.tmp`);
  try {
    await writeFile(temporary, text, 'utf8');
    parseNotebook(await readFile(temporary, 'utf8'), 'The captioned notebook');
    const problem = await nbformatProblem(temporary, python, io);
    if (problem) throw new RefigureError('input', `The captioned notebook does not validate, so ${target} was left as it was: ${problem}`);
    if (inPlace) {
      const backup = `${original}.bak`;
      const hasBackup = await stat(backup).then(() => true, () => false);
      if (!hasBackup) await copyFile(original, backup, constants.COPYFILE_EXCL);
      await chmod(temporary, (await stat(original)).mode & 0o7777);
    }
    await rename(temporary, target);
  } finally {
    await rm(temporary, { force: true });
  }
}

/** nbformat's own validation of a file, or undefined when it passes (or no Python with nbformat is at hand). */
async function nbformatProblem(path: string, explicit: string | undefined, io?: CliIo): Promise<string | undefined> {
  let python: string;
  try {
    python = (await findPython({ explicit, env: io?.env })).path;
  } catch {
    return undefined;
  }
  const script = [
    'import sys',
    'try:',
    '    import nbformat',
    'except ImportError:',
    '    sys.exit(0)',
    'try:',
    '    nbformat.validate(nbformat.read(sys.argv[1], as_version=4))',
    'except Exception as e:',
    '    print(str(e).splitlines()[0] if str(e) else type(e).__name__)',
    '    sys.exit(1)',
  ].join('\n');
  return new Promise((done) => {
    execFile(python, ['-I', '-c', script, path], { timeout: 60_000, env: { PATH: process.env.PATH ?? '', PYTHONIOENCODING: 'utf-8' } }, (error, stdout) => {
      done(error ? stdout.trim() || error.message : undefined);
    });
  });
}

function describePlan(figures: NotebookFigure[], notebookPath: string, style: CaptionStyle): string {
  if (figures.length === 0) return `${basename(notebookPath)} has no image outputs or Markdown images; there is nothing to caption.`;
  const lines = [`${basename(notebookPath)} has ${figures.length} figure${figures.length === 1 ? '' : 's'}; refigure caption would reconstruct each and put a ${style} cell under it:`];
  for (const figure of figures) lines.push(`  ${describeFigure(figure)}`);
  return lines.join('\n');
}

function summarize(reports: FigureReport[], target: string, wrote: boolean): string {
  const lines: string[] = [];
  const width = Math.max(...reports.map((report) => report.figure.length));
  for (const report of reports) {
    let what: string;
    switch (report.status) {
      case 'captioned':
        what = `${report.replaced ? 'caption replaced' : 'caption added'}${report.captionCell !== undefined ? ` (cell ${report.captionCell + 1})` : ''}`;
        if (report.fidelity !== undefined) what += `, fidelity ${report.fidelity.toFixed(3)}`;
        if (report.message) what += `, ${report.message}`;
        break;
      case 'traced':
        what = `traced${report.fidelity !== undefined ? `, fidelity ${report.fidelity.toFixed(3)}` : ''}: ${report.message ?? ''}`;
        break;
      case 'not-rendered':
        what = `not rendered: ${report.message ?? ''}`;
        break;
      case 'text-differs':
        what = `text differs: ${report.message ?? ''}`;
        break;
      case 'skipped':
        what = `skipped: ${report.message ?? ''}`;
        break;
      case 'failed':
        what = `failed: ${report.message ?? ''}`;
        break;
    }
    lines.push(`  ${report.figure.padEnd(width)}  ${what}`);
  }
  const captioned = reports.filter((report) => report.status === 'captioned').length;
  lines.push(wrote ? `${captioned} of ${reports.length} figures captioned; wrote ${target}.` : `No figure was captioned; nothing was written.`);
  return `${lines.join('\n')}\n`;
}

function progressBar(done: number, total: number): string {
  const width = 20;
  const filled = Math.round((done / Math.max(1, total)) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

/**
 * The exit code that says more: an internal error (1) over endpoint trouble (3) over bad input (2) over a figure
 * that did not render (4) over a caption held back because the redraw's text differs (5) over success.
 */
function worse(a: number, b: number): number {
  const rank = (code: number) => (code === 1 ? 4 : code === 3 ? 3 : code === 2 ? 2 : code === 4 ? 1 : code === 5 ? 0.5 : 0);
  return rank(b) > rank(a) ? b : a;
}
