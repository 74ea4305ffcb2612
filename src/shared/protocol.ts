// The messages between the extension host and the Refigure panel's webview, imported by both sides.
import type { Attempt, Difference, ExportFormat, Metrics, Note, Provider, RenderError, Verdict } from '../core/types';
import { isRecord } from './values';

export type PanelStatus = 'idle' | 'streaming' | 'rendering' | 'rendered' | 'error' | 'cancelled';

export type ViewMode = 'side' | 'swipe' | 'onion' | 'diff';

export const viewModes: readonly ViewMode[] = ['side', 'swipe', 'onion', 'diff'];

export type MetricsView = Metrics;
export type RenderErrorView = RenderError;
export type NoteView = Note;
/** A difference in the order the panel lists it, with the hover text of a text difference (`original: '3 cm' · redraw: '5 cm'`). */
export type DifferenceView = Difference & { hover?: string };

/** How good a figure is, for its colour: calibrated thresholds in `panelHtmlPure.ts`. */
export type Tone = 'good' | 'fair' | 'poor';

/** The verdict line: the session's verdict (core/fidelity/differences.ts `verdictOf`), with its tone. */
export interface VerdictView {
  code: Verdict['code'];
  tone: Tone;
  textDifferences: number;
  fidelity?: number;
}

export type FigureKey = 'fidelity' | 'textF1' | 'ssim' | 'pixelMatch' | 'edgeF1' | 'colorCloseness';

/** One row of the fidelity figures: `closeness` is 0–1, higher is closer (colour distance is turned into closeness). */
export interface FigureRowView {
  key: FigureKey;
  value: number;
  closeness: number;
  tone: Tone;
}

/** The one action that stands out in the header for the panel's state. */
export type LeadAction = 'reconstruct' | 'refine' | 'fixError' | 'retry' | 'none';

/** One attempt of the history as the panel shows it; image addresses are webview URIs with a cache-busting query. */
export interface AttemptView extends Pick<Attempt, 'index' | 'kind' | 'from' | 'author' | 'best' | 'seconds' | 'code' | 'metrics'> {
  ok: boolean;
  pngUri?: string;
  diffUri?: string;
  error?: RenderErrorView;
  sandbox: string;
  output?: string;
  verdict?: VerdictView;
  figures?: FigureRowView[];
  differences?: DifferenceView[];
  /** The render's pixel size. */
  width?: number;
  height?: number;
}

/** Where the caption can be inserted from this panel. `altText`: the Markdown link the panel was opened from. */
export type InsertTarget = 'altText' | 'notebook' | 'notebookCode' | 'latexCaption';

export interface NoticeView {
  message: string;
  /** Buttons the host understands (see `HostAction`). */
  actions: HostAction[];
}

/** Everything the panel shows; the host sends it whole whenever it changes. */
export interface PanelView {
  /** The figure's name in words: the file, or the notebook and cell it came from. */
  imageName: string;
  imagePath: string;
  originalUri: string;
  originalWidth?: number;
  originalHeight?: number;
  status: PanelStatus;
  /** While an operation runs: whether a model is asked or the offline trace runs. */
  running?: 'model' | 'offline';
  /** `offline`: the offline trace provider made the result. */
  provider?: Provider;
  model?: string;
  caption?: string;
  altText?: string;
  captionStyle?: string;
  attempts: AttemptView[];
  /** Index into `attempts` of the one shown (the best unless the user picked or edited another). */
  shown?: number;
  /** The attempt the caption describes. */
  captionAttempt?: number;
  /** Notes of the last operation. */
  notes: NoteView[];
  /** The last operation's error, when it failed before making an attempt. */
  error?: string;
  notice?: NoticeView;
  insertTargets: InsertTarget[];
  canRefine: boolean;
  lead: LeadAction;
  trusted: boolean;
  /** The live loop: the code's editor is open and saves re-render. */
  live: boolean;
}

