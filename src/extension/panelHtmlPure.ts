// The Refigure panel's HTML: strict CSP, nonce'd script, initial data as escaped JSON. No `vscode` import, so it is unit-tested.
import { randomBytes } from 'node:crypto';
import type { PanelView, WebviewState } from '../shared/protocol';
import { escapeHtml } from '../core/html';

export { escapeHtml };

/** A fresh script nonce: 32 random bytes from the operating system's CSPRNG, base64. */
export function createNonce(): string {
  return randomBytes(32).toString('base64');
}

export interface PanelHtmlOptions {
  /** `webview.cspSource`. */
  cspSource: string;
  nonce: string;
  scriptUri: string;
  styleUri: string;
  title: string;
  view: PanelView;
  state: WebviewState;
  /** UI language for `lang`, e.g. `vscode.env.language`. */
  language?: string;
  /** Translated strings the webview shows, by key. */
  strings: Record<string, string>;
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data: blob:`,
    `style-src ${cspSource}`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
    "form-action 'none'",
    "base-uri 'none'",
  ].join('; ');
}

export function buildPanelHtml(options: PanelHtmlOptions): string {
  const { nonce } = options;
  const data = { view: options.view, state: options.state, strings: options.strings };
  return `<!DOCTYPE html>
<html lang="${escapeHtml(options.language ?? 'en')}">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(contentSecurityPolicy(options.cspSource, nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(options.title)}</title>
<link rel="stylesheet" href="${escapeHtml(options.styleUri)}">
</head>
<body>
<div id="app" data-refigure="${escapeHtml(JSON.stringify(data))}"></div>
<script nonce="${escapeHtml(nonce)}" src="${escapeHtml(options.scriptUri)}"></script>
</body>
</html>`;
}

/** Escapes text for HTML content and double- or single-quoted attribute values. */
