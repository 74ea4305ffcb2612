// The Refigure log channel, as the `Logger` the core expects.
import * as vscode from 'vscode';
import type { Logger } from '../core/types';

export function createLog(): { channel: vscode.LogOutputChannel; logger: Logger } {
  const channel = vscode.window.createOutputChannel('Refigure', { log: true });
  const logger: Logger = {
    info: (message) => channel.info(message),
    warn: (message) => channel.warn(message),
    error: (message) => channel.error(message),
    debug: (message) => channel.debug(message),
  };
  return { channel, logger };
}
