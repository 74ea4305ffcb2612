// The shapes every part of Refigure shares: images, model replies, renders, figures, results.

export type ImageFormat = 'png' | 'jpeg' | 'gif' | 'bmp' | 'webp' | 'svg';

/** What `input` learned about an image file from its bytes. */
export interface ImageInfo {
  path: string;
  format: ImageFormat;
  /** Media type matching the bytes, e.g. `image/png`. */
  mediaType: string;
  width: number;
  height: number;
  bytes: number;
}

/** An image ready for the model: a data URL whose media type matches its bytes. */
export interface ModelImage {
  dataUrl: string;
  mediaType: string;
  width: number;
  height: number;
  /** True when the image was downscaled (smart resize) or re-encoded for the model. */
  resized: boolean;
}

/** The deterministic fidelity figures (DESIGN.md §4), each in [0, 1] except `colorDistance` (0 = same colours). */
export interface Metrics {
  fidelity: number;
  ssim: number;
  pixelMatch: number;
  edgeF1: number;
  colorDistance: number;
  /**
   * Agreement of the original's text (OCR) with the redraw's (exact), 0–1 (`textMatch.ts`); absent when the
   * original's text was not read. When the original has text it is folded into `fidelity` (`differences.ts`).
   */
  textF1?: number;
  /** The composite of the pixel figures alone, before text was folded in; absent when nothing was folded. */
  pixelFidelity?: number;
}

/** A connected region of the difference map (python/refigure_compare.py `difference_regions`). */
export interface DiffRegion {
  kind: 'missing-ink' | 'extra-ink' | 'colour';
  /** [x, y, width, height] in the original's pixels. */
  box: [number, number, number, number];
  /** The box's share of the image, 0–1. */
  area: number;
  /** The differing pixels' share of the image, 0–1. */
  ink: number;
}

/** One way the redraw differs from the original; boxes are [x, y, width, height] in the original's pixels. */
export type Difference =
  | { kind: 'text-different' | 'text-missing' | 'text-extra'; original?: string; redraw?: string; box: [number, number, number, number]; confidence?: number }
  | { kind: 'missing-ink' | 'extra-ink' | 'colour'; box: [number, number, number, number]; area: number };

/** The judgement of an attempt drawn from its figures and differences; callers decide on `code`. */
export interface Verdict {
  code: 'close' | 'close-text-differs' | 'partial' | 'different' | 'failed';
  textDifferences: number;
}

export type RenderErrorKind =
  | 'exception' // the code raised
  | 'syntax' // the code does not parse
  | 'timeout' // ran longer than the limit
  | 'memory' // exceeded the memory limit
  | 'blocked' // the sandbox refused something (network, subprocess, write outside scratch …)
  | 'exit' // the code called sys.exit / os._exit or the process died
  | 'no-figure' // nothing was drawn
  | 'refused' // rendering refused before running (untrusted workspace, isolation required but unavailable)
  | 'cancelled'
  | 'worker'; // the render service itself failed

export interface RenderError {
  kind: RenderErrorKind;
  /** One line a user can act on, e.g. "the code ran longer than 30 s". */
  message: string;
  /** Python traceback, with line numbers of the model's code. */
  traceback?: string;
  /** 1-based line of the model's code where it failed, when known. */
  line?: number;
}

/**
 * Which isolation layer a render ran under (DESIGN.md §5). `bwrap`: bubblewrap namespaces, with Landlock and
 * seccomp in the child; `landlock`: Landlock, seccomp and no_new_privs in the child; `seatbelt`: macOS
 * sandbox-exec; `none`: no kernel-enforced layer, only when the user opted in.
 */
export type SandboxLayer = 'bwrap' | 'landlock' | 'seatbelt' | 'none';

/** How a render service chooses its layer: the strongest available (`auto`), one in particular, or `none` (opt-in). */
export type SandboxMode = 'auto' | 'require-isolation' | 'bwrap' | 'landlock' | 'none';

