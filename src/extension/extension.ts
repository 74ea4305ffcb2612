// Refigure's VS Code entry point: wires settings, the render service, the panels and the commands, and returns the API.
import * as vscode from 'vscode';
import { describeError } from '../core/errors';
import type { InsertTarget } from '../shared/protocol';
import type { CaptionInserter, NotebookSupportDeps, RefigureApi } from './api';
import { Commands } from './commands';
import { reportError } from './hostActions';
import { Disposable } from './dispose';
import { createLog } from './log';
import { altTextInserter, registerMarkdownContext } from './markdown';
import { latexCaptionInserter } from './latex';
import { registerNotebookSupport } from './notebook';
import { PanelManager } from './panel';
import { RenderService, modelClientFor } from './services';
import { Settings } from './settings';

export type { RefigureApi, PanelSnapshot, NotebookSupportDeps, CaptionInserter, PanelOrigin, PickKind } from './api';

class Refigure extends Disposable {
  readonly renderService: RenderService;
  readonly inserters = new Map<InsertTarget, CaptionInserter>();
  readonly panels: PanelManager;
  readonly commands: Commands;
  readonly notebookDeps: NotebookSupportDeps;

  constructor(context: vscode.ExtensionContext, log: ReturnType<typeof createLog>) {
    super();
    const { channel, logger } = log;
    const settings = this._register(new Settings());
    this.renderService = this._register(new RenderService(settings, logger, context.workspaceState));
    const workRoot = vscode.Uri.joinPath(context.globalStorageUri, 'work');
    this.inserters.set('altText', altTextInserter);
    this.inserters.set('latexCaption', latexCaptionInserter);
    this._register(registerMarkdownContext());
    this.panels = this._register(
      new PanelManager({
        extensionUri: context.extensionUri,
        workRoot,
        renderService: this.renderService,
        settings,
        logger,
        modelClient: () => modelClientFor(settings, context.secrets, logger),
        inserters: this.inserters,
        reportError: (error) => reportError(error, logger),
      }),
    );
    this.commands = this._register(
      new Commands({ panels: this.panels, settings, renderService: this.renderService, secrets: context.secrets, channel, logger, globalState: context.globalState }),
    );
    this.notebookDeps = {
      reconstruct: (image, origin) => this.commands.reconstructReported(image, origin),
      registerCaptionInserter: (target, inserter) => {
        this.inserters.set(target, inserter);
        return new vscode.Disposable(() => {
          if (this.inserters.get(target) === inserter) this.inserters.delete(target);
        });
      },
      workRoot,
      logger,
    };
    this._register(registerNotebookSupport(context, this.notebookDeps));
  }

  api(): RefigureApi {
    return {
      panels: () => this.panels.all().map((panel) => panel.snapshot()),
      onDidChangePanelState: this.panels.onDidChangePanelState,
      onDidShowPick: this.commands.onDidShowPick,
      reconstruct: (uri) => this.commands.reconstruct(uri),
    };
  }
}

let instance: Refigure | undefined;

export function activate(context: vscode.ExtensionContext): RefigureApi {
  const started = performance.now();
  const log = createLog();
  context.subscriptions.push(log.channel);
  try {
    instance = new Refigure(context, log);
    context.subscriptions.push(instance);
    log.logger.info(`Refigure ${String(context.extension.packageJSON.version)} activated in ${(performance.now() - started).toFixed(1)} ms.`);
    return instance.api();
  } catch (error) {
    // Reported by us: VS Code's own message for a failed activation does not say what to do.
    log.logger.error(`Activation failed: ${describeError(error)}`);
    void vscode.window.showErrorMessage(vscode.l10n.t('Refigure could not start: {0}', describeError(error)), vscode.l10n.t('Show Log')).then((answer) => {
      if (answer) log.channel.show();
    });
    throw error;
  }
}

export async function deactivate(): Promise<void> {
  const current = instance;
  instance = undefined;
  await current?.renderService.close();
}
