// Endpoint faults a user meets in practice, each against a real scripted server: the message says what happened, the kind maps to exit code 3, nothing hangs.
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { errorCode, exitCodeFor, RefigureError } from '../../src/core/errors';
import { createModelClient } from '../../src/core/reconstruct/model';
import { buildReconstructMessages } from '../../src/core/reconstruct/presets';
import type { EndpointConfig, ModelImage, ModelReply } from '../../src/core/types';
import { startScriptedServer, type ScriptedServer } from '../support/scriptedServer';

// A tiny real PNG (1×1 white): the faults under test do not depend on the picture.
const image: ModelImage = {
  dataUrl: 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4//8/AAX+Av4N70a4AAAAAElFTkSuQmCC',
  mediaType: 'image/png',
  width: 1,
  height: 1,
  resized: false,
};

function chat(config: EndpointConfig, options: { maxReplyChars?: number } = {}): Promise<ModelReply[]> {
  return createModelClient(config, undefined, options).chat({ messages: buildReconstructMessages('generic', image), preset: 'generic' });
}

/** Asserts an endpoint error (exit code 3) whose message matches. */
function endpointError(message: RegExp, hint?: RegExp): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.ok(error instanceof RefigureError, `expected a RefigureError, got ${String(error)}`);
    assert.equal(error.kind, 'endpoint');
    assert.equal(exitCodeFor(error), 3);
    assert.match(error.message, message);
    if (hint) assert.match(error.hint ?? '', hint);
    return true;
  };
}

