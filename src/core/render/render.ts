// The render service: a pool of warm Python workers (python/refigure_worker.py), sandboxed, speaking JSON lines.
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { checkVector, maxExportBytes, readRegularFile, readRenderPng, writeOutput } from './renderFiles';
import { execa, type ResultPromise } from 'execa';
import { RefigureError, cancelled } from '../errors';
import { pythonDir } from '../paths';
import { findPython, pythonParses, type PythonInfo } from './python';
import { bwrapArgs, bwrapScratchRoot, chooseLayer, mplConfigDir, scrubbedEnv } from './sandbox';
import { seatbeltCommand, seatbeltProfile } from './seatbelt';
import type {
  ConvertRequest,
  ExportFormat,
  Logger,
  Metrics,
  RenderError,
  RenderErrorKind,
  FigureArtists,
  RenderOutcome,
  RenderRequest,
  RenderText,
  DiffRegion,
  Renderer,
  SandboxLayer,
  SandboxMode,
} from '../types';
import { silentLogger } from '../types';

export interface RendererOptions {
  /** An interpreter found by `findPython`, or a path / command to check; discovery when absent. */
  python?: PythonInfo | string;
  logger?: Logger;
  /** Workers running renders side by side (default 1; the CLI passes the core count for batch work). */
  concurrency?: number;
  /**
   * `auto` (and its older name `require-isolation`): the strongest kernel-enforced layer available, or a
   * refusal naming how to get one. A layer by name forces it; `none` is the explicit opt-in to render
   * with no kernel-enforced layer.
   */
  sandbox?: SandboxMode;
  /** The audit hook that names what the code tried (default on); off, only the kernel layers stand. */
  tripwire?: boolean;
  /** False in an untrusted workspace: every render is refused before anything runs. Default true. */
  trusted?: boolean;
  defaultTimeoutMs?: number;
  memoryLimitMb?: number;
  /** Run every render in a fresh interpreter instead of a forked child (slower; for comparison). */
  cold?: boolean;
}

export type RenderService = Renderer & {
  readonly sandbox: SandboxLayer;
  readonly python: PythonInfo;
  /** Process ids of the running workers (the bwrap process under bubblewrap), for diagnostics. */
  workerPids(): number[];
  warm(): void;
  /** What the worker's hello reported: interpreter and library versions, backend, DPI, FreeType, fonts. */
  environment(): Promise<Record<string, unknown>>;
};

const defaultTimeoutMs = 30_000;
/** Time the worker gets beyond the code's own timeout (fitting, comparing, killing) before the watchdog acts. */
const watchdogGraceMs = 20_000;
const toolWatchdogMs = 120_000;
const helloTimeoutMs = 60_000;
// After a cancel the worker ends the render and answers at once; the grace before it is killed allows for a
// loaded machine (a full test run on 2 cores took over 5 s now and then), not for a render that goes on.
const cancelGraceMs = 15_000;
/** A reply line longer than this is not one the worker writes (its texts, output and errors are capped). */
const maxReplyChars = 32 * 1024 * 1024;

export async function createRenderer(opts: RendererOptions = {}): Promise<RenderService> {
  const logger = opts.logger ?? silentLogger;
  const python =
    typeof opts.python === 'object' ? opts.python : await findPython({ explicit: opts.python, logger });
  const layer = await chooseLayer(opts.sandbox ?? 'auto', python.path, logger);
  // bubblewrap and Seatbelt must show the interpreter's own folders; an interpreter handed in without them is asked once.
  const roots = layer === 'bwrap' || layer === 'seatbelt' ? (python.roots ?? (await findPython({ explicit: python.path, logger: silentLogger })).roots ?? []) : [];
  const service = new RenderPool({ ...opts, logger, python, layer, roots });
  logger.info(`Render sandbox: ${layerDescription[layer]}.`);
  return service;
}

