// The compare stage of the panel: side by side, swipe, onion skin and difference, with synchronized zoom and pan.
import { assertNever, viewModes, type AttemptView, type PanelView, type ViewMode, type WebviewState } from '../src/shared/protocol';
import { button, clear, el } from './dom';

export interface StageContext {
  stage: HTMLElement;
  modeBar: HTMLElement;
  /** Zoom and image sizes, under the stage. */
  statusLine: HTMLElement;
  /** What the difference map's colours mean, in difference mode. */
  legend: HTMLElement;
  busy(): boolean;
  /** The persisted view state, changed in place. */
  state: WebviewState;
  saveState(): void;
  t(key: string): string;
  view(): PanelView;
  shownAttempt(): AttemptView | undefined;
}

let ctx: StageContext;
let state: WebviewState;
const t = (key: string): string => ctx.t(key);

/** Sets the stage up once; `renderStage` draws it for the current view. */
export function initStage(context: StageContext): void {
  ctx = context;
  state = context.state;
  const view = context.view();
  natural = { width: view.originalWidth ?? 0, height: view.originalHeight ?? 0 };
}

/** The original's pixel size, as the host knows it. */
export function setNaturalSize(width: number | undefined, height: number | undefined): void {
  if (width && height) natural = { width, height };
}

interface Layer {
  box: HTMLElement;
  canvas: HTMLElement;
  img: HTMLImageElement;
}

let natural = { width: 0, height: 0 };

/** A difference's box over the images, in the original's pixels. */
export interface BoxMark {
  box: [number, number, number, number];
  text: boolean;
  hover: string;
}
let marks: BoxMark[] = [];
let selectedMark: number | undefined;

/** The boxes drawn over every image of the stage; `selected` is outlined more strongly. */
export function setDifferences(next: BoxMark[], selected: number | undefined): void {
  const changed = JSON.stringify(next) !== JSON.stringify(marks) || selected !== selectedMark;
  marks = next;
  selectedMark = selected;
  if (changed && ctx) drawMarks();
}

function drawMarks(): void {
  for (const canvas of canvases) {
    canvas.querySelector('.marks')?.remove();
    if (!marks.length) continue;
    const layer = el('div', { className: 'marks' });
    marks.forEach((mark, i) => {
      const [x, y, w, h] = mark.box;
      const box = el('div', { className: `mark ${mark.text ? 'mark-text' : 'mark-region'}${i === selectedMark ? ' selected' : ''}`, title: mark.hover });
      box.style.left = `${x}px`;
      box.style.top = `${y}px`;
      box.style.width = `${Math.max(1, w)}px`;
      box.style.height = `${Math.max(1, h)}px`;
      layer.append(box);
    });
    canvas.append(layer);
  }
}

/** Zooms every mode to a box of the original's pixels, centred, with a margin. */
export function zoomToBox(box: [number, number, number, number]): void {
  const [x, y, w, h] = box;
  const { width, height } = viewportSize();
  const margin = 1.6;
  const scale = Math.min(8, Math.max(0.05, Math.min(width / Math.max(8, w * margin), height / Math.max(8, h * margin))));
  state.zoom = scale;
  state.panX = width / 2 - (x + w / 2) * scale;
  state.panY = height / 2 - (y + h / 2) * scale;
  ctx.saveState();
  applyTransform();
  renderModeBar();
}
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

