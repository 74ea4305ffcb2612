// The Refigure panel: a view over one reconstruction session per image, the live code loop and the panel's actions.
import * as vscode from 'vscode';
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { RefigureError, describeError, isAbort } from '../core/errors';
import { ReconstructionSession, type OperationOptions } from '../core/reconstruct/session';
import { parseResult } from '../core/reconstruct/resultFile';
import { captionMayGoIn } from './captionQuestion';
import { captionDescribesFigure } from '../core/reconstruct/caption';
import type { Attempt, ExportFormat, Logger, ModelClient, ProgressEvent, ReconstructionResult } from '../core/types';
import {
  assertNever,
  defaultWebviewState,
  parseWebviewMessage,
  parseWebviewState,
  type AttemptView,
  type HostMessage,
  type InsertTarget,
  type NoticeView,
  type PanelRequest,
  type PanelStatus,
  type PanelView,
  type WebviewState,
} from '../shared/protocol';
import type { CaptionInserter, PanelOrigin, PanelSnapshot } from './api';
import { Disposable, withCancellableProgress } from './dispose';
import { actionsForError, runHostAction, userMessage } from './hostActions';
import { buildPanelHtml, createNonce, differenceHover, figureName, figureRows, leadActionFor, orderDifferences, relativizePaths, verdictFor } from './panelHtmlPure';
import { webviewStrings } from './strings';
import type { RenderService } from './services';
import type { Settings } from './settings';

export const panelViewType = 'refigure.panel';

/** What every panel shares, provided by the panel manager. */
export interface PanelHost {
  extensionUri: vscode.Uri;
  workRoot: vscode.Uri;
  renderService: RenderService;
  settings: Settings;
  logger: Logger;
  modelClient(): Promise<ModelClient | undefined>;
  inserters: ReadonlyMap<InsertTarget, CaptionInserter>;
  reportError(error: unknown): void;
  onStateChanged(panel: RefigurePanel): void;
  onDisposed(panel: RefigurePanel): void;
}

interface ResultFile {
  result: ReconstructionResult;
  /** A Markdown origin survives a reload so "Insert as Alt Text" keeps working. */
  markdown?: { document: string; offset: number };
}

export class RefigurePanel extends Disposable {
  readonly workDir: string;
  readonly codePath: string;
  private status: PanelStatus = 'idle';
  /** The session, opened on first use; until then a restored panel shows its saved result. */
  private session: Promise<ReconstructionSession> | undefined;
  private latest: ReconstructionResult | undefined;
  private lastError: string | undefined;
  private notice: NoticeView | undefined;
  private origin: PanelOrigin = { kind: 'file' };
  private run: AbortController | undefined;
  private liveRun: AbortController | undefined;
  /** The code editor's follows of the attempt shown, one after another. */
  private following: Promise<unknown> = Promise.resolve();
  private liveTimer: ReturnType<typeof setTimeout> | undefined;
  private lastProgressPost = 0;
  /** While an operation runs: whether it asks a model or runs the offline trace (unknown until the endpoint is read). */
  private running: 'model' | 'offline' | undefined;
  /** The last operation failed at the model endpoint: Retry and Use Offline Trace lead. */
  private endpointFailed = false;

  constructor(
    readonly webviewPanel: vscode.WebviewPanel,
    readonly imagePath: string,
    private readonly host: PanelHost,
    state: WebviewState | undefined,
    saved?: ResultFile,
  ) {
    super();
    this.workDir = workDirFor(host.workRoot, imagePath);
    if (saved) {
      this.latest = saved.result;
      this.status = saved.result.render.ok ? 'rendered' : 'error';
      if (saved.markdown) this.origin = { kind: 'markdown', document: vscode.Uri.parse(saved.markdown.document), offset: saved.markdown.offset };
    }
    this.codePath = join(this.workDir, `${stemOf(imagePath)}.refigure.py`);
    const webview = webviewPanel.webview;
    webview.options = {
      enableScripts: true,
      enableForms: false,
      localResourceRoots: [
        vscode.Uri.joinPath(host.extensionUri, 'dist'),
        vscode.Uri.joinPath(host.extensionUri, 'media'),
        vscode.Uri.file(dirname(imagePath)),
        vscode.Uri.file(this.workDir),
      ],
    };
    webviewPanel.iconPath = vscode.Uri.joinPath(host.extensionUri, 'media', 'icon.png');
    this._register(webview.onDidReceiveMessage((data: unknown) => this.onMessage(data)));
    this._register(webviewPanel.onDidDispose(() => this.dispose()));
    this._register(
      vscode.window.tabGroups.onDidChangeTabs(() => {
        if (this.latest) this.post({ type: 'view', view: this.view() });
      }),
    );
    webview.html = this.html(state ?? defaultWebviewState(imagePath));
  }

