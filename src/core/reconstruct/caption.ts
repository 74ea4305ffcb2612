// The code-grounded caption: the figure and the code that redrew it go to the model, a factual caption and alt text come back (DESIGN.md §3).
import { confidentTextDifferences } from '../fidelity/differences';
import { RefigureError } from '../errors';
import type { CaptionStyle, ChatMessage, ModelClient, ModelImage, ReconstructionResult, TokenUsage } from '../types';

export interface CaptionRequest {
  image: ModelImage;
  code: string;
  style: CaptionStyle;
  signal?: AbortSignal;
  onDelta?: (textSoFar: string, tokens: number) => void;
}

export interface CaptionResult {
  caption: string;
  altText: string;
  usage: TokenUsage;
}

/** Code longer than this is cut in the prompt; a figure script that long is mostly data tables. */
const maxCodeChars = 40_000;
const captionMaxTokens = 2048;

const system =
  'You describe scientific and technical figures precisely, for readers who cannot see them. You state only what the figure shows and never guess.';

export const captionStyles: readonly CaptionStyle[] = ['alt', 'caption', 'detailed'];

const styleInstructions: Record<CaptionStyle, string> = {
  alt: 'After "Caption:", write alt text: one or two sentences (at most about 50 words) that say what kind of figure it is and what it shows.',
  caption:
    'After "Caption:", write a figure caption: one paragraph of three to six sentences, in the style of a textbook or paper, covering the layout, the coordinate system and the labelled elements with their values.',
  detailed: [
    'After "Caption:", write a detailed structured description with these parts, each starting on its own line:',
    'Overview: what kind of figure it is and its overall layout.',
    'Coordinate system: axes, ranges, ticks and scales, or "none" for a diagram without axes.',
    'Elements: every drawn element with its exact count, position or coordinates, and style.',
    'Labels and values: every label, number and annotation exactly as written.',
  ].join('\n'),
};

/** The messages of a caption request: the instructions and the code, then the image. */
export function buildCaptionMessages(opts: { image: ModelImage; code: string; style: CaptionStyle }): ChatMessage[] {
  const code = opts.code.length > maxCodeChars ? `${opts.code.slice(0, maxCodeChars)}\n# … (cut)\n` : opts.code;
  const instruction = [
    'The image below is a figure. The Python (matplotlib) code that follows redraws it and ran successfully.',
    'Describe the figure factually: its overall layout, its coordinate system, exact counts of elements, and the labelled elements with their values.',
    'Take coordinates, counts, labels and numbers from the code rather than estimating them from the picture, and use the picture to confirm what is visible.',
    'Do not invent anything that neither shows; do not mention the code, Python or matplotlib; describe the figure itself.',
    '',
    styleInstructions[opts.style],
    'Then, after "Alt text:", write one sentence of alt text.',
    '',
    'Answer in exactly this format:',
    'Caption: <the caption>',
    'Alt text: <one sentence>',
    '',
    'The code:',
    '```python',
    code.replace(/\s+$/, ''),
    '```',
  ].join('\n');
  return [
    { role: 'system', content: system },
    {
      role: 'user',
      content: [
        { type: 'text', text: instruction },
        { type: 'image_url', image_url: { url: opts.image.dataUrl } },
      ],
    },
  ];
}

