// Refigure's commands: which image a command means, running it in its panel, and errors a user can act on.
import * as vscode from 'vscode';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { imageGlob, imagePickExclude, isImagePath, orderImagePicks } from '../core/reconstruct/imagePick';
import { RefigureError, describeError, isAbort } from '../core/errors';
import { listModels } from '../core/reconstruct/model';
import type { ExportFormat, Logger, ReconstructionResult } from '../core/types';
import type { PanelOrigin, PickKind } from './api';
import { Disposable } from './dispose';
import { actionLabel, reportError, runHostAction } from './hostActions';
import { imageAtCursor, replaceAltText } from './markdown';
import { insertLatexCaption, isLatexDocument, latexImageAtCursor } from './latex';
import type { PanelManager, RefigurePanel } from './panel';
import { apiKeySecret, settingsEndpoint, type RenderService } from './services';
import type { Settings } from './settings';
import { captionDescribesFigure } from '../core/reconstruct/caption';
import { captionMayGoIn } from './captionQuestion';

export interface CommandDeps {
  panels: PanelManager;
  settings: Settings;
  renderService: RenderService;
  secrets: vscode.SecretStorage;
  channel: vscode.LogOutputChannel;
  logger: Logger;
  globalState: vscode.Memento;
}

const imagePreviewViewType = 'imagePreview.previewEditor';
const offlineNoticeKey = 'refigure.offlineNoticeShown';

export class Commands extends Disposable {
  private readonly pickShown = this._register(new vscode.EventEmitter<PickKind>());
  /** Fires when a quick pick (of the workspace's images, of the endpoint's models) is on screen, its items loaded. */
  readonly onDidShowPick = this.pickShown.event;
  /** Errors a panel's notice shows, so that no notification says them again. */
  private readonly shownInPanel = new WeakSet<object>();

  constructor(private readonly deps: CommandDeps) {
    super();
    const register = (id: string, run: (...args: unknown[]) => unknown): void => {
      this._register(vscode.commands.registerCommand(id, run));
    };
    register('refigure.reconstructFigure', (arg?: unknown) => this.reconstructCommand(arg));
    register('refigure.generateCaption', (arg?: unknown) => this.generateCaptionCommand(arg));
    register('refigure.chooseModel', () => this.chooseModel());
    register('refigure.setApiKey', (key?: unknown) => this.setApiKey(key));
    register('refigure.clearApiKey', () => this.clearApiKey());
    register('refigure.selectPythonInterpreter', () => this.selectPython());
    register('refigure.showLog', () => deps.channel.show());
    register('refigure.cancel', (arg?: unknown) => this.cancelCommand(arg));
    register('refigure.openCode', (arg?: unknown, options?: unknown) =>
      this.panelCommand(arg, async (panel) => (await panel.openCode(attemptOption(options))).document.uri),
    );
    register('refigure.refine', (arg?: unknown) => this.panelCommand(arg, (panel) => panel.refine()));
    register('refigure.saveCode', (arg?: unknown, options?: unknown) =>
      this.panelCommand(arg, (panel) => panel.saveNextToImage({ overwrite: overwriteOption(options) })),
    );
    register('refigure.exportFigure', (arg?: unknown, options?: unknown) =>
      this.panelCommand(arg, async (panel) => {
        const format = formatOption(options) ?? (await pickExportFormat());
        return format ? panel.exportNextToImage(format, { overwrite: overwriteOption(options) }) : undefined;
      }),
    );
  }

  /** Stops what the panel of the image (default: every panel) is running: the model request and any render. */
  private cancelCommand(arg: unknown): number {
    const uri = uriArgument(arg);
    const panels = uri ? [this.deps.panels.get(uri.fsPath)].filter((p) => p !== undefined) : this.deps.panels.all();
    return panels.filter((panel) => panel.cancel()).length;
  }

  /** Runs a panel action from the palette or a keybinding: on the image's panel, the active panel, or the only one. */
  private async panelCommand<T>(arg: unknown, run: (panel: RefigurePanel) => Promise<T>): Promise<T | undefined> {
    try {
      const uri = uriArgument(arg);
      const all = this.deps.panels.all();
      const panel = uri ? this.deps.panels.get(uri.fsPath) : (all.find((p) => p.webviewPanel.active) ?? (all.length === 1 ? all[0] : undefined));
      if (!panel) {
        throw new RefigureError(
          'usage',
          uri ? vscode.l10n.t('There is no Refigure panel for {0}.', basename(uri.fsPath)) : vscode.l10n.t('No Refigure panel is active.'),
          vscode.l10n.t('Reconstruct the figure first, or click into its Refigure panel.'),
        );
      }
      return await run(panel);
    } catch (error) {
      this.reportError(error);
      return undefined;
    }
  }

