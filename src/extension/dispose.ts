// The one Disposable base: owns what it registers and disposes it once, in reverse order.
import * as vscode from 'vscode';

export abstract class Disposable implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private disposed = false;

  protected get isDisposed(): boolean {
    return this.disposed;
  }

  protected _register<T extends vscode.Disposable>(disposable: T): T {
    if (this.disposed) disposable.dispose();
    else this.disposables.push(disposable);
    return disposable;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    while (this.disposables.length) {
      try {
        this.disposables.pop()?.dispose();
      } catch {
        // One failing disposal must not keep the rest alive.
      }
    }
  }
}

/** An AbortSignal that aborts when the token is cancelled. The returned disposable detaches the listener. */
export function abortOnCancel(token: vscode.CancellationToken, controller: AbortController): vscode.Disposable {
  if (token.isCancellationRequested) controller.abort();
  return token.onCancellationRequested(() => controller.abort());
}

/** Runs `work` under a notification with Cancel; Cancel aborts `controller` (the HTTP request and the render). */
export function withCancellableProgress<T>(
  title: string,
  controller: AbortController,
  work: (progress: vscode.Progress<{ message?: string; increment?: number }>) => Promise<T>,
): Thenable<T> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
    const hook = abortOnCancel(token, controller);
    try {
      return await work(progress);
    } finally {
      hook.dispose();
    }
  });
}