const layerDescription: Record<SandboxLayer, string> = {
  bwrap: 'bubblewrap namespaces, with Landlock and seccomp in each render',
  landlock: 'Landlock, seccomp and no_new_privs in each render',
  seatbelt: 'macOS Seatbelt (sandbox-exec)',
  none: 'none: no kernel-enforced layer (opted in with --sandbox none)',
};

interface Reply {
  id: number;
  ok: boolean;
  error?: WireError;
  png?: string;
  diff_png?: string;
  width?: number;
  height?: number;
  metrics?: Metrics | null;
  output?: string;
  seconds?: number;
  compare_error?: string;
  export_error?: string;
  compat?: string[];
  texts?: RenderText[];
  regions?: DiffRegion[];
  artists?: FigureArtists;
  mediaType?: string;
  type?: string;
}

/** An error as the worker reports it: a render error kind, or `input` / `worker` for compare and convert. */
interface WireError {
  kind: string;
  message: string;
  traceback?: string;
  line?: number;
}

const renderErrorKinds: ReadonlySet<string> = new Set<RenderErrorKind>([
  'exception', 'syntax', 'timeout', 'memory', 'blocked', 'exit', 'no-figure', 'refused', 'cancelled', 'worker',
]);

interface Job {
  payload: Record<string, unknown>;
  watchdogMs: number;
  signal?: AbortSignal;
  resolve: (reply: Reply) => void;
  reject: (error: unknown) => void;
  retried: boolean;
  cancelled: boolean;
  onAbort?: () => void;
}

class WorkerDied extends Error {}

interface Slot {
  worker?: WorkerProcess;
  /** A worker being started ahead of its first request (`warm`). */
  starting?: Promise<WorkerProcess>;
  busy: boolean;
}

interface PoolConfig extends RendererOptions {
  logger: Logger;
  python: PythonInfo;
  layer: SandboxLayer;
  roots: readonly string[];
}

class RenderPool implements RenderService {
  readonly python: PythonInfo;
  private layer: SandboxLayer;
  private readonly logger: Logger;
  private readonly slots: Slot[];
  private readonly queue: Job[] = [];
  private readonly tempRoot: string;
  private closed = false;
  private readonly onExit = () => this.killAll();

  constructor(private readonly config: PoolConfig) {
    this.python = config.python;
    this.layer = config.layer;
    this.logger = config.logger;
    this.slots = Array.from({ length: Math.max(1, Math.floor(config.concurrency ?? 1)) }, () => ({ busy: false }));
    // The real path: bubblewrap binds it as is, and the worker's paths must match inside and out.
    this.tempRoot = realpathSync(mkdtempSync(join(tmpdir(), 'refigure-render-')));
    for (const dir of ['home', 'tmp']) mkdirSync(join(this.tempRoot, dir));
    process.once('exit', this.onExit);
  }

  get sandbox(): SandboxLayer {
    return this.config.trusted === false ? 'none' : this.layer;
  }

  workerPids(): number[] {
    return this.slots.flatMap((s) => (s.worker && !s.worker.dead ? [s.worker.pid] : []));
  }

  /** Starts one worker now, so that a render asked for later (e.g. once the model has answered) finds it warm. */
  warm(): void {
    const slot = this.slots[0];
    if (this.closed || !slot || slot.busy || slot.starting || (slot.worker && !slot.worker.dead)) return;
    const starting = this.startWorker();
    slot.starting = starting;
    starting.then(
      (worker) => {
        if (slot.starting !== starting) return;
        slot.starting = undefined;
        if (this.closed) worker.kill();
        else slot.worker = worker;
      },
      (error: unknown) => {
        if (slot.starting === starting) slot.starting = undefined;
        // The render that follows starts a worker again and reports the failure where the user sees it.
        this.logger.debug(`Warming the render worker failed: ${error instanceof Error ? error.message : String(error)}`);
      },
    );
  }

