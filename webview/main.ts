// The Refigure panel in the webview: the view (header, notices, progress, error, figures, caption, attempts, actions); the compare stage is stage.ts.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import '@vscode-elements/elements/dist/vscode-divider/index.js';
import {
  assertNever,
  defaultWebviewState,
  parseWebviewState,
  type AttemptView,
  type HostAction,
  type HostMessage,
  type PanelRequest,
  type PanelView,
  type ProgressView,
  type WebviewState,
} from '../src/shared/protocol';
import { button, clear, el } from './dom';
import { initStage, renderStage, setNaturalSize } from './stage';
import { requests, vscode } from './client';

const root = document.getElementById('app') as HTMLElement;
const initial = JSON.parse(root.dataset.refigure ?? '{}') as { view: PanelView; state: WebviewState; strings: Record<string, string> };
const strings = initial.strings ?? {};
const t = (key: string): string => strings[key] ?? key;

let view: PanelView = initial.view;
const state: WebviewState = parseWebviewState(vscode.getState()) ?? parseWebviewState(initial.state) ?? defaultWebviewState(view.imagePath);
let progress: (ProgressView & { receivedAt: number }) | undefined;

function saveState(): void {
  vscode.setState(state);
}

// ── layout ──────────────────────────────────────────────────────────────────

const header = el('header', { className: 'bar' });
const titleBox = el('div', { className: 'title' });
const actionsBox = el('div', { className: 'actions', role: 'toolbar', ariaLabel: 'Actions' });
header.append(titleBox, actionsBox);

const noticeBox = el('section', { className: 'notice', role: 'status' });
const progressBox = el('section', { className: 'run-progress', role: 'status', ariaLive: 'polite' });
const toast = el('div', { className: 'toast', role: 'status', ariaLive: 'polite' });

const viewerBox = el('section', { className: 'viewer' });
const modeBar = el('div', { className: 'toolbar', role: 'toolbar', ariaLabel: 'Compare' });
const stage = el('div', { className: 'stage', tabIndex: 0, ariaLabel: 'Original and render' });
viewerBox.append(modeBar, stage);

const errorBox = el('section', { className: 'error-box' });
const figuresBox = el('section', { className: 'figures' });
const captionBox = el('section', { className: 'caption-box' });
const attemptsBox = el('section', { className: 'attempts' });
const details = el('div', { className: 'details' });
details.append(errorBox, figuresBox, captionBox, attemptsBox);

root.append(header, noticeBox, progressBox, viewerBox, details, toast);

// ── requests ────────────────────────────────────────────────────────────────

function send(request: PanelRequest): void {
  requests.send(request).then(
    (message) => showToast(message, false),
    (error: unknown) => showToast(error instanceof Error ? error.message : String(error), true),
  );
}

function showToast(message: string | undefined, isError: boolean): void {
  toast.textContent = message ?? '';
  toast.classList.toggle('is-error', isError);
  toast.classList.toggle('is-visible', Boolean(message));
}

function actionButton(action: HostAction): HTMLElement {
  return button(t(`action.${action}`), () => send({ kind: 'action', action }), { secondary: true });
}

// ── header, notice, progress ────────────────────────────────────────────────

function renderHeader(): void {
  clear(titleBox);
  titleBox.append(el('h1', { textContent: view.imageName, title: view.imagePath }));
  const badge = document.createElement('vscode-badge');
  badge.textContent = t(`status.${view.status}`);
  badge.className = `status status-${view.status}`;
  titleBox.append(badge);
  const shown = shownAttempt();
  if (view.provider === 'offline') titleBox.append(el('span', { className: 'chip chip-offline', textContent: t('offline') }));
  else if (view.model) titleBox.append(el('span', { className: 'chip', textContent: view.model }));
  if (shown) titleBox.append(el('span', { className: 'chip', textContent: `${t('sandbox')}: ${shown.sandbox}` }));
  if (view.live) titleBox.append(el('span', { className: 'chip chip-live', textContent: t('live') }));

  clear(actionsBox);
  const busy = view.status === 'streaming' || view.status === 'rendering';
  const hasResult = view.attempts.length > 0;
  if (busy) actionsBox.append(button(t('cancel'), () => vscode.postMessage({ type: 'cancel' })));
  else actionsBox.append(button(t('reconstruct'), () => send({ kind: 'action', action: 'reconstruct' }), { secondary: hasResult }));
  if (hasResult) {
    actionsBox.append(
      button(t('openCode'), () => send({ kind: 'openCode', attempt: view.shown })),
      button(t('rerender'), () => send({ kind: 'rerender' }), { secondary: true }),
      button(t('saveCode'), () => send({ kind: 'saveCode' }), { secondary: true }),
      button(t('refine'), () => send({ kind: 'refine' }), { secondary: true, hidden: !view.canRefine }),
    );
  }
}

