// The buttons that fix an error, written once for the panel's notice and for notifications, and what each button does.
import * as vscode from 'vscode';
import { RefigureError, describeError, isAbort } from '../core/errors';
import { errorText } from './panelHtmlPure';
import type { Logger } from '../core/types';
import { assertNever, type HostAction } from '../shared/protocol';

/** The actions that fix an error of this kind, the most useful first. */
export function actionsForError(error: unknown): HostAction[] {
  if (error instanceof RefigureError) {
    if (error.kind === 'endpoint') {
      // No endpoint, or one on a port HTTP clients refuse: retrying or another key cannot help.
      if (error.code === 'no-model' || error.code === 'blocked-port') return ['configureEndpoint', 'useOffline'];
      if (error.code === 'model-unnamed') return ['chooseModel', 'configureEndpoint', 'useOffline'];
      return ['reconstruct', 'useOffline', 'configureEndpoint', 'setApiKey'];
    }
    if (error.kind === 'environment') return ['selectPython', 'showLog'];
  }
  return ['showLog'];
}

export function actionLabel(action: HostAction): string {
  switch (action) {
    case 'configureEndpoint':
      return vscode.l10n.t('Configure Endpoint');
    case 'chooseModel':
      return vscode.l10n.t('Choose Model');
    case 'setApiKey':
      return vscode.l10n.t('Set API Key');
    case 'selectPython':
      return vscode.l10n.t('Select Python Interpreter');
    case 'showLog':
      return vscode.l10n.t('Show Log');
    case 'trustWorkspace':
      return vscode.l10n.t('Manage Workspace Trust');
    case 'reconstruct':
      return vscode.l10n.t('Retry');
    case 'useOffline':
      return vscode.l10n.t('Use Offline Trace');
    default:
      return assertNever(action);
  }
}

export async function runHostAction(action: HostAction): Promise<void> {
  switch (action) {
    case 'configureEndpoint':
      await vscode.commands.executeCommand('workbench.action.openSettings', 'refigure.endpoint');
      return;
    case 'chooseModel':
      await vscode.commands.executeCommand('refigure.chooseModel');
      return;
    case 'setApiKey':
      await vscode.commands.executeCommand('refigure.setApiKey');
      return;
    case 'selectPython':
      await vscode.commands.executeCommand('refigure.selectPythonInterpreter');
      return;
    case 'showLog':
      await vscode.commands.executeCommand('refigure.showLog');
      return;
    case 'trustWorkspace':
      await vscode.commands.executeCommand('workbench.trust.manage');
      return;
    case 'reconstruct':
    case 'useOffline':
      // Handled by the panel itself, which knows its image.
      return;
    default:
      assertNever(action);
  }
}

/** One short message for an error as a user reads it: paths relative to the workspace, a hint that does not repeat the reason. */
export function userMessage(error: unknown): string {
  const roots = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
  if (error instanceof RefigureError) return errorText({ message: error.message, hint: error.hint }, roots);
  return errorText({ message: describeError(error) }, roots);
}

/**
 * A notification only when the user can act, with the buttons that fix the error; cancellation is quiet.
 * `onAction` takes the buttons only a panel can carry out (Retry, Use Offline Trace).
 */
export function reportError(error: unknown, logger: Logger, options: { onAction?: (action: HostAction) => void } = {}): void {
  if (isAbort(error)) return;
  const message = userMessage(error);
  logger.error(describeError(error));
  const actions = actionsForError(error).filter((a) => options.onAction || (a !== 'reconstruct' && a !== 'useOffline'));
  void vscode.window.showErrorMessage(vscode.l10n.t('Refigure: {0}', message), ...actions.map(actionLabel)).then((answer) => {
    const action = actions.find((a) => actionLabel(a) === answer);
    if (!action) return;
    if ((action === 'reconstruct' || action === 'useOffline') && options.onAction) options.onAction(action);
    else void runHostAction(action);
  });
}