export interface RenderOutcome {
  ok: boolean;
  /** Absolute path of the rendered PNG (in the output folder), when ok. */
  png?: string;
  /** Absolute path of the difference heat-map PNG, when compared. */
  diffPng?: string;
  width?: number;
  height?: number;
  error?: RenderError;
  /** Wall-clock seconds of the render (and compare when done in the same call). */
  seconds: number;
  sandbox: SandboxLayer;
  /** Captured stdout/stderr of the code, bounded. */
  output?: string;
  metrics?: Metrics;
  /** Compatibility shims the code needed (e.g. `boxplot-labels`), in the order they first fired. */
  compat?: string[];
  /** Every text the render paints, read from its artists, with boxes in the original's pixels. */
  texts?: RenderText[];
  /** Where the render differs from the original, largest first, when compared. */
  regions?: DiffRegion[];
  /** The figure's axes and plotting elements, when the request asked for `artists`. */
  artists?: FigureArtists;
  /** The vector export asked for (`<stem>.svg` or `<stem>.pdf` in the output folder), once checked. */
  export?: string;
  /** Why the export asked for is missing while the render itself succeeded. */
  exportError?: string;
}

/** A figure as its artists describe it (`python/refigure_artists.py`): what the reference-code figures compare. */
export interface FigureArtists {
  axes: ArtistAxes[];
  elements: ArtistElement[];
}

export interface ArtistAxes {
  /** [x0, y0, x1, y1] in figure fractions, y up. */
  box: [number, number, number, number];
  /** [nrows, ncols, first row, last row, first column, last column] of a subplot. */
  grid?: [number, number, number, number, number, number];
  kind?: string;
  xscale?: string;
  yscale?: string;
  xlim?: [number, number];
  ylim?: [number, number];
}

export interface ArtistElement {
  /** `line`, `patch:<class>`, `collection:<class>`, `text` or `image`. */
  type: string;
  /** Index into `axes`, or -1 for the figure itself. */
  axes: number;
  /** The plotting call that made it: elements sharing a number came from one call. */
  call: number;
  /** Distinct visible colours, RGB in [0, 1]. */
  colors: Array<[number, number, number]>;
  /** A line's first and last finite points, data units. */
  ends?: [number, number, number, number];
  /** A circle's centre and radius, data units. */
  circle?: [number, number, number];
}

/** One text a render paints: what a reader sees (mathtext turned into symbols) and where. */
export interface RenderText {
  text: string;
  /** [x, y, width, height] in output pixels, y from the top. */
  box: [number, number, number, number];
  /** Degrees counter-clockwise. */
  rotation: number;
  /** Points. */
  fontsize: number;
}

export interface RenderRequest {
  code: string;
  /** The original image: the render is made at (or fitted to) its pixel size and compared with it. */
  like?: { path: string; width: number; height: number };
  /** Where the PNG (and diff) go; `stem` names them: `<stem>.png`, `<stem>.diff.png`. */
  outDir: string;
  stem: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Also describe the figure's artists (`RenderOutcome.artists`); off by default, it costs a little per render. */
  artists?: boolean;
  /** Also save the figure as SVG or PDF, by matplotlib itself (`RenderOutcome.export`), for papers. */
  export?: ExportFormat;
}

export type ExportFormat = 'svg' | 'pdf';

/** The render service: warm workers, sandboxed children. Implemented in `render.ts`. */
export interface Renderer {
  render(request: RenderRequest): Promise<RenderOutcome>;
  /** Figures and diff for two existing images (no code run). */
  compare(original: string, rendered: string, diffPng?: string, signal?: AbortSignal): Promise<Metrics>;
  /**
   * Decode an image with Pillow (first frame, EXIF orientation applied, composited on white),
   * optionally resize it, and write it as PNG, JPEG or raw RGBA bytes (`rgba`: width*height*4).
   */
  convertImage(request: ConvertRequest): Promise<{ width: number; height: number; mediaType: string }>;
  close(): Promise<void>;
  /** Starts a worker ahead of the first render, e.g. while the model is still answering. */
  warm?(): void;
  /** Whether Python's own parser accepts `code` (a reply that may be bare code); runs nothing. */
  parses?(code: string, signal?: AbortSignal): Promise<boolean>;
}

export interface ConvertRequest {
  input: string;
  output: string;
  format: 'png' | 'jpeg' | 'rgba';
  width?: number;
  height?: number;
  signal?: AbortSignal;
}

export type PresetName = 'codepercept' | 'generic';
export type CaptionStyle = 'alt' | 'caption' | 'detailed';

