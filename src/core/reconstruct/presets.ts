// Presets: the prompt and sampling parameters sent for a reconstruction (DESIGN.md §3).
import type { ChatMessage, ModelImage, PresetName } from '../types';

export interface Sampling {
  temperature: number;
  topP?: number;
  presencePenalty?: number;
  maxTokens: number;
  /**
   * Parameters outside the OpenAI schema that vLLM and SGLang read from the request body
   * (e.g. `top_k`); sent as-is, so only presets aimed at those servers carry them.
   */
  extraBody?: Record<string, number>;
}

export interface Preset {
  name: PresetName;
  description: string;
  system?: string;
  instruction: string;
  sampling: Sampling;
}

// The STEM2Code-Eval prompt and parameters, verbatim (including its grammar), because
// CodePercept checkpoints were trained and scored against exactly this text.
const codepercept: Preset = {
  name: 'codepercept',
  description: 'The published STEM2Code-Eval prompt and sampling, for CodePercept / Qwen-VL checkpoints on vLLM or SGLang.',
  system: 'You are an useful assistant.',
  instruction:
    'You are an expert Python developer who specializes in writing matplotlib code based on a given picture. Now, please give me the matplotlib code that reproduces the picture below.',
  sampling: {
    temperature: 0.7,
    topP: 0.8,
    presencePenalty: 1.5,
    maxTokens: 32768,
    extraBody: { top_k: 20 },
  },
};

const generic: Preset = {
  name: 'generic',
  description: 'A careful prompt for any vision model (OpenAI, Ollama, LM Studio, …); standard parameters only.',
  system:
    'You are an expert in scientific figures and in Python plotting with matplotlib. You reproduce figures exactly as drawn and never invent content.',
  instruction: [
    'Write ONE self-contained Python script that uses matplotlib (numpy allowed) to redraw the figure in the image below as exactly as possible.',
    '',
    'Reproduce:',
    '- the layout: panels, axes, their positions and aspect ratio, axis limits, ticks and grid, or no axes at all when the figure has none;',
    '- every shape, point, line and curve at its coordinates, with the right line styles, widths, markers, arrows and fills;',
    '- every piece of text exactly as written: labels, numbers, titles, legends, annotations, mathematical notation (use mathtext such as $\\alpha$);',
    '- the colours (use hex codes when they are not plain black).',
    '',
    'Rules:',
    '- set the figure size so its aspect ratio matches the image (figsize in inches, e.g. width/100 by height/100 for a dpi of 100);',
    '- do not read or write any files other than an optional savefig, do not use the network, and do not rely on plt.show();',
    '- use only matplotlib, numpy and the Python standard library;',
    '- answer with a short sentence and then the whole script in a single ```python fenced block.',
  ].join('\n'),
  sampling: {
    temperature: 0.2,
    maxTokens: 8192,
  },
};

const presets: Record<PresetName, Preset> = { codepercept, generic };

export const presetNames: readonly PresetName[] = ['codepercept', 'generic'];

export function isPresetName(value: string): value is PresetName {
  return (presetNames as readonly string[]).includes(value);
}

export function getPreset(name: PresetName): Preset {
  return presets[name];
}

export function samplingFor(preset: PresetName): Sampling {
  const { sampling } = presets[preset];
  return { ...sampling, extraBody: sampling.extraBody ? { ...sampling.extraBody } : undefined };
}

/** The messages asking the model for code that redraws `image`: instruction text first, then the image. */
export function buildReconstructMessages(preset: PresetName, image: ModelImage): ChatMessage[] {
  const { system, instruction } = presets[preset];
  const messages: ChatMessage[] = [];
  if (system) messages.push({ role: 'system', content: system });
  messages.push({
    role: 'user',
    content: [
      { type: 'text', text: instruction },
      { type: 'image_url', image_url: { url: image.dataUrl } },
    ],
  });
  return messages;
}