  async render(request: RenderRequest): Promise<RenderOutcome> {
    const started = performance.now();
    if (this.config.trusted === false) {
      return {
        ok: false,
        seconds: 0,
        sandbox: 'none',
        error: {
          kind: 'refused',
          message: 'This workspace is not trusted, so Refigure does not run model-written code in it.',
          traceback: 'Trust the workspace (command "Workspaces: Manage Workspace Trust") to render figures.',
        },
      };
    }
    if (request.signal?.aborted) throw cancelled();
    const timeoutMs = request.timeoutMs ?? this.config.defaultTimeoutMs ?? defaultTimeoutMs;
    const dir = await this.requestDir();
    try {
      // Under bubblewrap the worker makes the scratch on its own tmpfs; elsewhere it is this folder.
      if (this.layer !== 'bwrap') await mkdir(join(dir, 'work'));
      let like: { file: string; width: number; height: number } | undefined;
      if (request.like) {
        const file = `original${extname(request.like.path).toLowerCase() || '.img'}`;
        await stage(request.like.path, join(dir, file), 'original image');
        like = { file, width: request.like.width, height: request.like.height };
      }
      const kernel = this.layer === 'bwrap' || this.layer === 'landlock';
      const reply = await this.dispatch(
        {
          op: 'render',
          code: request.code,
          dir,
          like,
          timeout: timeoutMs / 1000,
          cold: this.config.cold ?? false,
          // Without bubblewrap's size-capped tmpfs, each render mounts its own where user namespaces allow.
          confine: { kernel, landlock: kernel, tmpfs: this.layer === 'landlock' },
          tripwire: this.config.tripwire ?? true,
          artists: request.artists ?? false,
          export: request.export,
          limits: {
            memory_mb: this.config.memoryLimitMb ?? 2048,
            cpu_s: Math.ceil(timeoutMs / 1000) + 2,
            files: 256,
            // Beside seccomp's refusal of new processes, the kernel's own for non-root users.
            procs: 1,
            fsize_mb: 64,
            disk_mb: 512,
            disk_files: 10_000,
          },
        },
        timeoutMs + watchdogGraceMs,
        request.signal,
      );
      const outcome: RenderOutcome = {
        ok: reply.ok,
        seconds: round((performance.now() - started) / 1000),
        sandbox: this.layer,
      };
      if (reply.output) outcome.output = reply.output;
      if (reply.compat?.length) outcome.compat = reply.compat;
      if (reply.ok && Array.isArray(reply.texts)) outcome.texts = reply.texts;
      if (reply.ok && request.artists && reply.artists) outcome.artists = reply.artists;
      if (!reply.ok) {
        outcome.error = toRenderError(reply.error);
        return outcome;
      }
      // Only the fixed names the worker writes are read; a path in the reply is never followed.
      const png = await readRenderPng(join(dir, 'out.png'), 'rendered image');
      await mkdir(request.outDir, { recursive: true });
      outcome.png = join(request.outDir, `${request.stem}.png`);
      await writeOutput(outcome.png, png.bytes);
      outcome.width = png.width;
      outcome.height = png.height;
      if (reply.metrics && like) {
        const diff = await readRenderPng(join(dir, 'diff.png'), 'difference map');
        outcome.diffPng = join(request.outDir, `${request.stem}.diff.png`);
        await writeOutput(outcome.diffPng, diff.bytes);
        outcome.metrics = checkMetrics(reply.metrics);
        if (Array.isArray(reply.regions)) outcome.regions = reply.regions;
      }
      if (reply.compare_error) this.logger.warn(`Comparison failed: ${reply.compare_error}`);
      if (request.export) await this.takeExport(request, request.export, dir, reply, outcome);
      return outcome;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** The vector export the worker wrote under its fixed name, checked (`checkVector`) and written beside the PNG. */
  private async takeExport(request: RenderRequest, format: ExportFormat, dir: string, reply: Reply, outcome: RenderOutcome): Promise<void> {
    const what = `${format.toUpperCase()} export`;
    try {
      if (reply.export_error) throw new RefigureError('render', `The figure could not be saved as ${format.toUpperCase()}: ${reply.export_error.slice(0, 500)}`);
      const bytes = await readRegularFile(join(dir, `out.${format}`), maxExportBytes, what);
      checkVector(bytes, format);
      const path = join(request.outDir, `${request.stem}.${format}`);
      await writeOutput(path, bytes);
      outcome.export = path;
    } catch (error) {
      if (!(error instanceof RefigureError)) throw error;
      outcome.exportError = error.message;
      this.logger.warn(error.message);
    }
  }

  parses(code: string, signal?: AbortSignal): Promise<boolean> {
    return pythonParses(this.python.path, code, signal);
  }

  async environment(): Promise<Record<string, unknown>> {
    // A ping starts a worker when none runs; its hello is what it reported.
    await this.dispatch({ op: 'ping' }, toolWatchdogMs);
    const hello = this.slots.map((s) => s.worker?.info).find((h) => h !== undefined);
    if (!hello) throw new RefigureError('render', 'The render worker did not report its environment.');
    return hello;
  }

  async compare(original: string, rendered: string, diffPng?: string, signal?: AbortSignal): Promise<Metrics> {
    const dir = await this.requestDir();
    try {
      const a = join(dir, `original${extname(original).toLowerCase()}`);
      const b = join(dir, `rendered${extname(rendered).toLowerCase()}`);
      await stage(original, a, 'original image');
      await stage(rendered, b, 'rendered image');
      const diff = diffPng ? join(dir, 'diff.png') : undefined;
      const reply = await this.dispatch({ op: 'compare', original: a, rendered: b, diff_png: diff }, toolWatchdogMs, signal);
      if (!reply.ok || !reply.metrics) throw toolError(reply, 'compare the images');
      if (diffPng && diff) await writeOutput(diffPng, (await readRenderPng(diff, 'difference map')).bytes);
      return checkMetrics(reply.metrics);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async convertImage(request: ConvertRequest): Promise<{ width: number; height: number; mediaType: string }> {
    const dir = await this.requestDir();
    try {
      const input = join(dir, `input${extname(request.input).toLowerCase()}`);
      await stage(request.input, input, 'image');
      const output = join(dir, `output.${request.format}`);
      const reply = await this.dispatch(
        { op: 'convert', input, output, format: request.format, width: request.width, height: request.height },
        toolWatchdogMs,
        request.signal,
      );
      if (!reply.ok || reply.width === undefined || reply.height === undefined) throw toolError(reply, `convert ${request.input}`);
      await writeOutput(request.output, await readRegularFile(output, maxConvertBytes, 'converted image'));
      return { width: reply.width, height: reply.height, mediaType: reply.mediaType ?? mediaTypeOf(request.format) };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new RefigureError('render', 'The render service was closed.'));
    await Promise.all(this.slots.map(async (slot) => slot.worker?.shutdown()));
    process.removeListener('exit', this.onExit);
    rmSync(this.tempRoot, { recursive: true, force: true });
  }

  private killAll(): void {
    for (const slot of this.slots) slot.worker?.kill();
    try {
      rmSync(this.tempRoot, { recursive: true, force: true });
    } catch {
      // best effort while Node is exiting
    }
  }

  private async requestDir(): Promise<string> {
    if (this.closed) throw new RefigureError('render', 'The render service was closed.');
    return mkdtemp(join(this.tempRoot, 'r-'));
  }

  private dispatch(payload: Record<string, unknown>, watchdogMs: number, signal?: AbortSignal): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      if (signal?.aborted) return reject(cancelled());
      const job: Job = { payload, watchdogMs, signal, resolve, reject, retried: false, cancelled: false };
      if (signal) {
        job.onAbort = () => {
          job.cancelled = true;
          const index = this.queue.indexOf(job);
          if (index >= 0) {
            this.queue.splice(index, 1);
            reject(cancelled());
          }
          // A running job is cancelled by its worker (see WorkerProcess.call).
        };
        signal.addEventListener('abort', job.onAbort, { once: true });
      }
      this.queue.push(job);
      this.pump();
    });
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (slot.busy || this.closed) continue;
      const job = this.queue.shift();
      if (!job) return;
      slot.busy = true;
      void this.run(slot, job).finally(() => {
        slot.busy = false;
        this.pump();
      });
    }
  }

