// The webview's end of the protocol: the VS Code API and the requests the host acknowledges at once and answers when done.
import { RequestTracker, type WebviewMessage, type WebviewState } from '../src/shared/protocol';

interface VsCodeApi {
  postMessage(message: WebviewMessage): void;
  getState(): unknown;
  setState(state: WebviewState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

export const vscode = acquireVsCodeApi();

// Only the host's acknowledgement is timed: accepted work (a Refine of many rounds) runs as long as it needs, with Cancel.
export const requests = new RequestTracker((message) => vscode.postMessage(message));