  /** Opens the panel for the image and reconstructs it; rejects with the error (for the API). */
  async reconstruct(image: vscode.Uri, origin: PanelOrigin = { kind: 'file' }): Promise<ReconstructionResult> {
    const imagePath = requireLocalImage(image);
    const panel = this.deps.panels.open(imagePath);
    if (origin.kind !== 'file' || panel.getOrigin().kind === 'file') panel.setOrigin(origin);
    void this.offerEndpointOnce();
    try {
      return await panel.reconstruct();
    } catch (error) {
      // The panel shows it, with its buttons, beside the figure.
      if (typeof error === 'object' && error !== null) this.shownInPanel.add(error);
      throw error;
    }
  }

  /** The same, with errors reported to the user; undefined when it failed or was cancelled. */
  async reconstructReported(image: vscode.Uri, origin?: PanelOrigin): Promise<ReconstructionResult | undefined> {
    try {
      return await this.reconstruct(image, origin);
    } catch (error) {
      this.reportUnlessShown(error);
      return undefined;
    }
  }

  private async reconstructCommand(arg: unknown): Promise<ReconstructionResult | undefined> {
    try {
      const target = await this.targetImage(arg);
      if (!target) return undefined;
      return await this.reconstruct(target.image, target.origin);
    } catch (error) {
      this.reportUnlessShown(error);
      return undefined;
    }
  }

  /**
   * Generate Caption: from a Markdown link (cursor, or the editor's document passed as the argument) the alt text
   * written with the caption replaces the link's alt text (one undoable edit); for an image, the caption appears in the panel.
   */
  private async generateCaptionCommand(arg: unknown): Promise<{ caption: string; altText: string } | undefined> {
    try {
      const target = await this.targetImage(arg);
      if (!target) return undefined;
      const imagePath = requireLocalImage(target.image);
      const panel = this.deps.panels.get(imagePath);
      let caption: { caption: string; altText: string } | undefined;
      let grounded: ReconstructionResult | undefined;
      if (panel?.getResult()?.render.ok) {
        if (target.origin.kind !== 'file') panel.setOrigin(target.origin);
        panel.reveal();
        caption = await panel.generateCaption();
        grounded = panel.getResult();
      }
      if (!caption) {
        const result = await this.reconstruct(target.image, target.origin);
        grounded = result;
        if (result.caption && !captionDescribesFigure(result) && target.origin.kind !== 'file') {
          reportUndescribedFigure();
          return undefined;
        }
        // For an image alone the caption only shows in the panel; into a document goes only what a model wrote.
        const mayUse = captionDescribesFigure(result) || target.origin.kind === 'file';
        caption = result.caption && mayUse ? { caption: result.caption, altText: result.altText } : undefined;
      }
      if (!caption) {
        void vscode.window.showWarningMessage(vscode.l10n.t('No caption was written for {0}; the panel says why.', basename(imagePath)));
        return undefined;
      }
      if (target.origin.kind !== 'file' && !(await captionMayGoIn(grounded))) return caption;
      if (target.origin.kind === 'latex') {
        // A figure caption wants the full text; \caption is what readers of the paper see under the figure.
        await insertLatexCaption(target.origin, imagePath, caption.caption);
      } else if (target.origin.kind === 'markdown') {
        // Alt text wants the short form; the full caption stays in the panel.
        const replaced = await replaceAltText(target.origin, imagePath, caption.altText || caption.caption);
        if (!replaced) void vscode.window.showWarningMessage(vscode.l10n.t('The link to {0} is no longer in the document; the caption is in the panel.', basename(imagePath)));
      }
      return caption;
    } catch (error) {
      this.reportError(error);
      return undefined;
    }
  }