  private async run(slot: Slot, job: Job): Promise<void> {
    const settle = (fn: () => void) => {
      if (job.onAbort) job.signal?.removeEventListener('abort', job.onAbort);
      fn();
    };
    try {
      if ((!slot.worker || slot.worker.dead) && slot.starting) slot.worker = await slot.starting.catch(() => undefined);
      slot.starting = undefined;
      if (!slot.worker || slot.worker.dead) slot.worker = await this.startWorker();
      const reply = await slot.worker.call(job);
      settle(() => (job.cancelled ? job.reject(cancelled()) : job.resolve(reply)));
    } catch (error) {
      if (!(error instanceof WorkerDied)) return settle(() => job.reject(error));
      slot.worker = undefined;
      if (job.cancelled) return settle(() => job.reject(cancelled()));
      if (!job.retried && !this.closed) {
        job.retried = true;
        this.logger.warn(`The render worker stopped (${error.message}); retrying the request on a fresh worker.`);
        this.queue.unshift(job);
        return;
      }
      settle(() =>
        job.reject(
          new RefigureError('render', `The render service failed twice in a row: ${error.message}`, 'Check the Refigure log; the Python environment may be broken.', { cause: error }),
        ),
      );
    }
  }

  private async startWorker(): Promise<WorkerProcess> {
    const home = join(this.tempRoot, 'home');
    // matplotlib's config and font cache persist per user and interpreter: built once, not at every start.
    // Renders read it and cannot write it (Landlock in the child); the worker itself may.
    const mplConfig = mplConfigDir(this.python);
    const env = scrubbedEnv(process.env, { home, mplConfig, temp: join(this.tempRoot, 'tmp') });
    const script = join(pythonDir(), 'refigure_worker.py');
    const pythonArgs = ['-I', '-u', script];
    let command = this.python.path;
    let args = pythonArgs;
    if (this.layer === 'bwrap') {
      env.REFIGURE_SCRATCH_ROOT = bwrapScratchRoot;
      command = 'bwrap';
      args = [...bwrapArgs({ roots: this.config.roots, pythonDir: pythonDir(), writable: [this.tempRoot, mplConfig] }), '--', this.python.path, ...pythonArgs];
    } else if (this.layer === 'seatbelt') {
      const wrapped = seatbeltCommand(this.python.path, pythonArgs, seatbeltProfile({ scratch: this.tempRoot, readRoots: [...this.config.roots, pythonDir(), mplConfig], home: process.env.HOME ?? '', python: [this.python.path, realpathSync(this.python.path)], allowFork: true }));
      command = wrapped.command;
      args = wrapped.args;
    }
    const worker = await WorkerProcess.start(command, args, env, this.logger);
    this.logger.debug(`Render worker ${worker.pid} started (${this.layer}).`);
    return worker;
  }
}

