// The Refigure panel in the webview: compare modes, synchronized zoom and pan, figures, caption, attempts, actions.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import '@vscode-elements/elements/dist/vscode-divider/index.js';
import {
  RequestTracker,
  assertNever,
  defaultWebviewState,
  parseWebviewState,
  viewModes,
  type AttemptView,
  type HostAction,
  type HostMessage,
  type PanelRequest,
  type PanelView,
  type ProgressView,
  type ViewMode,
  type WebviewMessage,
  type WebviewState,
} from '../src/shared/protocol';
import { clear, el } from './dom';

interface VsCodeApi {
  postMessage(message: WebviewMessage): void;
  getState(): unknown;
  setState(state: WebviewState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const root = document.getElementById('app') as HTMLElement;
const initial = JSON.parse(root.dataset.refigure ?? '{}') as { view: PanelView; state: WebviewState; strings: Record<string, string> };
const strings = initial.strings ?? {};
const t = (key: string): string => strings[key] ?? key;

let view: PanelView = initial.view;
let state: WebviewState = parseWebviewState(vscode.getState()) ?? parseWebviewState(initial.state) ?? defaultWebviewState(view.imagePath);
let progress: (ProgressView & { receivedAt: number }) | undefined;
// Only the host's acknowledgement is timed: accepted work (a Refine of many rounds) runs as long as it needs, with Cancel.
const requests = new RequestTracker((message) => vscode.postMessage(message));

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

function button(label: string, onClick: () => void, options: { secondary?: boolean; title?: string; pressed?: boolean; hidden?: boolean } = {}): HTMLElement {
  const b = document.createElement('vscode-button');
  b.textContent = label;
  if (options.secondary) b.setAttribute('secondary', '');
  if (options.title) b.setAttribute('title', options.title);
  if (options.pressed !== undefined) b.setAttribute('aria-pressed', String(options.pressed));
  if (options.hidden) b.hidden = true;
  b.addEventListener('click', onClick);
  return b;
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

interface Layer {
  box: HTMLElement;
  canvas: HTMLElement;
  img: HTMLImageElement;
}

let natural = { width: view.originalWidth ?? 0, height: view.originalHeight ?? 0 };
const canvases: HTMLElement[] = [];
let viewports: HTMLElement[] = [];
let swipeDivider: HTMLElement | undefined;
let topLayer: Layer | undefined;

function makeLayer(src: string | undefined, alt: string, extraClass = ''): Layer {
  const box = el('div', { className: `layer ${extraClass}` });
  const canvas = el('div', { className: 'canvas' });
  const img = el('img', { alt, draggable: false }) as HTMLImageElement;
  if (src) img.src = src;
  else img.hidden = true;
  canvas.append(img);
  box.append(canvas);
  canvases.push(canvas);
  return { box, canvas, img };
}

function makeViewport(label: string): HTMLElement {
  const vp = el('div', { className: 'viewport' });
  vp.append(el('div', { className: 'viewport-label', textContent: label }));
  attachPanZoom(vp);
  return vp;
}

function renderStage(): void {
  clear(stage);
  canvases.length = 0;
  viewports = [];
  swipeDivider = undefined;
  topLayer = undefined;
  stage.className = `stage mode-${state.mode}`;
  const attempt = shownAttempt();
  const renderSrc = attempt?.pngUri;
  const original = view.originalUri;
  switch (state.mode) {
    case 'side': {
      const left = makeViewport(t('original'));
      left.append(makeLayer(original, t('original')).box);
      const right = makeViewport(t('render'));
      right.append(makeLayer(renderSrc, t('render')).box);
      if (!renderSrc) right.append(el('p', { className: 'empty', textContent: emptyText(attempt) }));
      viewports = [left, right];
      break;
    }
    case 'swipe':
    case 'onion': {
      const vp = makeViewport(state.mode === 'swipe' ? `${t('original')} | ${t('render')}` : `${t('original')} + ${t('render')}`);
      vp.append(makeLayer(original, t('original')).box);
      topLayer = makeLayer(renderSrc, t('render'), 'top');
      vp.append(topLayer.box);
      if (state.mode === 'swipe') {
        swipeDivider = el('div', { className: 'divider', role: 'slider', tabIndex: 0, ariaLabel: t('swipePosition') });
        attachDivider(vp, swipeDivider);
        vp.append(swipeDivider);
      }
      if (!renderSrc) vp.append(el('p', { className: 'empty', textContent: emptyText(attempt) }));
      viewports = [vp];
      break;
    }
    case 'diff': {
      const vp = makeViewport(t('diff'));
      vp.append(makeLayer(attempt?.diffUri, t('diff')).box);
      if (!attempt?.diffUri) vp.append(el('p', { className: 'empty', textContent: attempt?.pngUri ? t('noDiff') : emptyText(attempt) }));
      viewports = [vp];
      break;
    }
    default:
      assertNever(state.mode);
  }
  stage.append(...viewports);
  const probe = new Image();
  probe.onload = () => {
    if (probe.naturalWidth && (probe.naturalWidth !== natural.width || probe.naturalHeight !== natural.height)) {
      natural = { width: probe.naturalWidth, height: probe.naturalHeight };
    }
    applyTransform();
  };
  probe.src = original;
  renderModeBar();
  applyTransform();
}

function emptyText(attempt: AttemptView | undefined): string {
  if (attempt && !attempt.ok) return `${t('renderError')}: ${attempt.error?.message ?? ''}`;
  return view.status === 'idle' ? t('idleHint') : t('noRender');
}

function renderModeBar(): void {
  clear(modeBar);
  const labels: Record<ViewMode, string> = { side: t('side'), swipe: t('swipe'), onion: t('onion'), diff: t('diff') };
  viewModes.forEach((mode, i) => {
    modeBar.append(button(`${i + 1} ${labels[mode]}`, () => setMode(mode), { secondary: state.mode !== mode, pressed: state.mode === mode, title: `${labels[mode]} (${i + 1})` }));
  });
  modeBar.append(el('span', { className: 'sep' }));
  modeBar.append(
    button(t('fit'), () => zoomTo(0), { secondary: true, title: `${t('fit')} (0)`, pressed: state.zoom === 0 }),
    button(t('actualSize'), () => zoomTo(1), { secondary: true, title: `${t('actualSize')} (=)`, pressed: state.zoom === 1 }),
    button('−', () => zoomBy(1 / 1.25), { secondary: true, title: `${t('zoomOut')} (-)` }),
    button('+', () => zoomBy(1.25), { secondary: true, title: `${t('zoomIn')} (+)` }),
  );
  if (state.mode === 'onion') {
    const label = el('label', { className: 'slider-label', textContent: t('opacity') });
    const slider = el('input', { type: 'range', min: '0', max: '1', step: '0.01', value: String(state.opacity), ariaLabel: t('opacity') }) as HTMLInputElement;
    slider.addEventListener('input', () => {
      state.opacity = Number(slider.value);
      applyTransform();
      saveState();
    });
    label.append(slider);
    modeBar.append(label);
  }
  modeBar.append(el('span', { className: 'hint', textContent: t('shortcuts') }));
}

function setMode(mode: ViewMode): void {
  if (state.mode === mode) return;
  state.mode = mode;
  saveState();
  renderStage();
}

function viewportSize(): { width: number; height: number } {
  const vp = viewports[0];
  return vp ? { width: vp.clientWidth, height: vp.clientHeight } : { width: 1, height: 1 };
}

function fitScale(): number {
  const { width, height } = viewportSize();
  if (!natural.width || !natural.height) return 1;
  return Math.min(width / natural.width, height / natural.height, 8);
}

/** Scale and top-left offset of the image in viewport pixels. */
function placement(): { scale: number; x: number; y: number } {
  if (state.zoom === 0) {
    const scale = fitScale();
    const { width, height } = viewportSize();
    return { scale, x: (width - natural.width * scale) / 2, y: (height - natural.height * scale) / 2 };
  }
  return { scale: state.zoom, x: state.panX, y: state.panY };
}

function applyTransform(): void {
  const { scale, x, y } = placement();
  for (const canvas of canvases) {
    canvas.style.width = `${natural.width}px`;
    canvas.style.height = `${natural.height}px`;
    canvas.style.transform = `translate(${x}px, ${y}px) scale(${scale})`;
  }
  stage.classList.toggle('pixelated', scale >= 2);
  if (topLayer) {
    if (state.mode === 'onion') {
      topLayer.box.style.opacity = String(state.opacity);
      topLayer.box.style.clipPath = '';
    } else if (state.mode === 'swipe') {
      topLayer.box.style.opacity = '1';
      topLayer.box.style.clipPath = `inset(0 0 0 ${state.swipe * 100}%)`;
    }
  }
  if (swipeDivider) {
    swipeDivider.style.left = `${state.swipe * 100}%`;
    swipeDivider.setAttribute('aria-valuenow', String(Math.round(state.swipe * 100)));
    swipeDivider.setAttribute('aria-valuemin', '0');
    swipeDivider.setAttribute('aria-valuemax', '100');
  }
}

function zoomTo(zoom: number, anchor?: { x: number; y: number }): void {
  if (zoom === 0) {
    state.zoom = 0;
    state.panX = 0;
    state.panY = 0;
  } else {
    const current = placement();
    const { width, height } = viewportSize();
    const at = anchor ?? { x: width / 2, y: height / 2 };
    const next = Math.min(32, Math.max(0.05, zoom));
    state.panX = at.x - ((at.x - current.x) * next) / current.scale;
    state.panY = at.y - ((at.y - current.y) * next) / current.scale;
    state.zoom = next;
  }
  saveState();
  applyTransform();
  renderModeBar();
}

function zoomBy(factor: number, anchor?: { x: number; y: number }): void {
  zoomTo(placement().scale * factor, anchor);
}

function attachPanZoom(vp: HTMLElement): void {
  vp.addEventListener(
    'wheel',
    (event) => {
      event.preventDefault();
      const rect = vp.getBoundingClientRect();
      // A pinch arrives as a wheel event with ctrlKey and small deltas.
      const factor = Math.exp(-event.deltaY * (event.ctrlKey ? 0.01 : 0.0015));
      zoomBy(factor, { x: event.clientX - rect.left, y: event.clientY - rect.top });
    },
    { passive: false },
  );
  let drag: { id: number; x: number; y: number; moved: boolean } | undefined;
  vp.addEventListener('pointerdown', (event) => {
    if (event.button !== 0 || (event.target as HTMLElement).classList.contains('divider')) return;
    drag = { id: event.pointerId, x: event.clientX, y: event.clientY, moved: false };
    vp.setPointerCapture(event.pointerId);
  });
  vp.addEventListener('pointermove', (event) => {
    if (!drag || drag.id !== event.pointerId) return;
    const dx = event.clientX - drag.x;
    const dy = event.clientY - drag.y;
    // A click (to focus the stage for the keys) must not leave "fit"; only a real drag pans.
    if (!drag.moved && Math.hypot(dx, dy) < 4) return;
    if (!drag.moved) {
      drag.moved = true;
      vp.classList.add('dragging');
      if (state.zoom === 0) {
        const p = placement();
        state.zoom = p.scale;
        state.panX = p.x;
        state.panY = p.y;
      }
    }
    state.panX += dx;
    state.panY += dy;
    drag.x = event.clientX;
    drag.y = event.clientY;
    applyTransform();
  });
  const end = (event: PointerEvent): void => {
    if (!drag || drag.id !== event.pointerId) return;
    const moved = drag.moved;
    drag = undefined;
    vp.classList.remove('dragging');
    if (!moved) return;
    saveState();
    renderModeBar();
  };
  vp.addEventListener('pointerup', end);
  vp.addEventListener('pointercancel', end);
}

function attachDivider(vp: HTMLElement, divider: HTMLElement): void {
  let dragging = false;
  const move = (clientX: number): void => {
    const rect = vp.getBoundingClientRect();
    state.swipe = Math.min(1, Math.max(0, (clientX - rect.left) / rect.width));
    applyTransform();
  };
  divider.addEventListener('pointerdown', (event) => {
    event.stopPropagation();
    dragging = true;
    divider.setPointerCapture(event.pointerId);
  });
  divider.addEventListener('pointermove', (event) => {
    if (dragging) move(event.clientX);
  });
  divider.addEventListener('pointerup', () => {
    dragging = false;
    saveState();
  });
  divider.addEventListener('keydown', (event) => {
    const step = event.shiftKey ? 0.1 : 0.02;
    if (event.key === 'ArrowLeft') state.swipe = Math.max(0, state.swipe - step);
    else if (event.key === 'ArrowRight') state.swipe = Math.min(1, state.swipe + step);
    else return;
    event.preventDefault();
    event.stopPropagation();
    applyTransform();
    saveState();
  });
}

window.addEventListener('resize', () => applyTransform());

window.addEventListener('keydown', (event) => {
  const target = event.target as HTMLElement;
  if (target.closest('input, textarea, [contenteditable]') || event.altKey || event.metaKey || event.ctrlKey) return;
  const index = ['1', '2', '3', '4'].indexOf(event.key);
  if (index >= 0) setMode(viewModes[index] as ViewMode);
  else if (event.key === '0') zoomTo(0);
  else if (event.key === '=') zoomTo(1);
  else if (event.key === '+') zoomBy(1.25);
  else if (event.key === '-') zoomBy(1 / 1.25);
  else return;
  event.preventDefault();
});

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
      if (view.originalWidth && view.originalHeight) natural = { width: view.originalWidth, height: view.originalHeight };
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

if (state.imagePath !== view.imagePath) state = defaultWebviewState(view.imagePath);
saveState();
renderAll();
vscode.postMessage({ type: 'ready' });
