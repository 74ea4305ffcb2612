// The Refigure panel in the webview: the view (header, verdict, notices, progress, figures, differences, caption, attempts); the compare stage is stage.ts.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import {
  assertNever,
  defaultWebviewState,
  parseWebviewState,
  type AttemptView,
  type DifferenceView,
  type HostAction,
  type HostMessage,
  type PanelRequest,
  type PanelView,
  type ProgressView,
  type VerdictView,
  type WebviewState,
} from '../src/shared/protocol';
import { button, clear, el } from './dom';
import { comparedAttempt, initStage, renderStage, setNaturalSize, zoomToBox, setDifferences } from './stage';
import { requests, vscode } from './client';

const root = document.getElementById('app') as HTMLElement;
const initial = JSON.parse(root.dataset.refigure ?? '{}') as { view: PanelView; state: WebviewState; strings: Record<string, string> };
const strings = initial.strings ?? {};
const t = (key: string): string => strings[key] ?? key;

let view: PanelView = initial.view;
const state: WebviewState = parseWebviewState(vscode.getState()) ?? parseWebviewState(initial.state) ?? defaultWebviewState(view.imagePath);
let progress: (ProgressView & { receivedAt: number }) | undefined;
let selectedDifference: number | undefined;

function saveState(): void {
  vscode.setState(state);
}

function busy(): boolean {
  return view.status === 'streaming' || view.status === 'rendering';
}

// ── layout ──────────────────────────────────────────────────────────────────

const header = el('header', { className: 'bar' });
const titleBox = el('div', { className: 'title' });
const actionsBox = el('div', { className: 'actions', role: 'toolbar', ariaLabel: 'Actions' });
header.append(titleBox, actionsBox);

const verdictBox = el('section', { className: 'verdict', role: 'status' });
const noticeBox = el('section', { className: 'notice', role: 'status' });
const progressBox = el('section', { className: 'run-progress', role: 'status', ariaLive: 'polite' });
// Built once: the ring keeps turning (CSS) while only the text beside it changes.
const progressRing = document.createElement('vscode-progress-ring');
const progressText = el('span', { className: 'progress-text' });
progressBox.append(progressRing, progressText);
const feedback = el('div', { className: 'feedback', role: 'status', ariaLive: 'polite' });

const viewerBox = el('section', { className: 'viewer' });
const modeBar = el('div', { className: 'toolbar', role: 'toolbar', ariaLabel: 'Compare' });
const stage = el('div', { className: 'stage', tabIndex: 0, ariaLabel: 'Original and render' });
const statusLine = el('div', { className: 'status-line' });
const legend = el('div', { className: 'diff-legend' });
viewerBox.append(modeBar, stage, legend, statusLine);

const errorBox = el('section', { className: 'error-box' });
const figuresBox = el('section', { className: 'figures' });
const differencesBox = el('section', { className: 'differences' });
const captionBox = el('section', { className: 'caption-box' });
const attemptsBox = el('section', { className: 'attempts' });
const details = el('div', { className: 'details' });
details.append(errorBox, figuresBox, differencesBox, captionBox, attemptsBox);

root.append(header, verdictBox, noticeBox, progressBox, viewerBox, details, feedback);

// ── requests and feedback next to the action ────────────────────────────────

function send(request: PanelRequest, anchor?: HTMLElement): void {
  requests.send(request).then(
    (message) => showFeedback(message, false, anchor),
    (error: unknown) => {
      const text = error instanceof Error ? error.message : String(error);
      // The notice already says it, with its buttons: once is enough.
      if (text !== view.notice?.message) showFeedback(text, true, anchor);
    },
  );
}

let feedbackTimer: ReturnType<typeof setTimeout> | undefined;

