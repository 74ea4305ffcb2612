// The render service (one warm Renderer per host, recreated when the interpreter, sandbox or trust changes) and model clients.
import * as vscode from 'vscode';
import { createRenderer } from '../core/render/render';
import { findPython } from '../core/render/python';
import { completeModel, resolveEndpoint } from '../core/config';
import { createModelClient, listModels } from '../core/reconstruct/model';
import { RefigureError, describeError, errorCode } from '../core/errors';
import type { EndpointConfig, Logger, ModelClient, Renderer, SandboxLayer } from '../core/types';
import { Disposable } from './dispose';
import type { Settings } from './settings';

export type HostRenderer = Renderer & { readonly sandbox: SandboxLayer; readonly python: { path: string; version: string } };

export const apiKeySecret = 'refigure.apiKey';
/** The workspace's answer to "render without a kernel-enforced sandbox?": true, false, or not asked yet. */
export const noIsolationAnswer = 'refigure.renderWithoutIsolation';

/** The parts of the Python extension's API Refigure reads (`@vscode/python-extension`), typed here so that package is not needed. */
interface PythonExtensionApi {
  environments: {
    getActiveEnvironmentPath(resource?: vscode.Uri): { id: string; path: string };
    resolveEnvironment(environment: { id: string; path: string } | string): Promise<{ executable: { uri?: vscode.Uri } } | undefined>;
    onDidChangeActiveEnvironmentPath: vscode.Event<unknown>;
  };
}

const pythonExtensionId = 'ms-python.python';

export class RenderService extends Disposable {
  private current: Promise<HostRenderer> | undefined;
  private pythonListener: vscode.Disposable | undefined;

  constructor(
    private readonly settings: Settings,
    private readonly logger: Logger,
    private readonly workspaceState: vscode.Memento,
  ) {
    super();
    this._register(
      settings.onDidChange((changed) => {
        if (changed.has('pythonPath') || changed.has('sandbox')) void this.reset('the Python or sandbox setting changed');
      }),
    );
    this._register(vscode.workspace.onDidGrantWorkspaceTrust(() => void this.reset('the workspace is now trusted')));
    this._register({ dispose: () => this.pythonListener?.dispose() });
  }

  /** The warm renderer, started on first use. */
  get(): Promise<HostRenderer> {
    if (!this.current) {
      const starting = this.start();
      this.current = starting;
      // A failed start (no Python) is not cached: the next request tries again, e.g. after the user fixed the setting.
      starting.catch(() => {
        if (this.current === starting) this.current = undefined;
      });
    }
    return this.current;
  }

  /**
   * A Renderer that always uses the current service (recreated when settings or trust change) and the current
   * render time limit; what a panel's session holds.
   */
  asRenderer(): Renderer {
    return {
      render: async (request) => (await this.get()).render({ ...request, timeoutMs: request.timeoutMs ?? this.settings.current.renderTimeoutSeconds * 1000 }),
      compare: async (original, rendered, diffPng, signal) => (await this.get()).compare(original, rendered, diffPng, signal),
      convertImage: async (request) => (await this.get()).convertImage(request),
      warm: () => {
        this.get().then(
          (renderer) => renderer.warm?.(),
          () => undefined,
        );
      },
      // The service outlives a panel; it is closed with the extension.
      close: async () => undefined,
    };
  }

  async reset(reason: string): Promise<void> {
    const old = this.current;
    this.current = undefined;
    if (!old) return;
    this.logger.info(`Restarting the render service: ${reason}.`);
    try {
      await (await old).close();
    } catch {
      // The old service failed to start or is already gone; nothing to close.
    }
  }

  async close(): Promise<void> {
    await this.reset('Refigure is shutting down');
  }

  private async start(): Promise<HostRenderer> {
    const settings = this.settings.current;
    const python = await this.resolvePython(settings.pythonPath);
    const trusted = vscode.workspace.isTrusted;
    const options = { python, logger: this.logger, trusted, defaultTimeoutMs: settings.renderTimeoutSeconds * 1000 };
    const optedOut = this.workspaceState.get<boolean>(noIsolationAnswer) === true && settings.sandbox === 'auto';
    let renderer;
    try {
      renderer = await createRenderer({ ...options, sandbox: optedOut ? 'none' : settings.sandbox });
    } catch (error) {
      if (errorCode(error) !== 'no-sandbox' || settings.sandbox !== 'auto' || !trusted || !(await this.allowNoIsolation(error))) throw error;
      renderer = await createRenderer({ ...options, sandbox: 'none' });
    }
    this.logger.info(`Render service ready: Python ${renderer.python.version} at ${renderer.python.path}, sandbox ${renderer.sandbox}${trusted ? '' : ' (untrusted workspace: rendering refused)'}.`);
    return renderer;
  }