export interface EndpointConfig {
  /** OpenAI-compatible base URL, e.g. `http://127.0.0.1:8000/v1`. */
  baseURL: string;
  model: string;
  apiKey?: string;
  /** Per-request timeout. */
  timeoutMs?: number;
  /** Retries for 429 / 5xx / connection errors (the client's own). */
  maxRetries?: number;
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

export interface ModelReply {
  text: string;
  usage: TokenUsage;
  seconds: number;
  finishReason?: string;
  /** The seed the request carried, when the endpoint took it (absent when none was sent or it was refused). */
  seed?: number;
}

export type ChatContent =
  | { type: 'text'; text: string }
  | { type: 'image_url'; image_url: { url: string } };

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string | ChatContent[];
}

export interface ChatRequest {
  messages: ChatMessage[];
  preset: PresetName;
  signal?: AbortSignal;
  /** Called as tokens arrive: the text so far and an approximate token count. */
  onDelta?: (textSoFar: string, tokens: number) => void;
  /** Ask for several choices in one request (the endpoint's `n`); replies come back in order. */
  n?: number;
  maxTokens?: number;
  /** Sent as the request's `seed` (vLLM, OpenAI), so the same request samples the same answer. */
  seed?: number;
}

export interface ModelClient {
  readonly config: EndpointConfig;
  chat(request: ChatRequest): Promise<ModelReply[]>;
}

export type AttemptKind = 'initial' | 'candidate' | 'repair' | 'refine' | 'edit';

/** One round, candidate or edit of a reconstruction; the history keeps every one. */
export interface Attempt {
  index: number;
  kind: AttemptKind;
  /** The attempt this one repaired, refined or edited. */
  from?: number;
  /** Who wrote the code: a model's name, `offline-trace`, or `user` for an edit. */
  author?: string;
  code: string;
  render: RenderOutcome;
  metrics?: Metrics;
  usage?: TokenUsage;
  /** The seed of the model request that wrote it, when the endpoint took one. */
  seed?: number;
  seconds: number;
  best: boolean;
  differences?: Difference[];
  verdict?: Verdict;
}

export type Provider = 'model' | 'offline';

export type Stage = 'input' | 'model' | 'extract' | 'render' | 'compare' | 'caption' | 'refine' | 'write' | 'done';

export type ProgressEvent =
  | { kind: 'stage'; stage: Stage; message: string }
  | { kind: 'tokens'; text: string; tokens: number; elapsedMs: number }
  | { kind: 'attempt'; attempt: Attempt };

/** Why a note was written; callers decide on the code, the message is for people. */
export type NoteCode =
  | 'offline' // the offline trace made the code, no model was asked
  | 'candidate-no-code' // a candidate reply had no code
  | 'caption-failed' // the caption request failed
  | 'caption-not-rendered' // no caption: nothing rendered to ground it in
  | 'refine-target' // refinement reached the target fidelity
  | 'refine-stalled' // the last round did not gain enough
  | 'refine-no-code' // the last refine reply had no code
  | 'refine-failed' // a refine round failed (endpoint)
  | 'earlier-best'; // an earlier attempt of the history is still the best

export interface Note {
  code: NoteCode;
  message: string;
  /** The attempt the note is about, when it is about one. */
  attempt?: number;
}

/** One reconstruction with its whole history: exactly what `refigure reconstruct --json` prints. */
export interface ReconstructionResult {
  version: 2;
  image: { path: string; width: number; height: number; format: ImageFormat };
  provider: Provider;
  model: string;
  endpoint?: string;
  preset?: PresetName;
  code: string;
  caption: string;
  altText: string;
  captionStyle: CaptionStyle;
  /** The attempt whose code the caption was grounded in. */
  captionAttempt: number | null;
  /** Who wrote the caption: a model, or the offline trace (which describes no content). */
  captionProvider: Provider | null;
  /** The attempt `code`, `render` and `metrics` describe: the one shown (the best unless the user chose or edited another). */
  shown: number;
  /** The attempt with the highest fidelity among those that rendered. */
  best: number;
  render: {
    ok: boolean;
    png: string | null;
    diff: string | null;
    error: RenderError | null;
    seconds: number;
    sandbox: SandboxLayer;
  };
  metrics: Metrics | null;
  /** The differences and verdict of the attempt shown. */
  differences?: Difference[];
  verdict?: Verdict;
  attempts: Attempt[];
  timings: Record<string, number>;
  /** Files written by the CLI (absolute paths). */
  outputs?: { code: string; png: string | null; diff: string | null; json: string };
  /** Notes of the last operation a user should see, e.g. that the offline trace was used. */
  notes: Note[];
}

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  debug(message: string): void;
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {}, debug() {} };