  /** The image a command means: its argument, the active image preview, the Markdown link at the cursor, or a pick. */
  private async targetImage(arg: unknown): Promise<{ image: vscode.Uri; origin: PanelOrigin } | undefined> {
    const uri = uriArgument(arg);
    if (uri) {
      if (!isImagePath(uri.path)) {
        // A Markdown document passed in (its editor title or a test): use the link at its cursor.
        const editor = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === uri.toString());
        const atCursor = imageAtCursor(editor) ?? latexImageAtCursor(editor);
        if (atCursor) return { image: atCursor.image, origin: atCursor.origin };
        if (editor && isLatexDocument(editor.document)) {
          throw new RefigureError('input', vscode.l10n.t('The cursor is not on an \\includegraphics of an existing image.'), vscode.l10n.t('Put the cursor on \\includegraphics{…}, or right-click an image in the Explorer.'));
        }
        if (editor?.document.languageId === 'markdown') {
          throw new RefigureError('input', vscode.l10n.t('The cursor is not on an image link ![alt](path).'), vscode.l10n.t('Put the cursor on an image link, or right-click an image in the Explorer.'));
        }
        throw new RefigureError('input', vscode.l10n.t('{0} is not an image file.', basename(uri.path)), vscode.l10n.t('Use a PNG, JPEG, WebP, GIF, BMP or SVG file.'));
      }
      return { image: uri, origin: { kind: 'file' } };
    }
    const fromTab = activeImageTab();
    if (fromTab) return { image: fromTab, origin: { kind: 'file' } };
    const atCursor = imageAtCursor(vscode.window.activeTextEditor) ?? latexImageAtCursor(vscode.window.activeTextEditor);
    if (atCursor) return { image: atCursor.image, origin: atCursor.origin };
    const picked = await this.pickImage();
    return picked ? { image: picked, origin: { kind: 'file' } } : undefined;
  }

  private async pickImage(): Promise<vscode.Uri | undefined> {
    const files = await vscode.workspace.findFiles(imageGlob, imagePickExclude, 5000);
    if (files.length === 0) {
      void vscode.window.showInformationMessage(vscode.l10n.t('There are no images in this workspace. Open an image or right-click one in the Explorer.'));
      return undefined;
    }
    const candidates = await Promise.all(
      files.map(async (uri) => ({
        path: uri.fsPath,
        uri,
        label: vscode.workspace.asRelativePath(uri),
        mtimeMs: await stat(uri.fsPath).then((s) => s.mtimeMs, () => 0),
      })),
    );
    const items = orderImagePicks(candidates).map((c) => ({ label: basename(c.path), description: c.label, uri: c.uri }));
    const picked = await this.pick('image', items, { title: vscode.l10n.t('Reconstruct Figure'), placeholder: vscode.l10n.t('Pick an image (most recently modified first)') });
    return picked?.uri;
  }

  /** A quick pick that resolves with the item accepted, or undefined when dismissed. */
  private pick<T extends vscode.QuickPickItem>(kind: PickKind, items: T[], options: { title: string; placeholder: string; active?: T; keepOpen?: boolean }): Promise<T | undefined> {
    const pick = vscode.window.createQuickPick<T>();
    pick.title = options.title;
    // A pick shown after other work (a request) stays until answered; Escape still closes it.
    pick.ignoreFocusOut = options.keepOpen ?? false;
    pick.placeholder = options.placeholder;
    pick.matchOnDescription = true;
    pick.items = items;
    if (options.active) pick.activeItems = [options.active];
    return new Promise<T | undefined>((resolve) => {
      pick.onDidAccept(() => {
        resolve(pick.selectedItems[0]);
        pick.hide();
      });
      pick.onDidHide(() => {
        resolve(undefined);
        pick.dispose();
      });
      pick.show();
      this.pickShown.fire(kind);
    });
  }

  /**
   * Lists the models the endpoint serves (`GET /models`) and writes the one chosen to `refigure.model`, in the
   * scope the endpoint is set in. Resolves with the name chosen (for the panel, which then retries).
   */
  async chooseModel(): Promise<string | undefined> {
    try {
      const current = this.deps.settings.current.model;
      const config = await settingsEndpoint(this.deps.settings, this.deps.secrets, { anyModel: true });
      if (!config) {
        throw new RefigureError('endpoint', vscode.l10n.t('No model endpoint is configured.'), vscode.l10n.t('Set refigure.endpoint first.'), { code: 'no-model' });
      }
      // In the status bar: the list comes within seconds (or its own timeout), and a notification would take
      // the focus the quick pick then needs.
      const models = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: vscode.l10n.t('Refigure: asking {0} for its models', config.baseURL) }, () =>
        listModels(config),
      );
      if (models.length === 0) {
        throw new RefigureError('endpoint', vscode.l10n.t('{0} lists no models.', config.baseURL), vscode.l10n.t('Name the model in the refigure.model setting.'));
      }
      const items = models.map((name) => ({ label: name, description: name === current ? vscode.l10n.t('current') : undefined }));
      const picked = await this.pick('model', items, {
        title: vscode.l10n.t('Refigure: Model'),
        placeholder: vscode.l10n.t('The models {0} serves', config.baseURL),
        active: items.find((item) => item.label === current),
        keepOpen: true,
      });
      if (!picked) return undefined;
      const settings = vscode.workspace.getConfiguration('refigure');
      // Where the workspace sets the endpoint or the model (a blank name included), the choice goes there too:
      // a user setting would stay hidden under it.
      const inWorkspace = (['endpoint', 'model'] as const).some((key) => {
        const where = settings.inspect<string>(key);
        return where?.workspaceFolderValue !== undefined || where?.workspaceValue !== undefined;
      });
      const target = inWorkspace ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
      await settings.update('model', picked.label, target);
      this.deps.logger.info(`Model set to ${picked.label} (served by ${config.baseURL}).`);
      return picked.label;
    } catch (error) {
      if (!isAbort(error)) this.reportError(error);
      return undefined;
    }
  }

  /** A key passed as the argument (another extension or a task provisioning it) is stored without asking. */
  private async setApiKey(given?: unknown): Promise<void> {
    const key = typeof given === 'string' && given.trim() ? given : await vscode.window.showInputBox({
      title: vscode.l10n.t('Refigure: API Key'),
      prompt: vscode.l10n.t('The key for your OpenAI-compatible endpoint. It is kept in VS Code\'s secret storage, never in settings.'),
      password: true,
      ignoreFocusOut: true,
      validateInput: (value) => (value.trim() ? undefined : vscode.l10n.t('Enter a key, or use Clear API Key to remove it.')),
    });
    if (!key) return;
    await this.deps.secrets.store(apiKeySecret, key.trim());
    this.deps.logger.info('API key stored in secret storage.');
    void vscode.window.showInformationMessage(vscode.l10n.t('Refigure: API key saved.'));
  }

  private async clearApiKey(): Promise<void> {
    await this.deps.secrets.delete(apiKeySecret);
    this.deps.logger.info('API key removed from secret storage.');
    void vscode.window.showInformationMessage(vscode.l10n.t('Refigure: API key cleared.'));
  }

  private async selectPython(): Promise<void> {
    const config = vscode.workspace.getConfiguration('refigure');
    const hasPythonExtension = vscode.extensions.getExtension('ms-python.python') !== undefined;
    type Choice = vscode.QuickPickItem & { id: 'browse' | 'extension' | 'auto' };
    const choices: Choice[] = [
      { id: 'browse', label: vscode.l10n.t('Browse for a Python executable…'), description: vscode.l10n.t('needs matplotlib, numpy and Pillow') },
      ...(hasPythonExtension ? [{ id: 'extension' as const, label: vscode.l10n.t("Use the Python extension's interpreter"), description: vscode.l10n.t('choose it with Python: Select Interpreter') }] : []),
      { id: 'auto', label: vscode.l10n.t('Find one automatically'), description: vscode.l10n.t('python3, python, then system locations') },
    ];
    const choice = await vscode.window.showQuickPick(choices, { title: vscode.l10n.t('Refigure: Python Interpreter'), placeHolder: config.get<string>('pythonPath') || undefined });
    if (!choice) return;
    if (choice.id === 'browse') {
      const picked = await vscode.window.showOpenDialog({ canSelectMany: false, title: vscode.l10n.t('Python executable with matplotlib') });
      if (!picked?.[0]) return;
      await config.update('pythonPath', picked[0].fsPath, vscode.ConfigurationTarget.Global);
    } else {
      await config.update('pythonPath', undefined, vscode.ConfigurationTarget.Global);
      if (choice.id === 'extension') await vscode.commands.executeCommand('python.setInterpreter');
    }
    try {
      const renderer = await this.deps.renderService.get();
      void vscode.window.showInformationMessage(vscode.l10n.t('Refigure renders with Python {0} ({1}).', renderer.python.version, renderer.python.path));
    } catch (error) {
      this.reportError(error);
    }
  }

  /** The first time a figure is reconstructed without an endpoint, say so once, with the way to configure one. */
  private async offerEndpointOnce(): Promise<void> {
    const { endpoint } = this.deps.settings.current;
    if (endpoint || process.env.REFIGURE_ENDPOINT || process.env.OPENAI_BASE_URL) return;
    if (this.deps.globalState.get<boolean>(offlineNoticeKey)) return;
    await this.deps.globalState.update(offlineNoticeKey, true);
    const configure = actionLabel('configureEndpoint');
    const answer = await vscode.window.showInformationMessage(
      vscode.l10n.t('No model endpoint is configured: Refigure uses the offline trace until you set one.'),
      configure,
    );
    if (answer === configure) await runHostAction('configureEndpoint');
  }

  reportError(error: unknown): void {
    reportError(error, this.deps.logger);
  }

  /** A notification only for what no panel shows: an error of a panel's run is in its notice already, and in the log. */
  private reportUnlessShown(error: unknown): void {
    if (typeof error === 'object' && error !== null && this.shownInPanel.has(error)) {
      if (!isAbort(error)) this.deps.logger.error(describeError(error));
      return;
    }
    this.reportError(error);
  }
}

