// The buttons that fix an error, written once for the panel's notice and for notifications, and what each button does.
import * as vscode from 'vscode';
import { RefigureError, describeError, isAbort } from '../core/errors';
import type { Logger } from '../core/types';
import { assertNever, type HostAction } from '../shared/protocol';

/** The actions that fix an error of this kind, the most useful first. */
export function actionsForError(error: unknown): HostAction[] {
  if (error instanceof RefigureError) {
    if (error.kind === 'endpoint') return ['configureEndpoint', 'setApiKey', 'showLog'];
    if (error.kind === 'environment') return ['selectPython', 'showLog'];
  }
  return ['showLog'];
}

export function actionLabel(action: HostAction): string {
  switch (action) {
    case 'configureEndpoint':
      return vscode.l10n.t('Configure Endpoint');
    case 'setApiKey':
      return vscode.l10n.t('Set API Key');
    case 'selectPython':
      return vscode.l10n.t('Select Python Interpreter');
    case 'showLog':
      return vscode.l10n.t('Show Log');
    case 'trustWorkspace':
      return vscode.l10n.t('Manage Workspace Trust');
    case 'reconstruct':
      return vscode.l10n.t('Reconstruct');
    default:
      return assertNever(action);
  }
}

export async function runHostAction(action: HostAction): Promise<void> {
  switch (action) {
    case 'configureEndpoint':
      await vscode.commands.executeCommand('workbench.action.openSettings', 'refigure.endpoint');
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
      // Handled by the panel itself, which knows its image.
      return;
    default:
      assertNever(action);
  }
}

/** A notification only when the user can act, with the buttons that fix the error; cancellation is quiet. */
export function reportError(error: unknown, logger: Logger): void {
  if (isAbort(error)) return;
  const message = describeError(error);
  logger.error(message);
  const actions = actionsForError(error);
  void vscode.window.showErrorMessage(vscode.l10n.t('Refigure: {0}', message), ...actions.map(actionLabel)).then((answer) => {
    const action = actions.find((a) => actionLabel(a) === answer);
    if (action) void runHostAction(action);
  });
}