/** Host actions a notice button or panel button may ask for. */
export type HostAction = 'configureEndpoint' | 'chooseModel' | 'setApiKey' | 'selectPython' | 'showLog' | 'trustWorkspace' | 'reconstruct' | 'useOffline';

// ── webview → host ────────────────────────────────────────────────────────────

export type PanelRequest =
  | { kind: 'openCode'; attempt?: number }
  | { kind: 'rerender' }
  | { kind: 'saveCode' }
  | { kind: 'export'; format: ExportFormat }
  | { kind: 'refine' }
  | { kind: 'copyCaption' }
  | { kind: 'insertCaption'; target: InsertTarget }
  | { kind: 'showAttempt'; attempt: number }
  | { kind: 'action'; action: HostAction };

export type PanelRequestKind = PanelRequest['kind'];

export type WebviewMessage =
  | { type: 'ready' }
  | { type: 'cancel' }
  | { type: 'request'; id: number; request: PanelRequest };

// ── host → webview ────────────────────────────────────────────────────────────

export interface ProgressView {
  stage: string;
  message: string;
  tokens: number;
  elapsedMs: number;
}

export type HostMessage =
  | { type: 'view'; view: PanelView }
  | { type: 'progress'; progress: ProgressView }
  /** The host has the request and will answer it, however long the work takes (a Refine may run for many minutes). */
  | { type: 'accepted'; id: number }
  | { type: 'response'; id: number; ok: true; message?: string }
  | { type: 'response'; id: number; ok: false; error: string };

/** State the webview keeps with `setState`; the serializer reads `imagePath` to restore the panel. */
export interface WebviewState {
  imagePath: string;
  mode: ViewMode;
  /** 0 = fit; otherwise the scale (1 = 1:1). */
  zoom: number;
  panX: number;
  panY: number;
  opacity: number;
  swipe: number;
  /** An attempt compared with the one shown, in place of the original (A against B); absent: the original. */
  compareWith?: number;
}

export function defaultWebviewState(imagePath: string): WebviewState {
  return { imagePath, mode: 'side', zoom: 0, panX: 0, panY: 0, opacity: 0.5, swipe: 0.5 };
}

/** Compile-time exhaustiveness for `switch` statements over the unions above. */
export function assertNever(value: never): never {
  throw new Error(`Unexpected message: ${JSON.stringify(value)}`);
}

// ── validation of what crosses the boundary ───────────────────────────────────

const requestKinds: Record<PanelRequestKind, true> = {
  openCode: true,
  rerender: true,
  saveCode: true,
  export: true,
  refine: true,
  copyCaption: true,
  insertCaption: true,
  showAttempt: true,
  action: true,
};

const hostActions: Record<HostAction, true> = {
  configureEndpoint: true,
  chooseModel: true,
  setApiKey: true,
  selectPython: true,
  showLog: true,
  trustWorkspace: true,
  reconstruct: true,
  useOffline: true,
};

const insertTargets: Record<InsertTarget, true> = { altText: true, notebook: true, notebookCode: true, latexCaption: true };

/** A message from the webview checked field by field; undefined when it is not one we understand. */
export function parseWebviewMessage(data: unknown): WebviewMessage | undefined {
  if (!isRecord(data)) return undefined;
  switch (data.type) {
    case 'ready':
      return { type: 'ready' };
    case 'cancel':
      return { type: 'cancel' };
    case 'request': {
      if (!Number.isSafeInteger(data.id)) return undefined;
      const request = parsePanelRequest(data.request);
      return request ? { type: 'request', id: data.id as number, request } : undefined;
    }
    default:
      return undefined;
  }
}