/** Says that nothing was written because the offline trace does not describe figures, with the way to a model. */
export function reportUndescribedFigure(): void {
  const configure = actionLabel('configureEndpoint');
  void vscode.window
    .showWarningMessage(
      vscode.l10n.t('The offline trace does not describe figures, so nothing was written into the document. Configure a model endpoint for a caption.'),
      configure,
    )
    .then((answer) => {
      if (answer === configure) void runHostAction('configureEndpoint');
    });
}

/** The URI a command was invoked with: explorer and editor menus pass (uri, selected uris). */
function uriArgument(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  if (Array.isArray(arg) && arg[0] instanceof vscode.Uri) return arg[0];
  if (typeof arg === 'string' && arg) return arg.includes('://') ? vscode.Uri.parse(arg) : vscode.Uri.file(arg);
  return undefined;
}

/** `{ attempt: N }` (0-based) names an attempt of the history. */
function attemptOption(options: unknown): number | undefined {
  if (typeof options !== 'object' || options === null || !('attempt' in options)) return undefined;
  const { attempt } = options as { attempt: unknown };
  return Number.isSafeInteger(attempt) && (attempt as number) >= 0 ? (attempt as number) : undefined;
}

/** `{ overwrite: true }` replaces without asking, `false` never replaces; otherwise the user is asked. */
function overwriteOption(options: unknown): boolean | undefined {
  if (typeof options !== 'object' || options === null || !('overwrite' in options)) return undefined;
  return typeof options.overwrite === 'boolean' ? options.overwrite : undefined;
}

