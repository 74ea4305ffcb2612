// The Refigure panel: one webview per image, its reconstruction runs, the live code loop and the panel's actions.
import * as vscode from 'vscode';
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { captionFor, reconstruct, renderCode } from '../core/pipeline';
import { RefigureError, describeError, isAbort } from '../core/errors';
import { bestAttempt, refineOnce } from '../core/refine';
import type { Attempt, Logger, ModelClient, ProgressEvent, ReconstructionResult, RenderOutcome } from '../core/types';
import {
  assertNever,
  defaultWebviewState,
  parseWebviewMessage,
  parseWebviewState,
  type AttemptView,
  type HostAction,
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
import { buildPanelHtml, createNonce } from './panelHtmlPure';
import { webviewStrings } from './strings';
import type { RenderService } from './services';
import type { Settings } from './settings';
import { captionDescribesFigure } from '../core/caption';

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
  runAction(action: HostAction): Promise<void>;
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
  private result: ReconstructionResult | undefined;
  private lastError: string | undefined;
  private notice: NoticeView | undefined;
  private shown: number | undefined;
  private origin: PanelOrigin = { kind: 'file' };
  private run: AbortController | undefined;
  private liveRun: AbortController | undefined;
  private liveTimer: ReturnType<typeof setTimeout> | undefined;
  private editCount = 0;
  private lastProgressPost = 0;

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
      this.result = saved.result;
      this.status = saved.result.render.ok ? 'rendered' : 'error';
      this.lastError = saved.result.render.ok ? undefined : (saved.result.render.error?.message ?? undefined);
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
        if (this.result) this.post({ type: 'view', view: this.view() });
      }),
    );
    webview.html = this.html(state ?? defaultWebviewState(imagePath));
  }

  snapshot(): PanelSnapshot {
    return { imagePath: this.imagePath, status: this.status, result: this.result, lastError: this.lastError };
  }

  /** Sends the view again, e.g. after the workspace became trusted. */
  refresh(): void {
    this.changed();
  }

  setOrigin(origin: PanelOrigin): void {
    this.origin = origin;
    if (this.result) void this.save();
    this.changed();
  }

  getOrigin(): PanelOrigin {
    return this.origin;
  }

  getResult(): ReconstructionResult | undefined {
    return this.result;
  }

  reveal(): void {
    this.webviewPanel.reveal(undefined, false);
  }

  /** One reconstruction with a cancellable notification; throws what went wrong (the caller reports it). */
  async reconstruct(): Promise<ReconstructionResult> {
    this.run?.abort();
    const controller = new AbortController();
    this.run = controller;
    this.lastError = undefined;
    this.notice = undefined;
    this.shown = undefined;
    this.setStatus('streaming');
    const name = basename(this.imagePath);
    try {
      return await withCancellableProgress(vscode.l10n.t('Refigure: {0}', name), controller, async (progress) => {
        const model = await this.host.modelClient();
        if (!model) {
          this.notice = {
            message: vscode.l10n.t('No model endpoint is configured, so the offline trace is used. It traces shapes and colours; it does not understand the figure.'),
            actions: ['configureEndpoint'],
          };
        }
        const renderer = await this.host.renderService.get();
        controller.signal.throwIfAborted();
        await mkdir(this.workDir, { recursive: true });
        const settings = this.host.settings.current;
        const started = Date.now();
        const result = await reconstruct({
          imagePath: this.imagePath,
          renderer,
          workDir: this.workDir,
          model,
          preset: settings.preset,
          captionStyle: settings.captionStyle,
          renderTimeoutMs: settings.renderTimeoutSeconds * 1000,
          refine: settings.refineRounds,
          signal: controller.signal,
          logger: this.host.logger,
          onProgress: (event) => this.onProgress(event, started, progress),
        });
        controller.signal.throwIfAborted();
        this.result = result;
        this.lastError = result.render.ok ? undefined : (result.render.error?.message ?? vscode.l10n.t('The code did not render.'));
        this.host.logger.info(
          `Reconstructed ${this.imagePath} with ${result.model} in ${result.timings.total ?? '?'} s: ${result.render.ok ? `fidelity ${result.metrics?.fidelity ?? 'n/a'}` : `did not render (${result.render.error?.kind})`}.`,
        );
        await this.save();
        this.setStatus(result.render.ok ? 'rendered' : 'error');
        return result;
      });
    } catch (error) {
      // A newer run replaced this one: its state is the newer run's to report.
      if (this.run !== controller) throw error;
      if (isAbort(error) || controller.signal.aborted) {
        this.lastError = vscode.l10n.t('Cancelled.');
        this.setStatus('cancelled');
      } else {
        this.lastError = describeError(error);
        this.notice = { message: this.lastError, actions: actionsFor(error) };
        this.setStatus('error');
      }
      throw error;
    } finally {
      if (this.run === controller) {
        this.run = undefined;
        // Refine becomes available only once nothing runs.
        this.changed();
      }
    }
  }

  /** One more round with the model on the current result (the panel's Refine), keeping the best attempt. */
  async refine(): Promise<ReconstructionResult> {
    const current = this.requireResult();
    if (this.run) throw new Error(vscode.l10n.t('Wait for the running reconstruction to finish, or cancel it.'));
    const controller = new AbortController();
    this.run = controller;
    this.setStatus('streaming');
    try {
      return await withCancellableProgress(vscode.l10n.t('Refigure: refining {0}', basename(this.imagePath)), controller, async (progress) => {
        const model = await this.host.modelClient();
        if (!model) throw new RefigureError('usage', vscode.l10n.t('Refining needs a model endpoint.'), vscode.l10n.t('Set refigure.endpoint.'));
        const renderer = await this.host.renderService.get();
        const settings = this.host.settings.current;
        const started = Date.now();
        const result = await refineOnce({
          result: current,
          model,
          renderer,
          workDir: this.workDir,
          preset: settings.preset,
          renderTimeoutMs: settings.renderTimeoutSeconds * 1000,
          signal: controller.signal,
          logger: this.host.logger,
          onProgress: (event) => this.onProgress(event, started, progress),
        });
        this.result = result;
        this.shown = undefined;
        await this.save();
        this.setStatus(result.render.ok ? 'rendered' : 'error');
        return result;
      });
    } catch (error) {
      this.setStatus(this.result?.render.ok ? 'rendered' : 'error');
      throw error;
    } finally {
      if (this.run === controller) this.run = undefined;
      this.changed();
    }
  }

  /** A caption for the current code in the configured style (model required); updates the result. */
  async generateCaption(): Promise<{ caption: string; altText: string } | undefined> {
    const result = this.result;
    if (!result?.render.ok) return undefined;
    const model = await this.host.modelClient();
    if (!model) return result.caption && captionDescribesFigure(result) ? { caption: result.caption, altText: result.altText } : undefined;
    const controller = new AbortController();
    return withCancellableProgress(vscode.l10n.t('Refigure: writing a caption'), controller, async () => {
      const renderer = await this.host.renderService.get();
      const style = this.host.settings.current.captionStyle;
      const caption = await captionFor({ imagePath: this.imagePath, code: result.code, model, renderer, workDir: this.workDir, style, signal: controller.signal });
      result.caption = caption.caption;
      result.altText = caption.altText;
      result.captionStyle = style;
      await this.save();
      this.changed();
      return caption;
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
      void this.renderEdited(document.getText()).catch((error: unknown) => this.host.reportError(error));
    }, 300);
  }

  override dispose(): void {
    if (this.isDisposed) return;
    this.cancel();
    if (this.liveTimer) clearTimeout(this.liveTimer);
    super.dispose();
    this.host.onDisposed(this);
  }

  // ── rendering edited code ──────────────────────────────────────────────────

  private async renderEdited(code: string): Promise<RenderOutcome | undefined> {
    const result = this.result;
    if (!result) throw new Error(vscode.l10n.t('Reconstruct the figure first.'));
    this.liveRun?.abort();
    const controller = new AbortController();
    this.liveRun = controller;
    this.setStatus('rendering');
    try {
      const renderer = await this.host.renderService.get();
      await mkdir(this.workDir, { recursive: true });
      const index = result.attempts.length;
      const outcome = await renderCode({
        code,
        imagePath: this.imagePath,
        renderer,
        workDir: this.workDir,
        stem: `edit-${++this.editCount}-${Date.now().toString(36)}`,
        renderTimeoutMs: this.host.settings.current.renderTimeoutSeconds * 1000,
        signal: controller.signal,
      });
      if (controller.signal.aborted) return undefined;
      const attempt: Attempt = { index, kind: 'edit', code, render: outcome, metrics: outcome.metrics, seconds: outcome.seconds, best: false };
      result.attempts.push(attempt);
      const best = bestAttempt(result.attempts);
      for (const a of result.attempts) a.best = a === best;
      // The user's own edit is what the panel, the caption and Save Code now stand for.
      result.code = code;
      result.render = { ok: outcome.ok, png: outcome.png ?? null, diff: outcome.diffPng ?? null, error: outcome.error ?? null, seconds: outcome.seconds, sandbox: outcome.sandbox };
      result.metrics = outcome.metrics ?? null;
      this.shown = index;
      this.lastError = outcome.ok ? undefined : outcome.error?.message;
      this.host.logger.info(`Re-rendered edited code for ${basename(this.imagePath)}: ${outcome.ok ? `fidelity ${outcome.metrics?.fidelity ?? 'n/a'}` : outcome.error?.message}.`);
      if (outcome.output) this.host.logger.debug(`Render output:\n${outcome.output}`);
      await this.save();
      this.setStatus(outcome.ok ? 'rendered' : 'error');
      return outcome;
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
        this.handle(message.request).then(
          (text) => this.post({ type: 'response', id: message.id, ok: true, message: text }),
          (error: unknown) => this.post({ type: 'response', id: message.id, ok: false, error: isAbort(error) ? vscode.l10n.t('Cancelled.') : describeError(error) }),
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
        const outcome = await this.renderEdited(code);
        return outcome?.ok ? vscode.l10n.t('Rendered.') : outcome?.error?.message;
      }
      case 'saveCode':
        return this.saveNextToImage();
      case 'refine': {
        const result = await this.refine();
        return result.render.ok ? vscode.l10n.t('Best fidelity {0}.', result.metrics?.fidelity.toFixed(3) ?? '–') : result.render.error?.message;
      }
      case 'copyCaption': {
        const caption = this.requireResult().caption;
        if (!caption) throw new Error(vscode.l10n.t('There is no caption to copy.'));
        await vscode.env.clipboard.writeText(caption);
        return vscode.l10n.t('Caption copied.');
      }
      case 'insertCaption':
        return this.insertCaption(request.target);
      case 'showAttempt': {
        const result = this.requireResult();
        if (!result.attempts[request.attempt]) throw new Error(vscode.l10n.t('There is no attempt {0}.', request.attempt + 1));
        this.shown = request.attempt;
        this.changed();
        return undefined;
      }
      case 'action':
        if (request.action === 'reconstruct') {
          this.reconstruct().catch((error: unknown) => this.host.reportError(error));
          return undefined;
        }
        await this.host.runAction(request.action);
        return undefined;
      default:
        return assertNever(request);
    }
  }

  async insertCaption(target: InsertTarget): Promise<string | undefined> {
    const result = this.requireResult();
    const inserter = this.host.inserters.get(target);
    const context = { imagePath: this.imagePath, origin: this.origin };
    if (!inserter || !inserter.canInsert(context)) throw new Error(vscode.l10n.t('The caption cannot be inserted there from this panel.'));
    if (target !== 'notebookCode' && !result.caption) throw new Error(vscode.l10n.t('There is no caption to insert.'));
    if (target !== 'notebookCode' && !captionDescribesFigure(result)) throw new Error(vscode.l10n.t('The offline trace does not describe the figure; configure a model endpoint for a caption to insert.'));
    return inserter.insert({ ...context, caption: result.caption, altText: result.altText, code: result.code });
  }

  private requireResult(): ReconstructionResult {
    if (!this.result) throw new Error(vscode.l10n.t('Reconstruct the figure first.'));
    return this.result;
  }

  // ── code editor and files ──────────────────────────────────────────────────

  private openCodeDocument(): vscode.TextDocument | undefined {
    return vscode.workspace.textDocuments.find((d) => this.isCodeDocument(d) && !d.isClosed);
  }

  /** Opens the code of an attempt (default: the shown one) in a real Python editor beside the panel. */
  async openCode(attemptIndex?: number): Promise<vscode.TextEditor> {
    const result = this.requireResult();
    const index = attemptIndex ?? this.shown;
    const code = index !== undefined ? (result.attempts[index]?.code ?? result.code) : result.code;
    await mkdir(this.workDir, { recursive: true });
    const uri = vscode.Uri.file(this.codePath);
    const open = this.openCodeDocument();
    if (open) {
      if (open.getText() !== code) {
        // Through a WorkspaceEdit so that switching attempts in an open editor can be undone.
        const edit = new vscode.WorkspaceEdit();
        edit.replace(uri, new vscode.Range(open.positionAt(0), open.positionAt(open.getText().length)), code);
        await vscode.workspace.applyEdit(edit);
      }
    } else {
      await writeFile(this.codePath, code, 'utf8');
    }
    const document = await vscode.workspace.openTextDocument(uri);
    const typed = document.languageId === 'python' ? document : await vscode.languages.setTextDocumentLanguage(document, 'python');
    const editor = await vscode.window.showTextDocument(typed, { viewColumn: vscode.ViewColumn.Beside, preview: false });
    this.changed();
    return editor;
  }

  /** Writes `<name>.refigure.py` beside the image, asking before replacing one that exists unless `overwrite` says. */
  async saveNextToImage(options: { overwrite?: boolean } = {}): Promise<string | undefined> {
    const result = this.requireResult();
    const code = this.openCodeDocument()?.getText() ?? result.code;
    const target = join(dirname(this.imagePath), `${stemOf(this.imagePath)}.refigure.py`);
    if (existsSync(target) && options.overwrite !== true) {
      if (options.overwrite === false) return vscode.l10n.t('Not saved: {0} already exists.', basename(target));
      const replace = vscode.l10n.t('Replace');
      const answer = await vscode.window.showWarningMessage(
        vscode.l10n.t('{0} already exists. Replace it?', basename(target)),
        { modal: true },
        replace,
      );
      if (answer !== replace) return vscode.l10n.t('Not saved.');
    }
    await vscode.workspace.fs.writeFile(vscode.Uri.file(target), Buffer.from(code, 'utf8'));
    this.host.logger.info(`Saved the code to ${target}.`);
    return vscode.l10n.t('Saved {0}.', basename(target));
  }

  private async save(): Promise<void> {
    if (!this.result) return;
    await mkdir(this.workDir, { recursive: true });
    const origin = this.origin;
    const file: ResultFile = { result: this.result, markdown: origin.kind === 'markdown' ? { document: origin.document.toString(), offset: origin.offset } : undefined };
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
        this.host.logger.debug(`Attempt ${event.attempt.index + 1}: ${event.attempt.render.ok ? 'rendered' : event.attempt.render.error?.message}`);
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
    const result = this.result;
    const attempts: AttemptView[] = (result?.attempts ?? []).map((a) => ({
      index: a.index,
      kind: a.kind,
      ok: a.render.ok,
      best: a.best,
      pngUri: this.imageUri(a.render.png),
      diffUri: this.imageUri(a.render.diffPng),
      metrics: a.metrics ?? a.render.metrics,
      error: a.render.error,
      seconds: a.seconds,
      sandbox: a.render.sandbox,
      code: a.code,
      output: a.render.output,
    }));
    const bestIndex = attempts.find((a) => a.best)?.index ?? (attempts.length ? attempts.length - 1 : undefined);
    const insertContext = { imagePath: this.imagePath, origin: this.origin };
    return {
      imageName: basename(this.imagePath),
      imagePath: this.imagePath,
      originalUri: this.imageUri(this.imagePath) ?? '',
      originalWidth: result?.image.width,
      originalHeight: result?.image.height,
      status: this.status,
      provider: result?.provider,
      model: result?.model,
      caption: result?.caption || undefined,
      altText: result?.altText || undefined,
      captionStyle: result?.captionStyle,
      attempts,
      shown: this.shown !== undefined && this.shown < attempts.length ? this.shown : bestIndex,
      notes: [...(result?.notes ?? []), ...(this.lastError && this.status !== 'rendered' && !result?.render.error ? [this.lastError] : [])],
      notice: vscode.workspace.isTrusted
        ? this.noticeView(result)
        : { message: vscode.l10n.t('This workspace is not trusted, so Refigure renders nothing. Trust the workspace to run the code.'), actions: ['trustWorkspace'] },
      insertTargets: [...this.host.inserters]
        .filter(([target, inserter]) => (!result || captionDescribesFigure(result) || target === 'notebookCode') && inserter.canInsert(insertContext))
        .map(([target]) => target),
      canRefine: result?.provider === 'model' && this.run === undefined,
      trusted: vscode.workspace.isTrusted,
      live: this.isCodeTabOpen(),
    };
  }

  /** The offline note of a result carries the button that ends it; while running, the panel's own notice says the same. */
  private noticeView(result: ReconstructionResult | undefined): NoticeView | undefined {
    if (result?.provider === 'offline') {
      const note = result.notes.find((n) => /offline/i.test(n));
      if (note) return { message: note, actions: ['configureEndpoint'] };
    }
    return this.notice;
  }

  private isCodeTabOpen(): boolean {
    return vscode.window.tabGroups.all.some((group) =>
      group.tabs.some((tab) => tab.input instanceof vscode.TabInputText && tab.input.uri.scheme === 'file' && tab.input.uri.fsPath === this.codePath),
    );
  }

  private html(state: WebviewState): string {
    const webview = this.webviewPanel.webview;
    return buildPanelHtml({
      cspSource: webview.cspSource,
      nonce: createNonce(),
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(this.host.extensionUri, 'dist', 'webview.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(this.host.extensionUri, 'media', 'panel.css')).toString(),
      title: vscode.l10n.t('Refigure: {0}', basename(this.imagePath)),
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

/** The last result saved for an image (to restore its panel after a reload), when its renders are still there. */
async function loadSavedResult(workDir: string, imagePath: string, logger: Logger): Promise<ResultFile | undefined> {
  try {
    const saved = JSON.parse(await readFile(join(workDir, 'result.json'), 'utf8')) as ResultFile;
    if (saved.result?.version !== 1 || saved.result.image.path !== imagePath) return undefined;
    if (saved.result.render.png && !existsSync(saved.result.render.png)) {
      logger.info(`The renders of ${basename(imagePath)} are gone; reconstruct it again.`);
      return undefined;
    }
    return saved;
  } catch (error) {
    // Nothing saved yet, or from an older version: the panel starts idle.
    logger.debug(`No saved result for ${imagePath}: ${describeError(error)}`);
    return undefined;
  }
}

/** The buttons that fix an error of this kind. */
function actionsFor(error: unknown): HostAction[] {
  if (error instanceof RefigureError) {
    if (error.kind === 'endpoint') return ['configureEndpoint', 'setApiKey', 'showLog'];
    if (error.kind === 'environment') return ['selectPython', 'showLog'];
  }
  return ['showLog'];
}