  /**
   * Asked once per workspace when no kernel-enforced layer exists here: the reason, how to get one, and the
   * choice. An answer is kept for the workspace; dismissing the question asks again next time.
   */
  private async allowNoIsolation(error: unknown): Promise<boolean> {
    const answered = this.workspaceState.get<boolean>(noIsolationAnswer);
    if (answered !== undefined) return answered;
    const render = vscode.l10n.t('Render Without Isolation');
    const refuse = vscode.l10n.t("Don't Render");
    const detail = error instanceof RefigureError ? `${error.message}\n\n${error.hint ?? ''}` : describeError(error);
    const choice = await vscode.window.showWarningMessage(
      vscode.l10n.t('Refigure cannot isolate the model\'s code in this workspace. Render it anyway, with the same access to your files and network as you?'),
      { modal: true, detail },
      render,
      refuse,
    );
    if (choice === undefined) return false;
    await this.workspaceState.update(noIsolationAnswer, choice === render);
    this.logger.warn(choice === render ? 'Rendering without a kernel-enforced sandbox in this workspace, as answered.' : 'Not rendering without a kernel-enforced sandbox in this workspace, as answered.');
    return choice === render;
  }

  /** `refigure.pythonPath`, else the Python extension's interpreter when it has matplotlib, else discovery as in the CLI. */
  private async resolvePython(explicit: string): Promise<Awaited<ReturnType<typeof findPython>>> {
    if (explicit) return findPython({ explicit, logger: this.logger });
    const fromExtension = await this.pythonExtensionInterpreter();
    if (fromExtension) {
      try {
        return await findPython({ explicit: fromExtension, logger: this.logger });
      } catch (error) {
        this.logger.warn(`The Python extension's interpreter ${fromExtension} cannot render (${describeError(error)}); looking for another.`);
      }
    }
    return findPython({ logger: this.logger });
  }

  private async pythonExtensionInterpreter(): Promise<string | undefined> {
    const extension = vscode.extensions.getExtension<PythonExtensionApi>(pythonExtensionId);
    if (!extension) return undefined;
    try {
      const api = extension.isActive ? extension.exports : await extension.activate();
      const environments = api?.environments;
      if (!environments) return undefined;
      if (!this.pythonListener) {
        this.pythonListener = environments.onDidChangeActiveEnvironmentPath(() => {
          if (!this.settings.current.pythonPath) void this.reset("the Python extension's interpreter changed");
        });
      }
      const active = environments.getActiveEnvironmentPath(vscode.workspace.workspaceFolders?.[0]?.uri);
      const resolved = await environments.resolveEnvironment(active);
      return resolved?.executable.uri?.fsPath ?? active.path;
    } catch (error) {
      this.logger.warn(`Could not ask the Python extension for its interpreter: ${describeError(error)}`);
      return undefined;
    }
  }
}

/**
 * The endpoint from the settings (then REFIGURE_* / OPENAI_* environment variables) and the key from SecretStorage;
 * a blank model name is filled in from the endpoint's `/models` when it serves one, as the CLI does.
 */
export async function endpointConfig(settings: Settings, secrets: vscode.SecretStorage): Promise<EndpointConfig | undefined> {
  const config = await settingsEndpoint(settings, secrets);
  return config && endpointErrors(() => completeModel(config, listModels, vscode.l10n.t('Choose one (Refigure: Choose Model) or name it in the refigure.model setting.')));
}

/** The endpoint and key as the settings and SecretStorage give them, the model name as set (or blank, `anyModel`), not yet completed. */
export async function settingsEndpoint(settings: Settings, secrets: vscode.SecretStorage, options: { anyModel?: boolean } = {}): Promise<EndpointConfig | undefined> {
  const { endpoint, model } = settings.current;
  const apiKey = await secrets.get(apiKeySecret);
  return endpointErrors(async () => resolveEndpoint({ endpoint, model: options.anyModel ? '' : model, apiKey }));
}

/** A setting the endpoint cannot use is the endpoint's error, with the way to fix it. */
async function endpointErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof RefigureError && error.kind === 'usage') {
      throw new RefigureError('endpoint', error.message, error.hint ?? vscode.l10n.t('Fix the refigure.endpoint setting.'), { code: error.code });
    }
    throw error;
  }
}

export async function modelClientFor(settings: Settings, secrets: vscode.SecretStorage, logger: Logger): Promise<ModelClient | undefined> {
  const config = await endpointConfig(settings, secrets);
  return config ? createModelClient(config, logger) : undefined;
}
