// The chat client against a real HTTP server speaking the OpenAI protocol: streaming, bodies, key, cancel, `n`.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { isAbort, RefigureError } from '../../src/core/errors';
import { createModelClient, listModels } from '../../src/core/reconstruct/model';
import { buildReconstructMessages, samplingFor } from '../../src/core/reconstruct/presets';
import type { Logger, ModelImage } from '../../src/core/types';
import { scratch, stemFixtures } from '../support/paths';
import { startScriptedServer, type ScriptedServer } from '../support/scriptedServer';

const fixture = join(stemFixtures, 'algebra--image305.png');

function fixtureImage(): ModelImage {
  const bytes = readFileSync(fixture);
  return { dataUrl: `data:image/png;base64,${bytes.toString('base64')}`, mediaType: 'image/png', width: 0, height: 0, resized: false };
}

type Body = Record<string, unknown> & { messages: Array<{ role: string; content: unknown }> };

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const add = (m: string): void => void lines.push(m);
  return { lines, info: add, warn: add, error: add, debug: add };
}

describe('model client', { timeout: 30_000 }, () => {
  let server: ScriptedServer;
  const image = fixtureImage();

  before(async () => {
    server = await startScriptedServer();
  });
  after(async () => {
    await server.close();
  });

  it('streams deltas in order and records usage', async () => {
    const reply = 'Here you go.\n```python\nimport matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\n```\n';
    server.push({ reply, chunkSize: 5, usage: { prompt_tokens: 123, completion_tokens: 45 } });
    const client = createModelClient({ baseURL: server.url, model: 'm' });
    const seen: string[] = [];
    const counts: number[] = [];
    const [answer, ...rest] = await client.chat({
      messages: buildReconstructMessages('generic', image),
      preset: 'generic',
      onDelta: (text, tokens) => {
        seen.push(text);
        counts.push(tokens);
      },
    });
    assert.equal(rest.length, 0);
    assert.ok(answer);
    assert.equal(answer.text, reply);
    assert.deepEqual(answer.usage, { promptTokens: 123, completionTokens: 45 });
    assert.equal(answer.finishReason, 'stop');
    assert.equal(seen.length, Math.ceil(reply.length / 5));
    for (let i = 0; i < seen.length; i++) {
      assert.equal(seen[i], reply.slice(0, Math.min(reply.length, (i + 1) * 5)), `delta ${i} is the text so far`);
      assert.equal(counts[i], i + 1);
    }
  });

  it('sends the codepercept preset exactly, with the image and the key', async () => {
    server.push({ reply: '```python\nx = 1\n```' });
    const before = server.requests.length;
    const client = createModelClient({ baseURL: server.url, model: 'codepercept-8b', apiKey: 'sk-test-123' });
    await client.chat({ messages: buildReconstructMessages('codepercept', image), preset: 'codepercept' });
    const request = server.requests[before];
    assert.ok(request);
    assert.equal(request.method, 'POST');
    assert.equal(request.path, '/v1/chat/completions');
    assert.equal(request.headers.authorization, 'Bearer sk-test-123');
    const body = request.body as Body;
    assert.equal(body.model, 'codepercept-8b');
    assert.equal(body.temperature, 0.7);
    assert.equal(body.top_p, 0.8);
    assert.equal(body.top_k, 20);
    assert.equal(body.presence_penalty, 1.5);
    assert.equal(body.max_tokens, 32768);
    assert.equal(body.stream, true);
    assert.deepEqual(body.stream_options, { include_usage: true });
    assert.equal(body.n, undefined);
    assert.deepEqual(body.messages[0], { role: 'system', content: 'You are an useful assistant.' });
    const user = body.messages[1];
    assert.ok(user && Array.isArray(user.content));
    assert.deepEqual(user.content[0], {
      type: 'text',
      text: 'You are an expert Python developer who specializes in writing matplotlib code based on a given picture. Now, please give me the matplotlib code that reproduces the picture below.',
    });
    assert.deepEqual(user.content[1], { type: 'image_url', image_url: { url: image.dataUrl } });
    assert.ok(image.dataUrl.length > 1000, 'the data URL carries the real fixture');
  });

  it('sends the generic preset without vLLM extras, and a placeholder key when none is set', async () => {
    server.push({ reply: '```python\nx = 1\n```' });
    const before = server.requests.length;
    const client = createModelClient({ baseURL: server.url, model: 'gpt-vision' });
    await client.chat({ messages: buildReconstructMessages('generic', image), preset: 'generic' });
    const request = server.requests[before];
    assert.ok(request);
    const body = request.body as Body;
    for (const extra of ['top_k', 'repetition_penalty', 'min_p', 'presence_penalty', 'top_p']) {
      assert.equal(extra in body, false, `${extra} is not sent by the generic preset`);
    }
    assert.equal(body.temperature, samplingFor('generic').temperature);
    assert.equal(body.max_tokens, 8192);
    const user = body.messages.find((m) => m.role === 'user');
    assert.ok(user && Array.isArray(user.content));
    assert.ok(JSON.stringify(user.content).includes(image.dataUrl));
    assert.match(String(request.headers.authorization), /^Bearer \S+$/);
  });

  it('logs the request and timings but never the key', async () => {
    server.push({ reply: '```python\nx = 1\n```' });
    const logger = recordingLogger();
    const client = createModelClient({ baseURL: server.url, model: 'm', apiKey: 'sk-secret-never-logged' }, logger);
    await client.chat({ messages: buildReconstructMessages('generic', image), preset: 'generic' });
    const all = logger.lines.join('\n');
    assert.match(all, new RegExp(`POST ${server.url.replace(/[.]/g, '\\.')}/chat/completions model=m preset=generic`));
    assert.match(all, /Reply in \d+\.\d+ s/);
    assert.ok(!all.includes('sk-secret-never-logged'));
  });

  it('a cancel mid-stream rejects as cancelled and the server sees the connection close', async () => {
    server.push({ reply: 'x'.repeat(4000), chunkSize: 10, delayMs: 20 });
    const index = server.requests.length;
    const client = createModelClient({ baseURL: server.url, model: 'm' });
    const controller = new AbortController();
    let deltas = 0;
    const pending = client.chat({
      messages: buildReconstructMessages('generic', image),
      preset: 'generic',
      signal: controller.signal,
      onDelta: () => {
        if (++deltas === 3) controller.abort();
      },
    });
    await assert.rejects(pending, (error: unknown) => error instanceof RefigureError && error.kind === 'cancelled' && isAbort(error));
    await server.whenClientGone(index);
    assert.equal(server.requests[index]?.clientGone, true);
    assert.equal(deltas, 3, 'no delta arrives after the cancel');
  });

  it('a signal aborted before the call rejects at once without a request', async () => {
    const before = server.requests.length;
    const client = createModelClient({ baseURL: server.url, model: 'm' });
    await assert.rejects(
      client.chat({ messages: buildReconstructMessages('generic', image), preset: 'generic', signal: AbortSignal.abort() }),
      (error: unknown) => error instanceof RefigureError && error.kind === 'cancelled',
    );
    assert.equal(server.requests.length, before);
  });

  it('n=3 returns three replies from one request', async () => {
    server.push({ reply: ['first ```python\na = 1\n```', 'second ```python\nb = 2\n```', 'third'], chunkSize: 4 });
    const before = server.chatRequests().length;
    const client = createModelClient({ baseURL: server.url, model: 'm' });
    const replies = await client.chat({ messages: buildReconstructMessages('codepercept', image), preset: 'codepercept', n: 3 });
    assert.deepEqual(
      replies.map((r) => r.text),
      ['first ```python\na = 1\n```', 'second ```python\nb = 2\n```', 'third'],
    );
    const sent = server.chatRequests().slice(before);
    assert.equal(sent.length, 1);
    assert.equal((sent[0]?.body as Body).n, 3);
    const total = replies.reduce((s, r) => s + r.usage.completionTokens, 0);
    const chunks = ['first ```python\na = 1\n```', 'second ```python\nb = 2\n```', 'third'].reduce((s, t) => s + Math.ceil(t.length / 4), 0);
    assert.equal(total, chunks, 'completion tokens are shared out without loss');
  });

  it('n=3 against a server that ignores n asks for the two missing choices separately', async () => {
    server.push({ reply: 'one', choices: 1 }, { reply: 'two' }, { reply: 'three' });
    const before = server.chatRequests().length;
    const client = createModelClient({ baseURL: server.url, model: 'm' });
    const replies = await client.chat({ messages: buildReconstructMessages('generic', image), preset: 'generic', n: 3 });
    assert.equal(replies.length, 3);
    assert.equal(replies[0]?.text, 'one');
    assert.deepEqual(replies.slice(1).map((r) => r.text).sort(), ['three', 'two']);
    const sent = server.chatRequests().slice(before);
    assert.deepEqual(
      sent.map((r) => (r.body as Body).n),
      [3, undefined, undefined],
    );
  });

  it('lists the models the endpoint serves', async () => {
    const local = await startScriptedServer([{ models: ['qwen2.5-vl-7b', 'codepercept-8b'] }]);
    try {
      assert.deepEqual(await listModels({ baseURL: `${local.url}/`, model: '' }), ['qwen2.5-vl-7b', 'codepercept-8b']);
      assert.equal(local.requests[0]?.path, '/v1/models');
    } finally {
      await local.close();
    }
  });

  it('refuses a base URL that is not http(s) with a usage error', () => {
    assert.throws(
      () => createModelClient({ baseURL: 'localhost:8000/v1', model: 'm' }),
      (error: unknown) => error instanceof RefigureError && error.kind === 'usage' && /not an http\(s\) URL/.test(error.message) && /http:\/\/127/.test(error.hint ?? ''),
    );
    assert.throws(
      () => createModelClient({ baseURL: 'http://127.0.0.1:1/v1', model: '  ' }),
      (error: unknown) => error instanceof RefigureError && error.kind === 'usage' && /No model name/.test(error.message),
    );
  });

  it('works against the scripted server run as its own process', async () => {
    // The bundled server sits beside the bundled tests (out/test/support next to out/test/unit).
    const serverJs = join(__dirname, '..', 'support', 'scriptedServer.js');
    assert.ok(existsSync(serverJs), `${serverJs} is built`);
    const dir = scratch();
    const scriptFile = join(dir.dir, 'script.json');
    const portFile = join(dir.dir, 'port');
    const requestsFile = join(dir.dir, 'requests.jsonl');
    writeFileSync(scriptFile, JSON.stringify({ steps: [{ reply: 'from another process' }], models: ['remote-model'] }));
    const child = spawn(process.execPath, [serverJs, '--script', scriptFile, '--port-file', portFile, '--requests-file', requestsFile], { stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      for (let i = 0; i < 100 && !existsSync(portFile); i++) await sleep(50);
      const url = `http://127.0.0.1:${readFileSync(portFile, 'utf8').trim()}/v1`;
      assert.deepEqual(await listModels({ baseURL: url, model: '' }), ['remote-model']);
      const [reply] = await createModelClient({ baseURL: url, model: 'remote-model' }).chat({ messages: buildReconstructMessages('generic', image), preset: 'generic' });
      assert.equal(reply?.text, 'from another process');
      const logged = readFileSync(requestsFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { path: string });
      assert.deepEqual(logged.map((r) => r.path), ['/v1/models', '/v1/chat/completions']);
    } finally {
      child.kill('SIGTERM');
      assert.equal(await exited, 0, 'the standalone server stops cleanly on SIGTERM');
      dir.dispose();
    }
  });
});