function parsePanelRequest(data: unknown): PanelRequest | undefined {
  if (!isRecord(data) || typeof data.kind !== 'string' || !Object.hasOwn(requestKinds, data.kind)) return undefined;
  const kind = data.kind as PanelRequestKind;
  switch (kind) {
    case 'openCode':
      if (data.attempt === undefined) return { kind };
      return isIndex(data.attempt) ? { kind, attempt: data.attempt } : undefined;
    case 'showAttempt':
      return isIndex(data.attempt) ? { kind, attempt: data.attempt } : undefined;
    case 'insertCaption':
      return typeof data.target === 'string' && Object.hasOwn(insertTargets, data.target) ? { kind, target: data.target as InsertTarget } : undefined;
    case 'action':
      return typeof data.action === 'string' && Object.hasOwn(hostActions, data.action) ? { kind, action: data.action as HostAction } : undefined;
    case 'export':
      return data.format === 'svg' || data.format === 'pdf' ? { kind, format: data.format } : undefined;
    case 'rerender':
    case 'saveCode':
    case 'refine':
    case 'copyCaption':
      return { kind };
    default:
      return assertNever(kind);
  }
}

/** Restored webview state, with defaults for anything missing or malformed. */
export function parseWebviewState(data: unknown): WebviewState | undefined {
  if (!isRecord(data) || typeof data.imagePath !== 'string' || !data.imagePath) return undefined;
  const base = defaultWebviewState(data.imagePath);
  const mode = viewModes.includes(data.mode as ViewMode) ? (data.mode as ViewMode) : base.mode;
  return {
    imagePath: data.imagePath,
    mode,
    zoom: finiteIn(data.zoom, 0, 64) ?? base.zoom,
    panX: finiteIn(data.panX, -1e6, 1e6) ?? base.panX,
    panY: finiteIn(data.panY, -1e6, 1e6) ?? base.panY,
    opacity: finiteIn(data.opacity, 0, 1) ?? base.opacity,
    swipe: finiteIn(data.swipe, 0, 1) ?? base.swipe,
    ...(isIndex(data.compareWith) ? { compareWith: data.compareWith } : {}),
  };
}

function isIndex(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function finiteIn(value: unknown, min: number, max: number): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max ? value : undefined;
}

// ── requests with an id: acknowledged at once, answered when done ─────────────

export class RequestTimeoutError extends Error {
  override readonly name = 'RequestTimeoutError';
}

interface Pending {
  resolve(message: string | undefined): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * The sending side of requests: numbers them, posts them, and settles each when its response arrives.
 * The host acknowledges a request as soon as it has it (`accepted`); only a request that nobody acknowledges
 * within the timeout is rejected. Accepted work has no deadline on this side: it shows progress, the user
 * can cancel it, and the host always answers it (with `cancelled` when it was cancelled).
 */
export class RequestTracker {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(
    private readonly post: (message: WebviewMessage) => void,
    private readonly timeoutMs = 30_000,
  ) {}

  send(request: PanelRequest, timeoutMs = this.timeoutMs): Promise<string | undefined> {
    const id = this.nextId++;
    return new Promise<string | undefined>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RequestTimeoutError(`The host did not take "${request.kind}" within ${Math.round(timeoutMs / 1000)} s.`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      try {
        this.post({ type: 'request', id, request });
      } catch (error) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  /** The host has the request: from now on it waits for the answer without a deadline. */
  accepted(id: number): boolean {
    const entry = this.pending.get(id);
    if (!entry) return false;
    clearTimeout(entry.timer);
    entry.timer = undefined;
    return true;
  }

  /** Settles the request a response belongs to; false when no request waits for it (late or unknown). */
  settle(message: Extract<HostMessage, { type: 'response' }>): boolean {
    const entry = this.pending.get(message.id);
    if (!entry) return false;
    clearTimeout(entry.timer);
    this.pending.delete(message.id);
    if (message.ok) entry.resolve(message.message);
    else entry.reject(new Error(message.error));
    return true;
  }

  get size(): number {
    return this.pending.size;
  }

  dispose(): void {
    for (const [id, entry] of this.pending) {
      clearTimeout(entry.timer);
      entry.reject(new Error(`Request ${id} abandoned: the panel closed.`));
    }
    this.pending.clear();
  }
}