  snapshot(): PanelSnapshot {
    return { imagePath: this.imagePath, status: this.status, result: this.latest, lastError: this.lastError };
  }

  /** Sends the view again, e.g. after the workspace became trusted. */
  refresh(): void {
    this.changed();
  }

  setOrigin(origin: PanelOrigin): void {
    this.origin = origin;
    this.webviewPanel.title = this.title();
    if (this.latest) void this.save();
    this.changed();
  }

  getOrigin(): PanelOrigin {
    return this.origin;
  }

  getResult(): ReconstructionResult | undefined {
    return this.latest;
  }

  reveal(): void {
    this.webviewPanel.reveal(undefined, false);
  }

  /** Reconstructs (again): new attempts join the history. Throws what went wrong (the caller reports it). */
  async reconstruct(options: { offline?: boolean } = {}): Promise<ReconstructionResult> {
    // A new reconstruction replaces one that is running.
    this.run?.abort();
    return this.operate(vscode.l10n.t('Refigure: {0}', this.figureName()), async (session, operation) => {
      const model = options.offline ? undefined : await this.host.modelClient();
      this.running = model ? 'model' : 'offline';
      this.changed();
      if (!model && !options.offline) {
        this.notice = {
          message: vscode.l10n.t('No model endpoint is configured, so the offline trace is used. It traces shapes and colours; it does not understand the figure.'),
          actions: ['configureEndpoint'],
        };
      }
      const settings = this.host.settings.current;
      const result = await session.reconstruct({
        ...operation,
        model,
        preset: settings.preset,
        captionStyle: settings.captionStyle,
        refine: settings.refineRounds,
        candidates: settings.candidates,
        target: settings.target,
      });
      this.host.logger.info(
        `Reconstructed ${this.imagePath} with ${result.model}: ${result.render.ok ? `fidelity ${result.metrics?.fidelity ?? 'n/a'}` : `did not render (${result.render.error?.kind})`}.`,
      );
      return result;
    });
  }

  /** More rounds with the model from the attempt shown (the user's edit included), keeping the best. */
  async refine(): Promise<ReconstructionResult> {
    this.requireIdle();
    return this.operate(vscode.l10n.t('Refigure: refining {0}', this.figureName()), async (session, options) => {
      const model = await this.requireModel(vscode.l10n.t('Refining needs a model endpoint.'));
      this.running = 'model';
      const settings = this.host.settings.current;
      return session.refine({ ...options, model, preset: settings.preset, rounds: Math.max(1, settings.refineRounds) });
    });
  }

  /** A caption for the attempt shown in the configured style (model required). Without a model, the caption there is when it describes the figure. */
  async generateCaption(): Promise<{ caption: string; altText: string } | undefined> {
    const result = this.latest;
    if (!result?.render.ok) return undefined;
    const model = await this.host.modelClient();
    if (!model) return result.caption && captionDescribesFigure(result) ? { caption: result.caption, altText: result.altText } : undefined;
    this.requireIdle();
    return this.operate(vscode.l10n.t('Refigure: writing a caption'), (session, options) => {
      this.running = 'model';
      return session.recaption({ ...options, model, style: this.host.settings.current.captionStyle });
    });
  }

  /** True when something was running. */
  cancel(): boolean {
    const running = this.run !== undefined || this.liveRun !== undefined;
    this.run?.abort();
    this.liveRun?.abort();
    return running;
  }

  isCodeDocument(document: vscode.TextDocument): boolean {
    return document.uri.scheme === 'file' && document.uri.fsPath === this.codePath;
  }

  /** The live loop: a save of the code's editor re-renders, debounced, cancelling the previous render. */
  codeSaved(document: vscode.TextDocument): void {
    if (this.liveTimer) clearTimeout(this.liveTimer);
    this.liveTimer = setTimeout(() => {
      this.liveTimer = undefined;
      void this.renderEdited(document.getText(), false).catch((error: unknown) => this.host.reportError(error));
    }, 300);
  }