/** A short message beside the control that asked for it, inside the window, gone after a few seconds. */
function showFeedback(message: string | undefined, isError: boolean, anchor?: HTMLElement): void {
  if (feedbackTimer) clearTimeout(feedbackTimer);
  feedback.textContent = message ?? '';
  feedback.classList.toggle('is-error', isError);
  feedback.classList.toggle('is-visible', Boolean(message));
  if (!message) return;
  const rect = (currentAnchor(anchor) ?? actionsBox).getBoundingClientRect();
  const width = Math.min(360, window.innerWidth - 16);
  feedback.style.maxWidth = `${width}px`;
  const box = feedback.getBoundingClientRect();
  // A control scrolled out of the window, or gone with a closed menu, leaves the message at the window's foot.
  const inView = rect.bottom > 0 && rect.top < window.innerHeight && rect.width + rect.height > 0;
  const left = Math.min(Math.max(8, inView ? rect.left : 8), window.innerWidth - box.width - 8);
  const below = rect.bottom + 6;
  const wanted = !inView ? window.innerHeight - box.height - 8 : below + box.height > window.innerHeight - 8 ? rect.top - box.height - 6 : below;
  const top = Math.max(8, Math.min(wanted, window.innerHeight - box.height - 8));
  feedback.style.left = `${left}px`;
  feedback.style.top = `${top}px`;
  feedbackTimer = setTimeout(() => feedback.classList.remove('is-visible'), isError ? 8000 : 4000);
}

/** The control that asked, or the one drawn in its place when the view was drawn again meanwhile (same label). */
function currentAnchor(anchor: HTMLElement | undefined): HTMLElement | undefined {
  if (!anchor || anchor.isConnected) return anchor;
  const label = anchor.textContent?.trim();
  if (!label) return undefined;
  return [...root.querySelectorAll<HTMLElement>('vscode-button, button')].find((b) => b.textContent?.trim() === label);
}

function actionButton(action: HostAction): HTMLElement {
  const b: HTMLElement = button(t(`action.${action}`), () => send({ kind: 'action', action }, b), { secondary: true });
  return b;
}

// ── header: title, chips, one lead action, the rest in an overflow menu when narrow ───────

function statusText(): string {
  if (view.status === 'streaming') return view.running === 'offline' ? t('status.offline') : view.running === 'model' ? t('status.streaming') : t('status.starting');
  return t(`status.${view.status}`);
}

function renderHeader(): void {
  clear(titleBox);
  titleBox.append(el('h1', { textContent: view.imageName, title: view.imagePath }));
  const badge = document.createElement('vscode-badge');
  badge.textContent = statusText();
  badge.className = `status status-${view.status}`;
  titleBox.append(badge);
  const shown = shownAttempt();
  // Chips belong to the result on screen; while a run is on, they wait for its result.
  if (!busy()) {
    if (view.provider === 'offline') titleBox.append(el('span', { className: 'chip chip-offline', textContent: t('offline') }));
    else if (view.model) titleBox.append(el('span', { className: 'chip', textContent: view.model }));
    if (shown) titleBox.append(el('span', { className: 'chip', textContent: `${t('sandbox')}: ${shown.sandbox}` }));
  }
  if (view.live) titleBox.append(el('span', { className: 'chip chip-live', textContent: t('live') }));
  renderActions();
}

interface ActionSpec {
  label: string;
  run(anchor: HTMLElement): void;
  lead?: boolean;
  /** Kept in the bar at every width. */
  pinned?: boolean;
}

let overflowOpen = false;

