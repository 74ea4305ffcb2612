// A real HTTP server on 127.0.0.1 that speaks the OpenAI chat protocol and replies as a test scripts it.
// Usable in-process (`startScriptedServer`) or standalone:
//   node out/test/support/scriptedServer.js --script steps.json --port-file port.txt [--port N] [--requests-file log.jsonl]
import { appendFileSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface ScriptedUsage {
  prompt_tokens: number;
  completion_tokens: number;
}

/** Fields any step may carry. */
interface StepBase {
  /** Answer 401 unless the request's Authorization header is `Bearer <requireKey>`. */
  requireKey?: string;
}

export interface ReplyStep extends StepBase {
  /** The reply text; an array gives one text per choice (`n`). */
  reply: string | string[];
  /** Characters of content per streamed chunk (default 8). */
  chunkSize?: number;
  /** Pause before each streamed chunk, in ms (default 0). */
  delayMs?: number;
  usage?: ScriptedUsage;
  finishReason?: string;
  /** Answer with only this many choices whatever `n` asks for, as servers that ignore `n` do. */
  choices?: number;
}
export interface StatusStep extends StepBase {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}
export interface CutStep extends StepBase {
  /** Stream this many characters of the reply, then destroy the socket. */
  cutAfterChars: number;
  reply?: string;
}
export interface InvalidJsonStep extends StepBase {
  invalidJson: true;
}
export interface EndlessSlowStep extends StepBase {
  /** Send one token every `intervalMs` (default 200) until the client goes away. */
  endlessSlow: true;
  intervalMs?: number;
}
export interface EnormousStep extends StepBase {
  /** Stream this many characters of content. */
  enormous: number;
}
export interface EmptyChoicesStep extends StepBase {
  emptyChoices: true;
}
export interface KeyOnlyStep extends StepBase {
  requireKey: string;
}
export interface ModelsStep extends StepBase {
  /** The models `GET /models` lists from now on; chat requests for any other model get vLLM's 404. */
  models: string[];
}

export type Step =
  | ReplyStep
  | StatusStep
  | CutStep
  | InvalidJsonStep
  | EndlessSlowStep
  | EnormousStep
  | EmptyChoicesStep
  | ModelsStep
  | KeyOnlyStep;

export interface RecordedRequest {
  index: number;
  method: string;
  /** Path without the query, e.g. `/v1/chat/completions`. */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** The parsed JSON body, or the raw text when it was not JSON, or undefined when empty. */
  body: unknown;
  /** Milliseconds since the server started. */
  receivedMs: number;
  /** True once the client closed the connection before the server finished its answer. */
  clientGone: boolean;
}

export type Script = Step[] | ((request: RecordedRequest) => Step);

export interface ScriptedServerOptions {
  port?: number;
  /** What a chat request gets when the script has run out (default: a short reply with a matplotlib block). */
  defaultStep?: Step;
  /** Initial model list; without it `/models` lists `scripted-model` and chat accepts any model. */
  models?: string[];
  /** Append each request as a JSON line to this file (for tests in another process). */
  requestsFile?: string;
}

export interface ScriptedServer {
  /** Base URL including `/v1`. */
  readonly url: string;
  readonly port: number;
  readonly requests: RecordedRequest[];
  /** Chat requests only. */
  chatRequests(): RecordedRequest[];
  push(...steps: Step[]): void;
  /** Resolves when the client has dropped the connection of request `index` before the answer ended. */
  whenClientGone(index: number): Promise<void>;
  close(): Promise<void>;
}

export const defaultReply = [
  'Here is the matplotlib code that reproduces the figure.',
  '',
  '```python',
  'import matplotlib.pyplot as plt',
  '',
  'fig, ax = plt.subplots(figsize=(4, 3))',
  "ax.plot([0, 1, 2, 3], [0, 1, 4, 9], color='tab:blue')",
  "ax.set_xlabel('x')",
  "ax.set_ylabel('y')",
  'plt.show()',
  '```',
].join('\n');

let idCounter = 0;

export async function startScriptedServer(script: Script = [], options: ScriptedServerOptions = {}): Promise<ScriptedServer> {
  const queue: Step[] = [];
  let models: string[] | undefined = options.models;
  const requests: RecordedRequest[] = [];
  const goneWaiters = new Map<number, Array<() => void>>();
  const timers = new Set<NodeJS.Timeout>();
  const sockets = new Set<Socket>();
  const started = Date.now();

  const push = (...steps: Step[]): void => {
    for (const step of steps) {
      // A models step is a setting, not an answer: it applies at once.
      if ('models' in step) models = [...step.models];
      else queue.push(step);
    }
  };
  if (Array.isArray(script)) push(...script);

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });

  const markGone = (record: RecordedRequest): void => {
    record.clientGone = true;
    for (const resolve of goneWaiters.get(record.index) ?? []) resolve();
    goneWaiters.delete(record.index);
  };

  const nextStep = (record: RecordedRequest): Step => {
    if (typeof script === 'function') return script(record);
    return queue.shift() ?? options.defaultStep ?? { reply: defaultReply };
  };

  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, errorBody(`scripted server failed: ${String(error)}`, 'InternalServerError', 500));
      else res.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    let body: unknown;
    if (raw) {
      try {
        body = JSON.parse(raw) as unknown;
      } catch {
        body = raw;
      }
    }
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const record: RecordedRequest = {
      index: requests.length,
      method: req.method ?? 'GET',
      path,
      headers: { ...req.headers },
      body,
      receivedMs: Date.now() - started,
      clientGone: false,
    };
    requests.push(record);
    if (options.requestsFile) appendFileSync(options.requestsFile, `${JSON.stringify(record)}\n`);
    res.on('close', () => {
      if (!res.writableFinished) markGone(record);
    });

    const isChat = record.method === 'POST' && /\/chat\/completions$/.test(path);
    const isModels = record.method === 'GET' && /\/models$/.test(path);
    if (!isChat && !isModels) {
      sendJson(res, 404, errorBody(`No route ${record.method} ${path}`, 'NotFoundError', 404));
      return;
    }

    if (isModels) {
      const step = typeof script === 'function' ? script(record) : undefined;
      if (step && 'status' in step) return sendStatus(res, step);
      const list = step && 'models' in step ? step.models : (models ?? ['scripted-model']);
      sendJson(res, 200, {
        object: 'list',
        data: list.map((id) => ({ id, object: 'model', created: 1700000000, owned_by: 'scripted' })),
      });
      return;
    }

    const step = nextStep(record);
    if (step.requireKey !== undefined && req.headers.authorization !== `Bearer ${step.requireKey}`) {
      sendJson(res, 401, errorBody('Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key'));
      return;
    }
    const request = (typeof body === 'object' && body !== null ? body : {}) as ChatBody;
    if (models && !('models' in step) && typeof request.model === 'string' && !models.includes(request.model)) {
      // vLLM's answer for an unknown model.
      sendJson(res, 404, errorBody(`The model \`${request.model}\` does not exist.`, 'NotFoundError', 404));
      return;
    }
    await answerChat(step, request, res, record);
  }

  async function answerChat(step: Step, request: ChatBody, res: ServerResponse, record: RecordedRequest): Promise<void> {
    if ('status' in step) return sendStatus(res, step);
    const stream = request.stream === true;
    const includeUsage = request.stream_options?.include_usage === true;
    const n = Math.max(1, Math.floor(request.n ?? 1));
    const model = typeof request.model === 'string' ? request.model : 'scripted-model';
    const id = `chatcmpl-scripted-${++idCounter}`;
    const created = Math.floor(Date.now() / 1000);
    const promptTokens = Math.ceil(JSON.stringify(request.messages ?? []).length / 4);

    if ('invalidJson' in step) {
      if (!stream) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"id": "broken", "choices": [{"index": 0, "message": ');
        return;
      }
      startSse(res);
      res.write(sse(chunk(id, created, model, [{ index: 0, delta: { role: 'assistant', content: 'Here' }, finish_reason: null }], includeUsage)));
      res.end('data: {"id": "broken", "choices": [{"index": 0, "delta": {"content": \n\ndata: [DONE]\n\n');
      return;
    }

    if ('emptyChoices' in step) {
      const usage = { prompt_tokens: promptTokens, completion_tokens: 0, total_tokens: promptTokens };
      if (!stream) {
        sendJson(res, 200, { id, object: 'chat.completion', created, model, choices: [], usage });
        return;
      }
      startSse(res);
      res.write(sse(chunk(id, created, model, [], includeUsage)));
      if (includeUsage) res.write(sse({ ...chunk(id, created, model, [], false), usage }));
      res.end('data: [DONE]\n\n');
      return;
    }

    if ('endlessSlow' in step) {
      startSse(res);
      res.write(sse(chunk(id, created, model, [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }], includeUsage)));
      const interval = step.intervalMs ?? 200;
      while (!record.clientGone && !res.destroyed) {
        await sleep(interval);
        if (record.clientGone || res.destroyed) break;
        res.write(sse(chunk(id, created, model, [{ index: 0, delta: { content: 'x ' }, finish_reason: null }], includeUsage)));
      }
      return;
    }

    let texts: string[];
    let chunkSize = 8;
    let delayMs = 0;
    let cutAfter: number | undefined;
    let finishReason = 'stop';
    let usageOverride: ScriptedUsage | undefined;
    if ('enormous' in step) {
      texts = [repeatTo('print("x")  # padding\n', step.enormous)];
      chunkSize = 64 * 1024;
    } else if ('cutAfterChars' in step) {
      texts = [step.reply ?? defaultReply];
      cutAfter = step.cutAfterChars;
    } else if ('reply' in step) {
      const given = Array.isArray(step.reply) ? step.reply : [step.reply];
      const count = Math.min(step.choices ?? n, Array.isArray(step.reply) ? given.length : n);
      texts = Array.from({ length: Math.max(1, count) }, (_, i) => given[i % given.length] ?? '');
      chunkSize = Math.max(1, step.chunkSize ?? 8);
      delayMs = step.delayMs ?? 0;
      finishReason = step.finishReason ?? 'stop';
      usageOverride = step.usage;
    } else {
      texts = [defaultReply];
    }
    const pieces = texts.map((t) => split(t, chunkSize));
    const completionTokens = pieces.reduce((sum, p) => sum + p.length, 0);
    const usage = usageOverride
      ? { ...usageOverride, total_tokens: usageOverride.prompt_tokens + usageOverride.completion_tokens }
      : { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };

    if (!stream) {
      sendJson(res, 200, {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: texts.map((content, index) => ({ index, message: { role: 'assistant', content }, logprobs: null, finish_reason: finishReason })),
        usage,
      });
      return;
    }

    startSse(res);
    const write = async (payload: string): Promise<boolean> => {
      if (record.clientGone || res.destroyed) return false;
      if (!res.write(payload)) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            res.off('drain', done);
            res.off('close', done);
            resolve();
          };
          res.on('drain', done);
          res.on('close', done);
        });
      }
      return !record.clientGone && !res.destroyed;
    };
    for (let i = 0; i < texts.length; i++) {
      if (!(await write(sse(chunk(id, created, model, [{ index: i, delta: { role: 'assistant', content: '' }, finish_reason: null }], includeUsage))))) return;
    }
    // Choices interleave chunk by chunk, as a server generating them in one batch sends them.
    let sent = 0;
    const longest = Math.max(...pieces.map((p) => p.length));
    for (let k = 0; k < longest; k++) {
      for (let i = 0; i < pieces.length; i++) {
        const piece = pieces[i]?.[k];
        if (piece === undefined) continue;
        if (delayMs > 0) await sleep(delayMs);
        if (cutAfter !== undefined && sent + piece.length > cutAfter) {
          const head = piece.slice(0, Math.max(0, cutAfter - sent));
          if (head) await write(sse(chunk(id, created, model, [{ index: i, delta: { content: head }, finish_reason: null }], includeUsage)));
          // Flush what was written, then drop the connection without ending the chunked body.
          setImmediate(() => res.socket?.destroy());
          return;
        }
        if (!(await write(sse(chunk(id, created, model, [{ index: i, delta: { content: piece }, finish_reason: null }], includeUsage))))) return;
        sent += piece.length;
      }
    }
    if (cutAfter !== undefined) {
      setImmediate(() => res.socket?.destroy());
      return;
    }
    for (let i = 0; i < texts.length; i++) {
      if (!(await write(sse(chunk(id, created, model, [{ index: i, delta: {}, finish_reason: finishReason }], includeUsage))))) return;
    }
    if (includeUsage && !(await write(sse({ ...chunk(id, created, model, [], false), usage })))) return;
    res.end('data: [DONE]\n\n');
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    port,
    requests,
    chatRequests: () => requests.filter((r) => r.path.endsWith('/chat/completions')),
    push,
    whenClientGone(index: number): Promise<void> {
      const record = requests[index];
      if (record?.clientGone) return Promise.resolve();
      return new Promise((resolve) => {
        const list = goneWaiters.get(index) ?? [];
        list.push(resolve);
        goneWaiters.set(index, list);
      });
    },
    close(): Promise<void> {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

interface ChatBody {
  model?: unknown;
  messages?: unknown;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  n?: number;
}

interface ChunkChoice {
  index: number;
  delta: { role?: 'assistant'; content?: string };
  finish_reason: string | null;
}

function chunk(id: string, created: number, model: string, choices: ChunkChoice[], includeUsage: boolean): Record<string, unknown> {
  const choicesOut = choices.map((c) => ({ ...c, logprobs: null }));
  const out: Record<string, unknown> = { id, object: 'chat.completion.chunk', created, model, system_fingerprint: null, choices: choicesOut };
  if (includeUsage) out['usage'] = null;
  return out;
}

function sse(data: unknown): string {
  return `data: ${JSON.stringify(data)}\n\n`;
}

function startSse(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendStatus(res: ServerResponse, step: StatusStep): void {
  const body = step.body ?? errorBody(`Scripted error ${step.status}`, step.status >= 500 ? 'InternalServerError' : 'invalid_request_error', step.status);
  if (typeof body === 'string') {
    res.writeHead(step.status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body), ...step.headers });
    res.end(body);
    return;
  }
  sendJson(res, step.status, body, step.headers);
}