function renderNotice(): void {
  clear(noticeBox);
  const notes = [...view.notes.map((n) => n.message), ...(view.error ? [view.error] : [])].filter((n) => n !== view.notice?.message);
  noticeBox.hidden = !view.notice && notes.length === 0;
  if (view.notice) {
    const line = el('p', { className: 'notice-line' });
    line.append(el('span', { textContent: view.notice.message }));
    for (const action of view.notice.actions) line.append(actionButton(action));
    noticeBox.append(line);
  }
  for (const note of notes) noticeBox.append(el('p', { className: 'note', textContent: note }));
}

function renderProgress(): void {
  const busy = view.status === 'streaming' || view.status === 'rendering';
  progressBox.hidden = !busy;
  if (!busy) return;
  clear(progressBox);
  progressBox.append(document.createElement('vscode-progress-ring'));
  const elapsed = progress ? progress.elapsedMs + (Date.now() - progress.receivedAt) : 0;
  const parts = [progress?.message ?? t(`status.${view.status}`)];
  if (progress?.tokens) parts.push(`${progress.tokens} ${t('tokens')}`);
  parts.push(`${(elapsed / 1000).toFixed(1)} s ${t('elapsed')}`);
  progressBox.append(el('span', { textContent: parts.join(' · ') }));
}

setInterval(() => {
  if (view.status === 'streaming' || view.status === 'rendering') renderProgress();
}, 500);

// ── the compare stage ───────────────────────────────────────────────────────

// ── details: error, figures, caption, attempts ──────────────────────────────

function shownAttempt(): AttemptView | undefined {
  return view.shown !== undefined ? view.attempts[view.shown] : undefined;
}

function renderError(): void {
  clear(errorBox);
  const attempt = shownAttempt();
  errorBox.hidden = !attempt || attempt.ok;
  if (!attempt || attempt.ok) return;
  const error = attempt.error;
  errorBox.append(el('h2', { textContent: t('renderError') }), el('p', { className: 'error-message', textContent: error?.message ?? '' }));
  if (attempt.code && error?.line) {
    const listing = el('pre', { className: 'code', ariaLabel: t('code') });
    const lines = attempt.code.split('\n');
    const failing = error.line;
    const from = Math.max(1, failing - 6);
    const to = Math.min(lines.length, failing + 6);
    for (let n = from; n <= to; n++) {
      const row = el('span', { className: n === failing ? 'line failing' : 'line' });
      row.append(el('span', { className: 'ln', textContent: String(n) }), document.createTextNode(`${lines[n - 1] ?? ''}\n`));
      listing.append(row);
    }
    errorBox.append(listing);
  }
  if (error?.traceback) {
    const tb = el('pre', { className: 'traceback', ariaLabel: t('traceback') });
    for (const line of error.traceback.split('\n')) {
      const mentionsFailing = error.line !== undefined && new RegExp(`line ${error.line}\\b`).test(line);
      tb.append(el('span', { className: mentionsFailing ? 'failing' : '', textContent: `${line}\n` }));
    }
    errorBox.append(tb);
  }
}

const metricKeys = ['fidelity', 'ssim', 'pixelMatch', 'edgeF1', 'colorDistance'] as const;

function renderFigures(): void {
  clear(figuresBox);
  const metrics = shownAttempt()?.metrics;
  figuresBox.hidden = !metrics;
  if (!metrics) return;
  figuresBox.append(el('h2', { textContent: t('figures') }));
  const table = el('table', { className: 'metrics' });
  for (const key of metricKeys) {
    const row = el('tr', { className: key === 'fidelity' ? 'headline' : '' });
    const value = metrics[key];
    const meter = el('meter', { min: 0, max: 1, value: key === 'colorDistance' ? 1 - value : value }) as HTMLMeterElement;
    row.append(el('th', { textContent: key }), el('td', { className: 'num', textContent: value.toFixed(3) }), cell(meter), el('td', { className: 'legend', textContent: t(`legend.${key}`) }));
    table.append(row);
  }
  figuresBox.append(table);
}