function formatOption(options: unknown): ExportFormat | undefined {
  if (typeof options !== 'object' || options === null || !('format' in options)) return undefined;
  return options.format === 'svg' || options.format === 'pdf' ? options.format : undefined;
}

async function pickExportFormat(): Promise<ExportFormat | undefined> {
  const items: (vscode.QuickPickItem & { format: ExportFormat })[] = [
    { label: 'SVG', description: vscode.l10n.t('for the web and for LaTeX with the svg package'), format: 'svg' },
    { label: 'PDF', description: vscode.l10n.t('for LaTeX (\\includegraphics)'), format: 'pdf' },
  ];
  return (await vscode.window.showQuickPick(items, { title: vscode.l10n.t('Refigure: Export the Redraw') }))?.format;
}

function activeImageTab(): vscode.Uri | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if (input instanceof vscode.TabInputCustom && input.viewType === imagePreviewViewType) return input.uri;
  if ((input instanceof vscode.TabInputCustom || input instanceof vscode.TabInputText) && isImagePath(input.uri.path)) return input.uri;
  return undefined;
}

function requireLocalImage(uri: vscode.Uri): string {
  if (uri.scheme !== 'file') {
    throw new RefigureError('input', vscode.l10n.t('{0} is not a local file.', uri.toString()), vscode.l10n.t('Refigure reads images from the local disk; copy the image into a local folder.'));
  }
  if (!isImagePath(uri.fsPath)) {
    throw new RefigureError('input', vscode.l10n.t('{0} is not an image file.', basename(uri.fsPath)), vscode.l10n.t('Use a PNG, JPEG, WebP, GIF, BMP or SVG file.'));
  }
  return uri.fsPath;
}