function renderActions(): void {
  clear(actionsBox);
  const hasResult = view.attempts.length > 0;
  const specs: ActionSpec[] = [];
  if (busy()) specs.push({ label: t('cancel'), run: () => vscode.postMessage({ type: 'cancel' }), pinned: true });
  else if (view.lead === 'retry') {
    specs.push({ label: t('retry'), run: (a) => send({ kind: 'action', action: 'reconstruct' }, a), lead: true, pinned: true });
  } else {
    specs.push({ label: t('reconstruct'), run: (a) => send({ kind: 'action', action: 'reconstruct' }, a), lead: view.lead === 'reconstruct', pinned: view.lead === 'reconstruct' });
  }
  if (hasResult && !busy()) {
    if (view.canRefine) {
      const fix = view.lead === 'fixError';
      specs.push({ label: fix ? t('fixError') : t('refine'), run: (a) => send({ kind: 'refine' }, a), lead: fix || view.lead === 'refine', pinned: true });
    }
    specs.push(
      { label: t('openCode'), run: (a) => send({ kind: 'openCode', attempt: view.shown }, a), pinned: true },
      { label: t('rerender'), run: (a) => send({ kind: 'rerender' }, a) },
      { label: t('saveCode'), run: (a) => send({ kind: 'saveCode' }, a) },
    );
    // A redraw that rendered can go into a paper as vector graphics.
    if (view.attempts.find((a) => a.index === view.shown)?.ok) {
      specs.push({ label: t('exportSvg'), run: (a) => send({ kind: 'export', format: 'svg' }, a) }, { label: t('exportPdf'), run: (a) => send({ kind: 'export', format: 'pdf' }, a) });
    }
  }
  // The lead first, so it is where the eye starts.
  specs.sort((a, b) => Number(Boolean(b.lead)) - Number(Boolean(a.lead)));
  const overflow: ActionSpec[] = [];
  for (const spec of specs) {
    const b: HTMLElement = button(spec.label, () => spec.run(b), { secondary: !spec.lead });
    if (spec.lead) b.classList.add('lead');
    if (!spec.pinned) {
      b.classList.add('foldable');
      overflow.push(spec);
    }
    actionsBox.append(b);
  }
  if (overflow.length) {
    const more: HTMLElement = button('⋯', () => {
      overflowOpen = !overflowOpen;
      renderActions();
    }, { secondary: true, title: t('more') });
    more.classList.add('more');
    more.setAttribute('aria-haspopup', 'menu');
    more.setAttribute('aria-expanded', String(overflowOpen));
    actionsBox.append(more);
    if (overflowOpen) {
      const menu = el('div', { className: 'overflow-menu', role: 'menu' });
      for (const spec of overflow) {
        const item = el('button', { className: 'menu-item', type: 'button', textContent: spec.label, role: 'menuitem' });
        item.addEventListener('click', () => {
          overflowOpen = false;
          spec.run(more);
          renderActions();
        });
        menu.append(item);
      }
      actionsBox.append(menu);
    }
  }
}

document.addEventListener('click', (event) => {
  if (overflowOpen && !(event.target as HTMLElement).closest('.actions')) {
    overflowOpen = false;
    renderActions();
  }
});

// ── the verdict line, first ─────────────────────────────────────────────────

function verdictText(verdict: VerdictView): string {
  if (verdict.code === 'close-text-differs') {
    return verdict.textDifferences === 1 ? t('verdict.close-text-differs.1') : t('verdict.close-text-differs.n').replace('{0}', String(verdict.textDifferences));
  }
  return t(`verdict.${verdict.code}`);
}

function renderVerdict(): void {
  clear(verdictBox);
  const attempt = shownAttempt();
  const verdict = attempt?.verdict;
  verdictBox.hidden = busy() || !verdict;
  if (!verdict || !attempt) return;
  verdictBox.className = `verdict tone-${verdict.tone}`;
  verdictBox.dataset.code = verdict.code;
  verdictBox.append(el('span', { className: 'verdict-dot', ariaHidden: 'true' }), el('strong', { className: 'verdict-text', textContent: verdictText(verdict) }));
  if (verdict.fidelity !== undefined) {
    verdictBox.append(el('span', { className: 'verdict-figure', textContent: `${t('figure.fidelity')} ${verdict.fidelity.toFixed(2)}`, title: t('legend.fidelity') }));
  }
  const count = attempt.differences?.length ?? 0;
  if (count) verdictBox.append(el('span', { className: 'verdict-figure', textContent: `${count} ${t('differences').toLowerCase()}` }));
}

// ── notice and progress ─────────────────────────────────────────────────────