function cell(child: HTMLElement): HTMLElement {
  const td = el('td', {});
  td.append(child);
  return td;
}

function renderCaption(): void {
  clear(captionBox);
  captionBox.hidden = !view.caption;
  if (!view.caption) return;
  captionBox.append(el('h2', { textContent: t('caption') }), el('p', { className: 'caption', textContent: view.caption }));
  if (view.altText) captionBox.append(el('p', { className: 'alt', textContent: `${t('altText')}: ${view.altText}` }));
  const row = el('div', { className: 'row' });
  row.append(button(t('copy'), () => send({ kind: 'copyCaption' }), { secondary: true }));
  if (view.insertTargets.includes('altText')) row.append(button(t('insertAltText'), () => send({ kind: 'insertCaption', target: 'altText' }), { secondary: true }));
  if (view.insertTargets.includes('notebook')) row.append(button(t('insertNotebook'), () => send({ kind: 'insertCaption', target: 'notebook' }), { secondary: true }));
  if (view.insertTargets.includes('notebookCode')) row.append(button(t('insertCodeCell'), () => send({ kind: 'insertCaption', target: 'notebookCode' }), { secondary: true }));
  if (view.insertTargets.includes('latexCaption')) row.append(button(t('insertLatexCaption'), () => send({ kind: 'insertCaption', target: 'latexCaption' }), { secondary: true }));
  captionBox.append(row);
}

function renderAttempts(): void {
  clear(attemptsBox);
  attemptsBox.hidden = view.attempts.length === 0;
  if (view.attempts.length === 0) return;
  attemptsBox.append(el('h2', { textContent: t('attempts') }));
  const list = el('ol', { className: 'attempt-list' });
  for (const attempt of view.attempts) {
    const item = el('li', { className: attempt.index === view.shown ? 'attempt selected' : 'attempt' });
    const score = attempt.ok ? (attempt.metrics ? attempt.metrics.fidelity.toFixed(3) : '—') : t('failed');
    const label = `${t('attempt')} ${attempt.index + 1} · ${attempt.kind} · ${score} · ${attempt.seconds.toFixed(1)} s${attempt.best ? ` · ★ ${t('best')}` : ''}`;
    const pick = el('button', { className: 'attempt-pick', textContent: label, type: 'button' });
    pick.setAttribute('aria-current', String(attempt.index === view.shown));
    pick.addEventListener('click', () => send({ kind: 'showAttempt', attempt: attempt.index }));
    item.append(pick, button(t('openCode'), () => send({ kind: 'openCode', attempt: attempt.index }), { secondary: true }));
    list.append(item);
  }
  attemptsBox.append(list);
}

function renderAll(): void {
  renderHeader();
  renderNotice();
  renderProgress();
  renderStage();
  renderError();
  renderFigures();
  renderCaption();
  renderAttempts();
}

// ── messages from the host ──────────────────────────────────────────────────

window.addEventListener('message', (event: MessageEvent<HostMessage>) => {
  const message = event.data;
  switch (message.type) {
    case 'view': {
      const wasBusy = view.status === 'streaming' || view.status === 'rendering';
      view = message.view;
      setNaturalSize(view.originalWidth, view.originalHeight);
      if (!(view.status === 'streaming' || view.status === 'rendering') || !wasBusy) progress = undefined;
      renderAll();
      return;
    }
    case 'progress':
      progress = { ...message.progress, receivedAt: Date.now() };
      renderProgress();
      return;
    case 'accepted':
      requests.accepted(message.id);
      return;
    case 'response':
      requests.settle(message);
      return;
    default:
      assertNever(message);
  }
});

if (state.imagePath !== view.imagePath) Object.assign(state, defaultWebviewState(view.imagePath));
initStage({ stage, modeBar, state, saveState, t, view: () => view, shownAttempt });
saveState();
renderAll();
vscode.postMessage({ type: 'ready' });