  override dispose(): void {
    if (this.isDisposed) return;
    this.cancel();
    if (this.liveTimer) clearTimeout(this.liveTimer);
    super.dispose();
    this.host.onDisposed(this);
  }

  // ── the session ────────────────────────────────────────────────────────────

  private sessionFor(): Promise<ReconstructionSession> {
    if (!this.session) {
      const options = { renderer: this.host.renderService.asRenderer(), workDir: this.workDir, logger: this.host.logger };
      const opening = this.latest ? ReconstructionSession.resume(this.latest, options) : ReconstructionSession.open(this.imagePath, options);
      this.session = opening;
      // A failed open (the image is gone) is tried again next time.
      opening.catch(() => {
        if (this.session === opening) this.session = undefined;
      });
    }
    return this.session;
  }

  /**
   * Runs one session operation under a cancellable notification: the status, the error and its buttons, the
   * saved history and the code editor all follow from it here, whichever action started it.
   */
  private async operate<T>(title: string, work: (session: ReconstructionSession, options: OperationOptions) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    this.run = controller;
    // Each run starts from a clean view: no error, notice or chip of the run before stays.
    this.lastError = undefined;
    this.notice = undefined;
    this.running = undefined;
    this.endpointFailed = false;
    this.setStatus('streaming');
    try {
      return await withCancellableProgress(title, controller, async (progress) => {
        const session = await this.sessionFor();
        await mkdir(this.workDir, { recursive: true });
        controller.signal.throwIfAborted();
        const started = Date.now();
        const value = await work(session, { signal: controller.signal, onProgress: (event) => this.onProgress(event, started, progress) });
        controller.signal.throwIfAborted();
        await this.settled(session);
        this.setStatus(this.latest?.render.ok ? 'rendered' : 'error');
        if (!this.latest?.render.ok) this.lastError = this.latest?.render.error?.message ?? vscode.l10n.t('The code did not render.');
        return value;
      });
    } catch (error) {
      // A newer run replaced this one: its state is the newer run's to report.
      if (this.run !== controller) throw error;
      // Attempts made before a cancel or an error stay in the history.
      const session = await this.session?.catch(() => undefined);
      if (session) await this.settled(session);
      if (isAbort(error) || controller.signal.aborted) {
        this.lastError = vscode.l10n.t('Cancelled.');
        this.setStatus('cancelled');
      } else {
        this.lastError = userMessage(error);
        this.notice = { message: this.lastError, actions: actionsForError(error) };
        this.endpointFailed = error instanceof RefigureError && error.kind === 'endpoint';
        this.setStatus('error');
      }
      throw error;
    } finally {
      if (this.run === controller) {
        this.run = undefined;
        this.running = undefined;
        // Refine becomes available only once nothing runs.
        this.changed();
      }
    }
  }

  /** After any change to the session: keep its result, save it, and bring the code editor to the attempt shown. */
  private async settled(session: ReconstructionSession): Promise<void> {
    if (!session.hasResult) return;
    this.latest = session.result();
    await this.save();
    void this.followShown().catch((error: unknown) => this.host.logger.warn(`The code editor could not follow the attempt shown: ${describeError(error)}`));
  }

  private requireIdle(): void {
    if (this.run) {
      throw new RefigureError('usage', vscode.l10n.t('Wait for the running reconstruction to finish, or cancel it.'), undefined, { code: 'busy' });
    }
  }

  private async requireModel(message: string): Promise<ModelClient> {
    const model = await this.host.modelClient();
    if (!model) throw new RefigureError('endpoint', message, vscode.l10n.t('Set refigure.endpoint.'), { code: 'no-model' });
    return model;
  }

  // ── rendering edited code ──────────────────────────────────────────────────

  /**
   * Renders the user's code as a new attempt and shows it. Code that is already an attempt's is no edit unless
   * `force`: the editor following the attempt shown saves such code, and a save can be heard after the panel
   * has moved on to another attempt.
   */
  private async renderEdited(code: string, force: boolean): Promise<Attempt | undefined> {
    const session = this.latest ? await this.sessionFor() : undefined;
    if (!session?.hasResult) throw new RefigureError('usage', vscode.l10n.t('Reconstruct the figure first.'), undefined, { code: 'no-attempt' });
    if (!force && session.attempts.some((attempt) => attempt.code === code)) return undefined;
    this.liveRun?.abort();
    const controller = new AbortController();
    this.liveRun = controller;
    this.setStatus('rendering');
    try {
      await mkdir(this.workDir, { recursive: true });
      const attempt = await session.acceptEdit(code, { signal: controller.signal });
      this.latest = session.result();
      this.lastError = attempt.render.ok ? undefined : attempt.render.error?.message;
      this.host.logger.info(`Re-rendered edited code for ${basename(this.imagePath)}: ${attempt.render.ok ? `fidelity ${attempt.metrics?.fidelity ?? 'n/a'}` : attempt.render.error?.message}.`);
      await this.save();
      this.setStatus(attempt.render.ok ? 'rendered' : 'error');
      return attempt;
    } catch (error) {
      if (isAbort(error) || controller.signal.aborted) return undefined;
      this.lastError = describeError(error);
      this.setStatus('error');
      throw error;
    } finally {
      if (this.liveRun === controller) this.liveRun = undefined;
    }
  }