function renderNotice(): void {
  clear(noticeBox);
  // A run in progress shows no note of the run before it.
  const notes = busy() ? [] : [...view.notes.map((n) => n.message), ...(view.error ? [view.error] : [])].filter((n) => n !== view.notice?.message);
  const notice = busy() && view.notice?.actions.includes('trustWorkspace') !== true && view.running !== 'offline' ? undefined : view.notice;
  noticeBox.hidden = !notice && notes.length === 0;
  if (notice) {
    const line = el('p', { className: 'notice-line' });
    line.append(el('span', { textContent: notice.message }));
    // Retry is the header's lead already: once is enough.
    for (const action of notice.actions.filter((a) => !(a === 'reconstruct' && view.lead === 'retry'))) line.append(actionButton(action));
    noticeBox.append(line);
  }
  for (const note of new Set(notes)) noticeBox.append(el('p', { className: 'note', textContent: note }));
}

function renderProgress(): void {
  progressBox.hidden = !busy();
  if (!busy()) return;
  const elapsed = progress ? progress.elapsedMs + (Date.now() - progress.receivedAt) : 0;
  const parts = [progress?.message ?? statusText()];
  if (progress?.tokens) parts.push(`${progress.tokens} ${t('tokens')}`);
  parts.push(`${(elapsed / 1000).toFixed(1)} s ${t('elapsed')}`);
  progressText.textContent = parts.join(' · ');
}

setInterval(() => {
  if (busy()) renderProgress();
}, 500);

// ── details: error, figures, differences, caption, attempts ─────────────────

function shownAttempt(): AttemptView | undefined {
  return view.shown !== undefined ? view.attempts[view.shown] : undefined;
}

function renderError(): void {
  clear(errorBox);
  const attempt = shownAttempt();
  errorBox.hidden = busy() || !attempt || attempt.ok;
  if (!attempt || attempt.ok || busy()) return;
  const error = attempt.error;
  errorBox.append(el('p', { className: 'error-message', textContent: error?.message ?? t('renderError') }));
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
    const more = el('details', { className: 'traceback-box' });
    more.append(el('summary', { textContent: t('traceback') }));
    const tb = el('pre', { className: 'traceback', ariaLabel: t('traceback') });
    // The last line repeats the message shown above; the traceback keeps the frames.
    const lines = error.traceback.replace(/\s+$/, '').split('\n');
    for (const line of lines) {
      const mentionsFailing = error.line !== undefined && new RegExp(`line ${error.line}\\b`).test(line);
      tb.append(el('span', { className: mentionsFailing ? 'failing' : '', textContent: `${line}\n` }));
    }
    more.append(tb);
    errorBox.append(more);
  }
}

function renderFigures(): void {
  clear(figuresBox);
  const attempt = shownAttempt();
  const rows = attempt?.ok ? attempt.figures : undefined;
  figuresBox.hidden = busy() || !rows;
  if (!rows) return;
  figuresBox.append(el('h2', { textContent: t('figures') }));
  const table = el('table', { className: 'metrics' });
  for (const row of rows) {
    const tr = el('tr', { className: `${row.key === 'fidelity' ? 'headline ' : ''}tone-${row.tone}` });
    tr.dataset.key = row.key;
    tr.title = t(`legend.${row.key}`);
    const bar = el('div', { className: 'bar-track', role: 'meter', ariaValueNow: String(row.closeness), ariaValueMin: '0', ariaValueMax: '1', ariaLabel: t(`figure.${row.key}`) });
    const fill = el('div', { className: 'bar-fill' });
    fill.style.width = `${Math.round(row.closeness * 100)}%`;
    bar.append(fill);
    tr.append(el('th', { textContent: t(`figure.${row.key}`), scope: 'row' }), el('td', { className: 'num', textContent: row.value.toFixed(3) }), cell(bar));
    table.append(tr);
  }
  figuresBox.append(table);
}

function cell(child: HTMLElement): HTMLElement {
  const td = el('td', { className: 'bar-cell' });
  td.append(child);
  return td;
}

function differenceLabel(d: DifferenceView): string {
  const kind = t(`difference.${d.kind}`);
  if ('area' in d) return `${kind} · ${Math.max(1, Math.round(d.area * 100))} %`;
  const quote = (s: string | undefined): string => (s ? `'${s}'` : '—');
  if (d.kind === 'text-different') return `${kind}: ${quote(d.original)} → ${quote(d.redraw)}`;
  return `${kind}: ${quote(d.kind === 'text-missing' ? d.original : d.redraw)}`;
}

