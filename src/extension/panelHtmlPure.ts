// The Refigure panel's HTML: strict CSP, nonce'd script, initial data as escaped JSON. No `vscode` import, so it is unit-tested.
import { randomBytes } from 'node:crypto';
import type { FigureKey, FigureRowView, LeadAction, PanelView, Tone, VerdictView, WebviewState } from '../shared/protocol';
import type { Difference, Metrics, Verdict } from '../core/types';
import { escapeHtml } from '../core/html';
import { verdictLines, verdictOf } from '../core/fidelity/differences';

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

// ── what the panel says about a result: verdict, figures, differences, titles and messages ──────────────────────

/**
 * Where a figure turns from one colour to the next, as closeness in [0, 1] (higher is closer). Calibrated on the
 * readings in `test/calibration/panelThresholds.json` (measured by `panelThresholds.ts` beside it): the 25 bench
 * corpus programs re-rendered exactly, re-rendered with every axes shifted by 4 % and 3 %, and paired with an
 * unrelated corpus figure; and 30 shared STEM fixtures redrawn by the offline trace. `good` sits just below the
 * lowest exact re-render (so a faithful redraw is green), `fair` just above the highest unrelated pair (so a
 * different figure is never amber). Pixel match is strict by nature: an exact re-render reads 0.69–0.97 (fonts and
 * antialiasing), hence its low lines. Text agreement has no corpus reading yet: 0.9 and 0.6 until it has.
 * `test/unit/panelVerdict.test.ts` keeps every reading on its side of the lines.
 */
export const figureThresholds: Record<FigureKey, { good: number; fair: number }> = {
  // The verdict's own lines: the fidelity bar and the verdict never disagree.
  fidelity: { good: verdictLines.close, fair: verdictLines.partial },
  textF1: { good: 0.9, fair: 0.6 },
  ssim: { good: 0.95, fair: 0.8 },
  pixelMatch: { good: 0.68, fair: 0.25 },
  edgeF1: { good: 0.95, fair: 0.55 },
  colorCloseness: { good: 0.95, fair: 0.8 },
};

export function toneFor(key: FigureKey, closeness: number): Tone {
  const { good, fair } = figureThresholds[key];
  return closeness >= good ? 'good' : closeness >= fair ? 'fair' : 'poor';
}

/** The metrics as the panel may receive them: text fidelity joins when the session measures it. */
type PanelMetrics = Metrics & { textF1?: number; pixelFidelity?: number };

/** The figures in reading order, each with its closeness and colour; colour distance is drawn as closeness. */
export function figureRows(metrics: PanelMetrics): FigureRowView[] {
  const rows: Array<[FigureKey, number, number]> = [['fidelity', metrics.fidelity, metrics.fidelity]];
  if (typeof metrics.textF1 === 'number') rows.push(['textF1', metrics.textF1, metrics.textF1]);
  rows.push(['ssim', metrics.ssim, metrics.ssim], ['pixelMatch', metrics.pixelMatch, metrics.pixelMatch], ['edgeF1', metrics.edgeF1, metrics.edgeF1]);
  const colorCloseness = clamp01(1 - metrics.colorDistance);
  rows.push(['colorCloseness', colorCloseness, colorCloseness]);
  return rows.map(([key, value, closeness]) => ({ key, value, closeness: clamp01(closeness), tone: toneFor(key, clamp01(closeness)) }));
}

const textKinds = new Set<Difference['kind']>(['text-different', 'text-missing', 'text-extra']);

export function isTextDifference(difference: Difference): difference is Extract<Difference, { original?: string }> {
  return textKinds.has(difference.kind);
}

/**
 * The verdict line of an attempt. The session's verdict wins when it has one (it weighs text the panel cannot);
 * without it, the composite fidelity decides against `figureThresholds.fidelity`, and text differences, when
 * known, turn "close" into "close, text differs".
 */
export function verdictFor(attempt: { ok: boolean; metrics?: PanelMetrics; verdict?: Verdict; differences?: Difference[] }): VerdictView {
  const fidelity = attempt.metrics?.fidelity;
  const textDifferences = attempt.verdict?.textDifferences ?? (attempt.differences ?? []).filter(isTextDifference).length;
  if (!attempt.ok) return { code: 'failed', tone: 'poor', textDifferences: 0 };
  const pixel = attempt.metrics?.pixelFidelity ?? fidelity;
  const code: VerdictView['code'] = attempt.verdict?.code ?? (pixel === undefined ? 'partial' : verdictOf(pixel, textDifferences).code);
  return { code, tone: verdictTone(code), textDifferences, fidelity };
}