  // ── webview messages ───────────────────────────────────────────────────────

  private onMessage(data: unknown): void {
    const message = parseWebviewMessage(data);
    if (!message) {
      this.host.logger.warn('The panel sent a message Refigure does not understand; ignored.');
      return;
    }
    switch (message.type) {
      case 'ready':
        this.post({ type: 'view', view: this.view() });
        return;
      case 'cancel':
        this.cancel();
        return;
      case 'request':
        this.post({ type: 'accepted', id: message.id });
        this.handle(message.request).then(
          (text) => this.post({ type: 'response', id: message.id, ok: true, message: text }),
          (error: unknown) =>
            this.post({ type: 'response', id: message.id, ok: false, error: isAbort(error) ? vscode.l10n.t('Cancelled.') : userMessage(error) }),
        );
        return;
      default:
        assertNever(message);
    }
  }

  private async handle(request: PanelRequest): Promise<string | undefined> {
    switch (request.kind) {
      case 'openCode':
        await this.openCode(request.attempt);
        return undefined;
      case 'rerender': {
        const code = this.openCodeDocument()?.getText() ?? this.requireResult().code;
        const attempt = await this.renderEdited(code, true);
        return attempt?.render.ok ? vscode.l10n.t('Rendered.') : attempt?.render.error?.message;
      }
      case 'saveCode':
        return this.saveNextToImage();
      case 'export':
        return this.exportNextToImage(request.format);
      case 'refine':
        // The verdict, the figures and the attempts show what the refinement gave: no message over them.
        await this.refine();
        return undefined;
      case 'copyCaption': {
        const caption = this.requireResult().caption;
        if (!caption) throw new Error(vscode.l10n.t('There is no caption to copy.'));
        await vscode.env.clipboard.writeText(caption);
        return vscode.l10n.t('Caption copied.');
      }
      case 'insertCaption':
        return this.insertCaption(request.target);
      case 'showAttempt':
        await this.showAttempt(request.attempt);
        return undefined;
      case 'action':
        if (request.action === 'reconstruct' || request.action === 'useOffline') {
          // The panel's notice shows what went wrong, with its buttons, right under the action.
          this.reconstruct({ offline: request.action === 'useOffline' }).catch((error: unknown) => this.host.logger.error(describeError(error)));
          return undefined;
        }
        if (request.action === 'chooseModel') {
          // With a model chosen, the reconstruction the missing name stopped runs again.
          const chosen = await vscode.commands.executeCommand<string | undefined>('refigure.chooseModel');
          if (chosen) this.reconstruct().catch((error: unknown) => this.host.logger.error(describeError(error)));
          return undefined;
        }
        await runHostAction(request.action);
        return undefined;
      default:
        return assertNever(request);
    }
  }

  /** Shows another attempt: the figures, Save, Copy, Insert, Refine and the code editor follow it. */
  async showAttempt(index: number): Promise<void> {
    const session = await this.sessionFor();
    session.select(index);
    await this.settled(session);
    this.setStatus(this.latest?.render.ok ? 'rendered' : 'error');
  }

  async insertCaption(target: InsertTarget): Promise<string | undefined> {
    const result = this.requireResult();
    const inserter = this.host.inserters.get(target);
    const context = { imagePath: this.imagePath, origin: this.origin };
    if (!inserter || !inserter.canInsert(context)) throw new Error(vscode.l10n.t('The caption cannot be inserted there from this panel.'));
    if (target !== 'notebookCode' && !result.caption) throw new Error(vscode.l10n.t('There is no caption to insert.'));
    if (target !== 'notebookCode' && !captionDescribesFigure(result)) throw new Error(vscode.l10n.t('The offline trace does not describe the figure; configure a model endpoint for a caption to insert.'));
    // The same question as the commands ask: a caption of a redraw whose text differs goes in only when the user says so.
    if (target !== 'notebookCode' && !(await captionMayGoIn(result))) return vscode.l10n.t('Not inserted.');
    return inserter.insert({ ...context, caption: result.caption, altText: result.altText, code: result.code });
  }