async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe('endpoint faults', { timeout: 60_000 }, () => {
  let server: ScriptedServer;

  before(async () => {
    server = await startScriptedServer();
  });
  after(async () => {
    await server.close();
  });

  it('retries 500s and then succeeds', { timeout: 15_000 }, async () => {
    server.push({ status: 500 }, { status: 503 }, { reply: 'ok ```python\nx = 1\n```' });
    const before = server.chatRequests().length;
    const [reply] = await chat({ baseURL: server.url, model: 'm', maxRetries: 2 });
    assert.equal(reply?.text, 'ok ```python\nx = 1\n```');
    assert.equal(server.chatRequests().length - before, 3);
  });

  it('gives up after its retries with the status and the server message', { timeout: 15_000 }, async () => {
    server.push({ status: 500, body: { error: { message: 'CUDA out of memory', type: 'InternalServerError', code: 500 } } }, { status: 500 });
    const before = server.chatRequests().length;
    await assert.rejects(chat({ baseURL: server.url, model: 'm', maxRetries: 1 }), endpointError(/failed with 500/, /server's log/));
    assert.equal(server.chatRequests().length - before, 2);
  });

  it('waits as long as Retry-After says before retrying a 429', { timeout: 15_000 }, async () => {
    server.push({ status: 429, headers: { 'retry-after': '1' } }, { reply: 'after the wait' });
    const before = server.chatRequests().length;
    const [reply] = await chat({ baseURL: server.url, model: 'm', maxRetries: 1 });
    assert.equal(reply?.text, 'after the wait');
    const [first, second] = server.chatRequests().slice(before);
    assert.ok(first && second);
    assert.ok(second.receivedMs - first.receivedMs >= 900, `retried ${second.receivedMs - first.receivedMs} ms later, Retry-After asked for 1 s`);
  });

  it('reports a stream cut mid-reply', { timeout: 15_000 }, async () => {
    server.push({ cutAfterChars: 40, reply: 'Here is the code:\n```python\nimport matplotlib.pyplot as plt\nplt.plot([1, 2])\n```' });
    await assert.rejects(chat({ baseURL: server.url, model: 'm', maxRetries: 0 }), endpointError(/stream (broke off|ended) mid-reply after 40 characters/, /try again/));
  });

  it('reports a stream that ends without finishing the reply', { timeout: 15_000 }, async () => {
    // Closes cleanly but before any finish_reason or [DONE]: the reply is incomplete all the same.
    const local = await startScriptedServer([{ cutAfterChars: 1000, reply: 'short reply, no finish' }]);
    try {
      await assert.rejects(chat({ baseURL: local.url, model: 'm', maxRetries: 0 }), endpointError(/mid-reply after 22 characters/));
    } finally {
      await local.close();
    }
  });

  it('reports invalid JSON in the stream', { timeout: 15_000 }, async () => {
    server.push({ invalidJson: true });
    await assert.rejects(chat({ baseURL: server.url, model: 'm', maxRetries: 0 }), endpointError(/not valid JSON/, /OpenAI-compatible/));
  });

  it('times out an endless slow stream', { timeout: 15_000 }, async () => {
    server.push({ endlessSlow: true, intervalMs: 100 });
    const index = server.requests.length;
    const deltas: number[] = [];
    const pending = createModelClient({ baseURL: server.url, model: 'm', timeoutMs: 1500, maxRetries: 0 }).chat({
      messages: buildReconstructMessages('generic', image),
      preset: 'generic',
      onDelta: (_text, tokens) => deltas.push(tokens),
    });
    await assert.rejects(pending, endpointError(/did not answer within 1\.5 s/, /raise the timeout/));
    assert.ok(deltas.length > 2, 'tokens were arriving: the timeout covers the whole stream, not just the headers');
    await server.whenClientGone(index);
  });

  it('times out a server that never answers the headers', { timeout: 15_000 }, async () => {
    // A TCP server that accepts and says nothing.
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => void sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      await assert.rejects(chat({ baseURL: `http://127.0.0.1:${port}/v1`, model: 'm', timeoutMs: 800, maxRetries: 1 }), endpointError(/did not answer within 0\.8 s/));
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('bounds an enormous reply', { timeout: 15_000 }, async () => {
    server.push({ enormous: 3_000_000 });
    await assert.rejects(chat({ baseURL: server.url, model: 'm', maxRetries: 0 }, { maxReplyChars: 1_000_000 }), endpointError(/grew past 1,000,000 characters/, /repeating itself/));
  });

  it('bounds an enormous reply at the default limit too', { timeout: 15_000 }, async () => {
    server.push({ enormous: 2_500_000 });
    await assert.rejects(chat({ baseURL: server.url, model: 'm', maxRetries: 0 }), endpointError(/grew past 2,000,000 characters/));
  });

  it('reports an empty choices list', { timeout: 15_000 }, async () => {
    server.push({ emptyChoices: true });
    await assert.rejects(chat({ baseURL: server.url, model: 'm', maxRetries: 0 }), endpointError(/returned no choices/));
  });

  it('reports a refused connection as no server at the URL', { timeout: 15_000 }, async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}/v1`;
    await assert.rejects(chat({ baseURL: url, model: 'm', maxRetries: 0 }), endpointError(new RegExp(`^No server at ${url.replace(/[.]/g, '\\.')}\\.$`), /Start the model server/));
  });

  it('names a port that HTTP clients refuse (fetch says only "bad port") and what to do', { timeout: 15_000 }, async () => {
    await assert.rejects(
      chat({ baseURL: 'http://127.0.0.1:9/v1', model: 'm', maxRetries: 0 }),
      (error: unknown) => endpointError(/^The endpoint http:\/\/127\.0\.0\.1:9\/v1 uses port 9, which HTTP clients refuse to connect to\.$/, /^Serve the model on another port/)(error) && errorCode(error) === 'blocked-port',
    );
  });

  it('reports a 401 as a refused key, with a hint that fits whether a key was set', { timeout: 15_000 }, async () => {
    server.push({ requireKey: 'right-key', reply: 'never' });
    await assert.rejects(chat({ baseURL: server.url, model: 'm', apiKey: 'wrong-key' }), endpointError(/^The endpoint refused the API key/, /^Check the API key/));
    server.push({ requireKey: 'right-key', reply: 'never' });
    await assert.rejects(chat({ baseURL: server.url, model: 'm' }), endpointError(/^The endpoint refused the API key/, /^Set an API key/));
    server.push({ requireKey: 'right-key', reply: 'welcome' });
    const [reply] = await chat({ baseURL: server.url, model: 'm', apiKey: 'right-key' });
    assert.equal(reply?.text, 'welcome');
  });

  it('reports a 403 as a refused key', { timeout: 15_000 }, async () => {
    server.push({ status: 403 });
    await assert.rejects(chat({ baseURL: server.url, model: 'm', apiKey: 'k' }), endpointError(/^The endpoint refused the API key \(403/));
  });

  it('reports an unknown model with the models the endpoint serves', { timeout: 15_000 }, async () => {
    const local = await startScriptedServer([{ models: ['Qwen/Qwen2.5-VL-7B-Instruct', 'CodePercept-8B'] }]);
    try {
      await assert.rejects(
        chat({ baseURL: local.url, model: 'codepercept-8b' }),
        endpointError(new RegExp(`^No model codepercept-8b at ${local.url.replace(/[.]/g, '\\.')}\\. It serves: Qwen/Qwen2\\.5-VL-7B-Instruct, CodePercept-8B\\.$`), /one of these/),
      );
      assert.deepEqual(
        local.requests.map((r) => `${r.method} ${r.path}`),
        ['POST /v1/chat/completions', 'GET /v1/models'],
        'a 404 is not retried, and the model list is asked once',
      );
    } finally {
      await local.close();
    }
  });

  it('reports a 404 without a model list when /models does not answer either', { timeout: 15_000 }, async () => {
    const local = await startScriptedServer(() => ({ status: 404 }));
    try {
      await assert.rejects(chat({ baseURL: local.url, model: 'llava' }), endpointError(/^No model llava at /, /ending in \/v1/));
    } finally {
      await local.close();
    }
  });

  it('reports a 400 with what the server said', { timeout: 15_000 }, async () => {
    server.push({ status: 400, body: { error: { message: 'This model does not support image input.', type: 'BadRequestError', code: 400 } } });
    await assert.rejects(chat({ baseURL: server.url, model: 'm' }), endpointError(/rejected the request \(400: This model does not support image input\.\)/));
  });

  it('a cancel during a Retry-After wait does not wait it out', { timeout: 15_000 }, async () => {
    // The client's own pause keeps running after the cancel (it sends nothing when it ends), so keep it short here.
    server.push({ status: 429, headers: { 'retry-after': '3' } });
    const controller = new AbortController();
    const pending = createModelClient({ baseURL: server.url, model: 'm', maxRetries: 1 }).chat({
      messages: buildReconstructMessages('generic', image),
      preset: 'generic',
      signal: controller.signal,
    });
    const before = server.chatRequests().length;
    setTimeout(() => controller.abort(), 300);
    await assert.rejects(pending, (error: unknown) => error instanceof RefigureError && error.kind === 'cancelled' && exitCodeFor(error) === 130);
    assert.ok(server.chatRequests().length <= before + 1);
  });

  it("sends again without the parameters a model refuses (OpenAI's reasoning models)", { timeout: 15_000 }, async () => {
    const local = await startScriptedServer((request) => {
      const body = request.body as Record<string, unknown>;
      if ('max_tokens' in body) {
        return { status: 400, body: { error: { message: "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.", type: 'invalid_request_error', param: 'max_tokens', code: 'unsupported_parameter' } } };
      }
      if ('temperature' in body) {
        return { status: 400, body: { error: { message: "Unsupported value: 'temperature' does not support 0.2 with this model. Only the default (1) value is supported.", type: 'invalid_request_error', param: 'temperature', code: 'unsupported_value' } } };
      }
      return { reply: 'adapted' };
    });
    try {
      const [reply] = await chat({ baseURL: local.url, model: 'o-reasoner', maxRetries: 0 });
      assert.equal(reply?.text, 'adapted');
      const last = local.chatRequests().at(-1)?.body as Record<string, unknown>;
      assert.equal(local.chatRequests().length, 3);
      assert.equal(last['max_completion_tokens'], 8192);
      assert.equal('max_tokens' in last, false);
      assert.equal('temperature' in last, false);
    } finally {
      await local.close();
    }
  });

  it('does not resend for a 400 about anything else', { timeout: 15_000 }, async () => {
    const local = await startScriptedServer(() => ({ status: 400, body: { error: { message: "Unsupported parameter: 'messages' is broken.", type: 'invalid_request_error' } } }));
    try {
      await assert.rejects(chat({ baseURL: local.url, model: 'm' }), endpointError(/rejected the request \(400: Unsupported parameter: 'messages'/));
      assert.equal(local.chatRequests().length, 1);
    } finally {
      await local.close();
    }
  });
});