function errorBody(message: string, type: string, code: number | string): Record<string, unknown> {
  return { error: { message, type, param: null, code } };
}

function split(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

function repeatTo(unit: string, length: number): string {
  return unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

interface StandaloneScript {
  steps?: Step[];
  models?: string[];
  defaultStep?: Step;
}

/** Runs the server as its own process until SIGINT/SIGTERM; writes its port to `--port-file`. */
export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  const value = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const scriptFile = value('--script');
  const portFile = value('--port-file');
  const portText = value('--port');
  const parsed: unknown = scriptFile ? JSON.parse(readFileSync(scriptFile, 'utf8')) : [];
  const spec: StandaloneScript = Array.isArray(parsed) ? { steps: parsed as Step[] } : (parsed as StandaloneScript);
  const server = await startScriptedServer(spec.steps ?? [], {
    port: portText ? Number(portText) : undefined,
    models: spec.models,
    defaultStep: spec.defaultStep,
    requestsFile: value('--requests-file'),
  });
  if (portFile) {
    // Written whole via a rename so a reader polling the file never sees it half-written.
    writeFileSync(`${portFile}.tmp`, String(server.port));
    renameSync(`${portFile}.tmp`, portFile);
  } else {
    process.stdout.write(`${server.url}\n`);
  }
  const stop = (): void => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

// Bundled test files include this module too, so only the standalone bundle itself starts a server.
if (/scriptedServer\.[cm]?js$/.test(process.argv[1] ?? '')) {
  main().catch((error: unknown) => {
    process.stderr.write(`scripted server: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
