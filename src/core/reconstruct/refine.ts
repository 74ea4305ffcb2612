// The rule for the best attempt, and what a repair or refine round asks the model (the loop is the session's).
import type { Attempt, ChatContent, ChatMessage, Difference, Metrics, ModelImage, PresetName, ReconstructionResult, RenderOutcome } from '../types';
import { confidentText, confidentTextDifferences } from '../fidelity/differences';
import { getPreset } from './presets';

/** Fidelity at which refinement stops unless told otherwise. */
export const defaultTarget = 0.95;
/** A refine round that gains less fidelity than this over the best so far ends the loop. */
export const defaultMinGain = 0.005;

/** The `render` block of a result, from the render of the attempt the user gets. */
export function renderSummary(render: RenderOutcome): ReconstructionResult['render'] {
  return {
    ok: render.ok,
    png: render.png ?? null,
    diff: render.diffPng ?? null,
    error: render.error ?? null,
    seconds: render.seconds,
    sandbox: render.sandbox,
  };
}

/** The attempt the user gets: the highest fidelity among those that rendered; else the first. */
export function bestAttempt(attempts: readonly Attempt[]): Attempt | undefined {
  let best: Attempt | undefined;
  for (const attempt of attempts) {
    if (!best) best = attempt;
    else if (attempt.render.ok && (!best.render.ok || (attempt.metrics?.fidelity ?? 0) > (best.metrics?.fidelity ?? 0))) best = attempt;
  }
  return best;
}

const replyFormat = 'Answer with the whole corrected script in one ```python fenced block.';

/** A repair request: the original, the code that failed, its error and the lines around the failure. */
export function buildRepairMessages(preset: PresetName, original: ModelImage, failed: Attempt): ChatMessage[] {
  const error = failed.render.error;
  const parts: string[] = [
    'The matplotlib code below was written to reproduce the picture below, but it did not render.',
    '',
    'Code:',
    fence(failed.code),
    '',
    `Error (${error?.kind ?? 'unknown'}): ${error?.message ?? 'the code did not render'}`,
  ];
  if (error?.traceback) parts.push('', 'Traceback:', fence(clip(error.traceback, 4000), ''));
  const excerpt = error?.line ? failingLines(failed.code, error.line) : undefined;
  if (excerpt) parts.push('', `The failing lines (line ${error?.line} marked with >>):`, fence(excerpt, ''));
  parts.push('', 'Fix the code so that it runs and still reproduces the picture. ' + replyFormat);
  return withSystem(preset, [
    { type: 'text', text: parts.join('\n') },
    { type: 'text', text: 'The picture:' },
    { type: 'image_url', image_url: { url: original.dataUrl } },
  ]);
}

/** A refine request: original, render and diff heat map in a labelled order, then the code and its figures. */
export function buildRefineMessages(
  preset: PresetName,
  original: ModelImage,
  current: Attempt,
  images: { render: ModelImage; diff?: ModelImage },
  target: number,
): ChatMessage[] {
  const content: ChatContent[] = [
    { type: 'text', text: 'You wrote matplotlib code to reproduce a picture. Compare its render with the original and improve the code.' },
    { type: 'text', text: 'Image 1 — the original picture:' },
    { type: 'image_url', image_url: { url: original.dataUrl } },
    { type: 'text', text: 'Image 2 — the render of your current code:' },
    { type: 'image_url', image_url: { url: images.render.dataUrl } },
  ];
  if (images.diff) {
    content.push(
      {
        type: 'text',
        text: 'Image 3 — difference heat map: red = in the original but missing from the render; blue = drawn in the render but not in the original; orange = drawn in both but in clearly different colours; light gray = matching.',
      },
      { type: 'image_url', image_url: { url: images.diff.dataUrl } },
    );
  }
  content.push({
    type: 'text',
    text: [
      'Your current code:',
      fence(current.code),
      '',
      `Its figures (1 = identical): ${describeMetrics(current.metrics)}; target fidelity ${target}.`,
      ...differenceLines(current.differences),
      '',
      'Make the render match the original; keep what already matches. Fix positions, sizes, missing or extra elements, text and colours. ' + replyFormat,
    ].join('\n'),
  });
  return withSystem(preset, content);
}