  /** The result as shown: its `code`, `render` and `metrics` are the attempt shown. */
  private requireResult(): ReconstructionResult {
    if (!this.latest) throw new RefigureError('usage', vscode.l10n.t('Reconstruct the figure first.'), undefined, { code: 'no-attempt' });
    return this.latest;
  }

  // ── code editor and files ──────────────────────────────────────────────────

  private openCodeDocument(): vscode.TextDocument | undefined {
    return vscode.workspace.textDocuments.find((d) => this.isCodeDocument(d) && !d.isClosed);
  }

  /** Opens the code of the attempt shown (or of `attemptIndex`, which is then shown) in a real Python editor beside the panel. */
  async openCode(attemptIndex?: number): Promise<vscode.TextEditor> {
    if (attemptIndex !== undefined) await this.showAttempt(attemptIndex);
    const { code } = this.requireResult();
    await mkdir(this.workDir, { recursive: true });
    if (this.openCodeDocument()) await this.followShown();
    // Through VS Code's file service, so a text model it still holds for this file hears of the change
    // (a write behind its back makes the next save fail with "has changed in the meantime").
    else await vscode.workspace.fs.writeFile(vscode.Uri.file(this.codePath), Buffer.from(code, 'utf8'));
    const document = await vscode.workspace.openTextDocument(vscode.Uri.file(this.codePath));
    const typed = document.languageId === 'python' ? document : await vscode.languages.setTextDocumentLanguage(document, 'python');
    const editor = await vscode.window.showTextDocument(typed, { viewColumn: vscode.ViewColumn.Beside, preview: false });
    this.changed();
    return editor;
  }

  /**
   * Brings an open code editor to the attempt shown, through a WorkspaceEdit (undoable) and a save. Unsaved edits
   * of the user's are replaced only when they say so. One follow at a time: an edit made while the previous
   * follow's save is in flight is refused by VS Code ("changed in the meantime"), and each follow reads the
   * attempt shown when its turn comes.
   */
  private followShown(): Promise<void> {
    const turn = this.following.then(() => this.followShownNow());
    this.following = turn.catch(() => undefined);
    return turn;
  }

  private async followShownNow(): Promise<void> {
    const document = this.openCodeDocument();
    const code = this.latest?.code;
    if (!document || code === undefined || document.getText() === code) return;
    if (document.isDirty) {
      const replace = vscode.l10n.t('Replace');
      const answer = await vscode.window.showWarningMessage(
        vscode.l10n.t('The code of {0} has unsaved edits. Replace them with attempt {1}, which the panel shows?', basename(this.imagePath), (this.latest?.shown ?? 0) + 1),
        replace,
      );
      if (answer !== replace || this.latest?.code !== code) return;
    }
    const edit = new vscode.WorkspaceEdit();
    edit.replace(document.uri, new vscode.Range(document.positionAt(0), document.positionAt(document.getText().length)), code);
    if (!(await vscode.workspace.applyEdit(edit))) {
      // The editor's model is behind the file on disk (VS Code refuses the edit): write the file through
      // the file service instead, and the clean editor reloads it.
      if (!document.isDirty) await vscode.workspace.fs.writeFile(document.uri, Buffer.from(code, 'utf8'));
      return;
    }
    // Saved so the editor is not left dirty; the save renders nothing, as the text is the attempt shown.
    if (!(await document.save())) this.host.logger.warn(`The code editor of ${basename(this.imagePath)} could not be saved.`);
  }

  /** Writes the attempt shown as `<name>.refigure.py` beside the image, asking before replacing one unless `overwrite` says. */
  async saveNextToImage(options: { overwrite?: boolean } = {}): Promise<string | undefined> {
    const { code } = this.requireResult();
    const target = this.besideImage('py');
    const refused = await this.refusedOverwrite(target, options.overwrite);
    if (refused) return refused;
    await vscode.workspace.fs.writeFile(vscode.Uri.file(target), Buffer.from(code, 'utf8'));
    this.host.logger.info(`Saved attempt ${(this.latest?.shown ?? 0) + 1} to ${target}.`);
    return vscode.l10n.t('Saved {0}.', basename(target));
  }

