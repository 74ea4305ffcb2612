// The chat client for any OpenAI-compatible endpoint: streaming, cancel, timeout, retries, `n` choices, and errors a user can act on.
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError, OpenAI } from 'openai';
import type { ChatCompletionChunk, ChatCompletionCreateParamsStreaming, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { cancelled, RefigureError } from '../errors';
import { samplingFor } from './presets';
import {
  silentLogger,
  type ChatMessage,
  type ChatRequest,
  type EndpointConfig,
  type Logger,
  type ModelClient,
  type ModelReply,
  type TokenUsage,
} from '../types';

export const defaultTimeoutMs = 600_000;
export const defaultMaxRetries = 2;
/** A reply longer than this is not a matplotlib script but a server or model gone astray. */
export const defaultMaxReplyChars = 2_000_000;
/** vLLM and Ollama need no key, but the client refuses to send none. */
const placeholderKey = 'EMPTY';
const modelListTimeoutMs = 10_000;

export interface ModelClientOptions {
  maxReplyChars?: number;
}

export function createModelClient(config: EndpointConfig, logger: Logger = silentLogger, options: ModelClientOptions = {}): ModelClient {
  const endpoint = checkConfig(config);
  const timeoutMs = endpoint.timeoutMs ?? defaultTimeoutMs;
  const maxReplyChars = options.maxReplyChars ?? defaultMaxReplyChars;
  const sdk = sdkClient(endpoint, logger, timeoutMs, endpoint.maxRetries ?? defaultMaxRetries);

  async function chat(request: ChatRequest): Promise<ModelReply[]> {
    if (request.signal?.aborted) throw cancelled();
    const n = Math.max(1, Math.floor(request.n ?? 1));
    const first = await once(request, n, request.onDelta);
    if (first.length >= n) return first.slice(0, n);

    // Some servers (Ollama, LM Studio) ignore `n`; the missing choices come from separate requests.
    const missing = n - first.length;
    logger.info(`The endpoint returned ${first.length} of ${n} choices; asking for ${missing} more in separate requests.`);
    // Each extra request gets its own seed: the same one would sample the first choice again.
    const settled = await Promise.allSettled(
      Array.from({ length: missing }, (_, k) => once({ ...request, seed: request.seed === undefined ? undefined : request.seed + 1 + k }, 1, undefined)),
    );
    const replies = [...first];
    for (const outcome of settled) {
      if (outcome.status === 'fulfilled') replies.push(...outcome.value);
      else if (outcome.reason instanceof RefigureError && outcome.reason.kind === 'cancelled') throw outcome.reason;
      else logger.warn(`An extra choice failed: ${errorText(outcome.reason)}`);
    }
    return replies;
  }

  async function once(request: ChatRequest, n: number, onDelta: ChatRequest['onDelta']): Promise<ModelReply[]> {
    const sampling = samplingFor(request.preset);
    const params: ChatCompletionCreateParamsStreaming & Record<string, unknown> = {
      model: endpoint.model,
      messages: request.messages.map(toSdkMessage),
      stream: true,
      stream_options: { include_usage: true },
      temperature: sampling.temperature,
      max_tokens: request.maxTokens ?? sampling.maxTokens,
      ...(sampling.topP !== undefined ? { top_p: sampling.topP } : {}),
      ...(sampling.presencePenalty !== undefined ? { presence_penalty: sampling.presencePenalty } : {}),
      ...(n > 1 ? { n } : {}),
      ...(request.seed !== undefined ? { seed: request.seed } : {}),
      ...sampling.extraBody,
    };
    logger.info(`POST ${endpoint.baseURL}/chat/completions model=${endpoint.model} preset=${request.preset} n=${n} ${describeMessages(request.messages)}`);

    const controller = new AbortController();
    const state = { timedOut: false, tooLarge: false };
    const timer = setTimeout(() => {
      state.timedOut = true;
      controller.abort();
    }, timeoutMs);
    const onAbort = (): void => controller.abort();
    request.signal?.addEventListener('abort', onAbort, { once: true });

    const started = performance.now();
    let firstTokenMs: number | undefined;
    const texts: string[] = [];
    const finish: Array<string | undefined> = [];
    const deltas: number[] = [];
    let totalChars = 0;
    let totalDeltas = 0;
    let usage: ChatCompletionChunk['usage'];
    let sawChunk = false;

    const fail = (error: unknown, phase: 'request' | 'stream'): Promise<never> => {
      if (state.tooLarge) {
        throw new RefigureError(
          'endpoint',
          `The endpoint's reply grew past ${maxReplyChars.toLocaleString('en-US')} characters; Refigure stopped reading it.`,
          'The model is probably repeating itself; try again, lower the maximum tokens, or use another preset.',
        );
      }
      if (state.timedOut) throw timeoutError(timeoutMs);
      if (request.signal?.aborted) throw cancelled();
      return mapError(error, endpoint, true, phase, totalChars);
    };

    // The body as finally sent: a refused parameter (say `seed`) is not in it.
    let sent: Record<string, unknown> = params;
    try {
      let stream: AsyncIterable<ChatCompletionChunk> | undefined;
      let body = params;
      for (let adapted = 0; !stream; adapted++) {
        try {
          stream = await untilAborted(sdk.chat.completions.create(body, { signal: controller.signal, timeout: timeoutMs }), controller.signal);
        } catch (error) {
          const next = adapted < maxAdaptations && !controller.signal.aborted ? adaptToRejection(error, body) : undefined;
          if (!next) return await fail(error, 'request');
          logger.warn(`The endpoint refused a parameter; sending again ${next.change}.`);
          body = next.body;
        }
      }
      sent = body;
      try {
        for await (const chunk of stream) {
          sawChunk = true;
          if (chunk.usage) usage = chunk.usage;
          let grew = false;
          for (const choice of chunk.choices ?? []) {
            const i = choice.index ?? 0;
            texts[i] ??= '';
            deltas[i] ??= 0;
            const piece = choice.delta?.content ?? '';
            if (piece) {
              texts[i] += piece;
              deltas[i]++;
              totalDeltas++;
              totalChars += piece.length;
              grew = true;
            }
            if (choice.finish_reason) finish[i] = choice.finish_reason;
          }
          if (totalChars > maxReplyChars) {
            state.tooLarge = true;
            controller.abort();
            break;
          }
          if (grew) {
            firstTokenMs ??= performance.now() - started;
            onDelta?.(texts[0] ?? '', totalDeltas);
          }
        }
      } catch (error) {
        return await fail(error, 'stream');
      }
      // The client ends a stream quietly when it is aborted, so an abort shows only in our flags.
      if (state.tooLarge || state.timedOut || request.signal?.aborted) return await fail(undefined, 'stream');
    } finally {
      clearTimeout(timer);
      request.signal?.removeEventListener('abort', onAbort);
    }

    const seconds = (performance.now() - started) / 1000;
    const indices = texts.map((_, i) => i).filter((i) => texts[i] !== undefined);
    if (!sawChunk || indices.length === 0) {
      throw new RefigureError(
        'endpoint',
        `The endpoint at ${endpoint.baseURL} returned no choices.`,
        'Check that the URL is an OpenAI-compatible API (usually ending in /v1) and that the model can answer chat requests.',
      );
    }
    const unfinished = indices.filter((i) => finish[i] === undefined);
    if (unfinished.length === indices.length) {
      throw new RefigureError(
        'endpoint',
        `The endpoint's stream ended mid-reply after ${totalChars} characters.`,
        'The server may have crashed or restarted; try again.',
      );
    }
    const complete = indices.filter((i) => finish[i] !== undefined);
    if (unfinished.length) logger.warn(`${unfinished.length} of ${indices.length} choices ended without a finish reason; dropped.`);

    const promptTokens = usage?.prompt_tokens ?? 0;
    const completionTokens = usage?.completion_tokens ?? totalDeltas;
    const replies = complete.map((i, k): ModelReply => {
      const share = totalDeltas > 0 ? (deltas[i] ?? 0) / totalDeltas : 1 / complete.length;
      const replyUsage: TokenUsage = {
        // The prompt is paid once per request, so it counts on the first reply only and sums stay exact.
        promptTokens: k === 0 ? promptTokens : 0,
        completionTokens: Math.round(completionTokens * share),
      };
      const reply: ModelReply = { text: texts[i] ?? '', usage: replyUsage, seconds, finishReason: finish[i] };
      if (typeof sent.seed === 'number') reply.seed = sent.seed;
      return reply;
    });
    const truncated = replies.filter((r) => r.finishReason === 'length').length;
    logger.info(
      `Reply in ${seconds.toFixed(2)} s (first token after ${((firstTokenMs ?? 0) / 1000).toFixed(2)} s): ` +
        `${replies.length} choice(s), ${totalChars} characters, ${promptTokens} prompt + ${completionTokens} completion tokens` +
        (usage ? '' : ' (no usage reported; completion counted in chunks)'),
    );
    if (truncated) logger.warn(`${truncated} choice(s) stopped at the token limit; their code may be cut off.`);
    return replies;
  }

  return { config: endpoint, chat };
}

/** How many refused sampling parameters one request may adapt to. */
const maxAdaptations = 3;
const droppable = new Set(['temperature', 'top_p', 'presence_penalty', 'top_k', 'stream_options', 'seed']);

/**
 * Some models (OpenAI's reasoning models) refuse `max_tokens` or non-default sampling with a 400 that
 * names the parameter; the request is sent again without it rather than failing the reconstruction.
 */
function adaptToRejection<T extends Record<string, unknown>>(error: unknown, body: T): { body: T; change: string } | undefined {
  if (!(error instanceof APIError) || error.status !== 400) return undefined;
  const message = serverMessage(error);
  const name = /Unsupported (?:parameter|value): '(\w+)'/i.exec(message)?.[1];
  if (!name || !(name in body)) return undefined;
  const next: Record<string, unknown> = { ...body };
  delete next[name];
  if (name === 'max_tokens' && /max_completion_tokens/.test(message)) {
    next['max_completion_tokens'] = body[name];
    return { body: next as T, change: 'with max_completion_tokens instead of max_tokens' };
  }
  if (!droppable.has(name)) return undefined;
  return { body: next as T, change: `without ${name}` };
}

/** The model names the endpoint serves (`GET /models`). */
export async function listModels(config: EndpointConfig, signal?: AbortSignal): Promise<string[]> {
  const endpoint = checkConfig(config, false);
  const timeoutMs = endpoint.timeoutMs ?? modelListTimeoutMs;
  const sdk = sdkClient(endpoint, silentLogger, timeoutMs, endpoint.maxRetries ?? defaultMaxRetries);
  try {
    const page = await sdk.models.list({ signal, timeout: timeoutMs });
    return page.data.map((m) => m.id);
  } catch (error) {
    if (signal?.aborted) throw cancelled();
    return mapError(error, endpoint, false, 'request', 0);
  }
}

function checkConfig(config: EndpointConfig, needModel = true): EndpointConfig {
  const baseURL = config.baseURL.trim().replace(/\/+$/, '');
  let url: URL | undefined;
  try {
    url = new URL(baseURL);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new RefigureError('usage', `"${config.baseURL}" is not an http(s) URL.`, 'Set the endpoint to an OpenAI-compatible base URL such as http://127.0.0.1:8000/v1.');
  }
  const model = config.model.trim();
  if (needModel && !model) {
    throw new RefigureError('usage', 'No model name is set.', 'Set the model to one the endpoint serves (its GET /models lists them).');
  }
  for (const [name, value] of [
    ['timeout', config.timeoutMs],
    ['retry count', config.maxRetries],
  ] as const) {
    if (value !== undefined && (!Number.isFinite(value) || value < 0)) {
      throw new RefigureError('usage', `The ${name} must be a non-negative number, not ${value}.`);
    }
  }
  return {
    ...config,
    baseURL,
    model,
    timeoutMs: config.timeoutMs === undefined ? undefined : Math.max(1, Math.ceil(config.timeoutMs)),
    maxRetries: config.maxRetries === undefined ? undefined : Math.floor(config.maxRetries),
  };
}

function sdkClient(endpoint: EndpointConfig, logger: Logger, timeoutMs: number, maxRetries: number): OpenAI {
  const forward =
    (log: (message: string) => void) =>
    (message: string, ...rest: unknown[]): void =>
      log(clip([message, ...rest.map((r) => (typeof r === 'string' ? r : safeJson(r)))].join(' '), 600));
  return new OpenAI({
    apiKey: endpoint.apiKey?.trim() || placeholderKey,
    baseURL: endpoint.baseURL,
    // Environment variables for OpenAI's own service must not leak into requests to another server.
    organization: null,
    project: null,
    timeout: timeoutMs,
    maxRetries,
    logLevel: 'warn',
    logger: { error: forward(logger.error), warn: forward(logger.warn), info: forward(logger.info), debug: forward(logger.debug) },
  });
}

function toSdkMessage(message: ChatMessage): ChatCompletionMessageParam {
  if (message.role === 'user') {
    if (typeof message.content === 'string') return { role: 'user', content: message.content };
    return {
      role: 'user',
      content: message.content.map((part) =>
        part.type === 'text' ? { type: 'text' as const, text: part.text } : { type: 'image_url' as const, image_url: { url: part.image_url.url } },
      ),
    };
  }
  const text = typeof message.content === 'string' ? message.content : message.content.map((p) => (p.type === 'text' ? p.text : '')).join('\n');
  return message.role === 'system' ? { role: 'system', content: text } : { role: 'assistant', content: text };
}

function describeMessages(messages: ChatMessage[]): string {
  let textChars = 0;
  let images = 0;
  let imageChars = 0;
  for (const m of messages) {
    if (typeof m.content === 'string') {
      textChars += m.content.length;
      continue;
    }
    for (const part of m.content) {
      if (part.type === 'text') textChars += part.text.length;
      else {
        images++;
        imageChars += part.image_url.url.length;
      }
    }
  }
  return `messages=${messages.length} text=${textChars} chars images=${images} (${imageChars} chars of data URL)`;
}

/** The client's retry pauses do not watch the signal, so a cancel or timeout must not wait for them. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new Error('aborted'));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

function timeoutError(timeoutMs: number): RefigureError {
  const seconds = timeoutMs >= 10_000 ? String(Math.round(timeoutMs / 1000)) : String(Math.round(timeoutMs / 100) / 10);
  return new RefigureError(
    'endpoint',
    `The endpoint did not answer within ${seconds} s.`,
    'Check that the server is running and not overloaded, or raise the timeout.',
  );
}

async function mapError(error: unknown, endpoint: EndpointConfig, lookUpModels: boolean, phase: 'request' | 'stream', charsSoFar: number): Promise<never> {
  const url = endpoint.baseURL;
  if (error instanceof RefigureError) throw error;
  if (error instanceof APIUserAbortError) throw cancelled();
  if (error instanceof APIConnectionTimeoutError) throw timeoutError(endpoint.timeoutMs ?? defaultTimeoutMs);
  if (error instanceof APIConnectionError) {
    const code = causeCode(error);
    if (code === 'ECONNREFUSED') {
      throw new RefigureError('endpoint', `No server at ${url}.`, 'Start the model server, or set the endpoint URL (setting refigure.endpoint, or REFIGURE_ENDPOINT).', { cause: error });
    }
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
      throw new RefigureError('endpoint', `The host of ${url} was not found.`, 'Check the endpoint URL and your network.', { cause: error });
    }
    const port = blockedPort(url);
    if (port !== undefined) {
      // fetch says only "bad port".
      throw new RefigureError('endpoint', `The endpoint ${url} uses port ${port}, which HTTP clients refuse to connect to.`, 'Serve the model on another port (e.g. 8000) and point the endpoint there (setting refigure.endpoint, or REFIGURE_ENDPOINT).', { cause: error, code: 'blocked-port' });
    }
    throw new RefigureError('endpoint', `Could not reach ${url}: ${causeText(error)}.`, 'Check the endpoint URL and that the server is running.', { cause: error });
  }
  if (error instanceof APIError && error.status !== undefined) {
    const detail = serverMessage(error);
    const status = error.status;
    if (status === 401 || status === 403) {
      throw new RefigureError(
        'endpoint',
        `The endpoint refused the API key (${status}${detail ? `: ${detail}` : ''}).`,
        endpoint.apiKey
          ? 'Check the API key (REFIGURE_API_KEY, or the command "Refigure: Set API Key").'
          : 'Set an API key (REFIGURE_API_KEY, or the command "Refigure: Set API Key").',
        { cause: error },
      );
    }
    if (status === 404) {
      let served: string[] | undefined;
      if (lookUpModels) {
        try {
          served = await listModels({ ...endpoint, timeoutMs: modelListTimeoutMs, maxRetries: 0 });
        } catch {
          served = undefined;
        }
      }
      if (served && !served.includes(endpoint.model)) {
        const list = served.length ? `It serves: ${served.join(', ')}.` : 'It lists no models.';
        throw new RefigureError('endpoint', `No model ${endpoint.model} at ${url}. ${list}`, 'Set the model to one of these.', { cause: error });
      }
      throw new RefigureError(
        'endpoint',
        served ? `The endpoint at ${url} answered 404 for chat completions${detail ? ` (${detail})` : ''}.` : `No model ${endpoint.model} at ${url}${detail ? ` (${detail})` : ''}.`,
        'Check the model name, and that the URL is the API base (usually ending in /v1).',
        { cause: error },
      );
    }
    if (status === 429) {
      throw new RefigureError('endpoint', `The endpoint is rate limiting requests (429${detail ? `: ${detail}` : ''}).`, 'Wait a little and try again, or send fewer requests at once.', { cause: error });
    }
    if (status >= 500) {
      throw new RefigureError('endpoint', `The endpoint failed with ${status}${detail ? `: ${detail}` : ''}.`, "Check the server's log, then try again.", { cause: error });
    }
    throw new RefigureError(
      'endpoint',
      `The endpoint rejected the request (${status}${detail ? `: ${detail}` : ''}).`,
      'Check that the model accepts images and these sampling parameters, or try the generic preset.',
      { cause: error },
    );
  }
  if (error instanceof APIError) {
    // An `error` event inside the stream: the server gave up mid-reply.
    throw new RefigureError('endpoint', `The endpoint reported an error mid-reply: ${serverMessage(error) || error.message}.`, "Check the server's log, then try again.", { cause: error });
  }
  if (error instanceof SyntaxError) {
    throw new RefigureError(
      'endpoint',
      `The endpoint at ${url} sent a reply that is not valid JSON.`,
      'Check that the URL is an OpenAI-compatible API (usually ending in /v1).',
      { cause: error },
    );
  }
  if (phase === 'stream') {
    throw new RefigureError('endpoint', `The endpoint's stream broke off mid-reply after ${charsSoFar} characters.`, 'The server may have crashed or restarted; try again.', { cause: error });
  }
  throw new RefigureError('endpoint', `The request to ${url} failed: ${errorText(error)}.`, 'Check the endpoint URL and that the server is running.', { cause: error });
}

function serverMessage(error: APIError): string {
  const body: unknown = error.error;
  if (body && typeof body === 'object' && 'message' in body && typeof body.message === 'string') return clip(body.message, 300);
  if (typeof body === 'string') return clip(body, 300);
  return '';
}

function causeCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    if (typeof e === 'object' && 'code' in e && typeof e.code === 'string' && e.code.startsWith('E')) return e.code;
    // Node's fetch may wrap the socket error in an AggregateError (IPv4 and IPv6 both refused).
    if (e instanceof AggregateError) {
      const inner = e.errors.map(causeCode).find((c) => c !== undefined);
      if (inner) return inner;
    }
    e = e instanceof Error ? e.cause : undefined;
  }
  return undefined;
}

function causeText(error: unknown): string {
  let deepest = error;
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; depth++, e = e.cause) deepest = e;
  return errorText(deepest);
}

function errorText(error: unknown): string {
  if (error instanceof Error) return error.message.replace(/\.$/, '');
  return String(error);
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** The port HTTP clients refuse to open (fetch's "bad port" list), when the endpoint uses one; else undefined. */
function blockedPort(endpoint: string): number | undefined {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return undefined;
  }
  const port = Number(url.port);
  return url.port && badPorts.has(port) ? port : undefined;
}

// The Fetch standard's list of ports no fetch client connects to.
const badPorts = new Set([
  0, 1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110, 111, 113, 115, 117, 119, 123,
  135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995,
  1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);