/**
 * Whether refinement may stop at an attempt: it rendered, reached the target fidelity, and no confident
 * text difference remains (a wrong label is not fixed by better pixels).
 */
export function reachedTarget(attempt: Attempt, target: number): boolean {
  return attempt.render.ok && (attempt.metrics?.fidelity ?? 0) >= target && confidentTextDifferences(attempt.differences).length === 0;
}

/** The differences in words with positions (the original's pixels), text first: what a refine request tells the model. */
export function describeDifferences(differences: readonly Difference[] | undefined, limit = 12): string[] {
  const at = (box: [number, number, number, number]) => `(${Math.round(box[0] + box[2] / 2)}, ${Math.round(box[1] + box[3] / 2)}) px`;
  const quote = (text: string | undefined) => `'${(text ?? '').replace(/\s+/g, ' ').slice(0, 80)}'`;
  const lines: string[] = [];
  for (const d of differences ?? []) {
    switch (d.kind) {
      case 'text-different':
        if ((d.confidence ?? 0) >= confidentText) lines.push(`the original reads ${quote(d.original)} at ${at(d.box)}; your redraw reads ${quote(d.redraw)}`);
        break;
      case 'text-missing':
        if ((d.confidence ?? 0) >= confidentText) lines.push(`missing: label ${quote(d.original)} near ${at(d.box)}`);
        break;
      case 'text-extra':
        if ((d.confidence ?? 0) >= confidentText) lines.push(`extra: your redraw shows ${quote(d.redraw)} at ${at(d.box)}, which the original does not`);
        break;
      case 'missing-ink':
        lines.push(`missing ink: something drawn in the original around ${at(d.box)} (${Math.round(d.box[2])} × ${Math.round(d.box[3])} px) is not in your render`);
        break;
      case 'extra-ink':
        lines.push(`extra ink: your render draws something around ${at(d.box)} (${Math.round(d.box[2])} × ${Math.round(d.box[3])} px) that the original does not`);
        break;
      case 'colour':
        lines.push(`colour: around ${at(d.box)} (${Math.round(d.box[2])} × ${Math.round(d.box[3])} px) your render uses a clearly different colour`);
        break;
    }
  }
  return lines.slice(0, limit);
}

function differenceLines(differences: readonly Difference[] | undefined): string[] {
  const lines = describeDifferences(differences);
  if (!lines.length) return [];
  const text = confidentTextDifferences(differences).length;
  return [
    '',
    `Where the render differs from the original (positions in the original's pixels, x from the left, y from the top)${text ? `; fix the text first, ${text} label(s) differ` : ''}:`,
    ...lines.map((l) => `- ${l}`),
  ];
}

/** The failing line with two lines of context either side, numbered as in the code. */
export function failingLines(code: string, line: number, context = 2): string | undefined {
  const lines = code.split('\n');
  if (line < 1 || line > lines.length) return undefined;
  const from = Math.max(1, line - context);
  const to = Math.min(lines.length, line + context);
  const width = String(to).length;
  const out: string[] = [];
  for (let n = from; n <= to; n++) out.push(`${n === line ? '>>' : '  '} ${String(n).padStart(width)} | ${lines[n - 1] ?? ''}`);
  return out.join('\n');
}

function describeMetrics(metrics: Metrics | undefined): string {
  if (!metrics) return 'not measured';
  return `fidelity ${fmt(metrics.fidelity)}, SSIM ${fmt(metrics.ssim)}, edge F1 ${fmt(metrics.edgeF1)}, pixel match ${fmt(metrics.pixelMatch)}, colour distance ${fmt(metrics.colorDistance)} (0 = same colours)`;
}

function withSystem(preset: PresetName, content: ChatContent[]): ChatMessage[] {
  const { system } = getPreset(preset);
  const messages: ChatMessage[] = [];
  if (system) messages.push({ role: 'system', content: system });
  messages.push({ role: 'user', content });
  return messages;
}

function fence(code: string, lang = 'python'): string {
  return `\`\`\`${lang}\n${code.replace(/\s+$/, '')}\n\`\`\``;
}

function clip(text: string, max: number): string {
  return text.length > max ? `…${text.slice(text.length - max)}` : text;
}

function fmt(value: number | undefined): string {
  return value === undefined ? 'n/a' : value.toFixed(3);
}