/** One worker process and its JSON-lines conversation. */
class WorkerProcess {
  dead = false;
  private nextId = 1;
  private buffer = '';
  private stderrTail = '';
  private readonly pending = new Map<number, { resolve: (reply: Reply) => void; reject: (error: unknown) => void }>();
  private hello?: (ok: boolean, detail: string) => void;
  /** The worker's hello: versions and the rendering environment. */
  info?: Record<string, unknown>;
  private exitReason = '';

  private constructor(
    private readonly child: ResultPromise,
    readonly pid: number,
    private readonly logger: Logger,
  ) {
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => this.onStdout(chunk));
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-4000);
      for (const line of chunk.split('\n')) if (line.trim()) this.logger.debug(`worker ${pid}: ${line}`);
    });
    child.on('exit', (code, signal) => this.onExit(signal ? `killed by ${signal}` : `exited with status ${code}`));
    child.on('error', (error) => this.onExit(error.message));
    // The execa promise itself reports the same exit; its result is not needed.
    child.catch(() => undefined);
  }

  static async start(command: string, args: string[], env: Record<string, string>, logger: Logger): Promise<WorkerProcess> {
    const child = execa(command, args, {
      env,
      extendEnv: false,
      detached: true,
      stdin: 'pipe',
      stdout: 'pipe',
      stderr: 'pipe',
      buffer: false,
      reject: false,
      cleanup: false,
      windowsHide: true,
    });
    if (child.pid === undefined) {
      const failure = await child;
      throw new RefigureError('environment', `The render worker could not start: ${failure.shortMessage ?? failure.message}`);
    }
    const worker = new WorkerProcess(child, child.pid, logger);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        worker.kill();
        reject(new RefigureError('environment', `The render worker did not start within ${helloTimeoutMs / 1000} s.`));
      }, helloTimeoutMs);
      worker.hello = (ok, detail) => {
        clearTimeout(timer);
        worker.hello = undefined;
        if (ok) resolve();
        else {
          worker.kill();
          reject(new RefigureError('environment', `The render worker could not start: ${detail}`, 'Check that the Python interpreter has matplotlib, numpy and Pillow.'));
        }
      };
    });
    return worker;
  }

  /** Sends one request and waits for its reply; cancels through the worker, with the watchdog as a last resort. */
  call(job: Job): Promise<Reply> {
    if (this.dead) return Promise.reject(new WorkerDied(this.exitReason || 'the worker is not running'));
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      let cancelTimer: NodeJS.Timeout | undefined;
      const watchdog = setTimeout(() => {
        this.logger.warn(`Render worker ${this.pid} did not answer within ${Math.round(job.watchdogMs / 1000)} s; stopping it.`);
        this.kill();
      }, job.watchdogMs);
      const onAbort = () => {
        this.send({ op: 'cancel', target: id, id: this.nextId++ });
        cancelTimer = setTimeout(() => this.kill(), cancelGraceMs);
      };
      const done = () => {
        clearTimeout(watchdog);
        if (cancelTimer) clearTimeout(cancelTimer);
        job.signal?.removeEventListener('abort', onAbort);
      };
      this.pending.set(id, {
        resolve: (reply) => {
          done();
          resolve(reply);
        },
        reject: (error) => {
          done();
          reject(error);
        },
      });
      if (job.signal?.aborted) job.cancelled = true;
      job.signal?.addEventListener('abort', onAbort, { once: true });
      this.send({ ...job.payload, id });
      if (job.cancelled) onAbort();
    });
  }

  async shutdown(): Promise<void> {
    if (this.dead) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.send({ op: 'shutdown', id: this.nextId++ });
    this.child.stdin?.end();
    const timer = setTimeout(() => this.kill(), 3000);
    await exited;
    clearTimeout(timer);
    this.kill();
  }

  /** Kills the worker's whole process group (it was started detached, so it leads its own group). */
  kill(): void {
    try {
      if (process.platform === 'win32') this.child.kill('SIGKILL');
      else process.kill(-this.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }

  private send(message: Record<string, unknown>): void {
    if (this.dead || !this.child.stdin?.writable) return;
    this.child.stdin.write(`${JSON.stringify(message)}\n`);
  }

  private onStdout(chunk: string): void {
    // Only the new chunk is searched for line ends: a long reply arriving in many chunks stays linear.
    let start = 0;
    for (let newline = chunk.indexOf('\n'); newline >= 0; newline = chunk.indexOf('\n', start)) {
      const line = this.buffer + chunk.slice(start, newline);
      this.buffer = '';
      start = newline + 1;
      this.onLine(line);
    }
    this.buffer += chunk.slice(start);
    if (this.buffer.length > maxReplyChars) {
      this.logger.warn(`Render worker ${this.pid} sent a line of more than ${maxReplyChars} characters; stopping it.`);
      this.buffer = '';
      this.kill();
    }
  }

  private onLine(line: string): void {
    if (!line.trim()) return;
    let message: Reply & { type?: string; protocol?: number; message?: string };
    try {
      message = JSON.parse(line) as typeof message;
    } catch {
      this.logger.warn(`Render worker ${this.pid} wrote a line that is not JSON: ${line.slice(0, 200)}`);
      return;
    }
    if (message.type === 'hello') {
      this.info = message as unknown as Record<string, unknown>;
      if (message.protocol === 1) this.hello?.(true, '');
      else this.hello?.(false, `protocol ${String(message.protocol)} is not the expected 1`);
      return;
    }
    if (message.type === 'fatal') {
      this.hello?.(false, message.message ?? 'unknown error');
      return;
    }
    const waiter = this.pending.get(message.id);
    if (waiter) {
      this.pending.delete(message.id);
      waiter.resolve(message);
    }
  }

  private onExit(reason: string): void {
    if (this.dead) return;
    this.dead = true;
    const tail = this.stderrTail.trim().split('\n').slice(-3).join(' | ');
    this.exitReason = tail ? `${reason}: ${tail}` : reason;
    this.hello?.(false, this.exitReason);
    for (const waiter of this.pending.values()) waiter.reject(new WorkerDied(this.exitReason));
    this.pending.clear();
    // Whatever is left of its group (a bwrap helper, a render child) goes too.
    this.kill();
  }
}

async function stage(from: string, to: string, what: string): Promise<void> {
  try {
    await copyFile(from, to);
  } catch (error) {
    throw new RefigureError('input', `Cannot read the ${what} ${from}: ${(error as NodeJS.ErrnoException).code ?? errorText(error)}.`, 'Check that the file exists and is readable.', { cause: error });
  }
}

/** A converted image: at most the input pixel cap, 4 bytes a pixel uncompressed. */
const maxConvertBytes = 1024 * 1024 * 1024;

/** The figures as numbers in their ranges; anything else is not a result the worker computed. */
function checkMetrics(metrics: Metrics): Metrics {
  const names: Array<keyof Metrics> = ['fidelity', 'ssim', 'pixelMatch', 'edgeF1', 'colorDistance'];
  const out = {} as Metrics;
  for (const name of names) {
    const value = metrics[name];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
      throw new RefigureError('render', `The render worker reported an impossible ${name} (${String(value)}).`);
    }
    out[name] = value;
  }
  return out;
}

function toRenderError(error: Reply['error']): RenderError {
  if (!error) return { kind: 'worker', message: 'the render failed without saying why' };
  const kind = renderErrorKinds.has(error.kind) ? (error.kind as RenderErrorKind) : 'worker';
  const out: RenderError = { kind, message: error.message };
  if (error.traceback) out.traceback = error.traceback;
  if (typeof error.line === 'number') out.line = error.line;
  return out;
}

function toolError(reply: Reply, what: string): RefigureError {
  const message = reply.error?.message ?? 'no answer';
  if (reply.error?.kind === 'input') return new RefigureError('input', `Cannot ${what}: ${message}.`, 'Check that the image is a readable PNG, JPEG, GIF, BMP or WebP file.');
  return new RefigureError('render', `Cannot ${what}: ${message}.`, 'Check the Refigure log for the render worker\'s messages.');
}

function mediaTypeOf(format: ConvertRequest['format']): string {
  return format === 'png' ? 'image/png' : format === 'jpeg' ? 'image/jpeg' : 'application/octet-stream';
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