  /** The attempt shown as SVG or PDF next to the image (`figure.refigure.svg`), saved by matplotlib from its code. */
  async exportNextToImage(format: ExportFormat, options: { overwrite?: boolean } = {}): Promise<string | undefined> {
    const shown = this.requireResult();
    if (!shown.render.ok) throw new RefigureError('usage', vscode.l10n.t('The attempt shown did not render; fix it first.'));
    const target = this.besideImage(format);
    const refused = await this.refusedOverwrite(target, options.overwrite);
    if (refused) return refused;
    const session = await this.sessionFor();
    const controller = new AbortController();
    const made = await withCancellableProgress(vscode.l10n.t('Refigure: saving {0}', basename(target)), controller, () =>
      session.exportAttempt(format, { attempt: shown.shown, signal: controller.signal }),
    );
    await vscode.workspace.fs.writeFile(vscode.Uri.file(target), await readFile(made));
    this.host.logger.info(`Exported attempt ${shown.shown + 1} as ${format.toUpperCase()} to ${target}.`);
    return vscode.l10n.t('Saved {0}.', basename(target));
  }

  private besideImage(extension: string): string {
    return join(dirname(this.imagePath), `${stemOf(this.imagePath)}.refigure.${extension}`);
  }

  /** Undefined when `target` may be written: it is new, or replacing it was allowed or confirmed. Else why not. */
  private async refusedOverwrite(target: string, overwrite: boolean | undefined): Promise<string | undefined> {
    if (!existsSync(target) || overwrite === true) return undefined;
    if (overwrite === false) return vscode.l10n.t('Not saved: {0} already exists.', basename(target));
    const replace = vscode.l10n.t('Replace');
    const answer = await vscode.window.showWarningMessage(vscode.l10n.t('{0} already exists. Replace it?', basename(target)), { modal: true }, replace);
    return answer === replace ? undefined : vscode.l10n.t('Not saved.');
  }

  private async save(): Promise<void> {
    if (!this.latest) return;
    await mkdir(this.workDir, { recursive: true });
    const origin = this.origin;
    const file: ResultFile = { result: this.latest, markdown: origin.kind === 'markdown' ? { document: origin.document.toString(), offset: origin.offset } : undefined };
    await writeFile(join(this.workDir, 'result.json'), JSON.stringify(file), 'utf8');
  }

  // ── state to the webview ───────────────────────────────────────────────────

  private onProgress(event: ProgressEvent, started: number, progress: vscode.Progress<{ message?: string }>): void {
    switch (event.kind) {
      case 'stage':
        progress.report({ message: event.message });
        if (event.stage === 'render' || event.stage === 'compare') this.setStatus('rendering');
        else if (event.stage === 'model' || event.stage === 'caption' || event.stage === 'refine') this.setStatus('streaming');
        this.post({ type: 'progress', progress: { stage: event.stage, message: event.message, tokens: 0, elapsedMs: Date.now() - started } });
        return;
      case 'tokens': {
        const now = Date.now();
        // Streams deliver a chunk per token; the panel needs a few updates a second, not hundreds.
        if (now - this.lastProgressPost < 100) return;
        this.lastProgressPost = now;
        this.post({ type: 'progress', progress: { stage: 'model', message: vscode.l10n.t('Receiving code'), tokens: event.tokens, elapsedMs: Date.now() - started } });
        return;
      }
      case 'attempt':
        return;
      default:
        assertNever(event);
    }
  }

  private setStatus(status: PanelStatus): void {
    this.status = status;
    this.changed();
  }

  private changed(): void {
    this.post({ type: 'view', view: this.view() });
    this.host.onStateChanged(this);
  }

  private post(message: HostMessage): void {
    if (this.isDisposed) return;
    void this.webviewPanel.webview.postMessage(message);
  }

  private imageUri(path: string | null | undefined): string | undefined {
    if (!path || !existsSync(path)) return undefined;
    let version = 0;
    try {
      version = Math.round(statSync(path).mtimeMs);
    } catch {
      // Gone between the check and the stat: the browser cache decides.
    }
    return this.webviewPanel.webview.asWebviewUri(vscode.Uri.file(path)).with({ query: `v=${version}` }).toString();
  }