export function renderStage(): void {
  const { stage } = ctx;
  clear(stage);
  canvases.length = 0;
  viewports = [];
  swipeDivider = undefined;
  topLayer = undefined;
  stage.className = `stage mode-${state.mode}`;
  const attempt = ctx.shownAttempt();
  const view = ctx.view();
  const renderSrc = attempt?.pngUri;
  // A against B: another attempt in the original's place, when one is chosen and it rendered.
  const against = comparedAttempt();
  const original = against?.pngUri ?? view.originalUri;
  const baseName = against ? `${t('attempt')} ${against.index + 1}` : t('original');
  const renderName = against && attempt ? `${t('attempt')} ${attempt.index + 1}` : t('render');
  switch (state.mode) {
    case 'side': {
      const left = makeViewport(baseName);
      left.append(makeLayer(original, baseName).box);
      const right = makeViewport(renderName);
      right.append(makeLayer(renderSrc, renderName).box);
      if (!renderSrc) right.append(el('p', { className: 'empty', textContent: emptyText(attempt) }));
      viewports = [left, right];
      break;
    }
    case 'swipe':
    case 'onion': {
      const vp = makeViewport(state.mode === 'swipe' ? `${baseName} | ${renderName}` : `${baseName} + ${renderName}`);
      vp.append(makeLayer(original, baseName).box);
      topLayer = makeLayer(renderSrc, renderName, 'top');
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
      // The difference map is the shown attempt's against the original, also while two attempts are compared.
      const vp = makeViewport(against ? `${t('diff')}: ${t('original')} · ${renderName}` : t('diff'));
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
  renderLegend();
  drawMarks();
  applyTransform();
}

/** The attempt compared with the one shown (A), when the user chose one that rendered and is not the one shown. */
export function comparedAttempt(): AttemptView | undefined {
  if (state.compareWith === undefined) return undefined;
  const chosen = ctx.view().attempts.find((a) => a.index === state.compareWith);
  return chosen?.pngUri && chosen.index !== ctx.shownAttempt()?.index ? chosen : undefined;
}

function renderLegend(): void {
  const { legend } = ctx;
  clear(legend);
  legend.hidden = state.mode !== 'diff';
  if (legend.hidden) return;
  for (const key of ['missing', 'extra', 'recoloured', 'alike'] as const) {
    const item = el('span', { className: 'legend-item' });
    item.append(el('span', { className: `swatch swatch-${key}`, ariaHidden: 'true' }), el('span', { textContent: t(`diffLegend.${key}`) }));
    legend.append(item);
  }
}

function renderStatusLine(): void {
  const { statusLine } = ctx;
  clear(statusLine);
  const attempt = ctx.shownAttempt();
  const parts = [`${t('zoom')} ${Math.round(placement().scale * 100)} %${state.zoom === 0 ? ` (${t('fit')})` : ''}`];
  if (natural.width) parts.push(`${t('original')} ${natural.width} × ${natural.height}`);
  if (attempt?.width && attempt.height) parts.push(`${t('render')} ${attempt.width} × ${attempt.height}`);
  statusLine.append(el('span', { textContent: parts.join(' · ') }));
  const help = el('span', { className: 'help', textContent: '?', title: t('shortcuts'), tabIndex: 0, ariaLabel: `${t('help')}: ${t('shortcuts')}` });
  statusLine.append(help);
}

function emptyText(attempt: AttemptView | undefined): string {
  const view = ctx.view();
  // The error itself is written once, under the stage.
  if (attempt && !attempt.ok) return t('verdict.failed');
  return view.status === 'idle' ? t('idleHint') : t('noRender');
}

function renderModeBar(): void {
  const { modeBar } = ctx;
  clear(modeBar);
  const labels: Record<ViewMode, string> = { side: t('side'), swipe: t('swipe'), onion: t('onion'), diff: t('diff') };
  const short: Record<ViewMode, string> = { side: t('sideShort'), swipe: t('swipe'), onion: t('onionShort'), diff: t('diffShort') };
  viewModes.forEach((mode, i) => {
    const b = button(`${i + 1} `, () => setMode(mode), { secondary: state.mode !== mode, pressed: state.mode === mode, title: `${labels[mode]} (${i + 1})` });
    // The long name where there is room, a short one in a narrow window.
    b.append(el('span', { className: 'long', textContent: labels[mode] }), el('span', { className: 'short', textContent: short[mode] }));
    modeBar.append(b);
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
      ctx.saveState();
    });
    label.append(slider);
    modeBar.append(label);
  }
}

function setMode(mode: ViewMode): void {
  if (state.mode === mode) return;
  state.mode = mode;
  ctx.saveState();
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
  ctx.stage.classList.toggle('pixelated', scale >= 2);
  renderStatusLine();
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
  ctx.saveState();
  applyTransform();
  renderModeBar();
}

function zoomBy(factor: number, anchor?: { x: number; y: number }): void {
  zoomTo(placement().scale * factor, anchor);
}

/** Arrow keys move the picture the way the arrow points at (as in the image preview), leaving "fit" for the current scale. */
function panBy(key: string, step: number): void {
  if (state.zoom === 0) {
    const p = placement();
    state.zoom = p.scale;
    state.panX = p.x;
    state.panY = p.y;
  }
  if (key === 'ArrowLeft') state.panX += step;
  else if (key === 'ArrowRight') state.panX -= step;
  else if (key === 'ArrowUp') state.panY += step;
  else if (key === 'ArrowDown') state.panY -= step;
  ctx.saveState();
  applyTransform();
  renderModeBar();
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
    ctx.saveState();
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
    ctx.saveState();
  });
  divider.addEventListener('keydown', (event) => {
    const step = event.shiftKey ? 0.1 : 0.02;
    if (event.key === 'ArrowLeft') state.swipe = Math.max(0, state.swipe - step);
    else if (event.key === 'ArrowRight') state.swipe = Math.min(1, state.swipe + step);
    else return;
    event.preventDefault();
    event.stopPropagation();
    applyTransform();
    ctx.saveState();
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
  else if (event.key.startsWith('Arrow') && !target.closest('.divider, button, vscode-button, select')) panBy(event.key, event.shiftKey ? 160 : 40);
  else return;
  event.preventDefault();
});