const captionLabel = /^[ \t]*(?:#{1,6}[ \t]*)?(?:\*\*|__)?[ \t]*(?:figure[ \t]+)?(?:caption|description)[ \t]*(?:\*\*|__)?[ \t]*:[ \t]*(?:\*\*|__)?/im;
const altLabel = /^[ \t]*(?:#{1,6}[ \t]*)?(?:\*\*|__)?[ \t]*alt(?:[ \t-]*text)?[ \t]*(?:\*\*|__)?[ \t]*:[ \t]*(?:\*\*|__)?/im;

/**
 * Caption and alt text out of a reply in the `Caption: … Alt text: …` format. A reply that ignores the
 * format still yields something: the whole reply as caption and its first sentence as alt text.
 */
export function parseCaptionReply(text: string): { caption: string; altText: string } {
  let body = text.replace(/\r\n?/g, '\n');
  const thought = body.lastIndexOf('</think>');
  if (thought >= 0) body = body.slice(thought + '</think>'.length);
  body = body.trim();

  const captionMatch = captionLabel.exec(body);
  const altMatch = altLabel.exec(body);
  let caption: string;
  let altText = '';
  if (altMatch) {
    altText = firstParagraph(body.slice(altMatch.index + altMatch[0].length));
    if (captionMatch && captionMatch.index < altMatch.index) caption = body.slice(captionMatch.index + captionMatch[0].length, altMatch.index);
    else if (captionMatch) caption = body.slice(captionMatch.index + captionMatch[0].length);
    else caption = body.slice(0, altMatch.index);
  } else {
    caption = captionMatch ? body.slice(captionMatch.index + captionMatch[0].length) : body;
  }
  caption = clean(caption);
  altText = clean(altText);
  if (!caption) caption = altText;
  if (!altText) altText = firstSentence(caption);
  return { caption, altText };
}

export async function requestCaption(client: ModelClient, opts: CaptionRequest): Promise<CaptionResult> {
  const messages = buildCaptionMessages(opts);
  // The generic preset's low temperature suits a factual description whatever model the endpoint serves.
  const replies = await client.chat({ messages, preset: 'generic', maxTokens: captionMaxTokens, signal: opts.signal, onDelta: opts.onDelta });
  const reply = replies[0];
  const parsed = reply ? parseCaptionReply(reply.text) : { caption: '', altText: '' };
  if (!reply || !parsed.caption) {
    throw new RefigureError('endpoint', 'The model returned an empty caption.', 'Try again, or try another model.');
  }
  return { ...parsed, usage: reply.usage };
}

function clean(text: string): string {
  return text
    .replace(/^\s*(?:\*\*|__)\s*/, '')
    .replace(/\s*(?:\*\*|__)\s*$/, '')
    .trim()
    .replace(/^(["“])([\s\S]*)(["”])$/, '$2')
    .trim();
}

function firstParagraph(text: string): string {
  return text.trim().split(/\n\s*\n/)[0] ?? '';
}

function firstSentence(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  // A sentence ends at . ! ? followed by a space and a capital, so "3.5" and "e.g. a" do not end one.
  const match = /^.*?[.!?](?=\s+[A-Z(“"])/.exec(flat);
  return (match ? match[0] : flat).trim();
}

/**
 * Whether a result's caption describes the figure, and so may be written into a user's document or
 * notebook: a model wrote it. The offline trace's caption only says that nothing was perceived, and it stays
 * the trace's even after a model later refined the code, until a model writes a new one.
 */
export function captionDescribesFigure(result: Pick<ReconstructionResult, 'captionProvider'>): boolean {
  return result.captionProvider === 'model';
}

/** Whether a caption may go into a document or notebook without a question, and why not. */
export interface CaptionGuard {
  /** True: ask the user (or, in the CLI, write nothing unless forced). */
  ask: boolean;
  code: 'text-agrees' | 'text-differs' | 'text-unread' | 'not-rendered';
  /** Confident text differences of the attempt the caption describes. */
  textDifferences: number;
  /** For people, e.g. "2 labels differ: the original reads '3 cm', the redraw '5 cm'". */
  reason: string;
}

/**
 * The caption guard: a caption is grounded in an attempt's code, so it states that attempt's labels and
 * values. It goes in without a question only when that attempt rendered and its text agrees with the
 * original's. The original's text unread (no OCR data) is not a disagreement: the caption goes in.
 */
export function captionGuard(result: Pick<ReconstructionResult, 'attempts' | 'captionAttempt' | 'shown'>): CaptionGuard {
  const attempt = result.attempts[result.captionAttempt ?? result.shown];
  if (!attempt?.render.ok) return { ask: true, code: 'not-rendered', textDifferences: 0, reason: 'the code the caption describes did not render' };
  const differing = confidentTextDifferences(attempt.differences);
  if (attempt.metrics?.textF1 === undefined && !differing.length) return { ask: false, code: 'text-unread', textDifferences: 0, reason: "the original's text was not read" };
  if (!differing.length) return { ask: false, code: 'text-agrees', textDifferences: 0, reason: "the redraw's text agrees with the original's" };
  const n = differing.length;
  const examples = differing.slice(0, 3).map((d) =>
    d.kind === 'text-different' ? `the original reads '${d.original}', the redraw '${d.redraw}'` : d.kind === 'text-missing' ? `'${d.original}' is missing` : `'${d.redraw}' is not in the original`,
  );
  return { ask: true, code: 'text-differs', textDifferences: n, reason: `${n} label${n === 1 ? '' : 's'} differ${n === 1 ? 's' : ''}: ${examples.join('; ')}${n > 3 ? '; …' : ''}` };
}
