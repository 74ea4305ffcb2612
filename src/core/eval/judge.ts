// The STEM2Code-Eval image-score judge: a second model grades a render against the reference on a 100-point rubric.
import type { ChatMessage, ModelClient, ModelImage, Renderer, TokenUsage } from '../types';
import { throwIfAborted } from '../errors';
import { prepareForModel, readImage } from '../reconstruct/input';

export interface RubricCriterion {
  name: string;
  points: number;
  asks: string;
}

/** DESIGN.md §4: the published rubric's criteria and weights. */
export const imageRubric: readonly RubricCriterion[] = [
  {
    name: 'Geometric & structural completeness',
    points: 30,
    asks: 'every shape, line, curve, point, axis, panel and structural element of the reference is present, none missing and none invented',
  },
  {
    name: 'Positional & relational accuracy',
    points: 30,
    asks: 'elements sit at the right positions and keep their relations: intersections, tangency, parallel and perpendicular lines, proportions, scales, axis ranges',
  },
  { name: 'Text & annotation fidelity', points: 10, asks: 'labels, numbers, titles, legends and mathematical notation match the reference exactly' },
  { name: 'Visual & stylistic consistency', points: 20, asks: 'colours, line styles and widths, markers, fills and overall look match' },
  { name: 'Clarity & legibility', points: 10, asks: 'the generated image is clean and readable: no overlaps, clipping or illegible text' },
];

export interface JudgeVerdict {
  /** 0–100, or null when the reply carried no `Score: N/100`. */
  score: number | null;
  reply: string;
  usage: TokenUsage;
  seconds: number;
}

/** The judge request: rubric text, then the reference image and the generated image, each labelled, always in that order. */
export function buildJudgeMessages(reference: ModelImage, generated: ModelImage): ChatMessage[] {
  const criteria = imageRubric.map((c, i) => `${i + 1}. ${c.name} (${c.points} points): ${c.asks}.`).join('\n');
  return [
    { role: 'system', content: 'You are a strict, impartial grader of reproduced scientific figures.' },
    {
      role: 'user',
      content: [
        {
          type: 'text',
          text: [
            'Grade how faithfully the generated image reproduces the reference image, on a 100-point rubric.',
            '',
            criteria,
            '',
            'Judge only what is visible. Give each criterion a score up to its points with one short reason, then the total.',
            'End your answer with one line exactly in the form: Score: N/100',
          ].join('\n'),
        },
        { type: 'text', text: 'Image 1 — the REFERENCE image:' },
        { type: 'image_url', image_url: { url: reference.dataUrl } },
        { type: 'text', text: 'Image 2 — the GENERATED image (the render to grade):' },
        { type: 'image_url', image_url: { url: generated.dataUrl } },
      ],
    },
  ];
}

/** The last `Score: N/100` in a reply (judges often restate the total), clamped to [0, 100]; undefined when absent. */
export function parseJudgeScore(reply: string): number | undefined {
  const pattern = /score\s*[:：]?\s*\**\s*(\d{1,3}(?:\.\d+)?)\s*\**\s*\/\s*100/gi;
  let found: number | undefined;
  for (const match of reply.matchAll(pattern)) found = Number(match[1]);
  if (found === undefined || !Number.isFinite(found)) return undefined;
  return Math.min(100, Math.max(0, found));
}

/** Asks the judge model to grade `generatedPng` against `referencePath`. Endpoint errors propagate. */
export async function judgeImages(
  judge: ModelClient,
  opts: { referencePath: string; generatedPng: string; renderer: Pick<Renderer, 'convertImage'>; workDir: string; signal?: AbortSignal },
): Promise<JudgeVerdict> {
  const reference = await prepareForModel(await readImage(opts.referencePath), opts.renderer, opts.workDir, opts.signal);
  const generated = await prepareForModel(await readImage(opts.generatedPng), opts.renderer, opts.workDir, opts.signal);
  throwIfAborted(opts.signal);
  const t0 = Date.now();
  // The generic preset: the judge is any capable vision model, not necessarily a vLLM server.
  const [reply] = await judge.chat({ messages: buildJudgeMessages(reference, generated), preset: 'generic', signal: opts.signal });
  const text = reply?.text ?? '';
  return {
    score: parseJudgeScore(text) ?? null,
    reply: text,
    usage: reply?.usage ?? { promptTokens: 0, completionTokens: 0 },
    seconds: Math.round(Date.now() - t0) / 1000,
  };
}