function renderDifferences(): void {
  clear(differencesBox);
  const attempt = shownAttempt();
  // In the host's order: text first, then regions by area.
  const list = attempt?.ok && attempt.differences?.length ? attempt.differences : [];
  setDifferences(list.map((d) => ({ box: d.box, text: !('area' in d), hover: d.hover ?? differenceLabel(d) })), selectedDifference);
  differencesBox.hidden = busy() || list.length === 0;
  if (!list.length) return;
  differencesBox.append(el('h2', { textContent: `${t('differences')} (${list.length})` }));
  const ol = el('ol', { className: 'difference-list' });
  list.forEach((d, i) => {
    const item = el('li', {});
    const pick = el('button', { type: 'button', className: `difference ${'area' in d ? 'region' : 'text'}${selectedDifference === i ? ' selected' : ''}`, textContent: differenceLabel(d) });
    pick.dataset.kind = d.kind;
    if (d.hover) pick.title = d.hover;
    pick.addEventListener('click', () => {
      selectedDifference = i;
      zoomToBox(d.box);
      renderDifferences();
    });
    item.append(pick);
    ol.append(item);
  });
  differencesBox.append(ol);
}

function renderCaption(): void {
  clear(captionBox);
  // A new run's caption replaces the old one; until it comes, none is shown.
  captionBox.hidden = busy() || !view.caption;
  if (!view.caption || busy()) return;
  captionBox.append(el('h2', { textContent: t('caption') }), el('p', { className: 'caption', textContent: view.caption }));
  if (view.altText) captionBox.append(el('p', { className: 'alt', textContent: `${t('altText')}: ${view.altText}` }));
  const row = el('div', { className: 'row' });
  const add = (label: string, request: PanelRequest): void => {
    const b: HTMLElement = button(label, () => send(request, b), { secondary: true });
    row.append(b);
  };
  add(t('copy'), { kind: 'copyCaption' });
  if (view.insertTargets.includes('altText')) add(t('insertAltText'), { kind: 'insertCaption', target: 'altText' });
  if (view.insertTargets.includes('notebook')) add(t('insertNotebook'), { kind: 'insertCaption', target: 'notebook' });
  if (view.insertTargets.includes('notebookCode')) add(t('insertCodeCell'), { kind: 'insertCaption', target: 'notebookCode' });
  if (view.insertTargets.includes('latexCaption')) add(t('insertLatexCaption'), { kind: 'insertCaption', target: 'latexCaption' });
  captionBox.append(row);
}

function renderAttempts(): void {
  clear(attemptsBox);
  attemptsBox.hidden = view.attempts.length === 0;
  if (view.attempts.length === 0) return;
  attemptsBox.append(el('h2', { textContent: t('attempts') }));
  if (view.attempts.length > 1) attemptsBox.append(trendLine());
  const compared = comparedAttempt();
  const list = el('ol', { className: 'attempt-list' });
  for (const attempt of view.attempts) {
    const isCompared = compared?.index === attempt.index;
    const item = el('li', { className: `attempt${attempt.index === view.shown ? ' selected' : ''}${isCompared ? ' compared' : ''}` });
    const tone = attempt.verdict?.tone ?? 'poor';
    const score = attempt.ok ? (attempt.metrics ? attempt.metrics.fidelity.toFixed(3) : '—') : t('failed');
    const label = `${t('attempt')} ${attempt.index + 1} · ${attempt.kind} · ${score} · ${attempt.seconds.toFixed(1)} s${attempt.best && attempt.ok ? ` · ★ ${t('best')}` : ''}`;
    const pick = el('button', { className: `attempt-pick tone-${tone}`, type: 'button', title: t('showAttempt') });
    if (attempt.pngUri) pick.append(el('img', { className: 'thumb', src: attempt.pngUri, alt: '', draggable: false }));
    pick.append(el('span', { textContent: label }));
    pick.setAttribute('aria-current', String(attempt.index === view.shown));
    pick.addEventListener('click', () => send({ kind: 'showAttempt', attempt: attempt.index }, pick));
    item.append(pick);
    // Any attempt that rendered can take the original's place on the stage, against the one shown.
    if (attempt.pngUri && attempt.index !== view.shown) {
      const compare: HTMLElement = button(isCompared ? t('comparing') : t('compare'), () => toggleCompare(attempt.index), {
        secondary: !isCompared,
        pressed: isCompared,
        title: t('compareHint'),
      });
      compare.classList.add('compare-toggle');
      item.append(compare);
    }
    const open: HTMLElement = button(t('openCode'), () => send({ kind: 'openCode', attempt: attempt.index }, open), { secondary: true });
    item.append(open);
    list.append(item);
  }
  attemptsBox.append(list);
}

