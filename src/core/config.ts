// Where the command line and the extension find their endpoint, model and key, and the choices both offer.
import type { EndpointConfig } from './types';
import { RefigureError } from './errors';

/** How strictly renders are isolated (`--sandbox`, `refigure.sandbox`). */
// `none` is the explicit opt-in to render with no kernel-enforced layer; `require-isolation` is `auto` by its older name.
export const sandboxModes = ['auto', 'require-isolation', 'none'] as const;
export type SandboxMode = (typeof sandboxModes)[number];

export interface EndpointSources {
  endpoint?: string;
  model?: string;
  apiKey?: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** The endpoint to use, or undefined when none is configured (the offline provider is used then). */
export function resolveEndpoint(sources: EndpointSources): EndpointConfig | undefined {
  const env = sources.env ?? process.env;
  const baseURL = nonEmpty(sources.endpoint) ?? nonEmpty(env.REFIGURE_ENDPOINT) ?? nonEmpty(env.OPENAI_BASE_URL);
  if (!baseURL) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(baseURL);
  } catch {
    throw new RefigureError('usage', `The endpoint "${baseURL}" is not a URL.`, 'Give the base URL of an OpenAI-compatible API, e.g. http://127.0.0.1:8000/v1.');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new RefigureError('usage', `The endpoint "${baseURL}" must use http or https.`);
  }
  const model = nonEmpty(sources.model) ?? nonEmpty(env.REFIGURE_MODEL) ?? '';
  const apiKey = nonEmpty(sources.apiKey) ?? nonEmpty(env.REFIGURE_API_KEY) ?? nonEmpty(env.OPENAI_API_KEY);
  return { baseURL: baseURL.replace(/\/+$/, ''), model, apiKey, timeoutMs: sources.timeoutMs };
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/**
 * Fills in the model name when none was given and the endpoint serves exactly one (as a vLLM
 * server of one checkpoint does); otherwise says which models there are.
 */
export async function completeModel(
  config: EndpointConfig,
  listModels: (config: EndpointConfig) => Promise<string[]>,
  howToName = 'Name one with --model or REFIGURE_MODEL.',
): Promise<EndpointConfig> {
  if (config.model) return config;
  const models = await listModels(config);
  if (models.length === 1 && models[0]) return { ...config, model: models[0] };
  throw new RefigureError(
    'usage',
    models.length
      ? `No model named; ${config.baseURL} serves ${models.length}: ${models.join(', ')}.`
      : `No model named, and ${config.baseURL} lists none.`,
    howToName,
    { code: 'model-unnamed' },
  );
}