function verdictTone(code: VerdictView['code']): Tone {
  switch (code) {
    case 'close':
      return 'good';
    case 'close-text-differs':
    case 'partial':
      return 'fair';
    case 'different':
    case 'failed':
      return 'poor';
  }
}

/** Text differences first (a label that reads wrong matters most), then regions by area, largest first. */
export function orderDifferences(differences: readonly Difference[]): Difference[] {
  const area = (d: Difference): number => ('area' in d ? d.area : d.box[2] * d.box[3]);
  return [...differences].sort((a, b) => Number(isTextDifference(b)) - Number(isTextDifference(a)) || area(b) - area(a));
}

/** The hover text of a text difference: `original: '3 cm' · redraw: '5 cm'`, a side missing shown as —. */
export function differenceHover(difference: Difference, words: { original: string; redraw: string }): string | undefined {
  if (!isTextDifference(difference)) return undefined;
  const quote = (text: string | undefined): string => (text === undefined || text === '' ? '—' : `'${text}'`);
  return `${words.original}: ${quote(difference.original)} · ${words.redraw}: ${quote(difference.redraw)}`;
}

/** The header's one lead action for a state. */
export function leadActionFor(state: { busy: boolean; hasResult: boolean; shownOk: boolean; verdictTone?: Tone; canRefine: boolean; endpointFailed: boolean }): LeadAction {
  if (state.busy) return 'none';
  if (state.endpointFailed) return 'retry';
  if (!state.hasResult) return 'reconstruct';
  if (!state.shownOk) return state.canRefine ? 'fixError' : 'reconstruct';
  if (state.verdictTone !== 'good' && state.canRefine) return 'refine';
  return 'none';
}

/** A notebook figure's panel is named by its notebook and cell, not the decoded output's hash name. */
export function figureName(imagePath: string, origin: { kind: string; notebookPath?: string; cell?: number }, words: { cell: string }): string {
  if (origin.kind === 'notebook' && origin.notebookPath && origin.cell !== undefined) {
    return `${baseName(origin.notebookPath)} · ${words.cell} ${origin.cell + 1}`;
  }
  return baseName(imagePath);
}

/** Absolute paths inside a workspace folder are written relative to it (the folder's name first when there are several). */
export function relativizePaths(text: string, roots: readonly string[]): string {
  let out = text;
  const sorted = [...roots].filter(Boolean).sort((a, b) => b.length - a.length);
  for (const root of sorted) {
    const prefix = root.endsWith('/') || root.endsWith('\\') ? root : `${root}${root.includes('\\') && !root.includes('/') ? '\\' : '/'}`;
    const label = roots.length > 1 ? `${baseName(root)}/` : '';
    out = out.split(prefix).join(label);
  }
  return out;
}

/**
 * One short message for an error: its paths relative to the workspace, and a hint whose first clause only repeats
 * the message's reason (two words in a row in common) cut down to what to do next.
 */
export function errorText(error: { message: string; hint?: string }, roots: readonly string[] = []): string {
  const message = relativizePaths(error.message.trim(), roots);
  let hint = error.hint ? relativizePaths(error.hint.trim(), roots) : '';
  const clauses = hint.split(/;\s+/);
  if (clauses.length > 1 && sharesBigram(message, clauses[0] ?? '')) {
    const rest = clauses.slice(1).join('; ');
    hint = rest.charAt(0).toUpperCase() + rest.slice(1);
  }
  return hint ? `${message} ${hint}` : message;
}

/** `12 %`, `100 %`, `1,250 %`: the zoom as the status line shows it. */
export function zoomPercent(scale: number): string {
  return `${Math.round(scale * 100).toLocaleString('en-US')} %`;
}

function sharesBigram(a: string, b: string): boolean {
  const words = (s: string): string[] => s.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const pairs = new Set<string>();
  const wa = words(a);
  for (let i = 0; i + 1 < wa.length; i++) pairs.add(`${wa[i]} ${wa[i + 1]}`);
  const wb = words(b);
  for (let i = 0; i + 1 < wb.length; i++) if (pairs.has(`${wb[i]} ${wb[i + 1]}`)) return true;
  return false;
}

function baseName(path: string): string {
  const parts = path.split(/[\\/]/).filter(Boolean);
  return parts[parts.length - 1] ?? path;
}

function clamp01(value: number): number {
  return Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0;
}