function toggleCompare(index: number): void {
  state.compareWith = state.compareWith === index ? undefined : index;
  saveState();
  renderStage();
  renderAttempts();
}

/** Fidelity over the attempts: a line through those that rendered, a cross for each that did not; the shown one filled, the compared one ringed. */
function trendLine(): Element {
  const svgNs = 'http://www.w3.org/2000/svg';
  const width = 240;
  const height = 48;
  const pad = 6;
  const n = view.attempts.length;
  const x = (i: number) => pad + (n === 1 ? 0 : (i * (width - 2 * pad)) / (n - 1));
  const y = (f: number) => height - pad - Math.max(0, Math.min(1, f)) * (height - 2 * pad);
  const svg = document.createElementNS(svgNs, 'svg');
  svg.setAttribute('class', 'trend');
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('role', 'img');
  const fidelities = view.attempts.map((a) => (a.ok && a.metrics ? a.metrics.fidelity : undefined));
  svg.setAttribute('aria-label', `${t('trend')}: ${fidelities.map((f, i) => `${i + 1}: ${f === undefined ? t('failed') : f.toFixed(3)}`).join(', ')}`);
  const points = fidelities.flatMap((f, i) => (f === undefined ? [] : [`${x(i)},${y(f)}`]));
  const line = document.createElementNS(svgNs, 'polyline');
  line.setAttribute('points', points.join(' '));
  line.setAttribute('class', 'trend-line');
  svg.append(line);
  const compared = comparedAttempt()?.index;
  fidelities.forEach((f, i) => {
    if (f === undefined) {
      const cross = document.createElementNS(svgNs, 'path');
      cross.setAttribute('d', `M${x(i) - 3},${height - pad - 3} l6,6 m0,-6 l-6,6`);
      cross.setAttribute('class', 'trend-failed');
      svg.append(cross);
      return;
    }
    const dot = document.createElementNS(svgNs, 'circle');
    dot.setAttribute('cx', String(x(i)));
    dot.setAttribute('cy', String(y(f)));
    dot.setAttribute('r', i === view.shown || i === compared ? '4' : '2.5');
    dot.setAttribute('class', `trend-dot${i === view.shown ? ' shown' : ''}${i === compared ? ' compared' : ''}`);
    svg.append(dot);
  });
  return svg;
}

function renderAll(): void {
  renderHeader();
  renderVerdict();
  renderNotice();
  renderProgress();
  renderStage();
  renderError();
  renderFigures();
  renderDifferences();
  renderCaption();
  renderAttempts();
}

// ── messages from the host ──────────────────────────────────────────────────

window.addEventListener('message', (event: MessageEvent<HostMessage>) => {
  const message = event.data;
  switch (message.type) {
    case 'view': {
      const wasBusy = busy();
      const previousShown = view.shown;
      view = message.view;
      if (view.shown !== previousShown) selectedDifference = undefined;
      setNaturalSize(view.originalWidth, view.originalHeight);
      if (!busy() || !wasBusy) progress = undefined;
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
initStage({ stage, modeBar, statusLine, legend, state, saveState, t, view: () => view, shownAttempt, busy });
saveState();
renderAll();
vscode.postMessage({ type: 'ready' });