  private view(): PanelView {
    const result = this.latest;
    const roots = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
    const words = { original: vscode.l10n.t('original'), redraw: vscode.l10n.t('redraw') };
    const attempts: AttemptView[] = (result?.attempts ?? []).map((a) => {
      const metrics = a.metrics ?? a.render.metrics;
      return {
      index: a.index,
      kind: a.kind,
      from: a.from,
      author: a.author,
      ok: a.render.ok,
      // A failed attempt is never the best one, whatever the history says.
      best: a.best && a.render.ok,
      pngUri: this.imageUri(a.render.png),
      diffUri: this.imageUri(a.render.diffPng),
      metrics,
      error: a.render.error ? { ...a.render.error, message: relativizePaths(a.render.error.message, roots) } : undefined,
      seconds: a.seconds,
      sandbox: a.render.sandbox,
      code: a.code,
      output: a.render.output,
      verdict: verdictFor({ ok: a.render.ok, metrics, verdict: a.verdict, differences: a.differences }),
      figures: metrics ? figureRows(metrics) : undefined,
      differences: a.differences ? orderDifferences(a.differences).map((d) => ({ ...d, hover: differenceHover(d, words) })) : undefined,
      width: a.render.width,
      height: a.render.height,
    };
    });
    const shownAttempt = result ? attempts[result.shown] : undefined;
    const busy = this.run !== undefined;
    const canRefine = result !== undefined && !busy && (result.provider === 'model' || Boolean(this.host.settings.current.endpoint));
    const insertContext = { imagePath: this.imagePath, origin: this.origin };
    return {
      imageName: this.figureName(),
      imagePath: this.imagePath,
      originalUri: this.imageUri(this.imagePath) ?? '',
      originalWidth: result?.image.width,
      originalHeight: result?.image.height,
      status: this.status,
      running: busy ? this.running : undefined,
      provider: result?.provider,
      model: result?.model,
      caption: result?.caption || undefined,
      altText: result?.altText || undefined,
      captionStyle: result?.captionStyle,
      captionAttempt: result?.captionAttempt ?? undefined,
      attempts,
      shown: result?.shown,
      notes: (result?.notes ?? []).map((n) => ({ ...n, message: relativizePaths(n.message, roots) })),
      error: this.lastError && this.status !== 'rendered' && !result?.render.error ? this.lastError : undefined,
      notice: vscode.workspace.isTrusted
        ? this.noticeView(result)
        : { message: vscode.l10n.t('This workspace is not trusted, so Refigure renders nothing. Trust the workspace to run the code.'), actions: ['trustWorkspace'] },
      insertTargets: [...this.host.inserters]
        .filter(([target, inserter]) => (!result || captionDescribesFigure(result) || target === 'notebookCode') && inserter.canInsert(insertContext))
        .map(([target]) => target),
      // Refine needs a model: the result came from one, or an endpoint is set now.
      canRefine,
      lead: leadActionFor({
        busy,
        hasResult: attempts.length > 0,
        shownOk: shownAttempt?.ok ?? false,
        verdictTone: shownAttempt?.verdict?.tone,
        canRefine,
        endpointFailed: this.endpointFailed && this.status === 'error',
      }),
      trusted: vscode.workspace.isTrusted,
      live: this.isCodeTabOpen(),
    };
  }

  /** The offline note of a result carries the button that ends it; while running, the panel's own notice says the same. */
  private noticeView(result: ReconstructionResult | undefined): NoticeView | undefined {
    const offline = result?.notes.find((n) => n.code === 'offline');
    if (offline) return { message: offline.message, actions: ['configureEndpoint'] };
    return this.notice;
  }

  private isCodeTabOpen(): boolean {
    return vscode.window.tabGroups.all.some((group) =>
      group.tabs.some((tab) => tab.input instanceof vscode.TabInputText && tab.input.uri.scheme === 'file' && tab.input.uri.fsPath === this.codePath),
    );
  }

  /** The figure in words: the image's file name, or the notebook and cell its output came from. */
  private figureName(): string {
    const origin = this.origin;
    return figureName(this.imagePath, origin.kind === 'notebook' ? { kind: 'notebook', notebookPath: origin.notebook.path, cell: origin.cell } : origin, {
      cell: vscode.l10n.t('Cell'),
    });
  }

  private title(): string {
    return vscode.l10n.t('Refigure: {0}', this.figureName());
  }

  private html(state: WebviewState): string {
    const webview = this.webviewPanel.webview;
    return buildPanelHtml({
      cspSource: webview.cspSource,
      nonce: createNonce(),
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(this.host.extensionUri, 'dist', 'webview.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(this.host.extensionUri, 'media', 'panel.css')).toString(),
      title: this.title(),
      view: this.view(),
      state,
      language: vscode.env.language,
      strings: webviewStrings(),
    });
  }
}

/** Opens, reveals and restores panels, one per image. */
export class PanelManager extends Disposable implements vscode.WebviewPanelSerializer {
  private readonly panels = new Map<string, RefigurePanel>();
  private readonly stateEmitter = this._register(new vscode.EventEmitter<PanelSnapshot>());
  readonly onDidChangePanelState = this.stateEmitter.event;

  constructor(private readonly host: Omit<PanelHost, 'onStateChanged' | 'onDisposed'>) {
    super();
    this._register(vscode.window.registerWebviewPanelSerializer(panelViewType, this));
    this._register(
      vscode.workspace.onDidSaveTextDocument((document) => {
        for (const panel of this.panels.values()) if (panel.isCodeDocument(document)) panel.codeSaved(document);
      }),
    );
    this._register(vscode.workspace.onDidGrantWorkspaceTrust(() => this.panels.forEach((p) => p.refresh())));
    this._register({ dispose: () => [...this.panels.values()].forEach((p) => p.dispose()) });
  }

  all(): RefigurePanel[] {
    return [...this.panels.values()];
  }

  get(imagePath: string): RefigurePanel | undefined {
    return this.panels.get(imagePath);
  }

  /** The panel for an image, created beside the active editor when there is none. */
  open(imagePath: string): RefigurePanel {
    const existing = this.panels.get(imagePath);
    if (existing) {
      existing.reveal();
      return existing;
    }
    const webviewPanel = vscode.window.createWebviewPanel(
      panelViewType,
      vscode.l10n.t('Refigure: {0}', basename(imagePath)),
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: false },
      { enableScripts: true, enableForms: false },
    );
    return this.adopt(webviewPanel, imagePath, undefined);
  }

  async deserializeWebviewPanel(webviewPanel: vscode.WebviewPanel, state: unknown): Promise<void> {
    const restored = parseWebviewState(state);
    if (!restored || this.panels.has(restored.imagePath)) {
      webviewPanel.dispose();
      return;
    }
    // Loaded before the panel is built, so the first paint after a reload already shows the result.
    const saved = await loadSavedResult(workDirFor(this.host.workRoot, restored.imagePath), restored.imagePath, this.host.logger);
    if (this.panels.has(restored.imagePath)) {
      webviewPanel.dispose();
      return;
    }
    this.adopt(webviewPanel, restored.imagePath, restored, saved);
  }

  private adopt(webviewPanel: vscode.WebviewPanel, imagePath: string, state: WebviewState | undefined, saved?: ResultFile): RefigurePanel {
    const panel = new RefigurePanel(webviewPanel, imagePath, {
      ...this.host,
      onStateChanged: (p) => this.stateEmitter.fire(p.snapshot()),
      onDisposed: (p) => {
        if (this.panels.get(p.imagePath) === p) this.panels.delete(p.imagePath);
      },
    }, state, saved);
    this.panels.set(imagePath, panel);
    this.stateEmitter.fire(panel.snapshot());
    return panel;
  }
}

function stemOf(path: string): string {
  return basename(path, extname(path));
}

function workDirFor(workRoot: vscode.Uri, imagePath: string): string {
  return join(workRoot.fsPath, createHash('sha256').update(imagePath).digest('hex').slice(0, 16));
}

/** The last result saved for an image (to restore its panel after a reload), when the render shown is still there. */
async function loadSavedResult(workDir: string, imagePath: string, logger: Logger): Promise<ResultFile | undefined> {
  try {
    const file = JSON.parse(await readFile(join(workDir, 'result.json'), 'utf8')) as { result?: unknown; markdown?: ResultFile['markdown'] };
    const result = parseResult(file.result);
    if (result.image.path !== imagePath) return undefined;
    if (result.render.png && !existsSync(result.render.png)) {
      logger.info(`The renders of ${basename(imagePath)} are gone; reconstruct it again.`);
      return undefined;
    }
    return { result, markdown: file.markdown };
  } catch (error) {
    // Nothing saved yet, or not readable: the panel starts idle.
    logger.debug(`No saved result for ${imagePath}: ${describeError(error)}`);
    return undefined;
  }
}
